"""Reading comments: a page of the threaded tree under an article, from one query.

The shared part (approved comments) is the same for every reader; a commenter's own pending
comments are merged in only for them (their ids live in a signed cookie), so a cache of the
shared thread stays valid for everyone else.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from itertools import batched
from typing import NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.db.models import Func, IntegerField, Q, Subquery
from django.http import Http404

from articles import views as article_views
from articles.models import Article
from articles.services import IDS_PER_QUERY

from .models import Comment, is_id

# A signed cookie, not the session: a session would cost every new commenter (and every
# bot) a row in the database, and a post two more queries. It holds each comment's id and
# its article's id ("12.#7,15.#7"), which the signature keeps the commenter's own: the page
# cache renders for them the pages of those articles alone (a stored article page carries
# its article's id). An id, not the address: an editor may change the article's slug while
# the comment waits, and another article may take the old one. Cookies set before named the
# article by a digest of its address ("12.9f86d081884c"), and before that not at all ("12",
# taken to be under any article); both are read until they expire. The "#" keeps an id apart
# from a digest, which is hex (a release that knows only digests keeps an id entry as a
# digest no page has). The article's page writes the cookie again without the comments it
# finds decided, and naming itself by id in older entries it finds waiting (forget_decided).
PENDING_COOKIE = "comments_pending"
PENDING_SALT = "comments.pending"
PENDING_LIMIT = 50
ARTICLE_MARK = "#"  # an entry's article named by its id ("12.#7"), not by an address digest
# The cookie's entries as an article's page leaves them, when it changes them (forget_decided).
PENDING_LEFT_ATTRIBUTE = "comments_pending_left"
# Held as spam by a rule as it was sent (moderation.assess: the honeypot, the blocklist, the
# email's flood limit), which no moderator has decided on: it looks pending to its author, as
# the answer to the post did, or reloading the page would tell a bot which words the
# blocklist holds, and anyone whether an address they typed commented recently. One a
# moderator marked as spam goes from its author's page as a rejected one does (neither is
# told from the other), and so from their cookie (forget_decided).
HELD_AS_SPAM_WHEN_SENT = Q(status=Comment.Status.SPAM, moderated_at__isnull=True)


class PastTheLastPage(Http404):
    """A page of comments beyond the last: the discussion has shrunk since the link was made
    (comments withheld) or COMMENTS_PER_PAGE has grown."""

    def __init__(self, last):
        super().__init__("No such page of comments.")
        self.last = last


@dataclass(slots=True)
class ShownComment:
    """A comment as a page shows it: the displayed fields and its place in the tree.

    Lighter than a model instance (a page builds ~150 of them per request).
    """

    pk: int
    parent_id: int | None
    name: str
    url: str
    body: str
    created_at: datetime
    is_own_pending: bool
    depth: int = 1
    replies_shown: list = field(default_factory=list)
    answers: "ShownComment | None" = None  # set past the deepest level (nest)


@dataclass
class Thread:
    roots: list = field(default_factory=list)
    approved_count: int = 0  # approved comments readers can see, on every page
    page: int = 1
    pages: int = 1
    # The status read of each of the reader's own comments asked for that is under the
    # article: one missing was rejected or deleted, or is under another article.
    own_statuses: dict = field(default_factory=dict)


def build_thread(article, own_pending_ids=(), *, page=1):
    """One page of approved comments, oldest first, nested up to COMMENTS_MAX_DEPTH.

    A page holds COMMENTS_PER_PAGE top-level comments with all their replies (WordPress
    style). One query (PAGE_OF_COMMENTS) reads the page's threads and, of the rest of the
    discussion, only its top-level comments' dates (to count them and find the page): no
    other page's replies, and nothing of other articles. Raises PastTheLastPage for a page
    beyond the last.

    A reply deeper than the limit joins its parent's list at the deepest level. A comment
    whose parent is not shown (withheld, or another reader's pending one) is not shown
    either, and neither are its replies. A reader's own pending comments show on the page
    of their thread; a new top-level one on the last page.
    """
    per_page = settings.COMMENTS_PER_PAGE
    asked = list(own_pending_ids)
    approved = Comment.Status.APPROVED
    params = [
        *(Comment.Status.PENDING, Comment.Status.SPAM, *asked, article.pk),  # asked
        *(approved, article.pk),  # top_level
        *(per_page, (page - 1) * per_page),  # page_root: approved
        page * per_page,  # page_root: on the last page or past it, the reader's own
        approved,  # shown
        *(approved, approved, article.pk),  # the rows
    ]
    with connection.cursor() as cursor:
        # An empty IN () is an error on PostgreSQL; IN (NULL) matches no comment.
        asked_ids = ", ".join(["%s"] * len(asked)) or "NULL"
        cursor.execute(PAGE_OF_COMMENTS.format(asked=asked_ids, **READING_ORDER), params)
        rows = cursor.fetchall()
    [(_, top_level_count, visible_count, *_)] = [row for row in rows if row[0] is None]
    thread = Thread(page=page, approved_count=visible_count)
    thread.pages = max(1, -(-top_level_count // per_page))
    if page > thread.pages:
        raise PastTheLastPage(thread.pages)
    comments = [(on_page, *comment) for on_page, _, _, *comment, _, _, _ in rows]
    if asked:
        thread.own_statuses = {pk: status for on_page, pk, *_, status in comments if on_page == 0}
    convert_time = datetime_converter()
    _nest(
        thread,
        [
            (pk, parent_id, name, url, body, convert_time(created_at), status)
            for on_page, pk, parent_id, name, url, body, created_at, status in comments
            if on_page
        ],
    )
    return thread


# build_thread's one query. Its rows: the page's comments (on_page 1), oldest first; the
# reader's own comments asked for, wherever they are under the article (on_page 0, for
# Thread.own_statuses); and one row of counts (on_page NULL): the article's approved
# top-level comments (top_level() counts them too), and its visible comments, which
# comments.services keeps in Article.comment_count (none, for an article an editor deleted
# since the view read it: the row of counts is there all the same).
#
# The article's approved top-level comments are read once (top_level), from
# comment_top_level_idx, without their replies: their count and the page's come from that
# one read, and the page's replies from the parent index, level by level (a recursive query,
# which SQLite and PostgreSQL both run): other pages' threads are never read. Used twice, it
# is materialized by both databases (no MATERIALIZED keyword, which SQLite before 3.35 does
# not know), so no LIMIT reaches the planner's choice of how to find them: with one, PostgreSQL
# bet on walking an index in page order and stopping early and, misled by statistics that
# cannot tell how few of a long discussion's comments are top-level, walked every article's
# top-level comments through the parent index (page 20 of a 1,000-thread discussion on a
# site of 21,000 top-level comments: 20,749 read and left, 28 ms of the page's 35) unless a
# VACUUM had just marked the table's pages visible. Replies are followed only under an
# approved comment, which is how a withheld comment hides its replies; the withheld ones
# themselves are read, and left out at the end. Filtering them in the recursive step instead
# made SQLite (with ANALYZE statistics) build a Bloom filter of the whole table at every
# level: 16 ms for a 100-comment article of a 12,000-comment table. Held as spam as it was
# sent, a reader's own comment counts as waiting (HELD_AS_SPAM_WHEN_SENT). The casts give
# PostgreSQL the count columns' type, which it takes from the first rows of a UNION.
#
# The page's comments come each after the one it answers (nest() needs it), in READING_ORDER.
#
# READING_ORDER: the SQL that orders a thread's comments as readers see them, followed from
# its first comments down to the replies (as `shown`, each `reply` of a `shown` comment).
# Ordered by shown_at, a comment's date or its parent's shown_at if later, so that a reply
# dated before its parent (an app server's clock behind another's, an import) comes straight
# after its parent, not at the head of a thread of its own; the rest keep their dates' order.
# Those of one shown_at keep the order they were written in (their ids): past the deepest
# level, where a reply to a reply is listed beside it, a level before the id broke that. Yet
# an id says nothing of the thread (comments imported with their ids, loaddata, a restore
# that reset the id sequence): a reply that takes its parent's shown_at takes its shown_id
# too when that is larger, and comes after it by its depth. Written in id order, a thread's
# shown_id is every comment's id.
READING_ORDER = {
    "reading_columns": "shown_at, shown_id, depth",
    "first_reading_values": "created_at, id, 1",
    "reply_reading_values": """
        CASE WHEN reply.created_at < shown.shown_at THEN shown.shown_at
            ELSE reply.created_at END,
        CASE WHEN reply.created_at <= shown.shown_at AND reply.id < shown.shown_id
            THEN shown.shown_id ELSE reply.id END,
        shown.depth + 1""",
    "reading_order": "shown_at, shown_id, depth, id",
}
PAGE_OF_COMMENTS = """
    WITH RECURSIVE
    asked (id, parent_id, name, url, body, created_at, status, waiting) AS (
        SELECT id, parent_id, name, url, body, created_at, status,
            status = %s OR (status = %s AND moderated_at IS NULL)
        FROM comments_comment
        WHERE id IN ({asked}) AND article_id = %s
    ),
    top_level (id, created_at) AS (
        SELECT id, created_at FROM comments_comment
        WHERE status = %s AND article_id = %s AND parent_id IS NULL
    ),
    top_level_count (count) AS (SELECT COUNT(*) FROM top_level),
    page_root (id) AS (
        SELECT id FROM (
            SELECT id FROM top_level ORDER BY created_at, id LIMIT %s OFFSET %s
        ) AS approved_root
        UNION ALL
        SELECT id FROM asked
        WHERE waiting AND parent_id IS NULL AND %s >= (SELECT count FROM top_level_count)
    ),
    shown (id, parent_id, name, url, body, created_at, status, {reading_columns}) AS (
        SELECT id, parent_id, name, url, body, created_at, status, {first_reading_values}
        FROM comments_comment WHERE id IN (SELECT id FROM page_root)
        UNION ALL
        SELECT reply.id, reply.parent_id, reply.name, reply.url, reply.body,
            reply.created_at, reply.status, {reply_reading_values}
        FROM shown JOIN comments_comment reply ON reply.parent_id = shown.id
        WHERE shown.status = %s
    )
    SELECT 1 AS on_page, CAST(NULL AS bigint), CAST(NULL AS bigint),
        id, parent_id, name, url, body, created_at, status, {reading_columns}
    FROM shown WHERE status = %s OR id IN (SELECT id FROM asked WHERE waiting)
    UNION ALL
    SELECT 0, NULL, NULL, id, parent_id, name, url, body, created_at, status, NULL, NULL, NULL
    FROM asked WHERE status = %s OR waiting
    UNION ALL
    SELECT NULL, (SELECT count FROM top_level_count),
        COALESCE((SELECT comment_count FROM articles_article WHERE id = %s), 0),
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    ORDER BY {reading_order}
"""


def datetime_converter():
    """A `created_at` as a raw query returns it, as the ORM would return it (SQLite stores
    text, and times without their zone)."""
    field = Comment._meta.get_field("created_at")
    column = field.get_col(Comment._meta.db_table)
    converters = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]

    def convert(value):
        for converter in converters:
            value = converter(value, column, connection)
        return value

    return convert


def _nest(thread, rows):
    """The page's rows as comments, each under its parent (in the rows' order)."""
    thread.roots = nest(
        (
            ShownComment(
                pk, parent_id, name, url, body, created_at, status != Comment.Status.APPROVED
            )
            for pk, parent_id, name, url, body, created_at, status in rows
        ),
        max_depth=max(settings.COMMENTS_MAX_DEPTH, 1),
    )


def nest(comments, *, max_depth):
    """Comments, each listed after the one it answers, as trees: each comment's replies in
    its `replies_shown`, its level in `depth`. Returns the comments that start a thread: the
    top-level ones, and any whose parent is not listed before it.

    A reply deeper than `max_depth` is listed after its parent, at its parent's level, and
    its `answers` is the comment it answers, which its place no longer shows: it reads as
    answering its parent's parent otherwise. Each level is a list, not a call: a chain of
    replies is as deep as two readers' exchange is long, past Python's recursion limit.
    Public pages (ShownComment) and the moderators' thread (Comment rows) both nest this way.
    """
    roots, shown, siblings_of = [], {}, {}
    for comment in comments:
        comment.replies_shown, comment.answers = [], None
        parent = shown.get(comment.parent_id)
        if parent is None:
            comment.depth, siblings = 1, roots
        elif parent.depth < max_depth:
            comment.depth, siblings = parent.depth + 1, parent.replies_shown
        else:
            comment.depth, comment.answers = parent.depth, parent
            siblings = siblings_of[parent.pk]
        siblings.append(comment)
        shown[comment.pk], siblings_of[comment.pk] = comment, siblings
    return roots


def top_level(article_id):
    """An article's approved top-level comments, found through `comment_top_level_idx`,
    which holds them in order apart from the replies: a count of them, or a page of them,
    reads none of the replies' rows."""
    return Comment.objects.approved().filter(article_id=article_id, parent__isnull=True)


