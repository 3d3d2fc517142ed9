"""Settings read from the environment: production fails fast and passes `check --deploy`.

Each case starts `manage.py` in a fresh process, because settings are read once at import.
"""

import ast
import json
import os
import re
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core import mail

from newsroom.settings import is_address

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = BASE_DIR / ".env.example"
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
    "DJANGO_ALLOWED_HOSTS": "news.example.com",
    "SITE_URL": "https://news.example.com",
}
OUR_VARIABLES = (
    "DJANGO_",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_",
    "AXES_",
    "SITE_URL",
    "CONTENT_VERSION_DIR",
)


def manage(*args, **variables):
    """Run manage.py with only the given configuration variables set."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(OUR_VARIABLES)}
    env.update(variables)
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_settings(*names, **variables):
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: str(getattr(settings, n)) for n in {list(names)!r}}}))"
    )
    result = manage("shell", "-v", "0", "-c", code, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_without_a_required_variable_stops_with_its_name(missing):
    variables = {name: value for name, value in PRODUCTION.items() if name != missing}

    result = manage("check", **variables)

    assert result.returncode != 0
    assert f"{missing} must be set when DJANGO_DEBUG is off" in result.stderr


def test_production_without_either_required_variable_names_both_at_once():
    result = manage("check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert (
        "DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off"
        in result.stderr
    )


@pytest.mark.parametrize(
    ("given", "host"),
    [
        ("https://news.example.com/", "news.example.com"),
        ("news.example.com:8000", "news.example.com"),
        # systemd's EnvironmentFile= keeps a comment after a value as part of it.
        ("news.example.com  # the site", "news.example.com"),
    ],
)
def test_an_address_in_allowed_hosts_stops_start_up_with_the_host_to_write(given, host):
    """Django would answer every request with a 400 asking to allow the host already there."""
    result = manage("check", **{**PRODUCTION, "DJANGO_ALLOWED_HOSTS": f"www.example.com,{given}"})

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS takes host names" in result.stderr
    assert f"write {host} instead of {given}." in result.stderr


def test_a_number_that_is_not_one_stops_start_up_with_the_variables_name():
    result = manage("check", READER_CACHE_SECONDS="10m")

    assert result.returncode != 0
    assert "READER_CACHE_SECONDS must be a whole number, not '10m'." in result.stderr


@pytest.mark.parametrize("value", ["0", "-3"])
def test_a_page_of_no_articles_stops_start_up_with_the_variables_name(value):
    """ARTICLES_PER_PAGE=0 started, and every list page (home, sections, search) was a 500."""
    result = manage("check", ARTICLES_PER_PAGE=value)

    assert result.returncode != 0
    assert f"ARTICLES_PER_PAGE must be 1 or more, not {value!r}." in result.stderr


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("0", "must be 1 or more, not '0'"),
        ("-5", "must be 1 or more, not '-5'"),
        ("10000000000000000000", "must be 1000 or less, not '10000000000000000000'"),
        ("twenty", "must be a whole number, not 'twenty'"),
    ],
)
def test_a_page_of_comments_that_cannot_be_stops_start_up_with_the_variables_name(value, said):
    """COMMENTS_PER_PAGE=0 or less showed one comment a page, said nothing, and 10**19 made
    every article page with comments a 500: past 64 bits, the database cannot take it."""
    result = manage("check", COMMENTS_PER_PAGE=value)

    assert result.returncode != 0
    assert f"COMMENTS_PER_PAGE {said}." in result.stderr


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("-1", "must be 0 or more, not '-1'"),
        ("10000000", "must be 100000 or less, not '10000000'"),
    ],
)
def test_a_captcha_pool_that_cannot_be_stops_start_up_with_the_variables_name(value, said):
    """A page that finds the pool run out refills it to this size, within the request: a
    mistyped ten million would be built in its memory."""
    result = manage("check", COMMENTS_CAPTCHA_POOL_SIZE=value)

    assert result.returncode != 0
    assert f"COMMENTS_CAPTCHA_POOL_SIZE {said}." in result.stderr


def test_a_negative_hsts_max_age_stops_start_up_with_the_variables_name():
    """DJANGO_HSTS_SECONDS=-300 sent "max-age=-300", which browsers ignore, and passed
    `check --deploy`, whose HSTS check asks only for a value."""
    result = manage("check", **PRODUCTION, DJANGO_SECURE_SSL="1", DJANGO_HSTS_SECONDS="-300")

    assert result.returncode != 0
    assert "DJANGO_HSTS_SECONDS must be 0 or more, not '-300'." in result.stderr


@pytest.mark.parametrize("typo", ["ture", "maybe"])
def test_a_yes_or_no_that_is_neither_stops_start_up_with_the_variables_name(typo):
    """DJANGO_SECURE_SSL=ture was read as off: a production site served without HTTPS,
    HSTS or secure cookies, and start-up said nothing."""
    result = manage("check", **PRODUCTION, DJANGO_SECURE_SSL=typo)

    assert result.returncode != 0
    assert f"DJANGO_SECURE_SSL must be 1 or 0 (or true/false, yes/no, on/off), not {typo!r}." in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("database_url", "problem"),
    [
        ("postgress://newsroom:secret@127.0.0.1:5432/newsroom", "must start with postgres://"),
        # Schemes dj-database-url knows, for databases Newsroom does not run on: they passed
        # start-up and failed later (a missing driver, SQL of PostgreSQL's or SQLite's).
        ("mysql://newsroom:secret@127.0.0.1:3306/newsroom", "must start with postgres://"),
        ("postgis://newsroom:secret@127.0.0.1:5432/newsroom", "must start with postgres://"),
        ("oracle://newsroom:secret@127.0.0.1:1521/newsroom", "must start with postgres://"),
        ("postgres://newsroom:secret@127.0.0.1:54x2/newsroom", "is not an address"),
        # "#" starts the URL's fragment: this read as host "ss", password "p", no database.
        ("postgres://newsroom:p@ss#secret@127.0.0.1:5432/newsroom", "names no database"),
    ],
)
def test_a_database_url_that_cannot_be_right_stops_start_up_without_showing_it(
    database_url, problem
):
    result = manage("check", **PRODUCTION, DATABASE_URL=database_url)

    assert result.returncode != 0
    assert f"DATABASE_URL {problem}" in result.stderr
    assert "postgres://USER:PASSWORD@HOST:5432/NAME" in result.stderr
    assert "secret" not in result.stderr
    assert "127.0.0.1" not in result.stderr


def test_a_database_url_naming_a_postgresql_service_starts():
    """The service (in pg_service.conf) names the database, as Django's own
    OPTIONS["service"] does: such an address ran the site, and start-up refused it."""
    result = manage("check", **PRODUCTION, DATABASE_URL="postgres://?service=newsroom")

    assert result.returncode == 0, result.stderr


def test_production_configuration_passes_check_deploy_without_warnings():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, DJANGO_SECURE_SSL="1"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_site_url_passes_check_deploy_without_warnings():
    """The issue's production set-up names no SITE_URL: debug off, a secret, the allowed
    hosts and DJANGO_SECURE_SSL=1. Emails then linked to 127.0.0.1 and check --deploy
    warned."""
    production = {name: value for name, value in PRODUCTION.items() if name != "SITE_URL"}

    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", **production, DJANGO_SECURE_SSL="1"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(("secure_ssl", "scheme"), [("1", "https"), ("0", "http")])
def test_production_without_site_url_links_emails_to_the_first_allowed_host(secure_ssl, scheme):
    production = {name: value for name, value in PRODUCTION.items() if name != "SITE_URL"}
    production["DJANGO_ALLOWED_HOSTS"] = ".example.com,news.example.com,www.news.example.com"

    values = read_settings("SITE_URL", **production, DJANGO_SECURE_SSL=secure_ssl)

    assert values["SITE_URL"] == f"{scheme}://news.example.com"


def test_check_deploy_warns_that_emails_would_link_to_this_machine():
    """Allowed hosts that are all wildcards name no address to link to."""
    production = {name: value for name, value in PRODUCTION.items() if name != "SITE_URL"}

    result = manage(
        "check",
        "--deploy",
        **{**production, "DJANGO_ALLOWED_HOSTS": ".example.com"},
        DJANGO_SECURE_SSL="1",
    )

    assert "(comments.W001) SITE_URL is http://127.0.0.1:8000" in result.stderr + result.stdout


def test_check_deploy_warns_that_a_site_url_without_its_scheme_makes_no_links():
    result = manage(
        "check", "--deploy", **{**PRODUCTION, "SITE_URL": "news.example.com"}, DJANGO_SECURE_SSL="1"
    )

    assert "(comments.W002) SITE_URL is news.example.com" in result.stderr + result.stdout


def test_check_deploy_warns_that_a_site_url_with_a_comment_after_it_makes_no_links():
    """systemd's EnvironmentFile= keeps a comment after a value as part of it: every link
    in every email ended in it, and no check said so."""
    site_url = "https://news.example.com  # the links in emails"

    result = manage(
        "check", "--deploy", **{**PRODUCTION, "SITE_URL": site_url}, DJANGO_SECURE_SSL="1"
    )

    assert f"(comments.W002) SITE_URL is {site_url}" in result.stderr + result.stdout


def test_check_deploy_without_https_names_the_variable_that_turns_it_on():
    result = manage("check", "--deploy", **PRODUCTION)

    output = result.stderr + result.stdout
    assert "(security.W008)" in output  # Django's own, naming SECURE_SSL_REDIRECT
    assert "(newsroom.W001) DJANGO_SECURE_SSL is off" in output
    assert "set DJANGO_SECURE_SSL=1" in output


def test_check_deploy_warns_that_hsts_seconds_without_https_sends_nothing():
    """DJANGO_HSTS_SECONDS=300, as the README advises a new domain, without DJANGO_SECURE_SSL
    sent no Strict-Transport-Security header (browsers ignore one over plain HTTP anyway),
    and `check --deploy` named only DJANGO_SECURE_SSL: the operator took the site as
    protected."""
    result = manage("check", "--deploy", **PRODUCTION, DJANGO_HSTS_SECONDS="300")

    output = result.stderr + result.stdout
    assert (
        "(newsroom.W002) DJANGO_HSTS_SECONDS is 300, but DJANGO_SECURE_SSL is off: "
        "no HSTS header is sent." in output
    )


def test_hsts_seconds_of_the_example_configuration_warn_of_nothing_without_https():
    """.env.example's own line is the default, which asks for nothing."""
    result = manage("check", "--deploy", **{**env_example(), **PRODUCTION})

    output = result.stderr + result.stdout
    assert "(newsroom.W001)" in output
    assert "newsroom.W002" not in output


