"""The digest of each deleted comment's commenter's key (DeletedComment.commenter_key): their
address in capitals as the database writes it, which tells commenters apart as their live
comments are told apart. Rows already stored hold only the old digest (Python's casefold),
so they keep it and a blank key, and are found by the old digest. The unique constraint
takes the key in, so that two commenters the old digest joins ("ß" and "ss") each keep
their note of a comment id taken again. Reversed, the key goes, and the old constraint
comes back: it refuses two such notes, should a restored backup have left any."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0014_deleted_comment"),
    ]

    operations = [
        migrations.AddField(
            model_name="deletedcomment",
            name="commenter_key",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.RemoveConstraint(
            model_name="deletedcomment",
            name="deleted_comment_once",
        ),
        migrations.AddConstraint(
            model_name="deletedcomment",
            constraint=models.UniqueConstraint(
                fields=("commenter_key", "commenter", "comment_id"), name="deleted_comment_once"
            ),
        ),
    ]
