"""The comments side of an article's publication (the emails it releases), and what a
comment's deletion leaves to keep true (its article's count, the moderators' counts, whose
address the log's entries about it name).

A commenter who asked to hear when their comment is published is written to once readers
can see it (notifications.notify_commenter_of_approval). Approved while its article was a
draft, unpublished or scheduled, the comment waits for the article: its email goes when
the article is published again, or, for a scheduled article, at its publication time (the
database queue), or with the first request after it (the default backend, which cannot
wait: comments.middleware).
`articles` knows nothing of comments, so they listen to its saves (and its deletions, and
the drafts its list publishes together, which are not saved one by one).
"""

from functools import partial
from itertools import batched

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone

from articles import services as article_services
from articles.models import Article
from comments import cache as comments_cache
from comments import notifications, services
from comments.models import (
    Comment,
    DeletedComment,
    PublicationAnnouncement,
    commenter_digest,
    commenter_key_digest,
    commenter_keys,
)

# Set on the comment or queryset whose delete() runs: the articles whose readers saw one of
# the comments it takes, noted before the first row goes and recounted once it has gone.
PUBLISHED_ON_ATTRIBUTE = "_deleted_comments_published_on"
# Set on the object whose delete() runs: (id, address) of the comments it takes, written
# together as DeletedComment rows once the first has gone.
DELETED_COMMENTS_ATTRIBUTE = "_deleted_comments"


@receiver(pre_save, sender=Article, dispatch_uid="comments.article_about_to_be_saved")
def note_publication_before_save(sender, instance, raw, **kwargs):
    """The stored status and publication time of an article that will be published after
    this save (a draft's save reads nothing): what the save changes about its publication."""
    if raw or instance.pk is None or instance.status != Article.Status.PUBLISHED:
        return
    instance._publication_before_save = (
        Article.objects.filter(pk=instance.pk).values_list("status", "published_at").first()
    )


@receiver(post_save, sender=Article, dispatch_uid="comments.article_saved")
def release_emails_owed_on_publication(sender, instance, created, raw, **kwargs):
    """One task, queued after the commit, finds and sends the emails the publication owes:
    the editor's request neither reads nor sends one per comment."""
    if raw or created or instance.status != Article.Status.PUBLISHED:
        return
    before = instance.__dict__.pop("_publication_before_save", None)
    if instance.is_public:
        if not was_public(before):
            at_publication = notifications.notify_commenters_at_publication
            transaction.on_commit(partial(at_publication.enqueue, instance.pk), robust=True)
    elif before != (instance.status, instance.published_at):
        # Scheduled for a new time: live then without another save. The row says when, in
        # the same transaction; a queue that runs tasks later (the database queue) sends the
        # emails at that time, the default backend after the first request that comes after
        # it (comments.middleware). Whichever claims the row first sends them.
        PublicationAnnouncement.objects.update_or_create(
            article_id=instance.pk, defaults={"due_at": instance.published_at}
        )
        at_scheduled = notifications.notify_commenters_at_scheduled_publication
        if at_scheduled.get_backend().supports_defer:
            transaction.on_commit(
                partial(at_scheduled.using(run_after=instance.published_at).enqueue, instance.pk),
                robust=True,
            )


@receiver(
    article_services.drafts_published, sender=Article, dispatch_uid="comments.drafts_published"
)
def release_emails_owed_on_publications(sender, articles, **kwargs):
    """release_emails_owed_on_publication's work for drafts published together, not a look
    and a write for each: one task for every IDS_PER_QUERY of those now live, one write for
    those scheduled."""
    live = [article.pk for article in articles if article.is_public]
    at_publication = notifications.notify_commenters_at_publication
    for ids in batched(live, article_services.IDS_PER_QUERY):  # each task reads them at once
        transaction.on_commit(partial(at_publication.enqueue, *ids), robust=True)
    scheduled = [article for article in articles if not article.is_public]
    if not scheduled:
        return
    PublicationAnnouncement.objects.bulk_create(
        [
            PublicationAnnouncement(article_id=article.pk, due_at=article.published_at)
            for article in scheduled
        ],
        update_conflicts=True,
        unique_fields=["article"],
        update_fields=["due_at"],
    )
    at_scheduled = notifications.notify_commenters_at_scheduled_publication
    if at_scheduled.get_backend().supports_defer:
        for article in scheduled:  # each at its own time
            transaction.on_commit(
                partial(at_scheduled.using(run_after=article.published_at).enqueue, article.pk),
                robust=True,
            )


