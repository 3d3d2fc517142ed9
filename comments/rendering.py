"""Comments as HTML, written in Python rather than through the template engine.

A popular article shows ~150 comments per page. With an `{% include %}` per comment the
template engine spent ~40 ms of a 55 ms request on them (variable lookups, localised
numbers, two date formats each); written here they take ~3 ms. The section around the
list (`templates/comments/thread.html`) stays a template.
"""

import re
import unicodedata
import zlib
from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.safestring import mark_safe

from .models import held_within_its_isolate, name_as_shown, website_is_linkable

AVATAR_COLOURS = 8
# An address ends at a space, at a quote (ASCII, or the curly ones phones type for it and
# other languages' guillemets and low quotes), at an ellipsis, and at the full-width
# punctuation and brackets of Chinese and Japanese, which write no space after an address:
# none of these is ever in an address unencoded. Nor are the controls of writing direction
# (marks, embeddings, overrides, isolates): inside a link, an override showed its address's
# end reversed, "https://example.com/\u202efdp.exe" reading ".../exe.pdf".
URL_END = (
    "\\s<>\"'\u2018\u2019\u201a\u201c\u201d\u201e\u2039\u203a\u00ab\u00bb\u2026"
    "\u3001\u3002\u300c-\u300f\u3010\u3011\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f"
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
)
URL_PATTERN = re.compile(f"https?://[^{URL_END}]+", re.IGNORECASE)
URL_TRAILING_PUNCTUATION = ".,;:!?"  # quotes end the match already (URL_PATTERN)
URL_CLOSING_BRACKETS = {")": "(", "]": "[", "}": "{"}
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

# One line per comment: no indentation (a hot page shows ~150 comments). The header is a
# flex row; the spaces between its parts keep the words apart without CSS.
COMMENT_HTML = (
    '\n<li class="comment comment--depth-{depth}{pending_class}" id="comment-{pk}">'
    '<article class="comment__body" aria-labelledby="comment-{pk}-author">'
    '<header class="comment__meta"><span class="avatar avatar--{colour}" aria-hidden="true">'
    '{initials}</span> <span class="comment__author" id="comment-{pk}-author">{author}</span> '
    '{answers}<a class="comment__permalink" href="{permalink}"{permalink_rel}>'
    '<time datetime="{iso}">{date}</time></a></header>'
    '{notice}<div class="comment__text" dir="auto">{body}</div>{actions}</article>'
    "{replies}</li>"
)
PENDING_NOTICE_HTML = (
    '<p class="comment__notice">'
    "Your comment is awaiting moderation. Only you can see it for now.</p>"
)
# A button of the comment form (form="comment-form"), not a link: without JavaScript it
# sends what the reader has typed so far, and the page comes back with all of it, now
# answering this comment (comments.views.post_comment); a link away would lose it. No
# validation: the reader may not have written a word yet. With JavaScript it moves the form
# under the comment instead (comments.js). Crawlers follow no buttons.
REPLY_BUTTON_HTML = (
    '<p class="comment__actions"><button type="submit" class="comment__reply button-link"'
    ' form="comment-form" formaction="{action}#respond" formnovalidate name="replyto"'
    ' value="{pk}" aria-label="Reply to {name}">Reply</button></p>'
)
# A reply past the deepest level is listed beside the comment it answers (thread.nest),
# which is on the same page: it names it, linking to it.
ANSWERS_HTML = (
    '<span class="comment__answers">in reply to <a href="#comment-{pk}"><bdi>{name}</bdi></a>'
    "</span> "
)
REPLIES_HTML = '<ol class="comment-list comment-list--replies">{}</ol>'
# The time links to the comment's lasting address (Comment.get_permalink), the link readers
# copy to share a comment: "#comment-N" alone names whichever page of the discussion shows
# it, and moderation and COMMENTS_PER_PAGE move it to another. "bookmark": the permalink of
# its <article>; "nofollow", as for reply links: each is an uncached redirect, one per
# comment, which a crawler has no need to ask for.
PERMALINK_REL = ' rel="bookmark nofollow"'


