"""The benchmark's data set: built fast, and left with the schema migrations gave it."""

import pytest
from django.db import connection

from articles import demo as articles_demo
from articles.models import Article
from bench import dataset
from comments import demo as comments_demo
from comments.models import Comment

TABLES = (Article, Article.tags.through, Comment)
TRIGGERS = {
    "postgresql": "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
    " WHERE tgrelid = %s::regclass AND NOT tgisinternal",
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
}


def schema():
    """Each table's indexes and constraints (Django's introspection) and triggers."""
    with connection.cursor() as cursor:
        tables = {}
        for model in TABLES:
            table = model._meta.db_table
            cursor.execute(TRIGGERS[connection.vendor], [table])
            triggers = dict(cursor.fetchall())
            constraints = connection.introspection.get_constraints(cursor, table)
            tables[table] = {"constraints": constraints, "triggers": triggers}
        return tables


@pytest.mark.django_db(transaction=True)
def test_bulk_load_puts_back_every_index_and_foreign_key():
    migrated = schema()

    with dataset.built_afterwards(*TABLES):
        while_loading = schema()
        ids = articles_demo.create_articles(5)
        comments_demo.create_comments({ids[0]: 20, ids[1]: 3})

    assert schema() == migrated
    assert while_loading != migrated
    if connection.vendor == "postgresql":  # the search document is kept during the load too
        assert migrated["articles_article"]["triggers"].keys() == {"article_search_document"}
        assert Article.objects.search(Article.objects.get(pk=ids[0]).title).exists()
    assert Article.objects.get(pk=ids[0]).comment_count == 20
    assert Comment.objects.filter(parent__isnull=False).exists()


def test_comments_spread_evenly_over_every_article_whatever_the_chunks():
    ids = list(range(1, 11))

    counts = {**dataset.spread(95, ids, ids[:4]), **dataset.spread(95, ids, ids[4:])}

    assert sum(counts.values()) == 95
    assert set(counts.values()) == {9, 10}
