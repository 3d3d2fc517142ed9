"""Shared pieces of the hostile-input tests: what attackers type, and what a page shows.

The strategies mix plain arbitrary unicode (control characters included) with the strings
that break web apps in practice (markup, template syntax, SQL, bidi overrides, huge values).
"""

import operator
import unicodedata
from html.parser import HTMLParser

from hypothesis import strategies as st

# Elements that never have content, so never a matching end tag.
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"}
VOID_ELEMENTS |= {"source", "track", "wbr"}

# How a commenter's name may try to turn around what follows it: a right-to-left override
# at its end, or after a U+2069 (pop directional isolate) or a U+2029 (paragraph
# separator), which the public form takes and which end an isolate around the name early,
# or before an isolate it opens and leaves open (U+2066), which takes the end of the
# isolate around the name for its own.
OVERRIDING_ENDINGS = ["\u202e", "\u2069\u202e", "\u2029\u202e", "\u202e\u2066"]

# A JavaScript function for the browser tests: how far from the window's left edge the
# letter at `index` of a text node shows.
LETTER_LEFT = """(text, index) => {
    const range = document.createRange();
    range.setStart(text, index);
    range.setEnd(text, index + 1);
    return range.getBoundingClientRect().left;
  }"""

TRICKY_PIECES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><b>",
    "' OR 1=1 --",
    "{{ request }}",
    "{% debug %}",
    "&amp;",
    "&lt;",
    "&#0;",
    "javascript:alert(1)",
    "https://example.com/?a=<b>&c='d'",
    "www.example.com",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\n\n",
    "\t",
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200b",  # zero-width space
    "\ufeff",  # byte order mark
    "\u2028",  # line separator
    "\x85",  # next line (C1 control)
    "\U0001f469\u200d\U0001f4bb",  # an emoji sequence
    "e\u0301",  # a combining accent
    "²",  # a digit to str.isdigit(), not to int()
    "\u0663",  # Arabic-Indic three
    "%00",
    "%s%n",
    "\\",
]
LONG_PIECES = ["x", "é", "\u202e", "<", "\U0001f44d", "a b ", "\n"]


def hostile_text(max_size=200):
    """Anything a bot might send in a text field."""
    return st.one_of(
        st.text(max_size=max_size),
        st.lists(st.one_of(st.sampled_from(TRICKY_PIECES), st.text(max_size=8)), max_size=8).map(
            "".join
        ),
        # Long values: around every limit, now and then far beyond (100,000 characters; a
        # rare draw, as each one costs a large request and page).
        st.builds(
            operator.mul,
            st.sampled_from(LONG_PIECES),
            st.one_of(
                st.integers(0, 120),
                st.integers(4_990, 5_010),
                st.integers(0, 5_100),
                st.just(100_000),
            ),
        ),
    )


def has_control_characters(text, allowed=""):
    return any(unicodedata.category(char) == "Cc" and char not in allowed for char in text)


def without_whitespace(text):
    return "".join(text.split())


class _TextCollector(HTMLParser):
    """Collects the text and attributes of elements chosen by `wanted(tag, attrs)`."""

    def __init__(self, wanted):
        super().__init__(convert_charrefs=True)
        self.wanted = wanted
        self.stack = []  # open tags; each with the captures it started
        self.captures = []  # [attrs, [text pieces]] in document order
        self.open_captures = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        capture = None
        if self.wanted(tag, attrs):
            capture = [attrs, []]
            self.captures.append(capture)
            if tag not in VOID_ELEMENTS:
                self.open_captures.append(capture)
        if tag not in VOID_ELEMENTS:
            self.stack.append((tag, capture))

    def handle_startendtag(self, tag, attrs):
        if self.wanted(tag, dict(attrs)):
            self.captures.append([dict(attrs), []])

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, capture = self.stack.pop()
            if capture is not None:
                self.open_captures.remove(capture)
            if open_tag == tag:
                break

    def handle_data(self, data):
        for capture in self.open_captures:
            capture[1].append(data)


def elements(html, wanted):
    """[(attrs, text content)] of the elements `wanted(tag, attrs)` picks, as a browser reads
    them: character references decoded, markup inside dropped."""
    parser = _TextCollector(wanted)
    parser.feed(html)
    parser.close()
    return [(attrs, "".join(pieces)) for attrs, pieces in parser.captures]


def with_class(name):
    return lambda tag, attrs: name in (attrs.get("class") or "").split()


def with_id(element_id):
    return lambda tag, attrs: attrs.get("id") == element_id
