"""A time limit on the queries of one piece of work, kept by the database itself.

gunicorn kills a worker that takes longer than its timeout (30 s) to answer, and the reader
gets an empty 502 from the proxy. A query that anyone can make costly (a search's words) is
bounded here, well before that, and the page can say what happened instead.
"""

import contextlib
import sqlite3
import time

from django.db import OperationalError, connections, transaction

# PostgreSQL's query_canceled, which its statement_timeout raises (psycopg's QueryCanceled).
POSTGRESQL_QUERY_CANCELED = "57014"
# SQLite calls the progress handler after every this many steps of a statement's program. A
# search reading through every article takes about 0.2 ms for as many: it stops within a
# millisecond of the deadline, and the handler's calls (1,200 in a search of 250 ms, at 30,000
# articles) add some 0.3 ms, lost in the search's own variation.
SQLITE_PROGRESS_STEPS = 1000


@contextlib.contextmanager
def statement_timeout(milliseconds, *, using):
    """Cancels the queries on the database `using` run inside once they take over
    `milliseconds`.

    On PostgreSQL, each query: SET LOCAL in a transaction of its own, so the limit ends with
    it, whether the work finishes or is cancelled (rolled back), and leaves the connection as
    it was for the rest of the request. Durable, because in a caller's transaction it would
    outlast the work.

    On SQLite, the work as a whole, measured from here: a progress handler on the connection
    interrupts the running statement once the deadline has passed, and is removed as the
    work ends, as the connection serves the rest of the request (and the next ones). No
    transaction: reads need none, and SQLite's take the write lock (settings: IMMEDIATE).
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using, durable=True):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [str(milliseconds)]
                )
            yield
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        sqlite_connection = connection.connection
        deadline = time.monotonic() + milliseconds / 1000
        sqlite_connection.set_progress_handler(
            lambda: time.monotonic() >= deadline, SQLITE_PROGRESS_STEPS
        )
        try:
            yield
        finally:
            sqlite_connection.set_progress_handler(None, 0)
    else:
        yield


def timed_out(error):
    """Whether `error` is a query cancelled by statement_timeout()."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    return (
        getattr(cause, "sqlstate", None) == POSTGRESQL_QUERY_CANCELED
        or getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT
    )
