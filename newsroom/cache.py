"""The Redis cache backend, made so that Redis being down takes no page down with it.

A cache only saves work: while Redis cannot be reached, reads miss and writes are dropped,
and pages are rendered from the database. After a failure Redis is left alone for
RETRY_SECONDS, so an outage costs each process one connection attempt every few seconds
instead of one per cache call (or one socket timeout per call when Redis hangs).

An invalidation dropped while Redis was unreachable (a delete, or a write of a key kept
without expiry, such as a version that cached pages must match) would leave Redis holding the
value from before it once Redis answers again, stale with no end in sight: each process
remembers the keys whose invalidation it dropped, and deletes them before anything else when
Redis is back. A key that expires by itself is not remembered: it cannot stay stale for long.
A process may not live to see Redis back (gunicorn recycles workers): the keys declared with
`delete_after_outage` are deleted by every process that found Redis unreachable.

Counters are not a cache: `incr` and `decr` still raise while Redis is down, so that code
which counts (flood control, `comments.ratelimit`) knows it must count another way.

A few small keys read at nearly every request (the content version, the captcha pool sample)
are *mirrored*: each backend keeps a copy of them, which Redis keeps fresh by pub/sub, so a
cached page is served without a round trip to Redis. See `Mirror`.
"""

import logging
import os
import select
import threading
import time
import weakref

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import PubSubError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.utils import str_if_bytes

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# The longest a copied value is served without asking Redis again, whatever its TTL: the
# bound on staleness should invalidations ever be lost without the subscription failing.
MIRROR_MAX_AGE = 1.0

# Shared by every thread of the process: servers -> time.monotonic() until which Redis
# is not asked, and servers -> {(key, version)} whose invalidation was dropped.
_down_until = {}
_dropped_invalidations = {}

_mirrored_names = set()
_deleted_after_outages = set()
_mirrors = weakref.WeakSet()  # for the fork hook
ABSENT = object()  # a copied "Redis has no such key"
EVERYTHING = ""  # the invalidation that drops every copied key: no full cache key is empty


def shared_by_every_process():
    """Whether every worker process uses the same cache.

    Local memory is one cache per process (`make serve` runs several), and the dummy cache
    keeps nothing: what must hold across processes cannot rely on either.
    """
    return not isinstance(caches["default"], (LocMemCache, DummyCache))


def mirror_keys(*names):
    """Cache keys every process keeps a copy of, with a Redis cache (ResilientRedisCache).

    For small keys read at (nearly) every request and written seldom. Declaring them is
    harmless with any other backend, which ignores it. Writes must go through the cache (a
    raw client, redis-cli or a key expired by a script bypasses the invalidation: call
    `reset_mirror()` after them).
    """
    _mirrored_names.update(names)


def delete_after_outage(*names):
    """Keys kept without expiry that every process which found Redis unreachable deletes once
    it answers again, whether or not the process dropped a write of them itself.

    A dropped write is remembered only by the process that dropped it, and a gunicorn worker
    recycled before Redis is back takes it along: a bump of the content version lost so would
    leave the pages from before the change until they expire. Its siblings found Redis down
    too, and each deletes the key when it reaches Redis again (only should all of them be
    gone by then, in a full restart during the outage, do the pages last until they expire).
    For keys whose deletion is always safe, such as a version made anew at the next read: the
    price is every cached page rendered again after an outage.

    That price is paid once per process that found Redis down (`_delete_dropped_invalidations`
    empties the set), at its first call once RETRY_SECONDS have passed: a burst of version
    changes such as a few moderation decisions make, each costing every page one render per
    worker asking for it at that moment (sync workers: a handful), then cache hits again. It
    is no herd worth preventing: while Redis was down every request rendered. Deleting only
    when no other process has yet would need to know whether any bump was lost in between,
    which the processes cannot tell one another while Redis is down; a missed one would leave
    a moderator's decision unseen until the pages expire.
    """
    _deleted_after_outages.update(names)


