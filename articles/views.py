"""The reader's site: every public page goes through `Article.objects.published()`."""

import logging

from django.conf import settings
from django.db import OperationalError
from django.db.models.functions import Lower
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    QueryDict,
)
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.log import log_response
from django.views.decorators.cache import cache_control
from django.views.generic import DetailView, ListView

from newsroom.control_characters import CONTROL_CHARACTER
from newsroom.methods import require_safe
from newsroom.statement_timeout import statement_timeout, timed_out

from . import page_cache
from .models import SEARCH_MAX_TERMS, Article, Author, Section, Tag, read_search

logger = logging.getLogger(__name__)

# Deep pages are a crawler's game, not a reader's; beyond this an OFFSET only costs us.
MAX_PAGE_NUMBER = 10_000
SEARCH_MAX_LENGTH = 200
RELATED_ARTICLES = 3
# The headlines a follow page shows, for a taste of what the feed brings.
FOLLOW_PREVIEW_ARTICLES = 5
# What a followable list links to, by the end of its URL names (`articles:feed-rss` for the
# whole site, `articles:section-feed-rss` for a section...).
FEED_ADDRESSES = {"rss": "feed-rss", "atom": "feed-atom", "follow": "follow"}


class PageWindow:
    """One page of a list, found by fetching one row more than it shows.

    Django's Paginator counts the whole result set to know the last page; on a large
    archive that COUNT(*) costs more than the page itself. Readers only need "newer" and
    "older" links, so one extra row tells whether an older page exists.
    """

    def __init__(self, rows, *, number, per_page):
        self.number = number
        self.object_list = rows[:per_page]
        self.has_next = len(rows) > per_page
        self.has_previous = number > 1
        self.has_other_pages = self.has_next or self.has_previous

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


# How long browsers may keep the redirect from a former address. Without a lifetime they
# keep a permanent redirect for good, yet it can end: the slug changed back (which would
# loop for them between the two addresses), or given to another object. Search engines and
# feed readers still take it as permanent.
MOVED_SECONDS = 60 * 60


def moved_permanently(request, url):
    """The permanent redirect from an object's former address (a slug changed since) to
    `url`, its address now, with the query the link carried (`?page=`, `?cpage=`)."""
    if query := request.META.get("QUERY_STRING"):
        url = f"{url}?{query}"
    response = HttpResponsePermanentRedirect(url)
    patch_cache_control(response, max_age=MOVED_SECONDS)
    return response


def one_in_other_capitals(queryset, slug):
    """The one object of `queryset` whose slug is `slug` but for capitals, else None: slugs
    are unique as written, so "news" and "NEWS" may both exist, and "News" is not a guess.
    Asked only once the address matched nothing, so a found page costs no query more; and
    of the objects the address could have shown as typed, so that its redirect never leads
    to a page that would not show (a draft, for a reader). An equality on the lowered slug's
    index, not `iexact`: SQLite's LIKE fails on a pattern the length of a bot's. Unordered,
    so that the index finds the rows, not the one that gives the model's order.

    No slug now but a former one (the address before a change, typed in other capitals)
    leads to its object in one redirect, as the former slug typed as stored does."""
    lowered = slug.lower()
    now = queryset.model._base_manager.alias(lowered=Lower("slug")).filter(lowered=lowered)
    matches = list(queryset.filter(pk__in=now.values("pk")).order_by()[:2])
    if not matches:
        former_slugs = queryset.model._meta.get_field("former_slugs")
        before = former_slugs.related_model.objects.alias(lowered=Lower("slug"))
        owners = before.filter(lowered=lowered).values(former_slugs.field.name)
        matches = list(queryset.filter(pk__in=owners).order_by()[:2])
    return matches[0] if len(matches) == 1 else None


def moved_elsewhere(queryset, slug):
    """The object of `queryset` that the address with `slug` leads to now that no object
    has that slug: the one that had it before, else the one whose slug it is in other
    capitals (one_in_other_capitals); None when there is none."""
    moved = queryset.filter(former_slugs__slug=slug).first()
    return moved if moved is not None else one_in_other_capitals(queryset, slug)


