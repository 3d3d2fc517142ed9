from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_ACCOUNTS = [
    # username, password, role, superuser
    ("editor", "editor-demo-password", "Editor (superuser)", True),
]


class Command(BaseCommand):
    help = "Create the demo logins (development only) and print them."

    def handle(self, *args, **options):
        User = get_user_model()
        self.stdout.write("Demo logins for /admin/:")
        for username, password, role, is_superuser in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "is_superuser": is_superuser},
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            self.stdout.write(f"  {role:<22} {username} / {password}")