class Mirror:
    """This process's copies of mirrored keys, dropped when Redis says they were written.

    Every write of a mirrored key through ResilientRedisCache is followed by a PUBLISH of the
    key's full name on a channel of the cache's own (`channel`); each Mirror holds one
    subscription, and before a read answers from the copy it drains the messages already
    received (without blocking, no thread) and drops the keys they name. Misses are read
    from Redis with their PTTL, and kept until that TTL or MIRROR_MAX_AGE, whichever ends
    first.

    Why a write shows at the next request of any process (a moderation decision, say): Redis
    queues the message to every subscriber while it executes PUBLISH, before the writer gets
    its reply, and writes it out in the same pass of its event loop. The reader's next request
    comes at least one HTTP round trip after the writer got that reply, so the message is
    already in the reader's socket when it drains. (Only a Redis stalled between those two
    socket writes for longer than an HTTP round trip could let one request through with the
    old value; MIRROR_MAX_AGE bounds that and any message lost some other way.)

    What keeps the copy honest:
    - it is filled only while subscribed, after Redis confirmed the subscription, so a write
      made after a value was read always has its message on the way;
    - a value read from Redis is kept only if no message was drained (and nothing written
      here) while it was being read: that message may have been about it;
    - a write in this process drops the key here at once (it does not store the new value:
      two threads writing one key could otherwise keep the older write);
    - any trouble with the subscription drops the whole copy and its connection; reads go to
      Redis until a new subscription is made RETRY_SECONDS later. The connection is a bare
      one, not redis-py's PubSub, which reconnects and resubscribes by itself and would lose
      the messages sent in between without telling;
    - a forked child (a gunicorn worker) starts empty and makes its own subscription: the
      parent's socket and lock (perhaps held by another thread at the fork) are left alone.
    """

    def __init__(self, pool, channel):
        self.pool = pool
        self.channel = channel
        self._start_over()
        _mirrors.add(self)

    def _start_over(self):
        self._lock = threading.Lock()
        self._values = {}  # full key -> (value or ABSENT, time.monotonic() it expires)
        self._connection = None
        self._readable = None  # a poll of the subscription's socket
        self._subscribe_after = 0.0
        # Counts invalidations: a value read from Redis is kept only if none came meanwhile.
        self._generation = 0

    def read(self, keys):
        """The fresh copied values among `keys` (ABSENT for a key Redis had not), and the
        generation to hand back to `keep()`, or None when there is no subscription to trust.

        Raises when Redis cannot be reached to subscribe, like any other read."""
        with self._lock:
            now = time.monotonic()
            if self._connection is None:
                if now < self._subscribe_after:
                    return {}, None
                try:
                    self._subscribe()
                except UNREACHABLE:
                    raise  # Redis is down: the read fails open and marks it so, as any other
                except RedisError as error:
                    self._give_up(error)
                    return {}, None
            else:
                try:
                    self._drain()
                except (RedisError, OSError) as error:
                    self._give_up(error)
                    return {}, None
            copied = {}
            for key in keys:
                entry = self._values.get(key)
                if entry is not None and entry[1] > now:
                    copied[key] = entry[0]
            return copied, self._generation

    def keep(self, values, generation):
        """Copies values read from Redis (`key -> (value or ABSENT, expiry)`), unless an
        invalidation came since `read()` returned `generation`."""
        with self._lock:
            if generation == self._generation:
                self._values.update(values)

    def forget(self, keys):
        with self._lock:
            self._generation += 1
            for key in keys:
                self._values.pop(key, None)

    def forget_all(self):
        with self._lock:
            self._generation += 1
            self._values.clear()

    def _subscribe(self):
        connection = self.pool.connection_class(**self.pool.connection_kwargs)
        try:
            connection.connect()
            connection.send_command("SUBSCRIBE", self.channel)
            reply = connection.read_response(push_request=True)
            if str_if_bytes(reply[0]) != "subscribe":
                raise PubSubError(f"Unexpected answer to SUBSCRIBE: {reply!r}")
        except BaseException:
            connection.disconnect()
            raise
        self._connection = connection
        # redis-py's can_read(timeout=0) costs some 10 us (a socket timeout set and reset, a
        # recv raising BlockingIOError); a poll of the socket, 1 us. Every drain reads until
        # can_read() is False, so nothing is left in the parser's buffer between drains, and an
        # idle socket means no message. The socket is private to redis-py: hence this comment.
        self._readable = select.poll()
        self._readable.register(connection._sock, select.POLLIN)

    def _drain(self):
        if not self._readable.poll(0):
            return
        connection = self._connection
        while connection.can_read(timeout=0):
            reply = connection.read_response(push_request=True)
            if str_if_bytes(reply[0]) != "message":
                raise PubSubError(f"Unexpected message on {self.channel}: {reply!r}")
            key = str_if_bytes(reply[2])
            self._generation += 1
            if key == EVERYTHING:
                self._values.clear()
            else:
                self._values.pop(key, None)

    def _give_up(self, error):
        logger.warning(
            "Cache mirror subscription failed (%s); reading from Redis for %s s.",
            error,
            RETRY_SECONDS,
        )
        if self._connection is not None:
            self._connection.disconnect()
            self._connection = self._readable = None
        self._values.clear()
        self._generation += 1
        self._subscribe_after = time.monotonic() + RETRY_SECONDS


def _start_over_in_child():
    for mirror in list(_mirrors):
        mirror._start_over()


os.register_at_fork(after_in_child=_start_over_in_child)


