from django.conf import settings
from django.core.cache import cache

from . import page_cache
from .models import Section

# A key of its own for (version, sections): an older release cached the bare list under
# "articles:navigation-sections", and neither reads the other's during a rolling deploy.
NAVIGATION_CACHE_KEY = "articles:navigation-sections-by-version"


def navigation_sections():
    """Sections for the header, read from the cache while the content version stands.

    Saving or deleting a section bumps the version (articles/signals.py), which every
    process reads; a key deleted from the cache would reach only the process that deleted
    it when each worker has a local-memory cache of its own.
    """
    version = page_cache.content_version()
    cached = cache.get(NAVIGATION_CACHE_KEY)
    if cached is not None and cached[0] == version:
        return cached[1]
    sections = [(section.name, section.get_absolute_url()) for section in Section.objects.all()]
    cache.set(NAVIGATION_CACHE_KEY, (version, sections), timeout=None)
    return sections


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_DESCRIPTION": settings.SITE_DESCRIPTION,
        "navigation_sections": navigation_sections,
    }
