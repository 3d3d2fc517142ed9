"""Argument types shared by the comments app's management commands."""

import argparse

# A century: any retention period a site might choose, and far from the dates Python can
# compute (a cutoff a million days ago is before year 1: OverflowError).
MAX_DAYS = 36_500
# Hundreds of times the default pool (COMMENTS_CAPTCHA_POOL_SIZE): a refill builds every
# missing question in memory at once, so a few zeros too many must not reach it.
MAX_POOL_SIZE = 100_000


def days(value):
    """A whole number of days, 0 to MAX_DAYS; argparse turns the error into a usage message."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days.") from None
    if not 0 <= number <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{number} days: give 0 to {MAX_DAYS}.")
    return number


def pool_size(value):
    """A number of captcha questions, 0 to MAX_POOL_SIZE."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number.") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{number}: the pool size cannot be negative.")
    if number > MAX_POOL_SIZE:
        raise argparse.ArgumentTypeError(f"{number} questions: give 0 to {MAX_POOL_SIZE}.")
    return number
