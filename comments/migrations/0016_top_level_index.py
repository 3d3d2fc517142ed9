"""The index a page of comments finds its top-level comments through (thread.top_level,
build_thread): an article's approved top-level comments in order, apart from the replies.

Not atomic, and built CONCURRENTLY on PostgreSQL, as migration 0013 builds its index: a
plain CREATE INDEX blocks every comment posted and every decision while it reads a million
comments.
"""

from importlib import import_module

from django.db import migrations, models

AddIndexConcurrentlyOnPostgreSQL = import_module(
    "comments.migrations.0013_unsubscribe_key"
).AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("comments", "0015_deleted_comment_key"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="comment",
            index=models.Index(
                fields=["article", "status", "parent", "created_at", "id"],
                name="comment_top_level_idx",
            ),
        ),
    ]