@pytest.mark.parametrize(
    ("variable", "value", "kind"),
    [
        ("EMAIL_BACKEND", "django.core.mail.backends.consol.EmailBackend", "an email backend"),
        # The backend's module, not the backend in it.
        ("EMAIL_BACKEND", "django.core.mail.backends.base", "an email backend"),
        # Relative: Python's import refused it with a TypeError, and `check` stopped on it.
        ("EMAIL_BACKEND", ".smtp.EmailBackend", "an email backend"),
        (
            "DJANGO_STATICFILES_STORAGE",
            "whitenoise.storage.CompressedManifestStaticFileStorage",
            "a file storage",
        ),
    ],
)
def test_a_backend_that_is_none_stops_check_with_the_variables_name(variable, value, kind):
    """A typo passed `check` and `migrate`: the site started, and failed at its first email
    (logged, the moderators never told) or its first page with a static file (a 500)."""
    result = manage("check", **PRODUCTION, **{variable: value})

    assert result.returncode != 0
    assert f"{variable} is {value!r}, which is not {kind}" in result.stderr


def test_collectstatic_with_a_storage_that_is_none_names_the_variable():
    value = "whitenoise.storage.CompressedManifestStaticFileStorage"

    result = manage("collectstatic", "--no-input", **PRODUCTION, DJANGO_STATICFILES_STORAGE=value)

    assert result.returncode != 0
    assert f"DJANGO_STATICFILES_STORAGE is {value!r}, which is not a file storage" in result.stderr


