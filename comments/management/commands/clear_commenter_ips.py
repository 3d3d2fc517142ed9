from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from comments.management import arguments
from comments.privacy import clear_old_connection_data


class Command(BaseCommand):
    help = (
        "Forget the IP address and user agent of comments older than "
        "COMMENTS_IP_RETENTION_DAYS days (run it daily)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=arguments.days, help="Override COMMENTS_IP_RETENTION_DAYS for this run."
        )

    def handle(self, *args, days, **options):
        if days is None:
            days = settings.COMMENTS_IP_RETENTION_DAYS
        cleared = clear_old_connection_data(days)
        self.stdout.write(
            ngettext(
                "Cleared the IP address and user agent of %d comment.",
                "Cleared the IP address and user agent of %d comments.",
                cleared,
            )
            % cleared
        )
