"""A reader who uses only the keyboard leaves a comment: Tab, typing, Enter and Space, no mouse."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from comments.captcha import WRONG_ANSWER
from comments.models import Comment
from tests.factories import captcha_answer_on, make_article, make_comment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("commenting")]

MAX_TABS = 60

FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    tag: element.tagName.toLowerCase(),
    id: element.id,
    name: element.getAttribute("name") || "",
    text: (element.getAttribute("aria-label") || element.textContent || "").trim().slice(0, 60),
    programmatic: element.tabIndex < 0,
    ring: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
      || style.boxShadow !== "none",
    inMain: Boolean(element.closest("main")),
    onScreen: (() => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && box.top >= 0 && box.bottom <= innerHeight;
    })(),
  };
}"""


def focus(page):
    return page.evaluate(FOCUSED)


def tab_until(page, is_target, visited):
    """Press Tab until `is_target(focused)`; every stop must show where the focus is."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = focus(page)
        visited.append(focused)
        assert focused["ring"], f"no visible focus indicator on {focused}"
        assert focused["onScreen"], f"focused element scrolled out of view: {focused}"
        if is_target(focused):
            return focused
    raise AssertionError(f"not reached in {MAX_TABS} tabs; focus went to {visited[-5:]}")


def named(name):
    return lambda focused: focused["name"] == name


def test_keyboard_only_reader_comments_after_fixing_a_wrong_answer(page, live_server):
    article = make_article(title="New footbridge opens")
    ada = make_comment(article, name="Ada Lovelace", body="Finally a way across.")
    make_comment(article, parent=ada, name="Grace Hopper", body="And it is lit at night.")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    visited = []

    # The first Tab shows the skip link; Enter jumps past the masthead into the article.
    skip = tab_until(page, lambda focused: True, visited)
    assert skip["text"] == "Skip to content"
    page.keyboard.press("Enter")
    assert focus(page)["id"] == "main"
    assert tab_until(page, lambda focused: True, visited)["inMain"]

    # The thread's reply links are on the way to the form.
    tab_until(page, lambda focused: focused["text"] == "Reply to Ada Lovelace", visited)
    tab_until(page, lambda focused: focused["text"] == "Reply to Grace Hopper", visited)
    tab_until(page, named("body"), visited)
    page.keyboard.type("Crossed it twice today.")
    tab_until(page, named("name"), visited)
    page.keyboard.type("Mary Somerville")
    tab_until(page, named("email"), visited)
    page.keyboard.type("mary@example.com")

    # The question can be heard, or swapped for another one, without leaving the keyboard.
    if settings.CAPTCHA_FLITE_PATH:
        listen = tab_until(page, lambda focused: focused["tag"] == "a", visited)
        assert listen["text"] == "Listen to the question (opens in a new tab)"
        audio_url = page.evaluate("document.activeElement.href")
        assert page.request.get(audio_url).headers["content-type"] == "audio/wav"
    tab_until(page, named("captcha_1"), visited)
    page.keyboard.type("1")
    tab_until(page, named("new_question"), visited)
    page.keyboard.press("Space")
    answer = page.get_by_role("textbox", name="Answer the math question")
    expect(answer).to_be_focused()
    expect(answer).to_have_value("")

    # A slip of the finger, sent with Enter from the answer box.
    page.keyboard.type(str(int(captcha_answer_on(page)) + 1))
    page.keyboard.press("Enter")
    summary = page.locator("#comment-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(WRONG_ANSWER)
    assert focus(page)["ring"], "the focused error summary shows no focus indicator"
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "Crossed it twice today."
    )
    assert not Comment.objects.filter(name="Mary Somerville").exists()

    # From the summary, its link leads straight to the answer box.
    tab_until(page, lambda focused: focused["tag"] == "a", visited)
    page.keyboard.press("Enter")
    expect(answer).to_be_focused()
    page.keyboard.type(captcha_answer_on(page))
    tab_until(page, lambda focused: focused["text"] == "Post Comment", visited)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    comment = Comment.objects.get(name="Mary Somerville")
    assert page.url.endswith(f"#comment-{comment.pk}")
    expect(page.locator(f"#comment-{comment.pk}")).to_contain_text(
        "Your comment is awaiting moderation."
    )
    assert comment.body == "Crossed it twice today."
    assert comment.email == "mary@example.com"


def test_keyboard_reply_link_brings_the_form_to_the_comment(page, live_server):
    article = make_article(title="Library hours extended")
    ada = make_comment(article, name="Ada Lovelace", body="Great news for students.")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    visited = []

    tab_until(page, lambda focused: focused["text"] == "Reply to Ada Lovelace", visited)
    page.keyboard.press("Enter")

    form = page.locator(f"#comment-{ada.pk} #respond")
    expect(form.get_by_role("heading", name="Reply to Ada Lovelace")).to_be_visible()
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_be_focused()
    page.keyboard.type("Weekends too, please.")
    tab_until(page, named("name"), visited)
    page.keyboard.type("Grace Hopper")
    tab_until(page, named("email"), visited)
    page.keyboard.type("grace@example.com")
    tab_until(page, named("captcha_1"), visited)
    page.keyboard.type(captcha_answer_on(page))
    page.keyboard.press("Enter")

    expect(page.locator(f"#comment-{ada.pk} .comment--pending")).to_contain_text(
        "Your comment is awaiting moderation."
    )
    reply = Comment.objects.get(name="Grace Hopper")
    assert reply.parent == ada


def test_keyboard_without_javascript_new_question_errors_and_reply(
    page_without_javascript, live_server
):
    page = page_without_javascript
    article = make_article(title="Market moves indoors")
    make_comment(article, name="Ada Lovelace", body="About time.")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    visited = []
    answer = page.get_by_role("textbox", name="Answer the math question")

    tab_until(page, named("body"), visited)
    page.keyboard.type("Kept through every reload.")
    tab_until(page, named("name"), visited)
    page.keyboard.type("Mary Somerville")
    tab_until(page, named("email"), visited)
    page.keyboard.type("mary@example.com")
    tab_until(page, named("new_question"), visited)
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"#id_captcha_1$"))
    expect(answer).to_be_focused()

    page.keyboard.type("1000")  # no question here has that answer
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#comment-errors$"))
    expect(page.locator("#comment-errors")).to_be_focused()
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "Kept through every reload."
    )
    expect(page.get_by_role("textbox", name="Email", exact=True)).to_have_value("mary@example.com")

    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    tab_until(page, lambda focused: focused["text"] == "Reply to Ada Lovelace", visited)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/comments/post/\d+/#respond$"))
    expect(page.get_by_role("heading", name="Reply to Ada Lovelace")).to_be_visible()
    # The next Tab continues from the form the page came back at, not from the top of the page.
    assert tab_until(page, lambda focused: True, visited)["text"] == "Cancel reply"
