"""Least privilege: who reaches what in the admin."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from articles.models import Article
from comments.models import Comment
from tests.factories import (
    NO_OLD_ADDRESSES_LET_GO,
    PASSWORD,
    make_article,
    make_author,
    make_comment,
    make_draft,
    make_editor,
    make_moderator,
    make_section,
    make_superuser,
    make_tag,
    make_user,
    new_article_form,
)

pytestmark = pytest.mark.django_db

QUEUE = "/admin/comments/comment/"


@pytest.fixture
def comment_on_a_withdrawn_article(db):
    """Comments stay with an article unpublished since, and may still await a decision."""
    article = make_article(title="Mayor to resign", slug="mayor-to-resign")
    comment = make_comment(article, status=Comment.Status.PENDING)
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
    return comment


def view_on_site_url(obj):
    return f"/admin/r/{ContentType.objects.get_for_model(obj).pk}/{obj.pk}/"


def test_moderators_group_holds_exactly_what_moderating_needs():
    group = Group.objects.get(name="Moderators")

    granted = {(p.content_type.app_label, p.codename) for p in group.permissions.all()}

    assert granted == {
        ("comments", "view_comment"),
        ("comments", "change_comment"),
        ("comments", "moderate_comment"),
        ("admin", "view_logentry"),  # the action log, which shows them comments only
    }


class TestModerator:
    @pytest.fixture
    def moderator_client(self, client):
        client.force_login(make_moderator())
        return client

    def test_logs_in_through_the_admin_form_and_sees_only_comments_and_their_log(self, client):
        make_moderator("moira")

        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": "moira", "password": PASSWORD, "next": "/admin/"},
            follow=True,
        )

        assert response.status_code == 200
        apps = {app["app_label"]: app for app in response.context["app_list"]}
        assert sorted(apps) == ["admin", "comments"]
        assert [m["object_name"] for m in apps["comments"]["models"]] == ["Comment"]
        assert [m["object_name"] for m in apps["admin"]["models"]] == ["LogEntry"]

    def test_the_admin_is_headed_with_the_site_s_name_not_django_s(self, moderator_client):
        """A moderator with several tabs open finds the newsroom's by its name."""
        html = moderator_client.get(QUEUE).content.decode()

        assert "<title>Select comment to change | The Newsroom admin</title>" in html
        assert '<a href="/admin/">The Newsroom admin</a>' in html
        assert "Django administration" not in html

    @pytest.mark.parametrize(
        "url",
        [
            "/admin/articles/article/",
            "/admin/articles/article/add/",
            "/admin/articles/section/",
            "/admin/auth/user/",
            "/admin/auth/group/",
        ],
    )
    def test_cannot_open_articles_or_users(self, moderator_client, url):
        assert moderator_client.get(url).status_code == 403

    def test_a_refused_page_says_so_in_the_site_design_with_a_way_back(self, moderator_client):
        response = moderator_client.get("/admin/articles/article/")

        html = response.content.decode()
        assert response.status_code == 403
        assert 'class="masthead"' in html
        assert "This page is not open to you" in html
        assert 'href="/admin/"' in html

    def test_cannot_change_an_article(self, moderator_client, article):
        response = moderator_client.post(
            f"/admin/articles/article/{article.pk}/change/", {"title": "Defaced"}
        )

        assert response.status_code == 403
        article.refresh_from_db()
        assert article.title != "Defaced"

    def test_view_on_site_does_not_tell_the_address_of_a_draft(self, moderator_client):
        """The admin's "View on site" redirect names the draft's address, its headline."""
        draft = make_draft(slug="mayor-to-resign")
        content_type = ContentType.objects.get_for_model(draft)

        response = moderator_client.get(f"/admin/r/{content_type.pk}/{draft.pk}/")

        assert response.status_code == 403
        assert "mayor-to-resign" not in response.get("Location", "")

    def test_view_on_site_leads_to_a_comment(self, moderator_client, article):
        comment = make_comment(article)
        content_type = ContentType.objects.get_for_model(comment)

        response = moderator_client.get(f"/admin/r/{content_type.pk}/{comment.pk}/")

        assert response.status_code == 302
        assert article.get_absolute_url() in response["Location"]

    def test_decides_on_comments_of_a_withdrawn_article_without_seeing_its_headline(
        self, moderator_client, comment_on_a_withdrawn_article
    ):
        """The article's title and address are the editors' to see, as its preview is."""
        comment = comment_on_a_withdrawn_article
        pages = [
            moderator_client.get(url)
            for url in (QUEUE, f"{QUEUE}{comment.pk}/change/", f"{QUEUE}{comment.pk}/history/")
        ]
        moderator_client.post(f"{QUEUE}{comment.pk}/decide/approve/")
        pages.append(moderator_client.get("/admin/"))  # the moderator's recent actions

        assert Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED
        assert [c.pk for c in pages[0].context["cl"].result_list] == [comment.pk]
        assert not pages[1].context["has_absolute_url"]  # no "View on site" button
        for response in pages:
            html = response.content.decode()
            assert response.status_code == 200
            assert "Mayor to resign" not in html
            assert "mayor-to-resign" not in html

    def test_view_on_site_does_not_tell_the_address_of_a_withdrawn_article_s_comment(
        self, moderator_client, comment_on_a_withdrawn_article
    ):
        response = moderator_client.get(view_on_site_url(comment_on_a_withdrawn_article))

        assert response.status_code == 403
        assert "mayor-to-resign" not in response.get("Location", "")

    def test_sees_who_decided_without_a_link_to_the_users_admin(self, client, article):
        """Django links a foreign key to its admin page, which a moderator may not open."""
        moira = make_moderator("moira")
        comment = make_comment(article, moderated_by=moira)
        client.force_login(moira)

        response = client.get(f"{QUEUE}{comment.pk}/change/")

        html = response.content.decode()
        assert response.status_code == 200
        assert '<div class="readonly">moira</div>' in html
        assert "/admin/auth/user/" not in html

    def test_can_moderate(self, moderator_client, article):
        comment = make_comment(article, status=Comment.Status.PENDING)

        assert moderator_client.get(QUEUE).status_code == 200
        moderator_client.post(f"{QUEUE}{comment.pk}/decide/approve/")

        assert Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED


