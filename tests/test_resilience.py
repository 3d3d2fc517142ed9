"""When a service the site leans on fails: Redis down, the mail server down, a database that
refuses the write. Pages still serve, comments are still taken or handed back, nothing is
half-written. Real failures on loopback (closed ports, a database trigger), nothing mocked.
"""

import contextlib
import html
import io
import logging
import os
import socket
import subprocess
import sys

import pytest
from captcha.models import CaptchaStore
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client

from articles.models import Article
from comments import services
from comments.captcha import refill_pool
from comments.models import Comment
from comments.moderation import FLOODED
from comments.notifications import unsubscribe_token
from comments.reader_cache import POOL_SAMPLE_KEY
from comments.unsubscribe import NOT_SAVED
from comments.views import AWAITING_MODERATION, NOT_STORED
from newsroom import cache as cache_module
from newsroom.middleware import DATABASE_RETRY_SECONDS
from tests.factories import (
    comment_form_data,
    form_values,
    make_article,
    make_comment,
    make_editor,
    make_moderator,
    new_article_form,
    post_url,
)
from tests.load.server import Reader, Switch, closed_port, gunicorn

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(db, settings):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    refill_pool(5)
    return make_article()


def filled_form(page, **values):
    """What Ida sends from this page: its question answered, her text typed."""
    return comment_form_data(page, **{"name": "Ida Wells", "email": "ida@example.com", **values})


def send(client, article, **values):
    page = client.get(article.get_absolute_url()).content.decode()
    return client.post(post_url(article), filled_form(page, **values))


# -- Redis down ------------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    """The production cache backend, pointed at a Redis that is not running."""
    settings.CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_with_redis_down_pages_still_serve(client, article, redis_down, caplog):
    make_comment(article, body="Seen by everyone.")

    for path in ["/", f"/section/{article.section.slug}/", article.get_absolute_url()]:
        response = client.get(path)
        assert response.status_code == 200, path

    assert "Seen by everyone." in response.content.decode()
    assert "Redis is unreachable" in caplog.text


