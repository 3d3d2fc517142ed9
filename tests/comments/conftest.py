"""Fixtures for comment tests: the smallest data that proves each point."""

import itertools
import re

import pytest
from captcha.models import CaptchaStore
from django.urls import reverse
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


def form_values(html, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    return match.group(1) if match else ""


@pytest.fixture
def fill_form(client, captcha_pool):
    """GET the article page and return what a reader would post: the real question answered."""

    def fill(article, path=None, *, reader=None, **values):
        reader = reader or client
        html = reader.get(path or article.get_absolute_url()).content.decode()
        key = form_values(html, "captcha_0")
        data = {
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "url": "",
            "body": "A thoughtful comment.",
            "captcha_0": key,
            "captcha_1": CaptchaStore.objects.get(hashkey=key).response,
            "started": form_values(html, "started"),
            "parent": form_values(html, "parent"),
            "phone": "",
        }
        data.update(values)
        return data

    return fill


def post_url(article):
    return reverse("comments:post", args=[article.pk])
