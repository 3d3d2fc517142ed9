"""Newsroom settings, read from the environment.

Defaults are safe for development only. With DJANGO_DEBUG off, the secret key and
allowed hosts must be given, or start-up stops with a message naming the variable.
Every variable is documented in .env.example.
"""

import os
import re
import shutil
from datetime import timedelta
from email.headerregistry import AddressHeader
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.tasks.backends.base import BaseTaskBackend
from django.utils.csp import CSP

from newsroom import root_files
from newsroom.backends import CORRECT_THE_PATH, not_a_backend
from newsroom.sqlite import PrivateFileConnection

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    """The variable's value; unset and empty both mean the default (as in .env.example)."""
    return os.environ.get(name) or default


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_bool(name, default=False):
    """A word that is neither yes nor no stops start-up: DJANGO_SECURE_SSL=ture read as
    "off" would serve a production site without HTTPS, and say nothing."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in TRUE_WORDS | FALSE_WORDS:
        raise ImproperlyConfigured(
            f"{name} must be 1 or 0 (or true/false, yes/no, on/off), not {value!r}."
        )
    return value in TRUE_WORDS


def env_int(name, default, minimum=None, maximum=None):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be {minimum} or more, not {value!r}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be {maximum} or less, not {value!r}.")
    return number


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# An entry of a list of addresses, as in a To: header: a comma inside a quoted name
# ("Doe, Jane" <jane@example.com>) is part of the name. email.utils.getaddresses splits so
# too, but mends what it cannot read ("Ops <ops@example.com", a comment glued onto the
# address) or gives up on the whole list, naming no entry.
ADDRESS_LIST_ENTRY = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^,])+')


def email_entries(value):
    return [entry.strip() for entry in ADDRESS_LIST_ENTRY.findall(value) if entry.strip()]


def is_address(entry):
    """An address, or Name <address>, read as Django's SMTP backend reads it, by an email
    header's rules: it refuses every email from or to a name with a period in it that is not
    quoted (Newsroom Inc.), which its other backends, the console's among them, send."""
    parsed = AddressHeader.value_parser(entry)
    if parsed.all_defects or len(parsed.all_mailboxes) != 1:
        return False
    try:
        validate_email(parsed.all_mailboxes[0].addr_spec)
    except ValidationError:
        return False
    return True


# A value quoted whole, as `docker run --env-file` passes .env.example's, is no address either.
QUOTE_THE_NAME = (
    "Quotes go around a name with a period, comma or other punctuation in it, and nothing "
    'else: "Newsroom Inc." <newsroom@example.com>.'
)


def env_emails(name):
    """Checked here: mail to an address that is none (two joined by ";", a comment after
    it) fails at each sending, in a log line nobody reads."""
    entries = email_entries(env(name))
    for entry in entries:
        if not is_address(entry):
            raise ImproperlyConfigured(
                f"{name} takes email addresses (or Name <address>), comma-separated: "
                f"{entry!r} is not one. {QUOTE_THE_NAME}"
            )
    return entries


def env_email(name, default):
    """One address: a sender that is none, or two, fails every email as it is sent."""
    value = env(name, default).strip()
    if email_entries(value) != [value] or not is_address(value):
        raise ImproperlyConfigured(
            f"{name} takes one email address (or Name <address>): {value!r} is not one. "
            f"{QUOTE_THE_NAME}"
        )
    return value


DEBUG = env_bool("DJANGO_DEBUG", default=True)
# Named all at once: an operator should not have to start the site once per missing one.
_missing_in_production = [
    name for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS") if not env_list(name)
]
if _missing_in_production and not DEBUG:
    raise ImproperlyConfigured(
        f"{' and '.join(_missing_in_production)} must be set when DJANGO_DEBUG is off."
    )
SECRET_KEY = env(
    "DJANGO_SECRET_KEY", "django-insecure-development-only-key-never-use-in-production"
)
# Rotating the secret: put the old one here (comma-separated) so that sessions, password
# reset links and signed cookies made with it stay valid until they expire.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or [
    "localhost",
    "127.0.0.1",
    "[::1]",
    "testserver",
]
# An address, a port or a comment after the name (systemd's EnvironmentFile= keeps one as
# part of the value) never matches a request's host: every request would be a 400 whose log
# line asks to add the host that seems to be there already.
for _entry in ALLOWED_HOSTS:
    _host = re.sub(r"(?<!:):\d+$", "", re.sub(r"^\w+://|/.*$", "", _entry.split()[0]))
    if _host != _entry:
        raise ImproperlyConfigured(
            f"DJANGO_ALLOWED_HOSTS takes host names, without a scheme, path or port: "
            f"write {_host} instead of {_entry}."
        )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# System checks an operator has answered otherwise, e.g. newsroom.W003 on a filesystem where
