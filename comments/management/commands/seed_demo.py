from django.core.management.base import BaseCommand
from django.db import transaction

from articles import demo as articles_demo
from articles.models import Article
from comments import demo as comments_demo

DEMO_ARTICLES = 30


class Command(BaseCommand):
    help = (
        "Fill an empty site with demo content (deterministic); a site that has articles is "
        "left as it is, so running it again changes nothing. --articles N tops the site up "
        "to N published articles (benchmarks)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--articles",
            type=int,
            default=None,
            help=f"Published articles wanted, whatever the site holds (default: {DEMO_ARTICLES}, "
            "on an empty site only).",
        )

    def handle(self, *args, articles, **options):
        with transaction.atomic():
            left_alone = articles is None and Article.objects.exists()
            if left_alone:
                # Articles of its own (a restored backup, demo articles deleted or
                # unpublished): topping it up would mix generated stories in with them.
                created = []
            else:
                created = articles_demo.seed(
                    articles=DEMO_ARTICLES if articles is None else articles,
                    progress=self.progress,
                )
            # Each app seeds its own content here, after the apps it depends on (the comments
            # app also fills the captcha pool, which a site with articles needs too).
            comments_demo.seed(article_ids=created)
        if created:
            articles_demo.analyze_tables()
        if left_alone:
            self.stdout.write("The site has articles: no demo content added.")
        else:
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
