"""Cached pages for anonymous readers: one shared copy, fresh per-reader parts, never stale.

Every change a reader should see (a moderation decision, an article edited, published,
unpublished, deleted or tagged, a section or author renamed) shows at the very next
request; the form in a cached page still works without JavaScript, with its own token and
question for each reader.
"""

import logging
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from captcha.models import CaptchaStore
from django.conf import settings as django_settings
from django.contrib.staticfiles.storage import StaticFilesStorage
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, transaction
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.autoreload import file_changed
from django.utils.http import http_date

from articles import page_cache
from articles.models import Article, Section
from comments import services
from comments.captcha import refill_pool
from comments.models import Comment
from comments.privacy import erase_commenter_data
from comments.services import refresh_comment_count
from comments.thread import PENDING_COOKIE
from tests.factories import (
    captcha_answer,
    make_article,
    make_article_viewer,
    make_author,
    make_comment,
    make_draft,
    make_section,
    make_tag,
    make_user,
)

pytestmark = pytest.mark.django_db

HOME = "/"
FEED = "/feeds/rss/"
SITEMAP = "/sitemap-articles.xml"
LOCAL_MEMORY = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


@pytest.fixture(autouse=True)
def _site(settings, reader_cache):
    refill_pool(20)
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0


@pytest.fixture
def moderator():
    return make_user("moira", staff=True, superuser=True)


def read(path, client=None, *, etag=None):
    """A page as a new anonymous reader gets it (or as `client`, with its cookies)."""
    headers = {"If-None-Match": etag} if etag else {}
    response = (client or Client()).get(path, headers=headers)
    return response, response.content.decode()


def value(html, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    return match.group(1) if match else None


def answered_form(html, **fields):
    key = value(html, "captcha_0")
    return {
        "name": "Grace",
        "email": "grace@example.com",
        "url": "",
        "body": "A comment sent from a cached page.",
        "captcha_0": key,
        "captcha_1": captcha_answer(key),
        "started": value(html, "started"),
        "csrfmiddlewaretoken": value(html, "csrfmiddlewaretoken"),
        "phone": "",
        **fields,
    }


# -- Served from the cache --------------------------------------------------------------------


def test_the_next_anonymous_reader_gets_the_article_without_a_query(django_assert_num_queries):
    article = make_article(title="The hot story")
    make_comment(article, body="Well reported.")
    read(article.get_absolute_url())  # rendered and stored
    read(article.get_absolute_url())  # served; draws the captcha pool's keys once a minute

    with django_assert_num_queries(0):
        response, html = read(article.get_absolute_url())

    assert response.status_code == 200
    assert "The hot story" in html
    assert "Well reported." in html


class FirstDeploy(StaticFilesStorage):
    """Stands in for the production storage after `collectstatic`: the hash of its manifest,
    and file names that carry a hash (ManifestStaticFilesStorage)."""

    manifest_hash = "first"

    def url(self, name):
        return super().url(name).replace(".css", f".{self.manifest_hash}.css")


class SecondDeploy(FirstDeploy):
    manifest_hash = "second"


def qualified(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def test_a_deploy_with_new_static_files_ends_the_pages_that_link_the_old_ones(settings):
    """`collectstatic --clear` removes the old stylesheet: a page kept from before the
    deploy would come unstyled."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": qualified(FirstDeploy)}}
    make_article(title="On the front page")
    _, before = read(HOME)
    assert "site.first.css" in before

    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": qualified(SecondDeploy)}}
    _, after = read(HOME)

    assert "site.second.css" in after
    assert "site.first.css" not in after


def checkout(path):
    """The site's templates as a release checked out at `path` holds them."""
    return shutil.copytree(django_settings.BASE_DIR / "templates", path / "templates")


def start(settings, templates):
    """The site's processes start, as a deploy or a restart starts them, with `templates`.

    What a process reads once is read again; and each test client is a new server, whose
    middleware works out the release as it starts."""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [templates]}]
    page_cache.source_digest.cache_clear()


def test_a_deploy_that_changes_a_template_ends_the_pages_the_old_one_rendered(settings, tmp_path):
    """The content version is in Redis and outlives the restart: without the release in
    the key, readers got the page from before the fix until it expired."""
    first, second = checkout(tmp_path / "first"), checkout(tmp_path / "second")
    base = second / "base.html"
    base.write_text(base.read_text().replace("</footer>", "<p>Fixed by the deploy.</p></footer>"))
    start(settings, first)
    make_article(title="On the front page")
    read(HOME)

    start(settings, second)
    _, html = read(HOME)

    assert "Fixed by the deploy." in html


def test_a_template_edited_under_runserver_ends_the_pages_the_old_one_rendered(settings, tmp_path):
    """runserver takes an edited template without a restart, so the release stays the same."""
    templates = checkout(tmp_path / "working-copy")
    start(settings, templates)
    make_article(title="On the front page")
    read(HOME)

    base = templates / "base.html"
    base.write_text(base.read_text().replace("</footer>", "<p>Edited just now.</p></footer>"))
    file_changed.send(sender=None, file_path=base)  # what runserver's reloader sends
    _, html = read(HOME)

    assert "Edited just now." in html


def test_the_same_release_started_again_elsewhere_keeps_serving_its_pages(
    settings, tmp_path, django_assert_num_queries
):
    """A restart, a recycled worker, another host with the release in another folder: one
    release, one set of pages. How long they last (READER_CACHE_SECONDS) is no part of it."""
    start(settings, checkout(tmp_path / "here"))
    make_article()
    read(HOME)

    start(settings, checkout(tmp_path / "there"))
    settings.READER_CACHE_SECONDS = 300
    with django_assert_num_queries(0):
        response, _ = read(HOME)

    assert response.status_code == 200