# chmod changes nothing (WSL's /mnt/c): `make lint` fails at any warning. Warnings only: an
# error says what must be mended before the site serves (comments.E001, the demo logins'
# published passwords), and `migrate`, so `make serve`, went on past one silenced.
SILENCED_SYSTEM_CHECKS = env_list("DJANGO_SILENCED_SYSTEM_CHECKS")
for _check in SILENCED_SYSTEM_CHECKS:
    if not re.fullmatch(r"[\w.]+\.W\d+", _check):
        raise ImproperlyConfigured(
            "DJANGO_SILENCED_SYSTEM_CHECKS takes the ids of warnings, such as newsroom.W003: "
            f"{_check!r} is not one."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "captcha",
    "newsroom",
    "articles",
    "comments",
    "axes",
    # Its tables are there for TASKS_BACKEND=django_tasks_db.DatabaseBackend (see TASKS).
    "django_tasks_db",
]

MIDDLEWARE = [
    # Outermost: it empties a HEAD answer once every other middleware has shaped it, and
    # after CommonMiddleware has given it the Content-Length of the page.
    "newsroom.middleware.HeadWithoutBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before CommonMiddleware, whose 400 for a host not in ALLOWED_HOSTS would miss them,
    # and before WhiteNoise: an SVG opened on its own is a document to frame or script too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # WhiteNoise, its 405 in words (newsroom/middleware.py).
    "newsroom.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Inside CommonMiddleware, which gives the body it writes its Content-Length; before the
    # CSRF check, which would call a PUT to a page that only reads a forged form.
    "newsroom.middleware.MethodNotAllowedInWordsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Refuses a body longer than PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE outside the admin with a
    # 413 (newsroom/middleware.py), before anything reads it; after SessionMiddleware, which
    # tells staff apart, and after the middleware that shapes responses.
    "newsroom.middleware.PublicBodyLimitMiddleware",
    # Refuses a form body Django cannot decode (newsroom/middleware.py) before the CSRF check
    # reads it, which happens just before the view; placed after the middleware that shapes
    # responses, so that its 400 gets their headers.
    "newsroom.middleware.UndecodableFormMiddleware",
    # Turns a database that cannot be reached into a 503 page (newsroom/middleware.py).
    "newsroom.middleware.DatabaseUnavailableMiddleware",
    # The emails a scheduled article's publication owes, queued by the first request after it
    # with the default task backend (comments/middleware.py): before the cache, whose hits
    # count too.
    "comments.middleware.AnnounceDuePublicationsMiddleware",
    # Whole pages for anonymous readers (articles/page_cache.py): after every middleware
    # that shapes a response, so a cached page passes them exactly as a fresh render does;
    # before those that only prepare a request for its view, which a cached page skips.
    "articles.page_cache.ReaderPageCacheMiddleware",
    # Drops from a commenter's pending cookie the comments their article's page found
    # decided (comments/middleware.py): inside the cache, whose hits need nothing of it.
    "comments.middleware.ForgetDecidedCommentsMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes must see every login attempt before the model backend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "articles.context_processors.site",
            ],
        },
    },
]

# Databases: SQLite file by default (WAL mode), PostgreSQL through DATABASE_URL.
# Checked here, naming the variable but never its value (it holds the password): a mistyped
# address otherwise fails in dj-database-url's words, or at the first query, or (a "#" in
# the password starts the URL's fragment) connects to another host with the wrong password.
DATABASE_URL_FORM = (
    "Write it as postgres://USER:PASSWORD@HOST:5432/NAME, with any of : / @ # ? % in the "
    "user name or password percent-encoded (# as %23, @ as %40)."
)
# The databases the site runs on: dj-database-url knows others (mysql://, oracle://,
# postgis://...), which passed start-up and failed later, at their driver or our SQL.
SUPPORTED_DATABASE_ENGINES = ("django.db.backends.postgresql", "django.db.backends.sqlite3")
UNSUPPORTED_DATABASE = (
    "DATABASE_URL must start with postgres:// (or postgresql://, pgsql://) for PostgreSQL, "
    f"or sqlite:// for an SQLite file: the site runs on no other database. {DATABASE_URL_FORM}"
)
try:
    _database = dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