# One more in each key's count; a key that has no end yet (new, or recreated by INCR just
# after it expired) gets its window, so that no count ever outlives it. A script: the whole
# of it in one round trip, and nothing can come between the count and the window.
INCR_IN_WINDOWS_SCRIPT = """
local counts = {}
for index, key in ipairs(KEYS) do
    counts[index] = redis.call('INCR', key)
    if redis.call('TTL', key) == -1 then
        redis.call('EXPIRE', key, ARGV[1])
    end
end
return counts
"""


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

    def get_many_with_ttls(self, keys, ttl_keys):
        """The values of `keys` and the PTTLs of `ttl_keys` (milliseconds, -1 for none, -2 for
        no such key): one round trip, one snapshot (MULTI)."""
        pipeline = self.get_client(None).pipeline(transaction=True)
        pipeline.mget(keys)
        for key in ttl_keys:
            pipeline.pttl(key)
        values, *ttls = pipeline.execute()
        found = {
            key: self._serializer.loads(value)
            for key, value in zip(keys, values, strict=True)
            if value is not None
        }
        return found, ttls

    def incr_in_windows(self, keys, seconds):
        client = self.get_client(None, write=True)
        return client.register_script(INCR_IN_WINDOWS_SCRIPT)(keys=keys, args=[seconds])

    def publish(self, channel, messages):
        pipeline = self.get_client(None, write=True).pipeline(transaction=False)
        for message in messages:
            pipeline.publish(channel, message)
        pipeline.execute()

    def delete_and_publish(self, key, channel):
        """DEL `key`, then PUBLISH its name on `channel`: one round trip. Redis runs a
        pipeline's commands in order, so the message goes out once the key is gone, as it
        would a round trip later."""
        pipeline = self.get_client(key, write=True).pipeline(transaction=False)
        pipeline.delete(key)
        pipeline.publish(channel, key)
        deleted, _ = pipeline.execute()
        return bool(deleted)