def test_a_restart_with_another_site_name_shows_it_at_once(settings):
    settings.SITE_NAME = "The Old Name"
    make_article()
    read(HOME)

    settings.SITE_NAME = "The New Name"
    _, html = read(HOME)

    assert "The New Name" in html
    assert "The Old Name" not in html


def test_a_restart_with_more_comments_per_page_shows_them_at_once(settings):
    """A setting of the comments app, which names it to the page cache."""
    settings.COMMENTS_PER_PAGE = 1
    article = make_article()
    make_comment(article, body="The first word.")
    make_comment(article, body="The second word.")
    _, before = read(article.get_absolute_url())
    assert ("The first word." in before) != ("The second word." in before)

    settings.COMMENTS_PER_PAGE = 25
    _, after = read(article.get_absolute_url())

    assert "The first word." in after
    assert "The second word." in after


def test_a_restart_with_a_new_secret_key_serves_forms_signed_with_it(settings):
    """A cached form carries a value signed with the secret key: rotated (a leak, or
    routine), the pages from before could not be refilled, and every reader got a 500."""
    article = make_article()
    read(article.get_absolute_url())

    settings.SECRET_KEY = "a-new-secret-key-" + "y" * 40
    response, html = read(article.get_absolute_url())

    assert response.status_code == 200
    assert value(html, "started")


def test_every_process_of_one_release_works_out_the_same_release():
    """Workers of one deploy share their pages: nothing in the release may differ between
    processes (Python seeds the hashing of strings, and with it the order of sets, anew in
    each one)."""
    script = (
        "import django; django.setup(); from articles.page_cache import release; print(release())"
    )
    releases = {
        subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "newsroom.settings",
                "PYTHONHASHSEED": seed,
            },
            cwd=django_settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }

    assert len(releases) == 1
    assert re.fullmatch(r"[0-9a-f]{64}\n", releases.pop())


@pytest.mark.parametrize(
    "path",
    [
        HOME,
        "/?page=2",
        "/section/{section}/",
        "/section/{section}/?page=2",
        "/tag/{tag}/",
        "/author/{author}/",
        "/search/?q=front",
        FEED,
        "/feeds/atom/",
        "/feeds/section/{section}/rss/",
        "/feeds/section/{section}/atom/",
        "/articles/{article}/?cpage=2",
    ],
)
def test_every_list_feed_and_page_of_comments_is_served_from_the_cache(
    path, settings, django_assert_num_queries
):
    settings.ARTICLES_PER_PAGE = settings.COMMENTS_PER_PAGE = 1
    tag = make_tag()
    article = make_article(title="On the front page", tags=[tag])
    make_article(title="In front of it", section=article.section, author=article.author, tags=[tag])
    for _ in range(2):
        make_comment(article)
    path = path.format(
        section=article.section.slug, tag=tag.slug, author=article.author.slug, article=article.slug
    )
    read(path)  # rendered and stored
    read(path)  # served; an article's page draws the captcha pool's keys once a minute

    with django_assert_num_queries(0):
        response, body = read(path)

    assert response.status_code == 200
    assert "front" in body


@pytest.mark.parametrize(
    ("path", "listed"),
    [("/sitemap.xml", SITEMAP), (SITEMAP, "/articles/mapped/"), (f"{SITEMAP}?p=01", "/mapped/")],
)
def test_sitemaps_are_served_from_the_cache(path, listed, django_assert_num_queries):
    """A sitemap page lists a thousand articles: rendered at every request, it cost 40 times
    a cached page (50 ms against 1.3), for any bot to ask again and again."""
    make_article(slug="mapped")
    read(path)

    with django_assert_num_queries(0):
        response, body = read(path)

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, noodp, noarchive"
    # The browser's XML viewer styles it inline: the cached copy keeps the sitemap's policy.
    assert "style-src 'self' 'unsafe-inline';" in response["Content-Security-Policy"]
    assert listed in body


def test_a_page_number_spelled_with_leading_zeros_is_the_same_stored_page(
    django_assert_num_queries,
):
    make_article()
    read("/?page=1")

    with django_assert_num_queries(0):
        response, _ = read("/?page=0001")

    assert response.status_code == 200


def test_every_reader_gets_their_own_question_and_form_time_and_no_shared_token():
    article = make_article()
    read(article.get_absolute_url())

    responses = [read(article.get_absolute_url()) for _ in range(3)]

    pages = [html for _, html in responses]
    assert {value(html, "csrfmiddlewaretoken") for html in pages} == {""}
    assert not any(response.cookies for response, _ in responses)
    assert len({value(html, "started") for html in pages}) == 3
    for html in pages:
        key = value(html, "captcha_0")
        assert CaptchaStore.objects.filter(hashkey=key).exists()
        assert html.count(key) >= 2  # the hidden input and the image share the fresh key


def test_a_reader_writing_on_a_cached_page_gets_a_token_that_sends_the_comment():
    article = make_article()
    read(article.get_absolute_url())
    reader = Client(enforce_csrf_checks=True)
    _, html = read(article.get_absolute_url(), reader)

    # What comments.js does when the reader starts writing.
    token = reader.get(reverse("comments:token"))
    response = reader.post(
        reverse("comments:post", args=[article.pk]),
        answered_form(html, csrfmiddlewaretoken=token.json()["token"]),
    )

    assert "no-store" in token["Cache-Control"]
    assert response.status_code == 303
    assert Comment.objects.get().body == "A comment sent from a cached page."


