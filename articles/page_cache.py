"""Whole pages for anonymous readers, served from the cache with their per-reader parts fresh.

Most of a news site's traffic is anonymous readers asking for the same few pages. Each
cached page costs one cache round trip (the version, the page and the values its holes
share, read together) instead of a render and its queries, and is served before Django
looks for the view.

How it stays correct:

- Every cached page carries the *content version* it was rendered under. Anything that
  changes what readers see (an article, section, author or tag saved or deleted; a
  moderation decision, through `comments.cache`) bumps the version once it is committed,
  so the next request renders afresh. Time also changes pages: an entry ends at the next
  scheduled publication (articles go live by query, no cron) and at midnight (the date in
  the masthead).
  A part of the page that changes by itself at a time of its own (a comment form that
  closes, say) names that time with `page_changes_at`, and the entry ends then too.
- The per-reader parts of a page (the captcha question and the signed "form shown at"
  time, registered by the comments app) are *holes*: found in the page when it is stored,
  and filled with fresh values for every reader, so no two readers share a question.
- A CSRF token is never shared: stored copies carry an empty one. Minting a token for every
  reader would cost each hit a new secret (64 calls to `os.urandom`), for the few readers
  who write; the form asks for its token when the reader starts writing (comments.js), and
  without JavaScript the first send comes back with a token to send again.
- Readers who carry state (a session, messages) get a page rendered for them; so do staff
  previews and anything marked private. A cookie another app registers as personal
  (`register_personal_cookie`) gets its bearer a page of their own only where it changes
  the page (a commenter's pending comments, on the articles they are under); everywhere
  else they get the shared copy, and a shared copy is rendered without such cookies, so
  that nothing of theirs can reach it. Their own page carries a validator made, before it
  is rendered, of the shared copy's, their cookies and a version their app bumps
  (`own_page_etag`): asking for it again unchanged costs a 304, not a render.
- A deploy changes pages too, and the version, kept in Redis, outlives the restart: the
  page key carries the *release* that renders it (the project's code and templates, the
  installed packages' versions, the settings pages show, the static files' manifest, the
  secret key), so a page rendered by another release is never served, not even by the old
  workers still running during a rolling restart.

The version lives in the shared cache (Redis) when there is one. Each process also keeps
the pages it served last, served only when they carry the current version, so a page of a
hundred kilobytes or more does not travel out of Redis at every hit; and the version and
the holes' shared values are mirrored in each process, kept fresh by Redis
(`newsroom.cache.mirror_keys`), so a hit usually makes no round trip at all. With the
per-process local-memory cache, each process keeps its own pages, and the version is a
file's modification time, in CONTENT_VERSION_DIR (never /tmp, which may be a service's own),
so a decision taken in one gunicorn worker, or by a command run from a shell, reaches all
of them.
"""

import functools
import hashlib
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from importlib.metadata import distributions
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.db import transaction
from django.db.models import Min
from django.http import HttpResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.crypto import salted_hmac
from django.utils.http import http_date, parse_http_date_safe, urlencode

from newsroom.cache import shared_by_every_process

from .models import Article

VERSION_KEY = "readers:content-version"
# Changes with articles alone, not with comments: for what only articles decide and is dear to
# work out again at each change of the content version (the sitemap's count of articles).
ARTICLES_VERSION_KEY = "readers:articles-version"
RELEASE_SALT = "articles.page_cache.release"
PAGE_KEY_PREFIX = "readers:page:"
CSRF_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')
# Only the view-set headers worth replaying; security headers come from the middleware.
# A page's own Content-Security-Policy (a sitemap's, articles/urls.py): the middleware
# gives every other page the site's, with this request's nonce.
KEPT_HEADERS = {
    "content-type",
    "content-language",
    "link",
    "x-robots-tag",
    "content-security-policy",
}
PAGE_NUMBERS = {"page", "cpage", "p"}  # p: the sitemap's
CAMPAIGN_TAG_PREFIX = "utm_"
# Views whose pages are the same for every anonymous reader, with the query parameters
# that select a different page: a view that comes to read another must list it here (a
# list's links to its other pages keep them, ArticleListMixin.page_query_parameters). Any
# other parameter is left out of the key and out of the request the page is rendered from
# (campaign tags, the click ids social networks and ad platforms add to every link they
# pass on, a bot's cache-buster), except one that makes the page the reader's own.
CACHEABLE_VIEWS = {
    "articles:home": {"page"},
    "articles:section": {"page"},
    "articles:tag": {"page"},
    "articles:author": {"page"},
    "articles:search": {"q", "page"},  # a popular search is asked again and again
    "articles:detail": {"cpage"},
    "articles:follow": set(),
    "articles:section-follow": set(),
    "articles:tag-follow": set(),
    "articles:author-follow": set(),
    "articles:feed-rss": set(),
    "articles:feed-atom": set(),
    "articles:section-feed-rss": set(),
    "articles:section-feed-atom": set(),
    "articles:tag-feed-rss": set(),
    "articles:tag-feed-atom": set(),
    "articles:author-feed-rss": set(),
    "articles:author-feed-atom": set(),
    # A page of a thousand articles: the dearest page to render, and crawlers ask often.
    "articles:sitemap": set(),
    "articles:sitemap-section": {"p"},
}

