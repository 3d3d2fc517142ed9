"""The benchmark database, built with the project's own demo generators.

Run by bench/run.py as `python -m bench.dataset COMMAND` with the benchmark's environment
(its DATABASE_URL points at the bench database, never the development one):

- `build`: migrate, then the scale's articles and approved comments, the hot article with
  its threaded comments, the growth articles, a captcha pool; returns timings per step.
- `describe`: whether the database already holds a complete data set of that scale.
- `versions`: what the report needs to say about the software under test.
"""

import json
import os
import sqlite3
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from bench import django_setup  # noqa: F401

# isort: split
import django
import gunicorn
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from articles import demo as articles_demo
from articles.models import Article
from bench.scenario import GROWTH_SIZES, HOT_COMMENTS, HOT_SLUG, SCALES, growth_slug
from comments import demo as comments_demo
from comments.captcha import refill_pool
from comments.models import Comment

# Keep each `pk__in` list well under SQLite's limit on query parameters.
ARTICLES_PER_CALL = 5_000
SQLITE_BUILD_CACHE_KIB = 512_000
POSTGRESQL_INDEX_BUILD_MEMORY = "512MB"
INDEX_DEFINITION = {
    "postgresql": "SELECT indexdef FROM pg_indexes"
    " WHERE schemaname = current_schema() AND indexname = %s",
    "sqlite": "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s",
}
SEARCH_DOCUMENT_FUNCTION = "articles_article_search_document"
# The trigger's function (migration 0011's), but a body whose part is in the table is not
# parsed again.
SEARCH_DOCUMENT_WITH_BODY_PARTS = """
CREATE OR REPLACE FUNCTION articles_article_search_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_document :=
        setweight(to_tsvector('english_unaccent'::regconfig, COALESCE(NEW.title, '')), 'A')
        || setweight(to_tsvector('english_unaccent'::regconfig, COALESCE(NEW.standfirst, '')), 'B')
        || COALESCE(
            (SELECT part FROM bench_body_part WHERE digest = md5(NEW.body)),
            setweight(to_tsvector('english_unaccent'::regconfig, COALESCE(NEW.body, '')), 'C')
        );
    RETURN NEW;
END
$$
"""
CREATE_BODY_PARTS = (
    "CREATE UNLOGGED TABLE bench_body_part (digest text PRIMARY KEY, part tsvector NOT NULL)"
)
ADD_BODY_PART = (
    "INSERT INTO bench_body_part"
    " VALUES (md5(%(body)s),"
    " setweight(to_tsvector('english_unaccent'::regconfig, %(body)s), 'C'))"
    " ON CONFLICT DO NOTHING"
)
FOREIGN_KEY_DEFINITION = (
    "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE conrelid = %s::regclass AND conname = %s"
)


def spread(total, ids, chunk):
    """This chunk's share of `total` comments spread evenly over all `ids`, as {id: count}."""
    each, extra = divmod(total, len(ids))
    first = ids.index(chunk[0])
    return {pk: each + (first + offset < extra) for offset, pk in enumerate(chunk)}


def special_articles():
    """Slug and number of threaded comments of each article the benchmark reads by name."""
    return [(HOT_SLUG, HOT_COMMENTS)] + [(growth_slug(size), size) for size in GROWTH_SIZES]


