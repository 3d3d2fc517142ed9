"""A stored full-text document on PostgreSQL, so searches stop computing one per row.

Migration 0002 indexed an expression: the index finds matching rows, but ordering them by
date and ranking them computed `to_tsvector` over each candidate's body again (~111 ms for
a common word at 100,000 articles). Here PostgreSQL keeps the same document in a column,
`search_document`, through a trigger, and the GIN index covers the column instead.

The model does not declare the column (see `ArticleQuerySet.search`): it exists only on
PostgreSQL, and as a field Django would load its ~2 KB per article on every page that reads
articles. SQLite's schema is unchanged.

The trigger fires on inserts (COPY included) and on updates that name the text columns or
the document itself, so an edit refreshes it, a direct write cannot replace it, and the
frequent `comment_count` updates cost nothing extra. (A stored generated column would be
recomputed on every update of the row, comment counts included, on PostgreSQL 15.)
The backfill goes through the trigger, so the document is written down once, here.

Written out in full rather than imported, so this migration stays frozen if the model
changes; tests check that the stored document is the one `search` expects.
"""

from django.db import migrations

TABLE = "articles_article"
COLUMN = "search_document"
FUNCTION = "articles_article_search_document"
TRIGGER = "article_search_document"
INDEX = "article_search_document_idx"
EXPRESSION_INDEX = "article_search_idx"  # migration 0002's, restored when going back
EXPRESSION_DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, COALESCE(title, '')::text), 'A')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(standfirst, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(body, '')), 'C'))"
)

FORWARD = [
    f"ALTER TABLE {TABLE} ADD COLUMN {COLUMN} tsvector",
    f"""
    CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.{COLUMN} :=
            setweight(to_tsvector('english'::regconfig, COALESCE(NEW.title, '')), 'A')
            || setweight(to_tsvector('english'::regconfig, COALESCE(NEW.standfirst, '')), 'B')
            || setweight(to_tsvector('english'::regconfig, COALESCE(NEW.body, '')), 'C');
        RETURN NEW;
    END
    $$
    """,
    f"""
    CREATE TRIGGER {TRIGGER}
    BEFORE INSERT OR UPDATE OF title, standfirst, body, {COLUMN} ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()
    """,
    f"UPDATE {TABLE} SET {COLUMN} = NULL",  # the trigger fills it in
    f"ALTER TABLE {TABLE} ALTER COLUMN {COLUMN} SET NOT NULL",
    f"DROP INDEX IF EXISTS {EXPRESSION_INDEX}",
    f"CREATE INDEX {INDEX} ON {TABLE} USING gin ({COLUMN})",
    # Without statistics on the new column the planner guesses 500 matches for any word,
    # and at 100,000 articles a common word then costs 200 ms instead of 3 ms.
    f"ANALYZE {TABLE}",
]

BACKWARD = [
    f"DROP INDEX IF EXISTS {INDEX}",
    f"CREATE INDEX IF NOT EXISTS {EXPRESSION_INDEX} ON {TABLE} USING gin ({EXPRESSION_DOCUMENT})",
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {FUNCTION}()",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS {COLUMN}",
]


def run_on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("articles", "0002_article_search_index")]

    operations = [
        migrations.RunPython(
            run_on_postgresql(FORWARD), run_on_postgresql(BACKWARD), elidable=False
        )
    ]
