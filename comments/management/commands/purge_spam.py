from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from comments.management import arguments
from comments.models import Comment


def in_days(count):
    return ngettext("%d day", "%d days", count) % count


def answered_by_others(doomed):
    """Ids of the doomed comments whose deletion would take a reply not doomed with them.

    Deleting a comment deletes its replies (the database cascades), so a spam comment
    someone answered stays, and so does every doomed comment above it in the thread.
    """
    kept = set(
        Comment.objects.filter(parent__in=doomed)
        .exclude(pk__in=doomed)
        .values_list("parent_id", flat=True)
    )
    newly_kept = kept
    while newly_kept:
        parents = set(
            Comment.objects.filter(pk__in=newly_kept, parent__in=doomed).values_list(
                "parent_id", flat=True
            )
        )
        newly_kept = parents - kept
        kept |= newly_kept
    return kept


class Command(BaseCommand):
    help = (
        "Delete comments marked as spam more than N days ago. A spam comment that someone "
        "replied to (with anything but more old spam) is kept, so no reply is lost."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=arguments.days,
            default=30,
            metavar="DAYS",
            help="Default: 30 days.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, older_than, dry_run, **options):
        cutoff = timezone.now() - timedelta(days=older_than)
        # Counted from the decision, so that a comment marked as spam by mistake can be
        # rescued for the whole period; spam caught as it was sent had no decision.
        marked_before_cutoff = Q(moderated_at__lt=cutoff) | Q(
            moderated_at__isnull=True, created_at__lt=cutoff
        )
        # Readers cannot reply to spam (it is not shown), so no reply arrives meanwhile.
        old_spam = Comment.objects.filter(marked_before_cutoff, status=Comment.Status.SPAM)
        kept = answered_by_others(old_spam)
        spam = old_spam.exclude(pk__in=kept)
        if dry_run:
            count = spam.count()
            self.stdout.write(
                ngettext(
                    "%(count)d spam comment older than %(days)s would be deleted;",
                    "%(count)d spam comments older than %(days)s would be deleted;",
                    count,
                )
                % {"count": count, "days": in_days(older_than)}
                + f" {len(kept)} kept because others replied to them."
            )
            return
        # Only spam goes, which readers never see: no page changes, only the moderators'
        # count of spam (comments/signals.py).
        _, deleted = spam.delete()
        count = deleted.get(Comment._meta.label, 0)
        self.stdout.write(
            ngettext(
                "Deleted %(count)d comment: spam older than %(days)s.",
                "Deleted %(count)d comments: spam older than %(days)s.",
                count,
            )
            % {"count": count, "days": in_days(older_than)}
            + f" Kept {len(kept)} that others replied to."
        )
