from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"

    def ready(self):
        from . import checks, reader_cache  # noqa: F401 (checks register themselves)

        reader_cache.register()
