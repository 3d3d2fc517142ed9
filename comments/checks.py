"""Deployment checks (`manage.py check --deploy`) for what the comments app sends out, and
the check that keeps the demo logins off a public site."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Error, Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, connections

from comments.management.commands.demo_accounts import DEMO_ACCOUNTS, demo_email

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@register(Tags.security, deploy=True)
def site_url_is_public(app_configs, **kwargs):
    """Emails (moderators' notices, commenters' unsubscribe links) link to SITE_URL, whose
    default only works on the machine that runs the site, and which makes links only when
    written with its scheme."""
    site_url = urlsplit(settings.SITE_URL)
    # A space: a comment after the value, which systemd's EnvironmentFile= keeps in it.
    if (
        site_url.scheme not in {"http", "https"}
        or not site_url.hostname
        or any(character.isspace() for character in settings.SITE_URL)
    ):
        return [
            Warning(
                f"SITE_URL is {settings.SITE_URL}: the links in emails need a whole address.",
                hint="Write it with its scheme and nothing after it, e.g. "
                "https://news.example.org.",
                id="comments.W002",
            )
        ]
    if site_url.hostname not in LOCAL_HOSTS:
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL}: the links in emails will point there.",
            hint="Set SITE_URL to the site's public address, e.g. https://news.example.org.",
            id="comments.W001",
        )
    ]


@register(Tags.security, Tags.database)
def no_demo_login_in_production(app_configs, databases=None, **kwargs):
    """`make run` on the database production then used (the README's PostgreSQL steps show
    it) leaves the demo logins there, a superuser among them, with the passwords the README
    prints. `migrate` runs this check, so `make serve` stops before gunicorn starts, and so
    does `check --database default`. Only accounts with the demo address are hashed."""
    if settings.DEBUG or DEFAULT_DB_ALIAS not in (databases or ()):
        return []
    users = get_user_model()
    if users._meta.db_table not in connections[DEFAULT_DB_ALIAS].introspection.table_names():
        return []  # a new database, before its first migration
    published = {username: password for username, password, *_ in DEMO_ACCOUNTS}
    # Only the columns read: `migrate` runs this check before it migrates, so reading a
    # column a newer release adds would stop the migration that adds it.
    demo_logins = users.objects.filter(
        is_active=True,
        username__in=published,
        email__in=[demo_email(username) for username in published],
    ).only("username", "password")
    return [
        Error(
            f"The demo login {user.username!r} still has its published password "
            f"({published[user.username]}), and DJANGO_DEBUG is off.",
            hint=f"Give it a password of its own (manage.py changepassword {user.username}) "
            "or deactivate it in the admin (untick Active).",
            id="comments.E001",
        )
        for user in demo_logins
        if user.check_password(published[user.username])
    ]
