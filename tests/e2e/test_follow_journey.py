"""A reader who wants to follow a section clicks its "Follow" link and gets a page to read,
with the feed's address to copy, not a feed's raw XML."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_article, make_section

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def harbour():
    section = make_section(name="Harbour", slug="harbour")
    make_article(title="Ferry returns to the island", section=section)
    return section


def test_reader_follows_a_section_from_its_page(page, live_server, harbour, screenshot_dir):
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/section/harbour/")
    # Feed readers and browser extensions still find the feed itself in the page's head.
    expect(page.locator('head link[type="application/rss+xml"]').last).to_have_attribute(
        "href", "/feeds/section/harbour/rss/"
    )

    page.get_by_role("link", name="Follow this section").click()

    expect(page).to_have_url(f"{live_server.url}/section/harbour/follow/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow Harbour")
    expect(page.get_by_role("heading", name="What is a feed?")).to_be_visible()
    feed_url = f"{live_server.url}/feeds/section/harbour/rss/"
    address = page.get_by_role("textbox", name="RSS feed address")
    expect(address).to_have_value(feed_url)
    expect(page.get_by_role("link", name="Ferry returns to the island")).to_be_visible()
    page.screenshot(path=screenshot_dir / "follow-section.png", full_page=True)

    page.get_by_role("button", name="Copy the RSS address").click()

    expect(page.get_by_role("status")).to_have_text(
        "Copied: the RSS feed address is ready to paste."
    )
    assert page.evaluate("navigator.clipboard.readText()") == feed_url
    assert console_errors == []


def test_without_javascript_the_address_is_there_to_select(
    page_without_javascript, live_server, harbour
):
    page = page_without_javascript
    page.goto(f"{live_server.url}/section/harbour/")

    page.get_by_role("link", name="Follow this section").click()

    address = page.get_by_role("textbox", name="Atom feed address")
    expect(address).to_have_value(f"{live_server.url}/feeds/section/harbour/atom/")
    expect(page.get_by_role("button", name="Copy the Atom address")).to_be_hidden()
