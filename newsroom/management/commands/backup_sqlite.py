"""Copy the SQLite database to a backup file while the site keeps running.

The copy holds commenters' emails and IP addresses and the staff's password hashes: it is
readable by its owner alone from the moment it exists (0600, in folders made 0700), never
made readable first and restricted after.
"""

import os
import sqlite3
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

PG_DUMP_HINT = (
    "The {alias!r} database is {vendor}, not SQLite. Back it up with the database's own tool, "
    'e.g. for PostgreSQL: pg_dump --format=custom --file=newsroom.dump "$DATABASE_URL" '
    "(see Backups in the README)."
)


def make_private_folders(folder):
    """Make `folder` and its missing parents 0700. Path.mkdir(parents=True) gives the
    parents it makes the default mode (often 0755), whatever `mode` says."""
    for ancestor in reversed([folder, *folder.parents]):
        if not ancestor.exists():
            ancestor.mkdir(mode=0o700, exist_ok=True)


class Command(BaseCommand):
    help = (
        "Make a consistent copy of the SQLite database with SQLite's online backup API. "
        "Safe while the site runs: writers are not blocked for long and the copy is checked."
    )
    # A copy of the file needs none of the models. The system checks would ask SQLite
    # whether it has JSON (django_tasks_db has a JSONField) in a write transaction, which
    # waits out any writer and then fails the command with "SQLite does not support
    # JSONFields".
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "destination",
            nargs="?",
            help=(
                "File or directory for the copy; a name ending in / is a directory, made if "
                "need be (default: backups/ in the project folder)."
            ),
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, choices=list(connections))

    def handle(self, *args, destination, database, **options):
        connection = connections[database]
        if connection.vendor != "sqlite":
            raise CommandError(PG_DUMP_HINT.format(alias=database, vendor=connection.display_name))
        source = Path(connection.settings_dict["NAME"])
        if connection.is_in_memory_db() or not source.is_file():
            raise CommandError(f"No SQLite database file at {source}.")

        target = self.target_path(destination, source)
        cannot_write = f"Could not write the backup to {target}: {{}}"
        try:
            make_private_folders(target.parent)
            # mkstemp creates the file 0600 (and under a name no one else holds): SQLite then
            # writes into it, and gives its journal the same mode.
            handle, partial = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".partial", dir=target.parent
            )
            os.close(handle)
        except OSError as error:
            raise CommandError(cannot_write.format(error)) from error
        partial = Path(partial)
        try:
            self.copy(source, partial)
            os.replace(partial, target)
        except (OSError, sqlite3.Error) as error:
            raise CommandError(cannot_write.format(error)) from error
        finally:
            partial.unlink(missing_ok=True)
        size_mb = target.stat().st_size / 1_000_000
        self.stdout.write(self.style.SUCCESS(f"Backed up {source} to {target} ({size_mb:.1f} MB)."))

    def target_path(self, destination, source):
        default_name = f"{source.stem}-{timezone.now():%Y%m%d-%H%M%S}.sqlite3"
        if destination is None:
            return Path(settings.BASE_DIR) / "backups" / default_name
        # Path() drops a trailing slash: read it first, or a directory not made yet would
        # become a file of that name, and every later backup would be refused.
        directory = destination.endswith(os.sep)
        destination = Path(destination)
        if directory or destination.is_dir():
            return destination / default_name
        if destination.exists():
            raise CommandError(f"{destination} exists; choose a new name or a directory.")
        return destination

    def copy(self, source, target):
        """Copy in one step: a single read transaction gives a consistent snapshot, and in WAL
        mode writers carry on meanwhile. Then prove the copy opens and is intact."""
        source_db = sqlite3.connect(source, timeout=30)
        target_db = sqlite3.connect(target)
        try:
            source_db.backup(target_db)
            # The copy must stand alone: fold any write-ahead log into the file itself.
            target_db.execute("PRAGMA journal_mode=DELETE")
            (result,) = target_db.execute("PRAGMA integrity_check").fetchone()
        finally:
            target_db.close()
            source_db.close()
        if result != "ok":
            raise CommandError(f"The copy failed SQLite's integrity check: {result}")
