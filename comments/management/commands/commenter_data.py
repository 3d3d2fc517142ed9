import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from comments.privacy import erase_commenter_data, export_commenter_data


class Command(BaseCommand):
    help = (
        "Privacy requests: 'export EMAIL' prints everything stored about a commenter as "
        "JSON; 'erase EMAIL' anonymises their comments (COMMENTS_ERASE_KEEPS_TEXT decides "
        "whether the text stays) and the action log's entries about them, deleted ones "
        "included."
    )

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["export", "erase"])
        parser.add_argument("email")

    def handle(self, *args, operation, email, **options):
        email = email.strip()  # pasted from a request, an address often brings a space
        if "@" not in email:
            raise CommandError(f"{email!r} is not an email address.")
        if operation == "export":
            data = export_commenter_data(email)
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            erased = erase_commenter_data(email)
            if erased:
                self.stdout.write(
                    ngettext(
                        "Anonymised %(count)d comment from %(email)s.",
                        "Anonymised %(count)d comments from %(email)s.",
                        erased,
                    )
                    % {"count": erased, "email": email}
                )
            else:
                # Said so: "Anonymised 0 comments" read as if the request had found nothing.
                self.stdout.write(
                    f"No comment from {email} is stored. The action log's entries about "
                    "their deleted comments, if any, no longer name them."
                )
