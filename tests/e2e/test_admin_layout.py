"""The editors' article list on laptop and desktop screens, with headlines, sections and
bylines of the lengths a newsroom writes: every column in sight. The comments list on a
phone, a tablet and a laptop: no wider than the window, the Approve and Spam buttons in sight."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.utils import timezone

from articles.models import Article
from comments.models import Comment
from tests.factories import (
    PASSWORD,
    make_article,
    make_author,
    make_comment,
    make_editor,
    make_section,
)
from tests.hostile import LETTER_LEFT, OVERRIDING_ENDINGS

pytestmark = pytest.mark.django_db(transaction=True)

HEADLINES = [
    "City council approves a £42 million plan to rebuild the flood defences along the river",
    "Heatwave warning extended as temperatures stay above 35°C for a fifth consecutive day",
    "Interview: the head teacher who turned round the county's worst-rated secondary school",
    "What the new parking rules mean for residents, visitors and businesses in the old town",
    "Live updates: polling stations open across the region in the closest election in years",
]
SECTIONS = ["Environment & Climate", "Politics", "Education", "Business", "Local Elections"]
AUTHORS = ["Alexandra Fitzgerald-Montgomery", "Oluwaseun Adebayo-Williams", "Li Wei"]

# The list's header cells that reach past the list's visible box or past the window.
COLUMNS_OUT_OF_SIGHT = """() => {
  const results = document.querySelector("#changelist .results").getBoundingClientRect();
  const edge = Math.min(results.right, document.documentElement.clientWidth) + 0.5;
  return [...document.querySelectorAll("#result_list thead th")]
    .map(th => [th.innerText.trim(), Math.round(th.getBoundingClientRect().right)])
    .filter(([, right]) => right > edge)
    .map(([name, right]) => `${name} [${right} > ${edge}]`);
}"""
# The rows' Spam buttons that reach past the list's visible box or past the window.
SPAM_OUT_OF_SIGHT = """() => {
  const results = document.querySelector("#changelist .results").getBoundingClientRect();
  const edge = Math.min(results.right, document.documentElement.clientWidth) + 0.5;
  return [...document.querySelectorAll("#result_list .comment-decision-spam")]
    .filter(button => button.getBoundingClientRect().right > edge).length;
}"""
LIST_COMES_FIRST = """filters => filters.getBoundingClientRect().top
  > document.querySelector("#result_list").getBoundingClientRect().top"""
PAGE_WIDTHS = "() => [document.scrollingElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.fixture
def newsroom_articles():
    now = timezone.now()
    for number, headline in enumerate(HEADLINES):
        make_article(
            title=headline,
            section=make_section(name=SECTIONS[number]),
            author=make_author(display_name=AUTHORS[number % len(AUTHORS)]),
            status=Article.Status.DRAFT if number == 3 else Article.Status.PUBLISHED,
            published_at=now + timedelta(days=2) if number == 4 else now - timedelta(hours=number),
        )


def signed_in_as_edna(browser, live_server, path, *, width=1280, height=900):
    """A page of the admin at `path`, as Edna, an editor, sees it in a window this size."""
    make_editor("edna")
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(f"{live_server.url}/admin/login/?next={path}")
    page.get_by_label("Username").fill("edna")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return page


def article_list(browser, live_server, width):
    page = signed_in_as_edna(browser, live_server, "/admin/articles/article/", width=width)
    page.wait_for_selector("#result_list")
    return page


@pytest.mark.parametrize("width", [1024, 1280, 1440])
def test_article_list_shows_every_column_beside_the_menu_and_filters(
    browser, live_server, newsroom_articles, screenshot_dir, width
):
    """At 1280 px the last columns (publication date, pending comments) were out of sight,
    behind a sideways scroll of the list; at 1024 px, a laptop's, they still were."""
    page = article_list(browser, live_server, width)
    page.screenshot(path=screenshot_dir / f"admin-articles-{width}px.png", full_page=True)

    page_width, window_width = page.evaluate(PAGE_WIDTHS)
    assert page.evaluate(COLUMNS_OUT_OF_SIGHT) == []
    assert page_width <= window_width
    page.context.close()