except dj_database_url.UnknownSchemeError:
    raise ImproperlyConfigured(UNSUPPORTED_DATABASE) from None
except ValueError:
    raise ImproperlyConfigured(
        "DATABASE_URL is not an address: a port that is not a number, or a character "
        f"that needs percent-encoding. {DATABASE_URL_FORM}"
    ) from None
if _database["ENGINE"] not in SUPPORTED_DATABASE_ENGINES:
    raise ImproperlyConfigured(UNSUPPORTED_DATABASE)
# A PostgreSQL service (postgres://?service=NAME, from pg_service.conf) names it instead.
if not _database["NAME"] and not _database.get("OPTIONS", {}).get("service"):
    raise ImproperlyConfigured(f"DATABASE_URL names no database. {DATABASE_URL_FORM}")
DATABASES = {"default": _database}
DATABASE_ROUTERS = ["articles.routers.TagLinkRouter"]  # a table read twice, dumped once
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock when a
    # transaction starts, so concurrent writers wait (up to `timeout` seconds) instead of
    # failing with "database is locked" when a read lock cannot be upgraded.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "factory": PrivateFileConnection,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Without Redis, the processes of one machine (gunicorn's workers, a command run from a
# shell) tell each other that cached pages are stale through a file in this folder
# (articles/page_cache.py). Never /tmp: systemd's PrivateTmp gives a service a /tmp of its
# own, and TMPDIR may differ between the service and a shell. Every process of an SQLite
# site shares its database's folder, and can write there (SQLite writes its -wal file there).
_sqlite_file = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and (
    DATABASES["default"]["NAME"] != ":memory:"
)
CONTENT_VERSION_DIR = Path(
    env(
        "CONTENT_VERSION_DIR",
        Path(DATABASES["default"]["NAME"]).absolute().parent if _sqlite_file else BASE_DIR,
    )
)

# Cache: Redis when REDIS_URL is set (shared by every app server), else local memory.
# With Redis down the site keeps serving, uncached (newsroom/cache.py).
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    # Checked here: redis-py would refuse it only at the first cache call, a 500 per page.
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "REDIS_URL must start with redis://, rediss:// or unix://, "
            "e.g. redis://127.0.0.1:6379/0."
        )
    CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "newsroom"),
            # A Redis that is down must fail fast, not hang every request that touches it.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env("DJANGO_TIME_ZONE", "UTC")
try:
    ZoneInfo(TIME_ZONE)
except (ValueError, ZoneInfoNotFoundError):
    # Django would say "Incorrect timezone setting", naming no variable.
    raise ImproperlyConfigured(
        f"DJANGO_TIME_ZONE must be a time zone name such as Europe/London, not {TIME_ZONE!r}."
    ) from None
