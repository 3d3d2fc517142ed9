import contextlib
import io
import re
import struct
import threading
import time
import warnings
import xml.etree.ElementTree as ET
import zlib
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext
from PIL import Image

from articles import admin as articles_admin
from articles import services
from articles.admin import (
    ALREADY_DRAFT,
    ALREADY_LIVE,
    ALREADY_SCHEDULED,
    CHANGED_MEANWHILE,
    DELETE_PAGE_ITEMS,
    IMAGE_CUT_SHORT,
    IMAGE_NOT_FOR_THE_WEB,
    IMAGE_TOO_HEAVY,
    IMAGE_TOO_LARGE,
    LEFT_OUT_OF_THE_PAGE,
    SLUG_TAKEN,
    SLUG_WAS_ANOTHERS,
    TOO_MANY_TO_CHANGE,
    ArticleAdmin,
    LeadImageField,
)
from articles.demo import draw_illustration
from articles.models import (
    BODY_MAX_CHARACTERS,
    BODY_TOO_LONG,
    CONTROL_CHARACTERS,
    IMAGE_NOT_DESCRIBED,
    NESTED_TOO_DEEPLY,
    Article,
    Section,
)
from newsroom.admin import FILES_TO_CHOOSE_AGAIN
from tests.factories import (
    NO_OLD_ADDRESSES_LET_GO,
    article_change_form,
    change_form_letting_go,
    form_values,
    make_article,
    make_author,
    make_draft,
    make_editor,
    make_owner,
    make_scheduled,
    make_section,
    make_tag,
    make_user,
    new_article_form,
)
from tests.hostile import elements, with_class, with_id
from tests.lock_waits import connections_waiting_for_a_lock

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(make_editor())
    return client


def run_action(client, action, articles):
    return client.post(
        reverse("admin:articles_article_changelist"),
        {"action": action, "_selected_action": [article.pk for article in articles]},
        follow=True,
    )


def test_bulk_publish_puts_drafts_live_and_logs_it(editor_client):
    drafts = [make_draft(), make_draft()]
    response = run_action(editor_client, "publish", drafts)
    assert "2 articles published." in response.content.decode()
    assert Article.objects.published().count() == 2
    assert LogEntry.objects.filter(change_message="Published.").count() == 2


def test_bulk_publish_does_not_read_back_the_articles_text(
    editor_client, django_assert_max_num_queries
):
    drafts = [make_draft(), make_draft(), make_draft()]
    # The action's list and the list page it returns to: 18, and 4 more to read the editor's
    # permissions (their own and their groups') in each of the two requests; the drafts
    # together: their read under lock, their update and their log entries, in a savepoint,
    # and the log entries' kind unless the process has it cached; and no query for the text
    # the list leaves out.
    with django_assert_max_num_queries(18 + 4 + 5):
        run_action(editor_client, "publish", drafts)
    assert Article.objects.published().count() == 3


def queries_to_run(client, action, articles):
    with CaptureQueriesContext(connection) as queries:
        run_action(client, action, articles)
    return len(queries)


@pytest.mark.parametrize(
    ("action", "make"),
    [
        ("publish", make_draft),
        ("publish", lambda: make_draft(published_at=make_scheduled().published_at)),
        ("unpublish", make_article),
    ],
)
def test_bulk_publish_and_unpublish_take_as_many_queries_for_50_articles_as_for_2(
    editor_client, django_assert_max_num_queries, action, make
):
    """Each article was saved on its own, about 6 queries: "select all" over a few thousand
    passed gunicorn's 30 s, and the editor got an error page with nothing changed."""
    few = queries_to_run(editor_client, action, [make(), make()])
    many = [make() for _ in range(50)]

    with django_assert_max_num_queries(few):
        run_action(editor_client, action, many)

    expected = Article.Status.PUBLISHED if action == "publish" else Article.Status.DRAFT
    assert Article.objects.filter(pk__in=[a.pk for a in many], status=expected).count() == 50
    message = "Published." if action == "publish" else "Unpublished."
    ids = [str(article.pk) for article in many]
    logged = LogEntry.objects.filter(change_message=message, object_id__in=ids)
    editor_id = int(editor_client.session["_auth_user_id"])
    assert sorted(logged.values_list("user_id", flat=True)) == [editor_id] * 50


def test_bulk_publish_keeps_a_future_date_so_the_article_stays_scheduled(editor_client):
    article = make_draft()
    scheduled_for = make_scheduled().published_at
    Article.objects.filter(pk=article.pk).update(published_at=scheduled_for)
    run_action(editor_client, "publish", [article])
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert not article.is_public


def test_bulk_publish_of_a_draft_a_colleague_published_meanwhile_leaves_it_theirs(
    editor_client, monkeypatch
):
    """The list reads the drafts before it publishes them: one a colleague published in
    between was published again, its history saying this editor did, and the editor was
    told "1 article published." of an article they had not."""
    article = make_draft()
    publish_drafts = services.publish_drafts

    def after_a_colleague_publishes_it(drafts, *, by):
        Article.objects.filter(pk=article.pk).update(
            status=Article.Status.PUBLISHED, published_at=timezone.now()
        )
        return publish_drafts(drafts, by=by)

    monkeypatch.setattr(services, "publish_drafts", after_a_colleague_publishes_it)

    response = run_action(editor_client, "publish", [article])

    assert not LogEntry.objects.filter(object_id=str(article.pk)).exists()
    assert "1 article was published already." in response.content.decode()


def test_bulk_publish_of_drafts_dated_later_says_they_are_scheduled(editor_client):
    """ "2 articles published." while one of them stays off the site until next week sent
    an editor looking for it on the front page."""
    later = make_draft()
    Article.objects.filter(pk=later.pk).update(published_at=make_scheduled().published_at)

    response = run_action(editor_client, "publish", [later, make_draft()])

    html = response.content.decode()
    assert "1 article published." in html
    assert "1 article scheduled: readers see it from its publication time." in html


def messages_shown(response):
    return [
        " ".join(text.split())
        for _, text in elements(response.content.decode(), with_class("messagelist"))
    ]


def test_bulk_publish_of_a_scheduled_article_says_it_stays_scheduled_and_how_to_publish_now(
    editor_client,
):
    """ "0 articles published." left the editor, who wanted it out now, guessing why."""
    article = make_scheduled()

    response = run_action(editor_client, "publish", [article])

    [shown] = messages_shown(response)
    assert ALREADY_SCHEDULED[0] % 1 in shown
    assert "0 articles published." not in shown
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and not article.is_public


def test_bulk_publish_of_a_live_article_says_it_was_published_already(editor_client):
    response = run_action(editor_client, "publish", [make_article(), make_article()])

    [shown] = messages_shown(response)
    assert ALREADY_LIVE[1] % 2 in shown
    assert "0 articles published." not in shown


def test_bulk_publish_of_a_mixed_selection_accounts_for_every_article(editor_client):
    dated_later = make_draft(published_at=make_scheduled().published_at)
    selection = [make_draft(), dated_later, make_scheduled(), make_scheduled(), make_article()]

    response = run_action(editor_client, "publish", selection)

    [shown] = messages_shown(response)
    assert "1 article published." in shown
    assert "1 article scheduled: readers see it from its publication time." in shown
    assert ALREADY_SCHEDULED[1] % 2 in shown
    assert ALREADY_LIVE[0] % 1 in shown


def test_bulk_unpublish_takes_articles_off_the_site(editor_client):
    article = make_article()
    response = run_action(editor_client, "unpublish", [article])
    assert "1 article unpublished." in response.content.decode()
    assert not Article.objects.published().exists()


