"""The Redis of the tests that need a real one, whatever cache the run itself uses (the
`redis_space` fixture in tests/conftest.py): TEST_REDIS_URL, else the run's REDIS_URL, else
a local Redis's default database. Such a database may be anyone's: each test writes keys
under a prefix of its own and deletes those only, never the database (README, Development).
"""

import os
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import redis

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url_for_tests(environ):
    return environ.get("TEST_REDIS_URL") or environ.get("REDIS_URL") or DEFAULT_TEST_REDIS_URL


TEST_REDIS_URL = redis_url_for_tests(os.environ)


@dataclass(frozen=True)
class RedisSpace:
    """A key space of one test's own on the tests' Redis. Its keys, and so the cache
    mirror's channel and the client names made from it, start with `prefix`: tests in
    parallel processes, and other runs on the same database, never see them."""

    url: str
    prefix: str

    def client(self):
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def through(self, port):
        """The same database reached through a forwarder on this host's `port`
        (tests.load.server.Switch), with the same credentials."""
        parts = urlsplit(self.url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
        return parts._replace(netloc=netloc).geturl()

    @property
    def address(self):
        """Host and port, for a forwarder to it."""
        parts = urlsplit(self.url)
        return parts.hostname, parts.port or 6379

    def forget(self):
        """Delete this space's keys, and none other: the database may be anyone's."""
        with self.client() as client:
            if keys := list(client.scan_iter(match=f"{self.prefix}:*", count=1000)):
                client.delete(*keys)


def take_time_off(client, pattern, delta):
    """Time passing for the keys matching `pattern`: Redis ends a key's life on its own clock,
    which a test cannot move, so `delta` comes off each one's time to live (a key whose life
    it ends is deleted). A key without a time limit keeps it: no time passing ends it."""
    for key in client.scan_iter(match=pattern, count=1000):
        left = client.pttl(key)
        if left < 0:
            continue
        left -= delta // timedelta(milliseconds=1)
        if left > 0:
            client.pexpire(key, left)
        else:
            client.delete(key)


def shown(url):
    """The address without its password, for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def reach(url):
    """Fail the test, saying what to do, when the tests' Redis does not answer: those tests
    are what shows the site works with Redis, and a skip would hide that they did not run."""
    with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5) as client:
        try:
            client.ping()
            return
        except redis.RedisError as error:
            reason = error  # failed outside the handler: the message alone, without a chain
    pytest.fail(
        f"This test needs a Redis, and none answered at {shown(url)} ({reason}). Start one, "
        "or name another with TEST_REDIS_URL (README, Development).",
        pytrace=False,
    )