def test_the_form_in_a_cached_page_works_without_javascript():
    """Without a token the first send comes back filled in, with one; the second goes."""
    article = make_article()
    read(article.get_absolute_url())
    reader = Client(enforce_csrf_checks=True)
    _, html = read(article.get_absolute_url(), reader)

    first = reader.post(reverse("comments:post", args=[article.pk]), answered_form(html))
    again = first.content.decode()
    second = reader.post(reverse("comments:post", args=[article.pk]), answered_form(again))

    assert first.status_code == 403
    assert "One more step to send your comment" in again
    assert "A comment sent from a cached page.</textarea>" in again
    assert second.status_code == 303
    assert Comment.objects.get().body == "A comment sent from a cached page."


def test_an_answered_question_is_not_handed_out_again():
    article = make_article()
    reader = Client()
    _, html = read(article.get_absolute_url(), reader)
    used = value(html, "captcha_0")
    reader.post(reverse("comments:post", args=[article.pk]), answered_form(html))

    keys = {value(read(article.get_absolute_url())[1], "captcha_0") for _ in range(10)}

    assert used not in keys


def test_commenter_sees_their_pending_comment_and_others_get_the_shared_page():
    article = make_article()
    read(article.get_absolute_url())
    commenter = Client()
    _, html = read(article.get_absolute_url(), commenter)
    commenter.post(reverse("comments:post", args=[article.pk]), answered_form(html, body="Mine."))

    response, html = read(article.get_absolute_url(), commenter)
    assert "Mine." in html
    assert "private" in response["Cache-Control"]  # no proxy may hand their page on
    assert commenter.cookies[PENDING_COOKIE].value
    assert "Mine." not in read(article.get_absolute_url())[1]


def test_reply_links_render_the_form_for_that_reader():
    article = make_article()
    comment = make_comment(article, name="Linus")
    read(article.get_absolute_url())

    response, html = read(f"{article.get_absolute_url()}?replyto={comment.pk}")

    assert "Reply to <bdi>Linus</bdi>" in html
    assert value(html, "csrfmiddlewaretoken")  # theirs: no proxy may hand it on
    assert "private" in response["Cache-Control"]


def test_a_cached_page_has_the_headers_of_a_fresh_render(clock):
    """On the page cache's clock: a render within the second of a change has no date yet,
    and a copy served once that second has passed has one (finish)."""
    article = make_article()
    fresh, _ = read(article.get_absolute_url())

    cached, _ = read(article.get_absolute_url())

    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert fresh[name]
    # The reader whose request rendered the page got a CSRF token and its cookie; copies have none.
    shaped_by_the_token = {"Content-Length": None, "Vary": None}
    assert {**cached.headers, **shaped_by_the_token} == {**fresh.headers, **shaped_by_the_token}
    assert not cached.cookies


@pytest.mark.parametrize("kind", ["home", "feed", "article"])
def test_head_of_a_cached_page_announces_the_length_of_the_page(kind):
    """Link checkers and download tools read a page's size from HEAD, as HTTP intends."""
    article = make_article()
    path = {"home": HOME, "feed": FEED, "article": article.get_absolute_url()}[kind]
    read(path)  # rendered and stored

    head = Client().head(path)
    served, _ = read(path)

    assert head.status_code == 200
    assert head.content == b""
    # An article's form carries a time signed for each reader, a character longer or shorter.
    assert int(head["Content-Length"]) == pytest.approx(len(served.content), abs=4)


@pytest.mark.parametrize("path", [HOME, "/search/?q=story"])
def test_one_readers_campaign_tags_never_reach_the_shared_page(path, settings):
    """Campaign tags are left out of the page's key, so nothing in the stored page may come
    from them: a newsletter may put a subscriber's address in its links."""
    settings.ARTICLES_PER_PAGE = 1
    make_article(title="A story")
    make_article(title="Another story")
    separator = "&" if "?" in path else "?"
    read(f"{path}{separator}utm_source=newsletter&utm_term=jane%40example.com")

    _, html = read(path)

    assert 'rel="next"' in html
    assert "utm_" not in html
    assert "jane@example.com" not in html


@pytest.mark.parametrize("tag", ["fbclid=IwAR0xyz", "gclid=Cj0KCQ", "ref=t.co", "_=1732900000"])
def test_a_reader_arriving_with_a_click_id_gets_the_stored_page(tag, django_assert_num_queries):
    """Social networks and ad platforms add an id of their own to every link they pass on
    (?fbclid=, ?gclid=), different at each click, and bots add one to get past caches: an
    article shared widely would otherwise be rendered again for every reader it sends."""
    article = make_article(title="The hot story")
    read(article.get_absolute_url())  # rendered and stored
    read(article.get_absolute_url())  # served; draws the captcha pool's keys once a minute

    with django_assert_num_queries(0):
        response, html = read(f"{article.get_absolute_url()}?{tag}")

    assert response.status_code == 200
    assert "The hot story" in html


def test_a_parameter_no_page_reads_never_reaches_the_shared_page(settings):
    """A stored page may not carry what one reader's link added: the pagination's links
    would keep it for every reader after them."""
    settings.ARTICLES_PER_PAGE = 1
    make_article(title="A story")
    make_article(title="Another story")
    read("/?fbclid=jane%40example.com")

    _, html = read("/")

    assert 'rel="next" href="?page=2"' in html
    assert "fbclid" not in html
    assert "jane@example.com" not in html


