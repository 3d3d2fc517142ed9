"""An index on the admin's log by time, then id (which the admin adds to any order): the action
log lists it newest first and its date bar probes it (newsroom/templatetags/admin_dates.py);
without one, each page sorts the whole log.

Django's LogEntry is not ours to change, hence plain SQL. On PostgreSQL the index is built
CONCURRENTLY: a plain CREATE INDEX blocks every write to the log (each admin change, each
moderation decision) while it reads a large existing log, and a transaction cannot hold a
concurrent build, hence a migration that is not atomic. Each statement may run again: an
index already there (a migration run again by hand) is kept, and one left invalid by an
interrupted concurrent build, which writes keep updating and no page reads, is built again.
"""

from django.db import migrations

INDEX_NAME = "newsroom_admin_log_action_time"


def create_index(apps, schema_editor):
    concurrently = ""
    if schema_editor.connection.vendor == "postgresql":
        concurrently = "CONCURRENTLY "
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
                [INDEX_NAME],
            )
            invalid = cursor.fetchone()
        if invalid and invalid[0]:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX_NAME}")
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {INDEX_NAME}"
        " ON django_admin_log (action_time, id)"
    )


def drop_index(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("admin", "0003_logentry_add_action_flag_choices")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
