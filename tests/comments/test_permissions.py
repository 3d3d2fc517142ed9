"""Least privilege: who reaches what in the admin."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from articles.models import Article
from comments.models import Comment
from tests.factories import (
    PASSWORD,
    make_article,
    make_comment,
    make_draft,
    make_editor,
    make_moderator,
    make_user,
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


class TestEditor:
    def test_reaches_everything(self, client, article):
        client.force_login(make_editor())
        comment = make_comment(article)

        for url in (
            "/admin/",
            QUEUE,
            f"{QUEUE}{comment.pk}/change/",
            "/admin/articles/article/",
            "/admin/auth/user/",
        ):
            assert client.get(url).status_code == 200, url

    def test_sees_the_withdrawn_article_a_comment_is_on(
        self, client, comment_on_a_withdrawn_article
    ):
        client.force_login(make_editor())
        comment = comment_on_a_withdrawn_article

        queue = client.get(QUEUE).content.decode()
        preview = client.get(view_on_site_url(comment))

        assert "Mayor to resign" in queue
        assert preview.status_code == 302
        assert "/mayor-to-resign/" in preview["Location"]


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
