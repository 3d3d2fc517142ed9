import json
import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.defaults import server_error

from articles import page_cache
from articles.demo import draw_illustration
from articles.models import Article, Section
from comments.services import refresh_comment_count
from tests.factories import (
    make_article,
    make_article_viewer,
    make_author,
    make_comment,
    make_draft,
    make_editor,
    make_moderator,
    make_owner,
    make_scheduled,
    make_section,
    make_tag,
    make_user,
)
from tests.hostile import elements, with_class

pytestmark = pytest.mark.django_db


def test_home_shows_lead_story_then_top_stories_then_latest(client):
    now = timezone.now()
    titles = [f"Story {number}" for number in range(7)]
    for minutes, title in enumerate(titles, start=1):
        make_article(title=title, published_at=now - timedelta(minutes=minutes))
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    lead, top, latest = (
        html.index(marker) for marker in ("lead-story__title", "top-stories", "latest-heading")
    )
    assert lead < html.index("Story 0") < top
    assert top < html.index("Story 1") < html.index("Story 4") < latest
    assert latest < html.index("Story 5") < html.index("Story 6")


def test_home_never_shows_drafts_or_scheduled_articles(client):
    make_article(title="Visible story")
    make_draft(title="Secret draft")
    make_scheduled(title="Tomorrow's scoop")
    html = client.get("/").content.decode()
    assert "Visible story" in html
    assert "Secret draft" not in html
    assert "Tomorrow" not in html


def test_empty_site_home_page_still_works(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Nothing has been published yet" in response.content.decode()


@override_settings(ARTICLES_PER_PAGE=2)
def test_home_pages_older_articles(client):
    section = make_section()
    for number in range(5):
        make_article(title=f"Story {number}", section=section)
    first = client.get("/").content.decode()
    assert 'href="?page=2"' in first
    third = client.get("/?page=3")
    assert third.status_code == 200
    html = third.content.decode()
    assert "Story 4" in html
    assert 'href="?page=2"' in html
    assert "page=4" not in html
    assert client.get("/?page=4").status_code == 404


@override_settings(ARTICLES_PER_PAGE=1)
def test_the_newer_link_of_a_second_page_leads_to_the_list_itself(client):
    """Not to ?page=1: a second address for the front page (or a section's), a second
    copy of it in the cache, and a link a browser does not show as visited."""
    section = make_section()
    make_article(section=section)
    make_article(section=section)
    for url in ("/", section.get_absolute_url()):
        html = client.get(url, {"page": 2}).content.decode()
        assert f'<a class="pagination__newer" rel="prev" href="{url}">' in html


@override_settings(ARTICLES_PER_PAGE=1)
def test_an_older_page_of_the_front_page_has_a_title_of_its_own(client):
    """A browser's tabs, history and bookmarks, and a screen reader arriving, tell the
    pages apart by their titles."""
    make_article()
    make_article()
    assert "<title>The Newsroom</title>" in client.get("/").content.decode()
    assert (
        "<title>Older stories (page 2) — The Newsroom</title>"
        in client.get("/?page=2").content.decode()
    )


@pytest.mark.parametrize("number", ["0", "-1", "abc", "99999", "1.5", "", "٣", "9" * 40])
def test_malformed_or_out_of_range_page_is_a_404_page(client, number):
    make_article()
    response = client.get("/", {"page": number})
    assert response.status_code == 404
    assert "find that page" in response.content.decode()


def test_article_page_shows_everything_a_reader_needs(client):
    author = make_author(display_name="Jo Writer")
    section = make_section(name="Science")
    tag = make_tag(name="Rivers")
    article = make_article(
        title="The river rises",
        standfirst="Water levels are up.",
        body="## What happened\n\nThe river rose **fast**.",
        author=author,
        section=section,
        tags=[tag],
        comment_count=3,
    )
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="story__title" dir="auto">The river rises</h1>' in html
    assert "Water levels are up." in html
    assert f'href="{author.get_absolute_url()}" rel="author">Jo Writer</a>' in html
    assert f'href="{section.get_absolute_url()}">Science</a>' in html
    assert f'href="{tag.get_absolute_url()}" rel="tag">Rivers</a>' in html
    assert f'<time datetime="{article.published_at.isoformat(timespec="seconds")}"' in html
    assert "1 min read" in html
    assert "<strong>fast</strong>" in html
    assert "3 comments" in html


# HTML's "valid global date and time string": a second has at most three decimal places.
HTML_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:?\d\d)")


