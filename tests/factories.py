"""The smallest objects a test needs, with overrides for what the test is about.

Every function creates (and returns) saved rows; names and slugs are unique per call.
"""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from articles.models import Article, Author, Section, Tag

PASSWORD = "a-test-password"
_numbers = itertools.count(1)


def make_section(**overrides):
    number = next(_numbers)
    fields = {"name": f"Section {number}", "slug": f"section-{number}", "order": number}
    return Section.objects.create(**{**fields, **overrides})


def make_tag(**overrides):
    number = next(_numbers)
    fields = {"name": f"Tag {number}", "slug": f"tag-{number}"}
    return Tag.objects.create(**{**fields, **overrides})


def make_author(**overrides):
    number = next(_numbers)
    fields = {"display_name": f"Author {number}", "slug": f"author-{number}", "bio": ""}
    return Author.objects.create(**{**fields, **overrides})


def make_article(*, tags=(), **overrides):
    """A published article, live since an hour ago, unless the overrides say otherwise."""
    number = next(_numbers)
    fields = {
        "title": f"Article number {number}",
        "slug": f"article-{number}",
        "standfirst": f"Summary of article {number}.",
        "body": f"Body of article {number}.\n\nA second paragraph.",
        "status": Article.Status.PUBLISHED,
        "published_at": timezone.now() - timedelta(hours=1, minutes=number),
    }
    fields.update(overrides)
    if "section" not in fields:
        fields["section"] = make_section()
    if "author" not in fields:
        fields["author"] = make_author()
    article = Article.objects.create(**fields)
    if tags:
        article.tags.set(tags)
    return article


def make_draft(**overrides):
    return make_article(**{"status": Article.Status.DRAFT, "published_at": None, **overrides})


def make_scheduled(**overrides):
    return make_article(**{"published_at": timezone.now() + timedelta(days=1), **overrides})


def make_user(username=None, *, staff=False, superuser=False, password=PASSWORD):
    username = username or f"user{next(_numbers)}"
    return get_user_model().objects.create_user(
        username,
        email=f"{username}@newsroom.test",
        password=password,
        is_staff=staff or superuser,
        is_superuser=superuser,
    )
