"""The same comment sent twice at the same instant, by two requests running side by side on
their own database connections: a double click (one form, one question) or two tabs (two
questions). The comment is stored once and the other send is told "You have already said
that", with the text, never a second copy or a server error; two readers' identical words
are both taken.

SQLite is not raced here: its transactions begin IMMEDIATE, one writer at a time, so the
second send's duplicate check reads after the first's commit (tests/comments/test_submit.py
sends the copies one after the other)."""

import html
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from captcha.models import CaptchaStore
from django.db import connection, transaction
from django.test import Client

from comments.captcha import refill_pool
from comments.models import Comment
from comments.moderation import DUPLICATE
from tests.factories import captcha_answer, form_values, make_article, post_url
from tests.lock_waits import connections_waiting_for_a_lock

CLICKS = 5
WAIT_SECONDS = 30


@pytest.fixture
def article(committed_db, settings):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    settings.COMMENTS_FLOOD_LIMIT = CLICKS
    refill_pool(CLICKS)
    return make_article()


def send_at_once(article, sends, cookies):
    lined_up = threading.Barrier(len(sends), timeout=WAIT_SECONDS)

    def send(data):
        browser = Client()
        browser.cookies = cookies
        try:
            lined_up.wait()
            return browser.post(post_url(article), data)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        return list(pool.map(send, sends))


def send_at_once_held_at_the_insert(article, sends, cookies):
    """Send each form in a thread of its own while a third connection keeps comments from
    being inserted, and let the inserts go only once both sends wait on a lock: each has
    done everything it does before its insert (the duplicate check included) that it may
    do while the other has not committed. Without waiting, a race would be a matter of
    luck; this is its worst case, every time."""
    holding = threading.Event()
    released = threading.Event()

    def hold_the_comments_table():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {Comment._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
                holding.set()
                deadline = time.monotonic() + WAIT_SECONDS
                while connections_waiting_for_a_lock() < len(sends):
                    assert time.monotonic() < deadline, "the sends never waited on a lock"
                    time.sleep(0.01)
        finally:
            released.set()
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as holder:
        held = holder.submit(hold_the_comments_table)
        holding.wait(WAIT_SECONDS)
        responses = send_at_once(article, sends, cookies)
        held.result()
    return responses


def form_data(page, *, key, body, email):
    return {
        "name": "Quick Finger",
        "email": email,
        "body": body,
        "captcha_0": key,
        "captcha_1": captcha_answer(key),
        "started": form_values(page, "started"),
    }


def assert_refused_as_a_duplicate(responses, body):
    assert sorted(response.status_code for response in responses) == [303, 400]
    refused = next(r for r in responses if r.status_code == 400).content.decode()
    assert html.escape(DUPLICATE) in refused
    assert f"{body}</textarea>" in refused
    assert Comment.objects.filter(body=body).count() == 1


def test_a_double_click_stores_the_comment_once_and_says_so(article):
    for number in range(CLICKS):
        reader = Client()
        page = reader.get(article.get_absolute_url()).content.decode()
        body = f"Clicked twice, number {number}."
        data = form_data(
            page, key=form_values(page, "captcha_0"), body=body, email=f"q{number}@example.com"
        )

        responses = send_at_once(article, [data, data], reader.cookies)

        assert_refused_as_a_duplicate(responses, body)


def test_the_same_comment_sent_from_two_tabs_at_once_is_stored_once(article):
    reader = Client()
    page = reader.get(article.get_absolute_url()).content.decode()
    first_tab, second_tab = CaptchaStore.objects.values_list("hashkey", flat=True)[:2]
    body = "Sent from two tabs."

    responses = send_at_once_held_at_the_insert(
        article,
        [
            form_data(page, key=key, body=body, email="tabs@example.com")
            for key in (first_tab, second_tab)
        ],
        reader.cookies,
    )

    assert_refused_as_a_duplicate(responses, body)


def test_two_readers_thanks_sent_at_once_are_both_stored(article):
    reader = Client()
    page = reader.get(article.get_absolute_url()).content.decode()
    keys = CaptchaStore.objects.values_list("hashkey", flat=True)[:2]

    responses = send_at_once_held_at_the_insert(
        article,
        [
            form_data(page, key=key, body="Thanks!", email=email)
            for key, email in zip(keys, ["ada@example.com", "grace@example.com"], strict=True)
        ],
        reader.cookies,
    )

    assert [response.status_code for response in responses] == [303, 303]
    assert Comment.objects.filter(body="Thanks!").count() == 2