@pytest.mark.parametrize(
    "value",
    [
        "newsroom.tasks.AfterResponseBackendd",
        "django_tasks_db.DatabaseBackends",
        # A module, and a backend of another kind.
        "django_tasks_db.backend",
        "django.core.mail.backends.smtp.EmailBackend",
        # Without its package, as ${PACKAGE}.DatabaseBackend with PACKAGE unset gives, and
        # relative: Python's import refused them with a ValueError and a TypeError.
        ".DatabaseBackend",
        ".tasks.AfterResponseBackend",
    ],
)
def test_a_task_backend_that_is_none_stops_start_up_with_the_variables_name(value):
    """The comments app makes its tasks as Django starts: every command stopped with a
    traceback about "backend", naming no variable."""
    result = manage("check", **PRODUCTION, TASKS_BACKEND=value)

    assert result.returncode != 0
    assert f"TASKS_BACKEND is {value!r}, which is not a task backend" in result.stderr


@pytest.mark.parametrize(
    "value",
    ["newsroom.tasks.AfterResponseBackend", "django_tasks_db.DatabaseBackend"],
)
def test_the_task_backends_the_readme_names_start(value):
    assert read_settings("TASKS", **PRODUCTION, TASKS_BACKEND=value) == {
        "TASKS": str({"default": {"BACKEND": value}})
    }


