"""What a change to comments makes stale: readers' cached pages, and moderators' counts.

Readers' pages (articles.page_cache) carry the content version they were rendered under;
bumping it once a change readers can see commits (a comment published or withdrawn, an
approved comment edited or deleted, the data of a commenter with an approved comment erased)
makes every one of them stale, so the next request renders afresh and no stale thread or
count is ever served. A change only moderators see (a held comment rejected, marked as spam,
edited or deleted; an erasure of someone none of whose comments was approved) keeps readers'
pages. Its author may see it, on the article their pending cookie makes their own: any change
to a stored comment bumps the version their page's validator is made of (held_comments_changed).
"""

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count

from articles import page_cache
from comments.models import Comment
from newsroom.cache import shared_by_every_process

# What a commenter's own article page shows of their held comments, beyond the shared copy:
# part of its ETag (articles.page_cache.own_page_etag).
HELD_VERSION_KEY = "comments:held-version"
PENDING_COUNT_KEY = "comments:pending-count"
STATUS_COUNTS_KEY = "comments:status-counts"
MODERATION_COUNTS_SECONDS = 60


def comments_changed():
    """Readers see other comments or counts: called in the transaction that changed them,
    for when it commits. A bump the rows' own signals queued serves this change too."""
    page_cache.bump_content_version_on_commit()
    transaction.on_commit(forget_moderation_counts)


def held_comments_changed():
    """A stored comment changed in a way its author may see on their own page (decided,
    edited, erased, deleted), maybe not readers: called in the transaction that changed it,
    for when it commits, so that a revalidation of their page renders it afresh."""
    page_cache.once_on_commit(bump_held_version)


def bump_held_version():
    page_cache.bump_content_version(HELD_VERSION_KEY)


def forget_moderation_counts():
    cache.delete_many([PENDING_COUNT_KEY, STATUS_COUNTS_KEY])


def pending_count():
    """How many comments await moderation (read through `comment_queue_idx`)."""
    return _moderation_count(PENDING_COUNT_KEY, Comment.objects.pending().count)


def status_counts():
    """Comments per status, for the moderators' filter: one GROUP BY over every comment,
    a tenth of a second at a million, on every page of the moderation queue otherwise."""
    return _moderation_count(
        STATUS_COUNTS_KEY,
        lambda: dict(Comment.objects.order_by().values_list("status").annotate(count=Count("id"))),
    )


def _moderation_count(key, count):
    """`count()`, kept briefly in a cache every worker shares and cleared on every change.

    A worker cannot clear another's own cache (local memory), where a count would outlive a
    decision or a new comment: there every call counts afresh.
    """
    if not shared_by_every_process():
        return count()
    value = cache.get(key)
    if value is None:
        value = count()
        cache.set(key, value, MODERATION_COUNTS_SECONDS)
    return value
