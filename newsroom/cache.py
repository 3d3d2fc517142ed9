"""The Redis cache backend, made so that Redis being down takes no page down with it.

A cache only saves work: while Redis cannot be reached, reads miss and writes are dropped,
and pages are rendered from the database. After a failure Redis is left alone for
RETRY_SECONDS, so an outage costs each process one connection attempt every few seconds
instead of one per cache call (or one socket timeout per call when Redis hangs).

Counters are not a cache: `incr` and `decr` still raise while Redis is down, so that code
which counts (flood control, `comments.ratelimit`) knows it must count another way.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)

# Shared by every thread of the process: servers -> time.monotonic() until which Redis
# is not asked.
_down_until = {}


class ReusedRedisClient(RedisCacheClient):
    """Django's Redis cache client, keeping one redis-py client per connection pool.

    Django builds a new `redis.Redis` for every cache call, and its constructor copies a
    table of some 170 response callbacks: about half the CPU of a round trip to a local
    Redis. A client is thread-safe and holds no connection of its own (the pool does), so
    one per pool serves every call.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        if pool not in self._clients:
            self._clients[pool] = self._client(connection_pool=pool)
        return self._clients[pool]


class ResilientRedisCache(RedisCache):
    """Django's RedisCache that fails open: a miss for reads, nothing for writes."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisClient

    def _is_down(self):
        return time.monotonic() < _down_until.get(tuple(self._servers), 0)

    def _mark_down(self, error):
        _down_until[tuple(self._servers)] = time.monotonic() + RETRY_SECONDS
        logger.warning(
            "Redis is unreachable (%s); serving without the cache for %s s.", error, RETRY_SECONDS
        )

    def _or(self, fallback, operation, *args):
        if self._is_down():
            return fallback
        try:
            return operation(*args)
        except UNREACHABLE as error:
            self._mark_down(error)
            return fallback

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._or(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._or(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._or({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._or(False, super().has_key, key, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._or(None, super().delete_many, keys, version)

    def incr(self, key, delta=1, version=None):
        """Raises while Redis is down (`decr` goes through here too): a lost count matters."""
        if self._is_down():
            raise RedisConnectionError("Redis was unreachable moments ago.")
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as error:
            self._mark_down(error)
            raise