@contextlib.contextmanager
def server_that_never_answers():
    """A listening socket on a free local port that takes connections and never answers
    (a server hung, or a firewall dropping its replies): each client waits for its timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener


@pytest.fixture
def redis_hanging(settings):
    """A "Redis" that takes connections and never answers: each call waits for its timeout.
    Yields the listening socket: each connection tried waits in its queue."""
    with server_that_never_answers() as listener:
        settings.CACHES = {
            "default": {
                "BACKEND": "newsroom.cache.ResilientRedisCache",
                "LOCATION": f"redis://127.0.0.1:{listener.getsockname()[1]}/0",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        yield listener


def test_with_redis_hanging_only_the_first_call_waits_for_it(client, article, redis_hanging):
    for path in ["/", f"/section/{article.section.slug}/", article.get_absolute_url()] * 2:
        assert client.get(path).status_code == 200, path

    # Each page asks the cache more than once: every call trying Redis would wait out its
    # one-second timeout, over twelve seconds for these six pages.
    assert connections_tried(redis_hanging) == 1


def test_with_redis_down_a_comment_is_taken_and_its_author_sees_it(client, article, redis_down):
    response = send(client, article, body="Written while Redis was down.")

    comment = Comment.objects.get()
    assert response.status_code == 303
    assert comment.body == "Written while Redis was down."
    page = client.get(article.get_absolute_url()).content.decode()
    # The author's own pending comment comes from a signed cookie, not from Redis.
    assert "Written while Redis was down." in page
    assert AWAITING_MODERATION in page


def test_with_redis_down_flood_control_counts_in_the_database(
    client, article, redis_down, settings
):
    settings.COMMENTS_FLOOD_LIMIT = 2
    for number in range(2):
        response = send(client, article, email=f"r{number}@example.com", body=f"Number {number}.")
        assert response.status_code == 303

    response = send(client, article, email="r9@example.com", body="One too many.")

    page = response.content.decode()
    assert response.status_code == 429
    assert html.escape(FLOODED.format(wait="10 minutes")) in page
    assert "One too many.</textarea>" in page
    assert Comment.objects.count() == 2


def test_with_redis_down_the_form_is_still_sent_back_to_choose_whom_to_answer(
    client, article, redis_down, settings
):
    """The budget for forms shown again is counted in the cache alone: without it nobody is
    refused."""
    settings.COMMENTS_REDISPLAY_LIMIT = 1
    make_comment(article, name="Ada Lovelace")
    page = client.get(article.get_absolute_url()).content.decode()
    typed = filled_form(page, body="Kept.")

    for _ in range(3):
        response = client.post(post_url(article), {**typed, "replyto": ""})
        assert response.status_code == 200
        assert "Kept.</textarea>" in response.content.decode()


def test_with_redis_down_a_moderators_decision_goes_through(
    client, article, redis_down, django_capture_on_commit_callbacks
):
    comment = make_comment(article, status=Comment.Status.PENDING, body="Approved while down.")

    with django_capture_on_commit_callbacks(execute=True):
        assert services.approve(comment, by=make_moderator()) is True

    assert "Approved while down." in client.get(article.get_absolute_url()).content.decode()


@pytest.fixture
def redis_outage(settings, monkeypatch, redis_space):
    """The production cache backend, reaching a real Redis (the tests' one, a key space of
    this test's own) through a switch: off and on again, Redis comes back with what it held."""
    monkeypatch.setattr(cache_module, "RETRY_SECONDS", 0)  # tried again at the next call
    switch = Switch(*redis_space.address)
    settings.CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.ResilientRedisCache",
            "LOCATION": redis_space.through(switch.port),
            "KEY_PREFIX": redis_space.prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    yield switch
    switch.off()


APPROVED_DURING_IT = "Approved during it."


def shows_the_comment(client, article):
    return APPROVED_DURING_IT in client.get(article.get_absolute_url()).content.decode()


def held_under_a_cached_page(client, article):
    """A held comment, and its article's page rendered and stored, then served from the
    cache, without it."""
    comment = make_comment(article, status=Comment.Status.PENDING, body=APPROVED_DURING_IT)
    for _ in range(2):
        assert not shows_the_comment(client, article)
    return comment


def test_a_decision_taken_while_redis_was_down_shows_once_it_is_back(
    client, article, reader_cache, redis_outage, django_capture_on_commit_callbacks
):
    comment = held_under_a_cached_page(client, article)

    redis_outage.off()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.approve(comment, by=make_moderator()) is True
    redis_outage.on()

    assert shows_the_comment(client, article)


def bump_in_a_worker_that_exits(settings):
    """Another worker bumps the content version and exits, as gunicorn recycles a worker:
    with Redis out of reach, the bump is dropped, and what the worker remembered of it dies
    with it."""
    cache = settings.CACHES["default"]
    script = (
        "import django; django.setup(); "
        "from articles.page_cache import bump_content_version; bump_content_version()"
    )
    worker = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "REDIS_URL": cache["LOCATION"],
            "CACHE_KEY_PREFIX": cache["KEY_PREFIX"],
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Redis is unreachable" in worker.stderr


def test_a_decision_whose_worker_is_gone_before_redis_is_back_still_shows(
    client, article, reader_cache, redis_outage, settings
):
    """This worker found Redis down as well: it ends the cached pages once Redis answers."""
    comment = held_under_a_cached_page(client, article)

    redis_outage.off()
    client.get(article.get_absolute_url())  # this worker finds Redis down
    services.approve(comment, by=make_moderator())  # in the worker below, which bumps
    bump_in_a_worker_that_exits(settings)
    redis_outage.on()

    assert shows_the_comment(client, article)


def test_after_an_outage_the_pages_are_rendered_afresh_once_not_at_every_request(
    client, article, reader_cache, redis_outage, django_assert_num_queries
):
    """What recovery costs (newsroom.cache.delete_after_outage): this worker ends the cached
    pages once, as one moderation decision would; the page it renders then is served from
    the cache again, so the hot article is not rendered at every request after an outage."""
    client.get("/")  # stored
    redis_outage.off()
    client.get("/")  # this worker finds Redis down
    redis_outage.on()
    client.get("/")  # ends the pages cached before the outage, renders and stores this one

    with django_assert_num_queries(0):
        assert client.get("/").status_code == 200


# -- The mail server down --------------------------------------------------------------------


def test_with_the_mail_server_down_the_comment_is_kept_and_the_failure_logged(
    client, article, settings, caplog, django_capture_on_commit_callbacks
):
    settings.COMMENTS_MODERATOR_EMAILS = ["desk@newsroom.test"]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
        }
    }

    with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.ERROR):
        response = send(client, article, body="Nobody could be told yet.")

    comment = Comment.objects.get()
    assert response.status_code == 303
    assert comment.status == Comment.Status.PENDING
    assert comment.body == "Nobody could be told yet."
    assert AWAITING_MODERATION in client.get(response["Location"]).content.decode()
    [failure] = [record for record in caplog.records if record.exc_info]
    assert isinstance(failure.exc_info[1], ConnectionRefusedError)
    assert f"Could not email moderators about held comment {comment.pk}." in caplog.text