class RecordingQuery(QueryDict):
    """request.GET that notes every parameter asked for; "*" when it is read whole."""

    def __init__(self, query_string, asked):
        self.asked = set()  # what parsing the query asks is not the view's
        super().__init__(query_string)
        self.asked = asked

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)

    def getlist(self, key, default=None):
        self.asked.add(key)
        return super().getlist(key, default)

    def _whole(self, method, *args):
        self.asked.add("*")
        return getattr(super(), method)(*args)

    def __iter__(self):
        return self._whole("__iter__")

    def lists(self):
        return self._whole("lists")

    def items(self):
        return self._whole("items")

    def urlencode(self, safe=None):
        return self._whole("urlencode", safe)

    def copy(self):
        return self._whole("copy")


class RecordQueryParameters:
    """Placed just after the page cache: what the view and its templates ask request.GET."""

    asked = set()

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.GET = RecordingQuery(request.GET.urlencode(), self.asked)
        return self.get_response(request)


def cacheable_view_paths():
    section, tag, author = make_section(), make_tag(), make_author()
    article = make_article(section=section, author=author, tags=[tag])
    make_comment(article)
    return {
        "articles:home": reverse("articles:home"),
        "articles:section": section.get_absolute_url(),
        "articles:tag": tag.get_absolute_url(),
        "articles:author": author.get_absolute_url(),
        "articles:search": f"{reverse('articles:search')}?q=story",
        "articles:detail": article.get_absolute_url(),
        "articles:feed-rss": reverse("articles:feed-rss"),
        "articles:feed-atom": reverse("articles:feed-atom"),
        "articles:section-feed-rss": reverse(
            "articles:section-feed-rss", kwargs={"slug": section.slug}
        ),
        "articles:section-feed-atom": reverse(
            "articles:section-feed-atom", kwargs={"slug": section.slug}
        ),
        "articles:tag-feed-rss": reverse("articles:tag-feed-rss", kwargs={"slug": tag.slug}),
        "articles:tag-feed-atom": reverse("articles:tag-feed-atom", kwargs={"slug": tag.slug}),
        "articles:author-feed-rss": reverse(
            "articles:author-feed-rss", kwargs={"slug": author.slug}
        ),
        "articles:author-feed-atom": reverse(
            "articles:author-feed-atom", kwargs={"slug": author.slug}
        ),
        "articles:follow": reverse("articles:follow"),
        "articles:section-follow": reverse(
            "articles:section-follow", kwargs={"slug": section.slug}
        ),
        "articles:tag-follow": reverse("articles:tag-follow", kwargs={"slug": tag.slug}),
        "articles:author-follow": reverse("articles:author-follow", kwargs={"slug": author.slug}),
        "articles:sitemap": reverse("articles:sitemap"),
        "articles:sitemap-section": SITEMAP,
    }


def test_cached_pages_read_only_the_parameters_their_keys_hold(settings):
    """A stored page is shared by every address that differs in a parameter its view does
    not list in CACHEABLE_VIEWS: a view that read one more would show one reader's value
    to all the others. Every cached view is asked for here, and what it read is checked."""
    position = settings.MIDDLEWARE.index("articles.page_cache.ReaderPageCacheMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: position + 1],
        f"{__name__}.RecordQueryParameters",
        *settings.MIDDLEWARE[position + 1 :],
    ]
    paths = cacheable_view_paths()
    assert set(paths) == set(page_cache.CACHEABLE_VIEWS)

    for view, path in paths.items():
        RecordQueryParameters.asked.clear()
        response, _ = read(path)
        assert response.status_code == 200, view

        read_but_not_in_the_key = RecordQueryParameters.asked - page_cache.CACHEABLE_VIEWS[view]
        assert read_but_not_in_the_key <= page_cache.RENDERED_FOR_THE_READER, view


def test_each_host_gets_the_page_with_its_own_links(settings):
    settings.ALLOWED_HOSTS = ["news.example", "www.news.example"]
    article = make_article()
    read(article.get_absolute_url(), Client(headers={"host": "news.example"}))

    _, html = read(article.get_absolute_url(), Client(headers={"host": "www.news.example"}))

    assert "http://www.news.example/" in html
    assert "http://news.example/" not in html


def test_staff_preview_of_a_draft_is_never_shared(client):
    draft = make_draft(title="Not yet")
    client.force_login(make_article_viewer())

    assert client.get(draft.get_absolute_url()).status_code == 200
    assert read(draft.get_absolute_url())[0].status_code == 404


# -- Conditional GET --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["article", "feed"])
def test_unchanged_page_answers_304_to_its_etag(kind):
    article = make_article()
    path = article.get_absolute_url() if kind == "article" else FEED
    first, _ = read(path)

    again, body = read(path, etag=first["ETag"])

    assert first["ETag"]
    assert again.status_code == 304
    assert body == ""


