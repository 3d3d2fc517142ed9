from django.conf import settings
from django.core.management.base import BaseCommand

from comments.captcha import fresh_pool_size, refill_pool
from comments.management import arguments


class Command(BaseCommand):
    help = (
        "Drop expired captcha questions and top the pool up to COMMENTS_CAPTCHA_POOL_SIZE. "
        "Run it daily (cron) so showing the comment form never has to write a question."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--size", type=arguments.pool_size, default=None, help="Questions wanted in the pool."
        )

    def handle(self, *args, size, **options):
        size = settings.COMMENTS_CAPTCHA_POOL_SIZE if size is None else size
        added = refill_pool(size)
        self.stdout.write(f"Captcha pool: {added} questions added, {fresh_pool_size()} available.")