@pytest.mark.parametrize("shown_on", ["article", "home", "section", "follow"])
def test_every_time_element_gives_a_datetime_html_accepts(client, shown_on):
    """`<time datetime>` gave the microseconds of a time saved with them (any article put out
    with "Publish" or by the demo), six decimal places, which HTML does not allow: a
    validator flags the page, and a reader's tools may not read the date."""
    published = timezone.now().replace(microsecond=123456) - timedelta(hours=2)
    article = make_article(published_at=published)
    Article.objects.filter(pk=article.pk).update(updated_at=published + timedelta(hours=1))
    address = {
        "article": article.get_absolute_url(),
        "home": "/",
        "section": article.section.get_absolute_url(),
        "follow": reverse("articles:follow"),
    }[shown_on]

    html = client.get(address).content.decode()

    times = [attrs["datetime"] for attrs, _ in elements(html, lambda tag, attrs: tag == "time")]
    assert times
    assert [when for when in times if not HTML_DATETIME.fullmatch(when)] == []
    assert datetime.fromisoformat(times[0]) == published.replace(microsecond=0)


ARABIC_TITLE = "ارتفاع منسوب النهر"


def test_an_arabic_article_reads_right_to_left_while_the_site_around_it_does_not(client):
    """dir="auto", as each comment has: the browser takes the direction from the text's
    first letter, so a right-to-left article is aligned and ordered as its readers expect."""
    article = make_article(
        title=ARABIC_TITLE,
        standfirst="ارتفعت المياه طوال الليل.",
        body="ارتفع النهر **بسرعة**.\n\n- السدود صامدة",
    )

    html = client.get(article.get_absolute_url()).content.decode()

    assert f'<h1 class="story__title" dir="auto">{ARABIC_TITLE}</h1>' in html
    assert '<p class="story__standfirst" dir="auto">ارتفعت المياه طوال الليل.</p>' in html
    assert re.search(r'<div class="story__body" dir="auto">\s*<p>ارتفع النهر', html)
    assert '<html lang="en">' in html and "<body>" in html  # the site stays left to right
    assert 'class="byline"' in html and 'class="byline" dir=' not in html


def test_article_titles_in_lists_take_their_own_direction(client):
    section = make_section()
    now = timezone.now()
    for minutes in range(1, 8):
        make_article(
            title=f"{ARABIC_TITLE} {minutes}",
            standfirst="ارتفعت المياه.",
            section=section,
            published_at=now - timedelta(minutes=minutes),
        )

    home = client.get("/").content.decode()
    listing = client.get(section.get_absolute_url()).content.decode()

    title_link = rf'<a href="[^"]+">{ARABIC_TITLE} \d</a>'
    assert re.search(rf'<h2 class="lead-story__title" dir="auto">{title_link}</h2>', home)
    assert '<p class="lead-story__standfirst" dir="auto">' in home
    assert re.search(rf'<h3 class="top-stories__title" dir="auto">{title_link}</h3>', home)
    for html in (home, listing):
        assert re.search(rf'<h3 class="card__title" dir="auto">{title_link}</h3>', html)
        assert '<p class="card__standfirst" dir="auto">ارتفعت المياه.</p>' in html


