"""Reading comments: the threaded tree under an article, built in one pass from one query.

The shared part (approved comments) is the same for every reader; a commenter's own pending
comments are merged in only for them (their ids live in their session), so a cache of the
shared thread stays valid for everyone else.
"""

import re
import zlib
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .models import Comment

SESSION_PENDING_IDS = "comments_pending_ids"
SESSION_PENDING_LIMIT = 50
AVATAR_COLOURS = 8
DISPLAY_FIELDS = ("id", "article_id", "parent_id", "name", "url", "body", "created_at", "status")
URL_PATTERN = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
URL_TRAILING_PUNCTUATION = ".,;:!?)]}'\""
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass
class Thread:
    roots: list = field(default_factory=list)
    visible: dict = field(default_factory=dict)  # id -> approved comment readers can see
    approved_count: int = 0


def build_thread(article, own_pending_ids=()):
    """Approved comments oldest first, nested up to COMMENTS_MAX_DEPTH.

    A reply deeper than the limit joins its parent's list at the deepest level. A comment
    whose parent is not shown (withheld, or another reader's pending one) is not shown
    either, and neither are its replies.
    """
    comments = Comment.objects.approved().filter(article=article)
    if own_pending_ids:
        # Held as spam looks the same as pending to its author: a bot learns nothing.
        comments = comments | Comment.objects.filter(
            article=article,
            pk__in=own_pending_ids,
            status__in=[Comment.Status.PENDING, Comment.Status.SPAM],
        )
    thread = Thread()
    max_depth = max(settings.COMMENTS_MAX_DEPTH, 1)
    shown = {}
    for comment in comments.only(*DISPLAY_FIELDS).order_by("created_at", "id"):
        comment.replies_shown = []
        comment.is_own_pending = comment.status != Comment.Status.APPROVED
        if comment.parent_id is None:
            comment.depth, siblings = 1, thread.roots
        elif (parent := shown.get(comment.parent_id)) is None or parent.is_own_pending:
            continue
        elif parent.depth < max_depth:
            comment.depth, siblings = parent.depth + 1, parent.replies_shown
        else:
            comment.depth, siblings = parent.depth, parent.siblings
        comment.siblings = siblings
        siblings.append(comment)
        shown[comment.pk] = comment
        if not comment.is_own_pending:
            thread.visible[comment.pk] = comment
            thread.approved_count += 1
    return thread


def own_pending_ids(request):
    """The ids of comments this browser sent that still await moderation."""
    session = getattr(request, "session", None)
    if session is None:
        return []
    ids = session.get(SESSION_PENDING_IDS, [])
    return [pk for pk in ids if isinstance(pk, int)] if isinstance(ids, list) else []


def remember_pending(request, comment):
    ids = [*own_pending_ids(request), comment.pk][-SESSION_PENDING_LIMIT:]
    request.session[SESSION_PENDING_IDS] = ids


def render_body(text):
    """Plain text as HTML: escaped, paragraphs and line breaks kept, web links clickable."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [part for part in PARAGRAPH_BREAK.split(text) if part.strip()]
    html = "\n".join(
        "<p>{}</p>".format("<br>".join(linkify(line) for line in part.split("\n")))
        for part in paragraphs
    )
    return mark_safe(html)  # noqa: S308 - linkify escapes every piece of the text


def linkify(line):
    """Escape a line of text and turn http(s) addresses in it into nofollow links."""
    pieces, position = [], 0
    for match in URL_PATTERN.finditer(line):
        url = match.group().rstrip(URL_TRAILING_PUNCTUATION)
        start, end = match.start(), match.start() + len(url)
        pieces.append(format_html("{}", line[position:start]))
        pieces.append(format_html('<a href="{}" rel="nofollow ugc">{}</a>', url, url))
        position = end
    pieces.append(format_html("{}", line[position:]))
    return "".join(pieces)


def initials(name):
    """Up to two letters standing in for a picture; never derived from the email."""
    letters = [word[0] for word in name.split() if word[:1].isalnum()][:2]
    return "".join(letters).upper() or "?"


def avatar_colour(name):
    return zlib.crc32(name.encode()) % AVATAR_COLOURS
