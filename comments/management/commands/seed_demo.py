from django.core.management.base import BaseCommand
from django.db import transaction

from articles import demo as articles_demo
from comments import demo as comments_demo


class Command(BaseCommand):
    help = (
        "Fill an empty site with demo content (deterministic). Running it again changes "
        "nothing; --articles N tops the site up to N published articles (benchmarks)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=int, default=30, help="Published articles wanted.")

    def handle(self, *args, articles, **options):
        with transaction.atomic():
            created = articles_demo.seed(articles=articles, progress=self.progress)
            # Each app seeds its own content here, after the apps it depends on.
            comments_demo.seed(article_ids=created)
        self.stdout.write(f"Demo content ready: {len(created)} new articles.")

    def progress(self, done, total):
        """A progress bar on stderr, so stdout stays clean for scripts."""
        width = 40
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        self.stderr.write(f"\r[{bar}] {done}/{total} articles", ending="")
        if done == total:
            self.stderr.write("")
        self.stderr.flush()