def page_number(request):
    """The `?cpage=` a reader asked for (the first page without a request); anything but a
    page number is a 404."""
    if request is None:
        return 1
    return article_views.page_number(request, "cpage", not_found="No such page of comments.")


def ancestors(comment):
    """The comments above this one in its thread, nearest first: one query however deep.

    Django's ORM has no recursive queries; SQLite and PostgreSQL both run this one. UNION,
    not UNION ALL: a parent cycle written by hand (or loaded by loaddata) cannot make it
    loop, which a depth counted in the query would, each round's rows new; so the order is
    the parents' chain followed here. Not the ids': imported with theirs, or numbered after
    a restore reset the id sequence, a parent's can be the larger.
    """
    if comment.parent_id is None:
        return []
    found = {
        parent.pk: parent
        for parent in Comment.objects.raw(
            """
            WITH RECURSIVE ancestor (id, parent_id, status, created_at) AS (
                SELECT id, parent_id, status, created_at FROM comments_comment WHERE id = %s
                UNION
                SELECT parent.id, parent.parent_id, parent.status, parent.created_at
                FROM comments_comment parent JOIN ancestor ON parent.id = ancestor.parent_id
            )
            SELECT id, parent_id, status, created_at FROM ancestor
            """,
            [comment.parent_id],
        )
    }
    above, parent_id = [], comment.parent_id
    while (parent := found.pop(parent_id, None)) is not None:
        above.append(parent)
        parent_id = parent.parent_id
    return above


