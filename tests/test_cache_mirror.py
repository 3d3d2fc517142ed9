"""The per-process copy of mirrored Redis keys (newsroom.cache): never staler than a write.

Two backend instances stand for two processes: each has its own connection pool and its own
subscription. A real Redis (the tests' one, tests/redis_space.py: TEST_REDIS_URL), a key prefix
per test; nothing mocked.
"""

import os
import signal
import time
import warnings

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisSerializer
from django.test import Client

from comments.captcha import refill_pool
from newsroom import cache as cache_module
from newsroom.cache import ResilientRedisCache, mirror_keys
from tests.factories import make_article
from tests.load.server import closed_port

HOT = "mirror-test:hot"
COLD = "mirror-test:cold"  # not mirrored
# Another process's write reaches this one as a message on a second connection. In production
# the reader's next request comes at least an HTTP round trip after the writer got its reply;
# here the next read would come microseconds later, so the tests let the message arrive.
DELIVERY_SECONDS = 0.1


@pytest.fixture(autouse=True)
def _mirrored(monkeypatch):
    monkeypatch.setattr(cache_module, "_mirrored_names", set(cache_module._mirrored_names))
    mirror_keys(HOT)
    # Long enough that no test passes by the copy growing old: only invalidations count.
    monkeypatch.setattr(cache_module, "MIRROR_MAX_AGE", 60)


@pytest.fixture
def process(redis_space):
    """A new backend, as one app server process would have it."""
    made = []

    def process(name="process"):
        made.append(
            ResilientRedisCache(
                redis_space.url,
                {
                    "KEY_PREFIX": redis_space.prefix,
                    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
                },
            )
        )
        return made[-1]

    return process


@pytest.fixture
def raw(redis_space):
    """Writes behind the cache's back: no message, so only a copy would hide them."""

    def write(key, value):
        with redis_space.client() as client:
            client.set(f"{redis_space.prefix}:1:{key}", RedisSerializer().dumps(value))

    return write


def delivered():
    time.sleep(DELIVERY_SECONDS)


def test_a_mirrored_key_is_read_from_the_copy_after_the_first_read(process, raw):
    reader = process()
    reader.set(HOT, 1)
    assert reader.get(HOT) == 1

    raw(HOT, 2)

    assert reader.get(HOT) == 1, "served from the copy"
    assert reader.get_many([HOT]) == {HOT: 1}


def test_a_key_that_is_not_mirrored_is_always_read_from_redis(process, raw):
    reader = process()
    reader.set(COLD, 1)
    assert reader.get(COLD) == 1

    raw(COLD, 2)

    assert reader.get(COLD) == 2


def test_an_absent_key_is_copied_as_absent(process, raw):
    reader = process()
    assert reader.get(HOT, "none") == "none"

    raw(HOT, 2)

    assert reader.get(HOT, "none") == "none"


@pytest.fixture
def round_trips(monkeypatch):
    """Counts the clients a backend asks for: each of its calls to Redis asks for one."""

    def count(backend):
        calls = []
        get_client = backend._cache.get_client

        def counted(*args, **kwargs):
            calls.append(args)
            return get_client(*args, **kwargs)

        monkeypatch.setattr(backend._cache, "get_client", counted)
        return calls

    return count


def test_copied_keys_cost_no_round_trip_and_the_others_one_together(process, round_trips):
    reader = process()
    reader.set_many({HOT: 1, COLD: 2})
    reader.get(HOT)
    calls = round_trips(reader)

    assert reader.get_many([HOT]) == {HOT: 1}
    assert calls == []

    reader.delete(HOT)  # dropped here: the next read asks Redis for both keys
    calls.clear()
    assert reader.get_many([HOT, COLD]) == {COLD: 2}
    assert len(calls) == 1


def test_deleting_a_mirrored_key_and_announcing_it_is_one_round_trip(process, round_trips):
    """The captcha pool's sample is deleted at every comment post."""
    writer = process()
    writer.set(HOT, 1)
    calls = round_trips(writer)

    assert writer.delete(HOT) is True
    assert len(calls) == 1
    assert writer.delete(HOT) is False


# -- A write shows everywhere at the next read --------------------------------------------------


@pytest.fixture
def unannounced(monkeypatch):
    """Writes of this backend publish nothing: only what it does itself can show them."""

    def silence(backend):
        monkeypatch.setattr(backend._cache, "publish", lambda channel, messages: None)
        monkeypatch.setattr(
            backend._cache, "delete_and_publish", lambda key, channel: backend._cache.delete(key)
        )
        return backend

    return silence


