from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"

    def ready(self):
        from newsroom.cache import delete_after_outage, mirror_keys

        from . import signals  # noqa: F401  (connects the receivers)
        from .page_cache import ARTICLES_VERSION_KEY, VERSION_KEY

        # Read at every cached page: with Redis, each process keeps a copy (newsroom.cache).
        mirror_keys(VERSION_KEY)
        # A bump dropped while Redis is down may be lost with its worker (newsroom.cache).
        delete_after_outage(VERSION_KEY, ARTICLES_VERSION_KEY)