def test_bulk_unpublish_of_a_mixed_selection_accounts_for_every_article(editor_client):
    """As the list's Publish does: a draft in the selection went unmentioned, and a
    selection of drafts alone was told "0 articles unpublished." as a success."""
    mixed = run_action(editor_client, "unpublish", [make_article(), make_draft(), make_draft()])
    drafts_only = run_action(editor_client, "unpublish", [make_draft()])

    [shown] = messages_shown(mixed)
    assert "1 article unpublished." in shown
    assert ALREADY_DRAFT[1] % 2 in shown
    [shown] = messages_shown(drafts_only)
    assert shown == ALREADY_DRAFT[0] % 1


def test_bulk_unpublish_counts_thousands_as_the_other_messages_do(editor_client):
    """ "1000 articles were drafts already.", where the refusal to delete them says "1,000"."""
    section, author = make_section(), make_author()
    Article.objects.bulk_create(
        Article(title=f"Draft {n}", slug=f"draft-{n}", section=section, author=author)
        for n in range(1000)
    )

    response = editor_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "unpublish", "_selected_action": [make_draft().pk], "select_across": "1"},
        follow=True,
    )

    assert messages_shown(response) == ["1,001 articles were drafts already."]


@pytest.mark.parametrize(
    ("action", "make", "doing"),
    [("publish", make_draft, "Publishing"), ("unpublish", make_article, "Unpublishing")],
)
def test_bulk_publish_and_unpublish_of_more_than_a_request_takes_change_nothing_and_say_so(
    editor_client, monkeypatch, action, make, doing
):
    """ "Select all" over 100,000 articles read them all and took 50 s, past gunicorn's
    30 s: the whole change rolled back and the editor got an error page."""
    monkeypatch.setattr(articles_admin, "CHANGED_IN_THE_REQUEST", 2)
    articles = [make() for _ in range(3)]
    status_before = articles[0].status

    response = editor_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": action, "_selected_action": [articles[0].pk], "select_across": "1"},
        follow=True,
    )

    assert messages_shown(response) == [TOO_MANY_TO_CHANGE.format(doing=doing, count=3, most=2)]
    assert set(Article.objects.values_list("status", flat=True)) == {status_before}
    assert not LogEntry.objects.exists()


def test_bulk_publish_of_as_many_as_a_request_takes_publishes_them(editor_client, monkeypatch):
    monkeypatch.setattr(articles_admin, "CHANGED_IN_THE_REQUEST", 2)
    drafts = [make_draft(), make_draft()]

    response = editor_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "publish", "_selected_action": [drafts[0].pk], "select_across": "1"},
        follow=True,
    )

    assert messages_shown(response) == ["2 articles published."]
    assert Article.objects.published().count() == 2


def test_bulk_unpublish_of_an_article_a_colleague_unpublished_meanwhile_leaves_it_theirs(
    editor_client, monkeypatch
):
    """The list reads the articles before it unpublishes them: one a colleague unpublished
    in between was unpublished again, its history saying this editor did, and the editor
    was told "1 article unpublished." of an article they had not."""
    article = make_article()
    unpublish = services.unpublish

    def after_a_colleague_unpublishes_it(articles, *, by):
        Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
        return unpublish(articles, by=by)

    monkeypatch.setattr(services, "unpublish", after_a_colleague_unpublishes_it)

    response = run_action(editor_client, "unpublish", [article])

    assert not LogEntry.objects.filter(object_id=str(article.pk)).exists()
    assert messages_shown(response) == [ngettext(*ALREADY_DRAFT, 1) % 1]


def unpublish_on_another_connection(article_id, *, locked, lock_waited_for):
    """A colleague's Unpublish, committed once another transaction waits for its lock."""
    try:
        with transaction.atomic():
            Article.objects.filter(pk=article_id).update(status=Article.Status.DRAFT)
            locked.set()
            deadline = time.monotonic() + 10
            while not connections_waiting_for_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
            lock_waited_for.append(time.monotonic() < deadline)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="READ COMMITTED, two writers")
def test_bulk_unpublish_waiting_for_a_colleagues_unpublish_leaves_the_article_theirs():
    """Two transactions: the list read the article as published while a colleague's
    Unpublish held its row, then waited for their commit and unpublished it again, logging
    "Unpublished." under this editor for an article they had not taken off the site."""
    article = make_article()
    editor = make_editor()
    locked, lock_waited_for = threading.Event(), []
    colleague = threading.Thread(
        target=unpublish_on_another_connection,
        args=[article.pk],
        kwargs={"locked": locked, "lock_waited_for": lock_waited_for},
    )
    colleague.start()
    assert locked.wait(10)
    client = Client()
    client.force_login(editor)

    response = run_action(client, "unpublish", [article])

    colleague.join()
    assert lock_waited_for == [True]
    assert not LogEntry.objects.filter(object_id=str(article.pk), user=editor).exists()
    assert ngettext(*ALREADY_DRAFT, 1) % 1 in response.content.decode()


def test_staff_without_change_permission_are_not_offered_the_actions(client):
    from django.contrib.auth.models import Permission

    user = make_user(staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_article"))
    client.force_login(user)
    make_article()
    html = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert 'value="publish"' not in html


def test_changelist_shows_editor_columns_and_filters(editor_client, django_assert_max_num_queries):
    for _ in range(5):
        make_article(tags=[make_tag()])
    with django_assert_max_num_queries(12):
        response = editor_client.get(reverse("admin:articles_article_changelist"))
    html = response.content.decode()
    for column in (
        "column-title",
        "column-section",
        "column-author",
        "column-publication_status",
        "column-published_at",
    ):
        assert column in html
    assert 'id="changelist-search"' in html
    assert "?status=draft" in html


def test_changelist_status_tells_a_scheduled_article_from_a_live_one(editor_client):
    """One column says what "Published" alone did not (with "Readers can see it" beside it,
    the list no longer fitted a laptop's screen)."""
    articles = {"Draft": make_draft(), "Scheduled": make_scheduled(), "Published": make_article()}

    html = editor_client.get(reverse("admin:articles_article_changelist")).content.decode()

    shown = [text for _, text in elements(html, with_class("field-publication_status"))]
    assert sorted(shown) == sorted(articles)
    assert "Readers can see it" not in html


def test_the_editors_list_counts_the_articles_once(editor_client):
    """Django counted the whole table a second time for "n total", on every page."""
    for _ in range(3):
        make_article()
    make_draft()

    with CaptureQueriesContext(connection) as unfiltered:
        every = editor_client.get(reverse("admin:articles_article_changelist"))
    with CaptureQueriesContext(connection) as filtered:
        drafts = editor_client.get(
            reverse("admin:articles_article_changelist"), {"status": "draft"}
        )

    assert len(article_counts(unfiltered)) == 1
    assert [sql for sql in article_counts(filtered) if "WHERE" not in sql] == []
    assert "4 articles" in every.content.decode()
    assert drafts.context["cl"].result_count == 1


def article_counts(queries):
    return [
        q["sql"]
        for q in queries.captured_queries
        if 'COUNT(*) AS "__count" FROM "articles_article"' in q["sql"]
    ]


def test_the_date_bar_lists_the_years_without_reading_every_article(editor_client, settings):
    """Django read every article's date (DISTINCT) on each page of the list; a draft
    without a date is in no year (SQLite sorts it first)."""
    settings.TIME_ZONE = "Asia/Tokyo"
    make_draft(published_at=None)
    for when in ("2019-06-01T12:00Z", "2021-12-31T20:00Z", "2026-01-01T00:00Z"):
        make_article(published_at=when)

    with CaptureQueriesContext(connection) as queries:
        html = editor_client.get(reverse("admin:articles_article_changelist")).content.decode()

    [(_, bar)] = elements(
        html, lambda tag, attrs: attrs.get("aria-labelledby") == "date-hierarchy-label"
    )
    assert re.findall(r"\d{4}", bar) == ["2019", "2022", "2026"]  # in Tokyo, 2021 was over
    assert not [q for q in queries.captured_queries if "DISTINCT" in q["sql"] or "MIN(" in q["sql"]]


def test_deleting_a_tag_names_the_articles_it_is_taken_off(editor_client):
    """Django listed each as "Article_tags object (17)": which articles lost the tag, the
    editor about to confirm could not tell. They keep everything else: only the tag goes."""
    tag = make_tag(name="Harbour")
    harbour = make_article(title="Harbour wall repaired", tags=[tag])
    ferry = make_article(title="Ferry timetable changes", tags=[tag, make_tag()])
    url = reverse("admin:articles_tag_delete", args=[tag.pk])

    html = editor_client.get(url).content.decode()
    editor_client.post(url, {"post": "yes"})

    assert "Article_tags object" not in html
    for article in (harbour, ferry):
        link = reverse("admin:articles_article_change", args=[article.pk])
        assert f'<li>Article-tag relationship: <a href="{link}">{article.title}</a></li>' in html
    assert "Article-tag relationships: 2" in html
    assert Article.objects.count() == 2
    assert list(ferry.tags.all()) != []


def test_a_tag_s_delete_page_names_no_article_to_staff_who_may_not_see_articles(client):
    """Staff who look after tags only, with no permission on articles, were shown the
    headlines of the drafts and scheduled articles the tag was on, each linked to a page they
    may not open."""
    from django.contrib.auth.models import Permission

    tag_keeper = make_user(staff=True)
    tag_keeper.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_tag", "delete_tag"])
    )
    tag = make_tag(name="Harbour")
    make_draft(title="Secret merger talks", tags=[tag])
    client.force_login(tag_keeper)

    response = client.get(reverse("admin:articles_tag_delete", args=[tag.pk]))

    assert response.status_code == 200
    assert "Secret merger talks" not in response.content.decode()
    assert "Article-tag relationships: 1" in response.content.decode()


