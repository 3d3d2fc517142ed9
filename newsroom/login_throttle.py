"""django-axes pausing admin sign-in: per address at AXES_FAILURE_LIMIT, and per username
(from anywhere) at AXES_USERNAME_FAILURE_LIMIT, counted in Redis and the database, or in the
database alone.

axes compares one count with one limit, the largest of those its AXES_LOCKOUT_PARAMETERS
name. A username among them at the address's limit let anyone who knows a moderator's
username keep them out with five wrong passwords; so axes counts per address, and the
handlers here also pause a username whose failures from every address reach its own, higher
limit (UsernameFailureLimit). Those failures are read from the database in both setups: it
records every failure axes counts (the username, the address, the user agent), with Redis
too. axes counts no try it refused (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off), so a
stranger hammering a username from one address adds the address's limit to its count, and
no more.

With Redis, Redis shares the count between app servers. The database is shared by every app
server too, and outlives an outage of Redis, or a Redis restarted empty: each failure is
counted in both, and the lockout is decided on the larger count (the same failures, seen
twice, count once). While Redis cannot be reached, the database alone counts and decides,
with every failure from before the outage: the limit holds across it, with no 500 on a wrong
password.

Either way, each try is counted in the database before its password is checked, one try
from an address, or for a username, at a time (CountedBeforeThePasswordIsChecked): tries
sent at the same instant get no more password checks than tries sent one after another.
"""

import contextlib
import contextvars
import logging
from datetime import timedelta

from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.cache import AxesCacheHandler
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import (
    get_cache,
    get_client_cache_keys,
    get_client_username,
    get_cool_off,
    get_failure_limit,
)
from axes.models import AccessAttempt, AccessBase, AccessLog
from django.contrib import admin
from django.db import connections, router, transaction
from django.db.models import F, Q, Sum
from django.shortcuts import render
from django.utils import timezone

from newsroom.advisory_locks import lock_texts_until_the_transaction_ends
from newsroom.cache import UNREACHABLE

logger = logging.getLogger(__name__)

# While the database counts a failure Redis counted too: None, or whether the cache handler
# logged a lockout for it.
_second_record = contextvars.ContextVar("axes_failure_counted_in_redis_too", default=None)
LOCKOUT_MESSAGE = "AXES: Locking out %s after repeated login failures."  # both handlers'
USERNAME_LOCKOUT_MESSAGE = "Sign-in paused for a username after %d failures from any address."
# A username paused by failures from anywhere still signs in where it did within this long.
SIGNED_IN_FROM_HERE_WITHIN = timedelta(days=90)
COUNTS_IN_REDIS_STAY = (
    "Redis is unreachable: the sign-in failures counted there stay; run the reset again once "
    "it is back."
)


class _OnlyTheFirstRecord(logging.Filter):
    """Each failure is logged once, by the cache handler, when the database counts it too:
    one "Locking out" line per lockout, for whoever blocks addresses from the log. The
    database's own is kept when its count alone reaches the limit (Redis restarted empty, or
    back from an outage the database counted through): that lockout is logged nowhere else."""

    def filter(self, record):
        cache_logged_lockout = _second_record.get()
        if cache_logged_lockout is None:
            return True
        return record.msg == LOCKOUT_MESSAGE and not cache_logged_lockout


logging.getLogger("axes.handlers.database").addFilter(_OnlyTheFirstRecord())