@pytest.fixture
def mail_server_hanging(settings):
    """The production mail backend, pointed at a "mail server" that takes connections and
    never answers. Yields the listening socket: each connection tried waits in its queue."""
    with server_that_never_answers() as listener:
        settings.MAILERS = {
            "default": {
                "BACKEND": "newsroom.mail.ResilientSMTPBackend",
                "OPTIONS": {
                    "host": "127.0.0.1",
                    "port": listener.getsockname()[1],
                    "use_tls": False,
                    "timeout": 1,
                },
            }
        }
        yield listener


def connections_tried(listener):
    listener.setblocking(False)
    tried = 0
    while True:
        try:
            connection_, _ = listener.accept()
        except BlockingIOError:
            return tried
        connection_.close()
        tried += 1


def test_with_the_mail_server_hanging_a_bulk_approval_waits_for_it_once_not_per_email(
    client, article, mail_server_hanging, caplog, django_capture_on_commit_callbacks
):
    """Each email waited out the timeout (10 s in production): approving five comments
    whose authors asked for an email outlasted gunicorn's 30 s, and the moderator's page
    was lost, the decisions saved."""
    held = [
        make_comment(article, status=Comment.Status.PENDING, notify_on_publish=True)
        for _ in range(3)
    ]
    client.force_login(make_moderator())

    with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.ERROR):
        response = client.post(
            "/admin/comments/comment/",
            {"action": "approve_selected", "_selected_action": [c.pk for c in held]},
            follow=True,
        )

    assert "3 comments approved." in response.content.decode()
    assert {c.status for c in Comment.objects.filter(pk__in=[c.pk for c in held])} == {
        Comment.Status.APPROVED
    }
    assert connections_tried(mail_server_hanging) == 1
    for comment in held:
        assert f"Could not email the commenter about approved comment {comment.pk}." in (
            caplog.text
        )


# -- The database refuses the write ----------------------------------------------------------


class RefusedInserts:
    """A trigger that makes every INSERT into the comments table fail inside the database."""

    def __init__(self):
        self.active = False

    def start(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "CREATE FUNCTION refuse_comment() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'comments are read-only'; END $$"
                )
                cursor.execute(
                    "CREATE TRIGGER refuse_comment BEFORE INSERT ON comments_comment "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_comment()"
                )
            else:
                cursor.execute(
                    "CREATE TRIGGER refuse_comment BEFORE INSERT ON comments_comment "
                    "BEGIN SELECT RAISE(ABORT, 'comments are read-only'); END"
                )
        self.active = True

    def stop(self):
        if not self.active:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("DROP TRIGGER refuse_comment ON comments_comment")
                cursor.execute("DROP FUNCTION refuse_comment()")
            else:
                cursor.execute("DROP TRIGGER refuse_comment")
        self.active = False


@pytest.fixture
def refused_inserts(db):
    refusal = RefusedInserts()
    yield refusal
    refusal.stop()


