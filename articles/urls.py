from functools import wraps

from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.urls import path
from django.utils.csp import CSP, build_policy

from newsroom.methods import require_safe

from . import feeds, views
from .sitemaps import SITEMAPS

app_name = "articles"

# A browser shows a sitemap through its own XML viewer, whose styles are inline: under the
# site's policy it ran the addresses together above a tree with "..." in it. A sitemap is
# our own markup with no script in it, so its styles may be inline. Set as the response's
# own header (which CSP middleware leaves), the reader cache keeps it with the page.
SITEMAP_POLICY = build_policy({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]})


def sitemap_policy(view):
    @wraps(view)
    def with_policy(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = SITEMAP_POLICY
        return response

    return with_policy


urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path("section/<slug:slug>/", views.SectionView.as_view(), name="section"),
    path("tag/<slug:slug>/", views.TagView.as_view(), name="tag"),
    path("author/<slug:slug>/", views.AuthorView.as_view(), name="author"),
    path("search/", views.SearchView.as_view(), name="search"),
    # What a feed is and how to follow one, for the people who click "Follow" (the feeds are
    # XML, for feed readers). Class-based views, but the decorator says it here as for the
    # feeds: GET and HEAD only.
    path("follow/", require_safe(views.FollowSiteView.as_view()), name="follow"),
    path(
        "section/<slug:slug>/follow/",
        require_safe(views.FollowSectionView.as_view()),
        name="section-follow",
    ),
    path("tag/<slug:slug>/follow/", require_safe(views.FollowTagView.as_view()), name="tag-follow"),
    path(
        "author/<slug:slug>/follow/",
        require_safe(views.FollowAuthorView.as_view()),
        name="author-follow",
    ),
    # Django's feed and sitemap views answer any method with the document; like every other
    # page, these answer only GET and HEAD.
    path("feeds/rss/", require_safe(feeds.LatestArticlesFeed()), name="feed-rss"),
    path("feeds/atom/", require_safe(feeds.LatestArticlesAtomFeed()), name="feed-atom"),
    path(
        "feeds/section/<slug:slug>/rss/", require_safe(feeds.SectionFeed()), name="section-feed-rss"
    ),
    path(
        "feeds/section/<slug:slug>/atom/",
        require_safe(feeds.SectionAtomFeed()),
        name="section-feed-atom",
    ),
    path("feeds/tag/<slug:slug>/rss/", require_safe(feeds.TagFeed()), name="tag-feed-rss"),
    path("feeds/tag/<slug:slug>/atom/", require_safe(feeds.TagAtomFeed()), name="tag-feed-atom"),
    path("feeds/author/<slug:slug>/rss/", require_safe(feeds.AuthorFeed()), name="author-feed-rss"),
    path(
        "feeds/author/<slug:slug>/atom/",
        require_safe(feeds.AuthorAtomFeed()),
        name="author-feed-atom",
    ),
    # An index, so that a large archive spreads over several 50,000-URL sitemaps.
    path(
        "sitemap.xml",
        sitemap_policy(require_safe(sitemap_views.index)),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "articles:sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        sitemap_policy(require_safe(sitemap_views.sitemap)),
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
]
