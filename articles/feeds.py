"""RSS and Atom feeds for the whole site and for each section, tag and author."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from .models import Article, Author, Section, Tag
from .views import moved_elsewhere, moved_permanently

FEED_ITEMS = 20


def feed_items(articles):
    """The newest FEED_ITEMS of `articles`, with their tags read in one query for them all."""
    return articles.for_list().prefetch_related("tags")[:FEED_ITEMS]


class LatestArticlesFeed(Feed):
    description_template = None

    def title(self):
        return settings.SITE_NAME

    def description(self):
        return settings.SITE_DESCRIPTION

    def link(self):
        return reverse("articles:home")

    def items(self):
        return feed_items(Article.objects.published())

    # A feed reader knows an item by its id (RSS <guid>, Atom <id>), and shows an item with
    # a new one as a new, unread article. Django's default is the article's address, which
    # changes with its slug: the id is a tag URI (RFC 4151) of this site's host instead,
    # made of what never changes, the article's number and the day it was created.
    item_guid_is_permalink = False

    def item_guid(self, item):
        return f"{item.created_at:%Y-%m-%d}:article/{item.pk}"

    def get_feed(self, obj, request):
        """Django makes every item's link absolute but not its author's (an Atom <uri>),
        which a feed reader, having no page to resolve it against, cannot follow; and
        each item's id takes the host here (item_guid)."""
        feed = super().get_feed(obj, request)
        host = urlsplit(request.build_absolute_uri("/")).hostname
        for item in feed.items:
            if item["author_link"]:
                item["author_link"] = request.build_absolute_uri(item["author_link"])
            item["unique_id"] = f"tag:{host},{item['unique_id']}"
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
        """Its section, then its tags: what feed readers file and filter items by."""
        return [item.section.name, *(tag.name for tag in item.tags.all())]


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = Atom1Feed
    subtitle = LatestArticlesFeed.description


class ListFeed(LatestArticlesFeed):
    """The feed of one section's, tag's or author's articles, found by slug as its list
    page is (views.SlugAddressMixin)."""

    slug_model = None
    url_name = None  # this feed's own
    articles_field = None  # how an article names the owner

    def __call__(self, request, *args, **kwargs):
        """A feed at a slug its owner had before, or at its slug in other capitals:
        subscribers are sent on to the feed at its address now (feed readers follow a
        permanent redirect for good), as the list page does (views.SlugAddressMixin)."""
        try:
            return super().__call__(request, *args, **kwargs)
        except Http404:
            moved = moved_elsewhere(self.slug_model.objects.published(), kwargs["slug"])
            if moved is None:
                raise
            return moved_permanently(request, reverse(self.url_name, kwargs={"slug": moved.slug}))

    def get_object(self, request, slug):
        """Only one with a public article, as its list page (its name is the feed's title)."""
        return get_object_or_404(self.slug_model.objects.published(), slug=slug)

    def link(self, owner):
        return owner.get_absolute_url()

    def items(self, owner):
        return feed_items(Article.objects.published().filter(**{self.articles_field: owner}))


class SectionFeed(ListFeed):
    slug_model = Section
    url_name = "articles:section-feed-rss"
    articles_field = "section"

    def title(self, section):
        return f"{section.name} — {settings.SITE_NAME}"

    def description(self, section):
        return section.summary


class SectionAtomFeed(SectionFeed):
    url_name = "articles:section-feed-atom"
    feed_type = Atom1Feed
    subtitle = SectionFeed.description


class TagFeed(ListFeed):
    slug_model = Tag
    url_name = "articles:tag-feed-rss"

    def items(self, tag):
        return feed_items(Article.objects.published().tagged(tag, 0, FEED_ITEMS))

    def title(self, tag):
        return f"Tagged “{tag.name}” — {settings.SITE_NAME}"

    def description(self, tag):
        return tag.summary


class TagAtomFeed(TagFeed):
    url_name = "articles:tag-feed-atom"
    feed_type = Atom1Feed
    subtitle = TagFeed.description


class AuthorFeed(ListFeed):
    slug_model = Author
    url_name = "articles:author-feed-rss"
    articles_field = "author"

    def title(self, author):
        return f"{author.display_name} — {settings.SITE_NAME}"

    def description(self, author):
        return author.summary


class AuthorAtomFeed(AuthorFeed):
    url_name = "articles:author-feed-atom"
    feed_type = Atom1Feed
    subtitle = AuthorFeed.description