def test_a_refused_write_gives_a_503_page_with_the_text_and_stores_nothing(
    client, article, settings, refused_inserts, django_capture_on_commit_callbacks
):
    settings.COMMENTS_MODERATOR_EMAILS = ["desk@newsroom.test"]
    make_comment(article, body="Already here.")
    article.refresh_from_db()
    count_before = article.comment_count
    refused_inserts.start()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = send(client, article, body="Words the database <b>refused</b>.")

    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_SECONDS)
    assert html.escape(NOT_STORED) in page
    assert "Words the database &lt;b&gt;refused&lt;/b&gt;.</textarea>" in page
    assert 'value="Ida Wells"' in page
    assert list(Comment.objects.values_list("body", flat=True)) == ["Already here."]
    article.refresh_from_db()
    assert article.comment_count == count_before
    assert callbacks == []  # no notification, no cache invalidation for a comment not stored
    assert mail.outbox == []


def test_after_a_refused_write_the_reader_sends_again_from_the_503_page(
    client, article, settings, refused_inserts
):
    # A limit of one: the refused attempt must not have used up the reader's place.
    settings.COMMENTS_FLOOD_LIMIT = 1
    refused_inserts.start()
    refused = send(client, article, body="Second time lucky.")
    assert refused.status_code == 503
    refused_inserts.stop()  # the database takes writes again

    page = refused.content.decode()
    response = client.post(post_url(article), filled_form(page, body="Second time lucky."))

    assert response.status_code == 303
    assert Comment.objects.get().body == "Second time lucky."


def test_a_refused_write_gives_back_the_commenters_place_in_redis_too(
    article, settings, refused_inserts, counted_in_redis
):
    """The place is given back under the key it was taken under: left counted, the
    commenter's next comment, from anywhere, was taken as spam past the email's limit."""
    settings.COMMENTS_FLOOD_LIMIT = 1
    refused_inserts.start()
    refused = send(Client(REMOTE_ADDR="198.51.100.1"), article, email="ADA@\u00e9lodie.fr")
    assert refused.status_code == 503
    refused_inserts.stop()

    send(Client(REMOTE_ADDR="198.51.100.2"), article, email="ada@\u00e9lodie.fr", body="Again.")

    assert Comment.objects.get().status == Comment.Status.PENDING


@pytest.fixture
def read_only_database(django_db_serialized_rollback, transactional_db):
    """The database takes no write at all, as after a failover to a replica or with a full
    disk. Real transactions: on PostgreSQL a failed statement would otherwise abort the
    transaction every test runs in."""

    def refuse_writes():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET default_transaction_read_only = on")
            else:
                cursor.execute("PRAGMA query_only = ON")

    yield refuse_writes
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("RESET default_transaction_read_only")
        else:
            cursor.execute("PRAGMA query_only = OFF")


def test_a_read_only_database_gives_a_503_page_with_the_text(client, settings, read_only_database):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    refill_pool(5)
    article = make_article()
    page = client.get(article.get_absolute_url()).content.decode()
    read_only_database()

    response = client.post(post_url(article), filled_form(page, body="Kept while read-only."))

    assert response.status_code == 503
    assert html.escape(NOT_STORED) in response.content.decode()
    assert "Kept while read-only.</textarea>" in response.content.decode()
    assert not Comment.objects.exists()
    # A question of the reader's own is a write too: the pool's instead.
    key = form_values(response.content.decode(), "captcha_0")
    assert CaptchaStore.objects.filter(hashkey=key).exists()


def test_a_new_question_on_a_read_only_database_keeps_the_text(client, read_only_database):
    """Without JavaScript, "Show a new question" posts the form back; retiring the old
    question, and storing a new one of the reader's own, are writes the database refuses,
    which must not cost the reader their text, nor a question: the pool's is asked."""
    refill_pool(5)
    article = make_article()
    page = client.get(article.get_absolute_url()).content.decode()
    read_only_database()

    data = filled_form(page, body="Typed before asking for another question.")
    response = client.post(post_url(article), {**data, "new_question": "1"})

    assert response.status_code == 200
    assert "Typed before asking for another question.</textarea>" in response.content.decode()
    assert 'value="Ida Wells"' in response.content.decode()
    key = form_values(response.content.decode(), "captcha_0")
    assert CaptchaStore.objects.filter(hashkey=key).exists()