@pytest.mark.parametrize("width", [320, 360, 390, 768, 1024])
def test_comment_queue_keeps_its_decision_buttons_in_sight_on_phone_tablet_and_laptop(
    browser, live_server, screenshot_dir, width
):
    """Beside the menu and the filters the list had 160 px at 768 px wide and 415 px at
    1024: the Approve and Spam buttons were behind a sideways scroll, and at 768 px the
    editor's longest action widened the whole page. On a phone Spam was out of sight."""
    article = make_article(title=HEADLINES[0])
    for name in AUTHORS:
        make_comment(
            article,
            name=name,
            email=f"{name.lower().replace(' ', '.')}@example.com",
            url="https://example.org/a-commenters-website-with-a-long-address",
            body="The flood defences along the river were promised ten years ago.",
            status=Comment.Status.PENDING,
        )
    page = signed_in_as_edna(browser, live_server, "/admin/comments/comment/", width=width)
    page.wait_for_selector("#result_list")
    page.screenshot(path=screenshot_dir / f"admin-comments-{width}px.png", full_page=True)

    if width < 768:  # no menu: the filters under the list, as Django puts them on a phone
        assert page.locator("#changelist-filter").evaluate(LIST_COMES_FIRST)
    out_of_sight = page.evaluate(COLUMNS_OUT_OF_SIGHT)
    assert not [column for column in out_of_sight if column.startswith(("COMMENT", "QUICK"))]
    assert page.evaluate(SPAM_OUT_OF_SIGHT) == 0
    page_width, window_width = page.evaluate(PAGE_WIDTHS)
    assert page_width <= window_width
    page.context.close()


def test_a_comment_deep_in_a_long_exchange_reads_in_lines_of_words_on_a_phone(
    browser, live_server, screenshot_dir
):
    """Each of the thread's ten nested levels took 26 px of a 360 px phone (15.6 px of indent
    and the admin's 10 px right padding of a list): the comment ten levels down was a column
    of 60 px, its name, "in reply to" and text one word to a line."""
    article = make_article(title=HEADLINES[0])
    parent = None
    for level in range(12):
        parent = make_comment(
            article, parent=parent, name=f"{AUTHORS[level % len(AUTHORS)]} {level}"
        )
    page = signed_in_as_edna(
        browser, live_server, f"/admin/comments/comment/{parent.pk}/change/", width=360, height=800
    )
    current = page.locator(".comment-thread-current")
    current.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "admin-comment-deep-thread-360px.png")

    assert current.bounding_box()["width"] >= 200
    page_width, window_width = page.evaluate(PAGE_WIDTHS)
    assert page_width <= window_width
    page.context.close()


# Where the moderators' thread line of the comment shows its parts, left to right.
THREAD_LINE_ORDER = """line => {
  const left = selector => line.querySelector(selector).getBoundingClientRect().left;
  return {
    name: left(":scope > a"),
    answers: left(":scope > .comment-thread-answers"),
    status: left(":scope > .comment-status"),
    time: left(":scope > time"),
  };
}"""


@pytest.mark.parametrize("ending", OVERRIDING_ENDINGS)
def test_a_name_ending_in_a_right_to_left_override_leaves_the_thread_line_in_order(
    browser, live_server, ending
):
    """The public form takes a name ending in U+202E (a format character, not a control),
    and the public page isolates names; the moderators' thread did not: the override ran on
    through the rest of the line, which read "...devorppA" and the date backwards."""
    article = make_article(title=HEADLINES[0])
    parent = make_comment(article, name=f"Ada{ending}")
    for level in range(10):  # ten levels nest; the eleventh reply says whom it answers
        parent = make_comment(article, parent=parent, name=f"Grace {level}{ending}")
    page = signed_in_as_edna(browser, live_server, f"/admin/comments/comment/{parent.pk}/change/")

    order = page.locator(".comment-thread-current").evaluate(THREAD_LINE_ORDER)

    assert order["name"] < order["answers"] < order["status"] < order["time"], order
    page.context.close()


# Where the first and the last letter of the excerpt after the "In reply to" link show.
REPLY_EXCERPT_ENDS = f"""field => {{
  const excerpt = field.querySelector("a").nextSibling;
  const left = {LETTER_LEFT};
  return {{first: left(excerpt, 2), last: left(excerpt, excerpt.length - 1)}};
}}"""