class SlugAddressMixin:
    """A list of one section's, tag's or author's articles, found by the slug in the address:
    a slug it had before, or its slug typed in other capitals (/section/News/), redirects to
    its address now. The object is `self.owner`, one with a public article (published()):
    any other is a 404 as if it did not exist, its former slugs too."""

    slug_model = None

    def get(self, request, *args, **kwargs):
        slug = kwargs["slug"]
        owners = self.slug_model.objects.published()
        self.owner = owners.filter(slug=slug).first()
        if self.owner is None:
            moved = moved_elsewhere(owners, slug)
            if moved is None:
                raise Http404(f"No {self.slug_model._meta.verbose_name} at this address.")
            return moved_permanently(request, self.address_of(moved))
        return super().get(request, *args, **kwargs)

    def address_of(self, owner):
        """This page's address for `owner`, where its former slugs lead."""
        return owner.get_absolute_url()

    def list_address(self):
        return self.owner.get_absolute_url()

    def get_feeds(self):
        return feed_addresses(self.owner)


def feed_addresses(owner=None):
    """The RSS and Atom feeds of a section's, tag's or author's articles (the whole site's
    without an owner), and the page that tells readers how to follow them."""
    if owner is None:
        return {name: reverse(f"articles:{url_name}") for name, url_name in FEED_ADDRESSES.items()}
    kind = owner._meta.model_name
    return {
        name: reverse(f"articles:{kind}-{url_name}", kwargs={"slug": owner.slug})
        for name, url_name in FEED_ADDRESSES.items()
    }


def page_number(request, parameter="page", *, not_found="No such page."):
    """The `?page=` a reader asked for (or the `parameter` another list pages by: the
    comments' `?cpage=`); anything but a page that can exist is a 404."""
    digits = request.GET.get(parameter, "1").lstrip("0")  # ?page=01 is page 1
    # Its length first: int() refuses more than 4,300 digits (a 500), and a bot may send them.
    if not (digits.isascii() and digits.isdigit() and len(digits) <= len(str(MAX_PAGE_NUMBER))):
        raise Http404(not_found)
    if not 1 <= int(digits) <= MAX_PAGE_NUMBER:
        raise Http404(not_found)
    return int(digits)


def page_address(request, number, *, kept=()):
    """Page `number` of the list at this address, with the parameters named in `kept` (the
    search's words): the first page is the list's own address, not a second one for it with
    ?page=1."""
    query = QueryDict(mutable=True)
    for name in kept:
        if name in request.GET:
            query.setlist(name, request.GET.getlist(name))
    if number > 1:
        query["page"] = number
    return f"?{query.urlencode()}" if query else request.path


class ArticleListMixin:
    """Public articles, paginated without counting, plus what every list page shows."""

    template_name = "articles/article_list.html"
    context_object_name = "articles"
    meta_title = ""
    meta_description = ""

    def get_feeds(self):
        """The list's feeds and follow page (feed_addresses), or None: nobody follows it."""
        return None

    def page_number(self):
        return page_number(self.request)

    def page_query_parameters(self):
        """The query parameters besides ?page= that the list's other pages keep: those that
        select another page of this view, which its stored copies are told apart by
        (page_cache.CACHEABLE_VIEWS), such as the search's words."""
        selecting = page_cache.CACHEABLE_VIEWS[self.request.resolver_match.view_name]
        return sorted(selecting - {"page"})

    def get_queryset(self):
        return Article.objects.published().for_list()

    def get_paginate_by(self, queryset):
        return settings.ARTICLES_PER_PAGE

    def paginate_queryset(self, queryset, page_size):
        number = self.page_number()
        offset = (number - 1) * page_size
        rows = list(self.page_rows(queryset, offset, offset + page_size + 1))
        if number > 1 and not rows:
            raise Http404("No such page.")
        page = PageWindow(rows, number=number, per_page=page_size)
        return None, page, page.object_list, page.has_other_pages

    def page_rows(self, queryset, start, stop):
        """Rows `start` to `stop` of the list. Past the first page, the page's ids come
        from the index alone, and only the page's rows are read and joined
        (ArticleQuerySet.window)."""
        return queryset.window(start, stop)

    def get_meta_title(self):
        return self.meta_title

    def get_meta_description(self):
        return self.meta_description or settings.SITE_DESCRIPTION

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        canonical = self.request.path
        if page.number > 1:
            canonical += f"?page={page.number}"
        title = self.get_meta_title()
        if title and page.number > 1:
            title = f"{title} (page {page.number})"
        kept = self.page_query_parameters()
        context.update(
            meta_title=title,
            meta_description=self.get_meta_description(),
            canonical_url=self.request.build_absolute_uri(canonical),
            feeds=self.get_feeds(),
            newer_url=page_address(self.request, page.number - 1, kept=kept),
            older_url=page_address(self.request, page.number + 1, kept=kept),
        )
        return context