def test_a_write_in_this_process_shows_at_once_without_its_message(process, unannounced):
    cache = unannounced(process())
    cache.set(HOT, 1)
    assert cache.get(HOT) == 1

    cache.set(HOT, 2)
    assert cache.get(HOT) == 2
    assert cache.incr(HOT) == 3
    assert cache.get(HOT) == 3
    cache.delete(HOT)
    assert cache.get(HOT) is None
    assert cache.add(HOT, 4)
    assert cache.get(HOT) == 4


WRITES = {
    "set": lambda cache: cache.set(HOT, "new"),
    "add": lambda cache: cache.delete(HOT) or cache.add(HOT, "new"),
    "set_many": lambda cache: cache.set_many({HOT: "new", COLD: "new"}),
    "delete": lambda cache: cache.delete(HOT),
    "delete_many": lambda cache: cache.delete_many([HOT, COLD]),
    "touch to 0 s": lambda cache: cache.touch(HOT, 0),
    "incr": lambda cache: cache.set(HOT, 1) or cache.incr(HOT, 9),
    "decr": lambda cache: cache.set(HOT, 1) or cache.decr(HOT),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_write_in_another_process_shows_at_the_next_read(process, write):
    reader, writer, witness = process("reader"), process("writer"), process("witness")
    reader.set(HOT, "old")
    assert reader.get(HOT) == "old"
    write(writer)
    # What Redis holds now, read by a process that never had a copy of it.
    expected = witness.get(HOT, "absent")
    delivered()

    assert reader.get(HOT, "absent") == expected


def test_a_reset_in_another_process_drops_every_copy(process, raw):
    reader, tests = process("reader"), process("tests")
    reader.set(HOT, "old")
    assert reader.get(HOT) == "old"
    raw(HOT, "changed behind the cache's back")

    tests.reset_mirror()
    delivered()

    assert reader.get(HOT) == "changed behind the cache's back"


def test_a_failed_add_drops_the_copy_that_said_absent(process, unannounced):
    reader, writer = process("reader"), unannounced(process("writer"))
    assert reader.get(HOT) is None
    writer.add(HOT, "theirs")

    # Redis has the key, so this process's add fails, and the copy saying "absent" goes.
    assert reader.add(HOT, "mine") is False
    assert reader.get(HOT) == "theirs"


def test_a_value_read_while_its_key_was_announced_is_not_kept(process, monkeypatch):
    """Another thread of this process drains the message while this one waits for Redis."""
    reader, writer = process("reader"), process("writer")
    writer.set(HOT, "old")
    read_from_redis = reader._cache.get_many_with_ttls
    interrupted = []

    def read_then_interrupted(keys, ttl_keys):
        values = read_from_redis(keys, ttl_keys)
        if not interrupted:
            interrupted.append(True)
            writer.set(HOT, "new")
            delivered()
            assert reader.get(HOT) == "new"  # the other thread: drains, reads, copies
        return values

    monkeypatch.setattr(reader._cache, "get_many_with_ttls", read_then_interrupted)

    assert reader.get(HOT) == "old"  # what Redis held when this read was made
    assert reader.get(HOT) == "new"


# -- Expiry -----------------------------------------------------------------------------------


class MovedClock:
    """The copies' clock (time.monotonic in newsroom.cache), moved on by the test: how long
    a copy lives is the point, not how long Redis takes to answer."""

    def __init__(self):
        self.moved = 0.0

    def monotonic(self):
        return time.monotonic() + self.moved


@pytest.fixture
def clock(monkeypatch):
    clock = MovedClock()
    monkeypatch.setattr(cache_module, "time", clock)
    return clock


@pytest.fixture
def expired(redis_space):
    """Ends a key in Redis as its TTL does: without a message, so only a copy would hide it."""

    def expire(key):
        with redis_space.client() as client:
            client.delete(f"{redis_space.prefix}:1:{key}")

    return expire


def test_a_copied_value_ends_with_its_ttl(process, expired, clock):
    reader, writer = process("reader"), process("writer")
    writer.set(HOT, "brief", timeout=1)
    assert reader.get(HOT) == "brief"
    expired(HOT)  # the copy's clock runs on, Redis's does not: its end is done by hand

    clock.moved = 0.5
    assert reader.get(HOT) == "brief", "served from the copy within its TTL"
    clock.moved = 1.1

    assert reader.get(HOT) is None


def test_a_copied_value_is_read_again_after_the_maximum_age(process, raw, monkeypatch, clock):
    """Should an invalidation ever be lost without the subscription failing: a copy is
    never older than a second."""
    monkeypatch.setattr(cache_module, "MIRROR_MAX_AGE", 1.0)
    reader = process()
    reader.set(HOT, 1)
    assert reader.get(HOT) == 1
    raw(HOT, 2)
    clock.moved = 0.9
    assert reader.get(HOT) == 1

    clock.moved = 1.1

    assert reader.get(HOT) == 2


# -- A subscription that fails ----------------------------------------------------------------


def kill_subscriptions(space, name):
    """Closes, from the server's side, the subscriptions of the clients called `name`."""
    killed = 0
    with space.client() as admin:
        for client in admin.client_list(_type="pubsub"):
            if client["name"] == name:
                killed += admin.client_kill_filter(_id=client["id"])
    assert killed == 1


@pytest.fixture
def named_process(redis_space):
    prefix = redis_space.prefix

    def process(name):
        return ResilientRedisCache(
            redis_space.url,
            {
                "KEY_PREFIX": prefix,
                "OPTIONS": {"socket_timeout": 1, "client_name": f"{prefix}-{name}"},
            },
        )

    return process


def test_after_the_subscription_is_killed_reads_are_still_fresh(named_process, redis_space, caplog):
    reader, writer = named_process("reader"), named_process("writer")
    writer.set(HOT, "old")
    assert reader.get(HOT) == "old"
    kill_subscriptions(redis_space, f"{redis_space.prefix}-reader")

    writer.set(HOT, "new")  # nobody tells the reader any more
    delivered()

    assert reader.get(HOT) == "new"
    assert "Cache mirror subscription failed" in caplog.text
    writer.set(HOT, "newer")
    assert reader.get(HOT) == "newer", "read through to Redis until it subscribes again"


def test_a_new_subscription_is_made_later(named_process, redis_space, raw, monkeypatch):
    monkeypatch.setattr(cache_module, "RETRY_SECONDS", 0)
    reader = named_process("reader")
    reader.set(HOT, 1)
    assert reader.get(HOT) == 1
    kill_subscriptions(redis_space, f"{redis_space.prefix}-reader")
    delivered()
    assert reader.get(HOT) == 1  # read through: the failure is noticed, the copy dropped

    assert reader.get(HOT) == 1  # subscribed again, and copied
    raw(HOT, 2)
    assert reader.get(HOT) == 1, "served from the new copy"
    kill_subscriptions(redis_space, f"{redis_space.prefix}-reader")


def test_a_forked_process_starts_empty_with_a_subscription_of_its_own(process, raw):
    reader, writer = process("reader"), process("writer")
    writer.set(HOT, "old")
    assert reader.get(HOT) == "old"
    raw(HOT, "changed behind the parent's copy")

    # Python warns about forking while other threads run: in this worker a session-wide
    # live server (browser tests) may be one. The child only talks to Redis, and the alarm
    # ends it should it ever block on a lock another thread held at the fork.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # the child reports through its exit status, and never returns to pytest
        status = 1
        signal.alarm(10)
        try:
            fresh = reader.get(HOT) == "changed behind the parent's copy"
            writer.set(HOT, "new")
            time.sleep(DELIVERY_SECONDS)
            status = 0 if fresh and reader.get(HOT) == "new" else 1
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's subscription was left alone by the child, and heard the child's write.
    assert reader.get(HOT) == "new"


# -- Redis down -------------------------------------------------------------------------------


def test_with_redis_down_mirrored_keys_fail_open_like_the_others(caplog):
    down = ResilientRedisCache(
        f"redis://127.0.0.1:{closed_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}},
    )

    assert down.get(HOT, "default") == "default"
    assert down.get_many([HOT, COLD]) == {}
    assert down.set(HOT, 1) is None
    assert down.add(HOT, 1) is False
    assert down.delete(HOT) is False
    assert "Redis is unreachable" in caplog.text
    with pytest.raises(redis.exceptions.ConnectionError):
        down.incr(HOT)


# -- The page it is for -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cached_article_page_is_served_without_a_round_trip_to_redis(
    settings, reader_cache, redis_space, round_trips
):
    settings.CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.ResilientRedisCache",
            "LOCATION": redis_space.url,
            "KEY_PREFIX": redis_space.prefix,
        }
    }
    refill_pool(5)
    article = make_article(title="The hot story")
    for _ in range(2):  # rendered and stored; served, drawing the captcha pool sample
        Client().get(article.get_absolute_url())
    delivered()  # this process's own messages about those writes
    Client().get(article.get_absolute_url())  # copies the version and the sample
    calls = round_trips(caches["default"])

    response = Client().get(article.get_absolute_url())

    assert response.status_code == 200
    assert "The hot story" in response.content.decode()
    assert calls == []