def test_deleting_tags_from_the_list_names_each_ones_articles_under_it(editor_client):
    bare, harbour, ferry = make_tag(name="Bare"), make_tag(name="Harbour"), make_tag(name="Ferry")
    make_article(title="Harbour wall repaired", tags=[harbour])
    make_article(title="Ferry timetable changes", tags=[ferry])
    selection = {"action": "delete_selected", "_selected_action": [bare.pk, harbour.pk, ferry.pk]}

    html = editor_client.post(reverse("admin:articles_tag_changelist"), selection)
    html = re.sub(r'<a href="[^"]*">|</a>', "", html.content.decode())

    assert re.search(
        r"Tag: Harbour\s*<ul>\s*<li>Article-tag relationship: Harbour wall repaired</li>", html
    )
    assert re.search(
        r"Tag: Ferry\s*<ul>\s*<li>Article-tag relationship: Ferry timetable changes</li>", html
    )
    assert re.search(r"<li>Tag: Bare</li>", html)


def test_deleting_a_tag_on_many_articles_lists_some_and_counts_all(editor_client):
    """Every row went on the page, the confirmation button below the last: a tag on
    thousands of articles (or an article with thousands of comments) meant scrolling past
    them all to say yes."""
    tag = make_tag()
    section, author = make_section(), make_author()
    for _ in range(DELETE_PAGE_ITEMS + 20):
        make_article(tags=[tag], section=section, author=author)
    url = reverse("admin:articles_tag_delete", args=[tag.pk])

    html = editor_client.get(url).content.decode()
    editor_client.post(url, {"post": "yes"})

    assert html.count("<li>Article-tag relationship: ") == DELETE_PAGE_ITEMS - 1  # tag first
    assert "…and 21 more objects." in html
    assert f"Article-tag relationships: {DELETE_PAGE_ITEMS + 20}" in html
    assert 'type="submit" value="Yes, I\u2019m sure"' in html
    assert not Article.tags.through.objects.exists()


@pytest.mark.parametrize("model", ["section", "tag", "author"])
def test_a_saved_sections_tags_or_authors_slug_says_old_links_will_redirect(editor_client, model):
    """Changing the slug of a saved one keeps its old address working, as an article's."""
    article = make_article(tags=[make_tag()])
    saved = {"section": article.section, "tag": article.tags.get(), "author": article.author}

    change = editor_client.get(reverse(f"admin:articles_{model}_change", args=[saved[model].pk]))
    add = editor_client.get(reverse(f"admin:articles_{model}_add"))

    assert "the old address redirects to the new" in change.content.decode()
    assert "breaks every link" not in change.content.decode()
    assert "the old address redirects" not in add.content.decode()


@pytest.mark.parametrize(
    ("model", "source"),
    [("article", "title"), ("section", "name"), ("tag", "name"), ("author", "display name")],
)
def test_a_new_ones_slug_says_what_it_is_not_what_changing_it_does(editor_client, model, source):
    """The add page said nothing of the slug; what the change page says, "Changing it keeps
    old links working", is not true of one that has no links yet."""
    html = editor_client.get(reverse(f"admin:articles_{model}_add")).content.decode()

    [(_, help_text)] = elements(html, with_id("id_slug_helptext"))
    assert help_text.strip() == (
        f"The end of its address, filled in from the {source} as you type. Readers keep it "
        "in links and bookmarks once it is on the site, so shorten it now if you want."
    )


def test_a_saved_articles_slug_still_says_old_links_will_redirect(editor_client):
    article = make_article()

    html = editor_client.get(reverse("admin:articles_article_change", args=[article.pk]))

    [(_, help_text)] = elements(html.content.decode(), with_id("id_slug_helptext"))
    assert "the old address redirects to the new" in help_text


def test_the_editors_list_reads_the_newest_articles_through_an_index():
    """Every status, newest first: without an index of its own, the admin sorted the whole
    table on every visit (120 ms at 100,000 articles)."""
    make_article()
    newest_first = Article.objects.order_by(*ArticleAdmin.ordering)[:100]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = newest_first.explain()
    assert "article_newest_idx" in plan


def test_a_draft_without_a_date_heads_the_editors_list(editor_client):
    """A draft is dated when it is published or scheduled. Undated, it came last on SQLite,
    which sorts no date below every date: saving one led to the list, with the draft on
    its last page. PostgreSQL showed it first."""
    older = make_article()
    draft = make_draft()
    newer = make_article(published_at=timezone.now())

    response = editor_client.get(reverse("admin:articles_article_changelist"))

    assert list(response.context["cl"].result_list) == [draft, newer, older]


@pytest.mark.parametrize(
    ("field", "term", "expected"),
    [("author", "Maren", "Maren Holloway"), ("tags", "Harb", "Harbour")],
)
def test_autocomplete_finds_authors_and_tags(editor_client, field, term, expected):
    make_author(display_name="Maren Holloway")
    make_tag(name="Harbour")
    params = {"term": term, "app_label": "articles", "model_name": "article", "field_name": field}
    response = editor_client.get(reverse("admin:autocomplete"), params)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_view_on_site_leads_staff_to_the_preview_of_a_draft(editor_client):
    draft = make_draft(title="Not yet out")
    change_page = editor_client.get(reverse("admin:articles_article_change", args=[draft.pk]))
    assert "View on site" in change_page.content.decode()
    preview = editor_client.get(draft.get_absolute_url())
    assert preview.status_code == 200
    assert "preview-banner" in preview.content.decode()


@pytest.mark.parametrize("make", [make_draft, make_scheduled])
@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_view_on_site_is_offered_for_a_section_tag_or_author_once_its_page_shows(
    editor_client, kind, make
):
    """Its page shows once one of its articles is public: before, the link led to a 404."""
    owner = make_owner(kind, article=make)
    change_page = reverse(f"admin:articles_{kind}_change", args=[owner.pk])
    on_site = f"/admin/r/{ContentType.objects.get_for_model(owner).pk}/{owner.pk}/"

    assert "View on site" not in editor_client.get(change_page).content.decode()
    assert editor_client.get(on_site).status_code == 403

    Article.objects.update(status="published", published_at=timezone.now())

    assert "View on site" in editor_client.get(change_page).content.decode()
    assert editor_client.get(on_site, follow=True).status_code == 200