def username_as_recorded(request, credentials=None):
    """The username axes counts failures for (AXES_USERNAME_CALLABLE), as axes reads it,
    cut to the length its records hold.

    The sign-in form takes a username of any length, and axes writes it into a column of
    255 characters: PostgreSQL refuses a longer one, which made the sign-in page a 500 for
    anyone who sent one. No account has a name that long (150 characters at most), so the
    names that share their first 255 characters share a count of failures, and only that.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    if isinstance(username, str):
        return username[: AccessBase._meta.get_field("username").max_length]
    return username


def username_failures(request, credentials=None):
    """The failures for the username typed, from every address, within the cool-off."""
    recent = AccessAttempt.objects.filter(
        username=get_client_username(request, credentials),
        attempt_time__gte=get_cool_off_threshold(request),
    )
    return recent.aggregate(failures=Sum("failures_since_start"))["failures"] or 0


def username_is_paused(request, credentials=None):
    """Its failures from anywhere reached its limit, and it has not signed in from here.

    Ten addresses (ten IPv6 /64s, which one home's /56 holds 256 of) sending the limit's
    failures every cool-off would otherwise keep a moderator out for good: where they signed
    in before (axes's access log), only the address's own limit holds."""
    if username_failures(request, credentials) < settings.AXES_USERNAME_FAILURE_LIMIT:
        return False
    return not AccessLog.objects.filter(
        username=get_client_username(request, credentials),
        ip_address=request.axes_ip_address,
        attempt_time__gte=timezone.now() - SIGNED_IN_FROM_HERE_WITHIN,
    ).exists()


# Names this module's advisory locks apart from any other's (comments/services.py's, and
# newsroom's migrate, of the one-number kind).
SIGN_IN_TRIES_LOCK_CLASS = 0x61786573  # "axes"


@contextlib.contextmanager
def counting_alone(request, credentials):
    """A transaction in which no other try from this address, or for this username, is
    counted or checked against a limit: the count read is the count written.

    PostgreSQL: two advisory locks, named by a hash of the address and of the username,
    always taken in the same order, so that no two tries can each hold what the other waits
    for. SQLite needs none: its transactions begin IMMEDIATE (settings), one writer at a
    time."""
    using = router.db_for_write(AccessAttempt)
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            names = [
                f"address {request.axes_ip_address}",
                f"username {get_client_username(request, credentials)}",
            ]
            lock_texts_until_the_transaction_ends(connection, SIGN_IN_TRIES_LOCK_CLASS, names)
        yield


class CountedBeforeThePasswordIsChecked:
    """A try under both limits is counted as a failure in the database before its password
    is checked; one at a limit is refused, unchecked.

    axes read the count before the check and wrote it after: tries sent at the same
    instant all read the same count, and each had its password checked (eight, with the
    limit at three), as many as the server runs at once. A try counted here holds its
    place in the count while its password is checked: a wrong one's place becomes the
    failure axes records (PlaceInTheCount), a sign-in forgets it with its username's
    failures there (SignInForgetsItsOwnFailures); the right password of an account the
    admin refuses gives it back (give_back_the_place)."""

    def is_allowed(self, request, credentials=None):
        # axes's own is_allowed, copied: it has no hook between its exemptions and is_locked,
        # and an exempt try (another site, a whitelisted client) must take no lock and hold
        # no place, which calling it inside counting_alone could not tell apart.
        if settings.AXES_ONLY_ADMIN_SITE and not self.is_admin_request(request):
            return True
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        with counting_alone(request, credentials):
            if self.is_locked(request, credentials):
                return False
            self.hold_a_place(request, credentials)
        return True


class PlaceInTheCount:
    """A database handler's side of CountedBeforeThePasswordIsChecked."""

    def hold_a_place(self, request, credentials):
        # An expired record would bring its failures back into the count.
        self.clean_expired_user_attempts(request, credentials)
        place = {
            "username": get_client_username(request, credentials),
            "ip_address": request.axes_ip_address,
            "user_agent": request.axes_user_agent,
        }
        held = AccessAttempt.objects.filter(**place).update(
            failures_since_start=F("failures_since_start") + 1,
            attempt_time=request.axes_attempt_time,
        )
        if not held:
            AccessAttempt.objects.create(
                **place, failures_since_start=1, attempt_time=request.axes_attempt_time
            )
        request.axes_place_in_the_count = place

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        """A wrong password: its place becomes the failure axes records, in one
        transaction, so the count never reads one less meanwhile."""
        if getattr(request, "axes_place_in_the_count", None) is None:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        with counting_alone(request, credentials):
            leave_the_place(request)
            return super().user_login_failed(sender, credentials, request, **kwargs)


def leave_the_place(request):
    """Takes the try out of the count it was held in (PlaceInTheCount.hold_a_place)."""
    held = AccessAttempt.objects.filter(**request.axes_place_in_the_count)
    del request.axes_place_in_the_count
    if not held.filter(failures_since_start__gt=1).update(
        failures_since_start=F("failures_since_start") - 1
    ):
        held.delete()


def give_back_the_place(request, credentials):
    """The right password of an account that may not sign in here (not staff) is no
    failure, as axes counts (authenticate() signals none): the place its try held in the
    count is given back, or a colleague whose staff access was taken away, typing their
    password, paused sign-in from their address for everyone there, with nothing logged."""
    if getattr(request, "axes_place_in_the_count", None) is not None:
        with counting_alone(request, credentials):
            leave_the_place(request)


class UsernameFailureLimit:
    """A username paused from everywhere at its own limit, on top of axes's per address."""

    def is_locked(self, request, credentials=None):
        return super().is_locked(request, credentials) or username_is_paused(request, credentials)

    def lock_out_at_either_limit(self, request, credentials):
        """After a failure, the lockout page if it reached a limit axes did not check: the
        username's, or the address's in the database's count while that is the larger. A
        try refused, or one that reached the limit axes checked, is marked already."""
        if request.axes_locked_out:
            return
        if super().is_locked(request, credentials):
            request.axes_locked_out = True
        elif username_is_paused(request, credentials):
            logger.warning(USERNAME_LOCKOUT_MESSAGE, settings.AXES_USERNAME_FAILURE_LIMIT)
            request.axes_locked_out = True


class SignInForgetsItsOwnFailures:
    """A sign-in (AXES_RESET_ON_SUCCESS) forgets the failures of its username from its
    address, not every failure from there, as axes does when it counts per address: anyone
    with an account of their own, signing in between wrong guesses at another's password,
    got the address's limit afresh each time, and the other username's count with it."""

    def reset_user_attempts(self, request, credentials=None):
        own = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,
            username=get_client_username(request, credentials),
        )
        count, _ = own.delete()
        return count


class AxesDatabaseHandlerWithUsernameLimit(
    CountedBeforeThePasswordIsChecked,
    SignInForgetsItsOwnFailures,
    UsernameFailureLimit,
    PlaceInTheCount,
    AxesDatabaseHandler,
):
    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None:
            self.lock_out_at_either_limit(request, credentials)


def lockout_page(request, original_response, credentials):
    """The page a paused sign-in gets (AXES_LOCKOUT_CALLABLE). axes's own names one limit;
    a moderator whose username is paused needs to know that another address will not help."""
    return render(
        request,
        "admin/lockout.html",
        {
            "username_paused": username_is_paused(request, credentials),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "username_failure_limit": settings.AXES_USERNAME_FAILURE_LIMIT,
            "cooloff_timedelta": get_cool_off(request),
            # Rendered outside the admin's views, which give the others their name.
            "site_header": admin.site.site_header,
            "site_title": admin.site.site_title,
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


class DatabaseCount(SignInForgetsItsOwnFailures, PlaceInTheCount, AxesDatabaseHandler):
    """The database's count beside Redis's (AxesCacheWithDatabaseFallback.fallback)."""


class AxesCacheWithDatabaseFallback(
    CountedBeforeThePasswordIsChecked, UsernameFailureLimit, AxesCacheHandler
):
    fallback = DatabaseCount()

    def __init__(self):
        """No cache kept: see `cache`."""

    @property
    def cache(self):
        """The cache configured now. axes's handler kept the one configured when it was made,
        which a process does once (again only when AXES_HANDLER changes): made while a test
        had a cache of its own, it counted there in every later test, and locked them out."""
        return get_cache()

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except UNREACHABLE:
            logger.warning("Redis is unreachable: counting sign-in failures in the database.")
            self.fallback.user_login_failed(sender, credentials, request, **kwargs)
        else:
            # Redis's count after this failure; None when the cache handler counted none
            # (a whitelisted client, say), for the same reasons as the database would not.
            counted = getattr(request, "axes_failures_since_start", None)
            if counted is not None:
                # The cache handler logs a lockout whenever its count reaches the limit.
                limit = get_failure_limit(request, credentials)
                cache_logged_lockout = settings.AXES_LOCK_OUT_AT_FAILURE and counted >= limit
                token = _second_record.set(cache_logged_lockout)
                # A failure counted is no try refused: the database handler would take the
                # lockout Redis's count just reached for one, and not count it.
                locked_out_by_redis, request.axes_locked_out = request.axes_locked_out, False
                try:
                    self.fallback.user_login_failed(sender, credentials, request, **kwargs)
                finally:
                    _second_record.reset(token)
                    request.axes_locked_out = request.axes_locked_out or locked_out_by_redis
        # The cache handler shows the lockout page only when its own count reaches the limit;
        # a lockout counted in the database while Redis was down, or the username's, would
        # otherwise be answered as a wrong password, the right one included.
        if request is not None:
            self.lock_out_at_either_limit(request, credentials)

    def user_logged_in(self, sender, request, user, **kwargs):
        """The database forgets the failures Redis forgets, and records the sign-in in the
        access log, where a paused username finds the addresses it signed in from."""
        super().user_logged_in(sender, request, user, **kwargs)
        self.fallback.user_logged_in(sender, request, user, **kwargs)

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False):
        """Lifts a lockout (axes_reset_ip, axes_reset_username, axes_reset_ip_username) in
        both stores.

        Given an address and a username, the database is told to forget the failures of
        either, or it would forget only those of that pair, and keep the username locked by
        failures sent from elsewhere."""
        scope = {"ip_address": ip_address, "username": username, "ip_or_username": ip_or_username}
        if ip_address is None and username is None:  # axes_reset: every lockout
            return self._forget_every_count_in_redis() + self.fallback.reset_attempts(**scope)
        if ip_address is not None and username is not None:
            scope["ip_or_username"] = True
        return self._forget_counts_in_redis(**scope) + self.fallback.reset_attempts(**scope)

    def _forget_every_count_in_redis(self):
        """The cache handler refuses to: its keys are digests, found only by their prefix."""
        client = self.cache._cache.get_client(write=True)
        try:
            keys = list(client.scan_iter(match=self.cache.make_key("axes-*")))
            if keys:
                client.delete(*keys)
        except UNREACHABLE:
            logger.warning(COUNTS_IN_REDIS_STAY)
            return 0
        return len(keys)

    def _forget_counts_in_redis(self, *, ip_address, username, ip_or_username):
        """Redis forgets what the database's reset forgets: the counts of the addresses of the
        failures it deletes, and of the address it was given.

        Redis keeps one count per address; the database, each failure with its username:
        the cache handler's own reset of a username forgot no address's count, so the
        documented reset did not let an editor who had locked themselves out back in from
        where they were. And while Redis is down the cache would drop the deletes without a
        word (remembered by a command's process, which exits): the lockout would be back
        with Redis after the command said it was lifted."""
        if ip_or_username:
            failed = AccessAttempt.objects.filter(Q(ip_address=ip_address) | Q(username=username))
        elif username is None:
            failed = AccessAttempt.objects.filter(ip_address=ip_address)
        else:
            failed = AccessAttempt.objects.filter(username=username)
        addresses = {ip_address, *failed.values_list("ip_address", flat=True)} - {None}
        attempts = [AccessAttempt(ip_address=address) for address in addresses]
        keys = {self.cache.make_key(key) for one in attempts for key in get_client_cache_keys(one)}
        if not keys:
            return 0
        try:
            return self.cache._cache.get_client(write=True).delete(*keys)
        except UNREACHABLE:
            # The database forgets which addresses they were: the operator is told.
            logger.warning(
                "%s Once it is, reset these addresses too: %s",
                COUNTS_IN_REDIS_STAY,
                " ".join(sorted(addresses)) or "none",
            )
            return 0

    def reset_logs(self, *, age_days=None):
        """axes_reset_logs: the access log is the database's (written by the fallback), which
        the cache handler's own reset left whole."""
        return self.fallback.reset_logs(age_days=age_days)

    def get_failures(self, request, credentials=None):
        """The larger count: the database's holds those Redis missed while it was down, or
        lost restarting empty."""
        return max(
            super().get_failures(request, credentials),
            self.fallback.get_failures(request, credentials),
        )

    def hold_a_place(self, request, credentials):
        """The database's count decides whether a try goes ahead: Redis's, counted after the
        check, is never the larger by a try in progress."""
        self.fallback.hold_a_place(request, credentials)

    # The fallback's AccessAttempt rows send these signals to the configured handler.
    def post_save_access_attempt(self, instance, **kwargs):
        self.fallback.post_save_access_attempt(instance, **kwargs)

    def post_delete_access_attempt(self, instance, **kwargs):
        self.fallback.post_delete_access_attempt(instance, **kwargs)
