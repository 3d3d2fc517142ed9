"""Follow pages: a reader who clicks "Follow" or "RSS" gets a page that explains feeds and
gives their addresses, not a feed's raw XML; feed readers still find the XML in <head>."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.views import FOLLOW_PREVIEW_ARTICLES
from newsroom.middleware import METHOD_NOT_ALLOWED
from tests.factories import (
    make_article,
    make_author,
    make_draft,
    make_owner,
    make_scheduled,
    make_section,
    make_tag,
    make_user,
)
from tests.hostile import elements, with_class, with_id

pytestmark = pytest.mark.django_db

EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


@pytest.fixture
def listed():
    """One published article reachable from every kind of list, a draft beside it, and an
    article in another section, tag and author's lists."""
    section = make_section(name="Harbour", slug="harbour")
    tag = make_tag(name="Boats", slug="boats")
    author = make_author(display_name="Ada Quay", slug="ada-quay")
    article = make_article(
        title="Ferry returns", slug="ferry-returns", section=section, author=author, tags=[tag]
    )
    make_draft(title="Unfinished story", section=section, author=author, tags=[tag])
    make_article(title="Somewhere else")
    return {"article": article, "section": section, "tag": tag, "author": author}


# What each kind of list is named by.
NAMES = {"section": "name", "tag": "name", "author": "display_name"}

# kind: (follow page, list page, RSS feed, Atom feed, heading)
PAGES = {
    "site": ("/follow/", "/", "/feeds/rss/", "/feeds/atom/", "Follow The Newsroom"),
    "section": (
        "/section/harbour/follow/",
        "/section/harbour/",
        "/feeds/section/harbour/rss/",
        "/feeds/section/harbour/atom/",
        "Follow Harbour",
    ),
    "tag": (
        "/tag/boats/follow/",
        "/tag/boats/",
        "/feeds/tag/boats/rss/",
        "/feeds/tag/boats/atom/",
        "Follow articles tagged “Boats”",
    ),
    "author": (
        "/author/ada-quay/follow/",
        "/author/ada-quay/",
        "/feeds/author/ada-quay/rss/",
        "/feeds/author/ada-quay/atom/",
        "Follow Ada Quay",
    ),
}


def text_of(html, wanted):
    return [text for _, text in elements(html, wanted)]


def links(html):
    """{href: text} of the page's links (<a>), as a reader sees them."""
    return {
        attrs["href"]: " ".join(text.split())
        for attrs, text in elements(html, lambda tag, attrs: tag == "a" and "href" in attrs)
    }


def head_feeds(html):
    """The hrefs of <link rel="alternate"> with a feed type, what feed readers look for."""
    return [
        attrs["href"]
        for attrs, _ in elements(html, lambda tag, attrs: tag == "link")
        if attrs.get("rel") == "alternate"
        and attrs.get("type") in {"application/rss+xml", "application/atom+xml"}
    ]


@pytest.mark.parametrize("kind", PAGES)
def test_each_follow_page_explains_feeds_and_gives_both_addresses_in_full(client, listed, kind):
    follow, list_page, rss, atom, heading = PAGES[kind]

    response = client.get(follow)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert text_of(html, lambda tag, attrs: tag == "h1") == [heading]
    assert "What is a feed?" in text_of(html, lambda tag, attrs: tag == "h2")
    [(rss_box, _)] = elements(html, with_id("feed-rss"))
    [(atom_box, _)] = elements(html, with_id("feed-atom"))
    assert (rss_box["value"], atom_box["value"]) == (
        f"http://testserver{rss}",
        f"http://testserver{atom}",
    )
    assert "readonly" in rss_box and "readonly" in atom_box
    labels = {attrs["for"]: text for attrs, text in elements(html, lambda tag, _: tag == "label")}
    assert labels["feed-rss"] == "RSS feed address"
    assert labels["feed-atom"] == "Atom feed address"
    shown = links(html)
    assert shown["/articles/ferry-returns/"] == "Ferry returns"
    assert "Unfinished story" not in html
    back = text_of(html, lambda tag, attrs: tag == "a" and attrs.get("href") == list_page)
    assert any(text.startswith("Back to the articles") for text in back)
    if kind != "site":
        assert "Somewhere else" not in html
        to_the_site = text_of(html, lambda tag, attrs: tag == "a" and attrs["href"] == "/follow/")
        assert "Follow everything on The Newsroom" in to_the_site


def test_a_follow_page_shows_the_latest_headlines_newest_first(client):
    section = make_section(slug="harbour")
    now = timezone.now()
    for hours in range(FOLLOW_PREVIEW_ARTICLES + 2):
        make_article(
            title=f"Story {hours} hours old",
            section=section,
            published_at=now - timedelta(hours=hours + 1),
        )

    html = client.get("/section/harbour/follow/").content.decode()

    preview = text_of(html, lambda tag, attrs: tag == "a" and "/articles/" in attrs.get("href", ""))
    assert preview == [f"Story {hours} hours old" for hours in range(FOLLOW_PREVIEW_ARTICLES)]


@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_list_pages_link_to_their_follow_page_and_not_to_the_xml(client, listed, kind):
    follow, list_page, rss, atom, _ = PAGES[kind]

    html = client.get(list_page).content.decode()

    shown = links(html)
    assert shown[follow] == f"Follow this {kind}"
    assert shown["/follow/"] == "RSS feeds"  # the footer: the whole site's
    assert not [href for href in shown if href.startswith("/feeds/")]
    # Feed readers and browser extensions still find the feeds themselves.
    assert head_feeds(html) == ["/feeds/rss/", "/feeds/atom/", rss, atom]


