"""Fixtures for comment tests: the smallest data that proves each point."""

import logging
import signal

import pytest
from captcha.models import CaptchaStore
from django.core.management import call_command

from comments import services
from comments.captcha import refill_pool
from comments.models import Comment
from tests.factories import comment_form_data, make_article, make_comment


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


@pytest.fixture
def past_the_request(monkeypatch):
    """Pending comments, each under an article of its own, more than a request decides itself:
    the threshold lowered to 3, as 40,000 comments would pass the real one."""
    monkeypatch.setattr(services, "DECIDED_IN_THE_REQUEST", 3)

    def pending(count):
        return [make_comment(make_article(), status=Comment.Status.PENDING) for _ in range(count)]

    return pending


# The database queue, as the README tells operators to run it (TASKS_BACKEND).
TASK_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queued(settings):
    settings.TASKS = TASK_QUEUE


@pytest.fixture
def run_worker():
    """`db_worker --batch`: runs what is queued, then returns. The command sets its own
    signal handlers and log levels for a process of its own; this one gets its back."""
    handlers = {
        number: signal.getsignal(number)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGALRM)
    }
    loggers = [logging.getLogger(name) for name in ("django.tasks", "django_tasks_db")]
    levels = [(logger, logger.level, list(logger.handlers)) for logger in loggers]

    def run(verbosity=0, **options):
        call_command(
            "db_worker", batch=True, interval=0, startup_delay=False, verbosity=verbosity, **options
        )

    yield run
    for number, handler in handlers.items():
        signal.signal(number, handler)
    for logger, level, logger_handlers in levels:
        logger.setLevel(level)
        logger.handlers[:] = logger_handlers