def test_an_article_read_on_a_read_only_database_with_the_pool_run_out_asks_to_try_again(
    client, read_only_database
):
    """The page refills a pool run out (a write), which the database refuses: a 503 that
    says to come back, not a 500."""
    article = make_article()
    read_only_database()

    response = client.get(article.get_absolute_url())

    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_SECONDS)


def test_unsubscribing_on_a_read_only_database_asks_to_try_again(client, read_only_database):
    comment = make_comment(make_article(), notify_on_publish=True)
    read_only_database()

    response = client.post(f"/comments/unsubscribe/{unsubscribe_token(comment)}/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_SECONDS)
    assert html.escape(NOT_SAVED) in response.content.decode()
    assert '<form method="post"' in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).notify_on_publish is True


def test_with_redis_down_admin_sign_in_failures_still_count(client, redis_down, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_HANDLER = "newsroom.login_throttle.AxesCacheWithDatabaseFallback"
    get_user_model().objects.create_user("editor", password="right one", is_staff=True)

    answers = [
        client.post("/admin/login/", {"username": "editor", "password": "wrong"}).status_code
        for _ in range(3)
    ]

    assert answers == [200, 200, 429], "wrong passwords get the form, then the lockout page"


@pytest.fixture
def locked_out_while_redis_is_down(client, redis_outage, settings):
    """The editor's three wrong passwords, counted in the database: Redis is down."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_HANDLER = "newsroom.login_throttle.AxesCacheWithDatabaseFallback"
    get_user_model().objects.create_user("editor", password="right one", is_staff=True)
    redis_outage.off()
    for _ in range(3):
        client.post("/admin/login/", {"username": "editor", "password": "wrong"})


@pytest.fixture
def locked_out_while_redis_was_down(locked_out_while_redis_is_down, redis_outage):
    """The same lockout; then Redis is back."""
    redis_outage.on()


@pytest.mark.usefixtures("locked_out_while_redis_is_down")
def test_resetting_every_lockout_while_redis_is_down_says_so_and_resets_the_rest(client, caplog):
    call_command("axes_reset", stdout=io.StringIO())

    assert "Redis is unreachable: the sign-in failures counted there stay" in caplog.text
    response = client.post("/admin/login/", {"username": "editor", "password": "right one"})
    assert response.status_code == 302


@pytest.mark.usefixtures("locked_out_while_redis_was_down")
def test_the_documented_reset_lifts_a_lockout_counted_while_redis_was_down(client):
    call_command("axes_reset_username", "editor", stdout=io.StringIO())

    response = client.post("/admin/login/", {"username": "editor", "password": "right one"})
    assert response.status_code == 302


@pytest.mark.usefixtures("locked_out_while_redis_was_down")
def test_a_lockout_counted_while_redis_was_down_shows_the_lockout_page_once_it_is_back(client):
    response = client.post("/admin/login/", {"username": "editor", "password": "right one"})

    assert response.status_code == 429, "the lockout page, not a wrong password"


@pytest.fixture
def throttled_editor(redis_outage, settings):
    """Three failures allowed, counted in Redis while it answers (the switch is on)."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_HANDLER = "newsroom.login_throttle.AxesCacheWithDatabaseFallback"
    get_user_model().objects.create_user("editor", password="right one", is_staff=True)


def wrong_passwords(client, times):
    """The answers' status codes: 200 is the form again, 429 the lockout page."""
    return [
        client.post("/admin/login/", {"username": "editor", "password": "wrong"}).status_code
        for _ in range(times)
    ]


@pytest.mark.usefixtures("throttled_editor")
def test_failures_before_a_redis_outage_count_towards_the_limit_during_it(client, redis_outage):
    assert wrong_passwords(client, 2) == [200, 200]
    redis_outage.off()

    assert wrong_passwords(client, 1) == [429], "the third failure, whichever store counted it"


@pytest.mark.usefixtures("throttled_editor")
def test_failures_during_a_redis_outage_count_towards_the_limit_after_it(client, redis_outage):
    redis_outage.off()
    assert wrong_passwords(client, 2) == [200, 200]
    redis_outage.on()

    assert wrong_passwords(client, 1) == [429], "the third failure, whichever store counted it"


@pytest.mark.usefixtures("throttled_editor")
def test_failures_count_towards_the_limit_after_redis_restarts_empty(client, redis_space):
    assert wrong_passwords(client, 2) == [200, 200]
    redis_space.forget()  # a Redis restarted without persistence holds no count

    assert wrong_passwords(client, 1) == [429]


@pytest.mark.usefixtures("throttled_editor")
def test_a_failure_seen_by_redis_and_the_database_counts_once(client):
    assert wrong_passwords(client, 2) == [200, 200]

    response = client.post("/admin/login/", {"username": "editor", "password": "right one"})

    assert response.status_code == 302, "two failures of three allowed"


@pytest.mark.usefixtures("throttled_editor")
def test_signing_in_forgets_the_failures_counted_while_redis_was_down(client, redis_outage):
    redis_outage.off()
    assert wrong_passwords(client, 2) == [200, 200]
    redis_outage.on()
    signed_in = client.post("/admin/login/", {"username": "editor", "password": "right one"})
    assert signed_in.status_code == 302
    client.logout()

    assert wrong_passwords(client, 2) == [200, 200], "a fresh count after signing in"


@pytest.mark.usefixtures("throttled_editor")
def test_resetting_a_lockout_while_redis_is_down_says_the_count_there_stays(
    client, redis_outage, caplog
):
    """Locked out in both stores, reset during an outage: the database forgets, Redis cannot
    be told, and its count of the address would lock the editor out again once it is
    back. The operator is told what to reset again then."""
    assert wrong_passwords(client, 3) == [200, 200, 429]
    redis_outage.off()

    call_command("axes_reset_username", "editor", stdout=io.StringIO())

    assert "Redis is unreachable: the sign-in failures counted there stay" in caplog.text
    assert "reset these addresses too: 127.0.0.1" in caplog.text
    redis_outage.on()
    call_command("axes_reset_username", "editor", stdout=io.StringIO())
    call_command("axes_reset_ip", "127.0.0.1", stdout=io.StringIO())
    response = client.post("/admin/login/", {"username": "editor", "password": "right one"})
    assert response.status_code == 302


def test_an_admin_form_sent_to_a_read_only_database_gives_a_503_page_with_the_text(
    client, read_only_database
):
    """The database is there but takes no write just now, as after a failover: the
    editor's text comes back, to send again."""
    client.force_login(make_editor())
    article = new_article_form(body="Written while the database was read-only.")
    read_only_database()

    response = client.post("/admin/articles/article/add/", article)

    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_SECONDS)
    assert "Written while the database was read-only.</textarea>" in response.content.decode()
    assert not Article.objects.exists()