def test_add_form_prepopulates_the_slug_from_the_title(editor_client):
    html = editor_client.get(reverse("admin:articles_article_add")).content.decode()
    assert (
        "prepopulated_fields" in html
        or "data-prepopulated-fields" in html
        or "prepopulated" in html
    )


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("article", "title"),
        ("article", "standfirst"),
        ("section", "name"),
        ("section", "description"),
        ("author", "display_name"),
        ("author", "bio"),
        ("tag", "name"),
    ],
)
# U+FFFE and U+FFFF are no characters at all (a byte-order mark read the wrong way round,
# a converter's "unknown"): XML refuses them as it does C0 controls, and Django's feed
# writes them out, so a feed reader's strict parser rejects the whole feed.
@pytest.mark.parametrize("character", ["\x0b", "\ufffe", "\uffff"])
def test_text_the_feeds_carry_refuses_control_characters_with_a_message(
    editor_client, model, field, character
):
    """Text pasted from a word processor can hold a vertical tab (its line break), which
    XML cannot carry: saved, it would take down every feed that lists the article."""
    article = make_article()
    forms = {
        "article": (article, article_change_form(article)),
        "section": (article.section, {"name": "News", "slug": "news", "order": 1}),
        "author": (article.author, {"display_name": "Ann Writer", "slug": "ann-writer"}),
        "tag": (make_tag(), {"name": "Bridges", "slug": "bridges"}),
    }
    instance, data = forms[model]

    response = editor_client.post(
        reverse(f"admin:articles_{model}_change", args=[instance.pk]),
        {**data, field: f"Council{character}votes on the bridge"},
    )

    assert response.status_code == 200
    assert CONTROL_CHARACTERS in response.content.decode()
    for feed in ("/feeds/rss/", "/feeds/atom/", f"/feeds/section/{article.section.slug}/rss/"):
        response = editor_client.get(feed)
        assert response.status_code == 200
        ET.fromstring(response.content)  # noqa: S314 (our own feed): well-formed


def test_article_form_saves_text_with_line_breaks_and_tabs(editor_client):
    article = make_article()

    response = editor_client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        article_change_form(article, standfirst="Two lines\r\nand\ta tab."),
    )

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.standfirst == "Two lines\r\nand\ta tab."


@pytest.mark.parametrize(
    ("time_zone", "day", "time"),
    [("Asia/Tokyo", "0001-01-01", "08:00"), ("America/New_York", "9999-12-31", "23:00")],
)
def test_a_publication_date_at_the_ends_of_time_is_refused_with_a_message(
    editor_client, settings, time_zone, day, time
):
    """In UTC these fall before year 1 or after 9999: saving them was a 500, and one saved
    in UTC broke the article list once the site's time zone moved them out of range."""
    settings.TIME_ZONE = time_zone

    response = editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(status=Article.Status.PUBLISHED, published_at_0=day, published_at_1=time),
    )

    assert response.status_code == 200
    assert "Give a year between 2 and 9998." in response.content.decode()
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"author": "abc"}, "Select a valid choice."),
        ({"author": "7\x00"}, "Null characters are not allowed."),
        ({"tags": ["abc"]}, "“abc” is not a valid value."),
        ({"tags": ["99999999999999999999999"]}, "is not a valid value."),  # past SQLite's
    ],
)
def test_an_author_or_tag_that_cannot_be_an_id_gets_a_message_not_a_server_error(
    editor_client, values, message
):
    """The autocomplete boxes send ids; the form came back with the others through a
    database query that failed."""
    response = editor_client.post(reverse("admin:articles_article_add"), new_article_form(**values))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Article.objects.exists()


def test_a_body_nested_too_deeply_to_render_gets_a_message_not_a_server_error(editor_client):
    """The Markdown library recurses once per level of a nested list: 400 levels (a
    hostile or broken paste) ran out of stack on save. (Nested 300 deep: 400 levels of
    indentation are longer than an article's text may be.)"""
    body = "".join("    " * level + "- item\n" for level in range(300))

    response = editor_client.post(
        reverse("admin:articles_article_add"), new_article_form(body=body)
    )

    assert response.status_code == 200
    assert "nests too deeply" in response.content.decode()
    assert not Article.objects.exists()


def test_a_body_nested_deeper_than_100_levels_is_refused_before_it_is_rendered(editor_client):
    """The Markdown library's time grows with the cube of the depth: 800 levels took 30 s
    to run out of stack, past gunicorn's timeout, and the editor lost the page (a 502).
    The limit is checked before rendering; 101 levels would still render, in a second."""
    body = "".join("    " * level + "- item\n" for level in range(102))

    response = editor_client.post(
        reverse("admin:articles_article_add"), new_article_form(body=body)
    )

    assert NESTED_TOO_DEEPLY in response.content.decode()
    assert not Article.objects.exists()


def test_a_list_nested_deeper_than_100_levels_inside_a_quotation_is_refused_too(editor_client):
    """Behind a quotation mark (>) the indentation is the same list nesting, as slow to
    render: 800 levels took 12 s, then ran out of stack."""
    body = "".join("> " + "    " * level + "- item\n" for level in range(102))

    response = editor_client.post(
        reverse("admin:articles_article_add"), new_article_form(body=body)
    )

    assert NESTED_TOO_DEEPLY in response.content.decode()
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    "image",
    [
        "![](https://example.org/harbour.jpg)",
        "![   ](https://example.org/harbour.jpg)",
        '<img src="https://example.org/harbour.jpg">',
        '<p>Boats <img alt="" src="https://example.org/harbour.jpg"></p>',
    ],
)
def test_an_image_in_the_text_without_a_description_is_refused(editor_client, image):
    """Readers who cannot see it would hear nothing, or the file's address read aloud; the
    lead image already asks for its description."""
    body = f"The harbour at dawn.\n\n{image}\n"

    response = editor_client.post(
        reverse("admin:articles_article_add"), new_article_form(body=body)
    )

    assert response.status_code == 200
    assert IMAGE_NOT_DESCRIBED in response.content.decode()
    assert not Article.objects.exists()


def test_an_image_in_the_text_with_a_description_is_shown_with_it(editor_client, client):
    body = "The harbour at dawn.\n\n![Fishing boats at the quay](https://example.org/harbour.jpg)\n"

    editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(body=body, status=Article.Status.PUBLISHED),
    )

    page = client.get(Article.objects.get().get_absolute_url()).content.decode()
    assert 'alt="Fishing boats at the quay"' in page


@pytest.mark.parametrize(
    ("body", "left_out"),
    [
        ('Read this.\n\n<script src="https://widgets.example/embed.js"></script>', "<script>"),
        (
            '<iframe src="https://video.example/1"></iframe>\n\n<style>p {}</style>',
            "<iframe> and <style>",
        ),
        ("The area is <math><mi>π</mi><msup><mi>r</mi><mn>2</mn></msup></math>.", "<math>"),
        (
            'Subscribe: <input type="email" name="email"> <button>Send</button>',
            "<input> and <button>",
        ),
    ],
    ids=["an embed's script", "a video player and a style", "a formula", "a form's fields"],
)
def test_markup_readers_will_not_see_is_saved_as_typed_and_the_editor_told(
    editor_client, client, body, left_out
):
    """The sanitizer drops scripts, styles and embedded pages: "added successfully" alone
    let an editor who pasted an embed code believe readers saw it."""
    response = editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(body=body, status="published"),
        follow=True,
    )

    article = Article.objects.get()
    assert article.body == body
    messages = [str(message) for message in response.context["messages"]]
    assert LEFT_OUT_OF_THE_PAGE.format(elements=left_out) in messages
    page = client.get(article.get_absolute_url()).content.decode()
    assert "video.example" not in page
    assert "widgets.example" not in page


