from django.contrib.sitemaps import Sitemap
from django.core.cache import cache
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.functional import cached_property

from . import page_cache
from .models import Article, Author, Section, Tag

# (articles version, count of articles with the published status, scheduled ones included)
PUBLISHED_COUNT_KEY = "articles:sitemap-published-count"


class HomeSitemap(Sitemap):
    changefreq = "hourly"
    priority = 1.0

    def items(self):
        return ["articles:home"]

    def location(self, item):
        return reverse(item)


def public_article_count():
    """How many articles readers can see, without counting them all at each render.

    The index and every page of the articles' sitemap need it, and they are rendered again
    at each change of the content version, which every moderation decision makes: a count of
    a large archive each time. The articles with the published status are counted once per
    version of the articles (bumped when one is saved or deleted); those of them still
    scheduled, a few at most, are counted each time through their index, so an article that
    goes live by itself, without a save, is counted from that moment.
    """
    version = page_cache.content_version(page_cache.ARTICLES_VERSION_KEY)  # before the count
    cached = cache.get(PUBLISHED_COUNT_KEY)
    if cached is None or cached[0] != version:
        published = Article.objects.filter(status=Article.Status.PUBLISHED).count()
        cached = (version, published)
        cache.set(PUBLISHED_COUNT_KEY, cached, timeout=None)
    return cached[1] - Article.objects.scheduled().count()


class WindowPaginator(Paginator):
    """Django's paginator over the public articles, reading each page as the article lists
    do (ArticleQuerySet.window): the 90th page of 1,000 read and skipped 89,000 articles."""

    @cached_property
    def count(self):
        return public_article_count()

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.object_list.window(bottom, top), number, self)


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    # Small pages render fast; the index lists as many as the archive needs.
    limit = 1000

    def items(self):
        return (
            Article.objects.published()
            .only("slug", "published_at", "updated_at")
            .order_by("-published_at", "-id")
        )

    @property
    def paginator(self):
        return WindowPaginator(self._items(), self.limit)

    def lastmod(self, article):
        return article.last_changed

    def get_latest_lastmod(self):
        """Left out of the index: the default walks every article, and even MAX() reads
        the whole table; each sitemap page still gives every article's lastmod."""
        return None


class SectionSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.6

    def items(self):
        """Only sections with something public: others have no page to index."""
        return Section.objects.published()


class AuthorSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.3

    def items(self):
        return Author.objects.published()


class TagSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.3

    def items(self):
        return Tag.objects.published()


SITEMAPS = {
    "home": HomeSitemap,
    "sections": SectionSitemap,
    "articles": ArticleSitemap,
    "authors": AuthorSitemap,
    "tags": TagSitemap,
}