def test_a_missing_table_is_a_server_error_not_a_database_out_of_reach(client, caplog):
    """A migration not run is the operator's mistake, for the logs to show: SQLite reports
    it with the OperationalError of a database it cannot reach, which answered "we can't
    reach our database just now" to every request that read the table, for ever."""
    make_article()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE articles_section RENAME TO articles_section_missing")
    client.raise_request_exception = False

    response = client.get("/")

    assert response.status_code == 500
    assert "articles_section" in caplog.text
    assert "The database is unavailable" not in caplog.text


# -- A bug ------------------------------------------------------------------------------------


def test_a_comment_post_that_hits_a_bug_gives_the_text_back_and_mails_no_email(
    client, article, settings
):
    """Whatever goes wrong, the commenter's words are not lost: the 500 page gives them back
    to copy. The report mailed to ADMINS shows what was posted, but the commenter's email was
    in it. (Django hides the cookies' values, the session's and "remember me"'s, by itself.)"""
    settings.ADMINS = ["ops@newsroom.test"]
    client.raise_request_exception = False

    def bug_on_insert(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT INTO") and "comments_comment" in sql:
            raise RuntimeError("a bug in storing comments")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(bug_on_insert):
        response = send(client, article, body="Words sent into a <b>bug</b>.")

    assert response.status_code == 500
    assert "Words sent into a &lt;b&gt;bug&lt;/b&gt;.</textarea>" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    [report] = mail.outbox
    assert report.to == ["ops@newsroom.test"]
    assert "Words sent into a <b>bug</b>." in report.body  # what was posted, to read
    assert "ida@example.com" not in report.body.lower()


def test_a_comment_post_refused_by_the_csrf_check_that_hits_a_bug_mails_no_email(article, settings):
    """An expired security cookie sends the comment to the CSRF failure page, not to the
    comment view: a bug there mailed the commenter's email to ADMINS with the report."""
    settings.ADMINS = ["ops@newsroom.test"]
    reader = Client(enforce_csrf_checks=True, raise_request_exception=False)
    page = reader.get(article.get_absolute_url()).content.decode()
    reader.cookies["csrftoken"] = "expired" * 4  # not the one the form's token belongs to
    data = filled_form(
        page, body="Words sent with an expired cookie.", csrfmiddlewaretoken="x" * 32
    )

    def bug(execute, sql, params, many, context):
        raise RuntimeError("a bug on the CSRF failure page")

    with connection.execute_wrapper(bug):
        response = reader.post(post_url(article), data)

    assert response.status_code == 500
    assert "Words sent with an expired cookie.</textarea>" in response.content.decode()
    [report] = mail.outbox
    assert "Words sent with an expired cookie." in report.body
    assert "ida@example.com" not in report.body.lower()


# -- The database unreachable ---------------------------------------------------------------


def refuse_connection(execute, sql, params, many, context):
    """Every query meets a database that cannot be reached, as while it restarts."""
    raise OperationalError("connection failed: Connection refused")


def test_with_the_database_unreachable_a_cached_article_page_is_still_read(
    client, article, reader_cache
):
    """The cached page's captcha keys come from a pool sample kept a minute; a page served
    after it expired asked the database for another, and the reader got a 500."""
    client.get(article.get_absolute_url())  # now in the reader cache
    cache.delete(POOL_SAMPLE_KEY)  # the minute is over

    with connection.execute_wrapper(refuse_connection):
        response = Client().get(article.get_absolute_url())

    assert response.status_code == 200
    assert html.escape(article.title) in response.content.decode()


def test_with_the_database_unreachable_a_comment_with_an_expired_csrf_cookie_comes_back(article):
    """The CSRF failure page asks the database for the article: it runs inside the CSRF
    check, outside the middleware that answers 503, and the commenter got a 500."""
    reader = Client(enforce_csrf_checks=True, raise_request_exception=False)
    page = reader.get(article.get_absolute_url()).content.decode()
    reader.cookies["csrftoken"] = "expired" * 4  # not the one the form's token belongs to
    data = filled_form(page, body="Sent <b>meanwhile</b>.", csrfmiddlewaretoken="x" * 32)

    with connection.execute_wrapper(refuse_connection):
        response = reader.post(post_url(article), data)

    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_SECONDS)
    assert "Sent &lt;b&gt;meanwhile&lt;/b&gt;.</textarea>" in response.content.decode()


def test_with_the_database_unreachable_pages_answer_503_and_a_comment_comes_back(tmp_path):
    with gunicorn(
        database_url=f"postgres://newsroom@127.0.0.1:{closed_port()}/newsroom",
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        log_dir=tmp_path,
        workers=1,
    ) as server:
        reader = Reader(server.port)
        page = reader.get("/section/news/")
        # No such address: the 404 page, whose header lists the sections, read the database.
        missing = reader.get("/no-such-page/")
        sent = reader.post(
            "/comments/post/1/",
            {"csrfmiddlewaretoken": reader.form_token(), "body": "Kept <b>safe</b>, I hope."},
        )

    assert missing.status == 503, missing.text
    assert page.status == 503
    assert page.headers["Retry-After"] == "60"
    assert "reach our database just now" in page.text
    assert "Content-Security-Policy" in page.headers
    assert sent.status == 503
    assert "Kept &lt;b&gt;safe&lt;/b&gt;, I hope.</textarea>" in sent.text
    assert "Internal Server Error" not in server.errors()