def test_markup_shown_as_code_says_nothing_of_what_is_left_out(editor_client):
    body = 'Paste this:\n\n    <script src="embed.js"></script>\n\nor `<iframe>`.'

    response = editor_client.post(
        reverse("admin:articles_article_add"), new_article_form(body=body), follow=True
    )

    assert "&lt;script" in Article.objects.get().body_html
    assert not any("left out" in str(message) for message in response.context["messages"])


def body_refusal(editor_client, body):
    """The form sent back for a new article with this text: nothing saved, the message and
    the text as it was typed."""
    response = editor_client.post(
        reverse("admin:articles_article_add"), new_article_form(title="Typed title", body=body)
    )
    assert response.status_code == 200
    assert not Article.objects.exists()
    [(_, message)] = elements(response.content.decode(), with_class("errorlist"))
    form = response.context["adminform"].form
    return message, form["body"].value(), form["title"].value()


def test_a_text_longer_than_an_article_may_be_comes_back_saying_so(editor_client):
    body = "Word " * (BODY_MAX_CHARACTERS // 5) + "more"

    message, kept, title = body_refusal(editor_client, body)

    assert message == BODY_TOO_LONG.format(length=len(body), limit=BODY_MAX_CHARACTERS)
    assert "300,000 characters" in message
    assert (kept, title) == (body, "Typed title")


def test_a_text_past_djangos_form_limit_comes_back_saying_so_not_a_bare_400(editor_client):
    """Past Django's 2.5 MB for a form's fields (a pasted web page with its pictures in it,
    say), the editor got "Bad request" and lost the text."""
    body = "![A photo](data:image/png;base64," + "iVBORw0KGgo" * 300_000 + ")"

    message, kept, title = body_refusal(editor_client, body)

    assert message == BODY_TOO_LONG.format(length=len(body), limit=BODY_MAX_CHARACTERS)
    assert (kept, title) == (body, "Typed title")


def test_a_text_as_long_as_an_article_may_be_is_saved_and_found(editor_client, client):
    """Even of words all different, which PostgreSQL's search document holds up to 1 MB."""
    words = [f"{number:04x}" for number in range(BODY_MAX_CHARACTERS // 6)]
    body = "\n\n".join(" ".join(words[at : at + 100]) for at in range(0, len(words), 100))
    body += " " + "z" * (BODY_MAX_CHARACTERS - len(body) - 1)

    response = editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(body=body, status=Article.Status.PUBLISHED),
    )

    assert response.status_code == 302
    assert len(Article.objects.get().body) == BODY_MAX_CHARACTERS
    assert "Harbour wall repaired" in client.get("/search/", {"q": "abcd"}).content.decode()


def test_a_body_with_lists_nested_as_deep_as_writers_nest_them_is_saved(editor_client):
    body = "".join("    " * level + "- item\n" for level in range(12)) + " " * 500 + "\n"

    editor_client.post(reverse("admin:articles_article_add"), new_article_form(body=body))

    assert Article.objects.get().body_html.count("<ul>") == 12


def test_a_drafts_lead_image_is_not_at_an_address_its_file_name_gives_away(editor_client):
    """Uploaded images are served to whoever asks for their address, a draft's too: named
    after the upload, the image of a story not yet out was at .../minister-resigns.jpg,
    or at the camera's IMG_0412.jpg, for anyone to try."""
    upload = SimpleUploadedFile("minister-resigns.jpg", draw_illustration(0), "image/jpeg")

    editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(lead_image=upload, lead_image_alt="The minister leaving"),
    )

    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT
    assert "minister" not in article.lead_image.url
    assert article.lead_image.url.endswith(".jpg")


def test_a_lead_image_with_a_long_file_name_is_uploaded(editor_client):
    """The file is stored under a short random name, yet a photo whose own name was longer
    than the column was refused: "Ensure this filename has at most 100 characters"."""
    name = (
        "tarrow-point-harbour-board-celebrates-a-solar-roof-on-the-leisure-centre-"
        "aerial-view-at-sunset-by-the-staff-photographer.jpg"
    )
    upload = SimpleUploadedFile(name, draw_illustration(0), "image/jpeg")

    response = editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(lead_image=upload, lead_image_alt="The leisure centre's roof"),
    )

    assert response.status_code == 302
    assert Article.objects.get().lead_image.url.endswith(".jpg")


def png(width, height):
    """A black-and-white PNG: a large one in pixels stays small in memory and on disk."""
    file = io.BytesIO()
    Image.new("1", (width, height)).save(file, "PNG")
    return file.getvalue()


def png_claiming_size(width, height):
    """A PNG that says it is this size, with no pixels: one too large for Pillow to open
    at all (its guard against decompression bombs) costs the test nothing."""

    def chunk(kind, body=b""):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT") + chunk(b"IEND")


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (png(1, 1) + bytes(12 * 1024 * 1024), "heavy"),
        (png(9_000, 6_000), "large"),
        (png_claiming_size(20_000, 20_000), "large"),
    ],
    ids=["a camera's file size", "a camera's pixels", "too many pixels to open"],
)
def test_a_huge_lead_image_is_refused_saying_why_and_the_article_is_kept(
    editor_client, image, error
):
    """A photo straight from a camera was taken as it came (every reader of the front page
    then loaded its megabytes), or, past Pillow's limit, refused as "not an image or a
    corrupted image", which sent the editor looking for what was wrong with the photo."""
    upload = SimpleUploadedFile("harbour.png", image, "image/png")

    response = editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(title="Typed title", lead_image=upload, lead_image_alt="The harbour"),
    )

    assert response.status_code == 200
    assert not Article.objects.exists()
    [(_, message)] = elements(response.content.decode(), with_class("errorlist"))
    expected = {
        # Sizes as the 413 page says them: "10 MB", not "10.0 MB".
        "heavy": IMAGE_TOO_HEAVY.format(size="12\xa0MB", limit="10\xa0MB"),
        "large": IMAGE_TOO_LARGE,
    }
    assert message == expected[error]
    assert response.context["adminform"].form["title"].value() == "Typed title"


@pytest.mark.parametrize(
    "pixels",
    [(10_000, 6_000), (12_000, 10_000)],
    ids=["past our limit", "past Pillow's limit, short of twice it"],
)
def test_a_lead_image_past_the_pixel_limit_is_refused_without_a_warning_in_the_log(
    editor_client, pixels
):
    """From 89 million pixels (Pillow's own limit, above ours) to twice that, Pillow warned
    of a decompression bomb in the server's log before the image was refused."""
    upload = SimpleUploadedFile("harbour.png", png_claiming_size(*pixels), "image/png")

    with warnings.catch_warnings(record=True) as warned:
        message = lead_image_refusal(editor_client, upload)

    assert message == IMAGE_TOO_LARGE
    assert [str(warning.message) for warning in warned] == []


# The quickest way each web format has to save a picture, however many pixels it has.
QUICKEST_SAVE = {
    "JPEG": {"quality": 1},
    "PNG": {},
    "GIF": {},
    "WEBP": {"quality": 1, "method": 0},
    "AVIF": {"quality": 1, "speed": 10},
}


@pytest.mark.parametrize("image_format", QUICKEST_SAVE)
def test_a_lead_image_past_the_pixel_limit_is_refused_in_any_web_format_without_a_warning(
    editor_client, image_format
):
    """Its header is read before Pillow opens it, which past its limit (ours) warns of a
    decompression bomb in the server's log."""
    file = io.BytesIO()
    Image.new("L", (10_000, 6_000)).save(file, image_format, **QUICKEST_SAVE[image_format])
    upload = SimpleUploadedFile(f"harbour.{image_format.lower()}", file.getvalue())

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        message = lead_image_refusal(editor_client, upload)

    assert message == IMAGE_TOO_LARGE
    assert [str(warning.message) for warning in warned] == []


