"""Each commenter's unsubscribe key (Comment.unsubscribe_key), one per address: the comments
already stored get theirs here, so that a link emailed from now on keeps working for a
commenter whose comments came before it. One random key per address, in any letter case
(as CommentQuerySet.by_email matches them); erased comments (no address) get none.
Reversed, the column goes with its keys.

A newsroom upgrading runs this on a million comments during a deploy, so:
- It is set-based: one statement draws every address's key, and one UPDATE writes each lot
  of comments (by id), each lot committed before the next. At a million comments from
  300,000 addresses, one UPDATE per address took 24 minutes on PostgreSQL (4.5 on SQLite);
  the lots take 7 minutes (47 s), most of it PostgreSQL rewriting each row and its index
  entries.
- It is not atomic. In one transaction, adding the column locked the whole table, reads
  included, until every key was written and the index built: every page that shows
  comments, and the moderators' list, waited that long. Here that lock lasts an instant;
  each lot holds only its own comments (a moderator's decision on one waits for the lot;
  on SQLite, a comment being posted waits for it, up to 20 s); and on PostgreSQL the index
  is built CONCURRENTLY, without blocking writes.
- Stopped halfway (a deploy cut short), it runs again: the column is added only if missing,
  every comment's key is written again (no email has named one yet: the code that sends
  them starts once migrate has ended), and an index left invalid by an interrupted
  concurrent build is built again.
"""

from django.conf import settings
from django.db import migrations, models

INDEX_NAME = "comment_unsubscribe_idx"
# A random key per row, drawn by the database (sending 300,000 addresses to Python and their
# keys back took 45 s more): on PostgreSQL a version 4 UUID's 16 bytes (122 random bits) in
# URL-safe base64, 22 characters, as new comments get (models.UNSUBSCRIBE_KEY_BYTES); SQLite
# has no base64, so 16 random bytes in hex, 32 characters.
RANDOM_KEY = {
    "postgresql": "translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/=', '-_')",
    "sqlite": "lower(hex(randomblob(16)))",
}
# Each lot holds its comments' rows (a moderator's decision on one of them waits) and, on
# SQLite, the database's write lock (a comment being posted waits, for up to 20 s).
COMMENTS_PER_LOT = 10_000


class AddFieldUnlessThere(migrations.AddField):
    """The column, unless a run stopped after adding it did so already."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table = to_state.apps.get_model(app_label, self.model_name)._meta.db_table
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            columns = connection.introspection.get_table_description(cursor, table)
        if self.name not in {column.name for column in columns}:
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class AddIndexConcurrentlyOnPostgreSQL(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL (SQLite has no such thing, and one writer)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        # Only an interrupted run leaves one here: invalid, updated by every write, never read.
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {self.index.name}")
        model = to_state.apps.get_model(app_label, self.model_name)
        schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        schema_editor.remove_index(model, self.index, concurrently=True)


def give_each_address_a_key(apps, schema_editor):
    """Keys drawn in the database, one per UPPER(email) as by_email compares, then written
    in lots of comments by id, each committed before the next."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE comments_unsubscribe_key"
            " (address varchar(254) PRIMARY KEY, unsubscribe_key varchar(32) NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO comments_unsubscribe_key"
            f" SELECT address, {RANDOM_KEY[connection.vendor]}"
            " FROM (SELECT DISTINCT UPPER(email) AS address FROM comments_comment"
            " WHERE email <> '') AS addresses"
        )
        cursor.execute("ANALYZE comments_unsubscribe_key")  # each lot's join planned on counts
        cursor.execute("SELECT MIN(id), MAX(id) FROM comments_comment")
        first, last = cursor.fetchone()
        for lot_start in range(first or 0, (last or 0) + 1, COMMENTS_PER_LOT):
            cursor.execute(
                "UPDATE comments_comment SET unsubscribe_key = keys.unsubscribe_key"
                " FROM comments_unsubscribe_key AS keys"
                " WHERE UPPER(comments_comment.email) = keys.address"
                " AND comments_comment.id >= %s AND comments_comment.id < %s",
                [lot_start, lot_start + COMMENTS_PER_LOT],
            )
        cursor.execute("DROP TABLE comments_unsubscribe_key")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('articles', '0010_tag_and_author_feeds_without_control_characters'),
        ('comments', '0012_background_decision_task_id'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddFieldUnlessThere(
            model_name='comment',
            name='unsubscribe_key',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=32),
        ),
        migrations.RunPython(give_each_address_a_key, migrations.RunPython.noop, elidable=False),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name='comment',
            index=models.Index(fields=['unsubscribe_key'], name=INDEX_NAME),
        ),
    ]
