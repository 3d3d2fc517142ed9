"""A double click: the same form sent twice at the same instant, by two requests running
side by side on their own database connections. The comment is stored once; the other
request gets the form back with the text, never a second copy or a server error."""

import html
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from comments.captcha import EXPIRED_QUESTION, refill_pool
from comments.models import Comment
from tests.factories import captcha_answer, form_values, make_article, post_url

CLICKS = 5


@pytest.fixture
def article(committed_db, settings):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    settings.COMMENTS_FLOOD_LIMIT = CLICKS
    refill_pool(CLICKS)
    return make_article()


def send_twice_at_once(article, data, cookies):
    lined_up = threading.Barrier(2, timeout=30)

    def click(_):
        browser = Client()
        browser.cookies = cookies
        try:
            lined_up.wait()
            return browser.post(post_url(article), data)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(click, range(2)))


def test_a_double_click_stores_the_comment_once(article):
    for number in range(CLICKS):
        reader = Client()
        page = reader.get(article.get_absolute_url()).content.decode()
        key = form_values(page, "captcha_0")
        body = f"Clicked twice, number {number}."
        data = {
            "name": "Quick Finger",
            "email": f"quick{number}@example.com",
            "body": body,
            "captcha_0": key,
            "captcha_1": captcha_answer(key),
            "started": form_values(page, "started"),
        }

        responses = send_twice_at_once(article, data, reader.cookies)

        assert sorted(response.status_code for response in responses) == [303, 400]
        refused = next(r for r in responses if r.status_code == 400).content.decode()
        assert html.escape(EXPIRED_QUESTION) in refused
        assert f"{body}</textarea>" in refused
        assert Comment.objects.filter(body=body).count() == 1