class UploadNotingWarningFilters(SimpleUploadedFile):
    """An upload that notes the process's warning filters whenever it is read, as a request
    served in another thread would find them at that moment."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters_seen = []

    def read(self, *args, **kwargs):
        self.filters_seen.append(list(warnings.filters))
        return super().read(*args, **kwargs)


@pytest.mark.parametrize(
    "content", [png(600, 400), png_claiming_size(10_000, 6_000)], ids=["taken", "too large"]
)
def test_checking_a_lead_image_leaves_the_warning_filters_of_other_requests_alone(content):
    """A threaded server (runserver, gunicorn's gthread, ASGI) serves requests side by side
    in one process, which has one set of warning filters: Pillow's warning was made an
    error while an image was checked (warnings.catch_warnings, not thread-safe before
    Python 3.14), for the other requests too, whose own changes it could undo."""
    upload = UploadNotingWarningFilters("harbour.png", content, "image/png")
    filters = list(warnings.filters)

    with contextlib.suppress(ValidationError):
        LeadImageField().clean(upload)

    assert upload.filters_seen
    assert upload.filters_seen == [filters] * len(upload.filters_seen)


def test_a_lead_image_a_camera_makes_for_the_web_is_taken(editor_client):
    upload = SimpleUploadedFile("harbour.png", png(6_000, 4_000), "image/png")

    response = editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(lead_image=upload, lead_image_alt="The harbour"),
    )

    assert response.status_code == 302
    assert Article.objects.get().lead_image


def lead_image_refusal(editor_client, upload):
    """The one error a new article with this lead image is sent back with; none is saved."""
    response = editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(lead_image=upload, lead_image_alt="The harbour"),
    )
    assert response.status_code == 200
    assert not Article.objects.exists()
    [(_, message)] = elements(response.content.decode(), with_class("errorlist"))
    return message


@pytest.mark.parametrize(
    "image",
    [draw_illustration(0)[: len(draw_illustration(0)) // 2], png_claiming_size(6_000, 4_000)],
    ids=["a photo half downloaded", "a PNG without its pixels"],
)
def test_a_lead_image_cut_short_is_sent_back_saying_so(editor_client, image):
    """Pillow reads a JPEG's size from its first bytes: half a photo (a download or a copy
    that did not finish) was taken, and readers saw its lower half grey."""
    upload = SimpleUploadedFile("harbour.jpg", image)

    assert lead_image_refusal(editor_client, upload) == IMAGE_CUT_SHORT


def image_file(image_format, **options):
    file = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(file, image_format, **options)
    return file.getvalue()


@pytest.mark.parametrize(("image_format", "extension"), [("TIFF", "tif"), ("PPM", "ppm")])
def test_a_lead_image_browsers_cannot_show_is_sent_back_saying_so(
    editor_client, image_format, extension
):
    """A TIFF from the photo desk or a scanner was taken, and readers saw a broken image."""
    upload = SimpleUploadedFile(f"harbour.{extension}", image_file(image_format))

    message = lead_image_refusal(editor_client, upload)

    assert message == IMAGE_NOT_FOR_THE_WEB.format(format=image_format)


@pytest.mark.parametrize(
    ("image_format", "extension", "options"),
    [
        ("JPEG", "jpg", {}),
        # A camera's JPEG that holds a second picture (a preview, a depth map).
        ("MPO", "jpg", {"save_all": True, "append_images": [Image.new("RGB", (40, 30))]}),
        ("PNG", "png", {}),
        ("GIF", "gif", {}),
        ("WEBP", "webp", {}),
    ],
)
def test_a_lead_image_in_a_format_browsers_show_is_taken(
    editor_client, image_format, extension, options
):
    upload = SimpleUploadedFile(f"harbour.{extension}", image_file(image_format, **options))

    response = editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(lead_image=upload, lead_image_alt="The harbour"),
    )

    assert response.status_code == 302
    assert Article.objects.get().lead_image


def article_with_image(**fields):
    article = make_article(lead_image_alt="Hills at dawn", **fields)
    article.lead_image.save("hills.jpg", ContentFile(draw_illustration(0)))
    return article


def served(client, url):
    response = client.get(url)
    response.close()  # the file it streams
    return response.status_code


@pytest.mark.parametrize(
    "change",
    [
        {"lead_image_alt": "The sea at noon"},  # a new image, uploaded below
        {"lead_image-clear": "on", "lead_image_alt": ""},
    ],
    ids=["replaced", "cleared"],
)
def test_a_lead_image_the_article_lets_go_of_is_no_longer_served(
    editor_client, django_capture_on_commit_callbacks, change
):
    """Kept on disk, an image withdrawn from an article (the wrong person, a photo the
    paper may not use) stayed public at its address for good."""
    article = article_with_image()
    old_url = article.lead_image.url
    if "lead_image-clear" not in change:
        change["lead_image"] = SimpleUploadedFile("sea.jpg", draw_illustration(1), "image/jpeg")

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("admin:articles_article_change", args=[article.pk]),
            article_change_form(article, **change),
        )

    assert response.status_code == 302
    article.refresh_from_db()
    assert served(editor_client, old_url) == 404
    if article.lead_image:
        assert served(editor_client, article.lead_image.url) == 200
    else:
        assert "lead_image-clear" in change


def test_a_deleted_articles_lead_image_is_no_longer_served(
    editor_client, django_capture_on_commit_callbacks
):
    article = article_with_image()
    url = article.lead_image.url

    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(
            reverse("admin:articles_article_delete", args=[article.pk]), {"post": "yes"}
        )

    assert not Article.objects.exists()
    assert served(editor_client, url) == 404


def test_a_lead_image_another_article_still_shows_is_kept(
    editor_client, django_capture_on_commit_callbacks
):
    """The demo articles share a few illustrations."""
    article = article_with_image()
    other = make_article(lead_image=article.lead_image.name, lead_image_alt="Hills at dawn")

    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(
            reverse("admin:articles_article_change", args=[article.pk]),
            article_change_form(article, **{"lead_image-clear": "on"}),
        )

    assert not Article.objects.get(pk=article.pk).lead_image
    assert served(editor_client, other.lead_image.url) == 200


def test_a_lead_image_change_rolled_back_keeps_the_file(
    editor_client, django_capture_on_commit_callbacks
):
    article = article_with_image()

    with (
        django_capture_on_commit_callbacks(execute=True),
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        article.lead_image, article.lead_image_alt = "", ""
        article.save()
        raise RuntimeError("the rest of the change failed")

    article.refresh_from_db()
    assert served(editor_client, article.lead_image.url) == 200


def test_the_lead_image_box_is_labelled(editor_client):
    """Django's admin puts a file box in a fieldset whose legend labels no input (axe:
    "Form elements must have labels")."""
    article = make_article()
    for url in (
        reverse("admin:articles_article_add"),
        reverse("admin:articles_article_change", args=[article.pk]),
    ):
        html = editor_client.get(url).content.decode()
        assert '<label for="id_lead_image"' in html, url


@pytest.mark.parametrize(
    ("query", "shown"),
    [("2026-05-04T09:30", "2026-05-04"), ("soon", None), ("0001-01-01T00:00+14:00", None)],
)
def test_a_publication_time_in_the_add_address_prefills_the_form_or_is_left_out(
    editor_client, query, shown
):
    """The admin prefills the add form from "?field=value"; the date and time boxes got
    the text as it was and failed (a 500)."""
    response = editor_client.get(reverse("admin:articles_article_add"), {"published_at": query})

    assert response.status_code == 200
    date_box = re.search(r'<input type="text" name="published_at_0"[^>]*>', response.text).group()
    value = re.search(r'value="([^"]*)"', date_box)
    assert (value.group(1) if value else None) == shown


@pytest.mark.parametrize("model", ["article", "section", "tag", "author"])
def test_a_slug_another_one_has_is_refused_in_plain_words(editor_client, model):
    """Django's message, "Article with this Slug already exists.", named a database field."""
    article = make_article(tags=[make_tag()])
    other = make_article(tags=[make_tag()])
    objects = {
        "article": (article, other, article_change_form(article)),
        "section": (article.section, other.section, {"name": "News", "order": 1}),
        "tag": (article.tags.get(), other.tags.get(), {"name": "Bridges"}),
        "author": (article.author, other.author, {"display_name": "Ann Writer"}),
    }
    instance, owner, data = objects[model]

    response = editor_client.post(
        reverse(f"admin:articles_{model}_change", args=[instance.pk]),
        {**NO_OLD_ADDRESSES_LET_GO, **data, "slug": owner.slug},
    )

    assert response.status_code == 200
    [(_, error)] = elements(response.content.decode(), with_class("errorlist"))
    assert error == SLUG_TAKEN.format(kind=model)


