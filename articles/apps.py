from django.apps import AppConfig
from PIL import Image


class ArticlesConfig(AppConfig):
    name = "articles"

    def ready(self):
        from newsroom.cache import delete_after_outage, mirror_keys

        from . import signals  # noqa: F401  (connects the receivers)
        from .admin import LEAD_IMAGE_MAX_PIXELS
        from .page_cache import ARTICLES_VERSION_KEY, VERSION_KEY

        # Read at every cached page: with Redis, each process keeps a copy (newsroom.cache).
        mirror_keys(VERSION_KEY)
        # A bump dropped while Redis is down may be lost with its worker (newsroom.cache).
        delete_after_outage(VERSION_KEY, ARTICLES_VERSION_KEY)

        # Pillow's own guard against decompression bombs warned from 89 million pixels and
        # refused from twice that, both above our limit: held to ours, it refuses from twice
        # ours what LeadImageField's reading of the header let through (it warns from ours,
        # which LeadImageField refuses before Pillow opens the file).
        Image.MAX_IMAGE_PIXELS = LEAD_IMAGE_MAX_PIXELS
