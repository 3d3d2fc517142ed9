from django.conf import settings
from django.core.cache import cache

from .models import Section

NAVIGATION_CACHE_KEY = "articles:navigation-sections"


def navigation_sections():
    """Sections for the header, read from the cache; signals clear it when one changes."""
    sections = cache.get(NAVIGATION_CACHE_KEY)
    if sections is None:
        sections = [(section.name, section.get_absolute_url()) for section in Section.objects.all()]
        cache.set(NAVIGATION_CACHE_KEY, sections, timeout=None)
    return sections


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_DESCRIPTION": settings.SITE_DESCRIPTION,
        "navigation_sections": navigation_sections,
    }