def whole_thread(comment):
    """Every comment of the thread this one is in, whatever their status, its first comment
    first and each after the one it answers, in the order readers see them (READING_ORDER),
    with the fields the moderators' page of a comment shows: two queries however long the
    article's discussion, each reading only this thread's rows (the ancestors, then the
    replies below the first). A parent cycle written by hand can only come back to the
    first: the replies stop there."""
    above = ancestors(comment)
    first = above[-1].pk if above else comment.pk
    return list(
        Comment.objects.raw(
            """
            WITH RECURSIVE shown (id, {reading_columns}) AS (
                SELECT id, {first_reading_values}
                FROM comments_comment WHERE id = %s
                UNION ALL
                SELECT reply.id, {reply_reading_values}
                FROM shown JOIN comments_comment reply ON reply.parent_id = shown.id
                WHERE reply.id <> %s
            )
            SELECT id, comment.parent_id, comment.name, comment.body, comment.status,
                comment.created_at
            FROM comments_comment comment JOIN shown USING (id)
            ORDER BY {reading_order}
            """.format(**READING_ORDER),  # noqa: S608 (only READING_ORDER's SQL is formatted in)
            [first, first],
        )
    )


def parents_first(rows):
    """Rows of comments, (id, parent_id, ...), each after its parent's when that is among
    them: a level at a time, from those whose parent is not. Not in id order: imported with
    their ids, or numbered after a restore reset the id sequence, a parent's can be the
    larger. A parent cycle written by hand has no first: its rows are left out."""
    rows = list(rows)
    ids = {row[0] for row in rows}
    level, replies = [], defaultdict(list)
    for row in rows:
        (replies[row[1]] if row[1] in ids else level).append(row)
    while level:
        yield from level
        level = [reply for row in level for reply in replies[row[0]]]


