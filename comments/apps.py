from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"

    def ready(self):
        from articles.page_cache import ARTICLES_VERSION_KEY
        from newsroom.cache import mirror_keys

        from . import checks, reader_cache, signals  # noqa: F401 (they register themselves)

        reader_cache.register()
        # Read at every request, to know whether a scheduled publication may be due
        # (notifications.publications_may_be_due): with Redis, each process keeps a copy.
        mirror_keys(ARTICLES_VERSION_KEY)
