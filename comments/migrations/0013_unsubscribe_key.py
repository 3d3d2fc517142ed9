"""Each commenter's unsubscribe key (Comment.unsubscribe_key), one per address: the comments
already stored get theirs here, so that a link emailed from now on keeps working for a
commenter whose comments came before it. One random key per address, in any letter case
(as CommentQuerySet.by_email matches them), one UPDATE each, served by comment_email_idx.
Erased comments (no address) get none. Reversed, the column goes with its keys."""

import secrets

from django.conf import settings
from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Upper

# A copy of models.UNSUBSCRIBE_KEY_BYTES as it stands at this migration.
KEY_BYTES = 16


def give_each_address_a_key(apps, schema_editor):
    Comment = apps.get_model("comments", "Comment")
    addresses = (
        Comment.objects.exclude(email="")
        .values_list(Upper("email"), flat=True)
        .order_by()
        .distinct()
    )
    for address in list(addresses):
        Comment.objects.alias(email_upper=Upper("email")).filter(
            email_upper=Upper(Value(address))
        ).update(unsubscribe_key=secrets.token_urlsafe(KEY_BYTES))


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0010_tag_and_author_feeds_without_control_characters'),
        ('comments', '0012_background_decision_task_id'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='comment',
            name='unsubscribe_key',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=32),
        ),
        migrations.RunPython(give_each_address_a_key, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['unsubscribe_key'], name='comment_unsubscribe_idx'),
        ),
    ]
