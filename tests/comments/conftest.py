"""Fixtures for comment tests: the smallest data that proves each point."""

import pytest
from captcha.models import CaptchaStore

from comments.captcha import refill_pool
from tests.factories import comment_form_data, make_article


@pytest.fixture
def article(db):
    return make_article()


@pytest.fixture
def captcha_pool(db):
    """A small pool of questions, as `seed_demo` / `make run` would leave."""
    refill_pool(5)
    return CaptchaStore.objects.all()


@pytest.fixture(autouse=True)
def _no_wait(settings):
    """Most tests submit at once; the timer's own tests set it back."""
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0


@pytest.fixture
def fill_form(client, captcha_pool):
    """GET the article page and return what a reader would post: the real question answered."""

    def fill(article, path=None, *, reader=None, **values):
        page = (reader or client).get(path or article.get_absolute_url())
        return comment_form_data(page.content.decode(), **values)

    return fill
