"""RSS and Atom feeds for the whole site and for each section."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from .models import Article, Section
from .views import moved_permanently

FEED_ITEMS = 20


class LatestArticlesFeed(Feed):
    description_template = None

    def title(self):
        return settings.SITE_NAME

    def description(self):
        return settings.SITE_DESCRIPTION

    def link(self):
        return reverse("articles:home")

    def items(self):
        return Article.objects.published().for_list()[:FEED_ITEMS]

    def get_feed(self, obj, request):
        """Django makes every item's link absolute but not its author's (an Atom <uri>),
        which a feed reader, having no page to resolve it against, cannot follow."""
        feed = super().get_feed(obj, request)
        for item in feed.items:
            if item["author_link"]:
                item["author_link"] = request.build_absolute_uri(item["author_link"])
        return feed

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        """Feed readers read a description as HTML; the standfirst is plain text."""
        return escape(item.standfirst)

    def item_author_name(self, item):
        return item.author.display_name

    def item_author_link(self, item):
        return item.author.get_absolute_url()

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.last_changed

    def item_categories(self, item):
        return [item.section.name]


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = Atom1Feed
    subtitle = LatestArticlesFeed.description


class SectionFeed(LatestArticlesFeed):
    url_name = "articles:section-feed-rss"

    def __call__(self, request, *args, **kwargs):
        """A section's feed at a slug the section had before: subscribers are sent on to
        the feed at its address now (feed readers follow a permanent redirect for good)."""
        try:
            return super().__call__(request, *args, **kwargs)
        except Http404:
            moved = Section.objects.filter(former_slugs__slug=kwargs["slug"]).first()
            if moved is None:
                raise
            return moved_permanently(request, reverse(self.url_name, kwargs={"slug": moved.slug}))

    def get_object(self, request, slug):
        return get_object_or_404(Section, slug=slug)

    def title(self, section):
        return f"{section.name} — {settings.SITE_NAME}"

    def description(self, section):
        return section.description or f"The latest from {section.name}."

    def link(self, section):
        return section.get_absolute_url()

    def items(self, section):
        return Article.objects.published().for_list().filter(section=section)[:FEED_ITEMS]


class SectionAtomFeed(SectionFeed):
    url_name = "articles:section-feed-atom"
    feed_type = Atom1Feed
    subtitle = SectionFeed.description
