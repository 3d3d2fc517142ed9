"""The benchmark's data set: built fast, and left with the schema migrations gave it."""

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from articles import demo as articles_demo
from articles.models import Article, TagLink, public, read_search
from bench import dataset
from comments import demo as comments_demo
from comments.models import Comment
from tests.factories import make_article

TABLES = (Article, Article.tags.through, Comment)
NOW = timezone.now()
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
        assert "article_search_document" in migrated["articles_article"]["triggers"]
        assert Article.objects.search(read_search(Article.objects.get(pk=ids[0]).title)).exists()
    # and so is the tag links' copy of their articles' publication (a tag's page reads it)
    assert migrated["articles_article_tags"]["triggers"]
    links = TagLink.objects.filter(article__in=ids)
    assert links.exists()
    assert links.count() == links.filter(public()).count()
    assert Article.objects.get(pk=ids[0]).comment_count == 20
    assert Comment.objects.filter(parent__isnull=False).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes one writer")
@pytest.mark.django_db(transaction=True)
def test_articles_written_over_several_connections_are_all_stored_as_one_writer_stores_them(
    monkeypatch,
):
    monkeypatch.setattr(articles_demo, "BATCH_SIZE", 2)  # five batches for three writers
    one_writer = articles_demo.create_articles(9, seed=7, now=NOW)
    alone = list(Article.objects.filter(pk__in=one_writer).values_list("title", "slug"))
    Article.objects.all().delete()

    ids = articles_demo.create_articles(9, seed=7, now=NOW, writers=3)

    stored = Article.objects.filter(pk__in=ids)
    assert list(stored.values_list("title", "slug")) == alone
    assert all(article.tags.exists() for article in stored)
    assert Article.objects.search(read_search(stored.first().title)).exists()
    assert Article.objects.create(  # the id sequence moved past the rows written meanwhile
        title="After the load", slug="after-the-load", standfirst="", body="",
        author=stored.first().author, section=stored.first().section,
    ).pk > max(ids)  # fmt: skip


def test_comments_spread_evenly_over_every_article_whatever_the_chunks():
    ids = list(range(1, 11))

    counts = {**dataset.spread(95, ids, ids[:4]), **dataset.spread(95, ids, ids[4:])}

    assert sum(counts.values()) == 95
    assert set(counts.values()) == {9, 10}


@pytest.mark.django_db
def test_a_data_set_missing_a_migration_is_built_again(monkeypatch):
    """Reused, it would measure the schema of the release that built it."""
    monkeypatch.setitem(dataset.SCALES, "empty", (0, 0))
    monkeypatch.setattr(dataset, "special_articles", list)
    assert dataset.describe({"scale": "empty"})["complete"]

    MigrationRecorder(connection).migration_qs.filter(app="comments").latest("id").delete()

    assert not dataset.describe({"scale": "empty"})["complete"]


def stored_documents(ids):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, search_document::text FROM articles_article WHERE id = ANY(%s)", [ids]
        )
        return dict(cursor.fetchall())


def search_document_function():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef(%s::regproc)", [dataset.SEARCH_DOCUMENT_FUNCTION])
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored document is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_articles_loaded_with_body_documents_computed_once_store_what_the_trigger_stores():
    migrated = search_document_function()
    pool = [body for body, _ in articles_demo.body_pool()]
    accented = {"title": "Zürich", "standfirst": "São Paulo", "body": "Dvořák in Łódź"}

    # One body left to the trigger, and one with accents, which the demo's bodies lack.
    with dataset.body_documents_computed_once([*pool[:-1], accented["body"]]):
        ids = [*articles_demo.create_articles(60), make_article(**accented).pk]

    loaded = stored_documents(ids)
    assert len(set(Article.objects.values_list("body", flat=True))) > 1
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_article SET search_document = NULL")  # recomputed
    assert stored_documents(ids) == loaded
    assert search_document_function() == migrated
    assert "bench_body_part" not in connection.introspection.table_names()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored document is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_body_part_of_a_pooled_body_is_read_from_the_table_not_computed():
    body = articles_demo.body_pool()[0][0]
    with dataset.body_documents_computed_once([body]):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE bench_body_part SET part = 'looked:1'")
        ids = articles_demo.create_articles(20)

    pooled = Article.objects.filter(pk__in=ids, body=body).values_list("pk", flat=True)
    documents = stored_documents(ids)
    assert pooled
    assert all("'looked'" in documents[pk] for pk in pooled)
    assert not any("'looked'" in documents[pk] for pk in set(ids) - set(pooled))
