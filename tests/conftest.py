import contextlib
import logging
import math
import os
import secrets
import sqlite3
import time
from datetime import UTC, datetime
from urllib.parse import quote

import hypothesis
import pytest
from django.db import connection

from tests.redis_space import TEST_REDIS_URL, RedisSpace, reach
from tests.sign_in import DATABASE_HANDLER, PASSWORD, CountedHasher

# Playwright runs an event loop in the test thread; the ORM calls around it are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Hypothesis: "ci" (the default) runs the 500 examples per property the hardening issue asks
# for; HYPOTHESIS_PROFILE=dev runs 50 while iterating, and HYPOTHESIS_PROFILE=soak 5,000, to
# shake out the rare draws an oracle gets wrong before CI does (run it on the property files:
# it takes minutes each). Examples share the test's database and client on purpose (data made
# once per test keeps 500 examples cheap), hence the health check.
hypothesis.settings.register_profile(
    "ci",
    max_examples=500,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ],
)
hypothesis.settings.register_profile("dev", hypothesis.settings.get_profile("ci"), max_examples=50)
hypothesis.settings.register_profile(
    "soak", hypothesis.settings.get_profile("ci"), max_examples=5_000
)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _commits_for_real(item):
    """Browser journeys against the live server commit; so do tests asking for it."""
    fixtures = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    return (
        "live_server" in fixtures
        or "transactional_db" in fixtures
        or bool(marker and marker.kwargs.get("transaction"))
    )


def _pulled_into_the_browser_group(item):
    return "page" in getattr(item, "fixturenames", ()) and "e2e" not in item.path.parts


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """After a test that commits, the database is emptied: rows written by data migrations
    (the Moderators group) go too. pytest-django runs those tests after every other database
    test, as Django's own runner does; here the migrated rows are reloaded before each of them
    (serialized rollback). Keep the name `page` for Playwright's fixture: pytest would pull
    any other test with an argument of that name into the browser group, among them."""
    if strays := [item.nodeid for item in items if _pulled_into_the_browser_group(item)]:
        raise pytest.UsageError(
            "An argument named `page` outside tests/e2e is Playwright's fixture, and puts "
            "its test among the browser tests, before database tests that expect the "
            f"migrated rows: rename it in {', '.join(strays)}"
        )
    for item in items:
        if _commits_for_real(item):
            marker = item.get_closest_marker("django_db")
            options = {**(marker.kwargs if marker else {}), "transaction": True}
            # Prepended: a marker the test itself carries would otherwise be the closest.
            item.add_marker(
                pytest.mark.django_db(**{**options, "serialized_rollback": True}), append=False
            )


@pytest.fixture(scope="session", autouse=True)
def _migrated_rows_for_every_connection(request):
    """Make the copy of the migrated rows (serialized rollback) visible to every connection.

    Django keeps it on the connection object that created the test database, and keeps
    connection objects per context; once Playwright's event loop has run, tests get other
    connection objects, and a reload would silently restore nothing. One database alias."""
    if not any(_uses_database(item) for item in request.session.items):
        return
    request.getfixturevalue("django_db_setup")
    from django.db import connections

    for alias in connections:
        connection = connections[alias]
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents is not None:
            type(connection)._test_serialized_contents = contents


def _uses_database(item):
    fixtures = getattr(item, "fixturenames", ())
    return bool(item.get_closest_marker("django_db")) or "db" in fixtures or _commits_for_real(item)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    # Empty, as in a fresh checkout and in CI. WhiteNoise indexes STATIC_ROOT for every new
    # test client; a local staticfiles/ left by `make serve` made that ~20 ms of CPU each, and
    # served its stale copies. Browser tests get static files from the finders (live_server).
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()
    # Whole-page caching has its own tests (tests/test_caching*.py); elsewhere pages render.
    settings.READER_CACHE_SECONDS = 0


