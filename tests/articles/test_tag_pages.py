"""A tag's page lists the tag's public articles, newest first, whichever way they were
published, withdrawn, dated or tagged: it reads them through the copy of each article's
publication that its tag links carry (articles.models.TagLink), which the database keeps."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from articles import demo
from articles.models import Article, Tag, TagLink
from tests.factories import (
    article_change_form,
    make_article,
    make_draft,
    make_editor,
    make_scheduled,
    make_tag,
)
from tests.lock_waits import connections_waiting_for_a_lock

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(make_editor())
    return client


def links_out_of_step():
    """Tag links whose copy of their article's publication differs from the article's."""
    return [
        link
        for link in TagLink.objects.select_related("article")
        if (link.status, link.published_at) != (link.article.status, link.article.published_at)
    ]


def listed(client, tag, page=1):
    """The articles a reader sees on the tag's page, in their order there, once every tag
    link's copy is checked against its article: published() over the page would hide a
    draft whose link said otherwise, but an article published since would be left out.
    None at all where the page is a 404: a tag without a public article has none."""
    assert links_out_of_step() == []
    response = client.get(tag.get_absolute_url(), {"page": page})
    if response.status_code == 404:
        return []
    assert response.status_code == 200
    html = response.content.decode()
    shown = [a for a in Article.objects.all() if f'href="{a.get_absolute_url()}"' in html]
    return sorted(shown, key=lambda a: html.index(f'href="{a.get_absolute_url()}"'))


def admin_save(client, article, **changes):
    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        article_change_form(article, **changes),
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def run_action(client, action, articles):
    client.post(
        reverse("admin:articles_article_changelist"),
        {"action": action, "_selected_action": [article.pk for article in articles]},
    )


def form_time(when):
    local = timezone.localtime(when)
    return {"published_at_0": f"{local:%Y-%m-%d}", "published_at_1": f"{local:%H:%M:%S}"}


def test_a_draft_or_scheduled_article_is_not_on_its_tags_page(client):
    tag = make_tag()
    live = make_article(tags=[tag])
    make_draft(tags=[tag])
    make_scheduled(tags=[tag])
    assert listed(client, tag) == [live]


def test_an_article_published_in_the_admin_joins_its_tags_page(client, editor_client):
    tag = make_tag()
    draft = make_draft(tags=[tag])
    admin_save(editor_client, draft, status="published", **form_time(timezone.now()))
    assert listed(client, tag) == [draft]


def test_an_article_unpublished_in_the_admin_leaves_its_tags_page(client, editor_client):
    tag = make_tag()
    article = make_article(tags=[tag])
    admin_save(editor_client, article, status="draft")
    assert listed(client, tag) == []


def test_an_article_dated_later_in_the_admin_leaves_its_tags_page_until_then(client, editor_client):
    tag = make_tag()
    article = make_article(tags=[tag])
    admin_save(editor_client, article, **form_time(timezone.now() + timedelta(days=1)))
    assert listed(client, tag) == []


def test_an_article_dated_earlier_moves_down_its_tags_page(client, editor_client):
    tag = make_tag()
    older, newer = make_article(tags=[tag]), make_article(tags=[tag])
    newer, older = sorted([older, newer], key=lambda a: a.published_at, reverse=True)
    admin_save(editor_client, newer, **form_time(older.published_at - timedelta(days=1)))
    assert listed(client, tag) == [older, newer]


def test_tags_given_or_taken_in_the_admin_change_the_tags_pages(client, editor_client):
    kept, taken, given = make_tag(), make_tag(), make_tag()
    article = make_article(tags=[kept, taken])
    admin_save(editor_client, article, tags=[kept.pk, given.pk])
    assert listed(client, kept) == [article]
    assert listed(client, taken) == []
    assert listed(client, given) == [article]


def test_a_draft_tagged_in_the_admin_stays_off_the_tags_page(client, editor_client):
    tag = make_tag()
    draft = make_draft()
    admin_save(editor_client, draft, tags=[tag.pk], **form_time(timezone.now()))
    assert listed(client, tag) == []


def test_the_admins_bulk_actions_publish_and_withdraw_on_tags_pages(client, editor_client):
    tag = make_tag()
    drafts = [make_draft(tags=[tag]), make_draft(tags=[tag])]
    run_action(editor_client, "publish", drafts)
    assert set(listed(client, tag)) == set(drafts)
    run_action(editor_client, "unpublish", drafts)
    assert listed(client, tag) == []


def test_a_scheduled_article_joins_its_tags_page_when_its_time_comes(client):
    """The database's clock decides, and a test cannot move it: on a busy machine the page
    may first be read after `soon`'s time has come, so only `later` is asserted missing
    then. Asserting `soon` missing failed whenever the set-up and that read took a second."""
    tag = make_tag()
    soon = make_scheduled(tags=[tag], published_at=timezone.now() + timedelta(seconds=1))
    later = make_scheduled(tags=[tag], published_at=timezone.now() + timedelta(hours=1))
    assert later not in listed(client, tag)
    time.sleep(1.1)
    assert listed(client, tag) == [soon]


def test_articles_changed_in_bulk_by_update_are_followed_on_tags_pages(client):
    tag = make_tag()
    article, draft = make_article(tags=[tag]), make_draft(tags=[tag])
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
    Article.objects.filter(pk=draft.pk).update(
        status=Article.Status.PUBLISHED, published_at=timezone.now()
    )
    assert listed(client, tag) == [draft]


def test_tag_links_made_by_bulk_create_or_tags_add_take_their_articles_publication(client):
    tag = make_tag()
    article, draft, scheduled = make_article(), make_draft(), make_scheduled()
    Article.tags.through.objects.bulk_create(
        [Article.tags.through(article=a, tag=tag) for a in (article, draft)]
    )
    scheduled.tags.add(tag)
    assert listed(client, tag) == [article]
    article.tags.remove(tag)
    assert listed(client, tag) == []


def test_a_tag_link_written_directly_cannot_make_a_draft_public(client):
    """The copy is the database's: a write of other values is replaced by the article's."""
    tag = make_tag()
    draft = make_draft(tags=[tag])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE articles_article_tags SET status = 'published', published_at = %s"
            " WHERE article_id = %s",
            [timezone.now() - timedelta(days=1), draft.pk],
        )
    assert TagLink.objects.get(article=draft).status == Article.Status.DRAFT
    assert listed(client, tag) == []


def test_the_demo_generators_articles_are_on_their_tags_pages(client):
    demo.seed(articles=3)
    tag = Tag.objects.filter(articles__isnull=False).first()
    expected = list(Article.objects.published().filter(tags=tag))
    assert expected
    assert listed(client, tag) == expected


def test_a_tags_pages_follow_on_from_one_another(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    tag = make_tag()
    articles = sorted(
        (make_article(tags=[tag]) for _ in range(5)), key=lambda a: a.published_at, reverse=True
    )
    make_draft(tags=[tag])
    pages = [listed(client, tag, page) for page in (1, 2, 3)]
    assert pages == [articles[:2], articles[2:4], articles[4:]]
    assert client.get(tag.get_absolute_url(), {"page": 4}).status_code == 404


def test_a_tags_feed_lists_only_its_public_articles_newest_first(client):
    tag = make_tag()
    older, newer = make_article(tags=[tag]), make_article(tags=[tag])
    make_draft(tags=[tag])
    make_scheduled(tags=[tag])
    feed = client.get(f"/feeds/tag/{tag.slug}/rss/").content.decode()
    links = [a for a in (older, newer) if a.get_absolute_url() in feed]
    assert len(links) == 2
    newest_first = sorted([older, newer], key=lambda a: a.published_at, reverse=True)
    positions = [feed.index(a.get_absolute_url()) for a in newest_first]
    assert positions == sorted(positions)
    assert feed.count("<item>") == 2


def test_a_sites_dumpdata_loads_back_with_its_tags_pages(client, tmp_path):
    """TagLink reads Article.tags' own table: dumped as well, each link came twice (in its
    article's `tags` and as a row of its own), and loaddata failed on the second copy."""
    tag = make_tag()
    live = make_article(tags=[tag])
    make_draft(tags=[tag])
    dump = tmp_path / "site.json"
    call_command("dumpdata", "articles", output=dump, verbosity=0)
    Article.objects.all().delete()
    Tag.objects.all().delete()
    call_command("loaddata", dump, verbosity=0)
    assert listed(client, Tag.objects.get()) == [live]


def publish_on_another_connection(article_id):
    try:
        Article.objects.filter(pk=article_id).update(
            status=Article.Status.PUBLISHED, published_at=timezone.now() - timedelta(minutes=1)
        )
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="READ COMMITTED, two writers")
def test_an_article_published_while_it_is_being_tagged_joins_the_tags_page(client):
    """A link stored copies its article as its transaction reads it: published meanwhile by
    another one, committed first, the article was public and its link a draft for good."""
    tag, draft = make_tag(), make_draft()
    with transaction.atomic():
        draft.tags.add(tag)
        publisher = threading.Thread(target=publish_on_another_connection, args=[draft.pk])
        publisher.start()
        deadline = time.monotonic() + 10
        while publisher.is_alive() and not connections_waiting_for_a_lock():
            assert time.monotonic() < deadline, "the publisher neither waited nor finished"
            publisher.join(0.01)
    publisher.join()
    assert listed(client, tag) == [Article.objects.get(pk=draft.pk)]