def fill_fast():
    """A throwaway database: trade durability for speed while the generators fill it.

    SQLite's default page cache (2 MB) makes every index insert of a million-row table a
    read from the operating system; with the indexes in memory the same inserts take a
    third of the CPU.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_BUILD_CACHE_KIB}")
        elif connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO off")
            cursor.execute("SET maintenance_work_mem TO %s", [POSTGRESQL_INDEX_BUILD_MEMORY])


def deferrable(cursor, model):
    """(drop, create) statements for what the model's table can do without while it fills.

    Its secondary indexes, and on PostgreSQL its foreign keys (checked one row at a time
    as rows arrive; added back, they are checked in one join). Primary keys, unique and
    check constraints stay, and so do triggers: the one that keeps the search document
    (migrations 0003 and 0011) fills it as COPY writes each article. Definitions come from the
    database's own catalog, so the full-text GIN index and the names Django chose come
    back unchanged.
    """
    table, quote = model._meta.db_table, connection.ops.quote_name
    statements = []
    for name, details in connection.introspection.get_constraints(cursor, table).items():
        if details["index"] and not details["unique"]:
            cursor.execute(INDEX_DEFINITION[connection.vendor], [name])
            statements.append((f"DROP INDEX {quote(name)}", cursor.fetchone()[0]))
        elif details["foreign_key"] and connection.vendor == "postgresql":
            cursor.execute(FOREIGN_KEY_DEFINITION, [table, name])
            alter = f"ALTER TABLE {quote(table)}"
            statements.append(
                (
                    f"{alter} DROP CONSTRAINT {quote(name)}",
                    f"{alter} ADD CONSTRAINT {quote(name)} {cursor.fetchone()[0]}",
                )
            )
    return statements


@contextmanager
def built_afterwards(*models):
    """Drop the models' indexes and foreign keys (see `deferrable`) while the tables fill.

    Each comment row otherwise updates seven indexes, mostly at random places, and on
    PostgreSQL each article the GIN index of its search document: building every index
    once from the finished table sorts instead, and PostgreSQL builds several at once.
    Only for this throwaway database.
    """
    with connection.cursor() as cursor:
        statements = [pair for model in models for pair in deferrable(cursor, model)]
        for drop, _ in statements:
            cursor.execute(drop)
    yield
    with ThreadPoolExecutor(max_workers=connections_at_once()) as pool:
        list(pool.map(execute_on_own_connection, [create for _, create in statements]))


@contextmanager
def body_documents_computed_once(bodies):
    """On PostgreSQL, while the articles load, the body part of their search documents is
    computed once per body of `bodies` (the demo's pool, which every body is drawn from),
    not once per article.

    The search document's trigger parses every stored body with `to_tsvector`: 0.4 ms of CPU
    each, more than half of loading 100,000 articles (42 s, 19 s without). Meanwhile its
    function is one that builds the same document with a pooled body's part read from a
    table; afterwards it is put back as the catalog had it. Only for this throwaway database.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef(%s::regproc)", [SEARCH_DOCUMENT_FUNCTION])
        original = cursor.fetchone()[0]
        cursor.execute(CREATE_BODY_PARTS)
        cursor.executemany(ADD_BODY_PART, [{"body": body} for body in bodies])
        cursor.execute(SEARCH_DOCUMENT_WITH_BODY_PARTS)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(original)
            cursor.execute("DROP TABLE bench_body_part")


def connections_at_once():
    """One connection per core on PostgreSQL; SQLite takes one writer at a time."""
    return os.cpu_count() if connection.vendor == "postgresql" else 1


def execute_on_own_connection(statement):
    """Run from a worker thread: PostgreSQL builds the GIN index on one core, the rest beside."""
    try:
        fill_fast()
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def build(request):
    articles, comments = SCALES[request["scale"]]
    steps = {}
    started = last = time.monotonic()

    def step(name):
        nonlocal last
        now = time.monotonic()
        steps[name] = round(now - last, 1)
        last = now

    call_command("migrate", verbosity=0)
    step("migrate")
    fill_fast()

    now = timezone.now()
    specials = special_articles()
    ordinary = articles - len(specials)
    with built_afterwards(Article, Article.tags.through, Comment):
        # PostgreSQL computes each article's search document as it stores it: over one
        # connection per core, the articles load on every core.
        with body_documents_computed_once(body for body, _ in articles_demo.body_pool()):
            ids = articles_demo.create_articles(
                ordinary, now=now - timedelta(hours=1), writers=connections_at_once()
            )
        step("articles")

        for number, start in enumerate(range(0, len(ids), ARTICLES_PER_CALL)):
            chunk = ids[start : start + ARTICLES_PER_CALL]
            comments_demo.create_comments(spread(comments, ids, chunk), seed=number)
        step("comments")

        # The special articles are the newest, so the hot one leads the home page as it would.
        special_ids = articles_demo.create_articles(
            len(specials), now=now - timedelta(minutes=30), seed=articles
        )
        for article_id, (slug, size) in zip(special_ids, specials, strict=True):
            Article.objects.filter(pk=article_id).update(slug=slug)
            if size:
                comments_demo.create_comments({article_id: size}, now=now)
        step("hot and growth articles")
    step("indexes and foreign keys")

    refill_pool()
    step("captcha pool")

    # On PostgreSQL also VACUUM: keeping comment counts up to date left a dead version of
    # every article row, and autovacuum cleaning them up mid-run skews the measurements.
    articles_demo.analyze_tables(vacuum=True)
    step("vacuum and analyze")
    return {"seconds": round(time.monotonic() - started, 1), "steps": steps}


def describe(request):
    """Complete: every migration applied (a data set built by an older release would measure
    an older schema), the scale's article count, its comments, and every special article's
    thread."""
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return {"complete": False, "threads": {}}
    articles, comments = SCALES[request["scale"]]
    threads = dict(
        Article.objects.filter(slug__in=[slug for slug, _ in special_articles()]).values_list(
            "slug", "comment_count"
        )
    )
    complete = (
        Article.objects.count() == articles
        and Comment.objects.approved().count() >= comments
        and threads == dict(special_articles())
    )
    return {"complete": complete, "threads": threads}


def versions(_request):
    """Versions of what runs under the benchmark, to print beside the numbers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            database = f"SQLite {sqlite3.sqlite_version}"
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    if cache == "RedisCache":
        from django.core.cache import cache as redis_cache

        info = redis_cache._cache.get_client().info("server")
        cache = f"Redis {info['redis_version']}"
    return {
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "database": database,
        "cache": cache,
    }


COMMANDS = {"build": build, "describe": describe, "versions": versions}

if __name__ == "__main__":
    answer = COMMANDS[sys.argv[1]](json.load(sys.stdin))
    json.dump(answer, sys.stdout)
