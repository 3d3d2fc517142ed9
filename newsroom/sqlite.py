"""The SQLite connection the site opens (settings.DATABASES' OPTIONS["factory"])."""

import os
import sqlite3
from contextlib import suppress


class PrivateFileConnection(sqlite3.Connection):
    """A new database file is made readable by its owner alone, whichever command opens it
    first: it holds commenters' emails and IP addresses and the staff's password hashes, as
    the backups do, which are made so too. SQLite gives the file's -wal and -shm the file's
    own mode. An existing file is left as its owner set it: a check tells of one that others
    may read (newsroom.W003)."""

    def __init__(self, database, *args, **kwargs):
        if not str(database).startswith(("file:", ":memory:")):
            # A folder that is missing or not ours: SQLite's own error says so next.
            with suppress(OSError):
                os.close(os.open(database, os.O_CREAT | os.O_EXCL, 0o600))
        super().__init__(database, *args, **kwargs)