@pytest.mark.parametrize("served", ["rendered", "stored"])
@pytest.mark.parametrize(
    "precondition",
    [{"If-Match": '"another"'}, {"If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}],
)
def test_a_failed_precondition_answers_412_without_the_page(served, precondition):
    """A 412 says the page was not sent: a stored copy must not send it all the same."""
    article = make_article(title="The hot story")
    if served == "stored":
        read(article.get_absolute_url())

    refused = Client().get(article.get_absolute_url(), headers=precondition)

    assert refused.status_code == 412
    assert refused.content == b""


@pytest.mark.parametrize("served", ["rendered", "stored"])
def test_a_failed_precondition_is_logged_as_information_not_as_a_warning(served, caplog):
    """A 412 is a conditional request's normal answer, as a 304 is (which is not logged):
    as a warning each, any bot sending If-Match could flood the log with them."""
    path = make_article().get_absolute_url()
    if served == "stored":
        read(path)

    with caplog.at_level(logging.INFO, logger="django.request"):
        refused = Client().get(path, headers={"If-Match": '"another"'})

    assert refused.status_code == 412
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "django.request"]
    assert logged == [("INFO", f"Precondition Failed: {path}")]


@pytest.mark.parametrize("kind", ["article", "feed"])
def test_unchanged_page_answers_304_to_if_modified_since(kind, clock):
    article = make_article()
    path = article.get_absolute_url() if kind == "article" else FEED
    first, _ = read(path)

    again = Client().get(path, headers={"If-Modified-Since": first["Last-Modified"]})

    assert again.status_code == 304


@pytest.mark.parametrize("served", ["rendered", "stored"])
@pytest.mark.parametrize("kind", ["article", "feed"])
def test_an_if_modified_since_later_than_now_is_ignored(served, kind, clock):
    """RFC 9110 (13.1.3): a date in the future is no date the reader's copy can have been
    sent with (a wrong clock, a forged header); it would have a 304 until that date
    whatever changed meanwhile. The request is answered as though it had none."""
    path = make_article().get_absolute_url() if kind == "article" else FEED
    if served == "stored":
        read(path)
    tomorrow = http_date(time.time() + 24 * 60 * 60)

    response = Client().get(path, headers={"If-Modified-Since": tomorrow})

    assert response.status_code == 200
    assert response.content


def test_an_edit_to_an_older_article_answers_if_modified_since_with_the_new_feed(committed, clock):
    """The feed's newest item is unchanged: its date cannot be the feed's Last-Modified."""
    older = make_article(title="Old headline", published_at=timezone.now() - timedelta(days=2))
    make_article(title="Newest story")
    first, _ = read(FEED)
    clock.now += 1

    with committed():
        older.title = "New headline"
        older.save()
    again = Client().get(FEED, headers={"If-Modified-Since": first["Last-Modified"]})

    assert again.status_code == 200
    assert "New headline" in again.content.decode()


def test_a_change_in_the_second_of_the_last_render_is_not_answered_304_to_its_date(
    clock, moderator, committed
):
    """HTTP dates count seconds: the copy rendered before the change and the one rendered
    after it, in the same second, would carry the same Last-Modified."""
    article = make_article()
    comment = make_comment(article, status="pending", body="Approved within the second.")
    first, _ = read(article.get_absolute_url())
    clock.now += 0.25

    with committed():
        services.approve(comment, by=moderator)
    clock.now += 0.25
    again = Client().get(
        article.get_absolute_url(), headers={"If-Modified-Since": first["Last-Modified"]}
    )

    assert again.status_code == 200
    assert "Approved within the second." in again.content.decode()


def test_a_feed_rendered_in_the_second_of_a_change_has_no_date_yet_nor_its_newest_items(
    clock, committed
):
    older = make_article(title="Old headline", published_at=timezone.now() - timedelta(days=2))
    make_article(title="Newest story")
    read(FEED)
    clock.now += 0.25

    with committed():
        older.title = "New headline"
        older.save()
    clock.now += 0.25
    fresh, html = read(FEED)
    cached, _ = read(FEED)

    assert "New headline" in html
    assert not fresh.has_header("Last-Modified")
    assert not cached.has_header("Last-Modified")


def test_a_page_rendered_in_the_second_of_a_change_is_dated_from_the_next_one(clock, committed):
    """...and answers If-Modified-Since with 304 again from then on."""
    article = make_article(title="Old headline")
    read(article.get_absolute_url())
    clock.now += 0.25
    with committed():
        article.title = "New headline"
        article.save()
    read(article.get_absolute_url())  # stored in the second of the change
    clock.now += 1

    later, html = read(article.get_absolute_url())
    again = Client().get(
        article.get_absolute_url(), headers={"If-Modified-Since": later["Last-Modified"]}
    )

    assert "New headline" in html
    assert later["Last-Modified"] == http_date(int(clock.now))
    assert again.status_code == 304


def test_a_change_gives_a_new_etag_and_the_full_page(moderator, django_capture_on_commit_callbacks):
    article = make_article()
    comment = make_comment(article, status="pending", body="Now visible.")
    first, _ = read(article.get_absolute_url())

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=moderator)
    again, html = read(article.get_absolute_url(), etag=first["ETag"])

    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert "Now visible." in html


# -- Invalidation: moderation -----------------------------------------------------------------


def test_approving_shows_the_comment_and_its_count_at_the_next_request(
    moderator, django_capture_on_commit_callbacks
):
    article = make_article()
    comment = make_comment(article, status="pending", body="Worth publishing.")
    assert "Worth publishing." not in read(article.get_absolute_url())[1]
    assert "#comments" not in read(HOME)[1]

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=moderator)
    html = read(article.get_absolute_url())[1]

    assert "Worth publishing." in html
    assert "1 comment" in html
    assert '#comments">1 comment</a>' in read(HOME)[1]