def render_comments(comments, *, reply_action=None, permalinks=True):
    """Each comment as an `<li>`, its replies in an `<ol>` inside it.

    Plain `str.format` and the standard library's `escape` rather than `format_html` (a
    third of the time): the name, website and body are what readers wrote and are escaped
    here, once each; every other value is a number or text of our own. Each comment has a
    Reply button, which sends the comment form to `reply_action`, while readers may reply
    (`reply_action` is given). Each comment's time links to its
    permalink while `permalinks` (the article is public: the permalink of a comment on any
    other is a 404), else to its place on the page.
    """
    action = escape(reply_action or "")
    # Reversed once, not once per comment: the permalink with its id left out.
    start, _, end = reverse("comments:permalink", kwargs={"pk": 0}).rpartition("0")
    start, end = escape(start), escape(end)
    zone = timezone.get_current_timezone()
    month_names = {number: escape(str(name)) for number, name in MONTHS.items()}  # escaped once

    def render(comment):
        shown_name = name_as_shown(comment.name)
        # Its <bdi> keeps the name's direction to itself only if nothing in it ends the
        # isolate first: without the stylesheet's flex row, the date after it read backwards.
        name = escape(held_within_its_isolate(shown_name))
        author = f"<bdi>{name}</bdi>"
        # Unlinked: a website that shows an email address, saved before the form refused it,
        # or one that is no web address.
        if website_is_linkable(comment.url):
            author = f'<a href="{escape(comment.url)}" rel="nofollow ugc noopener">{author}</a>'
        actions = ""
        if reply_action and not comment.is_own_pending:
            actions = REPLY_BUTTON_HTML.format(action=action, pk=comment.pk, name=name)
        answers = ""
        if comment.answers:
            answers = ANSWERS_HTML.format(
                pk=comment.answers.pk,
                name=escape(held_within_its_isolate(name_as_shown(comment.answers.name))),
            )
        replies = ""
        if comment.replies_shown:
            replies = REPLIES_HTML.format("".join(map(render, comment.replies_shown)))
        if permalinks and not comment.is_own_pending:
            permalink, permalink_rel = f"{start}{comment.pk}{end}", PERMALINK_REL
        else:  # a comment waiting for a moderator has no permalink yet: only its author sees it
            permalink, permalink_rel = f"#comment-{comment.pk}", ""
        local = comment.created_at.astimezone(zone)
        # The `date:"c"` and `date:"j F Y \a\t H:i"` filters' output, without their parser.
        month = month_names[local.month]
        date = f"{local.day} {month} {local.year:04d} at {local.hour:02d}:{local.minute:02d}"
        return COMMENT_HTML.format(
            depth=comment.depth,
            pending_class=" comment--pending" if comment.is_own_pending else "",
            pk=comment.pk,
            colour=avatar_colour(comment.name),
            initials=escape(initials(shown_name)),
            author=author,
            answers=answers,
            permalink=permalink,
            permalink_rel=permalink_rel,
            iso=local.isoformat(timespec="seconds"),
            date=date,
            notice=PENDING_NOTICE_HTML if comment.is_own_pending else "",
            body=render_body(comment.body),
            actions=actions,
            replies=replies,
        )

    return mark_safe("".join(map(render, comments)))  # noqa: S308 - render escapes reader text


def render_body(text):
    """Plain text as HTML: escaped, paragraphs and line breaks kept, web links clickable."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [part for part in PARAGRAPH_BREAK.split(text) if part.strip()]
    return "\n".join(
        "<p>{}</p>".format("<br>".join(linkify(line) for line in part.split("\n")))
        for part in paragraphs
    )


def linkify(line):
    """Escape a line of text and turn http(s) addresses in it into nofollow links."""
    if "://" not in line:  # most lines: no address to look for
        return escape(line)
    pieces, position = [], 0
    for match in URL_PATTERN.finditer(line):
        url = without_trailing_punctuation(match.group())
        start, end = match.start(), match.start() + len(url)
        pieces.append(escape(line[position:start]))
        pieces.append(f'<a href="{escape(url)}" rel="nofollow ugc">{escape(url)}</a>')
        position = end
    pieces.append(escape(line[position:]))
    return "".join(pieces)


def without_trailing_punctuation(url):
    """The address without the sentence's punctuation after it. A closing bracket belongs
    to the address when it closes one opened inside it, as Wikipedia's do
    (https://en.wikipedia.org/wiki/Mercury_(planet)); otherwise it closes the reader's own
    "(see https://example.org)"."""
    while url:
        last = url[-1]
        opening = URL_CLOSING_BRACKETS.get(last)
        unbalanced = opening is not None and url.count(last) > url.count(opening)
        if last not in URL_TRAILING_PUNCTUATION and not unbalanced:
            break
        url = url[:-1]
    return url


def initials(name):
    """Up to two letters standing in for a picture; never derived from the email."""
    letters = [first_letter(word) for word in name.split() if word[:1].isalnum()][:2]
    return "".join(letters) or "?"


def first_letter(word):
    """The word's first letter with its accents (a decomposed "É" is two code points), in
    capitals unless that would make it two letters (ß is not "SS")."""
    letter = word[0]
    for mark in word[1:]:
        if not unicodedata.combining(mark):
            break
        letter += mark
    letter = unicodedata.normalize("NFC", letter)
    capital = letter.upper()
    return capital if len(capital) == len(letter) else letter


def avatar_colour(name):
    return zlib.crc32(name.encode()) % AVATAR_COLOURS
