"""Guessing admin passwords: django-axes through the real admin login endpoint."""

import io
import logging
import shutil
from datetime import timedelta

import axes.handlers.proxy
import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from tests.redis_space import take_time_off
from tests.sign_in import PASSWORD, assert_locked_out, sign_in
from tests.test_settings import manage


@pytest.fixture
def username_failure_limit(settings, failure_limit):
    """Well above the address's limit, as in production (5 and 50)."""
    settings.AXES_USERNAME_FAILURE_LIMIT = 3 * failure_limit
    return settings.AXES_USERNAME_FAILURE_LIMIT


def fail(client, times, username="editor", ip="203.0.113.7"):
    """Send `times` wrong passwords; return the last answer."""
    for _ in range(times):
        response = sign_in(client, username, "wrong guess", ip=ip)
    return response


def test_right_password_signs_in_below_the_limit(client, editor, failure_limit):
    below_limit = fail(client, failure_limit - 1)
    assert below_limit.status_code == 200, "a wrong password shows the login form again"
    assert "Please enter the correct username and password" in below_limit.content.decode()

    response = sign_in(client, "editor", PASSWORD)

    assert response.status_code == 302
    assert response.url == "/admin/"


def test_the_failure_that_reaches_the_limit_gets_the_lockout_page(client, editor, failure_limit):
    assert_locked_out(fail(client, failure_limit))