@pytest.mark.parametrize("action", ["unapprove", "reject", "mark_spam"])
def test_withholding_hides_the_comment_and_its_replies_at_the_next_request(
    action, moderator, django_capture_on_commit_callbacks
):
    article = make_article()
    comment = make_comment(article, body="Soon withheld.")
    make_comment(article, parent=comment, body="A reply to it.")
    refresh_comment_count(article.pk)
    html = read(article.get_absolute_url())[1]
    assert "Soon withheld." in html
    assert "2 comments" in html
    assert "2 comments" in read(HOME)[1]

    with django_capture_on_commit_callbacks(execute=True):
        getattr(services, action)(comment, by=moderator)
    html = read(article.get_absolute_url())[1]

    assert "Soon withheld." not in html
    assert "A reply to it." not in html
    assert "2 comments" not in html
    assert "#comments" not in read(HOME)[1]


@pytest.mark.parametrize("action", ["reject", "mark_spam"])
def test_clearing_held_comments_from_the_queue_leaves_readers_pages_cached(
    action, moderator, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """Readers never saw them: a spam wave cleared from the queue must not end every page."""
    article = make_article()
    held = make_comment(article, status="pending", body="Buy cheap watches.")
    for path in (article.get_absolute_url(), article.get_absolute_url(), HOME):
        read(path)  # stored, then served with the question sample the cache keeps

    with django_capture_on_commit_callbacks(execute=True):
        getattr(services, action)(held, by=moderator)

    with django_assert_num_queries(0):
        assert "Buy cheap watches." not in read(article.get_absolute_url())[1]
        read(HOME)


def test_erasing_a_commenter_shows_at_the_next_request(django_capture_on_commit_callbacks):
    article = make_article()
    make_comment(article, name="Ada Lovelace", email="ada@example.com", body="Mine to take.")
    assert "Ada Lovelace" in read(article.get_absolute_url())[1]

    with django_capture_on_commit_callbacks(execute=True):
        erase_commenter_data("ada@example.com")

    html = read(article.get_absolute_url())[1]
    assert "Ada Lovelace" not in html
    assert "Mine to take." not in html


@pytest.mark.parametrize("status", ["pending", "rejected", "spam"])
def test_erasing_a_commenter_readers_never_saw_leaves_their_pages_cached(
    status, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """A privacy request from someone whose comments all wait (or were turned down) changes
    nothing on readers' pages: it must not end every cached page on the site."""
    article = make_article()
    make_comment(article, status=status, email="ada@example.com", body="Never shown.")
    for path in (article.get_absolute_url(), article.get_absolute_url(), HOME):
        read(path)  # stored, then served with the question sample the cache keeps

    with django_capture_on_commit_callbacks(execute=True):
        assert erase_commenter_data("ada@example.com") == 1

    with django_assert_num_queries(0):
        read(article.get_absolute_url())
        read(HOME)


def test_a_moderators_edit_shows_at_the_next_request(django_capture_on_commit_callbacks):
    article = make_article()
    comment = make_comment(article, body="Teh typo.")
    read(article.get_absolute_url())

    with django_capture_on_commit_callbacks(execute=True):
        services.edit_body(comment, body="The typo, fixed.")

    assert "The typo, fixed." in read(article.get_absolute_url())[1]


def test_an_approved_comment_edited_by_a_script_shows_at_the_next_request(committed):
    """Not every write goes through comments.services: a shell, a data fix, the demo data."""
    article = make_article()
    comment = make_comment(article, body="Teh typo.")
    read(article.get_absolute_url())

    with committed():
        comment.body = "The typo, fixed."
        comment.save()

    body = read(article.get_absolute_url())[1]
    assert "The typo, fixed." in body
    assert "Teh typo." not in body


def test_a_new_pending_comment_leaves_the_shared_pages_cached(django_assert_num_queries):
    article = make_article()
    commenter = Client()
    _, html = read(article.get_absolute_url(), commenter)
    commenter.post(reverse("comments:post", args=[article.pk]), answered_form(html))
    read(article.get_absolute_url())

    with django_assert_num_queries(0):
        read(article.get_absolute_url())


# -- Invalidation: articles -------------------------------------------------------------------


def test_editing_an_article_shows_everywhere_at_the_next_request(committed):
    article = make_article(title="Old headline")
    paths = [article.get_absolute_url(), HOME, article.section.get_absolute_url(), FEED]
    for path in paths:
        assert "Old headline" in read(path)[1]

    with committed():
        article.title = "New headline"
        article.save()

    for path in paths:
        body = read(path)[1]
        assert "New headline" in body
        assert "Old headline" not in body


def test_a_change_made_on_another_server_shows_at_the_next_request():
    """Each process keeps the pages it served last; the shared version still rules them."""
    article = make_article(title="Old headline")
    assert "Old headline" in read(article.get_absolute_url())[1]

    # Another app server saves the article: its signal bumps the shared version, and this
    # process hears of the change only through that version.
    Article.objects.filter(pk=article.pk).update(title="New headline")
    page_cache.bump_content_version()

    body = read(article.get_absolute_url())[1]
    assert "New headline" in body
    assert "Old headline" not in body


def test_after_a_restore_the_command_the_readme_names_serves_the_restored_content():
    """A restore replaces rows under the cache and bumps no version: pages, and the
    sections in every page's header, kept showing what the database no longer had."""
    section = make_section(name="Harbour")
    article = make_article(title="Later headline", section=section)
    assert "Later headline" in read(article.get_absolute_url())[1]

    # The backup is older: the article had its first headline, the section its first name.
    Article.objects.filter(pk=article.pk).update(title="Restored headline")
    Section.objects.filter(pk=section.pk).update(name="Port")
    call_command("forget_cached_pages")

    body = read(article.get_absolute_url())[1]
    assert "Restored headline" in body
    assert "Later headline" not in body
    assert ">Port<" in body
    assert ">Harbour<" not in body


def manage_from_a_shell(tmp_path, command):
    """`manage.py command`, run by an operator beside the site: a process of its own, with
    the site's settings (this test process stands for its workers: their database and
    cache), and a temporary folder of its own, as systemd's PrivateTmp gives the service
    another /tmp than a shell's, or as a TMPDIR set in one of them only."""
    (tmp_path / "the_same_site.py").write_text(
        "from newsroom.settings import *\n"
        f"DATABASES['default']['NAME'] = {django_settings.DATABASES['default']['NAME']!r}\n"
        f"CACHES = {django_settings.CACHES!r}\n"
    )
    shells_tmp = tmp_path / "shells-tmp"
    shells_tmp.mkdir()
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", command],
        cwd=django_settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "the_same_site",
            "PYTHONPATH": str(tmp_path),
            "TMPDIR": str(shells_tmp),
        },
        capture_output=True,
        text=True,
        check=True,
    )


