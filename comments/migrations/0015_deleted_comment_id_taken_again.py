"""A deleted comment's note keyed by its id and its commenter together, not by its id alone:
an id taken again by another commenter's comment (a backup restored over a reset sequence)
has log entries naming both. The table is made anew and the notes copied, as one id each:
making the id column an identity would start its numbers at 1, under the ids already there."""

from django.db import migrations, models


def copy_notes(apps, schema_editor):
    Before = apps.get_model("comments", "DeletedCommentBefore0015")
    DeletedComment = apps.get_model("comments", "DeletedComment")
    notes = Before.objects.values_list("id", "commenter").iterator(chunk_size=2_000)
    DeletedComment.objects.bulk_create(
        (DeletedComment(comment_id=pk, commenter=commenter) for pk, commenter in notes),
        batch_size=2_000,
    )


def copy_notes_back(apps, schema_editor):
    """Back to one note per id: the latest, as 0014's deletions kept it."""
    Before = apps.get_model("comments", "DeletedCommentBefore0015")
    DeletedComment = apps.get_model("comments", "DeletedComment")
    latest = {}
    for comment_id, commenter in DeletedComment.objects.order_by("id").values_list(
        "comment_id", "commenter"
    ):
        latest[comment_id] = commenter
    Before.objects.bulk_create(
        (Before(id=comment_id, commenter=commenter) for comment_id, commenter in latest.items()),
        batch_size=2_000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0014_deleted_comment"),
    ]

    operations = [
        migrations.RenameModel("DeletedComment", "DeletedCommentBefore0015"),
        migrations.CreateModel(
            name="DeletedComment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("comment_id", models.BigIntegerField()),
                ("commenter", models.CharField(max_length=32)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("commenter", "comment_id"), name="deleted_comment_once"
                    )
                ],
            },
        ),
        migrations.RunPython(copy_notes, copy_notes_back, elidable=False),
        migrations.DeleteModel("DeletedCommentBefore0015"),
    ]
