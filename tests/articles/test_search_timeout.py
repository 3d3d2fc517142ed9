"""A search the database cannot answer in SEARCH_TIMEOUT_MILLISECONDS is cancelled, and the
page says so, well before gunicorn's timeout kills the worker."""

import contextlib
import logging

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from articles.models import Article
from tests.factories import make_article, make_articles

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's statement_timeout"
)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's progress handler")

TOOK_TOO_LONG = "The search took too long. Try fewer or more specific words."
# Articles a search on SQLite reads through, its words in none of them: some 40 steps of
# SQLite's program each, so that the search calls the progress handler several times.
ARTICLES_READ_THROUGH = 200


@contextlib.contextmanager
def searches_held_up():
    """Another connection holding the table of authors, which every search reads, until the
    block ends: a search waits for it, as for a slow disk, whatever its words. The server ends
    that connection after a while, should nothing cancel the search."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute("SET idle_in_transaction_session_timeout = '20s'")
            cursor.execute("LOCK TABLE articles_author IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        other.close()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_search_that_takes_too_long_says_so_and_the_next_one_is_answered(
    client, settings, reader_cache, caplog
):
    make_article(title="Harbour board meets")
    settings.SEARCH_TIMEOUT_MILLISECONDS = 50

    with searches_held_up(), caplog.at_level(logging.WARNING, logger="articles.views"):
        held_up = client.get("/search/", {"q": "harbour"})

    assert held_up.status_code == 503
    assert TOOK_TOO_LONG in held_up.content.decode()
    assert 'value="harbour"' in held_up.content.decode()  # to change the words
    assert "no-store" in held_up["Cache-Control"]
    assert caplog.records[-1].levelname == "WARNING"
    assert "took over 50 ms" in caplog.records[-1].getMessage()
    assert "harbour" not in caplog.text  # a reader's words are theirs
    # The search's transaction rolled back, its time limit with it.
    assert Article.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("0",)
    # Neither the page cache nor the connection kept anything of it.
    answered = client.get("/search/", {"q": "harbour"})
    assert answered.status_code == 200
    assert "Harbour board meets" in answered.content.decode()
    assert TOOK_TOO_LONG not in answered.content.decode()


def read_through_every_article():
    """A query of as many steps as a search's, on the same connection."""
    return Article.objects.filter(body__contains="zyzzyva").count()


@on_sqlite
@pytest.mark.django_db
def test_a_search_sqlite_cannot_answer_in_time_says_so_and_the_next_one_is_answered(
    client, settings, reader_cache, caplog
):
    make_article(title="Harbour board meets")
    make_articles(ARTICLES_READ_THROUGH)
    # A deadline passed as the search starts: interrupted at the handler's first call, with
    # no race against the clock.
    settings.SEARCH_TIMEOUT_MILLISECONDS = 0

    with caplog.at_level(logging.WARNING, logger="articles.views"):
        cut_short = client.get("/search/", {"q": "harbour"})

    assert cut_short.status_code == 503
    assert TOOK_TOO_LONG in cut_short.content.decode()
    assert 'value="harbour"' in cut_short.content.decode()
    assert "no-store" in cut_short["Cache-Control"]
    assert caplog.records[-1].levelname == "WARNING"
    assert "took over 0 ms" in caplog.records[-1].getMessage()
    assert "harbour" not in caplog.text
    # Neither the page cache nor the connection kept anything of it.
    settings.SEARCH_TIMEOUT_MILLISECONDS = 5000
    answered = client.get("/search/", {"q": "harbour"})
    assert answered.status_code == 200
    assert "Harbour board meets" in answered.content.decode()
    assert TOOK_TOO_LONG not in answered.content.decode()


@on_sqlite
@pytest.mark.django_db
def test_queries_after_a_search_on_sqlite_run_without_its_time_limit(client, settings):
    """Django keeps the connection for the rest of the request and the next ones: what
    follows a search, answered or interrupted, has no deadline."""
    settings.SEARCH_TIMEOUT_MILLISECONDS = 0
    make_article(title="Harbour board meets")
    # One article: too few steps for SQLite to call the progress handler, so answered.
    assert client.get("/search/", {"q": "harbour"}).status_code == 200

    make_articles(ARTICLES_READ_THROUGH)
    assert read_through_every_article() == 0
    assert client.get("/search/", {"q": "harbour"}).status_code == 503
    assert read_through_every_article() == 0
