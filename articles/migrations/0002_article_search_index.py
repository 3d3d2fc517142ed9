"""A GIN index for full-text search, on PostgreSQL only (SQLite has no such index type).

The expression is the one `articles.models.search_vector()` builds, written out here so
that this migration stays frozen if the model code changes; a test checks they agree.
"""

from django.db import migrations

INDEX_NAME = "article_search_idx"
DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, COALESCE(title, '')::text), 'A')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(standfirst, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(body, '')), 'C'))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON articles_article USING gin ({DOCUMENT})"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