def under_withheld(comment_ids):
    """Which of these comments sit under one readers cannot see (pending, rejected or spam),
    however deep: one query for a whole list of them, as the moderators' list shows, and one
    more for each further IDS_PER_QUERY ("select all" approves tens of thousands)."""
    hidden = set()
    for lot in batched(comment_ids, IDS_PER_QUERY):
        placeholders = ", ".join(["%s"] * len(lot))
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH RECURSIVE lineage (comment_id, ancestor_id) AS (
                    SELECT id, parent_id FROM comments_comment
                    WHERE id IN ({placeholders}) AND parent_id IS NOT NULL
                    UNION
                    SELECT lineage.comment_id, parent.parent_id
                    FROM comments_comment parent JOIN lineage ON parent.id = lineage.ancestor_id
                    WHERE parent.parent_id IS NOT NULL
                )
                SELECT DISTINCT lineage.comment_id
                FROM lineage JOIN comments_comment ancestor ON ancestor.id = lineage.ancestor_id
                WHERE ancestor.status <> %s
                """,  # noqa: S608 (only placeholders are formatted in)
                [*lot, Comment.Status.APPROVED],
            )
            hidden.update(comment_id for (comment_id,) in cursor.fetchall())
    return hidden


def hidden_count(comments):
    """How many of these comments readers cannot see although approved: those under a
    withheld comment, or on an article that is not published. Two queries for a page of
    them, and one more for each further IDS_PER_QUERY comments or articles ("select all")."""
    approved = [c for c in comments if c.status == Comment.Status.APPROVED]
    public = set()
    for article_ids in batched({c.article_id for c in approved}, IDS_PER_QUERY):
        public.update(
            Article.objects.published().filter(pk__in=article_ids).values_list("pk", flat=True)
        )
    on_public = [c.pk for c in approved if c.article_id in public]
    under = under_withheld([c.pk for c in approved if c.parent_id and c.article_id in public])
    return len(approved) - len(on_public) + len(under)


def count_of_top_level(article_id):
    """How many approved top-level comments an article has, as an expression: read with the
    article (`OuterRef("pk")`), it spares comment_page a query of its own."""
    # COUNT() as a plain function, not Django's aggregate: no GROUP BY, and one row (0)
    # where there is no comment.
    counted = top_level(article_id).order_by().annotate(count=Func("pk", function="COUNT"))
    return Subquery(counted.values("count"), output_field=IntegerField())


def comment_page(comment, *, above=None, top_level_count=None):
    """The page of its article's comments that shows this comment (with its thread).

    A top-level comment still waiting for a moderator is shown to its author on the last
    page (build_thread), which is not the page after the approved ones when that page is full.
    `above` is the comment's ancestors() when the caller has read them already, and
    `top_level_count` the article's approved top-level comments when it has counted them.
    """
    if above is None:
        above = ancestors(comment)
    root = (above or [comment])[-1]
    per_page = settings.COMMENTS_PER_PAGE
    if root.status != Comment.Status.APPROVED:
        if top_level_count is None:
            top_level_count = top_level(comment.article_id).count()
        return max(1, -(-top_level_count // per_page))
    earlier = (
        top_level(comment.article_id)
        .filter(Q(created_at__lt=root.created_at) | Q(created_at=root.created_at, pk__lt=root.pk))
        .count()
    )
    return earlier // per_page + 1


def comment_url(comment, article_url, *, above=None, top_level_count=None):
    """The address of the page of a long discussion that shows the comment now."""
    page = comment_page(comment, above=above, top_level_count=top_level_count)
    return f"{page_url(article_url, page)}#comment-{comment.pk}"


def page_url(article_url, page, query=()):
    """A page of the article's comments (the article's own address for the first), with
    the `query` pairs after its number."""
    pairs = [("cpage", page), *query] if page > 1 else list(query)
    return f"{article_url}?{urlencode(pairs)}" if pairs else article_url


def is_shown(comment, above):
    """Whether readers see this approved comment: every comment above it approved too (a
    reply under a withheld comment is not shown, build_thread), up to a top-level one."""
    lineage = [comment, *above]
    return lineage[-1].parent_id is None and all(
        c.status == Comment.Status.APPROVED for c in lineage
    )


class VisibleComments:
    """The approved comments of an article that readers can see, looked up one at a time.

    Stands in for a dict of the whole thread where one comment is asked for (a reply
    target): two queries, the comment and its ancestry, instead of loading every comment.
    """

    def __init__(self, article):
        self.article = article

    def get(self, pk, default=None):
        fields = ("id", "parent_id", "name", "status", "created_at", "article_id")
        comment = Comment.objects.filter(article=self.article, pk=pk).only(*fields).first()
        if comment is None:
            return default
        return comment if is_shown(comment, ancestors(comment)) else default


class PendingEntry(NamedTuple):
    """A comment of this browser's that awaits moderation, and the article it is under: by
    id, or in a cookie set before, by a digest of the article's address then (or neither)."""

    pk: int
    article_id: int | None = None
    digest: str | None = None

    def under(self, article_id, here):
        """Whether the comment is under the article with this id, whose address's digest is
        `here`: None when the entry does not say (set before entries named the article)."""
        if self.article_id is not None:
            return self.article_id == article_id
        if self.digest is not None:
            return self.digest == here
        return None

    def __str__(self):
        if self.article_id is not None:
            return f"{self.pk}.{ARTICLE_MARK}{self.article_id}"
        return f"{self.pk}.{self.digest}" if self.digest else str(self.pk)


