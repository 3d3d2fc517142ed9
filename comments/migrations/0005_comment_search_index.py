"""A trigram index for the moderators' free-text search, on PostgreSQL only (SQLite has no
such index type, and keeps reading every comment).

The admin's search is `icontains` on every field in `CommentAdmin.search_fields`; without
an index PostgreSQL reads every comment twice (the count, then the page): 1.2 to 2.4 s at a
million comments. pg_trgm's GIN index serves each of those comparisons, as Django writes
them (UPPER of each column, HOST of the address), for any search word of three characters
or more. It is built CONCURRENTLY, so comments keep arriving while it builds (45 s at a
million), which a transaction cannot hold.

Reversed, it drops the index and leaves the pg_trgm extension installed: someone else may
have installed it, other tables may use it (PostgreSQL then refuses to drop it, and the
reverse stopped halfway), and it costs nothing unused.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX_NAME = "comment_search_idx"
EXPRESSIONS = (
    "UPPER(name) gin_trgm_ops",
    "UPPER(email) gin_trgm_ops",
    "UPPER(body) gin_trgm_ops",
    "UPPER(HOST(ip_address)) gin_trgm_ops",
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # A concurrent build that was interrupted leaves an invalid index behind, which
        # every write still updates and no search reads: build it again, never keep it.
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX_NAME}")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY {INDEX_NAME} ON comments_comment"
            f" USING gin ({', '.join(EXPRESSIONS)})"
        )


class InstallTrigramExtension(TrigramExtension):
    """pg_trgm, installed if missing and never dropped (see above)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("comments", "0004_flood_control_index")]

    operations = [
        InstallTrigramExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