def test_the_front_page_links_to_the_sites_follow_page_and_its_head_to_the_feeds(client, listed):
    html = client.get("/").content.decode()

    shown = links(html)
    assert shown["/follow/"] == "RSS feeds"
    assert not [href for href in shown if href.startswith("/feeds/")]
    assert head_feeds(html) == ["/feeds/rss/", "/feeds/atom/"]


@pytest.mark.parametrize("kind", PAGES)
def test_a_follow_pages_head_points_feed_readers_at_its_feeds(client, listed, kind):
    follow, _, rss, atom, _ = PAGES[kind]

    html = client.get(follow).content.decode()

    assert head_feeds(html)[-2:] == [rss, atom]
    assert len(set(head_feeds(html))) == len(head_feeds(html))  # the site's once


def feed_titles(html):
    """The titles of the page's feeds in <head>, which a feed reader or browser extension
    offers the reader to pick from."""
    return [
        attrs["title"]
        for attrs, _ in elements(html, lambda tag, attrs: tag == "link")
        if attrs.get("rel") == "alternate"
        and attrs.get("type") in {"application/rss+xml", "application/atom+xml"}
    ]


@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_a_follow_page_names_its_feeds_as_its_list_page_does(client, listed, kind):
    """The tag's follow page offered "Follow articles tagged “Boats” (RSS)" to feed readers,
    its heading, where the tag's page offers "Tagged “Boats” (RSS)" for the same feed."""
    follow, list_page, _, _, _ = PAGES[kind]

    on_follow_page = feed_titles(client.get(follow).content.decode())

    assert on_follow_page == feed_titles(client.get(list_page).content.decode())
    assert not any(title.startswith("Follow") for title in on_follow_page)


@pytest.mark.parametrize("kind", PAGES)
def test_the_feeds_stay_xml_with_their_own_content_types(client, listed, kind):
    _, _, rss, atom, _ = PAGES[kind]

    rss_response, atom_response = client.get(rss), client.get(atom)

    assert rss_response["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert atom_response["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert b"<?xml-stylesheet" not in rss_response.content
    ET.fromstring(rss_response.content)  # noqa: S314 (our own feed)
    for response in (rss_response, atom_response):
        feed = response.content.decode()
        assert "http://testserver/articles/ferry-returns/" in feed
        assert "Unfinished story" not in feed


@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_the_follow_page_of_an_unknown_one_is_a_404_like_its_list(client, kind):
    assert client.get(f"/{kind}/nope/follow/").status_code == 404
    assert client.get(f"/{kind}/nope/").status_code == 404


@pytest.mark.parametrize("make", [make_draft, make_scheduled])
@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_the_follow_page_of_one_without_a_public_article_is_a_404_like_its_list(client, kind, make):
    """Its name, in the page's title, may be news not out yet (Section.objects.published())."""
    make_owner(kind, article=make, slug="soon", **{NAMES[kind]: "Acme takeover"})

    follow = client.get(f"/{kind}/soon/follow/")

    assert follow.status_code == client.get(f"/{kind}/soon/").status_code == 404
    assert "Acme" not in follow.content.decode()


def test_the_sites_follow_page_before_anything_is_published(client):
    make_draft(title="Not out yet")

    response = client.get("/follow/")

    assert response.status_code == 200
    assert "Nothing has been published here yet" in response.content.decode()
    assert "Not out yet" not in response.content.decode()


@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_a_follow_page_at_a_former_slug_leads_to_the_follow_page_now(client, listed, kind):
    owner = listed[kind]
    owner.slug = "renamed"
    owner.save()

    response = client.get(PAGES[kind][0])

    assert response.status_code == 301
    assert response["Location"] == f"/{kind}/renamed/follow/"
    assert client.get(response["Location"]).status_code == 200


def test_no_follow_page_shows_an_email_address(client):
    user = make_user("ada", email="ada.quay@newsroom.test")
    author = make_author(display_name="Ada Quay", slug="ada-quay", user=user)
    make_article(author=author, section=make_section(slug="harbour"), tags=[make_tag(slug="boats")])

    for kind in PAGES:
        html = client.get(PAGES[kind][0]).content.decode()
        assert EMAIL_ADDRESS.findall(html) == [], kind


HOSTILE = '"><script>alert(1)</script><b>'


@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_a_hostile_name_is_shown_as_text_on_the_follow_page(client, kind):
    field = "display_name" if kind == "author" else "name"
    owner = {"section": make_section, "tag": make_tag, "author": make_author}[kind](
        slug="hostile", **{field: HOSTILE}
    )
    make_article(title="Filed", **({"tags": [owner]} if kind == "tag" else {kind: owner}))

    html = client.get(f"/{kind}/hostile/follow/").content.decode()

    assert "<script>alert(1)" not in html
    assert "<b>" not in html
    [heading] = text_of(html, lambda tag, attrs: tag == "h1")
    assert HOSTILE in heading
    assert HOSTILE in "".join(text_of(html, with_class("list-header__intro")))


@pytest.mark.parametrize("kind", PAGES)
def test_a_follow_page_costs_a_fixed_number_of_queries(
    client, listed, kind, django_assert_max_num_queries
):
    follow = PAGES[kind][0]
    client.get(follow)  # the header's sections, cached from then on
    for _ in range(FOLLOW_PREVIEW_ARTICLES + 3):
        make_article(section=listed["section"], author=listed["author"], tags=[listed["tag"]])

    with django_assert_max_num_queries(1 if kind == "site" else 2):
        assert client.get(follow).status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_follow_page_only_reads(client, listed, method):
    response = client.generic(method, "/section/harbour/follow/")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.content.decode() == METHOD_NOT_ALLOWED.format(allowed="GET, HEAD, OPTIONS")
    assert client.head("/section/harbour/follow/").status_code == 200
