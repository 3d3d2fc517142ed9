from datetime import timedelta
from functools import partial

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from comments import cache as comments_cache
from comments.models import Comment


class Command(BaseCommand):
    help = "Delete comments marked as spam more than N days ago (replies to them go too)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, default=30, metavar="DAYS", help="Default: 30 days."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, older_than, dry_run, **options):
        cutoff = timezone.now() - timedelta(days=older_than)
        spam = Comment.objects.filter(status=Comment.Status.SPAM, created_at__lt=cutoff)
        if dry_run:
            self.stdout.write(f"{spam.count()} spam comments older than {older_than} days.")
            return
        with transaction.atomic():
            article_ids = set(spam.values_list("article_id", flat=True))
            _, deleted = spam.delete()
            for article_id in article_ids:
                # Replies to spam were hidden, but may have been waiting in the queue.
                transaction.on_commit(partial(comments_cache.invalidate_article, article_id))
        count = deleted.get(Comment._meta.label, 0)
        self.stdout.write(
            f"Deleted {count} comments: spam older than {older_than} days and any replies to it."
        )
