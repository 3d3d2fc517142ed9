from django.conf import settings
from django.core.cache import cache
from django.db.models import Subquery

from . import page_cache
from .models import Article, Section

# A key of its own for (version, sections, ends): an older release cached every section,
# empty ones too, under "articles:navigation-sections-by-version", and neither reads the
# other's during a rolling deploy.
NAVIGATION_CACHE_KEY = "articles:navigation-public-sections"


def navigation_sections():
    """Sections for the header, those with a public article (Section.objects.published(),
    whose pages alone show), read from the cache while the content version stands.

    Saving or deleting a section or an article bumps the version (articles/signals.py),
    which every process reads; a key deleted from the cache would reach only the process
    that deleted it when each worker has a local-memory cache of its own. A scheduled
    article going live bumps nothing: the list ends at the next one's time too, read in
    the same query (a subquery both databases evaluate once), at the same moment. A site
    with no public section yet reads them at every page, in that one query.
    """
    version = page_cache.content_version()
    cached = cache.get(NAVIGATION_CACHE_KEY)
    if cached is not None and cached[0] == version and not page_cache.has_come(cached[2]):
        return cached[1]
    next_out = Article.objects.scheduled().order_by("published_at").values("published_at")[:1]
    rows = list(Section.objects.published().annotate(next_out=Subquery(next_out)))
    sections = [(section.name, section.get_absolute_url()) for section in rows]
    if rows:
        ends = rows[0].next_out and rows[0].next_out.timestamp()
        cache.set(NAVIGATION_CACHE_KEY, (version, sections, ends), timeout=None)
    return sections


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_DESCRIPTION": settings.SITE_DESCRIPTION,
        "navigation_sections": navigation_sections,
    }
