"""Flood control: at most COMMENTS_FLOOD_LIMIT comments per window from one IP address and
from one commenter (their email address in any letter case, told apart as the database
writes it in capitals: Comment.objects.commenters()), counted so that no race lets more
through.

Beyond the address's limit the sender is refused (429, the text kept): it counts what they
sent themselves. Beyond the email's limit alone the comment is taken as spam, answered as
any comment is: a refusal would tell anyone who types an email address that it commented
within the window (from other IP addresses, the sender's own being within its limit).

A request without a client address (gunicorn on a unix socket without DJANGO_BEHIND_PROXY)
is counted as one sender with every other such request: counted under none, its limits
would not hold.

A submission claims a place before it is stored, with an atomic increment in the shared cache
(Redis: every app server and worker counts together), and gives it back if it is not stored
after all. Checking the count first and adding to it after the save would let twenty
simultaneous requests all see the same count and all pass.

When the cache cannot count for every process (local memory, one per worker process, when
there is no Redis) or cannot count at all (Redis is down), the comments table counts
instead: recent comments from that address (an IPv6 sender's /64) or email. That count can
race, but it still stops anyone sending one comment after another, and no comment is refused
just because a cache is down.

A form sent back to be shown again (with a mistake in it, or by the no-JavaScript buttons:
a comment's Reply, Cancel reply, Show a new question) stores nothing, yet each renders the
whole article page; a new question asked for with JavaScript (Show a new question, and the
question of one's own a reader gets on starting to write) stores one. They share a budget of
their own per sender, COMMENTS_REDISPLAY_LIMIT in the same window,
counted in the cache only (there is no row to count). Without Redis each worker process
counts its own; with Redis down nothing is counted, and nobody is refused.
"""

import datetime
import enum
import ipaddress
import logging
import math

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Min
from django.utils import timezone

from newsroom.cache import shared_by_every_process
from newsroom.client_ip import sender_block

from .models import Comment, commenter_key_digest

logger = logging.getLogger(__name__)

# What every request without a client address is counted under.
NO_ADDRESS = "none"


class Claim(enum.Enum):
    TAKEN = "within both limits"
    SENDER_FLOODED = "over the limit for the sender's address: refused"
    EMAIL_FLOODED = "over the email's limit alone: taken as spam"


def _keys(ip_address, commenter):
    """The commenter's key, then the sender's."""
    # The commenter's key hashed: a key of fixed length (an address may have 254 characters,
    # a cache key 250), and no commenter's address in the cache for whoever lists its keys.
    return [f"comments:flood:email:{commenter_key_digest(commenter)}", _sender_key(ip_address)]


def _sender_key(ip_address):
    return f"comments:flood:ip:{flood_source(ip_address)}"


def flood_source(ip_address):
    """What one sender's comments are counted under: its sender_block (an IPv6 address's
    /64); all requests without an address together."""
    return sender_block(ip_address) if ip_address else NO_ADDRESS


def claim(*, ip_address, commenter):
    """Take a place for one more comment (a Claim) from `commenter`, the key of its address
    (Comment.objects.commenters()): counted as the site tells commenters apart everywhere
    else, in Redis as in the comments table. A sender refused gets it back at once."""
    if not shared_by_every_process():
        return _claim_in_database(ip_address=ip_address, commenter=commenter)
    keys = _keys(ip_address, commenter)
    try:
        email_count, sender_count = _count(keys)
    except Exception:
        logger.warning("Flood control counts in the database: the cache cannot count.")
        return _claim_in_database(ip_address=ip_address, commenter=commenter)
    if sender_count > settings.COMMENTS_FLOOD_LIMIT:
        _decrement(keys)
        return Claim.SENDER_FLOODED
    if email_count > settings.COMMENTS_FLOOD_LIMIT:
        return Claim.EMAIL_FLOODED
    return Claim.TAKEN


def claim_redisplay(*, ip_address):
    """Count one more form sent back to be shown again, or new question: True while the
    sender is within COMMENTS_REDISPLAY_LIMIT for the window, False beyond it."""
    try:
        [count] = _count([_redisplay_key(ip_address)])
    except Exception:
        logger.warning("Forms shown again are not counted: the cache cannot count.")
        return True
    return count <= settings.COMMENTS_REDISPLAY_LIMIT


def _redisplay_key(ip_address):
    return f"comments:redisplay:ip:{flood_source(ip_address)}"


def window_minutes():
    """How long, at the latest, a sender past a limit waits, in whole minutes."""
    return _whole_minutes(settings.COMMENTS_FLOOD_WINDOW_SECONDS)


def wait_in_words(minutes):
    """ "a minute", "7 minutes", "90 minutes", then "2 hours", "24 hours" (rounded up): a
    wait as people say it. An operator's day-long window read "1440 minutes"."""
    if minutes > 90:
        return f"{math.ceil(minutes / 60)} hours"
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def _whole_minutes(seconds):
    """Rounded up, the last seconds as a minute: a bot learns the minute, as a person needs,
    not the second."""
    return max(1, math.ceil(seconds / 60))


