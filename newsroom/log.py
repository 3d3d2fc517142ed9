"""What the console log and the error reports mailed to ADMINS keep, for whoever reads them."""

import logging
import re

from django.views.debug import SafeExceptionReporterFilter


class WithoutTraceback(logging.Filter):
    """A request refused as suspicious (another Host header, too many form fields...) is a
    client's doing, not a bug: its one line says what was refused, and the traceback would
    only add a dozen lines of where Django noticed, for every bot that sends one."""

    def filter(self, record):
        record.exc_info = None
        record.exc_text = None
        return True


class ClientErrorsWithoutTraceback(WithoutTraceback):
    """Django logs a few 4xx answers with the exception that caused them (a form body it
    cannot parse, a PermissionDenied): like a refused request, they are a client's doing,
    and any bot can send one. Errors (500s) keep their traceback, for the log and ADMINS."""

    def filter(self, record):
        return record.levelno >= logging.ERROR or super().filter(record)


class PreconditionFailedAsInformation(logging.Filter):
    """Django logs a 412 (If-Match or If-Unmodified-Since not met) as a warning, as any 4xx.
    It is a conditional request's normal answer, as a 304 is (which Django does not log),
    and any bot can ask for one: information, kept only where the log keeps that level."""

    def filter(self, record):
        if getattr(record, "status_code", None) != 412:
            return True
        record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)


# A form's email address: a commenter's is never published, nor shown to ADMINS.
HIDDEN_POST_PARAMETERS = ("email",)


class ExceptionReporterFilter(SafeExceptionReporterFilter):
    """The report of a 500 mailed to ADMINS lists the settings, hiding those whose names
    sound secret. Redis's address carries its password when it has one, under names that do
    not (REDIS_URL, and the cache's LOCATION), and DATABASE_URL is read by settings only,
    but the development server copies the environment into the request's META."""

    hidden_settings = re.compile(
        f"{SafeExceptionReporterFilter.hidden_settings.pattern}|REDIS_URL|DATABASE_URL|LOCATION",
        flags=re.IGNORECASE,
    )

    def get_post_parameters(self, request):
        """What was posted, but never an email address: hidden here rather than by each
        view's sensitive_post_parameters, which a comment never reaches when it fails
        before its view (the CSRF failure page, a middleware)."""
        posted = super().get_post_parameters(request)
        hidden = [name for name in HIDDEN_POST_PARAMETERS if name in posted]
        if not hidden or not self.is_active(request):
            return posted
        posted = posted.copy()
        for name in hidden:
            posted[name] = self.cleansed_substitute
        return posted