def pending_entries(request):
    """The comments this browser sent that still await moderation, as PendingEntry."""
    value = request.get_signed_cookie(
        PENDING_COOKIE, default="", salt=PENDING_SALT, max_age=settings.SESSION_COOKIE_AGE
    )
    entries = []
    for entry in value.split(","):
        pk, _, where = entry.partition(".")
        if not is_id(pk):  # no comment's: as with an id unknown, nothing to show
            continue
        article_id = where.removeprefix(ARTICLE_MARK)
        if article_id != where:
            if is_id(article_id):
                entries.append(PendingEntry(int(pk), article_id=int(article_id)))
        else:
            entries.append(PendingEntry(int(pk), digest=where or None))
    return entries


def own_pending_ids(request, article=None):
    """The ids of comments this browser sent that still await moderation (under `article`,
    as far as the cookie tells)."""
    entries = pending_entries(request)
    if article is None:
        return [entry.pk for entry in entries]
    here = address_digest(article.get_absolute_url())
    return [entry.pk for entry in entries if entry.under(article.pk, here) is not False]


def address_digest(address):
    """A short digest of an article's address, as cookies set before entries named the
    article by id hold it."""
    return hashlib.blake2b(address.encode(), digest_size=6).hexdigest()


def remember_pending(request, response, comment):
    """Show this browser its comment while it waits (and its earlier ones still waiting)."""
    entries = [
        *pending_entries(request),
        PendingEntry(comment.pk, article_id=comment.article_id),
    ][-PENDING_LIMIT:]
    set_pending_cookie(response, entries)


