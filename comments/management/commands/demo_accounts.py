from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

MODERATORS_GROUP = "Moderators"  # comments/migrations/0002_moderators_group.py
EDITORS_GROUP = "Editors"  # comments/migrations/0019_editors_group.py

DEMO_ACCOUNTS = [
    # username, password, role, superuser, groups
    ("admin", "admin-demo-password", "Administrator (superuser)", True, []),
    ("editor", "editor-demo-password", "Editor", False, [EDITORS_GROUP]),
    ("moderator", "moderator-demo-password", "Moderator", False, [MODERATORS_GROUP]),
]


def demo_email(username):
    """The demo logins' address, which tells them from real accounts of the same name."""
    return f"{username}@newsroom.localhost"


REFUSED_IN_PRODUCTION = (
    "The demo logins have published passwords (a superuser among them): they are for "
    "development only, and DJANGO_DEBUG is off."
)


class Command(BaseCommand):
    help = "Create the demo logins (development only) and print them."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(REFUSED_IN_PRODUCTION)
        User = get_user_model()
        self.stdout.write("Demo logins for /admin/:")
        for username, password, role, is_superuser, groups in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "is_staff": True,
                    "is_superuser": is_superuser,
                    "email": demo_email(username),
                },
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            elif user.email != demo_email(username):
                self.stdout.write(f"  {role:<26} {username} (not a demo login: left as it is)")
                continue
            elif user.is_superuser and not is_superuser:
                # A demo login made by an earlier release (the editor was a superuser).
                user.is_superuser = False
                user.save(update_fields=["is_superuser"])
            user.groups.add(*Group.objects.filter(name__in=groups))
            if not user.is_active:
                login = f"{username} (deactivated)"
            elif created or user.check_password(password):
                login = f"{username} / {password}"
            else:
                login = f"{username} (its password has been changed)"
            self.stdout.write(f"  {role:<26} {login}")
