"""`manage.py backup_sqlite`: a safe copy of a live SQLite database."""

import os
import re
import sqlite3
import stat
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


# The usual umask, under which files are made readable by everyone (0644).
USUAL_UMASK = 0o022


def backup(*args, database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "backup_sqlite", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        umask=USUAL_UMASK,
    )


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def live_database(tmp_path):
    """A WAL database with committed rows and a writer in the middle of a transaction."""
    path = tmp_path / "site.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE headline (title TEXT)")
    writer.executemany("INSERT INTO headline VALUES (?)", [("Bridge reopens",), ("Rain",)])
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO headline VALUES ('Not yet committed')")
    yield path
    writer.execute("ROLLBACK")
    writer.close()


def test_backup_of_a_database_in_use_is_a_readable_consistent_copy(live_database, tmp_path):
    target = tmp_path / "copy.sqlite3"

    result = backup(str(target), database_url=f"sqlite:///{live_database}")

    assert result.returncode == 0, result.stderr
    assert f"to {target}" in result.stdout
    copy = sqlite3.connect(target)
    titles = [title for (title,) in copy.execute("SELECT title FROM headline ORDER BY title")]
    assert titles == ["Bridge reopens", "Rain"], "committed rows only"
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",), "stands alone"
    copy.close()
    assert not list(tmp_path.glob(".*.partial")), "no half-written file left behind"


def test_backup_into_a_directory_gets_a_timestamped_name(live_database, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()

    result = backup(str(backups), database_url=f"sqlite:///{live_database}")

    assert result.returncode == 0, result.stderr
    (copy,) = backups.glob("site-*.sqlite3")
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM headline").fetchone() == (2,)


def test_backup_into_a_directory_not_made_yet_creates_it(live_database, tmp_path):
    """As in the README's cron line: `backup_sqlite /var/backups/newsroom/`."""
    backups = tmp_path / "hourly"

    result = backup(f"{backups}/", database_url=f"sqlite:///{live_database}")

    assert result.returncode == 0, result.stderr
    assert len(list(backups.glob("site-*.sqlite3"))) == 1


def test_the_readmes_weekly_cleanup_finds_the_backups_whatever_the_database_is_called(
    live_database, tmp_path
):
    """Its cron line deleted `db-*.sqlite3` only: a site whose database file has another
    name (here site.sqlite3) kept every hourly copy until the disk filled."""
    readme = (BASE_DIR / "README.md").read_text()
    (pattern,) = re.findall(r"find /var/backups/newsroom/ -name '([^']+)' -mtime", readme)
    backups = tmp_path / "hourly"

    result = backup(f"{backups}/", database_url=f"sqlite:///{live_database}")

    assert result.returncode == 0, result.stderr
    (copy,) = backups.iterdir()
    assert fnmatch(copy.name, pattern)
    assert not fnmatch(live_database.name, pattern)


def test_the_copy_is_readable_by_its_owner_alone(live_database, tmp_path):
    """It holds commenters' emails and IP addresses and the staff's password hashes."""
    target = tmp_path / "copy.sqlite3"

    result = backup(str(target), database_url=f"sqlite:///{live_database}")

    assert result.returncode == 0, result.stderr
    assert mode(target) == 0o600


def test_folders_the_backup_makes_are_its_owners_alone(live_database, tmp_path):
    backups = tmp_path / "var" / "backups" / "newsroom"

    result = backup(f"{backups}/", database_url=f"sqlite:///{live_database}")

    assert result.returncode == 0, result.stderr
    assert [mode(folder) for folder in (backups.parent.parent, backups.parent, backups)] == [
        0o700
    ] * 3
    assert [mode(copy) for copy in backups.iterdir()] == [0o600]


def test_backup_never_overwrites_an_existing_file(live_database, tmp_path):
    existing = tmp_path / "keep.sqlite3"
    existing.write_bytes(b"an older backup")

    result = backup(str(existing), database_url=f"sqlite:///{live_database}")

    assert result.returncode != 0
    assert "exists" in result.stderr
    assert existing.read_bytes() == b"an older backup"


def test_backup_to_a_place_that_cannot_hold_it_says_so_without_a_traceback(live_database, tmp_path):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file, not a folder")
    target = not_a_folder / "copy.sqlite3"

    result = backup(str(target), database_url=f"sqlite:///{live_database}")

    assert result.returncode != 0
    assert f"Could not write the backup to {target}" in result.stderr
    assert "Traceback" not in result.stderr


def test_backup_on_postgresql_points_at_pg_dump(tmp_path):
    result = backup(
        str(tmp_path / "copy"), database_url="postgres://postgres@127.0.0.1:5432/anything"
    )

    assert result.returncode != 0
    assert "pg_dump" in result.stderr
    assert not (tmp_path / "copy").exists()


def test_an_unknown_database_is_a_usage_error_not_a_traceback(live_database, tmp_path):
    result = backup(
        str(tmp_path / "copy"), "--database", "other", database_url=f"sqlite:///{live_database}"
    )

    assert result.returncode == 2
    assert "invalid choice: 'other'" in result.stderr
    assert "Traceback" not in result.stderr