def forget_decided(request, article, thread):
    """Leave out of this browser's cookie its comments that the article's page found decided,
    so that the next request for the article comes from the cache (the middleware writes it).
    An entry of an older cookie (by address digest, or a bare id) that it found still waiting
    here names the article by id from then on: it follows the article to a new slug, and a
    bare id no longer has every article page rendered for its bearer.

    Approved, a comment is every reader's; rejected, marked as spam by a moderator or deleted,
    it is no longer read, and the page no longer shows it, as before. Held as spam by a rule
    as it was sent, it still waits: its author sees it as pending (HELD_AS_SPAM_WHEN_SENT), and
    a cookie without it would tell them. A bare id that the page did not read may be waiting
    under another article: it is kept.
    """
    here = address_digest(article.get_absolute_url())
    entries = pending_entries(request)
    left = []
    for entry in entries:
        status = thread.own_statuses.get(entry.pk)  # read only under this article
        if status is None:
            # Under another article; rejected or deleted; or a bare id, maybe elsewhere.
            if entry.under(article.pk, here) is not True:
                left.append(entry)
        elif status != Comment.Status.APPROVED:
            left.append(PendingEntry(entry.pk, article_id=article.pk))
    if left != entries:
        setattr(request, PENDING_LEFT_ATTRIBUTE, left)


def set_pending_cookie(response, entries):
    """The cookie naming these comments, or its end when there are none."""
    set_reader_cookie(
        response,
        PENDING_COOKIE,
        ",".join(map(str, entries)),
        salt=PENDING_SALT,
        max_age=settings.SESSION_COOKIE_AGE if entries else 0,
    )


def set_reader_cookie(response, name, value, *, salt, max_age):
    """A signed cookie of a commenter's own, sent only over HTTPS when the site is, and
    never readable by scripts (it names the comments they wait for)."""
    response.set_signed_cookie(
        name,
        value,
        salt=salt,
        max_age=max_age,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
