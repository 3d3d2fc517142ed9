"""What editors and commenters may legally type must not break the page a reader sees.

A 300-letter word, an address as long, a name without a space, a wide table, a long line of
code, forty tags, a name in Arabic: on a 360 px phone, nothing runs off the screen, and the
words around them stay readable and in order.
"""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from tests.factories import make_article, make_author, make_comment, make_tag
from tests.hostile import LETTER_LEFT, OVERRIDING_ENDINGS

pytestmark = pytest.mark.django_db(transaction=True)

LONG_WORD = ("Donaudampfschifffahrtsgesellschaftskapitän" * 8)[:300]
LONG_URL = ("https://example.org/" + "a-very-long-path-without-any-break" * 9)[:300]
WIDE_TABLE = "| a | b | c | d | e | f |\n" + "|---" * 6 + "|\n" + "| projected cost " * 6 + "|"

PHONE = {"viewport": {"width": 360, "height": 740}}

# Everything a reader reads or uses in the page, and the width the page itself takes.
OFF_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  const off = [];
  for (const element of document.querySelectorAll("main :is(a, button, input, p, td)")) {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && (box.left < -0.5 || box.right > width + 0.5)) {
      const span = `[${Math.round(box.left)}-${Math.round(box.right)}]`;
      off.push(`${element.textContent.trim().slice(0, 40)} ${span}`);
    }
  }
  return {pageWidth: document.scrollingElement.scrollWidth, viewport: width, off};
}"""


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def hostile_article():
    tags = [make_tag(name=f"Topic {number}") for number in range(36)]
    tags += [make_tag(name=f"Unbrokentagname{number}" * 6) for number in range(4)]
    article = make_article(
        title="Council approves the riverside plan",
        body=(
            f"A long word: {LONG_WORD}.\n\nA long address: <{LONG_URL}>\n\n{WIDE_TABLE}\n\n"
            f"```\ntotal = {'1234567890' * 20}\n```"
        ),
        tags=tags,
    )
    first = make_comment(article, name="Ada Lovelace", body=f"A long word: {LONG_WORD}")
    reply = make_comment(article, parent=first, name="X" * 100, url=LONG_URL[:200], body=LONG_URL)
    make_comment(article, parent=reply, name="Grace Hopper", body=f"{LONG_WORD} 🎉 " * 3)
    return article


def test_long_words_tables_and_tags_stay_within_a_phone_screen(
    live_server, hostile_article, phone, screenshot_dir
):
    phone.goto(f"{live_server.url}{hostile_article.get_absolute_url()}")
    fit = phone.evaluate(OFF_SCREEN)
    phone.screenshot(path=screenshot_dir / "hostile-article-360px.png", full_page=True)
    assert fit["pageWidth"] <= fit["viewport"], f"the article scrolls sideways: {fit}"
    assert fit["off"] == [], f"cut off at {fit['viewport']}px: {fit['off']}"


def test_headlines_with_a_long_word_stay_within_a_phone_screen(live_server, phone):
    """German makes words this long, and a headline may quote a web address: the front
    page's lead story and its list of top stories, and the previous and next links of an
    article beside them, wrap the word rather than widen the page."""
    make_article(title="Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz repealed")
    make_article(title="Readers ask about www.harbourboard-consultation-2027.example.org")
    beside = make_article(title="Council approves the riverside plan")
    for path in ("/", beside.get_absolute_url()):
        phone.goto(f"{live_server.url}{path}")
        fit = phone.evaluate(OFF_SCREEN)
        assert fit["pageWidth"] <= fit["viewport"], f"{path} scrolls sideways: {fit}"
        assert fit["off"] == [], f"{path} cut off at {fit['viewport']}px: {fit['off']}"


def test_a_long_line_of_code_can_be_read_without_a_scrolling_box(
    live_server, hostile_article, phone
):
    """A box that scrolls sideways is out of reach for a keyboard in most browsers: axe's
    "scrollable-region-focusable". The line wraps instead."""
    phone.goto(f"{live_server.url}{hostile_article.get_absolute_url()}")
    code = phone.locator("main pre")
    assert code.evaluate("pre => pre.scrollWidth <= pre.clientWidth"), "the line is cut off"
    results = Axe().run(phone, options={"runOnly": ["scrollable-region-focusable"]})
    assert results.response["violations"] == []


# The left edges of the name, and of the day and the month in the byline's date.
BYLINE_ORDER = """card => {
  const name = card.querySelector("a[rel=author]").getBoundingClientRect();
  const date = card.querySelector(".byline time").firstChild;
  const left = (start, end) => {
    const range = document.createRange();
    range.setStart(date, start);
    range.setEnd(date, end);
    return range.getBoundingClientRect().left;
  };
  return {name: name.left, nameEnd: name.right, day: left(0, 2), month: left(3, 6)};
}"""


def test_an_author_name_in_arabic_leaves_the_date_after_it_and_in_order(live_server, page):
    """Unisolated, the name's right-to-left run took the date's day with it: a reader saw
    "By 12 · مريم الحسيني Nov 2026"."""
    published = (timezone.localtime() - timedelta(days=40)).replace(day=12, hour=10)
    make_article(
        title="Riverside plan approved",
        author=make_author(display_name="مريم الحسيني"),
        published_at=published,
    )
    page.goto(f"{live_server.url}/")
    lead = page.locator("article").filter(has_text="Riverside plan approved").first
    order = lead.evaluate(BYLINE_ORDER)
    assert order["nameEnd"] <= order["day"] < order["month"], order


def test_each_paragraph_of_a_comment_in_two_languages_reads_its_own_way(live_server, page):
    """dir="auto" on the comment takes its direction from the first paragraph alone: an
    Arabic paragraph after an English one was laid out left to right, its question mark
    at the wrong end."""
    article = make_article()
    make_comment(article, body="The English first.\n\nمتى تُبنى المحطة؟")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")

    def text_edges(paragraph):
        return paragraph.evaluate(
            """p => { const range = document.createRange(); range.selectNodeContents(p);
              const text = range.getBoundingClientRect(), box = p.getBoundingClientRect();
              return {left: text.left - box.left, right: box.right - text.right}; }"""
        )

    english, arabic = page.locator(".comment__text p").all()
    assert text_edges(english)["left"] < 1
    assert text_edges(arabic)["right"] < 1


# For each part of the first byline, whether it starts a line, and how far its words start
# from the left edge of the headline above.
BYLINE_LINES = """card => {
  const headline = card.querySelector("h1, h2, h3").getBoundingClientRect().left;
  let lastTop = -Infinity;
  return [...card.querySelector(".byline").children].map(part => {
    const range = document.createRange();
    range.selectNodeContents(part);
    const words = range.getClientRects()[0];
    const startsLine = words.top > lastTop + 1;
    lastTop = words.top;
    return {text: part.textContent.trim(), startsLine, indent: Math.round(words.left - headline)};
  });
}"""


def test_a_byline_wrapped_on_a_phone_starts_its_second_line_flush_and_without_a_dot(
    live_server, phone
):
    """The "·" between the parts began the wrapped line, pushing "3 comments" in under
    the name above it."""
    article = make_article(
        title="Riverside plan approved",
        author=make_author(display_name="Maximiliana Featherstonehaugh-Wright"),
        comment_count=3,
    )
    phone.goto(f"{live_server.url}{article.section.get_absolute_url()}")

    card = phone.locator("article").filter(has_text="Riverside plan approved").first
    parts = card.evaluate(BYLINE_LINES)

    assert [part["text"] for part in parts][-1] == "3 comments"
    line_starts = [part for part in parts if part["startsLine"]]
    assert len(line_starts) > 1, parts  # the byline does wrap on this phone
    assert all(part["indent"] == 0 for part in line_starts), parts


@pytest.mark.parametrize("width", [360, 1280])
def test_an_article_s_byline_starts_flush_with_its_headline(live_server, browser, width):
    """The article's own byline kept the blank slot of its first, hidden "·": "By" stood
    indented under the headline and standfirst."""
    article = make_article(
        title="Riverside plan approved",
        author=make_author(display_name="Maximiliana Featherstonehaugh-Wright"),
        comment_count=3,
    )
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}{article.get_absolute_url()}")

    parts = page.locator(".story__header").evaluate(BYLINE_LINES)

    line_starts = [part for part in parts if part["startsLine"]]
    assert line_starts[0]["text"].startswith("By"), parts
    assert all(part["indent"] == 0 for part in line_starts), parts


# Where a comment's line shows its name, whom it answers, and its date's first and last
# letters.
COMMENT_LINE_ORDER = f"""header => {{
  const date = header.querySelector("time").firstChild;
  const left = {LETTER_LEFT};
  const answers = header.querySelector(".comment__answers");
  return {{
    name: header.querySelector(".comment__author").getBoundingClientRect().left,
    answers: answers && answers.getBoundingClientRect().left,
    dateStart: left(date, 0),
    dateEnd: left(date, date.length - 1),
  }};
}}"""


@pytest.mark.parametrize("ending", OVERRIDING_ENDINGS)
def test_a_name_ending_in_a_right_to_left_override_leaves_the_comment_line_in_order(
    live_server, page, ending
):
    """Without the stylesheet (one that failed to load, a reader view) the comment's line
    is one line of text: a name ending in U+2069 or U+2029 and an override left its <bdi>,
    and the date after it read "03:01 ta 6202 rebmeceD 1"."""
    article = make_article()
    parent = make_comment(article, name=f"Ada{ending}")
    for level in range(10):  # ten levels nest; the eleventh reply says whom it answers
        parent = make_comment(article, parent=parent, name=f"Grace {level}{ending}")
    page.route("**/*.css", lambda route: route.abort())
    page.goto(f"{live_server.url}{article.get_absolute_url()}")

    first, last = page.locator(".comment__meta").first, page.locator(".comment__meta").last
    first_line, last_line = first.evaluate(COMMENT_LINE_ORDER), last.evaluate(COMMENT_LINE_ORDER)

    assert first_line["name"] < first_line["dateStart"] < first_line["dateEnd"], first_line
    assert last_line["answers"] is not None
    assert last_line["name"] < last_line["answers"] < last_line["dateStart"], last_line
    assert last_line["dateStart"] < last_line["dateEnd"], last_line