def test_too_many_failures_from_an_address_lock_every_username_there(client, editor, failure_limit):
    for attempt in range(failure_limit):
        fail(client, 1, username=f"guess{attempt}", ip="203.0.113.50")

    assert_locked_out(sign_in(client, "editor", PASSWORD, ip="203.0.113.50"))
    # The editor can still sign in from their own address.
    assert sign_in(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302


def test_lockout_page_states_the_limit_and_the_wait(client, editor, failure_limit, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    fail(client, failure_limit)

    page = sign_in(client, "editor", "wrong guess").content.decode()

    assert "Too many failed sign-in attempts from this address" in page
    assert f"after {failure_limit} failed attempts from one address" in page
    assert "try again in 15 minutes" in page


def test_lockout_page_says_a_wait_of_one_minute_in_the_singular(
    client, editor, failure_limit, settings
):
    """AXES_COOLOFF_MINUTES=1 read "Please try again in 1 minutes"."""
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    fail(client, failure_limit)

    page = sign_in(client, "editor", "wrong guess").content.decode()

    assert "try again in 1 minute." in page


def test_lockout_is_logged(client, editor, failure_limit, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        fail(client, failure_limit)

    assert any("locking out" in record.getMessage().lower() for record in caplog.records)


def test_a_sign_in_takes_a_fixed_number_of_queries(
    client, editor, failure_limit, django_assert_max_num_queries
):
    """Each try is counted before its password is checked, under locks: a few statements
    more than axes's own, whatever the count already holds."""
    fail(client, failure_limit - 2)
    with django_assert_max_num_queries(20):
        fail(client, 1)
    with django_assert_max_num_queries(22):
        sign_in(client, "editor", PASSWORD)


@pytest.fixture
def move_clock(monkeypatch):
    """Moves the clock the throttle reads, instead of waiting for it.

    The database handler counts the failures since the request's `axes_attempt_time` less
    the cool-off, and axes takes that time from `now()`; the cache handler gives each count
    the cool-off as its time to live, which only the cache's own clock ends: moving that
    clock forward is taking the same time off every count's time to live.
    """

    moved = timedelta()

    def move(delta):
        nonlocal moved
        moved += delta
        monkeypatch.setattr(axes.handlers.proxy, "now", lambda: timezone.now() + moved)
        cache = caches["default"]
        if isinstance(cache, RedisCache):
            take_time_off(cache._cache.get_client(write=True), cache.make_key("axes-*"), delta)

    return move


def test_signing_in_works_again_after_the_cool_off(
    client, editor, failure_limit, settings, move_clock
):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    fail(client, failure_limit)
    assert_locked_out(sign_in(client, "editor", PASSWORD))

    move_clock(timedelta(minutes=15, seconds=1))

    assert sign_in(client, "editor", PASSWORD).status_code == 302


def test_failures_are_counted_in_the_cache_configured_now(
    client, editor, failure_limit, settings, counted_in_redis, move_clock
):
    """axes's handler, made once per process, kept the cache configured then. Remade as a
    test with a Redis space of its own ended (counted_in_redis: AXES_HANDLER is restored
    before CACHES), it counted every later test's failures there, where no clearing and no
    moved clock reached: after tests/comments/test_submit.py, this file's tests that sign in
    from 203.0.113.7 found the address locked out before their first try."""
    elsewhere = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gone"}
    with override_settings(CACHES={"default": elsewhere}):
        axes.handlers.proxy.AxesProxyHandler.get_implementation(force=True)
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    fail(client, failure_limit)

    move_clock(timedelta(minutes=15, seconds=1))

    assert sign_in(client, "editor", PASSWORD).status_code == 302


def test_axes_reset_lifts_every_lockout_counted_in_redis(
    client, editor, failure_limit, counted_in_redis
):
    fail(client, failure_limit)
    assert_locked_out(sign_in(client, "editor", PASSWORD))

    call_command("axes_reset", stdout=io.StringIO())

    assert sign_in(client, "editor", PASSWORD).status_code == 302


def test_axes_reset_ip_username_lets_that_username_in_from_that_address(
    client, editor, username_failure_limit, counted_in_redis
):
    """The editor's name locked by guesses from elsewhere: the reset for their own address
    and name lifts it there, in the database's count as in Redis's."""
    for attempt in range(username_failure_limit):
        fail(client, 1, ip=f"198.51.100.{attempt + 1}")
    assert_locked_out(sign_in(client, "editor", PASSWORD, ip="192.0.2.10"))

    call_command("axes_reset_ip_username", "192.0.2.10", "editor", stdout=io.StringIO())

    assert sign_in(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302


@pytest.mark.parametrize(
    "reset", [["axes_reset_username", "editor"], ["axes_reset_ip", "203.0.113.7"]]
)
def test_the_documented_resets_let_an_editor_who_locked_themselves_out_back_in(
    client, editor, failure_limit, counted_in_redis, reset
):
    """Their wrong passwords counted for their address and for their username: the reset of
    either lets them in from where they are."""
    fail(client, failure_limit)
    assert_locked_out(sign_in(client, "editor", PASSWORD))

    call_command(*reset, stdout=io.StringIO())

    assert sign_in(client, "editor", PASSWORD).status_code == 302


def test_a_lockout_counted_in_redis_and_the_database_is_logged_once(
    client, editor, failure_limit, counted_in_redis, caplog
):
    with caplog.at_level(logging.INFO, logger="axes"):
        fail(client, failure_limit)

    lockouts = [record for record in caplog.records if "locking out" in record.getMessage().lower()]
    assert len(lockouts) == 1, "one line per lockout, for whoever blocks addresses from the log"


def test_a_lockout_the_database_decides_is_logged_too(
    client, editor, failure_limit, counted_in_redis, redis_space, caplog
):
    """Redis restarted empty: the database's count reaches the limit, Redis's does not, and
    the lockout it decides is logged as one the cache handler decides would be."""
    fail(client, failure_limit - 1)
    redis_space.forget()

    with caplog.at_level(logging.INFO, logger="axes"):
        assert_locked_out(fail(client, 1))

    lockouts = [record for record in caplog.records if "locking out" in record.getMessage().lower()]
    assert len(lockouts) == 1, "one line per lockout, for whoever blocks addresses from the log"


def test_attempts_refused_once_locked_out_are_not_written_to_the_database(
    client, editor, failure_limit, counted_in_redis
):
    """A guesser hammering the login page: the database keeps the count up to the limit,
    as Redis does, for a Redis outage, and neither counts the tries refused after it."""
    fail(client, failure_limit + 20)

    assert AccessAttempt.objects.get().failures_since_start == failure_limit


def test_wrong_passwords_for_a_username_spelled_as_an_address_lock_out_no_one_there(
    client, editor, username_failure_limit, store
):
    """Anyone can type an address as the username: its failures, sent from elsewhere, lock
    that username, not every sign-in from the address (an office, say)."""
    for attempt in range(username_failure_limit):
        fail(client, 1, username="192.0.2.10", ip=f"198.51.100.{attempt + 1}")

    assert sign_in(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302
    assert_locked_out(sign_in(client, "192.0.2.10", "wrong guess", ip="192.0.2.99"))


def test_a_username_longer_than_the_record_of_failures_holds_is_a_wrong_password(
    client, editor, failure_limit, store
):
    """The sign-in form takes a username of any length, and axes records each failure with
    the username typed, in a column of 255 characters: PostgreSQL refused a longer one,
    and the sign-in page answered a 500. Its failures still count towards the lockout."""
    long_name = "editor" + "x" * 300

    wrong = fail(client, failure_limit - 1, username=long_name)

    assert wrong.status_code == 200
    assert "Please enter the correct username and password" in wrong.content.decode()
    assert_locked_out(fail(client, 1, username=long_name))
    assert_locked_out(sign_in(client, "editor", PASSWORD))  # from that address


def test_a_stranger_hammering_a_username_from_one_address_does_not_lock_its_moderator_out(
    client, editor, username_failure_limit, store
):
    """Anyone can type a moderator's username: from one address, its wrong passwords pause
    that address, and the tries refused there count for nothing, towards either limit."""
    fail(client, 2 * username_failure_limit, ip="198.51.100.1")

    assert_locked_out(sign_in(client, "editor", PASSWORD, ip="198.51.100.1"))
    assert sign_in(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302


def test_wrong_passwords_for_a_username_from_many_addresses_below_its_limit_lock_no_one_out(
    client, editor, username_failure_limit, store
):
    for attempt in range(username_failure_limit - 1):
        fail(client, 1, ip=f"198.51.100.{attempt + 1}")

    assert sign_in(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302


def test_wrong_passwords_for_a_username_from_many_addresses_lock_it_at_its_own_limit(
    client, editor, username_failure_limit, store, settings
):
    """A guess at one account spread over many addresses is still slowed: the username is
    paused from everywhere, and its page says so, and when to try again."""
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    for attempt in range(username_failure_limit - 1):
        fail(client, 1, ip=f"198.51.100.{attempt + 1}")
    assert_locked_out(fail(client, 1, ip="198.51.100.200"))  # the failure that reaches it

    response = sign_in(client, "editor", PASSWORD, ip="192.0.2.10")

    assert_locked_out(response)
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many failed sign-in attempts for this username" in page
    assert f"after {username_failure_limit} failed attempts from anywhere" in page
    assert "try again in 15 minutes" in page


def test_a_paused_username_is_logged_once_without_its_name(
    client, editor, username_failure_limit, store, caplog
):
    """Whoever watches the log learns of a guess spread over many addresses; the name stays
    out of it, as people sometimes type their password there."""
    with caplog.at_level(logging.WARNING):
        for attempt in range(username_failure_limit + 3):
            fail(client, 1, ip=f"198.51.100.{attempt + 1}")

    paused = [record for record in caplog.records if "paused for a username" in record.getMessage()]
    assert len(paused) == 1
    assert "editor" not in paused[0].getMessage()


def test_tries_refused_while_paused_do_not_extend_the_pause(
    client, editor, failure_limit, store, settings, move_clock
):
    """The page says when to try again, and that holds, however many tries come meanwhile
    from the same address (a guesser, or a colleague behind the same router)."""
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    assert_locked_out(fail(client, failure_limit))
    move_clock(timedelta(minutes=10))
    assert_locked_out(fail(client, 10))

    move_clock(timedelta(minutes=5, seconds=1))

    assert sign_in(client, "editor", PASSWORD).status_code == 302


def test_wrong_passwords_from_one_ipv6_64_pause_all_of_it(
    client, editor, failure_limit, store, caplog
):
    """One home or one server holds a whole /64 and can send from any address in it: a
    guesser going through them is one sender, logged by the block's first address."""
    with caplog.at_level(logging.WARNING):
        for attempt in range(failure_limit):
            fail(client, 1, username=f"guess{attempt}", ip=f"2001:db8:1:2::{attempt + 1:x}")

    assert_locked_out(sign_in(client, "editor", PASSWORD, ip="2001:db8:1:2:ffff:ffff:ffff:ffff"))
    assert 'ip_address: "2001:db8:1:2::"' in caplog.text
    assert sign_in(client, "editor", PASSWORD, ip="2001:db8:1:3::1").status_code == 302


def test_the_reset_of_an_ipv6_64_as_logged_lifts_its_pause(client, editor, failure_limit, store):
    assert_locked_out(fail(client, failure_limit, ip="2001:db8:1:2::1"))

    call_command("axes_reset_ip", "2001:db8:1:2::", stdout=io.StringIO())

    assert sign_in(client, "editor", PASSWORD, ip="2001:db8:1:2::1").status_code == 302


def test_an_ipv4_address_written_as_ipv6_is_counted_as_that_ipv4_address(
    client, editor, failure_limit, store
):
    """A server listening on IPv6 may see IPv4 clients so (::ffff:203.0.113.7). IPv4
    addresses count one by one, as before: the neighbour is not paused."""
    fail(client, failure_limit - 1, ip="203.0.113.7")

    assert_locked_out(fail(client, 1, ip="::ffff:203.0.113.7"))
    assert_locked_out(sign_in(client, "editor", PASSWORD, ip="203.0.113.7"))
    assert sign_in(client, "editor", PASSWORD, ip="203.0.113.8").status_code == 302


def test_a_colleagues_sign_in_forgets_no_wrong_guesses_at_another_username(
    client, editor, failure_limit, store
):
    """A sign-in proves one password, not another's: forgetting every failure from its
    address gave anyone with an account of their own, signing in between wrong guesses at
    another one's password, the address's limit afresh each time (and the other username's
    count with it: its failures were those forgotten), for as long as they liked."""
    get_user_model().objects.create_user("colleague", password=PASSWORD, is_staff=True)
    fail(client, failure_limit - 1)
    assert sign_in(client, "colleague", PASSWORD).status_code == 302
    client.logout()

    assert_locked_out(fail(client, 1))


def test_a_colleague_without_admin_access_typing_their_password_locks_no_one_out(
    client, editor, failure_limit, store
):
    """The right password of an account the admin refuses (its staff access taken away) is
    no failure, as axes counts: held in the count while it was checked, it stayed there,
    unlogged, and the colleague's tries paused the address for the editor beside them."""
    get_user_model().objects.create_user("former_editor", password=PASSWORD, is_staff=False)
    for _ in range(failure_limit):
        assert sign_in(client, "former_editor", PASSWORD).status_code == 200

    assert sign_in(client, "editor", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()


def test_signing_in_forgets_ones_own_wrong_passwords_there(client, editor, failure_limit, store):
    fail(client, failure_limit - 1)
    assert sign_in(client, "editor", PASSWORD).status_code == 302
    client.logout()

    assert fail(client, failure_limit - 1).status_code == 200
    assert sign_in(client, "editor", PASSWORD).status_code == 302


def test_a_guess_spread_over_many_addresses_does_not_pause_a_username_where_it_signs_in(
    client, editor, username_failure_limit, store
):
    """Ten addresses (ten IPv6 /64s: a home's /56 holds 256, a tunnel broker hands out a
    /48) could keep a moderator out for good, 50 wrong passwords every 15 minutes. The
    username stays paused for every other address, and each address has its own limit."""
    assert sign_in(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302
    client.logout()
    for attempt in range(username_failure_limit + 3):
        fail(client, 1, ip=f"198.51.100.{attempt + 1}")

    assert sign_in(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302
    client.logout()
    assert_locked_out(sign_in(client, "editor", PASSWORD, ip="192.0.2.99"))


def test_the_documented_housekeeping_forgets_old_sign_ins_and_keeps_the_exemption(
    client, editor, username_failure_limit, store
):
    """The README's daily `axes_reset_logs --age 90`: the access log keeps each sign-in's
    address and browser, for ever without it. Where the username signed in within 90 days
    it still signs in while paused; older addresses are forgotten, with Redis too (the
    cache handler's own reset forgot none: the log is the database's)."""
    for address, days_ago in (("192.0.2.10", 89), ("192.0.2.20", 91)):
        assert sign_in(client, "editor", PASSWORD, ip=address).status_code == 302
        client.logout()
        AccessLog.objects.filter(ip_address=address).update(
            attempt_time=timezone.now() - timedelta(days=days_ago)
        )
    for attempt in range(username_failure_limit):
        fail(client, 1, ip=f"198.51.100.{attempt + 1}")

    call_command("axes_reset_logs", "--age", "90", stdout=io.StringIO())

    assert list(AccessLog.objects.values_list("ip_address", flat=True)) == ["192.0.2.10"]
    assert sign_in(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302


@pytest.fixture(scope="module")
def migrated_sqlite_file(tmp_path_factory):
    """An SQLite file as production runs one (WAL, transactions that begin IMMEDIATE): the
    test database lives in memory, where concurrent connections fail at once instead of
    waiting for each other."""
    database = tmp_path_factory.mktemp("sqlite") / "db.sqlite3"
    result = manage("migrate", "-v", "0", DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    return database


@pytest.fixture(params=["database", "redis"])
def sqlite_run(request, migrated_sqlite_file, tmp_path):
    """The configuration of a process of its own on a copy of that file, counting in the
    database alone, or in Redis (the tests' one, a key space of its own) too."""
    database = tmp_path / "db.sqlite3"
    shutil.copyfile(migrated_sqlite_file, database)
    variables = {"DATABASE_URL": f"sqlite:///{database}"}
    if request.param == "redis":
        redis_space = request.getfixturevalue("redis_space")
        variables |= {"REDIS_URL": redis_space.url, "CACHE_KEY_PREFIX": redis_space.prefix}
    return variables


GUESS_AT_ONCE = """
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test.utils import setup_test_environment
from tests.sign_in import PASSWORD, CountedHasher, guess_at_once

setup_test_environment()
settings.PASSWORD_HASHERS = ["tests.sign_in.CountedHasher"]
settings.AXES_FAILURE_LIMIT = 3
settings.AXES_USERNAME_FAILURE_LIMIT = 4
get_user_model().objects.create_user("editor", password=PASSWORD, is_staff=True)
statuses = {{response.status_code for response in guess_at_once({addresses!r})}}
print(sorted(statuses), len(CountedHasher.checked))
"""


@pytest.mark.parametrize(
    ("addresses", "limit"),
    [
        pytest.param(["203.0.113.7"] * 8, 3, id="one address"),
        pytest.param([f"198.51.100.{number}" for number in range(1, 9)], 4, id="one username"),
    ],
)
def test_wrong_passwords_sent_at_once_on_sqlite_get_the_limits_checks(sqlite_run, addresses, limit):
    """tests/load/test_sign_in_burst.py's race, on SQLite: axes read the count before the
    password check and wrote it after, and eight guesses sent at once had all eight
    checked, above the limit of an address (3) as above that of a username (4)."""
    result = manage(
        "shell", "-v", "0", "-c", GUESS_AT_ONCE.format(addresses=addresses), **sqlite_run
    )

    assert result.returncode == 0, result.stderr
    statuses, checked = result.stdout.strip().rsplit(" ", 1)
    assert statuses in ("[200]", "[200, 429]", "[429]"), result.stderr
    assert int(checked) == limit
