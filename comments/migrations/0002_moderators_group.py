"""The "Moderators" group: exactly what moderating needs, nothing on articles or users."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Moderators"
PERMISSION_CODENAMES = ["view_comment", "change_comment", "moderate_comment"]


def create_moderators_group(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); create this
    # app's now so the group can hold them on a fresh database. create_permissions() skips
    # app configs without a models module, which historical ones never have.
    app_config = apps.get_app_config("comments")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = True
    try:
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    finally:
        app_config.models_module = models_module

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