def test_a_task_backend_whose_module_imports_a_model_starts(tmp_path):
    """TASKS_BACKEND is read before Django has loaded the apps: a backend that records in a
    model, which Django imports once they are loaded, stopped every command ("Apps aren't
    loaded yet")."""
    (tmp_path / "recording_backend.py").write_text(
        "from django.contrib.auth.models import Group  # noqa: F401\n"
        "from django.tasks.backends.immediate import ImmediateBackend\n\n\n"
        "class RecordingBackend(ImmediateBackend):\n"
        "    pass\n"
    )

    result = manage(
        "check",
        **PRODUCTION,
        PYTHONPATH=str(tmp_path),
        TASKS_BACKEND="recording_backend.RecordingBackend",
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "value",
    [
        "newsroom at news.example.com",
        # As `docker run --env-file` passes a value quoted in .env.example.
        '"Newsroom <newsroom@news.example.com>"',
        # Sent as two senders, "Newsroom" and "Inc." <...>, which mail servers refuse.
        "Newsroom, Inc. <newsroom@news.example.com>",
        "newsroom@news.example.com, desk@news.example.com",
    ],
)
def test_a_sender_that_is_not_one_address_stops_start_up_with_the_variables_name(value):
    """Every email (the moderators', the commenters', the error reports sent as
    SERVER_EMAIL) failed at its sending, in a log line nobody reads."""
    result = manage("check", **PRODUCTION, DEFAULT_FROM_EMAIL=value)

    assert result.returncode != 0
    assert (
        f"DEFAULT_FROM_EMAIL takes one email address (or Name <address>): {value!r} is not one."
        in result.stderr
    )


def test_a_sender_with_a_quoted_name_sends_error_reports_too():
    sender = '"The Newsroom, Leeds" <newsroom@news.example.com>'

    values = read_settings(
        "DEFAULT_FROM_EMAIL", "SERVER_EMAIL", **PRODUCTION, DEFAULT_FROM_EMAIL=sender
    )

    assert values == {"DEFAULT_FROM_EMAIL": sender, "SERVER_EMAIL": sender}


@pytest.mark.parametrize("variable", ["DJANGO_ADMINS", "COMMENTS_MODERATOR_EMAILS"])
@pytest.mark.parametrize(
    "entry",
    [
        "ops@example.com; desk@example.com",
        "ops at example.com",
        # systemd's EnvironmentFile= keeps a comment after a value as part of it.
        "ops@example.com  # error reports",
        "Ops <ops@example.com",
    ],
)
def test_an_address_that_is_none_stops_start_up_with_the_variables_name(variable, entry):
    """Mail to it went nowhere, said only in a log line at each error report or held
    comment: the operator learned of it when a 500 nobody was told of had gone on for days."""
    result = manage("check", **PRODUCTION, **{variable: f"lead@example.com,{entry}"})

    assert result.returncode != 0
    assert (
        f"{variable} takes email addresses (or Name <address>), comma-separated: "
        f"{entry!r} is not one." in result.stderr
    )


@pytest.mark.parametrize(
    ("variable", "name", "address"),
    [
        ("DEFAULT_FROM_EMAIL", "Newsroom Inc.", "newsroom@news.example.com"),
        ("DJANGO_ADMINS", "Dr. Jane Doe", "jane@example.com"),
        ("COMMENTS_MODERATOR_EMAILS", "J. R. Doe", "jr@example.com"),
    ],
)
def test_a_name_with_a_period_stops_start_up_until_it_is_quoted(variable, name, address):
    """Django's SMTP backend reads an address as an email header, where a period in a name
    needs quotes: it refused every email from or to it, while the console backend sent it."""
    refused = manage("check", **PRODUCTION, **{variable: f"{name} <{address}>"})
    quoted = manage("check", **PRODUCTION, **{variable: f'"{name}" <{address}>'})

    assert refused.returncode != 0
    assert f"{name} <{address}>'" + " is not one." in refused.stderr
    assert "Quotes go around a name with a period, comma or other punctuation" in refused.stderr
    assert quoted.returncode == 0, quoted.stderr


def smtp_backend_sends_with(entry, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "mail.newsroom.test"},
        }
    }
    try:
        mail.mailers["default"].prep_address(entry)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    "entry",
    [
        "Newsroom Inc. <newsroom@news.example.com>",
        "Jane.Doe <jane@example.com>",
        "Ops; Desk <ops@example.com>",
        "Ops: Desk <ops@example.com>",
        "Ops [Leeds] <ops@example.com>",
        "Ops\\Desk <ops@example.com>",
        '"Newsroom Inc." <newsroom@news.example.com>',
        '"Jane \\"JJ\\" Doe" <jane@example.com>',
        '"Newsroom <Leeds>" <newsroom@news.example.com>',
        "Jörg Müller <joerg@bücher.example>",
        "ops@example.com (Ops)",
        "O'Brien <ob@example.com>",
        "Newsroom <newsroom@localhost>",
    ],
)
def test_start_up_takes_an_address_as_djangos_smtp_backend_does(entry, settings):
    """What start-up takes, every email can be sent from or to; what it refuses, none could."""
    assert is_address(entry) == smtp_backend_sends_with(entry, settings)


