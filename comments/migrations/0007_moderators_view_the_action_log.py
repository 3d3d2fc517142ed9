"""The Moderators group may read the action log, which shows them the entries about comments
alone (newsroom/admin.py ActionLogAdmin): who decided what, once a comment is gone too."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Moderators"


def log_permission(apps, schema_editor):
    # As in 0002: the admin app's permissions exist only after every migration has run.
    app_config = apps.get_app_config("admin")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = True
    try:
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    finally:
        app_config.models_module = models_module
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.using(schema_editor.connection.alias).get(
        content_type__app_label="admin", codename="view_logentry"
    )


def moderators(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    return Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME)


def grant(apps, schema_editor):
    for group in moderators(apps, schema_editor):
        group.permissions.add(log_permission(apps, schema_editor))


def revoke(apps, schema_editor):
    for group in moderators(apps, schema_editor):
        group.permissions.remove(log_permission(apps, schema_editor))


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("comments", "0006_website_room_for_the_scheme"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
    ]