@pytest.fixture
def django_capture_on_commit_callbacks(django_capture_on_commit_callbacks):
    """pytest-django's, run as a transaction of its own after the set-up's.

    A test never commits: what its set-up queued for the commit (making articles and
    comments queues a bump of the content version) would wait in the same transaction as
    the change the test captures, and would serve that change in its place
    (articles.page_cache.bump_content_version_on_commit). The set-up is an earlier
    transaction, long committed: what it queued is dropped, as it never runs anyway."""

    from django.db import DEFAULT_DB_ALIAS, connections

    @contextlib.contextmanager
    def capture(*, using=DEFAULT_DB_ALIAS, execute=False):
        connections[using].run_on_commit.clear()
        with django_capture_on_commit_callbacks(using=using, execute=execute) as callbacks:
            yield callbacks

    return capture


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A change as its transaction commits: what waits for the commit runs at the end.

    Each test runs in a transaction that is never committed; this is the commit, of a
    block of its own, as a request's change would be. What the test's set-up queued is
    dropped first, as if it had committed before (django_capture_on_commit_callbacks above).
    """
    from django.db import transaction

    @contextlib.contextmanager
    def commit():
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            yield callbacks

    return commit


class Clock:
    """The page cache's clock, moved by the test: HTTP dates count seconds, and what happens
    within one second is the point of the tests that use it."""

    def __init__(self, now):
        self.now = now

    def time(self):
        return self.now

    def time_ns(self):
        return round(self.now * 1_000_000_000)


@pytest.fixture
def clock(monkeypatch):
    """A quarter into a whole second, the last change made a second before it."""
    from articles import page_cache

    clock = Clock(float(int(time.time()) - 3600))
    monkeypatch.setattr(page_cache, "time", clock)
    page_cache.bump_content_version()
    clock.now += 1.25
    return clock


@pytest.fixture
def reader_cache(settings):
    """Whole-page caching on, for the tests that need a page served from the cache.

    A page stored now ends at midnight, local time (the date in the masthead): a test in the
    last second before it would store nothing, and one spanning it would lose its copy. The
    site runs in a zone where it is now about noon, so midnight is always hours away."""
    settings.READER_CACHE_SECONDS = 600
    hours_ahead = 12 - datetime.now(UTC).hour
    # POSIX signs in Etc/ names: Etc/GMT-3 is three hours ahead of UTC.
    settings.TIME_ZONE = f"Etc/GMT{-hours_ahead:+d}"


@pytest.fixture
def shared_cache(settings, tmp_path):
    """A cache every process shares, as Redis is, whatever the suite runs on: with local
    memory, what is cached only where it is shared is never cached at all."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }


@pytest.fixture(scope="session", autouse=True)
def _cache_per_xdist_worker(worker_id):
    """Parallel test processes share one Redis database, and so may two runs (two checkouts,
    two people): each process gets a key prefix of its own, so that one clearing its cache
    never wipes another's counters mid-test."""
    from django.conf import settings
    from django.test import override_settings

    run = secrets.token_hex(4)
    caches = {
        alias: {**config, "KEY_PREFIX": f"{config.get('KEY_PREFIX', '')}-test-{worker_id}-{run}"}
        for alias, config in settings.CACHES.items()
    }
    with override_settings(CACHES=caches):
        yield


def clear_cache(cache):
    """Empty this test process's cache. On Redis, delete only this process's keys:
    RedisCache.clear() would flush the whole database, other processes' keys included.
    Deleted behind the cache's back, mirrored keys are then dropped from every copy (this
    thread's, and a live server's)."""
    from django.core.cache.backends.redis import RedisCache

    from newsroom.cache import ResilientRedisCache

    if not isinstance(cache, RedisCache):
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    if isinstance(cache, ResilientRedisCache):
        cache.reset_mirror()


@pytest.fixture
def redis_space(worker_id):
    """A key space of this test's own on the tests' Redis (tests/redis_space.py), deleted
    afterwards."""
    reach(TEST_REDIS_URL)
    space = RedisSpace(TEST_REDIS_URL, f"tests-{worker_id}-{secrets.token_hex(8)}")
    yield space
    space.forget()


@pytest.fixture(autouse=True)
def _clear_cache(monkeypatch):
    """Each test starts with an empty cache, and a process that has served no page yet: the
    pages a process keeps beside Redis are served at the version they were stored at, and a
    test's `clock` gives the next test in the same second the same version."""
    from django.core.cache import caches

    from articles import page_cache

    monkeypatch.setattr(
        page_cache, "_recent_pages", page_cache.RecentPages(page_cache.RECENT_PAGES)
    )
    clear_cache(caches["default"])
    yield
    clear_cache(caches["default"])