EDITOR_PERMISSIONS = {
    *(
        ("articles", f"{action}_{model}")
        for action in ("add", "change", "delete", "view")
        for model in ("article", "section", "tag", "author")
    ),
    ("comments", "view_comment"),
    ("comments", "change_comment"),
    ("comments", "moderate_comment"),
    ("admin", "view_logentry"),  # the action log, which shows them what they may view
}

# Site administration: accounts, groups, the sign-in logs (with IP addresses; in the admin
# only without Redis, AXES_ENABLE_ADMIN), task results.
ADMINISTRATION = [
    f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    for model in admin.site._registry
    if model._meta.app_label in {"auth", "axes", "django_tasks_database"}
]


def test_editors_group_holds_what_writing_publishing_and_moderating_need():
    group = Group.objects.get(name="Editors")

    granted = {(p.content_type.app_label, p.codename) for p in group.permissions.all()}

    assert granted == EDITOR_PERMISSIONS


def test_editors_moderate_with_exactly_the_moderators_permissions_on_comments():
    """A small newsroom's editor also moderates: whatever moderating needs, editors have."""
    moderating = Group.objects.get(name="Moderators").permissions.all()

    assert set(moderating) <= set(Group.objects.get(name="Editors").permissions.all())


class TestEditor:
    @pytest.fixture
    def editor_client(self, client):
        client.force_login(make_editor())
        return client

    def test_sees_articles_comments_and_their_log_and_nothing_of_administration(
        self, editor_client
    ):
        response = editor_client.get("/admin/")

        apps = {app["app_label"]: app for app in response.context["app_list"]}
        assert sorted(apps) == ["admin", "articles", "comments"]
        assert sorted(m["object_name"] for m in apps["articles"]["models"]) == [
            "Article",
            "Author",
            "Section",
            "Tag",
        ]

    def test_publishes_a_draft(self, editor_client):
        draft = make_draft()

        editor_client.post(
            "/admin/articles/article/", {"action": "publish", "_selected_action": [draft.pk]}
        )

        assert Article.objects.published().filter(pk=draft.pk).exists()

    def test_schedules_an_article(self, editor_client):
        later = timezone.localtime() + timedelta(days=1)
        form = new_article_form(
            status=Article.Status.PUBLISHED,
            published_at_0=later.strftime("%Y-%m-%d"),
            published_at_1=later.strftime("%H:%M:%S"),
        )

        response = editor_client.post("/admin/articles/article/add/", form)

        assert response.status_code == 302
        article = Article.objects.get(slug=form["slug"])
        assert article.status == Article.Status.PUBLISHED and not article.is_public

    def test_edits_a_section_and_a_tag(self, editor_client):
        section, tag = make_section(name="Arts"), make_tag(name="Opera")

        edits = [
            editor_client.post(
                f"/admin/articles/section/{section.pk}/change/",
                {"name": "Culture", "slug": section.slug, "description": "", "order": 1}
                | NO_OLD_ADDRESSES_LET_GO,
            ),
            editor_client.post(
                f"/admin/articles/tag/{tag.pk}/change/",
                {"name": "Opera houses", "slug": tag.slug} | NO_OLD_ADDRESSES_LET_GO,
            ),
        ]

        assert [response.status_code for response in edits] == [302, 302]
        section.refresh_from_db()
        tag.refresh_from_db()
        assert (section.name, tag.name) == ("Culture", "Opera houses")

    def test_approves_a_comment(self, editor_client, article):
        comment = make_comment(article, status=Comment.Status.PENDING)

        editor_client.post(f"{QUEUE}{comment.pk}/decide/approve/")

        assert Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED

    def test_deletes_a_draft_but_not_an_article_readers_have_commented_on(
        self, editor_client, article
    ):
        """Comments go with their article, and deleting comments is a superuser's: an
        editor unpublishes the article instead."""
        draft = make_draft()
        make_comment(article)

        deleting_draft = editor_client.post(
            f"/admin/articles/article/{draft.pk}/delete/", {"post": "yes"}
        )
        deleting_commented = editor_client.post(
            f"/admin/articles/article/{article.pk}/delete/", {"post": "yes"}
        )

        assert deleting_draft.status_code == 302
        assert not Article.objects.filter(pk=draft.pk).exists()
        assert deleting_commented.status_code == 403
        assert Article.objects.filter(pk=article.pk).exists()

    def test_edits_an_author_without_a_user_lookup_it_may_not_open_or_relinking_its_login(
        self, editor_client
    ):
        """Which login an author is, is account management: the editor sees it in the list,
        and its page has no lookup into the users that would answer "403 Forbidden"."""
        writer = make_user("writer", staff=True)
        author = make_author(display_name="Ann Writer", user=writer)
        page = editor_client.get(f"/admin/articles/author/{author.pk}/change/")
        listed = editor_client.get("/admin/articles/author/")

        edit = editor_client.post(
            f"/admin/articles/author/{author.pk}/change/",
            {"display_name": "Ann Writer-Smith", "slug": author.slug, "bio": ""}
            | {"user": make_superuser().pk}
            | NO_OLD_ADDRESSES_LET_GO,
        )

        assert "/admin/auth/user/" not in page.content.decode()
        assert "writer" in listed.content.decode()
        assert edit.status_code == 302
        author.refresh_from_db()
        assert (author.display_name, author.user) == ("Ann Writer-Smith", writer)

    @pytest.mark.parametrize("url", ADMINISTRATION)
    def test_cannot_open_users_groups_sign_in_logs_or_task_results(self, editor_client, url):
        assert editor_client.get(url).status_code == 403

    def test_cannot_make_itself_a_superuser(self, client):
        editor = make_editor()
        client.force_login(editor)

        response = client.post(
            f"/admin/auth/user/{editor.pk}/change/",
            {
                "username": editor.username,
                "is_active": "on",
                "is_staff": "on",
                "is_superuser": "on",
            },
        )

        assert response.status_code == 403
        editor.refresh_from_db()
        assert not editor.is_superuser

    def test_sees_the_withdrawn_article_a_comment_is_on(
        self, editor_client, comment_on_a_withdrawn_article
    ):
        comment = comment_on_a_withdrawn_article

        queue = editor_client.get(QUEUE).content.decode()
        preview = editor_client.get(view_on_site_url(comment))

        assert "Mayor to resign" in queue
        assert preview.status_code == 302
        assert "/mayor-to-resign/" in preview["Location"]