# A reply link (?replyto=, for readers without JavaScript) opens the form answering that
# comment, for the reader who followed it.
RENDERED_FOR_THE_READER = {"replyto"}

# Pages kept in each process beside a shared cache: the hot article with 500 comments is
# 150 KB, so a few dozen of the most read pages cost a few megabytes per worker.
RECENT_PAGES = 32

_holes = {}  # name -> (compiled pattern with one group, filler, shared cache key or None)
_personal_cookies = {}  # name -> own_page(request, article_id), or None
_own_page_versions = {}  # name -> the version key of what the cookie names (register_...)
# The settings that change what a shared page shows (not, say, READER_CACHE_SECONDS);
# other apps add theirs with register_page_settings.
_page_settings = {
    "SITE_NAME",
    "SITE_DESCRIPTION",
    "ARTICLES_PER_PAGE",
    "TIME_ZONE",
    "STATIC_URL",
    "MEDIA_URL",
}
PAGE_CHANGES_AT_ATTRIBUTE = "reader_page_changes_at"
# The view of an article's page, whose stored copy names the article (`page_shows_article`).
ARTICLE_VIEW = "articles:detail"
PAGE_ARTICLE_ATTRIBUTE = "reader_page_article"
# What `own_page` is told of an article's page that has no current copy to name its article.
NOT_STORED = object()


def register_hole(name, pattern, filler, *, shared_key=None):
    """Another app's per-reader value in cached pages: `pattern`'s group is replaced.

    The filler is called as `filler(request, old_value)` and returns the fresh value. With
    `shared_key`, it also gets `shared=` that key's value in the cache (None when absent),
    read in the same round trip as the page instead of one more.
    """
    _holes[name] = (re.compile(pattern), filler, shared_key)


def register_personal_cookie(name, *, own_page=None, version_key=None):
    """A cookie that personalises some pages: `own_page(request, article_id)` says whether the
    page asked for is one of them, and its bearer gets that page rendered for them. Every
    other page they get from the cache, and a shared copy never sees the cookie, whoever it
    is rendered for (without `own_page`, the cookie's part reaches its bearer some other way).

    With `version_key`, their page gets a validator, and a revalidation that finds it
    unchanged a 304 without a render (`own_page_etag`): the app bumps that version
    (`bump_content_version(version_key)`, or `_on_commit`) whenever what the cookie names
    changes in a way the shared copy does not show.

    `article_id` is the article the page shows, as its stored copy names it (an address does
    not: a slug changes, and another article may take the old one), None on a page of no
    article, or NOT_STORED for an article's page without a current copy. Its article is not
    known then without a query, and the page must be rendered anyway: rendered for a bearer
    who may be its own, it is stored at the next reader's request.
    """
    _personal_cookies[name] = own_page
    if version_key is not None:
        _own_page_versions[name] = version_key


def page_shows_article(request, article):
    """The article page being rendered for `request` shows `article`: its stored copy says so
    (`register_personal_cookie`)."""
    setattr(request, PAGE_ARTICLE_ATTRIBUTE, article.pk)


def register_page_settings(*names):
    """Settings another app shows in shared pages: a restart with another value of one of
    them renders pages afresh (`release`)."""
    _page_settings.update(names)