def test_a_section_name_takes_its_own_direction_above_titles_and_on_its_page(client):
    section = make_section(name="الرياضة", description="أخبار الملاعب.")
    now = timezone.now()
    for minutes in range(1, 8):
        article = make_article(section=section, published_at=now - timedelta(minutes=minutes))

    home = client.get("/").content.decode()
    listing = client.get(section.get_absolute_url()).content.decode()
    story = client.get(article.get_absolute_url()).content.decode()

    label = f'<p class="kicker" dir="auto"><a href="{section.get_absolute_url()}">الرياضة</a></p>'
    assert home.count(label) == 7  # the lead story, the top stories and the latest
    assert listing.count(label) == 7
    assert label in story
    assert '<h1 class="list-header__title" dir="auto">الرياضة</h1>' in listing
    assert '<p class="list-header__intro" dir="auto">أخبار الملاعب.</p>' in listing


def test_an_authors_name_and_bio_take_their_own_direction(client):
    author = make_author(display_name="ليلى حداد", bio="مراسلة الشؤون المحلية.")
    make_article(author=author)

    html = client.get(author.get_absolute_url()).content.decode()

    assert '<h1 class="list-header__title" dir="auto">ليلى حداد</h1>' in html
    assert '<p class="list-header__intro" dir="auto">مراسلة الشؤون المحلية.</p>' in html


def test_next_and_previous_titles_are_kept_apart_from_their_labels(client):
    section = make_section()
    now = timezone.now()
    make_article(section=section, title=ARABIC_TITLE, published_at=now - timedelta(days=2))
    article = make_article(section=section, published_at=now - timedelta(days=1))

    html = client.get(article.get_absolute_url()).content.decode()

    assert f'<span class="story-nav__label">Previous</span> <bdi>{ARABIC_TITLE}</bdi>' in html


def test_article_page_shows_update_time_only_when_edited_later(client):
    article = make_article(published_at=timezone.now())
    assert "Updated" not in client.get(article.get_absolute_url()).content.decode()
    later = timezone.now() + timedelta(hours=2)
    type(article).objects.filter(pk=article.pk).update(updated_at=later)
    assert "Updated <time" in client.get(article.get_absolute_url()).content.decode()


def test_article_page_links_previous_next_and_related(client):
    section = make_section()
    now = timezone.now()
    older = make_article(section=section, title="Older one", published_at=now - timedelta(days=3))
    article = make_article(section=section, published_at=now - timedelta(days=2))
    newer = make_article(title="Newer one", published_at=now - timedelta(days=1))
    make_draft(section=section, title="Unfinished draft")
    html = client.get(article.get_absolute_url()).content.decode()
    assert f'rel="prev" href="{older.get_absolute_url()}"' in html
    assert f'rel="next" href="{newer.get_absolute_url()}"' in html
    related = html[html.index('id="related-heading"') :]
    assert "Older one" in related
    assert "Newer one" not in related  # another section
    assert "Unfinished draft" not in html


def test_an_old_link_to_an_article_whose_slug_changed_redirects_to_it(client):
    article = make_article(slug="mayor-resigns")
    article.slug = "mayor-resigns-after-vote"
    article.save()

    response = client.get("/articles/mayor-resigns/?cpage=2")

    assert response.status_code == 301
    assert response["Location"] == "/articles/mayor-resigns-after-vote/?cpage=2"
    assert client.get("/articles/mayor-resigns-after-vote/").status_code == 200


def test_an_old_slug_given_to_another_article_shows_that_article(client):
    renamed = make_article(title="First story", slug="the-story")
    renamed.slug = "first-story"
    renamed.save()
    make_article(title="Second story", slug="the-story")

    response = client.get("/articles/the-story/")

    assert response.status_code == 200
    assert "Second story" in response.content.decode()


def test_an_old_link_to_an_unpublished_article_is_404_for_readers(client):
    article = make_article(slug="leaked")
    article.slug = "withdrawn"
    article.status = Article.Status.DRAFT
    article.save()

    assert client.get("/articles/leaked/").status_code == 404


def test_draft_and_scheduled_articles_are_404_for_readers(client):
    for article in (make_draft(), make_scheduled()):
        assert client.get(article.get_absolute_url()).status_code == 404


def test_non_staff_user_cannot_preview_a_draft(client):
    client.force_login(make_user())
    assert client.get(make_draft().get_absolute_url()).status_code == 404