def test_saving_an_article_dated_later_says_it_is_scheduled_and_until_when(editor_client, settings):
    """ "Added successfully" alone sent the editor to the site, where it was not yet."""
    settings.TIME_ZONE = "Europe/Paris"
    form = new_article_form(
        status="published", published_at_0="2999-01-05", published_at_1="09:00:00"
    )

    response = editor_client.post(reverse("admin:articles_article_add"), form, follow=True)

    article = Article.objects.get(slug=form["slug"])
    assert not article.is_public
    assert [str(message) for message in response.context["messages"]][-1] == (
        "Scheduled for 5 January 2999, 09:00: readers cannot see it yet."
    )
    assert editor_client.get(article.get_absolute_url()).status_code == 200  # a preview
    editor_client.logout()
    assert editor_client.get(article.get_absolute_url()).status_code == 404


def test_saving_an_article_published_now_says_nothing_of_a_schedule(editor_client):
    article = make_article()

    response = editor_client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        article_change_form(article),
        follow=True,
    )

    assert not any("Scheduled" in str(m) for m in response.context["messages"])


def status_filter_choices(html):
    """The choices under "By status", as an editor reads them."""
    [(_, filters)] = elements(html, lambda tag, attrs: attrs.get("id") == "changelist-filter")
    return re.search(r"By status\s+(.*?)\s+By ", filters, re.S).group(1).split()


def test_the_status_filter_offers_what_the_status_column_says(editor_client):
    """The field's own filter offered Draft and Published, a scheduled article among the
    published ones: nothing picked the scheduled articles alone."""
    draft, scheduled, live = make_draft(), make_scheduled(), make_article()
    url = reverse("admin:articles_article_changelist")

    html = editor_client.get(url).content.decode()
    picked = {
        status: list(editor_client.get(url, {"status": status}).context["cl"].result_list)
        for status in ("draft", "scheduled", "published")
    }

    assert status_filter_choices(html) == ["All", "Draft", "Scheduled", "Published"]
    assert picked == {"draft": [draft], "scheduled": [scheduled], "published": [live]}


def test_a_status_no_filter_offers_lists_no_article(editor_client):
    make_draft(), make_article()

    response = editor_client.get(reverse("admin:articles_article_changelist"), {"status": "x"})

    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize(("order", "reverse_order"), [("4", False), ("-4", True)])
def test_sorting_by_status_keeps_draft_scheduled_and_published_apart(
    editor_client, order, reverse_order
):
    """Sorted by the field, a scheduled article went among the published ones, in date
    order: the column said Scheduled and Published in turns."""
    now = timezone.now()
    articles = [
        make_draft(published_at=now + timedelta(days=3)),
        make_scheduled(published_at=now + timedelta(days=1)),
        make_scheduled(published_at=now + timedelta(days=2)),
        make_article(published_at=now - timedelta(days=1)),
    ]

    response = editor_client.get(reverse("admin:articles_article_changelist"), {"o": order})

    shown = [
        text
        for _, text in elements(response.content.decode(), with_class("field-publication_status"))
    ]
    expected = ["Draft", "Scheduled", "Scheduled", "Published"]
    assert shown == (expected[::-1] if reverse_order else expected)
    assert len(response.context["cl"].result_list) == len(articles)


NEW_ONE_FORMS = {
    "article": lambda slug: new_article_form(slug=slug),
    "section": lambda slug: {"name": "Weather", "slug": slug, "description": "", "order": 0},
    "tag": lambda slug: {"name": "Weather", "slug": slug},
    "author": lambda slug: {"display_name": "Wes Weather", "slug": slug, "bio": ""},
}
OWNERS = {"article": make_article, "section": make_section, "tag": make_tag, "author": make_author}


def moved_away(kind, slug):
    """One of `kind` whose address was once `slug`: that old address leads to it now."""
    owner = OWNERS[kind](slug=slug)
    owner.slug = f"{slug}-moved"
    owner.save()
    return owner


@pytest.mark.parametrize("kind", NEW_ONE_FORMS)
def test_a_new_one_given_anothers_old_slug_is_saved_and_the_editor_told(editor_client, kind):
    """The old address, which led to the other one, silently led to the new one instead."""
    other = moved_away(kind, "weather")

    response = editor_client.post(
        reverse(f"admin:articles_{kind}_add"), NEW_ONE_FORMS[kind]("weather"), follow=True
    )

    model = type(other)
    assert model.objects.filter(slug="weather").exists()
    assert SLUG_WAS_ANOTHERS.format(
        address=model.address_for("weather"), kind=model._meta.verbose_name, other=other
    ) in " ".join(messages_shown(response))


def test_an_article_whose_slug_changes_to_anothers_old_one_is_saved_and_the_editor_told(
    editor_client,
):
    other, article = moved_away("article", "harbour"), make_article()

    response = editor_client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        article_change_form(article, slug="harbour"),
        follow=True,
    )

    article.refresh_from_db()
    assert article.slug == "harbour"
    assert SLUG_WAS_ANOTHERS.format(
        address="/articles/harbour/", kind="article", other=other
    ) in " ".join(messages_shown(response))


def test_a_slug_nobody_had_or_the_articles_own_old_one_says_nothing_of_another(editor_client):
    article = moved_away("article", "harbour")
    new = editor_client.post(
        reverse("admin:articles_article_add"), new_article_form(slug="tides"), follow=True
    )
    back = editor_client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        change_form_letting_go(article) | {"slug": "harbour"},
        follow=True,
    )

    assert Article.objects.filter(slug__in=["tides", "harbour"]).count() == 2
    assert not [m for m in messages_shown(new) + messages_shown(back) if "led to" in m]


def test_a_save_from_a_page_opened_before_a_colleague_published_the_article_unpublishes_nothing(
    editor_client,
):
    """The form sent back the status it showed: an editor fixing a typo in a page opened
    while the article was a draft took it off the site again, unannounced, after a colleague
    had published it. Told who saved it since, they may save again to replace it with theirs."""
    draft = make_draft(published_at=timezone.now() - timedelta(hours=2))
    change_url = reverse("admin:articles_article_change", args=[draft.pk])
    opened = editor_client.get(change_url).content.decode()
    colleague = Client()
    colleague.force_login(make_editor("colleague"))
    run_action(colleague, "publish", [draft])

    typo_fixed = article_change_form(draft, standfirst="Typo fixed.")
    typo_fixed["saved_version"] = form_values(opened, "saved_version")
    response = editor_client.post(change_url, typo_fixed)

    assert response.status_code == 200
    assert "saved by colleague" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_public
    assert draft.standfirst != "Typo fixed."

    typo_fixed["saved_version"] = form_values(response.content.decode(), "saved_version")
    assert editor_client.post(change_url, typo_fixed).status_code == 302  # knowingly
    draft.refresh_from_db()
    assert draft.standfirst == "Typo fixed."


