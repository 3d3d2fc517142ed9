import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import page_cache
from articles.models import Article
from articles.sitemaps import ArticleSitemap
from tests.factories import (
    make_article,
    make_author,
    make_draft,
    make_owner,
    make_scheduled,
    make_section,
    make_tag,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles():
    listed = {
        "section": make_section(slug="news"),
        "tags": [make_tag(slug="local")],
        "author": make_author(slug="ann"),
    }
    return {
        "public": make_article(title="Public story", slug="public-story", **listed),
        "draft": make_draft(title="Draft story", slug="draft-story", **listed),
        "scheduled": make_scheduled(title="Future story", slug="future-story", **listed),
    }


FEEDS = [
    "/feeds/rss/",
    "/feeds/atom/",
    "/feeds/section/news/rss/",
    "/feeds/section/news/atom/",
    "/feeds/tag/local/rss/",
    "/feeds/tag/local/atom/",
    "/feeds/author/ann/rss/",
    "/feeds/author/ann/atom/",
]


@pytest.mark.parametrize("url", FEEDS)
def test_feeds_list_public_articles_only(client, articles, url):
    response = client.get(url)
    assert response.status_code == 200
    xml = response.content.decode()
    assert "Public story" in xml
    assert "http://testserver/articles/public-story/" in xml
    assert "Draft story" not in xml
    assert "Future story" not in xml


@pytest.mark.parametrize("url", FEEDS)
def test_feed_content_types(client, articles, url):
    kind = "rss" if url.endswith("/rss/") else "atom"
    assert client.get(url)["Content-Type"] == f"application/{kind}+xml; charset=utf-8"


@pytest.mark.parametrize("url", ["/feeds/atom/", "/feeds/section/news/atom/"])
def test_atom_feeds_link_each_author_with_a_full_address(client, articles, url):
    author = articles["public"].author

    xml = client.get(url).content.decode()

    assert f"<uri>http://testserver{author.get_absolute_url()}</uri>" in xml


@pytest.mark.parametrize(
    ("url", "summary"),
    [("/feeds/rss/", "channel/item/description"), ("/feeds/atom/", "{*}entry/{*}summary")],
)
def test_feeds_give_the_standfirst_as_the_text_readers_see_on_the_page(client, url, summary):
    """A feed's summary is HTML (Atom says type="html"): the standfirst, plain text on the
    page, must reach a feed reader escaped, or its markup-like words become markup."""
    make_article(standfirst="Why <b> tags & <script> blocks matter")

    root = ET.fromstring(client.get(url).content)  # noqa: S314 (our own feed)

    assert root.find(summary).text == "Why &lt;b&gt; tags &amp; &lt;script&gt; blocks matter"


@pytest.mark.parametrize(
    ("url", "categories"),
    [("/feeds/rss/", "channel/item/category"), ("/feeds/atom/", "{*}entry/{*}category")],
)
def test_feeds_file_each_article_under_its_section_and_its_tags(client, url, categories):
    make_article(section=make_section(name="Politics"), tags=[make_tag(name="Harbour")])
    make_article(section=make_section(name="Sport"), tags=[])

    root = ET.fromstring(client.get(url).content)  # noqa: S314 (our own feed)

    named = [element.text or element.get("term") for element in root.findall(categories)]
    assert named == ["Politics", "Harbour", "Sport"]


@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_the_feed_of_an_unknown_section_tag_or_author_is_404(client, kind):
    assert client.get(f"/feeds/{kind}/nope/rss/").status_code == 404
    assert client.get(f"/feeds/{kind}/nope/atom/").status_code == 404


@pytest.mark.parametrize("feed", ["rss", "atom"])
@pytest.mark.parametrize("make", [make_draft, make_scheduled])
@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_the_feed_of_a_section_tag_or_author_without_a_public_article_is_404(
    client, kind, make, feed
):
    """Its title ("Tagged “Merger with Acme”") would tell a story not out yet."""
    name = "display_name" if kind == "author" else "name"
    make_owner(kind, article=make, slug="acme", **{name: "Merger with Acme"})

    response = client.get(f"/feeds/{kind}/acme/{feed}/")

    assert response.status_code == 404
    assert "Acme" not in response.content.decode()


@pytest.mark.parametrize("url", FEEDS[2:])
def test_a_section_tag_or_author_feed_leaves_out_the_others_articles(client, articles, url):
    make_article(title="Elsewhere", tags=[make_tag()])
    assert "Elsewhere" not in client.get(url).content.decode()


def test_sitemap_index_points_at_each_sitemap(client, articles):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    assert "http://testserver/sitemap-articles.xml" in xml
    assert "http://testserver/sitemap-sections.xml" in xml
    assert "http://testserver/sitemap-tags.xml" in xml


def test_sitemap_lists_public_articles_only(client, articles):
    xml = client.get("/sitemap-articles.xml").content.decode()
    assert "http://testserver/articles/public-story/" in xml
    assert "draft-story" not in xml
    assert "future-story" not in xml
    assert "<lastmod>" in xml


def test_sitemap_of_authors_skips_authors_without_public_articles(client, articles):
    draft_author = make_draft().author
    xml = client.get("/sitemap-authors.xml").content.decode()
    assert articles["public"].author.get_absolute_url() in xml
    assert draft_author.get_absolute_url() not in xml


def test_sitemap_of_sections_skips_sections_without_public_articles(client, articles):
    empty = make_section(name="Weather", slug="weather")
    only_drafts = make_draft(section=make_section(name="Soon", slug="soon")).section
    xml = client.get("/sitemap-sections.xml").content.decode()
    assert articles["public"].section.get_absolute_url() in xml
    assert empty.get_absolute_url() not in xml
    assert only_drafts.get_absolute_url() not in xml


def test_sitemap_of_tags_skips_tags_without_public_articles(client, articles):
    empty = make_tag(name="Weather", slug="weather")
    only_drafts = make_draft(tags=[make_tag(name="Soon", slug="soon")]).tags.get()
    only_scheduled = make_scheduled(tags=[make_tag(name="Later", slug="later")]).tags.get()
    xml = client.get("/sitemap-tags.xml").content.decode()
    assert "http://testserver/tag/local/" in xml
    for unlisted in (empty, only_drafts, only_scheduled):
        assert unlisted.get_absolute_url() not in xml


def sitemap_locations(client, page):
    xml = client.get("/sitemap-articles.xml", {"p": page}).content.decode()
    return re.findall(r"<loc>([^<]+)</loc>", xml)


def test_sitemap_pages_list_every_public_article_once_newest_first(client, articles, monkeypatch):
    """Pages past the first are read differently (ArticleQuerySet.window): the first, a
    middle and the last page must still follow on, with articles published at the same
    moment in the same order on every page."""
    monkeypatch.setattr(ArticleSitemap, "limit", 5)
    moment = timezone.now() - timedelta(days=1)
    for number in range(11):
        make_article(published_at=moment if number % 3 else moment - timedelta(hours=number))
    make_draft()
    newest_first = Article.objects.published().order_by("-published_at", "-id")
    expected = [f"http://testserver{article.get_absolute_url()}" for article in newest_first]

    pages = [sitemap_locations(client, page) for page in (1, 2, 3)]

    assert [len(page) for page in pages] == [5, 5, 2]
    assert pages[0] + pages[1] + pages[2] == expected


def test_large_archive_spreads_over_several_sitemap_pages(client, articles, monkeypatch):
    monkeypatch.setattr(ArticleSitemap, "limit", 1)
    make_article(title="Second public story", section=articles["public"].section)
    xml = client.get("/sitemap.xml").content.decode()
    assert "http://testserver/sitemap-articles.xml?p=2" in xml
    assert "sitemap-articles.xml?p=3" not in xml
    assert client.get("/sitemap-articles.xml", {"p": 2}).status_code == 200


def test_a_scheduled_article_gone_live_is_dated_from_its_publication(client):
    """Written on Monday for Friday, its Atom entry said "updated" on Monday, days before it
    was published, and its sitemap entry last changed on Monday: feed readers that go by
    <updated> and crawlers that go by <lastmod> had no reason to look at it again."""
    earlier = make_article(published_at=timezone.now() - timedelta(days=3))
    scheduled = make_article(published_at=timezone.now() - timedelta(hours=1))
    Article.objects.filter(pk=scheduled.pk).update(updated_at=timezone.now() - timedelta(days=4))
    Article.objects.filter(pk=earlier.pk).update(updated_at=timezone.now() - timedelta(days=2))
    published = scheduled.published_at.isoformat(timespec="seconds")

    atom = ET.fromstring(client.get("/feeds/atom/").content)  # noqa: S314 (our own feed)
    sitemap = client.get("/sitemap-articles.xml").content.decode()

    ns = {"atom": "http://www.w3.org/2005/Atom"}
    entry = atom.find("atom:entry", ns)
    assert entry.find("atom:updated", ns).text.startswith(published[:19])
    assert f"<lastmod>{scheduled.published_at.date().isoformat()}</lastmod>" in sitemap


@pytest.mark.parametrize(
    ("url", "item_id"),
    [("/feeds/rss/", "channel/item/guid"), ("/feeds/atom/", "{*}entry/{*}id")],
)
def test_an_article_given_a_new_slug_is_not_new_to_feed_readers(client, url, item_id):
    """A feed reader knows an item by its id: a new one shows the article again, as unread."""
    article = make_article(slug="footbridge-opens")
    before = ET.fromstring(client.get(url).content).find(item_id).text  # noqa: S314 (ours)

    article.slug = "new-footbridge-opens"
    article.save()
    feed = client.get(url).content.decode()

    assert "/articles/new-footbridge-opens/" in feed
    assert ET.fromstring(feed).find(item_id).text == before  # noqa: S314 (our own feed)


def sitemap_index_pages(client):
    xml = client.get("/sitemap.xml").content.decode()
    return len(re.findall(r"sitemap-articles\.xml", xml))


def test_the_sitemap_index_does_not_count_the_archive_at_each_change_of_the_pages(client, articles):
    """A moderation decision renders every cached page again, the sitemap's index too:
    only the articles still scheduled are counted then, not every published one."""
    client.get("/sitemap.xml")
    page_cache.bump_content_version()  # what a comment approved does

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/sitemap.xml").status_code == 200

    counts = [
        query["sql"]
        for query in queries
        if 'COUNT(*) AS "__count" FROM "articles_article"' in query["sql"]
    ]
    assert counts
    assert all('"published_at" >' in sql for sql in counts), counts


def test_the_sitemap_index_follows_articles_published_unpublished_and_going_live(
    client, articles, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(ArticleSitemap, "limit", 1)
    assert sitemap_index_pages(client) == 1

    with django_capture_on_commit_callbacks(execute=True):
        second = make_article()
    assert sitemap_index_pages(client) == 2

    # The scheduled article's time comes: it goes live by itself, without a save.
    Article.objects.filter(pk=articles["scheduled"].pk).update(
        published_at=timezone.now() - timedelta(seconds=1)
    )
    assert sitemap_index_pages(client) == 3
    assert len(sitemap_locations(client, 3)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        second.status = Article.Status.DRAFT
        second.save()
    assert sitemap_index_pages(client) == 2

    with django_capture_on_commit_callbacks(execute=True):
        articles["public"].delete()
    assert sitemap_index_pages(client) == 1


@pytest.mark.parametrize(
    ("list_url", "feed", "said"),
    [
        ("/section/news/", "/feeds/section/news/rss/", "The latest from News."),
        ("/tag/local/", "/feeds/tag/local/rss/", "Articles about Local."),
        ("/author/ann/", "/feeds/author/ann/rss/", "Articles by Ann Lee."),
    ],
)
def test_a_list_without_its_own_words_is_described_alike_on_its_page_and_in_its_feed(
    client, list_url, feed, said
):
    make_article(
        section=make_section(name="News", slug="news", description=""),
        tags=[make_tag(name="Local", slug="local")],
        author=make_author(display_name="Ann Lee", slug="ann", bio=""),
    )
    assert f'<meta name="description" content="{said}">' in client.get(list_url).content.decode()
    channel = ET.fromstring(client.get(feed).content).find("channel")  # noqa: S314 (our own feed)
    assert channel.findtext("description") == said