@pytest.mark.parametrize("make", [make_draft, make_scheduled])
def test_moderators_and_other_staff_without_article_access_cannot_preview(client, make):
    """Unpublished stories stay with those who may read them in the admin (an embargo)."""
    article = make(title="Embargoed")
    for user in (make_moderator(), make_user(staff=True)):
        client.force_login(user)
        assert client.get(article.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("make", [make_draft, make_scheduled])
def test_staff_preview_drafts_and_scheduled_articles_uncached(client, make):
    article = make(title="Work in progress")
    client.force_login(make_article_viewer())
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="preview-banner"' in html
    assert "Work in progress" in html
    assert '<meta name="robots" content="noindex">' in html
    cache_control = response.headers["Cache-Control"]
    assert "no-cache" in cache_control
    assert "private" in cache_control


def byline(html):
    [(_, text)] = elements(html, with_class("byline"))
    return " ".join(text.split())


def test_preview_of_a_dated_draft_says_it_is_a_draft_not_published(client):
    """A draft with a date showed "Published" and that date, as a live article does: the
    editor took it for out."""
    dated = timezone.now() - timedelta(days=2)
    article = make_draft(published_at=dated)
    client.force_login(make_article_viewer())

    html = client.get(article.get_absolute_url()).content.decode()

    when = date_format(timezone.localtime(dated), "j F Y, H:i")
    assert f"Draft (not published), dated {when}" in byline(html)
    assert "Published" not in byline(html)


def test_preview_of_a_scheduled_article_says_when_it_goes_out(client):
    article = make_scheduled()
    client.force_login(make_article_viewer())

    html = client.get(article.get_absolute_url()).content.decode()

    when = date_format(timezone.localtime(article.published_at), "j F Y, H:i")
    assert f"Scheduled for {when}" in byline(html)
    assert "Published" not in byline(html)


def publication_dates_in_metadata(html, article):
    """Where the page tells machines (link previews, search engines, reading apps) when
    the article was published."""
    when = f"{timezone.localtime(article.published_at):%Y-%m-%dT%H:%M}"
    [(_, structured)] = elements(
        html, lambda tag, attrs: attrs.get("type") == "application/ld+json"
    )
    return {
        "meta": f'property="article:published_time" content="{when}' in html,
        "json-ld": "datePublished" in json.loads(structured),
        "time": f'<time datetime="{when}' in html,
    }


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_draft(published_at=timezone.now() - timedelta(days=2)),
        lambda: make_scheduled(),
    ],
    ids=["dated draft", "scheduled"],
)
def test_a_previews_metadata_claims_no_publication_date(client, make):
    """The byline said "Draft (not published)", but the page's metadata still gave its date
    as the publication date, to any app that read the preview; and a draft saved after its
    date said "Updated", as an article edited since it went out does."""
    article = make()
    client.force_login(make_article_viewer())

    html = client.get(article.get_absolute_url()).content.decode()

    assert publication_dates_in_metadata(html, article) == {
        "meta": False,
        "json-ld": False,
        "time": False,
    }
    assert "Updated" not in byline(html)  # a draft saved since its date was not updated


def test_a_live_articles_metadata_gives_its_publication_date(client):
    article = make_article()

    html = client.get(article.get_absolute_url()).content.decode()

    assert publication_dates_in_metadata(html, article) == {
        "meta": True,
        "json-ld": True,
        "time": True,
    }


def test_a_scheduled_articles_metadata_is_modified_no_earlier_than_published(client):
    """Written a day before it went out, the article told link previews and search engines
    it was modified a day before it was published (its last save), where its feeds and
    sitemap give its publication."""
    article = make_article()
    written = article.published_at - timedelta(days=1)
    Article.objects.filter(pk=article.pk).update(updated_at=written)

    html = client.get(article.get_absolute_url()).content.decode()

    [(meta, _)] = elements(
        html, lambda tag, attrs: attrs.get("property") == "article:modified_time"
    )
    [(_, structured)] = elements(
        html, lambda tag, attrs: attrs.get("type") == "application/ld+json"
    )
    data = json.loads(structured)
    published = article.published_at
    assert datetime.fromisoformat(meta["content"]) == published
    assert datetime.fromisoformat(data["dateModified"]) == published
    assert datetime.fromisoformat(data["datePublished"]) == published


