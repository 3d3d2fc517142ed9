"""The comments side of an article's publication: the emails it releases.

A commenter who asked to hear when their comment is published is written to once readers
can see it (notifications.notify_commenter_of_approval). Approved while its article was a
draft, unpublished or scheduled, the comment waits for the article: its email goes when
the article is published again, or, for a scheduled article, at its publication time.
`articles` knows nothing of comments, so they listen to its saves (and its deletions).
"""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from articles.models import Article
from comments import cache as comments_cache
from comments import notifications


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
    if raw or created or instance.status != Article.Status.PUBLISHED:
        return
    before = instance.__dict__.pop("_publication_before_save", None)
    if instance.is_public:
        if not was_public(before):
            notifications.send_approval_emails_after_commit(
                notifications.emails_owed_on(instance.pk)
            )
    elif before != (instance.status, instance.published_at):
        # Scheduled for a new time: live then without another save. A queue that runs
        # tasks later (the database queue) sends the emails at that time; the immediate
        # backend cannot wait, and they go only if the article is published again.
        at_publication = notifications.notify_commenters_at_publication
        if at_publication.get_backend().supports_defer:
            transaction.on_commit(
                partial(at_publication.using(run_after=instance.published_at).enqueue, instance.pk),
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