def test_the_quoted_names_examples_of_env_example_work_in_an_exported_env_file(tmp_path):
    """The README exports .env with `set -a; . ./.env; set +a`. The example, written as a
    value as .env.example showed it ("Doe, Jane" <jane@example.com>), was a shell syntax
    error: bash went on without a single variable of the file, sh stopped."""
    examples = re.findall(r"^#\s+([A-Z_]+=\S.*)$", ENV_EXAMPLE.read_text(), re.M)
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join([*examples, "SITE_NAME=Exported", ""]))
    code = (
        "from django.conf import settings; "
        "print(settings.ADMINS, settings.DEFAULT_FROM_EMAIL, settings.SITE_NAME)"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith(OUR_VARIABLES)}

    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [
            "/bin/sh",
            "-c",
            'set -a; . "$1"; set +a; exec "$2" manage.py shell -v 0 -c "$3"',
            "sh",
            env_file,
            sys.executable,
            code,
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        """['"Doe, Jane" <jane@example.com>', '"Newsroom Inc." <desk@example.com>'] """
        '"Newsroom Inc." <newsroom@example.com> Exported'
    )


def test_addresses_with_or_without_a_name_start():
    values = read_settings(
        "ADMINS",
        "COMMENTS_MODERATOR_EMAILS",
        **PRODUCTION,
        DJANGO_ADMINS="Ops Desk <ops@example.com>, lead@example.com",
        COMMENTS_MODERATOR_EMAILS="desk@localhost",
    )

    assert values == {
        "ADMINS": "['Ops Desk <ops@example.com>', 'lead@example.com']",
        "COMMENTS_MODERATOR_EMAILS": "['desk@localhost']",
    }


@pytest.mark.parametrize("variable", ["DJANGO_ADMINS", "COMMENTS_MODERATOR_EMAILS"])
def test_a_quoted_name_with_a_comma_in_it_is_one_address(variable):
    """A To: header's rule: the comma inside the quotes is part of the name. It was taken
    for two entries, and start-up refused '"Doe' as an address."""
    values = read_settings(
        "ADMINS",
        "COMMENTS_MODERATOR_EMAILS",
        **PRODUCTION,
        **{variable: '"Doe, Jane" <jane@example.com>, lead@example.com'},
    )

    assert values[variable.removeprefix("DJANGO_")] == str(
        ['"Doe, Jane" <jane@example.com>', "lead@example.com"]
    )


@pytest.mark.parametrize(
    ("value", "entry"),
    [
        ('"Doe, Jane" <jane@example.com>, ops at example.com', "ops at example.com"),
        # Unquoted, the comma still ends an entry, as in a To: header.
        ("Doe, Jane <jane@example.com>", "Doe"),
    ],
)
def test_an_address_beside_a_quoted_name_is_still_named_when_it_is_none(value, entry):
    result = manage("check", **PRODUCTION, DJANGO_ADMINS=value)

    assert result.returncode != 0
    assert f"comma-separated: {entry!r} is not one." in result.stderr


def test_a_request_for_another_host_logs_one_line_without_a_traceback():
    """Bots send any Host header all day; each refusal used to log a dozen lines of Django's
    internals. Its one line still names the host, for an operator who forgot to allow theirs."""
    code = 'from django.test import Client; Client().get("/", HTTP_HOST="elsewhere.example")'

    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        **PRODUCTION,
        # The 400 page links static files, which this checkout has not collected.
        DJANGO_STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
    )

    assert result.returncode == 0, result.stderr
    assert "Invalid HTTP_HOST header: 'elsewhere.example'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_error_report_hides_the_password_in_redis_url():
    """The report of a 500 mailed to DJANGO_ADMINS lists the settings: it hid the database's
    password, but showed Redis's twice (REDIS_URL and the cache's LOCATION)."""
    code = (
        "from django.views.debug import get_default_exception_reporter_filter; "
        "print(get_default_exception_reporter_filter().get_safe_settings())"
    )
    redis_url = "redis://:hunter2-redis@cache.example.com:6379/0"

    result = manage("shell", "-v", "0", "-c", code, **PRODUCTION, REDIS_URL=redis_url)

    assert result.returncode == 0, result.stderr
    assert "'REDIS_URL'" in result.stdout
    assert "hunter2-redis" not in result.stdout


