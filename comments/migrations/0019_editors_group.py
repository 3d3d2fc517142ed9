"""The "Editors" group: what writing and publishing needs, and moderating, since a small
newsroom's editor also moderates. Nothing on users, groups, sign-in logs or task results:
those are a superuser's.

Publishing is changing an article (its admin actions ask for that); an article's lead image
is one of its fields; the old addresses that redirect to an article, section, tag or author
are managed with it, by whoever may change it (articles/admin.py FormerSlugInline), so
neither has permissions of its own to grant. The action log shows editors the entries about
what they may view (newsroom/admin.py ActionLogAdmin), as it shows moderators theirs.
"""

from importlib import import_module

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Editors"
EDITED_MODELS = ["article", "section", "tag", "author"]
MODERATING = import_module("comments.migrations.0002_moderators_group").PERMISSION_CODENAMES


def create_app_permissions(apps, schema_editor, app_label):
    # As in 0002: permissions are normally created after all migrations (post_migrate), and
    # create_permissions() skips app configs without a models module, as historical ones are.
    app_config = apps.get_app_config(app_label)
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = True
    try:
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    finally:
        app_config.models_module = models_module


def create_editors_group(apps, schema_editor):
    for app_label in ("articles", "comments", "admin"):
        create_app_permissions(apps, schema_editor, app_label)
    database = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(database)
    writing = permissions.filter(
        content_type__app_label="articles", content_type__model__in=EDITED_MODELS
    )
    moderating = permissions.filter(
        content_type__app_label="comments",
        content_type__model="comment",
        codename__in=MODERATING,
    )
    action_log = permissions.filter(content_type__app_label="admin", codename="view_logentry")
    group, created = Group.objects.using(database).get_or_create(name=GROUP_NAME)
    if created:  # a site's own "Editors" group keeps what it grants, no less and no more
        group.permissions.set(writing | moderating | action_log)


def delete_editors_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("articles", "0018_old_slug_in_other_capitals_index"),
        ("comments", "0018_recount_comments"),
    ]

    operations = [
        migrations.RunPython(create_editors_group, delete_editors_group),
    ]
