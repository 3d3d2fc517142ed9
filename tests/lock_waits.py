"""What a test running two transactions at once on PostgreSQL sees of the other one: whether
it has come to wait for a lock, so that the race is its worst case every time, not luck."""

from django.db import connection


def connections_waiting_for_a_lock():
    """How many connections to the test database wait for a lock, from any thread."""
    with connection.cursor() as cursor:
        # A transaction reads one snapshot of the activity unless told to take another.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]
