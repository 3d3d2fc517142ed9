"""Cache keys that moderation changes invalidate.

Each article's comment thread has a version number in the shared cache. Anything that
caches a rendered thread (or a page holding one) puts the version in its key; a moderation
decision bumps it, so the next request renders afresh and no stale thread is ever served.
"""

import time

from django.core.cache import cache
from django.db.models import Count

from articles import page_cache
from comments.models import Comment
from newsroom.cache import shared_by_every_process

PENDING_COUNT_KEY = "comments:pending-count"
STATUS_COUNTS_KEY = "comments:status-counts"
MODERATION_COUNTS_SECONDS = 60


def _thread_key(article_id):
    return f"comments:thread-version:{article_id}"


def _fresh_version():
    """Time-based, so a version evicted and re-created never repeats an old one."""
    return time.time_ns()


def thread_version(article_id):
    """The current version of an article's comment thread, for use in cache keys."""
    key = _thread_key(article_id)
    version = cache.get(key)
    if version is None:
        version = _fresh_version()
        if not cache.add(key, version, timeout=None):
            version = cache.get(key, version)  # another process set it first
    return version


def bump_thread_version(article_id):
    """Make every cached copy of this article's thread stale.

    A new version is set rather than incremented: with Redis down, set() quietly does nothing
    (newsroom/cache.py) where incr() raises, and a decision already committed must not end
    in an error page.
    """
    cache.set(_thread_key(article_id), _fresh_version(), timeout=None)


def invalidate_article(article_id):
    """Everything that shows comments or counts them changed for this article."""
    bump_thread_version(article_id)
    page_cache.bump_content_version()
    forget_moderation_counts()


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