def page_changes_at(request, moment):
    """The page being rendered for `request` changes by itself at `moment`: a stored copy
    must not be served after it (another app's part of the page knows when, not this one)."""
    earlier = getattr(request, PAGE_CHANGES_AT_ATTRIBUTE, None)
    setattr(request, PAGE_CHANGES_AT_ATTRIBUTE, moment if earlier is None else min(earlier, moment))


# -- The content version -------------------------------------------------------------------


def _version_file(key):
    """One file per site, cache namespace and version, in CONTENT_VERSION_DIR: every process
    of one machine finds the same one there, whatever its /tmp."""
    return _version_file_for(
        str(settings.CONTENT_VERSION_DIR),
        str(settings.BASE_DIR),
        str(settings.DATABASES["default"]["NAME"]),
        caches["default"].key_prefix,
        key,
    )


@functools.cache
def _version_file_for(folder, site, database, prefix, key):
    """Worked out once per process, not at every request that checks the version."""
    digest = hashlib.sha256(f"{site}|{database}|{prefix}|{key}".encode()).hexdigest()[:16]
    return Path(folder) / f"newsroom-content-version-{digest}"


def content_version(key=VERSION_KEY):
    """The version every cached page must carry to be served (or, with ARTICLES_VERSION_KEY,
    what is worked out from the articles alone)."""
    if not shared_by_every_process():
        try:
            return os.stat(_version_file(key)).st_mtime_ns
        except FileNotFoundError:
            return 0
    version = cache.get(key)
    if version is None:
        version = time.time_ns()
        if not cache.add(key, version, timeout=None):
            version = cache.get(key, version)
    return version


def bump_content_version(key=VERSION_KEY):
    """Every cached page is stale from now on: the next request renders afresh."""
    if not shared_by_every_process():
        _replace_version_file(_version_file(key), time.time_ns())
    else:
        cache.set(key, time.time_ns(), timeout=None)


def _replace_version_file(path, version):
    """A new file stamped with `version`, moved over the old one.

    Moved, not touched: a process may replace a file another user made (the operator's
    command, the service's workers) where it could not stamp it, so long as it may write in
    the folder, as SQLite's processes must in theirs. Made by mkstemp, the file is its
    owner's alone to read (the others read its time), and never a link planted in its place.
    """
    descriptor, new = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.")
    try:
        os.close(descriptor)
        os.utime(new, ns=(version, version))
        os.replace(new, path)
    except BaseException:
        Path(new).unlink(missing_ok=True)
        raise


def bump_articles_version():
    """What was worked out from the articles alone is stale from now on."""
    bump_content_version(ARTICLES_VERSION_KEY)


def bump_content_version_on_commit():
    """Bump the version once the change that calls for it is committed.

    Bumped before the commit, a reader's request in between would read the new version
    with the old rows, and store the old page under the new version until it expires.
    A bump already waiting for this transaction's commit serves every later change in it:
    deleting a hundred comments sends a hundred signals, publishing ten articles saves ten
    times (each save in a savepoint of its own), and each would write the version again.
    Django keeps what waits for the commit in `run_on_commit`, and drops from it whatever
    was queued in a savepoint that is rolled back. A waiting bump was queued in savepoints
    that are either released, which nothing can roll back any more, or still open around
    the change at hand, whose rollback takes that change with it: so it runs whenever the
    change commits, and the change needs no bump of its own.
    """
    once_on_commit(bump_content_version)


def bump_articles_version_on_commit():
    """As bump_content_version_on_commit, for the articles' version."""
    once_on_commit(bump_articles_version)


def once_on_commit(bump):
    connection = transaction.get_connection()
    if not any(func is bump for _, func, _ in connection.run_on_commit):
        transaction.on_commit(bump, robust=True)


# -- The release ----------------------------------------------------------------------------


