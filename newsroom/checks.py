"""System checks that speak in environment variables (`manage.py check`, `check --deploy`)."""

import os
import shlex
import stat
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.files.storage import Storage
from django.core.mail.backends.base import BaseEmailBackend

from newsroom.backends import CORRECT_THE_PATH, not_a_backend
from newsroom.cache import shared_by_every_process


@register(Tags.security, deploy=True)
def https_is_on(app_configs, **kwargs):
    """Without HTTPS Django warns about four settings by their own names, none of which an
    operator sets: one variable turns them all on."""
    if settings.SECURE_SSL:
        return []
    warnings = [
        Warning(
            "DJANGO_SECURE_SSL is off: no HTTPS redirect, HSTS or secure cookies "
            "(security.W004, W008, W012 and W016).",
            hint="Serve the site over HTTPS and set DJANGO_SECURE_SSL=1; behind a proxy that "
            "ends TLS, set DJANGO_BEHIND_PROXY=1 too (README, Deployment).",
            id="newsroom.W001",
        )
    ]
    # An operator who chose a max-age believes the site sends it.
    if settings.HSTS_SECONDS_GIVEN:
        warnings.append(
            Warning(
                f"DJANGO_HSTS_SECONDS is {settings.HSTS_SECONDS_GIVEN}, but DJANGO_SECURE_SSL "
                "is off: no HSTS header is sent.",
                hint="HSTS is sent with DJANGO_SECURE_SSL=1 only: browsers ignore it over "
                "plain HTTP. Set DJANGO_SECURE_SSL=1 once the site is served over HTTPS.",
                id="newsroom.W002",
            )
        )
    return warnings


@register(Tags.caches)
def content_version_dir_is_writable(app_configs, **kwargs):
    """Without Redis, a change ends every process's cached pages by replacing a file in
    CONTENT_VERSION_DIR (articles.page_cache): where it cannot, readers keep the old pages,
    an erased commenter among them, until they expire. Every management command stops here
    first, and `make serve` before gunicorn starts."""
    if shared_by_every_process():
        return []
    folder = Path(settings.CONTENT_VERSION_DIR).absolute()
    if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK):
        return []
    return [
        Error(
            f"CONTENT_VERSION_DIR ({folder}) is not a folder this process may write in: "
            "changes would not end the pages the site's processes cached.",
            hint="Set CONTENT_VERSION_DIR to a folder that the site's workers and the commands "
            "run from a shell all see and may write in, not /tmp (README, PostgreSQL and Redis).",
            id="newsroom.E001",
        )
    ]


@register(Tags.mail)
def email_backend_exists(app_configs, **kwargs):
    """Django imports the backend at the first email, which a typo then fails, logged where
    nobody looks: the moderators are never told of the comments held."""
    return _not_a_backend(
        settings.MAILERS["default"]["BACKEND"],
        variable="EMAIL_BACKEND",
        kind=BaseEmailBackend,
        described="an email backend",
        id="newsroom.E002",
    )


@register(Tags.staticfiles)
def staticfiles_storage_exists(app_configs, **kwargs):
    """Django imports the storage at the first {% static %}, which a typo makes a 500 on
    every page; `collectstatic`, which `make serve` runs first, runs this check too."""
    return _not_a_backend(
        settings.STORAGES["staticfiles"]["BACKEND"],
        variable="DJANGO_STATICFILES_STORAGE",
        kind=Storage,
        described="a file storage",
        id="newsroom.E003",
    )


def _not_a_backend(path, *, variable, kind, described, id):
    problem = not_a_backend(path, variable=variable, kind=kind, described=described)
    if problem is None:
        return []
    return [Error(problem, hint=CORRECT_THE_PATH.format(variable=variable), id=id)]


@register(Tags.security)
def sqlite_database_is_private(app_configs, **kwargs):
    """A new SQLite file is made readable by its owner alone (newsroom/sqlite.py): it holds
    commenters' emails and IP addresses and the staff's password hashes. One made by an older
    release, or copied in with another umask, is told here rather than changed: a group of
    the operator's may have been given it on purpose, and the site may run as a member of
    it. One in a folder others may not enter (a private home folder, as Ubuntu's and
    Fedora's are) is not told either: they cannot reach it. Every command says it (migrate in
    `make serve`, runserver), not only `check --deploy`."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3" or database["NAME"] == ":memory:":
        return []
    files = [Path(f"{database['NAME']}{suffix}") for suffix in ("", "-wal", "-shm")]
    readable = {
        file: mode
        for file in files
        if file.exists() and (mode := stat.S_IMODE(file.stat().st_mode)) & stat.S_IROTH
    }
    folders = Path(database["NAME"]).resolve().parents
    if not readable or not all(folder.stat().st_mode & stat.S_IXOTH for folder in folders):
        return []
    return [
        Warning(
            "Every user of this machine may read the SQLite database: "
            + ", ".join(f"{file} (mode {mode:04o})" for file, mode in readable.items())
            + ".",
            # Quoted, as pasted into a shell; the wildcard takes the -wal and -shm files
            # that exist when it is run (the checking command's own are gone by then).
            hint=f"Run chmod o= {shlex.quote(str(database['NAME']))}* as their owner: they "
            "hold commenters' emails and IP addresses and the staff's password hashes. Where "
            "chmod changes nothing (WSL's /mnt/c, a VirtualBox shared folder), move them, or "
            "set DJANGO_SILENCED_SYSTEM_CHECKS=newsroom.W003.",
            id="newsroom.W003",
        )
    ]