class HomeView(ArticleListMixin, ListView):
    """The lead story and the latest articles; older ones page by page."""

    template_name = "articles/home.html"

    def get_meta_title(self):
        """The front page is the site's name alone; its older pages say what they are."""
        return "Older stories" if self.page_number() > 1 else ""

    def get_feeds(self):
        return feed_addresses()

    def list_address(self):
        return reverse("articles:home")


class SectionView(SlugAddressMixin, ArticleListMixin, ListView):
    slug_model = Section

    def get_queryset(self):
        return super().get_queryset().filter(section=self.owner)

    def get_meta_title(self):
        return self.owner.name

    def get_meta_description(self):
        return self.owner.summary

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.owner.name, intro=self.owner.description, section=self.owner, **kwargs
        )


class TagView(SlugAddressMixin, ArticleListMixin, ListView):
    slug_model = Tag

    def page_rows(self, queryset, start, stop):
        """The list narrowed to the tag here, where the tag's own index gives the page
        (ArticleQuerySet.tagged), rather than in get_queryset."""
        return queryset.tagged(self.owner, start, stop)

    def heading(self):
        """The tag's list as its page and its feeds name it (its follow page's title is its
        own)."""
        return f"Tagged “{self.owner.name}”"

    def get_meta_title(self):
        return self.heading()

    def get_meta_description(self):
        return self.owner.summary

    def get_context_data(self, **kwargs):
        return super().get_context_data(heading=self.heading(), tag=self.owner, **kwargs)


class AuthorView(SlugAddressMixin, ArticleListMixin, ListView):
    slug_model = Author
    template_name = "articles/author.html"

    def get_queryset(self):
        return super().get_queryset().filter(author=self.owner)

    def get_meta_title(self):
        return self.owner.display_name

    def get_meta_description(self):
        return self.owner.summary

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.owner.display_name, author=self.owner, **kwargs
        )


class FollowMixin:
    """The page a list's "Follow" link opens: what a feed is, the list's RSS and Atom
    addresses in full, to paste into a feed reader, and its latest headlines.

    Feed readers find the feeds themselves through <head>. People who click a link to one
    get a wall of XML in a browser, and XSLT, which once dressed a feed up as a page, is
    being taken out of browsers: they are sent here instead.
    """

    template_name = "articles/follow.html"

    def page_number(self):
        return 1  # the latest headlines, whatever ?page= says

    def get_paginate_by(self, queryset):
        return FOLLOW_PREVIEW_ARTICLES

    def address_of(self, owner):
        return feed_addresses(owner)["follow"]

    def get_meta_title(self):
        return f"Follow {super().get_meta_title() or settings.SITE_NAME}"

    def get_meta_description(self):
        return f"{self.get_meta_title()} in a feed reader: the addresses of its RSS and Atom feeds."

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        feeds = context["feeds"]
        context.update(
            feed_urls=[
                (name, label, self.request.build_absolute_uri(feeds[name]))
                for name, label in (("rss", "RSS"), ("atom", "Atom"))
            ],
            list_url=self.list_address(),
        )
        return context


class FollowSiteView(FollowMixin, HomeView):
    pass


class FollowSectionView(FollowMixin, SectionView):
    pass


class FollowTagView(FollowMixin, TagView):
    def get_meta_title(self):
        return f"Follow articles tagged “{self.owner.name}”"


class FollowAuthorView(FollowMixin, AuthorView):
    pass


def clean_search_query(raw):
    """What a search box may send, reduced to words: no control characters, bounded."""
    text = CONTROL_CHARACTER.sub(" ", raw)[:SEARCH_MAX_LENGTH]
    return " ".join(text.split())