@pytest.fixture(autouse=True)
def _publications_looked_for(monkeypatch):
    """Each test's site runs in a process that has looked for scheduled publications due and
    found none (comments.notifications.publications_may_be_due), as a running site's workers
    have from their second request on. A test's first request would otherwise pay for that
    look after its response, on top of what its page costs, whenever an earlier test changed
    an article or this one runs with other settings; and the look, a task run after the
    response, closes the connections it finds (newsroom/tasks.py), which on PostgreSQL is the
    one holding a test's transaction. Taken as done at the first request, with the settings
    the test's fixtures have set by then; an article the test saves is looked for a minute
    later, as by a worker that has just looked. Tests of those publications start from a
    process that has not looked (tests/comments/test_scheduled_publication_emails.py)."""
    from django.utils import timezone

    from articles import page_cache
    from comments import notifications

    look = notifications.publications_may_be_due

    def looked_already():
        version = page_cache.content_version(page_cache.ARTICLES_VERSION_KEY)
        looked = (version, math.inf, timezone.now().timestamp())
        monkeypatch.setattr(notifications, "_next_due", looked)
        monkeypatch.setattr(notifications, "publications_may_be_due", look)
        return look()

    monkeypatch.setattr(notifications, "_next_due", notifications.NOT_LOOKED)
    monkeypatch.setattr(notifications, "publications_may_be_due", looked_already)


class Collected(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def text(self):
        return "\n".join(logging.Formatter().format(record) for record in self.records)


@pytest.fixture
def console_log():
    """What reaches the console, whose handler is the root logger's (settings.LOGGING).
    Not caplog: it also listens to the loggers that send their records nowhere."""
    collected = Collected()
    root = logging.getLogger()
    root.addHandler(collected)
    yield collected
    root.removeHandler(collected)


# -- Admin sign-in, for the throttle's tests (tests/sign_in.py) ---------------------------------


@pytest.fixture
def editor(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        "editor", password=PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def failure_limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


@pytest.fixture
def counted_in_redis(settings, redis_space):
    """The handler REDIS_URL selects, on a real Redis (the tests' one, a key space of its
    own)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.ResilientRedisCache",
            "LOCATION": redis_space.url,
            "KEY_PREFIX": redis_space.prefix,
        }
    }
    settings.AXES_HANDLER = "newsroom.login_throttle.AxesCacheWithDatabaseFallback"


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    """Each handler the settings may choose: the database's without Redis, and Redis's
    (with the database's as its fallback) with it, whatever the suite runs on."""
    if request.param == "redis":
        request.getfixturevalue("counted_in_redis")
    else:
        settings.AXES_HANDLER = DATABASE_HANDLER
    return request.param


@pytest.fixture
def passwords_checked(settings, editor):
    """The passwords checked against the editor's account. Each check takes some 0.15 s
    (production's, over a second); whether a try goes ahead is decided in milliseconds."""
    settings.PASSWORD_HASHERS = [f"{CountedHasher.__module__}.{CountedHasher.__qualname__}"]
    editor.set_password(PASSWORD)
    editor.save()
    CountedHasher.checked = []
    return CountedHasher.checked


@pytest.fixture
def committed_db(django_db_serialized_rollback, transactional_db):
    """Real commits, seen by other connections and processes; afterwards the database is
    put back as the migrations left it (the Moderators group included) for later tests."""


@pytest.fixture
def database_url(committed_db):
    """The test database, for processes of our own: what the tests commit, they see."""
    db = connection.settings_dict
    user = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{user}@{host}/{db['NAME']}"


# SQLite refuses a statement with more parameters than its limit: 32,766 as built since 3.32
# (Debian's builds allow 250,000), 999 before. At the old limit, a statement with one parameter
# per row (a moderator's "select all" of comments, an action log search's users) fails at 1,000
# rows instead of 32,767.
OLD_SQLITE_PARAMETER_LIMIT = 999


@pytest.fixture
def old_sqlite_parameter_limit(db):
    """The test's SQLite connection held to the old limit of parameters per statement (see
    above); PostgreSQL, whose driver writes the values into the statement, has none."""
    if connection.vendor != "sqlite":
        yield None
        return
    connection.ensure_connection()
    limit = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
    before = connection.connection.setlimit(limit, OLD_SQLITE_PARAMETER_LIMIT)
    yield OLD_SQLITE_PARAMETER_LIMIT
    connection.connection.setlimit(limit, before)