def test_readers_see_a_live_articles_publication_date_in_the_byline(client):
    article = make_article()

    html = client.get(article.get_absolute_url()).content.decode()

    when = date_format(timezone.localtime(article.published_at), "j F Y, H:i")
    assert f"Published {when}" in byline(html)


def test_staff_who_may_change_articles_but_not_view_them_preview_too(client):
    """The admin counts the right to change articles as the right to view them."""
    article = make_draft(title="Work in progress")
    user = make_user(staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_article"))
    client.force_login(user)

    assert "Work in progress" in client.get(article.get_absolute_url()).content.decode()


def test_preview_offers_the_admin_edit_link_only_to_those_who_may_edit(client):
    article = make_draft()
    edit_url = reverse("admin:articles_article_change", args=[article.pk])

    client.force_login(make_article_viewer())
    viewers_preview = client.get(article.get_absolute_url()).content.decode()
    client.force_login(make_editor())
    editors_preview = client.get(article.get_absolute_url()).content.decode()

    assert 'class="preview-banner"' in viewers_preview
    assert edit_url not in viewers_preview
    assert edit_url in editors_preview


def test_staff_see_published_articles_without_preview_banner(client):
    client.force_login(make_user(staff=True))
    response = client.get(make_article().get_absolute_url())
    assert "preview-banner" not in response.content.decode()
    assert "no-cache" not in response.headers.get("Cache-Control", "")


def test_section_tag_and_author_pages_list_only_their_public_articles(client):
    section, tag, author = make_section(name="Culture"), make_tag(name="Theatre"), make_author()
    mine = make_article(title="Opening night", section=section, tags=[tag], author=author)
    make_article(title="Someone else entirely")
    make_draft(title="Hidden draft", section=section, tags=[tag], author=author)
    make_scheduled(title="Tomorrow's review", section=section, tags=[tag], author=author)
    for url in (section.get_absolute_url(), tag.get_absolute_url(), author.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert mine.title in html
        assert "Someone else entirely" not in html
        assert "Hidden draft" not in html
        assert "Tomorrow" not in html


# A section, tag and author made for a story not out yet: their words are the news.
UNANNOUNCED = {
    "section": {"name": "Acme takeover", "slug": "acme-takeover", "description": "Who buys Acme."},
    "tag": {"name": "Merger with Acme", "slug": "merger-with-acme"},
    "author": {"display_name": "Acme Insider", "slug": "acme-insider", "bio": "Buys Acme."},
}


@pytest.mark.parametrize("make", [make_draft, make_scheduled])
@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_a_section_tag_or_author_without_a_public_article_is_a_404_that_names_nothing(
    client, kind, make
):
    """An author added for an embargoed story, a tag given to a scheduled draft: their page
    would tell the news before it is out, through their name and bio, or the tag's own
    "Articles about merger with Acme"."""
    make_owner(kind, article=make, **UNANNOUNCED[kind])
    make_article(title="Old news")  # a site with something public, around the 404

    response = client.get(f"/{kind}/{UNANNOUNCED[kind]['slug']}/")

    assert response.status_code == 404
    assert "Acme" not in response.content.decode()
    assert "acme" not in response.content.decode()


@pytest.mark.parametrize("kind", ["section", "tag", "author"])
def test_a_section_tag_or_author_shows_once_one_of_its_articles_is_public(client, kind):
    owner = make_owner(kind, article=make_draft, **UNANNOUNCED[kind])
    make_scheduled(**({"tags": [owner]} if kind == "tag" else {kind: owner}))
    assert client.get(owner.get_absolute_url()).status_code == 404

    Article.objects.filter(status="draft").update(status="published", published_at=timezone.now())

    response = client.get(owner.get_absolute_url())
    assert response.status_code == 200
    assert "Acme" in response.content.decode()


def test_lists_show_each_articles_approved_comment_count(client):
    """The kept counter (moderation refreshes it): no COUNT per card."""
    section, tag, author = make_section(name="Culture"), make_tag(name="Theatre"), make_author()
    talked_about = make_article(title="Talked about", section=section, tags=[tag], author=author)
    make_article(title="Quiet one", section=section, tags=[tag], author=author)
    for status in ("approved", "approved", "approved", "pending", "spam"):
        make_comment(talked_about, status=status)
    refresh_comment_count(talked_about.pk)
    link = f'<a href="{talked_about.get_absolute_url()}#comments">3 comments</a>'

    for url in (
        "/",
        section.get_absolute_url(),
        tag.get_absolute_url(),
        author.get_absolute_url(),
        "/search/?q=talked",
    ):
        html = client.get(url).content.decode()
        assert html.count(link) == 1, url
        assert html.count("#comments") == 1, url  # none for the article without comments


def test_unknown_section_tag_author_and_article_are_404(client):
    for url in ("/section/nope/", "/tag/nope/", "/author/nope/", "/articles/nope/"):
        assert client.get(url).status_code == 404


@override_settings(ARTICLES_PER_PAGE=1)
def test_list_pages_paginate_and_refuse_bad_pages(client):
    section = make_section()
    make_article(section=section)
    make_article(section=section)
    url = section.get_absolute_url()
    assert client.get(url, {"page": 2}).status_code == 200
    assert client.get(url, {"page": 3}).status_code == 404
    assert client.get(url, {"page": "x"}).status_code == 404


def test_section_page_advertises_its_own_feeds(client):
    section = make_owner("section", slug="sport")
    html = client.get(section.get_absolute_url()).content.decode()
    assert 'type="application/rss+xml"' in html
    assert 'href="/feeds/section/sport/rss/"' in html
    assert 'href="/feeds/section/sport/atom/"' in html


def test_header_lists_sections_in_order(client):
    make_owner("section", name="Zebra news", order=1)
    make_owner("section", name="Alpha news", order=2)
    html = client.get("/").content.decode()
    assert html.index("Zebra news") < html.index("Alpha news")


def header(response):
    """The sections the page's header lists ("" without any), not those its articles show."""
    found = re.search(r'<nav class="section-nav".*?</nav>', response.content.decode(), re.DOTALL)
    return found[0] if found else ""


def test_header_lists_only_the_sections_with_a_public_article(client):
    """The others' pages are 404s (and their names may be news not out yet)."""
    make_owner("section", name="Out now")
    make_owner("section", name="Drafts only", article=make_draft)
    make_owner("section", name="Out tomorrow", article=make_scheduled)
    make_section(name="Nothing yet")
    for path in ("/", "/no/such/page/"):
        sections = re.findall(r'<a href="/section/[^"]+/">([^<]+)</a>', header(client.get(path)))
        assert sections == ["Out now"], path


def test_header_shows_a_new_section_once_its_first_article_is_published(
    client, django_capture_on_commit_callbacks
):
    client.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        section = make_section(name="Brand new section")
    assert "Brand new section" not in header(client.get("/"))
    with django_capture_on_commit_callbacks(execute=True):
        make_article(section=section)
    assert "Brand new section" in header(client.get("/"))


def test_header_shows_a_section_when_its_scheduled_article_goes_live(client, clock):
    """Without a save: the list of sections ends at the next article's time."""
    make_article()  # in a section of its own, listed from the start
    section = make_section(name="Brand new section")
    due = timezone.now() + timedelta(hours=1)
    article = make_scheduled(section=section, published_at=due)
    assert "Brand new section" not in header(client.get("/"))

    # Its time comes, with no save. The pages' clock moves past it; the database's cannot
    # be moved, so the article's time moves back as far instead, without the signals.
    clock.now = due.timestamp()
    Article.objects.filter(pk=article.pk).update(published_at=timezone.now())

    assert "Brand new section" in header(client.get("/"))


def test_header_shows_a_section_renamed_through_another_worker(client):
    """Without Redis each gunicorn worker caches for itself: the worker that saves a section
    can forget its own list of sections, but the others hear of it only through the
    content version (articles/page_cache.py)."""
    section = make_owner("section", name="Old name")
    assert "Old name" in client.get("/").content.decode()

    # Another worker renames it: its signal bumps the version every worker reads.
    Section.objects.filter(pk=section.pk).update(name="New name")
    page_cache.bump_content_version()

    html = client.get("/").content.decode()
    assert "New name" in html
    assert "Old name" not in html


def test_pages_have_title_description_canonical_and_social_tags(client):
    article = make_article(title="Harbour opens", standfirst="Boats are back.")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "<title>Harbour opens — " in html
    assert '<meta name="description" content="Boats are back.">' in html
    assert f'<link rel="canonical" href="http://testserver{article.get_absolute_url()}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:title" content="Harbour opens">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert '<html lang="en">' in html
    assert 'rel="alternate" type="application/atom+xml"' in html


@override_settings(ARTICLES_PER_PAGE=1)
def test_canonical_of_a_later_page_keeps_the_page_number(client):
    make_article()
    make_article()
    html = client.get("/", {"page": 2, "utm_source": "x"}).content.decode()
    assert '<link rel="canonical" href="http://testserver/?page=2">' in html


def test_article_structured_data_is_escaped_news_article(client):
    article = make_article(title="</script><script>alert(1)</script> & more")
    html = client.get(article.get_absolute_url()).content.decode()
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(match.group(1))
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == article.title
    assert data["author"]["name"] == article.author.display_name
    assert "<script>alert" not in html


def test_user_text_is_escaped_everywhere(client):
    author = make_author(display_name="<b>Bold</b>")
    article = make_article(title="<img src=x onerror=alert(1)>", author=author)
    for url in ("/", article.get_absolute_url(), author.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "<img src=x" not in html
        assert "<b>Bold</b>" not in html


def test_robots_txt_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()


def test_not_found_page_is_in_the_site_design(client):
    make_owner("section", name="Politics")
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="masthead"' in html
    assert "Politics" in html
    assert reverse("articles:search") in html


def test_server_error_page_renders_without_request_or_database(django_assert_num_queries):

    with django_assert_num_queries(0):
        response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert 'class="masthead"' in html
    assert "The Newsroom" in html
    assert 'title=" (RSS)"' not in html  # no feed link without the site's name


def test_a_request_from_a_host_the_site_does_not_serve_gets_the_sites_400_page(
    client, django_assert_num_queries
):
    """Django's bad_request view renders 400.html without a request: the site's page, not
    a bare "Bad Request (400)" (the admin's refusals of hand-made filters end here too)."""
    with django_assert_num_queries(0):
        response = client.get("/", headers={"host": "not-ours.example"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "could not be answered" in html
    assert 'class="masthead"' in html
    assert "The Newsroom" in html


def test_pages_rendered_without_a_request_describe_the_site_as_the_others(client, settings):
    """The 400 and 500 pages had an empty description, which search results and link
    previews show as nothing; the 404 page gives the site's own."""
    settings.SITE_DESCRIPTION = "News of the valley"
    description = '<meta name="description" content="News of the valley">'
    assert description in client.get("/no-such-page/").content.decode()
    bad_request = client.get("/", headers={"host": "not-ours.example"})
    assert description in bad_request.content.decode()
    assert description in server_error(RequestFactory().get("/")).content.decode()


def test_lead_image_is_shown_with_its_description_and_served(client):
    article = make_article(lead_image_alt="Hills at dawn")
    article.lead_image.save("hills.jpg", ContentFile(draw_illustration(0)))
    html = client.get(article.get_absolute_url()).content.decode()
    assert f'<img src="{article.lead_image.url}" alt="Hills at dawn">' in html
    assert '<meta property="og:image" content="http://testserver/media/' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    image = client.get(article.lead_image.url)
    image.close()  # the file it streams
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
