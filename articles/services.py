"""Write-side operations on many articles at once: the list's "Publish" and "Unpublish".

A save per article cost about six queries (its savepoint, the look at its publication
before, the update, its log entry): "select all" over a few thousand passed gunicorn's
30 s. Here each batch of articles is one update and one insert of log entries, and what
the saves' signals did follows once: the cached pages end after the commit, and the
comments app releases what the publication owes (`drafts_published`). The tag links'
copy of each article's status and date is the database's to keep (TagLink).
"""

from itertools import batched

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import timezone

from . import page_cache
from .models import Article

# Ids asked about in one statement: SQLite refuses one with more parameters than its limit
# (32,766 as built since 3.32, 999 before), and a selection can hold more ids than that.
IDS_PER_QUERY = 500
PUBLISHED_LOG_MESSAGE = "Published."
UNPUBLISHED_LOG_MESSAGE = "Unpublished."

# Sent, in the transaction, with the drafts publish_drafts has just published (some of them
# scheduled): an update sends no post_save, and `articles` knows nothing of comments.
drafts_published = Signal()


def publish_drafts(drafts, *, by):
    """Publish the drafts now, or at the time set on them if it is later; each one published
    is left as stored. A draft with no date is dated now.

    The caller read them before: each is read again under its lock, so that one a colleague
    has dated, published or deleted since goes out as stored, or not at all (a date set
    since was kept by the update, but what the publication owes, and what the editor is
    told, went by the time read before). Returns the drafts published."""
    now = timezone.now()
    published = []
    with transaction.atomic():
        for batch in batched(drafts, IDS_PER_QUERY):
            stored = dict(
                _locked_if_still(batch, Article.Status.DRAFT).values_list("pk", "published_at")
            )
            Article.objects.filter(pk__in=stored).update(
                status=Article.Status.PUBLISHED,
                published_at=Coalesce("published_at", Value(now)),
                updated_at=now,
            )
            for article in batch:
                if article.pk in stored:
                    article.status = Article.Status.PUBLISHED
                    article.published_at = stored[article.pk] or now
                    article.updated_at = now
                    published.append(article)
        _changed(published, by=by, message=PUBLISHED_LOG_MESSAGE)
        drafts_published.send(sender=Article, articles=published)
    return published


def unpublish(articles, *, by):
    """Back to draft: gone from every public page at once; the date is kept.

    The caller read them before: each is read again under its lock, as publish_drafts()
    does, so that one a colleague has unpublished or deleted since is left as it is (it was
    logged as unpublished by this editor too). Returns the articles unpublished."""
    now = timezone.now()
    unpublished = []
    with transaction.atomic():
        for batch in batched(articles, IDS_PER_QUERY):
            stored = set(
                _locked_if_still(batch, Article.Status.PUBLISHED).values_list("pk", flat=True)
            )
            Article.objects.filter(pk__in=stored).update(
                status=Article.Status.DRAFT, updated_at=now
            )
            for article in batch:
                if article.pk in stored:
                    article.status, article.updated_at = Article.Status.DRAFT, now
                    unpublished.append(article)
        _changed(unpublished, by=by, message=UNPUBLISHED_LOG_MESSAGE)
    return unpublished


def _locked_if_still(articles, status):
    """Those of `articles` still `status` as stored, each row locked until the transaction
    ends, in id order: the order comments' decisions lock them, so that neither waits on the
    other for good."""
    return (
        Article.objects.select_for_update()
        .filter(pk__in=[article.pk for article in articles], status=status)
        .order_by("pk")
    )


def _changed(articles, *, by, message):
    """What a save of each would have left: its log entry, naming who changed it, and the
    cached pages and counts ended once the change is committed (articles/signals.py)."""
    if not articles:
        return
    LogEntry.objects.log_actions(
        user_id=by.pk, queryset=articles, action_flag=CHANGE, change_message=message
    )
    page_cache.bump_content_version_on_commit()
    page_cache.bump_articles_version_on_commit()
