"""The benchmark's data set: built fast, and left with the schema migrations gave it."""

import pytest
from django.db import connection

from articles import demo as articles_demo
from articles.models import Article
from bench import dataset
from comments import demo as comments_demo
from comments.models import Comment

TABLES = (Article, Article.tags.through, Comment)


def schema():
    with connection.cursor() as cursor:
        return {
            model._meta.db_table: connection.introspection.get_constraints(
                cursor, model._meta.db_table
            )
            for model in TABLES
        }


@pytest.mark.django_db(transaction=True)
def test_bulk_load_puts_back_every_index_and_foreign_key():
    migrated = schema()

    with dataset.built_afterwards(*TABLES):
        while_loading = schema()
        ids = articles_demo.create_articles(5)
        comments_demo.create_comments({ids[0]: 20, ids[1]: 3})

    assert schema() == migrated
    assert while_loading != migrated
    assert Article.objects.get(pk=ids[0]).comment_count == 20
    assert Comment.objects.filter(parent__isnull=False).exists()


def test_comments_spread_evenly_over_every_article_whatever_the_chunks():
    ids = list(range(1, 11))

    counts = {**dataset.spread(95, ids, ids[:4]), **dataset.spread(95, ids, ids[4:])}

    assert sum(counts.values()) == 95
    assert set(counts.values()) == {9, 10}
