"""The "Moderators" group: exactly what moderating needs, nothing on articles or users."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Moderators"
PERMISSION_CODENAMES = ["view_comment", "change_comment", "moderate_comment"]


def create_moderators_group(apps, schema_editor):
    # Permissions are normally created by a post_migrate signal, after every migration;
    # create this app's now so the group can hold them on a fresh database.
    app_config = apps.get_app_config("comments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=GROUP_NAME)
    group.permissions.set(
        Permission.objects.using(schema_editor.connection.alias).filter(
            content_type__app_label="comments",
            content_type__model="comment",
            codename__in=PERMISSION_CODENAMES,
        )
    )


def delete_moderators_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("comments", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_moderators_group, delete_moderators_group),
    ]