class TestSuperuser:
    def test_reaches_everything(self, client, article):
        client.force_login(make_superuser())
        comment = make_comment(article)

        for url in (
            "/admin/",
            QUEUE,
            f"{QUEUE}{comment.pk}/change/",
            "/admin/articles/article/",
            *ADMINISTRATION,
        ):
            assert client.get(url).status_code == 200, url


class TestStaffWithoutModeration:
    """A staff account with only the right to view comments: it may look, not decide."""

    @pytest.fixture
    def viewer_client(self, client):
        from django.contrib.auth.models import Permission

        viewer = make_user("viewer", staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_comment"))
        client.force_login(viewer)
        return client

    def test_sees_the_queue_without_buttons_or_actions(self, viewer_client, article):
        make_comment(article, status=Comment.Status.PENDING)

        response = viewer_client.get(QUEUE)

        assert response.status_code == 200
        assert "comment-decision-approve" not in response.content.decode()
        assert response.context["action_form"] is None

    def test_cannot_decide(self, viewer_client, article):
        comment = make_comment(article, status=Comment.Status.PENDING)

        response = viewer_client.post(f"{QUEUE}{comment.pk}/decide/approve/")

        assert response.status_code == 403
        assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING


class TestNonStaff:
    @pytest.fixture
    def reader_client(self, client):
        client.force_login(make_user("reader"))
        return client

    @pytest.mark.parametrize("url", ["/admin/", QUEUE, "/admin/articles/article/"])
    def test_never_reach_the_admin(self, reader_client, url):
        response = reader_client.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    def test_cannot_decide(self, reader_client, article):
        comment = make_comment(article, status=Comment.Status.PENDING)

        response = reader_client.post(f"{QUEUE}{comment.pk}/decide/approve/")

        assert response.status_code == 302
        assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING

    def test_anonymous_visitors_see_no_pending_count(self, client, article):
        make_comment(article, status=Comment.Status.PENDING)

        html = client.get("/admin/login/").content.decode()

        assert "awaiting moderation" not in html