class SearchView(ArticleListMixin, ListView):
    template_name = "articles/search.html"
    meta_title = "Search"
    took_too_long = False

    def get_queryset(self):
        self.query = clean_search_query(self.request.GET.get("q", ""))
        self.reading = None
        if not self.query:
            return Article.objects.none()
        articles = super().get_queryset()
        # What the search looks for, and what the page says of it (common words left out).
        self.reading = read_search(self.query, using=articles.db)
        return articles.search(self.reading)

    def paginate_queryset(self, queryset, page_size):
        """The page of results, its query cancelled past SEARCH_TIMEOUT_MILLISECONDS: a
        search's words can make it costly, and a worker held past gunicorn's timeout is
        killed. The page then says so (render_to_response), with no results."""
        if not self.query:
            return super().paginate_queryset(queryset, page_size)
        try:
            with statement_timeout(settings.SEARCH_TIMEOUT_MILLISECONDS, using=queryset.db):
                return super().paginate_queryset(queryset, page_size)
        except OperationalError as error:
            if not timed_out(error):
                raise
        self.took_too_long = True
        page = PageWindow([], number=self.page_number(), per_page=page_size)
        return None, page, page.object_list, page.has_other_pages

    def render_to_response(self, context, **response_kwargs):
        if not self.took_too_long:
            return super().render_to_response(context, **response_kwargs)
        # The site could not answer in time: a 503, which no cache on the way keeps.
        response = super().render_to_response(context, status=503, **response_kwargs)
        add_never_cache_headers(response)
        # A warning, as the response's own line: Django logs any 5xx as an error, mailed to
        # ADMINS. The search's length, not its words: a reader's search is theirs.
        log_response(
            "A search of %d characters took over %d ms and was cancelled.",
            len(self.query),
            settings.SEARCH_TIMEOUT_MILLISECONDS,
            response=response,
            request=self.request,
            logger=logger,
            level="warning",
        )
        return response

    def get_meta_title(self):
        return f"Search: {self.query}" if self.query else "Search"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            query=self.query,
            reading=self.reading,
            max_terms=SEARCH_MAX_TERMS,
            **kwargs,
        )
        context["took_too_long"] = self.took_too_long
        # Result pages are not documents of their own.
        context["canonical_url"] = self.request.build_absolute_uri(self.request.path)
        return context


class ShownElsewhere(Http404):
    """Raised by a part of the article page as it renders (the comments app's section, for a
    `?cpage=` past the last page) to send the reader to `url` instead: the view answers with
    a redirect. An Http404, so that wherever nobody turns it into one it stays a 404."""

    def __init__(self, url):
        super().__init__("Shown at another address.")
        self.url = url


class ArticleDetailView(DetailView):
    """An article; staff who may read articles in the admin also see drafts and scheduled
    articles, marked as a preview (moderators, who may not, get a 404 like readers)."""

    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        return Article.objects.for_display().visible_to(self.request.user)

    def get(self, request, *args, **kwargs):
        try:
            self.object = self.get_object()
        except Http404:
            moved = moved_elsewhere(self.get_queryset(), kwargs["slug"])
            if moved is None:
                raise
            return moved_permanently(request, moved.get_absolute_url())
        page_cache.page_shows_article(request, self.object)
        # Rendered here, not on the way out, so that a part of the page can still answer
        # with a redirect instead.
        response = self.render_to_response(self.get_context_data(object=self.object))
        try:
            return response.render()
        except ShownElsewhere as elsewhere:
            return HttpResponseRedirect(elsewhere.url)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        article = self.object
        published = Article.objects.published()
        context.update(
            is_preview=not article.is_public,
            # A live article written before it went out changed for readers when it did, as
            # its feeds and sitemap say; a preview's date is no publication (structured_data).
            modified_at=article.last_changed if article.is_public else article.updated_at,
            tags=list(article.tags.all()),
            related_articles=published.for_list()
            .filter(section_id=article.section_id)
            .exclude(pk=article.pk)[:RELATED_ARTICLES],
            meta_title=article.title,
            meta_description=article.standfirst,
            canonical_url=self.request.build_absolute_uri(article.get_absolute_url()),
        )
        if article.published_at:
            # The article's own date first: SQLite then uses it as the index range.
            neighbours = Article.objects.only("title", "slug", "published_at")
            context["previous_article"] = neighbours.before(article).published().first()
            context["next_article"] = neighbours.after(article).published().first()
        context["structured_data"] = self.structured_data(
            article, context["canonical_url"], modified_at=context["modified_at"]
        )
        return context

    def structured_data(self, article, url, *, modified_at):
        """schema.org NewsArticle, for search engines and link previews."""
        data = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "description": article.standfirst,
            "mainEntityOfPage": url,
            "articleSection": article.section.name,
            "dateModified": modified_at.isoformat(),
            "author": {
                "@type": "Person",
                "name": article.author.display_name,
                "url": self.request.build_absolute_uri(article.author.get_absolute_url()),
            },
            "publisher": {"@type": "Organization", "name": settings.SITE_NAME},
        }
        if article.is_public:  # a preview's date is no publication date
            data["datePublished"] = article.published_at.isoformat()
        if article.lead_image:
            data["image"] = [self.request.build_absolute_uri(article.lead_image.url)]
        return data

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if context["is_preview"]:
            # A draft must never sit in a shared cache where a reader could get it.
            patch_cache_control(response, no_cache=True, private=True)
        return response


@require_safe
@cache_control(max_age=3600, public=True)
def robots_txt(request):
    """Deliberately tiny: no template, no database; the benchmark's floor."""
    sitemap = request.build_absolute_uri(reverse("articles:sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /search/", f"Sitemap: {sitemap}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
