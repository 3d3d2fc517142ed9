"""Many readers commenting at once, against gunicorn with several worker processes.

Nothing a reader sends is lost or stored twice, nobody gets a server error, and the flood
limit holds exactly even though the requests land on different processes.
"""

import html
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

from comments.captcha import EXPIRED_QUESTION, refill_pool
from comments.models import Comment
from comments.moderation import FLOODED
from tests.factories import make_article

from .server import Reader, filled_form, gunicorn

READERS = 20
COMMENTS_EACH = 10
FLOOD_LIMIT = COMMENTS_EACH  # every reader sends exactly as many as the limit allows
# A question shown to two readers at once can be answered by one of them only; the other
# gets a new question with their text kept, and answers that.
MAX_TRIES = 5
# Each test stops by itself after this long (a quiet machine needs a fraction of it).
TEST_SECONDS = 150


@pytest.fixture
def article(database_url):
    refill_pool(300)
    return make_article(title="Everyone has an opinion")


@pytest.fixture
def server(database_url, tmp_path):
    with gunicorn(
        database_url=database_url,
        redis_url=settings.REDIS_URL,
        log_dir=tmp_path,
        workers=4,
        COMMENTS_MIN_SUBMIT_SECONDS="0",
        COMMENTS_FLOOD_LIMIT=str(FLOOD_LIMIT),
        # Our readers come "through the proxy", each from an address of their own.
        DJANGO_BEHIND_PROXY="1",
    ) as running:
        yield running
    assert "Traceback" not in running.errors()
    assert "WORKER TIMEOUT" not in running.errors()


def send(reader, article, page, typed, statuses):
    """Post `typed` from `page` as a person would, answering a new question if need be."""
    path = f"/comments/post/{article.pk}/"
    for _ in range(MAX_TRIES):
        response = reader.post(path, filled_form(reader, page, **typed))
        statuses.append(response.status)
        if response.status == 400 and html.escape(EXPIRED_QUESTION) in response.text:
            page = response.text
            continue
        return response
    return response


def run_readers(count, work):
    """`work(number)` in `count` threads at once; each closes its database connection."""

    def run(number):
        try:
            return work(number)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_200_comments_from_20_readers_at_once_are_each_stored_exactly_once(server, article):
    statuses = []
    deadline = time.monotonic() + TEST_SECONDS

    def reader_session(number):
        reader = Reader(server.port, address=f"198.51.100.{number + 1}", deadline=deadline)
        sent = []
        for index in range(COMMENTS_EACH):
            page = reader.get(article.get_absolute_url())
            statuses.append(page.status)
            typed = {
                "name": f"Reader {number}",
                "email": f"reader{number}@example.com",
                "body": f"Reader {number}, comment {index}: “quoted” <b>bold</b> & ünïcode.",
            }
            sent.append((reader.address, typed, send(reader, article, page.text, typed, statuses)))
        return sent

    sent = [item for session in run_readers(READERS, reader_session) for item in session]

    assert not [status for status in statuses if status >= 500]
    assert Counter(response.status for _, _, response in sent) == {303: READERS * COMMENTS_EACH}
    answered_ids = {
        int(re.search(r"#comment-(\d+)$", response.headers["Location"]).group(1))
        for _, _, response in sent
    }
    stored = {
        comment.pk: comment for comment in Comment.objects.filter(article=article).order_by("pk")
    }
    assert set(stored) == answered_ids
    assert len(stored) == READERS * COMMENTS_EACH
    assert Counter(comment.body for comment in stored.values()) == Counter(
        typed["body"] for _, typed, _ in sent
    )
    assert Counter((c.ip_address, c.email, c.status) for c in stored.values()) == Counter(
        (address, typed["email"], Comment.Status.PENDING) for address, typed, _ in sent
    )


def test_the_flood_limit_holds_exactly_across_worker_processes(server, article):
    """At the same instant, 15 comments from one address (each with its own email) and 15
    with one email (each from its own address): for each, the limit's worth pass, no more.
    The address's beyond it are refused; the email's are answered as any comment (a refusal
    would tell whoever typed it that the email commented) and held as spam."""
    per_group = FLOOD_LIMIT + 5
    deadline = time.monotonic() + TEST_SECONDS
    lined_up = threading.Barrier(2 * per_group, timeout=TEST_SECONDS)
    statuses = []

    def flood(number):
        same_address = number < per_group
        reader = Reader(
            server.port,
            address="203.0.113.7" if same_address else f"192.0.2.{number}",
            deadline=deadline,
        )
        page = reader.get(article.get_absolute_url()).text
        typed = {
            "name": f"Flooder {number}",
            "email": f"flooder{number}@example.com" if same_address else "same@example.com",
            "body": f"Flood comment {number}.",
        }
        lined_up.wait()
        return same_address, typed, send(reader, article, page, typed, statuses)

    results = run_readers(2 * per_group, flood)

    assert not [status for status in statuses if status >= 500]
    assert Counter((group, response.status) for group, _, response in results) == {
        (True, 303): FLOOD_LIMIT,
        (True, 429): per_group - FLOOD_LIMIT,
        (False, 303): per_group,
    }
    assert Comment.objects.filter(ip_address="203.0.113.7").count() == FLOOD_LIMIT
    assert Counter(
        Comment.objects.filter(email="same@example.com").values_list("status", flat=True)
    ) == {Comment.Status.PENDING: FLOOD_LIMIT, Comment.Status.SPAM: per_group - FLOOD_LIMIT}
    for _, typed, response in results:
        if response.status == 429:
            assert html.escape(FLOODED.format(wait="10 minutes")) in response.text
            assert f"{typed['body']}</textarea>" in response.text