def test_development_defaults_need_no_configuration():
    values = read_settings("DEBUG", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "MAILERS")

    assert values["DEBUG"] == "True"
    assert "127.0.0.1" in values["ALLOWED_HOSTS"]
    assert values["SECURE_SSL_REDIRECT"] == "False"
    assert "console.EmailBackend" in values["MAILERS"]


def test_secure_ssl_turns_on_hsts_secure_cookies_and_the_redirect():
    values = read_settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_HTTPONLY",
        **PRODUCTION,
        DJANGO_SECURE_SSL="1",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": "True",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
        "SESSION_COOKIE_SECURE": "True",
        "CSRF_COOKIE_SECURE": "True",
        "SESSION_COOKIE_HTTPONLY": "True",
        "CSRF_COOKIE_HTTPONLY": "True",
    }


def test_production_mail_goes_through_the_configured_smtp_server():
    values = read_settings(
        "MAILERS",
        **PRODUCTION,
        EMAIL_HOST="smtp.example.com",
        EMAIL_HOST_USER="newsroom",
        EMAIL_HOST_PASSWORD="s3cret",
    )

    assert "newsroom.mail.ResilientSMTPBackend" in values["MAILERS"]
    assert "'host': 'smtp.example.com'" in values["MAILERS"]
    assert "'port': 587" in values["MAILERS"]
    assert "'use_tls': True" in values["MAILERS"]


def test_redis_url_shares_the_cache_and_the_login_throttle_between_servers():
    values = read_settings(
        "CACHES",
        "AXES_HANDLER",
        "AXES_FAILURE_LIMIT",
        "AXES_COOLOFF_TIME",
        REDIS_URL="redis://127.0.0.1:6379/9",
        AXES_FAILURE_LIMIT="7",
        AXES_COOLOFF_MINUTES="30",
    )

    assert "RedisCache" in values["CACHES"]
    assert "redis://127.0.0.1:6379/9" in values["CACHES"]
    assert values["AXES_HANDLER"] == "newsroom.login_throttle.AxesCacheWithDatabaseFallback"
    assert values["AXES_FAILURE_LIMIT"] == "7"
    assert values["AXES_COOLOFF_TIME"] == "0:30:00"


def test_a_username_is_paused_from_everywhere_only_at_its_own_higher_limit():
    assert read_settings("AXES_USERNAME_FAILURE_LIMIT") == {"AXES_USERNAME_FAILURE_LIMIT": "50"}
    values = read_settings(
        "AXES_HANDLER", "AXES_USERNAME_FAILURE_LIMIT", AXES_USERNAME_FAILURE_LIMIT="80"
    )

    assert values["AXES_HANDLER"] == "newsroom.login_throttle.AxesDatabaseHandlerWithUsernameLimit"
    assert values["AXES_USERNAME_FAILURE_LIMIT"] == "80"


def test_the_log_level_may_be_written_in_lower_case():
    values = read_settings("LOGGING", DJANGO_LOG_LEVEL="warning")

    assert "'level': 'WARNING'" in values["LOGGING"]


@pytest.mark.parametrize(("written", "level"), [("WARN", "WARNING"), ("fatal", "CRITICAL")])
def test_the_log_levels_other_names_that_logging_takes_still_start(written, level):
    """logging takes WARN and FATAL for WARNING and CRITICAL: a site configured so started
    before the variable was checked, and must still."""
    values = read_settings("LOGGING", DJANGO_LOG_LEVEL=written)

    assert f"'level': '{level}'" in values["LOGGING"]


@pytest.mark.parametrize(("level", "kept"), [("INFO", True), ("WARNING", False)])
def test_a_failed_precondition_is_logged_only_where_the_log_keeps_information(level, kept):
    """A 412 is logged as information (newsroom/log.py): a log set to warnings leaves it out,
    whatever level Django gives its own loggers, or any bot sending If-Match fills it."""
    code = (
        "from django.http import HttpResponse; from django.utils.log import log_response; "
        "log_response('Precondition Failed: %s', '/news/', response=HttpResponse(status=412))"
    )

    result = manage("shell", "-v", "0", "-c", code, DJANGO_LOG_LEVEL=level)

    assert result.returncode == 0, result.stderr
    assert ("INFO django.request Precondition Failed: /news/" in result.stderr) is kept


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DJANGO_LOG_LEVEL", "verbose", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("DJANGO_TIME_ZONE", "Europe/Londen", "a time zone name such as Europe/London"),
    ],
)
def test_a_log_level_or_time_zone_that_is_none_stops_start_up_with_the_variables_name(
    variable, value, expected
):
    """Django said "Unable to configure root logger" or "Incorrect timezone setting", and
    left the operator to guess which variable."""
    result = manage("check", **{variable: value})

    assert result.returncode != 0
    assert f"{variable} must be {expected}, not {value!r}." in result.stderr