def was_public(publication):
    """Whether readers could see an article of this (status, published_at) until now."""
    if publication is None:
        return False
    status, published_at = publication
    return status == Article.Status.PUBLISHED and published_at <= timezone.now()


@receiver(post_delete, sender=Article, dispatch_uid="comments.article_deleted")
def forget_moderation_counts_after_deletion(sender, instance, **kwargs):
    """Its comments went with it: the moderators' counts, kept a minute with Redis, would
    still count them (the pending notice, the status filter, the lists' lengths)."""
    transaction.on_commit(comments_cache.forget_moderation_counts, robust=True)


def asked_of_comments(origin):
    """Whether a deletion was asked of comments (a comment's or a queryset's delete(): a
    script, the shell, the admin), not of the article that takes them all with it, where
    nothing is left to count and a recount per comment would cost thousands of queries."""
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return model is Comment


@receiver(pre_delete, sender=Comment, dispatch_uid="comments.comment_about_to_be_deleted")
def note_deleted_comment(sender, instance, origin, **kwargs):
    if asked_of_comments(origin):
        published_on = origin.__dict__.setdefault(PUBLISHED_ON_ATTRIBUTE, set())
        if stored_status(instance, origin) == Comment.Status.APPROVED:
            published_on.add(instance.article_id)


def stored_status(comment, origin):
    """The comment's status as it is stored when it goes, not as it was loaded.

    A queryset's delete() and the replies a comment takes with it are read from the
    database as the deletion runs; a comment deleted on its own is the caller's instance,
    which a script may have held since before a moderator decided on it (approved since, its
    deletion left it in the article's count). Its article's lock is taken first, as a
    decision's is: a decision on it that has not committed yet is waited for."""
    if origin is not comment:
        return comment.status
    services.lock_articles([comment.article_id])
    return Comment.objects.filter(pk=comment.pk).values_list("status", flat=True).first()


@receiver(post_delete, sender=Comment, dispatch_uid="comments.comment_deleted")
def recount_after_comment_deletion(sender, instance, origin, **kwargs):
    """Once per delete(), however many comments (and replies) it takes: by the first
    post_delete every one of its rows is gone, and one read and one write recount all
    their articles. Only an approved comment was on readers' pages: deleting spam recounts
    nothing and ends no cached page, as rejecting it does."""
    published_on = (
        origin.__dict__.pop(PUBLISHED_ON_ATTRIBUTE, None) if asked_of_comments(origin) else None
    )
    if published_on is None:
        return
    if published_on:
        services.refresh_comment_counts(sorted(published_on))
        comments_cache.comments_changed()
    else:
        transaction.on_commit(comments_cache.forget_moderation_counts, robust=True)


@receiver(pre_delete, sender=Comment, dispatch_uid="comments.commenter_about_to_be_deleted")
def note_commenter_of_deleted_comment(sender, instance, origin, **kwargs):
    """Every deletion, whatever it was asked of (a comment, a queryset, an article): the log's
    entries about the comment stay, naming its commenter, whose erasure must find them."""
    if instance.email:
        deletion_of(origin, instance).__dict__.setdefault(DELETED_COMMENTS_ATTRIBUTE, []).append(
            (instance.pk, instance.email)
        )


@receiver(post_delete, sender=Comment, dispatch_uid="comments.commenters_of_deleted_comments")
def keep_commenters_of_deleted_comments(sender, instance, origin, using, **kwargs):
    """One insert (in SQLite's batches) for every comment the deletion takes, at its first
    post_delete: Django sends every pre_delete before it deletes a row. Their commenters'
    keys are the database's to write (commenter_keys), asked in one query for them all. A
    comment noted already (restored from a backup with its id, then deleted again) is noted
    once: a deletion never fails for its note."""
    if deleted := deletion_of(origin, instance).__dict__.pop(DELETED_COMMENTS_ATTRIBUTE, None):
        keys = commenter_keys((email for _, email in deleted), using=using)
        DeletedComment.objects.using(using).bulk_create(
            [
                DeletedComment(
                    comment_id=comment_id,
                    commenter=commenter_digest(email),
                    commenter_key=commenter_key_digest(keys[email]),
                )
                for comment_id, email in deleted
            ],
            ignore_conflicts=True,
        )


def deletion_of(origin, instance):
    """What holds a deletion's notes: what delete() was asked of, or, for a deletion that
    does not say (a Collector run by hand), each comment itself."""
    return instance if origin is None else origin