# The site speaks one language. With translation on, every date, number and reversed URL
# asked which language is active (~200 times on a list page): ~11 % of an uncached render.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# /favicon.ico and the like, served at the site's root (newsroom/root_files.py).
WHITENOISE_ROOT = root_files.ROOT_FILES_DIR
WHITENOISE_ADD_HEADERS_FUNCTION = root_files.cache_root_files
# What Django reads of a form's fields (uploads aside): Django's 2.5 MB answered a longer
# article text with a bare 400, losing it. Up to what nginx lets through to the admin
# (client_max_body_size, README), the editor gets the form back with the text and a
# message (articles.models.BODY_MAX_CHARACTERS). Staff in the admin only: see below.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# What anyone else may send, anywhere (newsroom.middleware.PublicBodyLimitMiddleware: 413
# beyond). The largest is a comment: 5,000 characters, each at most 12 bytes once encoded (4
# bytes of UTF-8, each sent as %XX), are 60 KB, some 70 KB with its name, email and website;
# 256 KB still gives a reader who pasted several times that their text back, with the field's
# message.
PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "DJANGO_STATICFILES_STORAGE",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# E-mail through Django 6.1's MAILERS (the EMAIL_* settings are deprecated and may not be
# combined with it); the familiar EMAIL_* environment variables still configure it.
# Development prints mail to the console; production sends through EMAIL_HOST, or through a
# mail server on localhost:25 when none is given, with Django's SMTP backend that waits for
# a mail server found unreachable once, not once per email (newsroom/mail.py).
_smtp_backend = "newsroom.mail.ResilientSMTPBackend"
_email_host = env("EMAIL_HOST")
_email_backend = env(
    "EMAIL_BACKEND",
    _smtp_backend if _email_host or not DEBUG else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {"default": {"BACKEND": _email_backend}}
if _email_backend in {_smtp_backend, "django.core.mail.backends.smtp.EmailBackend"}:
    MAILERS["default"]["OPTIONS"] = {
        "host": _email_host or "localhost",
        "port": env_int("EMAIL_PORT", 587 if _email_host else 25),
        "username": env("EMAIL_HOST_USER"),
        "password": env("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", default=bool(_email_host)),
        "timeout": env_int("EMAIL_TIMEOUT", 10),
    }
DEFAULT_FROM_EMAIL = env_email("DEFAULT_FROM_EMAIL", "Newsroom <newsroom@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who receives error reports (500s) by mail when DEBUG is off.
ADMINS = env_emails("DJANGO_ADMINS")
# Those reports hide the passwords in REDIS_URL and DATABASE_URL too (newsroom/log.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "newsroom.log.ExceptionReporterFilter"

# Background work: run in the same process once the response is sent, by default
# (newsroom/tasks.py). With TASKS_BACKEND=django_tasks_db.DatabaseBackend it is queued in the
# database and `manage.py db_worker` runs it (see the README).
TASKS = {"default": {"BACKEND": env("TASKS_BACKEND", "newsroom.tasks.AfterResponseBackend")}}
# Checked here, not by a system check as EMAIL_BACKEND is (newsroom/checks.py): the comments
# app makes its tasks as Django starts, and a backend that is none stopped every command
# with a traceback naming no variable. One whose module imports a model cannot be imported
# before the apps are loaded: Django imports it once they are, as it did before this check.
try:
    _tasks_backend_problem = not_a_backend(
        TASKS["default"]["BACKEND"],
        variable="TASKS_BACKEND",
        kind=BaseTaskBackend,
        described="a task backend",
    )
except AppRegistryNotReady:
    _tasks_backend_problem = None
if _tasks_backend_problem:
    raise ImproperlyConfigured(
        f"{_tasks_backend_problem} {CORRECT_THE_PATH.format(variable='TASKS_BACKEND')}"
    )

# HTTPS: DJANGO_SECURE_SSL=1 behind TLS turns on HSTS, secure cookies and the redirect.
SECURE_SSL = env_bool("DJANGO_SECURE_SSL")
SECURE_SSL_REDIRECT = SECURE_SSL
# Start a new deployment with a small DJANGO_HSTS_SECONDS (e.g. 300) and raise it to a year
# once HTTPS is known to work: browsers remember the value. Given without DJANGO_SECURE_SSL it
# sends nothing, which `check --deploy` says (newsroom.W002): not a start-up error, because
# .env.example long gave it a value beside DJANGO_SECURE_SSL=0.
HSTS_SECONDS_GIVEN = env_int("DJANGO_HSTS_SECONDS", None, minimum=0)
SECURE_HSTS_SECONDS = (
    (60 * 60 * 24 * 365 if HSTS_SECONDS_GIVEN is None else HSTS_SECONDS_GIVEN) if SECURE_SSL else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
# The public address emails link to. Unset in production, it is the first host the site
# answers to by name (a wildcard such as .example.com names no one address); in development,
# the development server's.
_named_hosts = [host for host in ALLOWED_HOSTS if host != "*" and not host.startswith(".")]
SITE_URL = env(
    "SITE_URL",
    f"{'https' if SECURE_SSL else 'http'}://{_named_hosts[0]}"
    if _named_hosts and not DEBUG
    else "http://127.0.0.1:8000",
).rstrip("/")
# Behind our own reverse proxy (nginx, a load balancer) that sets X-Forwarded-Proto and
# appends the client to X-Forwarded-For. Never turn this on without such a proxy: clients
# could then claim HTTPS or any IP address.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Our forms carry the CSRF token in the page; no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    # An article's Markdown can only show images from elsewhere (uploads are lead images),
    # and only editors write it; readers' comments carry no images.
    "img-src": [CSP.SELF, "data:", "https:"],
    "media-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Where signing in leads when the sign-in link's `next` does not (or leads off the site):
# the site's only sign-in is the admin's, and Django's default, /accounts/profile/, is a 404.
LOGIN_REDIRECT_URL = "admin:index"

# Admin login guessing (django-axes): after AXES_FAILURE_LIMIT failures from one address (an
# IPv6 sender's /64) within AXES_COOLOFF_MINUTES, sign-in from it is paused until that window
# has passed; a username's failures pause it from everywhere only at AXES_USERNAME_FAILURE_LIMIT,
# a distributed guess at one account, and never where it signed in within 90 days, so that
# anyone who knows a moderator's username cannot keep them out, whatever number of addresses
# they hold (newsroom/login_throttle.py). A username's failures from one address are
# counted within the address's, so that pair needs no limit of its own. Tries refused while
# paused count for nothing: a pause ends when its window does, whoever keeps trying.
# Failures are counted in Redis when it is configured (shared by every app server), and in
# the database too, for a Redis outage; otherwise in the database (shared by every worker
# process; local memory is not).
AXES_HANDLER = (
    "newsroom.login_throttle.AxesCacheWithDatabaseFallback"
    if REDIS_URL
    else "newsroom.login_throttle.AxesDatabaseHandlerWithUsernameLimit"
)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_USERNAME_FAILURE_LIMIT = env_int("AXES_USERNAME_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True  # the failures of the username signed in, from there (login_throttle)
AXES_CLIENT_IP_CALLABLE = "newsroom.client_ip.client_block"
AXES_USERNAME_CALLABLE = "newsroom.login_throttle.username_as_recorded"
AXES_LOCKOUT_CALLABLE = "newsroom.login_throttle.lockout_page"
AXES_ENABLE_ADMIN = not REDIS_URL
# Log lines name the address (for blocking at the firewall), never the username typed:
# people sometimes type their password there.
AXES_SENSITIVE_PARAMETERS = ["username"]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# logging's other names for two of them, which a site may have been configured with.
LOG_LEVEL_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL"}
LOG_LEVEL = env("DJANGO_LOG_LEVEL", "INFO").strip().upper()
LOG_LEVEL = LOG_LEVEL_ALIASES.get(LOG_LEVEL, LOG_LEVEL)
if LOG_LEVEL not in LOG_LEVELS:
    # logging would say "Unable to configure root logger", naming no variable.
    raise ImproperlyConfigured(
        f"DJANGO_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {env('DJANGO_LOG_LEVEL')!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{levelname} {name} {message}", "style": "{"}},
    "filters": {
        "without_traceback": {"()": "newsroom.log.WithoutTraceback"},
        "client_errors_without_traceback": {"()": "newsroom.log.ClientErrorsWithoutTraceback"},
        "precondition_failed_as_information": {
            "()": "newsroom.log.PreconditionFailedAsInformation"
        },
    },
    "handlers": {
        "null": {"class": "logging.NullHandler"},
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "console_without_traceback": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["without_traceback"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # A 4xx that Django logs with its exception (an unparsable form body): one line; a
        # failed precondition (412), the answer to a client's condition: no warning. At the
        # site's level, not at the INFO Django gives its "django" logger, which would keep
        # that information (and every 404's warning) in a log set to keep less.
        "django.request": {
            "level": LOG_LEVEL,
            "filters": ["client_errors_without_traceback", "precondition_failed_as_information"],
        },
        # Requests refused as suspicious (another Host header, too many form fields...) are
        # 400s a bot can send at will: a log line each (no traceback), not a mail to ADMINS,
        # who get 500s.
        "django.security": {"handlers": ["console_without_traceback"], "propagate": False},
        # django-axes announces itself on every start-up; its lockouts log as warnings.
        "axes.apps": {"level": "WARNING"},
        # Two lines for every task (started, finished), and a failure's message, which may
        # hold an address: newsroom/task_log.py logs one line instead.
        "django.tasks": {"handlers": ["null"], "propagate": False},
    },
}

# Site identity, used in titles, feeds and structured data.
SITE_NAME = env("SITE_NAME", "The Newsroom")
SITE_DESCRIPTION = env("SITE_DESCRIPTION", "Independent local news, reported and edited by people.")
# How long anonymous readers may get a cached page (changes invalidate it at once anyway).
READER_CACHE_SECONDS = env_int("READER_CACHE_SECONDS", 600)
ARTICLES_PER_PAGE = env_int("ARTICLES_PER_PAGE", 12, minimum=1)
# How long a reader's search may take before it is cancelled and the page says so (a 503):
# far under gunicorn's 30 s timeout, over any search measured on PostgreSQL (1.6 s) and a
# word found nowhere on SQLite (2.6 s at 100,000 articles).
SEARCH_TIMEOUT_MILLISECONDS = env_int("SEARCH_TIMEOUT_MILLISECONDS", 5000, minimum=1)

# Captcha: a small math question drawn from a pre-generated pool, so that reading an
# article writes nothing to the database.
CAPTCHA_CHALLENGE_FUNCT = "comments.captcha.math_challenge"
CAPTCHA_LETTER_ROTATION = (-10, 10)
CAPTCHA_TIMEOUT = env_int("CAPTCHA_TIMEOUT_MINUTES", 120)
CAPTCHA_GET_FROM_POOL = True
CAPTCHA_GET_FROM_POOL_TIMEOUT = 60
# The audio question appears only when flite is installed (Debian package "flite").
CAPTCHA_FLITE_PATH = env("CAPTCHA_FLITE_PATH") or shutil.which("flite")
# Wide enough for "seven × 9 ="; dots only: an arc through "+" can make it read as "×".
CAPTCHA_IMAGE_SIZE = (220, 50)
CAPTCHA_FONT_SIZE = 28
CAPTCHA_NOISE_FUNCTIONS = ("captcha.helpers.noise_dots",)

# Comments.
# Top-level comments per page under an article (WordPress-style): a page's cost stays bounded.
# At most 1,000: a page of more is no page, and past 64 bits the database refuses the number.
COMMENTS_PER_PAGE = env_int("COMMENTS_PER_PAGE", 25, minimum=1, maximum=1000)
COMMENTS_CLOSE_AFTER_DAYS = env_int("COMMENTS_CLOSE_AFTER_DAYS", 0) or None
COMMENTS_MAX_DEPTH = env_int("COMMENTS_MAX_DEPTH", 3)
COMMENTS_MIN_SUBMIT_SECONDS = env_int("COMMENTS_MIN_SUBMIT_SECONDS", 3)
COMMENTS_FLOOD_LIMIT = env_int("COMMENTS_FLOOD_LIMIT", 5)
COMMENTS_FLOOD_WINDOW_SECONDS = env_int("COMMENTS_FLOOD_WINDOW_SECONDS", 600)
# The form sent back to be shown again (with a mistake in it, or without JavaScript: Reply,
# Cancel reply, Show a new question), and new questions asked for with JavaScript, per
# address in the same window: far more than a reader needs, but each one renders the
# article page or stores a question (comments/ratelimit.py).
COMMENTS_REDISPLAY_LIMIT = env_int("COMMENTS_REDISPLAY_LIMIT", 30)
COMMENTS_MAX_LINKS = env_int("COMMENTS_MAX_LINKS", 2)
COMMENTS_BLOCKLIST = env_list("COMMENTS_BLOCKLIST")
# A page finding the pool run out refills it within its request: capped as
# refill_captcha_pool --size is (comments/management/arguments.py).
COMMENTS_CAPTCHA_POOL_SIZE = env_int("COMMENTS_CAPTCHA_POOL_SIZE", 500, minimum=0, maximum=100_000)
CSRF_FAILURE_VIEW = "comments.views.csrf_failure"

# Moderation (see the README): who is emailed about held comments (default: the active
# members of the "Moderators" group), the optional "previously approved" rule, privacy.
COMMENTS_MODERATOR_EMAILS = env_emails("COMMENTS_MODERATOR_EMAILS")
COMMENTS_AUTO_APPROVE_PREVIOUSLY_APPROVED = env_bool("COMMENTS_AUTO_APPROVE_PREVIOUSLY_APPROVED")
COMMENTS_ERASE_KEEPS_TEXT = env_bool("COMMENTS_ERASE_KEEPS_TEXT")
COMMENTS_IP_RETENTION_DAYS = env_int("COMMENTS_IP_RETENTION_DAYS", 60)