def test_a_redis_url_without_its_scheme_stops_start_up_with_the_variables_name():
    result = manage("check", REDIS_URL="127.0.0.1:6379")

    assert result.returncode != 0
    assert "REDIS_URL must start with redis://, rediss:// or unix://" in result.stderr


@pytest.mark.parametrize(
    ("database", "folder"),
    [("sqlite:///{site}/db.sqlite3", "{site}"), ("postgres://news@127.0.0.1/news", "{base}")],
)
def test_the_content_version_is_kept_beside_the_database_whatever_the_temporary_folder(
    tmp_path, database, folder
):
    """Every process of the site finds the file that ends its cached pages in the same
    folder, the service and a shell alike: not in /tmp, which systemd's PrivateTmp makes the
    service's own, nor in a TMPDIR set for one of them only."""
    site, temporary = tmp_path / "site", tmp_path / "shells-tmp"
    temporary.mkdir()
    values = read_settings(
        "CONTENT_VERSION_DIR", DATABASE_URL=database.format(site=site), TMPDIR=str(temporary)
    )

    assert values["CONTENT_VERSION_DIR"] == folder.format(site=site, base=BASE_DIR)


def test_a_content_version_dir_the_site_cannot_write_in_stops_every_command(tmp_path):
    """Without Redis, no change would end the pages cached by the site's processes."""
    missing = tmp_path / "missing"

    result = manage("forget_cached_pages", CONTENT_VERSION_DIR=str(missing))

    assert result.returncode != 0
    assert f"(newsroom.E001) CONTENT_VERSION_DIR ({missing}) is not a folder" in result.stderr


def test_with_redis_the_content_version_dir_is_not_used(tmp_path):
    result = manage(
        "check", CONTENT_VERSION_DIR=str(tmp_path / "missing"), REDIS_URL="redis://127.0.0.1:6379/9"
    )

    assert result.returncode == 0, result.stderr