def _seconds_left(key):
    """What is left of `key`'s window in Redis; None where the cache cannot tell (another
    backend, Redis unreachable)."""
    seconds_left = getattr(cache, "seconds_left", None) if shared_by_every_process() else None
    return seconds_left(key) if seconds_left else None


def sender_wait_minutes(ip_address):
    """How long a sender refused (SENDER_FLOODED) waits before a comment is taken again, in
    whole minutes. Read only once refused: what is left of the count's window in Redis, or
    else until the sender's first comment of the window leaves it (what the comments table
    counts, and where the cache's window started)."""
    seconds = _seconds_left(_sender_key(ip_address))
    if seconds is None:
        window = settings.COMMENTS_FLOOD_WINDOW_SECONDS
        since = timezone.now() - datetime.timedelta(seconds=window)
        first = _first_from_sender(Comment.objects.filter(created_at__gte=since), ip_address)
        seconds = window if first is None else (first - since).total_seconds()
    return _whole_minutes(seconds)


def redisplay_pause_in_words(ip_address):
    """How long forms shown again and new questions stay paused for a sender past
    COMMENTS_REDISPLAY_LIMIT: "about 7 minutes" as Redis tells, "up to 10 minutes" where
    each process counts in its own memory, which does not say."""
    seconds = _seconds_left(_redisplay_key(ip_address))
    if seconds is None:
        return f"up to {wait_in_words(window_minutes())}"
    return f"about {wait_in_words(_whole_minutes(seconds))}"


def release(*, ip_address, commenter):
    """Give back the place a comment claimed and was not stored with."""
    if shared_by_every_process():
        _decrement(_keys(ip_address, commenter))


def _count(keys):
    """One more in each key's window, which the first comment opens: the counts. Redis
    (`ResilientRedisCache`) counts them all in one round trip; another cache key by key."""
    window = settings.COMMENTS_FLOOD_WINDOW_SECONDS
    if incr_in_windows := getattr(cache, "incr_in_windows", None):
        return incr_in_windows(keys, window)
    return [_increment(key, window) for key in keys]


def _increment(key, window):
    try:
        count = cache.incr(key)
    except ValueError:  # no open window
        if cache.add(key, 1, timeout=window):
            return 1
        count = cache.incr(key)  # another request opened it first
    if count == 1:
        # An increment may recreate a key that expired just before it, with no time limit
        # (Redis's INCR does): make sure a new window always ends.
        cache.touch(key, timeout=window)
    return count


def _decrement(keys):
    for key in keys:
        try:
            cache.decr(key)
        except Exception:  # expired meanwhile, or the cache is down: nothing to give back
            logger.info("Flood counter %s not decremented.", key)


def _claim_in_database(*, ip_address, commenter):
    """Two counts, each read from an index (comment_email_idx, comment_ip_idx): one count
    over the window's comments would read them all, and a flood is when there are many.
    Comments without an address (ip_address IS NULL) count as one sender's, as in the
    cache; those whose address clear_commenter_ips forgot are older than any window."""
    since = timezone.now() - datetime.timedelta(seconds=settings.COMMENTS_FLOOD_WINDOW_SECONDS)
    recent = Comment.objects.filter(created_at__gte=since)
    if _count_from_sender(recent, ip_address) >= settings.COMMENTS_FLOOD_LIMIT:
        return Claim.SENDER_FLOODED
    if recent.by_commenters([commenter]).count() >= settings.COMMENTS_FLOOD_LIMIT:
        return Claim.EMAIL_FLOODED
    return Claim.TAKEN


def _from_sender(recent, ip_address):
    """The comments among `recent` from the sender's flood_source (an IPv6 sender's whole
    /64, compared as addresses), and the block the database could not compare them to
    (None when it could): (queryset, network).

    PostgreSQL stores the address itself (inet) and reads the block from comment_ip_idx;
    SQLite stores the text Python writes ("2001:db8::1"), which two addresses of one /64 need
    not start alike, so its IPv6 senders of the window are read and compared here."""
    source = flood_source(ip_address)
    if "/" not in source:
        return recent.filter(ip_address=ip_address), None
    network = ipaddress.ip_network(source)
    if connections[recent.db].vendor == "postgresql":
        block = recent.filter(ip_address__gte=str(network[0]), ip_address__lte=str(network[-1]))
        return block, None
    return recent.filter(ip_address__contains=":"), network


def _count_from_sender(recent, ip_address):
    comments, network = _from_sender(recent, ip_address)
    if network is None:
        return comments.count()
    addresses = comments.values_list("ip_address", flat=True)
    return sum(ipaddress.ip_address(address) in network for address in addresses.iterator())


def _first_from_sender(recent, ip_address):
    """When the sender's first comment among `recent` was sent (None without one)."""
    comments, network = _from_sender(recent, ip_address)
    if network is None:
        return comments.aggregate(first=Min("created_at"))["first"]
    sent = comments.values_list("ip_address", "created_at")
    return min(
        (at for address, at in sent.iterator() if ipaddress.ip_address(address) in network),
        default=None,
    )
