"""A time limit on the queries of one piece of work, set by PostgreSQL itself.

gunicorn kills a worker that takes longer than its timeout (30 s) to answer, and the reader
gets an empty 502 from the proxy. A query that anyone can make costly (a search's words) is
bounded here, well before that, and the page can say what happened instead.
"""

import contextlib

from django.db import OperationalError, connections, transaction

# PostgreSQL's query_canceled, which its statement_timeout raises (psycopg's QueryCanceled).
POSTGRESQL_QUERY_CANCELED = "57014"


@contextlib.contextmanager
def statement_timeout(milliseconds, *, using):
    """Cancels each query on the database `using` run inside that takes over `milliseconds`.

    On PostgreSQL, SET LOCAL in a transaction of its own: the limit ends with it, whether
    the work finishes or is cancelled (rolled back), and leaves the connection as it was
    for the rest of the request. Durable, because in a caller's transaction it would
    outlast the work.

    SQLite runs the work without a limit: its transactions take the write lock as they
    start (settings: IMMEDIATE), and a progress handler timing the work could be shown to
    work by no test that is not a race against the clock (nothing holds a reader up there).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using, durable=True):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(milliseconds)])
        yield


def timed_out(error):
    """Whether `error` is a query cancelled by statement_timeout."""
    return (
        isinstance(error, OperationalError)
        and getattr(error.__cause__, "sqlstate", None) == POSTGRESQL_QUERY_CANCELED
    )