def test_a_command_run_from_a_shell_with_another_tmp_ends_the_workers_pages(settings, tmp_path):
    """Without Redis, each worker keeps its own pages, and the content version every process
    shares is a file: the shell's command must find the workers' one, whatever its /tmp.
    An erasure that readers keep seeing is a privacy defect, not only a stale page."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")  # this test process's own
    settings.CACHES = {"default": {**LOCAL_MEMORY, "KEY_PREFIX": prefix}}
    caches["default"].clear()
    article = make_article(title="Later headline")
    assert "Later headline" in read(article.get_absolute_url())[1]
    Article.objects.filter(pk=article.pk).update(title="Restored headline")
    assert "Later headline" in read(article.get_absolute_url())[1]  # served from the cache

    manage_from_a_shell(tmp_path, "forget_cached_pages")

    body = read(article.get_absolute_url())[1]
    assert "Restored headline" in body
    assert "Later headline" not in body


def read_from_another_connection(path):
    """A page as a reader served by another worker gets it, from its own connection."""

    def other_reader():
        try:
            return read(path)[1]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(other_reader).result()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's shared in-memory test database locks readers out of a write transaction",
)
@pytest.mark.django_db(transaction=True)
def test_a_page_read_while_an_edit_commits_is_not_kept_after_it():
    """Between the save and the commit another reader still sees the old row: the page it
    stores must not pass for the new one."""
    article = make_article(title="Old headline")
    url = article.get_absolute_url()

    with transaction.atomic():
        article.title = "New headline"
        article.save()
        assert "Old headline" in read_from_another_connection(url)

    body = read(url)[1]
    assert "New headline" in body
    assert "Old headline" not in body


def test_publishing_a_draft_shows_it_in_lists_and_feeds_at_the_next_request(committed):
    draft = make_draft(title="Fresh off the press")
    for path in (HOME, FEED):
        assert "Fresh off the press" not in read(path)[1]

    with committed():
        draft.status = Article.Status.PUBLISHED
        draft.save()

    for path in (HOME, FEED, draft.section.get_absolute_url()):
        assert "Fresh off the press" in read(path)[1]
    assert read(draft.get_absolute_url())[0].status_code == 200


def test_a_follow_page_shows_an_article_published_in_its_section_at_the_next_request(
    committed, django_assert_num_queries
):
    """The follow page is cached like the list it follows, and ends with it."""
    section = make_section(slug="harbour")
    make_article(title="Ferry returns", section=section)
    draft = make_draft(title="Fresh off the press", section=section)
    follow = "/section/harbour/follow/"
    read(follow)
    with django_assert_num_queries(0):
        assert "Ferry returns" in read(follow)[1]  # served from the cache

    with committed():
        draft.status = Article.Status.PUBLISHED
        draft.save()

    html = read(follow)[1]
    assert "Fresh off the press" in html
    assert "Ferry returns" in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("action", "make", "shown"),
    [("publish", make_draft, True), ("unpublish", make_article, False)],
)
def test_publishing_several_articles_at_once_ends_the_cached_pages_once(
    action, make, shown, monkeypatch
):
    """Each article saved sent its own signal, and each ended every cached page again (a
    write to Redis, or to the version file, per article): one bump, after the last."""
    articles = [make(title=f"Story number {number}") for number in range(3)]
    editor = Client()
    editor.force_login(make_user("edith", superuser=True))
    read(HOME)
    bumps = []
    bump = page_cache.bump_content_version

    def counted_bump():
        bumps.append("bumped")
        bump()

    monkeypatch.setattr(page_cache, "bump_content_version", counted_bump)

    editor.post(
        reverse("admin:articles_article_changelist"),
        {"action": action, "_selected_action": [article.pk for article in articles]},
    )

    assert len(bumps) == 1
    home = read(HOME)[1]
    for number in range(3):
        assert (f"Story number {number}" in home) is shown


def test_unpublishing_removes_the_article_everywhere_at_the_next_request(committed):
    article = make_article(title="Pulled story")
    for path in (HOME, FEED, SITEMAP, article.get_absolute_url()):
        read(path)

    with committed():
        article.status = Article.Status.DRAFT
        article.save()

    assert read(article.get_absolute_url())[0].status_code == 404
    for path in (HOME, FEED):
        assert "Pulled story" not in read(path)[1]
    assert article.get_absolute_url() not in read(SITEMAP)[1]


def test_deleting_an_article_removes_it_everywhere_at_the_next_request(committed):
    article = make_article(title="Withdrawn story")
    url = article.get_absolute_url()
    for path in (HOME, FEED, url):
        assert "Withdrawn story" in read(path)[1]

    with committed():
        article.delete()

    assert read(url)[0].status_code == 404
    for path in (HOME, FEED):
        assert "Withdrawn story" not in read(path)[1]


def test_tagging_an_article_shows_on_its_page_and_the_tags_page_at_the_next_request(committed):
    article = make_article(title="Sea wall plans")
    tag = make_tag(name="Flood defences")
    assert "Flood defences" not in read(article.get_absolute_url())[1]
    assert "Sea wall plans" not in read(tag.get_absolute_url())[1]

    with committed():
        article.tags.add(tag)

    assert "Flood defences" in read(article.get_absolute_url())[1]
    assert "Sea wall plans" in read(tag.get_absolute_url())[1]

    with committed():
        article.tags.remove(tag)

    assert "Flood defences" not in read(article.get_absolute_url())[1]
    assert "Sea wall plans" not in read(tag.get_absolute_url())[1]


@pytest.mark.parametrize(("make", "field"), [(make_section, "name"), (make_author, "display_name")])
def test_renaming_a_section_or_an_author_shows_at_the_next_request(make, field, committed):
    """Lists and article pages show both names: renaming one changes pages it is not on."""
    renamed = make(**{field: "Old name"})
    article = make_article(**{"section" if make is make_section else "author": renamed})
    paths = [HOME, article.get_absolute_url()]
    for path in paths:
        assert "Old name" in read(path)[1]

    with committed():
        setattr(renamed, field, "New name")
        renamed.save()

    for path in paths:
        body = read(path)[1]
        assert "New name" in body
        assert "Old name" not in body


@pytest.mark.parametrize("make", [make_section, make_tag, make_author])
def test_a_changed_slug_redirects_from_the_old_address_at_the_next_request(make, committed):
    """The page at the old address was served from the cache; the next reader gets the
    redirect, and the page at the new address, each time, not a copy of the old page."""
    owner = make(slug="old-address")
    if make is make_tag:
        make_article(title="Filed under it", tags=[owner])
    else:
        make_article(title="Filed under it", **{owner._meta.model_name: owner})
    old_path, query = owner.get_absolute_url(), "?utm_source=feed"
    for _ in range(2):
        assert "Filed under it" in read(old_path)[1]

    with committed():
        owner.slug = "new-address"
        owner.save()

    for _ in range(2):
        response, _ = read(old_path + query)
        assert response.status_code == 301
        assert response["Location"] == owner.get_absolute_url() + query
        assert "Filed under it" in read(owner.get_absolute_url())[1]


def test_deleting_a_published_comment_hides_it_at_the_next_request(committed):
    article = make_article()
    comment = make_comment(article, body="Said in haste.")
    assert "Said in haste." in read(article.get_absolute_url())[1]

    with committed():
        comment.delete()

    assert "Said in haste." not in read(article.get_absolute_url())[1]


def test_a_scheduled_article_appears_when_its_time_comes_without_any_write(monkeypatch):
    make_article(title="Already out")
    due = timezone.now() + timedelta(seconds=60)
    scheduled = make_article(title="Out in a minute", published_at=due)
    for _ in range(2):  # stored, then served
        assert "Out in a minute" not in read(HOME)[1]

    two_minutes_later(monkeypatch)
    # The database's clock cannot be moved on: the article's time moves back as far instead,
    # without a save, which would end every stored page itself.
    Article.objects.filter(pk=scheduled.pk).update(published_at=due - timedelta(minutes=2))

    assert "Out in a minute" in read(HOME)[1]


def test_a_cached_form_closes_when_comments_close_by_age(settings, monkeypatch):
    """Comments close N days after publication: a copy stored just before must not keep
    showing the form (whose sends would only meet "comments are closed")."""
    settings.COMMENTS_CLOSE_AFTER_DAYS = 1
    article = make_article(published_at=timezone.now() - timedelta(days=1, seconds=-60))
    assert "Leave a Reply" in read(article.get_absolute_url())[1]

    two_minutes_later(monkeypatch)

    assert "Comments are closed." in read(article.get_absolute_url())[1]


def two_minutes_later(monkeypatch):
    """The clocks the site reads, moved on: the test need not wait."""
    real_time, real_now = time.time, timezone.now
    monkeypatch.setattr(time, "time", lambda: real_time() + 120)
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=120))


# -- The uncached price, pinned ---------------------------------------------------------------


@pytest.fixture
def no_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.mark.usefixtures("no_cache")
def test_uncached_article_costs_the_same_queries_with_0_or_60_threaded_comments(
    django_assert_max_num_queries,
):
    quiet, busy = make_article(), make_article()
    for number in range(20):
        top = make_comment(busy, body=f"Top {number}")
        reply = make_comment(busy, parent=top, body=f"Reply {number}")
        make_comment(busy, parent=reply, body=f"Deeper {number}")

    counts = []
    for article in (quiet, busy):
        with django_assert_max_num_queries(8) as captured:
            assert read(article.get_absolute_url())[0].status_code == 200
        counts.append(len(captured))

    assert counts[0] == counts[1]


def test_a_cached_search_finds_an_article_published_after_it(django_assert_num_queries, committed):
    make_article(title="Harbour dues rise")
    path = "/search/?q=harbour"
    read(path)
    with django_assert_num_queries(0):
        read(path)

    with committed():
        make_article(title="Harbour wall repaired")

    assert "Harbour wall repaired" in read(path)[1]
