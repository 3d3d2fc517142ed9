"""Wrong admin passwords sent at the same instant, each by a request on a database
connection of its own, as a server with several workers or threads takes them: no more
passwords are checked than the limits allow, counted in the database alone or in Redis too.

SQLite's run of the same burst: tests/test_login_throttle.py (a file of its own, in a
process of its own: the test database lives in memory, where connections fail at once
instead of waiting for each other as on a file)."""

from django.test import Client

from tests.sign_in import (
    PASSWORD,
    assert_a_form_or_the_lockout_page,
    assert_locked_out,
    guess_at_once,
    sign_in,
)


def test_wrong_passwords_sent_at_once_from_one_address_get_the_limits_checks(
    committed_db, editor, failure_limit, store, passwords_checked
):
    """axes read the count before the password check and wrote it after: eight guesses
    sent at once, the limit at three, had all eight checked."""
    responses = guess_at_once(["203.0.113.7"] * 8)

    assert_a_form_or_the_lockout_page(responses)
    assert len(passwords_checked) == failure_limit
    assert_locked_out(sign_in(Client(), "editor", PASSWORD))


def test_wrong_passwords_sent_at_once_for_a_username_get_its_limits_checks(
    committed_db, editor, failure_limit, store, passwords_checked, settings
):
    """The same race for a username's own limit, guessed from eight addresses at once."""
    settings.AXES_USERNAME_FAILURE_LIMIT = 4
    responses = guess_at_once([f"198.51.100.{number}" for number in range(1, 9)])

    assert_a_form_or_the_lockout_page(responses)
    assert len(passwords_checked) == 4
    assert_locked_out(sign_in(Client(), "editor", PASSWORD, ip="192.0.2.10"))
