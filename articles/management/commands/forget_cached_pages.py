"""Make every page cached for readers stale, for when the database changed under the cache."""

from django.core.management.base import BaseCommand

from articles import page_cache


class Command(BaseCommand):
    help = (
        "Make every cached reader page stale, so that the next request renders it afresh. "
        "Run it after restoring the database from a backup: changes made by the site are "
        "noticed by themselves, a restore is not."
    )

    def handle(self, *args, **options):
        page_cache.bump_content_version()
        page_cache.bump_articles_version()
        self.stdout.write("Cached pages will be rendered afresh at their next request.")
