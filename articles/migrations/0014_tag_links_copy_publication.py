"""Each tag link (the table of Article.tags) holds a copy of its article's `status` and
`published_at`, kept by the database, and an index on (tag, status, published_at, article)
gives a tag's public articles newest first, so a tag's page reads them in order and stops
at the page (ArticleQuerySet.tagged), as a section's does.

Before, a tag's page joined the tag's links to the articles, kept the public ones and
sorted all of them for any page: at 100,000 articles, page 100 of a tag of 9,300 took
21 ms on PostgreSQL, its last page 52 ms.

The columns are the database's, not a field of the many-to-many: with a model of its own
for the links Django's admin drops the tags field from the article's form, and dumpdata
leaves the tags out. TagLink (articles/models.py) reads them, unmanaged.

Triggers keep the copy, so every way of writing an article or a link keeps it (the admin's
form and bulk actions, `QuerySet.update`, `bulk_create`, `tags.set`, the demo's COPY):
- a link being stored, or any change to one, takes its article's values as they are then
  (a direct write cannot put others there);
- a change of an article's status or date is copied to its links.
Scheduled articles need nothing: the copy holds the same date, and time passes for both.
On SQLite, Django rebuilds a table to alter most columns, and the rebuilt table has lost
its triggers (and, for the links, these columns). Each table's triggers name the other
table, so such a migration fails as it renames the new table ("error in trigger ...: no
such table"): it has to drop the triggers first and create them again after.
tests/test_migrations.py fails if any is left out, and so do the tests that publish,
withdraw and re-date tagged articles (tests/articles/test_tag_pages.py).

A newsroom upgrading runs this on a large archive during a deploy, so it is not atomic:
- the columns come with a default (no rewrite of the table on PostgreSQL) and the triggers
  in a moment each;
- the copy is then filled in lots of articles by id, through the trigger (each link written
  again takes its article's values, also when a concurrent edit got there first), each lot
  committed before the next (at 100,000 articles and 200,000 links, the whole migration
  took 5 s on PostgreSQL and on SQLite);
- the index is built CONCURRENTLY on PostgreSQL, without blocking writes;
- stopped halfway it runs again: the columns, triggers and index are made only if missing
  (an index left invalid by an interrupted build is built again), and the lots are written
  again.
"""

from django.db import migrations, models, transaction

LINKS = "articles_article_tags"
ARTICLES = "articles_article"
INDEX = "article_tag_public_idx"
INDEX_COLUMNS = "(tag_id, status, published_at DESC, article_id DESC)"
ARTICLES_PER_LOT = 10_000

COLUMNS = [
    ("status", "varchar(10) NOT NULL DEFAULT 'draft'"),
    ("published_at", {"postgresql": "timestamp with time zone NULL", "sqlite": "datetime NULL"}),
]

TRIGGERS = {
    "postgresql": [
        f"""
        CREATE OR REPLACE FUNCTION articles_tag_link_publication() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            SELECT status, published_at INTO NEW.status, NEW.published_at
            FROM {ARTICLES} WHERE id = NEW.article_id;
            IF NOT FOUND THEN  -- its article comes later in the transaction: not public yet
                NEW.status := 'draft';
                NEW.published_at := NULL;
            END IF;
            RETURN NEW;
        END
        $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION articles_article_publication_to_tag_links() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {LINKS} SET status = NEW.status, published_at = NEW.published_at
            WHERE article_id = NEW.id;
            RETURN NULL;
        END
        $$
        """,
        f"DROP TRIGGER IF EXISTS tag_link_publication ON {LINKS}",
        f"""
        CREATE TRIGGER tag_link_publication BEFORE INSERT OR UPDATE ON {LINKS}
        FOR EACH ROW EXECUTE FUNCTION articles_tag_link_publication()
        """,
        f"DROP TRIGGER IF EXISTS article_publication_to_tag_links ON {ARTICLES}",
        f"""
        CREATE TRIGGER article_publication_to_tag_links
        AFTER UPDATE OF status, published_at ON {ARTICLES} FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status
              OR OLD.published_at IS DISTINCT FROM NEW.published_at)
        EXECUTE FUNCTION articles_article_publication_to_tag_links()
        """,
    ],
    # SQLite's triggers cannot change the row being written, so each writes it again after,
    # unless it holds its article's values already: a trigger's own writes fire the other
    # triggers, and without that condition each link was written twice more (at 100,000
    # articles, storing 200,000 links took 17 s; 3.5 to 4.7 s with it, 0.5 s without any
    # trigger). A trigger does not fire itself again (recursive triggers are off).
    "sqlite": [
        "DROP TRIGGER IF EXISTS tag_link_stored",
        "DROP TRIGGER IF EXISTS tag_link_changed",
        "DROP TRIGGER IF EXISTS article_publication_to_tag_links",
        *(
            f"""
            CREATE TRIGGER {name} AFTER {event} ON {LINKS} FOR EACH ROW
            WHEN NOT EXISTS (
                SELECT 1 FROM {ARTICLES} WHERE id = NEW.article_id
                AND status IS NEW.status AND published_at IS NEW.published_at
            )
            BEGIN
                UPDATE {LINKS} SET
                    status = COALESCE(
                        (SELECT status FROM {ARTICLES} WHERE id = NEW.article_id), 'draft'
                    ),
                    published_at = (SELECT published_at FROM {ARTICLES} WHERE id = NEW.article_id)
                WHERE id = NEW.id;
            END
            """
            for name, event in [("tag_link_stored", "INSERT"), ("tag_link_changed", "UPDATE")]
        ),
        f"""
        CREATE TRIGGER article_publication_to_tag_links
        AFTER UPDATE OF status, published_at ON {ARTICLES} FOR EACH ROW
        WHEN OLD.status IS NOT NEW.status OR OLD.published_at IS NOT NEW.published_at
        BEGIN
            UPDATE {LINKS} SET status = NEW.status, published_at = NEW.published_at
            WHERE article_id = NEW.id;
        END
        """,
    ],
}