@pytest.mark.parametrize("ending", OVERRIDING_ENDINGS)
def test_a_name_ending_in_a_right_to_left_override_leaves_the_reply_s_excerpt_in_order(
    browser, live_server, ending
):
    """The "In reply to" line names the comment answered, then quotes it: a name ending in
    U+202E ran on through the quote, which read backwards ("tniop dooG")."""
    article = make_article(title=HEADLINES[0])
    parent = make_comment(article, name=f"Ada{ending}", body="Good point")
    reply = make_comment(article, parent=parent)
    page = signed_in_as_edna(browser, live_server, f"/admin/comments/comment/{reply.pk}/change/")

    ends = page.locator(".field-in_reply_to .readonly").evaluate(REPLY_EXCERPT_ENDS)

    assert ends["first"] < ends["last"], ends
    page.context.close()


# Where a word of a message shows, and its closing full stop.
MESSAGE_WORD_AND_STOP = f"""(message, word) => {{
  const text = [...message.childNodes].find(node => node.textContent.includes(word));
  const left = {LETTER_LEFT};
  const words = text.textContent;
  return {{word: left(text, words.indexOf(word)), stop: left(text, words.lastIndexOf("."))}};
}}"""


@pytest.mark.parametrize("ending", OVERRIDING_ENDINGS)
def test_a_name_ending_in_a_right_to_left_override_leaves_the_decision_s_message_in_order(
    browser, live_server, ending
):
    """A decision's message names the commenter, then says what was decided: a name ending
    in U+202E ran on through the rest of the sentence, which read ".maps sa dekram"."""
    comment = make_comment(make_article(title=HEADLINES[0]), name=f"Ada{ending}", status="pending")
    page = signed_in_as_edna(browser, live_server, f"/admin/comments/comment/{comment.pk}/change/")
    page.get_by_role("button", name="Spam", exact=True).click()

    message = page.locator(".messagelist li", has_text="marked as spam")
    ends = message.evaluate(MESSAGE_WORD_AND_STOP, "marked")

    assert ends["word"] < ends["stop"], ends
    page.context.close()


@pytest.mark.parametrize("ending", OVERRIDING_ENDINGS)
def test_a_name_ending_in_a_right_to_left_override_leaves_django_s_saved_message_in_order(
    browser, live_server, ending
):
    """Django's message after a save names the comment (Comment.__str__), then says it was
    changed: a name ending in U+202E ran on through the rest of the sentence, which read
    ".yllufsseccus degnahc saw"."""
    comment = make_comment(make_article(title=HEADLINES[0]), name=f"Ada{ending}", body="Teh typo.")
    page = signed_in_as_edna(browser, live_server, f"/admin/comments/comment/{comment.pk}/change/")
    page.get_by_label("Body").fill("The typo.")
    page.get_by_role("button", name="Save", exact=True).click()

    message = page.locator(".messagelist li", has_text="was changed successfully")
    ends = message.evaluate(MESSAGE_WORD_AND_STOP, "changed")

    assert ends["word"] < ends["stop"], ends
    page.context.close()


def test_an_old_entry_s_page_leaves_its_heading_in_order(browser, live_server):
    """Django heads an action log entry's page "Changed “...” — Approved.": a name recorded
    before comments isolated it, ending in U+202E, read "Changed “Comment by
    Mallory.devorppA — ”"."""
    comment = make_comment(make_article(title=HEADLINES[0]), name="Mallory\u202e")
    editor = make_editor("eddie")
    LogEntry.objects.log_actions(
        user_id=editor.pk, queryset=[comment], action_flag=CHANGE, change_message="Approved."
    )
    LogEntry.objects.update(object_repr="Comment by Mallory\u202e")
    entry = LogEntry.objects.get()
    page = signed_in_as_edna(browser, live_server, f"/admin/admin/logentry/{entry.pk}/change/")

    ends = page.locator("#content h2").evaluate(MESSAGE_WORD_AND_STOP, "Approved")

    assert ends["word"] < ends["stop"], ends
    page.context.close()
