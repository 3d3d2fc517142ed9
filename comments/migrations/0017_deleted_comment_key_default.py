"""DeletedComment.commenter_key blank by the database's default: the code from before
migration 0015 (a deploy rolled back, its migrations kept) notes a deleted comment without
the key, and its insert failed on PostgreSQL (NOT NULL), turning each deletion of a comment
into an error, and was skipped silently on SQLite (INSERT OR IGNORE), leaving the commenter's
erasure blind to it.

Going back, before 0015, one note per old digest and comment id: a comment noted before
0015 and again since (restored from a backup with its id), or the ids of "ß" and "ss" taken
again, has notes that differ by the key alone, which the constraint before 0015 refused,
failing the migration. Without the key they are one note."""

from django.db import migrations, models
from django.db.models import F, Window
from django.db.models.functions import RowNumber


def keep_one_note_per_old_digest(apps, schema_editor):
    """One DELETE of every note after the first alike without the key, numbered in one sort
    (1.7 s on PostgreSQL, 3.6 s on SQLite at a million notes). PostgreSQL planned NOT IN (the
    first of each) as a read of them all for every row, and SQLite ran EXISTS (an earlier
    one alike), which no index serves, for over 11 minutes before it was stopped."""
    DeletedComment = apps.get_model("comments", "DeletedComment")
    numbered = DeletedComment.objects.annotate(
        number=Window(RowNumber(), partition_by=[F("commenter"), F("comment_id")], order_by="pk")
    )
    DeletedComment.objects.filter(pk__in=numbered.filter(number__gt=1).values("pk")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0016_top_level_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deletedcomment",
            name="commenter_key",
            field=models.CharField(blank=True, db_default="", max_length=32),
        ),
        migrations.RunPython(migrations.RunPython.noop, keep_one_note_per_old_digest),
    ]
