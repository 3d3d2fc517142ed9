"""A reader prints an article: the story and its comments on paper, not the site's controls."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_article, make_comment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("commenting")]

# getComputedStyle's colour, as the largest of its red, green and blue (0 black, 255 white).
BRIGHTNESS = """element => Math.max(
  ...getComputedStyle(element).color.match(/[\\d.]+/g).slice(0, 3).map(Number)
)"""


@pytest.fixture
def printed(browser, live_server):
    """An article with a reply, open in a browser set to dark mode, as a printer sees it."""
    article = make_article(title="New footbridge opens over the river")
    make_comment(
        article,
        parent=make_comment(article, name="Ada Lovelace", body="Lovely bridge."),
        name="Grace Hopper",
        body="Agreed.",
    )
    make_article(section=article.section, title="Older news")  # the previous article's link
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.emulate_media(media="print")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    yield page
    context.close()


def test_a_printed_article_leaves_out_the_forms_buttons_and_links_to_elsewhere(printed):
    expect(printed.locator(".story__title")).to_be_visible()
    expect(printed.get_by_text("Lovely bridge.")).to_be_visible()
    expect(printed.get_by_text("Agreed.")).to_be_visible()
    for control in (
        printed.get_by_role("search"),
        printed.get_by_role("navigation", name="Sections"),
        printed.get_by_role("navigation", name="Previous and next articles"),
        printed.get_by_role("heading", name="Leave a Reply"),
        printed.locator("#comment-form"),
        printed.get_by_role("button", name="Reply").first,
        printed.get_by_role("link", name="Front page"),
    ):
        expect(control).to_be_hidden()


def test_a_printed_article_is_dark_ink_on_paper_when_the_screen_is_in_dark_mode(printed):
    """Printers leave out background colours: the dark scheme's light text would print pale
    grey on white."""
    for text in (
        printed.locator(".story__title"),
        printed.locator(".story__body p").first,
        printed.get_by_text("Agreed."),
    ):
        assert text.evaluate(BRIGHTNESS) < 100