def test_sqlite_runs_in_wal_mode_and_takes_the_write_lock_when_a_transaction_starts(tmp_path):
    """IMMEDIATE transactions wait for the write lock up front instead of failing later
    with "database is locked" when a read lock cannot be upgraded."""
    database = tmp_path / "db.sqlite3"
    code = f"""
import sqlite3
from django.db import connection, transaction
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    print(cursor.fetchone()[0])
with transaction.atomic():
    connection.cursor().execute("SELECT 1")
    other = sqlite3.connect({str(database)!r}, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        print("second writer got in")
    except sqlite3.OperationalError as error:
        print(error)
"""
    result = manage("shell", "-v", "0", "-c", code, DATABASE_URL=f"sqlite:///{database}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["wal", "database is locked"]


@pytest.mark.parametrize("first_command", [("check",), ("createsuperuser", "--no-input")])
def test_a_new_sqlite_database_is_readable_by_its_owner_alone_whichever_command_makes_it(
    tmp_path, first_command
):
    """Only migrate made it 0600: `make lint` on a fresh clone (`manage.py check`), or a
    createsuperuser run first, made it 0644, its -wal and -shm with it, and migrate then
    left it so."""
    database = tmp_path / "db.sqlite3"

    manage(*first_command, DATABASE_URL=f"sqlite:///{database}")

    modes = {file.name: stat.S_IMODE(file.stat().st_mode) for file in tmp_path.glob("db.*")}
    assert modes and set(modes.values()) == {0o600}, modes


@pytest.fixture
def open_folder():
    """A folder every user may enter, as a server's /srv/newsroom is: tmp_path is inside
    pytest's own folder, which only its user may enter."""
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_an_sqlite_database_others_may_read_is_told_at_every_command(open_folder):
    """migrate makes a new database 0600; one made before, or restored with cp, stayed 0644:
    any user of the machine could read commenters' emails and the staff's password hashes,
    and nothing said so. Its mode is not changed behind the operator's back (a group of
    theirs may need it), but every command says it, migrate in `make serve` among them."""
    database = open_folder / "db.sqlite3"
    database.touch()
    database.chmod(0o644)

    result = manage("check", DATABASE_URL=f"sqlite:///{database}")

    assert result.returncode == 0, result.stderr  # a warning: the site still starts
    output = " ".join((result.stderr + result.stdout).split())
    assert "(newsroom.W003) Every user of this machine may read the SQLite database: " in output
    assert f"{database} (mode 0644)" in output
    assert f"Run chmod o= {database}* " in output
    assert "set DJANGO_SILENCED_SYSTEM_CHECKS=newsroom.W003." in output


def test_an_sqlite_database_of_its_owner_and_group_alone_is_not_told(tmp_path):
    database = tmp_path / "db.sqlite3"
    database.touch()
    database.chmod(0o640)

    result = manage("check", DATABASE_URL=f"sqlite:///{database}")

    assert "newsroom.W003" not in result.stderr + result.stdout


def test_the_chmod_an_sqlite_warning_gives_works_when_pasted_into_a_shell(open_folder):
    """The hint gave the paths unquoted, so a folder with a space in its name
    ("My Projects") made chmod fail, and it named the -wal and -shm files that the check's
    own command had made and removed on exit: pasted after it, chmod failed on them too."""
    folder = open_folder / "My Projects"
    folder.mkdir()
    database = folder / "db.sqlite3"
    database.touch()
    database.chmod(0o644)
    told = manage("check", DATABASE_URL=f"sqlite:///{database}")
    command = re.search(r"HINT: Run (.+) as their owner", told.stderr).group(1)

    pasted = subprocess.run(  # noqa: S602 - the command the warning gives, as a user pastes it
        command, shell=True, cwd=open_folder, capture_output=True, text=True, check=False
    )

    assert pasted.returncode == 0, pasted.stderr
    assert stat.S_IMODE(database.stat().st_mode) == 0o640  # the group's bits as they were
    assert "newsroom.W003" not in manage("check", DATABASE_URL=f"sqlite:///{database}").stderr


def test_a_check_named_in_the_environment_is_silenced(open_folder):
    """On a filesystem where chmod changes nothing (WSL's /mnt/c, a VirtualBox share) the
    SQLite warning could not be answered, and `make lint`, which fails at a warning, failed
    for good."""
    database = open_folder / "db.sqlite3"
    database.touch()
    database.chmod(0o644)

    result = manage(
        "check",
        "--fail-level",
        "WARNING",
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SILENCED_SYSTEM_CHECKS="newsroom.W003, newsroom.W001",
    )

    assert result.returncode == 0, result.stderr
    assert "newsroom.W003" not in result.stderr + result.stdout
    assert "(1 silenced)" in result.stdout


@pytest.mark.parametrize(
    "check",
    [
        # The demo logins' passwords, printed in the README: the site served with them.
        "comments.E001",
        "newsroom.E001",
        # Django compares ids as written: this one silenced nothing, and said nothing.
        "newsroom.w003",
    ],
)
def test_only_a_warning_can_be_silenced_from_the_environment(check):
    """An error says what must be mended before the site serves; `migrate`, so `make serve`,
    went on past one silenced."""
    result = manage("check", **PRODUCTION, DJANGO_SILENCED_SYSTEM_CHECKS=f"newsroom.W003, {check}")

    assert result.returncode != 0
    assert (
        "DJANGO_SILENCED_SYSTEM_CHECKS takes the ids of warnings, such as newsroom.W003: "
        f"{check!r} is not one." in result.stderr
    )


def test_an_sqlite_database_in_a_folder_others_may_not_enter_is_not_told(open_folder):
    """A 0644 database in a private home folder (Ubuntu's and Fedora's are) was said to be
    readable by every user of the machine, which it is not, and failed `make lint`."""
    home = open_folder / "alice"
    home.mkdir(mode=0o750)
    database = home / "newsroom" / "db.sqlite3"
    database.parent.mkdir()
    database.touch()
    database.chmod(0o644)

    result = manage("check", DATABASE_URL=f"sqlite:///{database}")

    assert result.returncode == 0, result.stderr
    assert "newsroom.W003" not in result.stderr + result.stdout


def variables_read_by_settings():
    tree = ast.parse((BASE_DIR / "newsroom" / "settings.py").read_text())
    readers = {
        "env",
        "env_bool",
        "env_int",
        "env_list",
        "env_email",
        "env_emails",
        "required_in_production",
    }
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) in readers
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def env_example():
    """NAME=value lines of .env.example, values unquoted as a shell would."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    pairs = (line.partition("=") for line in lines if re.match(r"[A-Z_]+=", line))
    return {name: "".join(shlex.split(value)) for name, _, value in pairs}


def test_env_example_documents_every_variable_settings_read():
    assert variables_read_by_settings() - env_example().keys() == set()


def test_env_example_copied_as_is_gives_a_working_development_site():
    result = manage("check", **env_example())

    assert result.returncode == 0, result.stderr
