from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"

    def ready(self):
        from . import checks, reader_cache, signals  # noqa: F401 (they register themselves)

        reader_cache.register()