@pytest.mark.parametrize(
    ("make", "name_field"),
    [(make_section, "name"), (make_tag, "name"), (make_author, "display_name")],
)
def test_a_save_from_a_page_opened_before_a_colleague_renamed_it_is_told_not_saved(
    editor_client, make, name_field
):
    """A section's, tag's or author's page sent back every field as it showed them: an
    editor changing the slug from a page opened before a colleague renamed it (a misspelt
    name, a name that must go) put the old name back, unseen, on every page that shows it."""
    owner = make()
    change_url = reverse(f"admin:articles_{owner._meta.model_name}_change", args=[owner.pk])
    opened = editor_client.get(change_url).content.decode()
    edited = change_form_letting_go(owner) | {"slug": "new-address"}
    edited["saved_version"] = form_values(opened, "saved_version")
    type(owner).objects.filter(pk=owner.pk).update(**{name_field: "Renamed by a colleague"})

    response = editor_client.post(change_url, edited)

    assert response.status_code == 200
    told = CHANGED_MEANWHILE.format(kind=owner._meta.verbose_name)
    assert told in response.content.decode()
    shown_slug = owner.slug
    owner.refresh_from_db()
    assert (getattr(owner, name_field), owner.slug) == ("Renamed by a colleague", shown_slug)

    edited["saved_version"] = form_values(response.content.decode(), "saved_version")
    assert editor_client.post(change_url, edited).status_code == 302  # knowingly
    owner.refresh_from_db()
    assert owner.slug == "new-address"


def test_saving_the_sections_list_leaves_the_rows_not_edited_on_it_as_a_colleague_left_them(
    editor_client,
):
    """The list's order boxes were all saved against the rows as stored: every row a
    colleague had reordered since the list was opened got its old place back, unseen, and
    the editor, who had changed one row, read "2 sections were changed successfully"."""
    first, second = make_section(order=1), make_section(order=2)
    url = reverse("admin:articles_section_changelist")
    [listed] = re.findall(
        r'<form id="changelist-form".*?</form>', editor_client.get(url).content.decode(), re.S
    )
    sent = {
        name: value
        for kind, name, value in re.findall(
            r'<input type="(\w+)" name="([^"]+)" value="([^"]*)"', listed
        )
        if kind in {"hidden", "number"}
    }
    sent |= {
        sent_name: "3"
        for sent_name, value in sent.items()
        if sent_name.startswith("form-") and sent_name.endswith("-order") and value == "2"
    }
    Section.objects.filter(pk=first.pk).update(order=5)

    response = editor_client.post(url, {**sent, "_save": "Save"}, follow=True)

    assert dict(Section.objects.values_list("pk", "order")) == {first.pk: 5, second.pk: 3}
    assert messages_shown(response) == ["1 section was changed successfully."]


def test_a_sections_list_sent_without_the_values_it_showed_saves_only_the_rows_it_changes(
    editor_client,
):
    """A list made by hand, or opened before the page sent its values back: the row it
    leaves as stored was counted among those "changed successfully" and logged as changed."""
    first, second = make_section(order=1), make_section(order=2)
    sent = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "2",
        "form-0-id": first.pk,
        "form-0-order": "1",
        "form-1-id": second.pk,
        "form-1-order": "3",
        "_save": "Save",
    }

    response = editor_client.post(reverse("admin:articles_section_changelist"), sent, follow=True)

    assert messages_shown(response) == ["1 section was changed successfully."]
    assert [entry.object_id for entry in LogEntry.objects.all()] == [str(second.pk)]


def test_an_article_form_sent_twice_by_a_double_click_is_saved_without_a_word_of_conflict(
    editor_client,
):
    article = make_article()
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    opened = editor_client.get(change_url).content.decode()
    edited = article_change_form(article, standfirst="Typo fixed.")
    edited["saved_version"] = form_values(opened, "saved_version")

    assert editor_client.post(change_url, edited).status_code == 302
    assert editor_client.post(change_url, edited).status_code == 302  # finds its own save


def opened_before_a_colleague_saved_it(editor_client, article):
    """The article's change address, and the saved version of its page as the editor opened
    it, before a colleague saved the article with a new title."""
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    opened = editor_client.get(change_url).content.decode()
    colleague = Client()
    colleague.force_login(make_editor("colleague"))
    colleague.post(change_url, article_change_form(article, title="Harbour wall repaired"))
    return change_url, form_values(opened, "saved_version")


def test_an_image_chosen_on_a_stale_page_is_asked_for_again_not_dropped_unseen(editor_client):
    """A page shown again cannot hold a file chosen on it: the editor who uploaded a lead
    image on a page told of a conflict saved again, read "changed successfully", and the
    article kept its old image."""
    article = make_article()
    change_url, saved_version = opened_before_a_colleague_saved_it(editor_client, article)

    upload = SimpleUploadedFile("harbour.jpg", draw_illustration(0), "image/jpeg")
    with_image = article_change_form(article, lead_image=upload, lead_image_alt="The harbour")
    with_image["saved_version"] = saved_version
    response = editor_client.post(change_url, with_image)

    assert response.status_code == 200
    [message] = [str(message) for message in get_messages(response.wsgi_request)]
    assert "saved by colleague" in message
    assert FILES_TO_CHOOSE_AGAIN.format(files="lead image") in message


def test_an_image_chosen_on_a_form_sent_back_for_a_mistake_is_asked_for_again(editor_client):
    """A form sent back for a mistake elsewhere (a summary left out) offers its file box
    empty: the editor corrected the mistake, saved, read "added successfully", and the
    article had no lead image, with nothing on the page to say it had been dropped."""
    upload = SimpleUploadedFile("harbour.jpg", draw_illustration(0), "image/jpeg")

    response = editor_client.post(
        reverse("admin:articles_article_add"),
        new_article_form(standfirst="", lead_image=upload, lead_image_alt="The harbour"),
    )

    assert response.status_code == 200
    assert not Article.objects.exists()
    form = response.context["adminform"].form
    assert form.errors["lead_image"] == [FILES_TO_CHOOSE_AGAIN.format(files="lead image")]


def test_a_stale_page_is_told_as_a_conflict_not_as_an_error_to_correct(editor_client):
    """Django's "Please correct the error below." stood above the conflict, in red, with no
    error on the page to correct: the choice is to reload, or to save again knowingly."""
    article = make_article()
    change_url, saved_version = opened_before_a_colleague_saved_it(editor_client, article)

    edited = article_change_form(article, standfirst="Typo fixed.")
    edited["saved_version"] = saved_version
    response = editor_client.post(change_url, edited)

    html = response.content.decode()
    assert "Please correct" not in html
    [(_, told)] = elements(html, with_class("warning"))
    assert "saved by colleague" in told
    assert not elements(html, with_class("errorlist"))


def test_a_stale_page_with_an_error_to_correct_still_says_so(editor_client):
    article = make_article()
    change_url, saved_version = opened_before_a_colleague_saved_it(editor_client, article)

    edited = article_change_form(article, title="")
    edited["saved_version"] = saved_version
    html = editor_client.post(change_url, edited).content.decode()

    assert "Please correct the errors below." in html
    assert "saved by colleague" in html


@pytest.mark.parametrize("colleague_changed", ["nothing", "only its old addresses"])
def test_a_save_from_a_page_opened_before_a_colleague_changed_none_of_its_fields_is_saved(
    editor_client, colleague_changed
):
    """Any save moved the article's version on: an editor whose colleague had let an old
    address go, or saved the page as it was, was told they "changed" the article and that
    saving would undo it, when saving undid nothing."""
    article = moved_away("article", "harbour")
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    opened = editor_client.get(change_url).content.decode()
    colleague = Client()
    colleague.force_login(make_editor("colleague"))
    let_go = article.former_slugs.all() if colleague_changed != "nothing" else []
    assert colleague.post(change_url, change_form_letting_go(article, *let_go)).status_code == 302

    typo_fixed = change_form_letting_go(article) | {"standfirst": "Typo fixed."}
    typo_fixed["saved_version"] = form_values(opened, "saved_version")
    response = editor_client.post(change_url, typo_fixed)

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.standfirst == "Typo fixed."
