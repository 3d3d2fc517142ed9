"""The comment form at 320 CSS pixels wide and at 200% zoom: nothing cut off, no sideways scroll.

200% zoom of a 1280 x 720 window is a 640 x 360 CSS-pixel viewport drawn at twice the
density, which is what the browser gives the page when a reader zooms in.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from comments.models import Comment
from comments.notifications import unsubscribe_token
from comments.thread import PENDING_COOKIE
from tests.factories import captcha_answer_on, id_cookie, make_article, make_comment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("commenting")]

SCREENS = {
    "phone-320px": {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 1},
    "zoom-200pc": {"viewport": {"width": 640, "height": 360}, "device_scale_factor": 2},
}

# Every part of the form a reader has to see or use ("Cancel reply" only when it is shown).
FORM_PARTS = (
    "#respond h2, #respond .respond__note, #respond label:not(.field--trap label),"
    " #respond textarea, #respond input:not([type=hidden]):not(.field--trap input),"
    " #respond button:not([hidden]):not([hidden] *), #respond img, #respond .error-summary"
)

OVERFLOW = """parts => {
  const width = document.documentElement.clientWidth;
  const cut = [];
  for (const element of document.querySelectorAll(parts)) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.left < 0 || box.right > width + 0.5) {
      const span = `[${Math.round(box.left)}-${Math.round(box.right)}]`;
      cut.push(`${element.outerHTML.slice(0, 80)} ${span}`);
    }
  }
  return {pageWidth: document.scrollingElement.scrollWidth, viewport: width, cut};
}"""


@pytest.fixture
def discussion():
    """An article whose thread runs as deep as replies go, with a long unbroken link in it."""
    article = make_article(title="New footbridge opens over the river")
    parent = None
    for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson"):
        parent = make_comment(
            article,
            parent=parent,
            name=name,
            body="Photos: https://example.org/a-very-long-path/without-any-breaks/footbridge-at-night.jpg",
        )
    return article, parent


@pytest.fixture(params=SCREENS)
def screen(request, browser):
    """A page on a narrow or zoomed-in screen, and the screen's name for screenshots."""
    context = browser.new_context(**SCREENS[request.param])
    yield request.param, context.new_page()
    context.close()


def assert_fits(page):
    fit = page.evaluate(OVERFLOW, FORM_PARTS)
    assert fit["pageWidth"] <= fit["viewport"], f"the page scrolls sideways: {fit}"
    assert fit["cut"] == [], f"cut off at {fit['viewport']}px: {fit['cut']}"


def test_comment_form_fits_and_works(live_server, discussion, screenshot_dir, screen):
    article, deepest = discussion
    name, page = screen
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond form")
    answer = form.get_by_role("textbox", name="Answer the math question")
    assert_fits(page)

    # Errors first: the summary and the marked fields must fit too.
    form.get_by_role("textbox", name="Comment", exact=True).fill("Seen from the narrow end.")
    form.get_by_role("textbox", name="Name", exact=True).fill("Mary Somerville")
    form.get_by_role("textbox", name="Email", exact=True).fill("mary@example.com")
    answer.fill("999")
    form.get_by_role("button", name="Post Comment").click()
    expect(page.locator("#comment-errors")).to_be_focused()
    assert_fits(page)
    page.screenshot(path=screenshot_dir / f"form-errors-{name}.png", full_page=True)

    # The reply form moved under the deepest comment still fits.
    page.get_by_role("button", name="Reply to Katherine Johnson").click()
    expect(page.locator(f"#comment-{deepest.pk} #respond")).to_be_visible()
    assert_fits(page)
    page.screenshot(path=screenshot_dir / f"reply-form-{name}.png", full_page=True)

    answer.fill(captcha_answer_on(page))
    submit = form.get_by_role("button", name="Post Comment")
    submit.scroll_into_view_if_needed()
    expect(submit).to_be_in_viewport()
    submit.click()

    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    reply = Comment.objects.get(name="Mary Somerville")
    assert reply.parent == deepest
    # The URL is the new page's from its first byte: measured before its stylesheet is in,
    # the long link in the thread would run off the screen.
    page.wait_for_load_state()
    assert_fits(page)
    page.screenshot(path=screenshot_dir / f"awaiting-moderation-{name}.png", full_page=True)


def test_reader_pages_never_scroll_sideways(live_server, discussion, screen):
    article, _ = discussion
    _, page = screen
    for path in ("/", article.section.get_absolute_url(), "/search/?q=footbridge"):
        page.goto(f"{live_server.url}{path}")
        fit = page.evaluate(OVERFLOW, "main a, main input, main button")
        assert fit["pageWidth"] <= fit["viewport"], f"{path} scrolls sideways: {fit}"
        assert fit["cut"] == [], f"{path} cut off: {fit['cut']}"


def test_reply_buttons_are_big_enough_to_tap(live_server, discussion, screen):
    """A Reply button was a line of small text, 16 px tall: WCAG 2.5.8 asks for 24."""
    article, _ = discussion
    _, page = screen
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    heights = page.locator(".comment__reply").evaluate_all(
        "buttons => buttons.map(button => button.getBoundingClientRect().height)"
    )
    assert len(heights) == 4
    assert min(heights) >= 24


def test_the_unsubscribe_button_is_big_enough_to_tap(live_server, discussion, screen):
    """The button a commenter's email leads to was the browser's own, 21 px tall."""
    _, deepest = discussion
    _, page = screen
    page.goto(
        f"{live_server.url}{reverse('comments:unsubscribe', args=[unsubscribe_token(deepest)])}"
    )

    assert page.get_by_role("button", name="Unsubscribe").bounding_box()["height"] >= 24


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 800}, {"width": 360, "height": 740}], ids=str
)
def test_ones_own_waiting_comment_stands_at_its_level(
    live_server, browser, screenshot_dir, viewport
):
    """The bar that marks a commenter's own comment awaiting moderation pushed its name and
    text in as far as a reply's: at the top level it read as a reply, a reply as one level
    deeper. Its name and text start where an approved comment's at its level start."""
    article = make_article()
    first = make_comment(article, name="Ada Lovelace")
    reply = make_comment(article, parent=first, name="Grace Hopper")
    own = [
        make_comment(article, parent=parent, name="Mary Somerville", status=Comment.Status.PENDING)
        for parent in (first, None)
    ]
    context = browser.new_context(viewport=viewport)
    context.add_cookies(
        [{"name": PENDING_COOKIE, "value": id_cookie(*own), "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    # The whole width: the bar stands left of the comments' column.
    page.screenshot(
        path=screenshot_dir / f"own-waiting-comment-{viewport['width']}px.png", full_page=True
    )

    def left_edges(comment):
        parts = (f"#comment-{comment.pk} .avatar", f"#comment-{comment.pk} .comment__text")
        return [page.locator(part).first.bounding_box()["x"] for part in parts]

    own_reply, own_top_level = own
    expect(page.locator(".comment--pending")).to_have_count(2)
    assert left_edges(own_reply) == left_edges(reply)
    assert left_edges(own_top_level) == left_edges(first)
    context.close()
