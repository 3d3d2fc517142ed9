"""Django's SMTP backend, without waiting out a dead mail server once per email.

Each email waits up to EMAIL_TIMEOUT (10 s) for a server that takes the connection and
never answers (a firewall that drops packets, a server wedged). The notifications run in
the gunicorn worker that served the request by default (newsroom/tasks.py), so a moderator
approving five comments whose authors asked for an email held it for five timeouts:
gunicorn killed it after 30 s, with the emails not yet sent. Inside the request, as they
once ran, the moderator's page and its message were lost too.

Once the server cannot be reached, this backend does not try it again in this process
for RETRY_SECONDS: each email meanwhile fails at once, and is logged, as one refused by
a server that is down is. A server that answers, even to refuse (a bad password, a
rejected address), is up, and is asked again for the next email.
"""

import smtplib
import time

from django.core.mail.backends import smtp

RETRY_SECONDS = 60


class MailServerUnreachable(ConnectionError):
    pass


class ResilientSMTPBackend(smtp.EmailBackend):
    # When each mail server, by (host, port), may be tried again: shared by every
    # connection of this process, since each email opens its own.
    unreachable_until = {}

    def send_messages(self, email_messages):
        server = (self.host, self.port)
        if time.monotonic() < self.unreachable_until.get(server, 0):
            if self.fail_silently:
                return 0
            raise MailServerUnreachable(
                f"The mail server {self.host}:{self.port} could not be reached a moment "
                f"ago; it is tried again within {RETRY_SECONDS} s."
            )
        try:
            return super().send_messages(email_messages)
        except OSError as error:
            # A network error (refused, timed out, reset, no such host) or a connection the
            # server dropped; any other SMTPException is an answer from a server that is up.
            if not isinstance(error, smtplib.SMTPException) or isinstance(
                error, smtplib.SMTPServerDisconnected
            ):
                self.unreachable_until[server] = time.monotonic() + RETRY_SECONDS
            raise
