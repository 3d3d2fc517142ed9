"""Housekeeping commands refuse numbers they cannot act on, with a message, not a traceback."""

import pytest
from django.core.management import CommandError, call_command

from comments.models import Comment
from tests.factories import make_comment

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("command", "option"),
    [("purge_spam", "--older-than"), ("clear_commenter_ips", "--days")],
)
@pytest.mark.parametrize("value", ["-1", "1000000"])
def test_a_day_count_out_of_range_is_refused_and_changes_nothing(article, command, option, value):
    spam = make_comment(article, status=Comment.Status.SPAM, ip_address="192.0.2.1")

    with pytest.raises(CommandError, match=r"give 0 to 36500"):
        call_command(command, option, value)

    spam.refresh_from_db()
    assert spam.ip_address == "192.0.2.1"


def test_a_day_count_that_is_not_a_number_is_named(db):
    with pytest.raises(CommandError, match=r"'a month' is not a whole number of days"):
        call_command("purge_spam", "--older-than", "a month")


def test_a_negative_captcha_pool_size_is_refused(db):
    with pytest.raises(CommandError, match=r"cannot be negative"):
        call_command("refill_captcha_pool", "--size", "-5")


def test_a_captcha_pool_size_past_any_need_is_refused(db):
    """A few zeros too many built every question in memory at once, for hours."""
    with pytest.raises(CommandError, match=r"give 0 to 100000"):
        call_command("refill_captcha_pool", "--size", "99999999999999999999")