UNDO = {
    "postgresql": [
        f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}",
        f"DROP TRIGGER IF EXISTS article_publication_to_tag_links ON {ARTICLES}",
        f"DROP TRIGGER IF EXISTS tag_link_publication ON {LINKS}",
        "DROP FUNCTION IF EXISTS articles_article_publication_to_tag_links()",
        "DROP FUNCTION IF EXISTS articles_tag_link_publication()",
        f"ALTER TABLE {LINKS} DROP COLUMN IF EXISTS published_at",
        f"ALTER TABLE {LINKS} DROP COLUMN IF EXISTS status",
    ],
    "sqlite": [
        f"DROP INDEX IF EXISTS {INDEX}",
        "DROP TRIGGER IF EXISTS article_publication_to_tag_links",
        "DROP TRIGGER IF EXISTS tag_link_changed",
        "DROP TRIGGER IF EXISTS tag_link_stored",
        f"ALTER TABLE {LINKS} DROP COLUMN published_at",
        f"ALTER TABLE {LINKS} DROP COLUMN status",
    ],
}


def copy_publication_to_tag_links(apps, schema_editor):
    connection = schema_editor.connection
    vendor = connection.vendor
    with connection.cursor() as cursor:
        present = {
            column.name for column in connection.introspection.get_table_description(cursor, LINKS)
        }
    with transaction.atomic(using=connection.alias):
        for name, definition in COLUMNS:
            if name not in present:
                if isinstance(definition, dict):
                    definition = definition[vendor]
                schema_editor.execute(f"ALTER TABLE {LINKS} ADD COLUMN {name} {definition}")
        for statement in TRIGGERS[vendor]:
            schema_editor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(article_id), MAX(article_id) FROM {LINKS}")
        first, last = cursor.fetchone()
    for lot_start in range(first or 0, (last or 0) + 1, ARTICLES_PER_LOT):
        with transaction.atomic(using=connection.alias):
            schema_editor.execute(
                # Written again, each link takes its article's values (the trigger).
                f"UPDATE {LINKS} SET status = 'draft' WHERE article_id >= %s AND article_id < %s",
                [lot_start, lot_start + ARTICLES_PER_LOT],
            )
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [INDEX]
            )
            invalid = cursor.fetchone()
        if invalid and invalid[0]:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON {LINKS} {INDEX_COLUMNS}"
        )
        # Every link was written again: until a vacuum marks the table's pages all visible,
        # an index-only read of the links also reads the table.
        schema_editor.execute(f"VACUUM ANALYZE {LINKS}")
    else:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {LINKS} {INDEX_COLUMNS}")
        schema_editor.execute(f"ANALYZE {LINKS}")


def drop_publication_from_tag_links(apps, schema_editor):
    for statement in UNDO[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction; lots commit apart

    dependencies = [("articles", "0013_noncharacters_in_feed_text")]

    operations = [
        migrations.RunPython(
            copy_publication_to_tag_links, drop_publication_from_tag_links, elidable=False
        ),
        migrations.CreateModel(
            name="TagLink",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("status", models.CharField(max_length=10)),
                ("published_at", models.DateTimeField(null=True)),
                (
                    "article",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.DO_NOTHING,
                        related_name="+",
                        to="articles.article",
                    ),
                ),
                (
                    "tag",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.DO_NOTHING,
                        related_name="+",
                        to="articles.tag",
                    ),
                ),
            ],
            options={"db_table": LINKS, "managed": False},
        ),
    ]
