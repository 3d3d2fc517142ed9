"""A trigram index for the action log's search, on PostgreSQL only (SQLite has no such index
type, and keeps reading every entry).

The search compares each word with the object's name without its isolates, in capitals
(`ActionLogAdmin.get_search_results`, `without_isolates`): without an index PostgreSQL read
every entry twice (the count, then the page), 1.2 to 1.7 s at a million entries. pg_trgm's
GIN index on that expression, written as Django writes it, serves it for any word of three
characters or more. pg_trgm is installed by comments 0005, and stays when this is reversed.

Built CONCURRENTLY, as 0001 builds its index and for the same reason (12 s at a million
entries), by a statement that may run again: an interrupted concurrent build leaves an
invalid index, which writes keep updating and no search reads, built again here.
"""

from django.db import migrations

INDEX_NAME = "newsroom_admin_log_object_name_trgm"
# The four isolates (U+2066 to U+2069), each replaced in turn, as without_isolates() nests them.
OBJECT_NAME = "object_repr"
for isolate in "\u2066\u2067\u2068\u2069":
    OBJECT_NAME = f"REPLACE({OBJECT_NAME}, '{isolate}', '')"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX_NAME}")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY {INDEX_NAME} ON django_admin_log"
            f" USING gin ((UPPER({OBJECT_NAME})) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("newsroom", "0001_action_log_time_index"),
        ("comments", "0005_comment_search_index"),
    ]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