class ResilientRedisCache(RedisCache):
    """Django's RedisCache that fails open (a miss for reads, nothing for writes), and
    mirrors the keys declared with `mirror_keys()`."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisClient

    @cached_property
    def _mirror(self):
        """None with replicas: a message may arrive before the replica read has the write."""
        if len(self._servers) > 1:
            return None
        pool = self._cache._get_connection_pool(write=False)
        # Channels are shared by every database of a server: the number is part of the name.
        database = pool.connection_kwargs.get("db", 0)
        return Mirror(pool, f"cache-mirror:{database}:{self.key_prefix}")

    def _mirrors_any(self, keys):
        return not _mirrored_names.isdisjoint(keys) and self._mirror is not None

    def _is_down(self):
        return time.monotonic() < _down_until.get(tuple(self._servers), 0)

    def _mark_down(self, error):
        _down_until[tuple(self._servers)] = time.monotonic() + RETRY_SECONDS
        # Another process may drop a write of these now, and be gone when Redis is back.
        _dropped_invalidations.setdefault(tuple(self._servers), set()).update(
            (name, None) for name in _deleted_after_outages
        )
        logger.warning(
            "Redis is unreachable (%s); serving without the cache for %s s.", error, RETRY_SECONDS
        )

    def _or(self, fallback, operation, *args, invalidates=()):
        """`operation(*args)`, or `fallback` while Redis is unreachable; `invalidates` are the
        (key, version) pairs to delete once Redis is back should the operation be dropped."""
        if not self._is_down():
            try:
                if _dropped_invalidations:
                    self._delete_dropped_invalidations()
                return operation(*args)
            except UNREACHABLE as error:
                self._mark_down(error)
        if invalidates:
            _dropped_invalidations.setdefault(tuple(self._servers), set()).update(invalidates)
        return fallback

    def _delete_dropped_invalidations(self):
        dropped = _dropped_invalidations.pop(tuple(self._servers), None)
        if not dropped:
            return
        try:
            self._cache.delete_many(
                [self.make_and_validate_key(key, version=version) for key, version in dropped]
            )
        except UNREACHABLE:
            _dropped_invalidations.setdefault(tuple(self._servers), set()).update(dropped)
            raise
        for key, version in dropped:
            self._wrote([key], version)

    def _wrote(self, keys, version, *, published=True):
        """After a write (tried) through this backend: the mirrored keys among `keys` are
        dropped here at once, and everywhere else by a message once the write is done."""
        if not self._mirrors_any(keys):
            return
        full_keys = [
            self.make_and_validate_key(key, version=version)
            for key in keys
            if key in _mirrored_names
        ]
        self._mirror.forget(full_keys)
        if published:
            self._or(None, self._cache.publish, self._mirror.channel, full_keys)

    def reset_mirror(self):
        """Every process drops its copies: after keys were changed behind the cache's back
        (a raw client, redis-cli), as tests do when they empty the cache."""
        if self._mirror is None:
            return
        self._mirror.forget_all()
        self._or(None, self._cache.publish, self._mirror.channel, [EVERYTHING])

    def _get_many_mirrored(self, keys, version):
        """One round trip at most: the keys not copied (mirrored or not) in one MGET."""
        names = {self.make_and_validate_key(key, version=version): key for key in keys}
        mirrored = [key for key, name in names.items() if name in _mirrored_names]
        copied, generation = self._mirror.read(mirrored)
        found = {names[key]: value for key, value in copied.items() if value is not ABSENT}
        missing = [key for key in names if key not in copied]
        if not missing:
            return found
        to_copy = [key for key in mirrored if key not in copied] if generation is not None else []
        read_at = time.monotonic()
        values, ttls = self._cache.get_many_with_ttls(missing, to_copy)
        found.update({names[key]: value for key, value in values.items()})
        if to_copy:
            # A negative PTTL: no expiry (-1) or no such key (-2).
            kept_for = [
                MIRROR_MAX_AGE if ttl < 0 else min(ttl / 1000, MIRROR_MAX_AGE) for ttl in ttls
            ]
            self._mirror.keep(
                {
                    key: (values.get(key, ABSENT), read_at + seconds)
                    for key, seconds in zip(to_copy, kept_for, strict=True)
                },
                generation,
            )
        return found

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        added = self._or(False, super().add, key, value, timeout, version)
        # Not added means Redis holds the key: a copy saying otherwise goes, unannounced.
        self._wrote([key], version, published=added)
        return added

    def get(self, key, default=None, version=None):
        if self._mirrors_any([key]):
            return self.get_many([key], version).get(key, default)
        return self._or(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        invalidates = [(key, version)] if timeout is None else []
        self._or(None, super().set, key, value, timeout, version, invalidates=invalidates)
        self._wrote([key], version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        touched = self._or(False, super().touch, key, timeout, version)
        self._wrote([key], version)
        return touched

    def delete(self, key, version=None):
        if self._mirrors_any([key]):
            return self._delete_mirrored(key, version)
        deleted = self._or(False, super().delete, key, version, invalidates=[(key, version)])
        self._wrote([key], version)
        return deleted

    def _delete_mirrored(self, key, version):
        """`delete` and `_wrote` in one round trip, not two: the captcha pool's sample is
        deleted at every comment post (comments.reader_cache.forget_pool_sample)."""
        full_key = self.make_and_validate_key(key, version=version)
        deleted = self._or(
            False,
            self._cache.delete_and_publish,
            full_key,
            self._mirror.channel,
            invalidates=[(key, version)],
        )
        self._mirror.forget([full_key])
        return deleted

    def get_many(self, keys, version=None):
        if self._mirrors_any(keys):
            return self._or({}, self._get_many_mirrored, keys, version)
        return self._or({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._or(False, super().has_key, key, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        invalidates = [(key, version) for key in data] if timeout is None else []
        failed = self._or(
            list(data), super().set_many, data, timeout, version, invalidates=invalidates
        )
        self._wrote(list(data), version)
        return failed

    def delete_many(self, keys, version=None):
        self._or(
            None, super().delete_many, keys, version, invalidates=[(key, version) for key in keys]
        )
        self._wrote(keys, version)

    def incr(self, key, delta=1, version=None):
        """Raises while Redis is down (`decr` goes through here too): a lost count matters."""
        value = self._count(super().incr, key, delta, version)
        self._wrote([key], version)
        return value

    def seconds_left(self, key, version=None):
        """How long `key` has to live, in seconds: None for a key without a time limit, one
        that is not there, or while Redis is unreachable."""
        full_key = self.make_and_validate_key(key, version=version)
        milliseconds = self._or(-2, self._cache.get_client(full_key).pttl, full_key)
        return milliseconds / 1000 if milliseconds >= 0 else None

    def incr_in_windows(self, keys, seconds, version=None):
        """One more in each key's count, which ends `seconds` after its first: the counts,
        in one round trip (`incr` takes two per key, and opening a window two more). Raises
        while Redis is down, as `incr` does."""
        full_keys = [self.make_and_validate_key(key, version=version) for key in keys]
        counts = self._count(self._cache.incr_in_windows, full_keys, seconds)
        self._wrote(keys, version)
        return counts

    def _count(self, operation, *args):
        if self._is_down():
            raise RedisConnectionError("Redis was unreachable moments ago.")
        try:
            return operation(*args)
        except UNREACHABLE as error:
            self._mark_down(error)
            raise

    def clear(self):
        cleared = super().clear()
        self.reset_mirror()
        return cleared
