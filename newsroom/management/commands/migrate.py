"""Django's `migrate`, one run at a time per database.

App servers started together (`make serve` on each host after an upgrade or a reboot) each
migrate: all but the first failed on the tables it was creating, and their servers did not
start. Each run now waits for the one before it, then finds its work done.
"""

import fcntl
import time
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import OutputWrapper
from django.core.management.commands import migrate
from django.db import connections

# Any number of our own: PostgreSQL's advisory locks are named by integers.
MIGRATE_LOCK_ID = 7_246_203_001
LOCK_POLL_SECONDS = 1
# Said once by a run that waits: a server that seems stuck at start-up says why.
WAITING = "Another migrate of this database is running: waiting for it to finish."


class Command(migrate.Command):
    def execute(self, *args, **options):
        """The turn is taken before Django's system checks, which run ahead of handle() and
        open the database (SQLite's JSON support is asked of it): two runs on a new SQLite
        file both switched it to WAL there, and SQLite refuses one of two such switches at
        once, whatever the timeout ("database is locked")."""
        if options.get("stdout"):
            self.stdout = OutputWrapper(options["stdout"])  # as execute() does, for WAITING

        def say_waiting():
            self.stdout.write(WAITING)
            self.stdout.flush()

        with one_run_at_a_time(connections[options["database"]], on_wait=say_waiting):
            return super().execute(*args, **options)


@contextmanager
def one_run_at_a_time(connection, *, on_wait):
    """An advisory lock on PostgreSQL, whatever host the run is on; on SQLite, which only
    processes of one host share, a lock on a file beside the database."""
    if connection.vendor == "postgresql":
        if not _took_advisory_lock(connection):
            on_wait()
            while not _took_advisory_lock(connection):
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_ID])
    elif connection.vendor == "sqlite" and not connection.is_in_memory_db():
        with migrate_lock_file(connection).open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                on_wait()
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield
    else:
        yield


def migrate_lock_file(connection):
    return Path(f"{connection.settings_dict['NAME']}.migrate-lock")


def _took_advisory_lock(connection):
    """Asked again and again rather than waited for: a statement waiting for the lock is a
    transaction, which the run holding it would wait for in CREATE INDEX CONCURRENTLY (a
    deadlock that PostgreSQL breaks by failing one of them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_ID])
        return cursor.fetchone()[0]