def release():
    """What a deploy changes in how pages look, as one digest that every page key carries.

    The content version lives in Redis and survives a restart: without this, a deploy that
    fixes a template would serve the old pages until they expire, and during a rolling
    restart old and new workers would serve each other's pages. It covers the project's
    code and templates (`source_digest`), the settings pages show (`_page_settings`), the
    static files' manifest, whose hashed names the pages link (a host set up afresh has only
    its own release's files), and the secret key the pages' holes are signed with (a new
    one could not refill them; an HMAC under the key stands for it, never the key itself).
    Worked out as the middleware starts, once per process; made of what every process of
    one release shares, on every host: contents, never paths or modification times.
    """
    digest = hashlib.sha256(source_digest().encode())
    digest.update(getattr(staticfiles_storage, "manifest_hash", "").encode())
    digest.update(salted_hmac(RELEASE_SALT, "pages", algorithm="sha256").digest())
    for name in sorted(_page_settings):
        digest.update(f"|{name}={getattr(settings, name)!r}".encode())
    return digest.hexdigest()


@functools.cache
def source_digest():
    """The files of the project's own apps (its Python code), of its template folders, and
    the versions of the installed packages (Django's templates render feeds and sitemaps;
    libraries write markup too), whether or not a deploy ships requirements.lock.

    Read once per process (about 10 ms): they change only with a deploy, which restarts it.
    Each file is named by its path within its folder, so a release checked out elsewhere on
    another host has the same digest. Compiled files are left out: they carry the source's
    modification time.
    """
    base = Path(settings.BASE_DIR)
    # The apps at the top of the project: not those installed in a virtualenv inside it.
    folders = [Path(app.path).resolve() for app in apps.get_app_configs()]
    folders = [folder for folder in folders if folder.parent == base]
    folders += [Path(folder) for engine in settings.TEMPLATES for folder in engine.get("DIRS", ())]
    packages = sorted(f"{package.name}=={package.version}" for package in distributions())
    digest = hashlib.sha256("|".join(packages).encode())
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder)
            if path.is_file() and "__pycache__" not in name.parts:
                digest.update(f"|{name.as_posix()}|".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


# -- The middleware -------------------------------------------------------------------------


class ReaderPageCacheMiddleware:
    """Serves a cached page before Django looks for its view.

    Placed after the middleware that shapes every response (security headers, the CSRF
    cookie, X-Frame-Options, CSP), so a cached page passes them exactly as a fresh render
    does, and before the middleware that only prepares a request for a view
    (authentication, messages), which a cached page does without.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        # Once, as the server starts: never at a request.
        self.release = release()

    def __call__(self, request):
        key = page_key(request, self.release)
        if key is None:
            return self.render_for_reader(request)
        read_at = time.time()  # before the version: the page shows every change made before
        entry, found, version = lookup(key)
        if not (entry and entry["version"] == version and entry["expires"] > time.time()):
            entry = None
        if is_own_page(request, entry):
            return self.render_own_page(request, entry)
        if entry:
            return serve(request, entry, found)
        request.GET = shared_query(request.GET, CACHEABLE_VIEWS[view_name(request.path_info)])
        request.COOKIES = shared_cookies(request.COOKIES)
        response = self.get_response(request)
        if storable(response):
            response = store(request, response, key, version, read_at=read_at)
        return response

    def render_own_page(self, request, entry):
        """A personal cookie's bearer's own page: rendered for them, or a 304 when their copy
        still holds (`own_page_etag`), which costs no render."""
        etag = own_page_etag(request, entry)
        if etag is not None:
            unchanged = get_conditional_response(
                request, etag=etag, response=own_page_validated(HttpResponse(), etag)
            )
            if unchanged.status_code == 304:
                return unchanged
        response = self.render_for_reader(request)
        if etag is None or response.status_code != 200 or response.streaming:
            return response
        if not _personal_cookies.keys().isdisjoint(response.cookies):
            return response  # their next request carries another cookie, hence another ETag
        return get_conditional_response(
            request, etag=etag, response=own_page_validated(response, etag)
        )

    def render_for_reader(self, request):
        response = self.get_response(request)
        if view_name(request.path_info) in CACHEABLE_VIEWS:
            undated(response)
        if rendered_with_reader_state(request) or asks_for_its_own_page(request):
            # Rendered for this reader (their pending comment, the comment they answer
            # in the form, its CSRF token): no shared cache on the way may keep it for
            # someone else.
            patch_cache_control(response, private=True)
        return response


class RecentPages:
    """The pages this process served last, beside the shared cache.

    Bounded (least recently used first out) and thread-safe, for threaded servers.
    """

    def __init__(self, size):
        self.size = size
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key, entry):
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_recent_pages = RecentPages(RECENT_PAGES)


def lookup(key):
    """The stored entry for `key` (or None), the holes' shared values and the current version.

    At most one round trip to the shared cache (none when the mirrored version and shared
    values are fresh): the page itself travels only when this process has no copy of it at
    the current version.
    """
    shared_keys = {shared_key for _, _, shared_key in _holes.values() if shared_key}
    if not shared_by_every_process():
        found = cache.get_many([key, *shared_keys])
        return found.get(key), found, content_version()
    recent = _recent_pages.get(key)
    found = cache.get_many([VERSION_KEY, *shared_keys, *([] if recent else [key])])
    version = found.get(VERSION_KEY) or content_version()
    if recent and recent["version"] == version:
        return recent, found, version
    # Another process may have stored the page at this version since this one kept its copy.
    entry = cache.get(key) if recent else found.get(key)
    if entry:
        _recent_pages.put(key, entry)
    return entry, found, version


def page_key(request, release):
    """The cache key of this request's shared page, as `release` renders it, or None when
    it must be rendered."""
    if request.method not in {"GET", "HEAD"} or settings.READER_CACHE_SECONDS <= 0:
        return None
    if isinstance(caches["default"], DummyCache):
        return None
    if carries_reader_state(request) or asks_for_its_own_page(request):
        return None
    allowed = CACHEABLE_VIEWS.get(view_name(request.path_info))
    if allowed is None:
        return None
    selected = []
    for name, values in sorted(request.GET.lists()):
        if name not in allowed:
            continue  # the view never reads it: the page is the same without it
        if len(values) != 1:
            return None
        value = values[0]
        if name in PAGE_NUMBERS and value.isascii() and value.isdigit():
            # ?page=01 is page 1: one copy, not one per spelling. Not int(), which refuses
            # more than 4,300 digits: the view answers those with a 404, like any page
            # that does not exist.
            value = value.lstrip("0") or "0"
        selected.append(f"{name}={value}")
    # Pages hold absolute links (canonical, structured data, feeds): one copy per host.
    address = f"{request.scheme}://{request.get_host()}{request.path}?{'&'.join(selected)}"
    return PAGE_KEY_PREFIX + hashlib.sha256(f"{release}|{address}".encode()).hexdigest()


def shared_query(query, allowed):
    """The query a shared page is rendered from: only the parameters its key holds, so
    nothing in the page may come from the others (the pagination's links would keep them
    for every later reader, and a newsletter may put a subscriber's address there)."""
    if set(query) <= allowed:
        return query
    kept = [(name, values) for name, values in query.lists() if name in allowed]
    return QueryDict(urlencode(kept, doseq=True))


def shared_cookies(cookies):
    """The cookies a shared page is rendered from: not the personal ones, whose bearer gets
    this page from the cache too (pending comments that are not under this article), so
    that the stored copy cannot hold anything of theirs."""
    if _personal_cookies.keys().isdisjoint(cookies):
        return cookies
    return {name: value for name, value in cookies.items() if name not in _personal_cookies}


def campaign_tags(request):
    """The campaign tags (utm_*) of the address asked for, in their order, for a redirect
    to pass on (a newsletter's visit still counts as one). Read from the query string as
    sent: a page rendered for the cache gets request.GET without them."""
    query = QueryDict(request.META.get("QUERY_STRING", ""))
    return [
        (name, value)
        for name, values in query.lists()
        if name.startswith(CAMPAIGN_TAG_PREFIX)
        for value in values
    ]


def carries_reader_state(request):
    """A session or messages: the reader gets every page rendered for them."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies


def is_own_page(request, entry):
    """A personal cookie that makes this page its bearer's (`register_personal_cookie`),
    told by the page's current copy, `entry` (None when there is none)."""
    own_pages = [
        own_page
        for name, own_page in _personal_cookies.items()
        if own_page is not None and name in request.COOKIES
    ]
    if not own_pages:
        return False
    if view_name(request.path_info) != ARTICLE_VIEW:
        article_id = None
    else:
        article_id = NOT_STORED if entry is None else entry["article"]
    return any(own_page(request, article_id) for own_page in own_pages)


def own_page_etag(request, entry):
    """The validator of a personal cookie's bearer's own page, or None: without a current
    shared copy (`entry`) to build it on, or with a cookie that registered no version.

    Their page is the shared copy with what their cookies add to it. It changes when the
    copy does (its content, or the moment the copy ends: the shared ETag stands for both,
    since an expired copy is no entry), when their cookies do (the CSRF cookie too, whose
    token their form holds), and when what the cookies name changes where the copy does not
    show it (each cookie's version key). All of it is read before the page is rendered, so
    the validator is never newer than the page it is sent with.
    """
    if entry is None:
        return None
    present = sorted(name for name in _personal_cookies if name in request.COOKIES)
    if not present or any(name not in _own_page_versions for name in present):
        return None
    digest = hashlib.sha256(entry["etag"].encode())
    for name in (*present, settings.CSRF_COOKIE_NAME):
        cookie = request.COOKIES.get(name, "")
        version = content_version(_own_page_versions[name]) if name in present else ""
        digest.update(f"|{name}={cookie}|{version}".encode())
    return f'"own-{digest.hexdigest()[:32]}"'


def own_page_validated(response, etag):
    """A bearer's own page (or its 304) with its validator: theirs alone, asked again each
    time (the ETag makes the answer a 304)."""
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response


def rendered_with_reader_state(request):
    """Whether a page rendered outside the cache was rendered with the reader's state: a
    session or messages, or a personal cookie (their own page; with the cache off, every
    page is rendered with the cookie, which may put something of theirs in it)."""
    return carries_reader_state(request) or not _personal_cookies.keys().isdisjoint(request.COOKIES)


def asks_for_its_own_page(request):
    """A parameter that makes the page the reader's (RENDERED_FOR_THE_READER)."""
    return not RENDERED_FOR_THE_READER.isdisjoint(request.GET)


@functools.lru_cache(maxsize=4096)
def view_name(path):
    """The name of the view at `path`, or None: resolved once per path, not per request."""
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def undated(response):
    """A reader's page rendered outside the cache (theirs, or every reader's with the cache
    off) leaves without the date a feed or sitemap gives itself, its newest item's. An edit
    to an older item, or the newest withdrawn, leaves that date as it was, and a browser
    reuses a dated page without asking for a tenth of its age: over two hours for a feed
    whose newest article is a day old, past the publication of the next. A stored page
    carries the date it was rendered instead (`finish`)."""
    response.headers.pop("Last-Modified", None)


def storable(response):
    """A complete public page: 200, not streamed, not private, sets no cookie of its own."""
    if response.status_code != 200 or response.streaming:
        return False
    control = response.get("Cache-Control", "").lower()
    if any(word in control for word in ("private", "no-store", "no-cache")):
        return False
    return set(response.cookies) <= {settings.CSRF_COOKIE_NAME}


def store(request, response, key, version, *, read_at):
    """Keep the page for the next readers; this reader gets it with the same headers."""
    entry = make_entry(
        response,
        version,
        expires=expiry(request),
        read_at=read_at,
        article_id=getattr(request, PAGE_ARTICLE_ATTRIBUTE, None),
    )
    seconds = entry["expires"] - time.time()
    if seconds >= 1:
        cache.set(key, entry, timeout=int(seconds))
        if shared_by_every_process():
            _recent_pages.put(key, entry)
    return finish(request, response, entry)


def make_entry(response, version, *, expires, read_at, article_id):
    """The page cut at its holes: text, hole, text, hole... and what a reply needs."""
    charset = response.charset
    content = CSRF_TOKEN.sub(r'\1"', response.content.decode(charset))
    holes = {}
    for name, (pattern, _, _) in _holes.items():
        if found := pattern.search(content):
            holes[found.group(1)] = name
    if holes:
        splitter = re.compile("(" + "|".join(re.escape(value) for value in holes) + ")")
        parts = splitter.split(content)
        parts[1::2] = [holes[value] for value in parts[1::2]]
    else:
        parts = [content]
    shared = "\x00".join(parts).encode()
    # Text parts are kept encoded: serving then joins bytes, without re-encoding the page.
    parts[::2] = [part.encode(charset) for part in parts[::2]]
    return {
        "version": version,
        "expires": expires,
        "parts": parts,
        "charset": charset,
        "headers": {
            name: value for name, value in response.items() if name.lower() in KEPT_HEADERS
        },
        "etag": f'"{hashlib.sha256(shared).hexdigest()[:32]}"',
        # When the page was rendered, not when its newest item was published (a feed's own
        # Last-Modified): an edit to an older article, or a newest one withdrawn, leaves
        # that date as it was and would answer If-Modified-Since with a stale 304.
        "last_modified": last_modified(version, read_at),
        "old_values": {name: value for value, name in holes.items()},
        "article": article_id,  # the article an article page shows (is_own_page)
    }


def last_modified(version, read_at):
    """The second the page's render began, or the one after its last change if later.

    HTTP dates count seconds. A copy rendered earlier in the second of a change, from before
    it, carries that second, and If-Modified-Since would answer its reader with a stale 304
    if the copy from after the change carried it too. The version is the time of the last
    change (in nanoseconds): the next second is a date no copy from before it carries.
    It is sent once it has come (`finish`); a date in the future would be a false one.
    """
    return max(int(read_at), version // 1_000_000_000 + 1)


def expiry(request):
    """When a page rendered now may change by itself: midnight, the next scheduled article,
    or a moment the page named while it was rendered (page_changes_at)."""
    now = timezone.localtime()
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
    ends = min(
        now + timedelta(seconds=settings.READER_CACHE_SECONDS),
        timezone.make_aware(midnight, now.tzinfo),
    )
    scheduled = Article.objects.scheduled().aggregate(next=Min("published_at"))["next"]
    if scheduled:
        ends = min(ends, scheduled)
    if named := getattr(request, PAGE_CHANGES_AT_ATTRIBUTE, None):
        ends = min(ends, named)
    return ends.timestamp()


def has_come(moment):
    """Whether `moment` (a timestamp, or None for never) has come, by the clock that stored
    pages end by (`expiry`)."""
    return moment is not None and moment <= time.time()


def serve(request, entry, shared):
    """The cached page with this reader's own values in its holes (none for a 304 or 412,
    which carry no page).

    `shared` holds the values of the holes' shared keys, read with the page. A HEAD gets the
    whole page too, for its Content-Length; HeadWithoutBodyMiddleware then drops the body.
    """
    response = HttpResponse()
    for name, value in entry["headers"].items():
        response[name] = value
    response = finish(request, response, entry)
    if response.status_code != 200:
        return response
    parts, charset = entry["parts"], entry["charset"]
    fresh = {}
    for name in set(parts[1::2]):
        _, filler, shared_key = _holes[name]
        extra = {"shared": shared.get(shared_key)} if shared_key else {}
        fresh[name] = filler(request, entry["old_values"][name], **extra).encode(charset)
    response.content = b"".join(
        fresh[part] if index % 2 else part for index, part in enumerate(parts)
    )
    return response


def finish(request, response, entry):
    """Validators and caching rules, for a fresh render and a cached copy alike."""
    response["ETag"] = entry["etag"]
    last_modified = entry.get("last_modified")  # absent from pages stored before it was kept
    if last_modified and last_modified <= time.time():
        response["Last-Modified"] = http_date(last_modified)
    else:
        # Not yet (the content changed in this very second), and not a feed's own date of
        # its newest item either: the ETag alone answers until then.
        last_modified = None
        response.headers.pop("Last-Modified", None)
    has_holes = len(entry["parts"]) > 1
    # Browsers may keep the page but must ask again; the ETag makes the answer a 304.
    # A page with per-reader holes must never sit in a shared proxy.
    patch_cache_control(response, no_cache=True, **({"private": True} if has_holes else {}))
    ignore_a_future_if_modified_since(request)
    return get_conditional_response(
        request, etag=entry["etag"], last_modified=last_modified, response=response
    )


def ignore_a_future_if_modified_since(request):
    """Drops an If-Modified-Since later than now, which RFC 9110 (13.1.3) says to ignore:
    no copy was sent with it (a wrong clock, a forged header), and Django's conditional
    response would answer it with a 304 until then, whatever changed meanwhile."""
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if since is not None and since > time.time():
        del request.META["HTTP_IF_MODIFIED_SINCE"]
