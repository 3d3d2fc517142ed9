from django.contrib.sitemaps import Sitemap
from django.db.models import Exists, OuterRef
from django.urls import reverse

from .models import Article, Author, Section


class HomeSitemap(Sitemap):
    changefreq = "hourly"
    priority = 1.0

    def items(self):
        return ["articles:home"]

    def location(self, item):
        return reverse(item)


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
        """Only sections with something public: an empty list page is nothing to index."""
        public = Article.objects.published().filter(section=OuterRef("pk"))
        return Section.objects.filter(Exists(public)).order_by("order", "name")


class AuthorSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.3

    def items(self):
        """Only authors with something public, checked per author through its index."""
        public = Article.objects.published().filter(author=OuterRef("pk"))
        return Author.objects.filter(Exists(public))


SITEMAPS = {
    "home": HomeSitemap,
    "sections": SectionSitemap,
    "articles": ArticleSitemap,
    "authors": AuthorSitemap,
}
