"""A reader opens the front page, reads an article and finds it again through search."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from articles import demo
from articles.models import Article
from tests.factories import make_article, make_editor

pytestmark = pytest.mark.django_db(transaction=True)

DAY = timedelta(days=1)
WIDTHS = {"mobile": {"width": 360, "height": 780}, "desktop": {"width": 1440, "height": 1000}}


@pytest.fixture
def site():
    """The demo site, as a newcomer sees it after `make run`."""
    demo.seed(articles=14, now=timezone.now())
    return Article.objects.published()


def test_reader_finds_reads_and_searches_for_an_article(page, live_server, site, screenshot_dir):
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message))
    lead = site.first()

    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(live_server.url)
    expect(page).to_have_title("The Newsroom")
    # (The sections with a public article: 14 leave one of the demo's seven without any.)
    expect(page.get_by_role("navigation", name="Sections")).to_contain_text(lead.section.name)
    page.screenshot(path=screenshot_dir / "reader-home-1440.png", full_page=True)

    page.get_by_role("link", name=lead.title).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(lead.title)
    expect(page.locator(".story__standfirst")).to_have_text(lead.standfirst)
    expect(page.get_by_role("link", name=lead.author.display_name).first).to_be_visible()
    expect(page.get_by_text("min read")).to_be_visible()
    body = page.locator(".story__body")
    expect(body.get_by_role("heading", level=2).first).to_be_visible()
    body.get_by_role("heading", level=2).last.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "reader-article-1440.png", full_page=True)

    page.get_by_role("searchbox", name="Search articles").fill(lead.title)
    page.get_by_role("searchbox", name="Search articles").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Results for")
    results = page.locator(".card__title")
    expect(results.get_by_role("link", name=lead.title)).to_be_visible()
    results.get_by_role("link", name=lead.title).click()
    expect(page).to_have_url(f"{live_server.url}{lead.get_absolute_url()}")

    page.set_viewport_size(WIDTHS["mobile"])
    page.screenshot(path=screenshot_dir / "reader-article-360.png", full_page=True)
    page.goto(live_server.url)
    page.screenshot(path=screenshot_dir / "reader-home-360.png", full_page=True)
    has_sideways_scroll = page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    assert not has_sideways_scroll
    assert console_errors == []  # no CSP violation, no missing file


def test_keyboard_reader_can_skip_to_the_content(page, live_server, site):
    page.goto(live_server.url)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_dark_scheme_follows_the_system_setting(page, live_server, site):
    page.emulate_media(color_scheme="dark")
    page.goto(live_server.url)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 20, 19)"


def test_the_dot_before_a_cards_comment_count_is_outside_its_link(page, live_server, site):
    site.update(comment_count=3)
    page.goto(live_server.url)

    link = page.locator(".card .byline").get_by_role("link", name="3 comments").first
    dot_in_link = link.evaluate("link => getComputedStyle(link, '::before').content")
    dot_before_link = link.evaluate(
        "link => getComputedStyle(link.parentElement, '::before').content"
    )

    assert dot_in_link == "none", "not underlined with the count, nor a part of the link"
    assert dot_before_link == '"·"'


def test_a_cards_date_and_comment_count_are_never_split_over_two_lines(page, live_server, site):
    """The front page's narrow "Top stories" column wrapped "12 / comments" and could wrap
    "28 Nov / 2026": the line breaks between the parts instead."""
    site.update(comment_count=12)
    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(live_server.url)

    parts = page.locator(".card .byline time, .card .byline a[href$='#comments']")
    expect(parts.first).to_be_visible()
    split = parts.evaluate_all(
        "parts => parts.filter(part => part.getClientRects().length > 1)"
        ".map(part => part.textContent)"
    )

    assert parts.count() > 10
    assert split == []


def test_the_article_does_not_jump_down_when_its_lead_image_arrives(page, live_server):
    article = make_article(title="Hills at dawn", lead_image_alt="Hills at dawn")
    article.lead_image.save("hills.jpg", ContentFile(demo.draw_illustration(0)))
    held = []
    page.route(f"**{article.lead_image.url}", lambda route: held.append(route))  # a slow network
    page.set_viewport_size(WIDTHS["mobile"])
    page.goto(f"{live_server.url}{article.get_absolute_url()}", wait_until="domcontentloaded")
    text = page.locator(".story__body")
    before = text.bounding_box()["y"]

    assert len(held) == 1
    held[0].continue_()
    expect(page.get_by_role("img", name="Hills at dawn")).to_have_js_property("complete", True)
    assert page.get_by_role("img", name="Hills at dawn").evaluate("image => image.naturalWidth")
    assert text.bounding_box()["y"] == before


def test_an_arabic_article_reads_right_to_left_in_the_left_to_right_site(
    page, live_server, screenshot_dir
):
    article = make_article(
        title="ارتفاع منسوب النهر",
        standfirst="ارتفعت المياه طوال الليل.",
        body="ارتفع النهر بسرعة.\n\n- السدود صامدة\n\n> قال أحد السكان: لم نر مثل هذا من قبل.",
    )
    page.set_viewport_size(WIDTHS["mobile"])
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    page.screenshot(path=screenshot_dir / "reader-article-rtl-360.png", full_page=True)

    def style(selector, name):
        return page.locator(selector).first.evaluate(f"e => getComputedStyle(e).{name}")

    for part in (".story__title", ".story__standfirst", ".story__body p"):
        assert style(part, "direction") == "rtl", part
    # Bullets on the right need their room on the right.
    assert style(".story__body ul", "paddingRight") != "0px"
    assert style(".story__body ul", "paddingLeft") == "0px"
    for chrome in (".masthead", ".story__meta", ".site-footer"):
        assert style(chrome, "direction") == "ltr", chrome


def test_a_search_in_arabic_reads_right_to_left_in_both_search_boxes(page, live_server):
    page.goto(f"{live_server.url}/search/?q=المحطة")

    for box in page.get_by_role("searchbox").all():
        expect(box).to_have_value("المحطة")
        expect(box).to_have_css("direction", "rtl")


@pytest.mark.parametrize("cached", [False, True], ids=["cache off", "cache on"])
def test_a_section_feed_followed_again_shows_an_article_published_since(
    page, live_server, settings, cached
):
    """A reader whose pages are rendered for them (a signed-in editor, or every reader with
    the cache off) follows a section's feed, an article is published, and they follow the
    feed again: it must show, not a copy their browser kept unasked because the feed was
    dated by its newest item, a day old."""
    settings.READER_CACHE_SECONDS = 600 if cached else 0
    if cached:
        editor = Client()
        editor.force_login(make_editor())
        session = editor.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
    older = make_article(title="Harbour wall repaired", published_at=timezone.now() - DAY)
    Article.objects.filter(pk=older.pk).update(updated_at=timezone.now() - DAY)
    section_page = f"{live_server.url}{older.section.get_absolute_url()}"
    page.goto(section_page)
    page.get_by_role("link", name="Follow this section").click()
    # The address a reader copies from the Follow page into the browser or a feed reader.
    feed = page.get_by_role("textbox", name="RSS feed address").input_value()
    page.goto(feed)
    expect(page.get_by_text("Harbour wall repaired")).to_be_visible()

    make_article(title="Ferry timetable changes", section=older.section)
    page.goto(section_page)
    page.goto(feed)

    expect(page.get_by_text("Ferry timetable changes")).to_be_visible()


@pytest.mark.parametrize("path", ["/sitemap.xml", "/sitemap-articles.xml"])
def test_a_sitemap_opened_in_a_browser_shows_its_tree(page, live_server, site, path):
    """The page's Content-Security-Policy blocked the styles of the browser's own XML viewer:
    the addresses ran together in one line above a tree with "..." in it."""
    blocked = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and blocked.append(message.text),
    )

    response = page.goto(f"{live_server.url}{path}")

    assert response.status == 200
    assert blocked == []
