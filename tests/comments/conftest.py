"""Fixtures for comment tests: the smallest data that proves each point."""

import itertools

import pytest
from captcha.models import CaptchaStore
from django.utils import timezone

from articles.models import Article, Author, Section
from comments.captcha import refill_pool
from comments.models import Comment

_numbers = itertools.count(1)


def make_article(**fields):
    number = next(_numbers)
    section, _ = Section.objects.get_or_create(slug="news", defaults={"name": "News"})
    author, _ = Author.objects.get_or_create(slug="ada", defaults={"display_name": "Ada Reporter"})
    defaults = {
        "title": f"Article {number}",
        "slug": f"article-{number}",
        "standfirst": "What happened.",
        "body": "The story.",
        "author": author,
        "section": section,
        "status": Article.Status.PUBLISHED,
        "published_at": timezone.now() - timezone.timedelta(hours=1),
    }
    return Article.objects.create(**{**defaults, **fields})


def make_comment(article, **fields):
    number = next(_numbers)
    defaults = {
        "name": f"Reader {number}",
        "email": f"reader{number}@example.com",
        "body": f"Comment number {number}.",
        "status": Comment.Status.APPROVED,
    }
    return Comment.objects.create(article=article, **{**defaults, **fields})


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
