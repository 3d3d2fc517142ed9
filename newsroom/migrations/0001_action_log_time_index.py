"""An index on the admin's log by time, then id (which the admin adds to any order): the action
log lists it newest first and its date bar probes it (newsroom/templatetags/admin_dates.py);
without one, each page sorts the whole log.

Django's LogEntry is not ours to change, hence plain SQL, which SQLite and PostgreSQL share."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("admin", "0003_logentry_add_action_flag_choices")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX newsroom_admin_log_action_time ON django_admin_log (action_time, id)",
            "DROP INDEX newsroom_admin_log_action_time",
        ),
    ]
