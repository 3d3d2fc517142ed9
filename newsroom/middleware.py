"""Requests the site refuses before any view, or the CSRF check, reads them; what it
answers when the database cannot be reached, or a static file while it is being collected;
HEAD answered without a body, and a method an address does not take answered in words."""

import logging

from django.conf import settings
from django.contrib.auth import get_user
from django.core.exceptions import BadRequest
from django.db import DatabaseError, InterfaceError, InternalError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.log import log_response
from django.views import defaults
from whitenoise import middleware as whitenoise

from newsroom.methods import allowed_methods
from newsroom.sizes import size_in_words

logger = logging.getLogger(__name__)

UNDECODABLE_FORM = (
    "This form was sent in a character set other than UTF-8, which the site cannot read. "
    "Please send it as UTF-8."
)


class HeadWithoutBodyMiddleware:
    """A HEAD request gets the page's headers, its Content-Length included, and no body.

    Django leaves dropping the body to the server. Gunicorn drops it, but logs a warning for
    every HEAD request: an uptime monitor's, and the comment form's check that its question
    still exists, sent by every reader who starts writing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "HEAD":
            if response.streaming:
                response.streaming_content = []
            else:
                response.content = b""
        return response


# Only the Allow header's list, which the site writes: never the method or anything else
# the request sent (a TRACE answer that echoes the request is what cross-site tracing reads).
METHOD_NOT_ALLOWED = "Method not allowed: this address answers only {allowed}.\n"
# Their answers carry no body: HEAD's never does, and OPTIONS asks only for the Allow header.
METHODS_ANSWERED_WITHOUT_A_BODY = {"HEAD", "OPTIONS"}


# The methods the CSRF check lets through to the view unchecked.
CSRF_UNCHECKED_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def in_words(response, request):
    """An empty 405 given the plain line that names the methods of its Allow header."""
    if (
        response.status_code == 405
        and response.has_header("Allow")
        and not response.streaming
        and not response.content
        and request.method not in METHODS_ANSWERED_WITHOUT_A_BODY
    ):
        response.content = METHOD_NOT_ALLOWED.format(allowed=response["Allow"])
        response["Content-Type"] = "text/plain; charset=utf-8"
    return response


class MethodNotAllowedInWordsMiddleware:
    """Gives Django's empty 405 (require_safe, a class-based view's method check) a short
    plain-text body that names the methods the address takes, as its Allow header does.

    An empty 405 shows a browser a blank page and tells a bot's operator nothing. The body
    is neither the page (TRACE, PUT and DELETE on a feed once got the whole document) nor
    the request. A 405 that already says something (the comment form's address) is left.

    Placed before the CSRF check, it also answers a method the view does not take
    (newsroom/methods.py) before that check could call a PUT to a page a forged form.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return in_words(self.get_response(request), request)

    def process_view(self, request, view, args, kwargs):
        if request.method in CSRF_UNCHECKED_METHODS:
            return None  # the view answers them itself, its own way
        allowed = allowed_methods(view, request, args, kwargs)
        if allowed is None or request.method in allowed:
            return None
        return HttpResponseNotAllowed(allowed)


# A file listed as the server started and gone from STATIC_ROOT when asked for.
FILE_BEING_COLLECTED = "This file is being updated. Please try again in a moment."
FILE_BEING_COLLECTED_RETRY_SECONDS = 5


class WhiteNoiseMiddleware(whitenoise.WhiteNoiseMiddleware):
    """WhiteNoise, whose 405 (a POST to /favicon.ico or a static file) says it in words too,
    and which answers a file gone from disk since it listed them with a 503.

    It answers before most of the middleware, so its empty 405 never reached
    MethodNotAllowedInWordsMiddleware, nor CommonMiddleware for its Content-Length.

    With DEBUG off it lists STATIC_ROOT once, as each worker starts, and opens a file when it
    is asked for. `collectstatic` run meanwhile (`make serve` starting another app server
    from the same folder, an upgrade collecting before the restart) removes and writes files
    again for several seconds: the open failed, a 500 for every request of those seconds.
    The file is back in a moment: the answer says so, and no cache on the way (a CDN in
    front) may keep it. WhiteNoise answers HEAD from its list without opening the file: it
    is opened here as for GET (the same variant, .br or .gz, that GET would send), so that
    a monitor or a link checker is told what a browser would be.
    """

    @staticmethod
    def serve(static_file, request):
        try:
            if request.method == "HEAD":
                opened = static_file.get_response("GET", request.META).file
                if opened is not None:  # None when not modified: GET opens nothing either
                    opened.close()
            response = whitenoise.WhiteNoiseMiddleware.serve(static_file, request)
        except FileNotFoundError:
            response = HttpResponse(
                FILE_BEING_COLLECTED, status=503, content_type="text/plain; charset=utf-8"
            )
            response["Retry-After"] = str(FILE_BEING_COLLECTED_RETRY_SECONDS)
            response["Content-Length"] = str(len(response.content))
            add_never_cache_headers(response)
            # A warning, logged as the response's own line: Django would log any 5xx as an
            # error, mailed to ADMINS, for each file of each page opened meanwhile.
            log_response(
                "Static file %s asked for while it was being collected.",
                request.path,
                response=response,
                request=request,
                logger=logger,
                level="warning",
            )
            return response
        if response.status_code != 405:
            return response
        refused = in_words(HttpResponseNotAllowed([response["Allow"]]), request)
        refused["Content-Length"] = str(len(refused.content))
        return refused


def declared_body_size(request):
    """The body's Content-Length, as Django reads it: 0 when there is none or it is not a
    number. Under WSGI Django reads no more of a body than that: one sent without it
    (chunked) is read as empty."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def may_send_admin_sized_bodies(request):
    """Staff signed in, writing in the admin. Anyone can send to the admin's sign-in page."""
    return request.path.startswith(reverse("admin:index")) and get_user(request).is_staff


class PublicBodyLimitMiddleware:
    """Answers 413 to a body longer than PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE, before anything
    reads it, unless a staff member sends it to the admin.

    DATA_UPLOAD_MAX_MEMORY_SIZE, which Django reads of every form, is as large as an
    article's text may be (settings.py); outside the admin the largest thing anyone sends is
    a comment, and a bot's megabytes would be parsed into memory and sent back in the form.
    Django's own check for it raises RequestDataTooBig, a 400 that says nothing of size.
    Placed after SessionMiddleware, whose session tells staff apart.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE
        if declared_body_size(request) > limit and not may_send_admin_sized_bodies(request):
            # Rendered without the request: a refusal costs no database query.
            page = render_to_string("413.html", {"limit": size_in_words(limit)})
            return HttpResponse(page, status=413)
        return self.get_response(request)


class UndecodableFormMiddleware:
    """Answers 400 to a urlencoded form that Django refuses to decode (one that names a
    charset other than UTF-8).

    Django raises BadRequest for it but, unlike for a broken multipart body, does not remember
    the failure: every later read of request.POST raises again. The CSRF check reads it, and
    so do Django's own 400 and 500 views whenever the request carries a CSRF cookie (they
    repeat the check through requires_csrf_token): the error pages fail in turn, and the
    server answers an empty 500. Here the body is read first, before any of them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Multipart bodies are left to the view: reading them here would fix the upload
        # handlers before a view could choose its own, and Django remembers their failures.
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            try:
                request.POST  # noqa: B018 (reading it is the check)
            except BadRequest:
                return HttpResponseBadRequest(
                    UNDECODABLE_FORM, content_type="text/plain; charset=utf-8"
                )
        return self.get_response(request)


# Retry-After for every "try again in a minute": the database down, or refusing writes.
DATABASE_RETRY_SECONDS = 60
# SQLite's code for a statement that cannot run as written: no such table or column (a
# migration not run), a syntax error. SQLite raises OperationalError for it, as for a lock
# held too long or a file it cannot open; PostgreSQL raises ProgrammingError.
SQLITE_STATEMENT_ERROR = "SQLITE_ERROR"
# PostgreSQL's "read-only transaction": a replica after a failover takes no write. psycopg
# raises InternalError for it, not OperationalError as for a full disk.
POSTGRESQL_READ_ONLY = "25006"


def database_unavailable(exception):
    """Whether the database could not be reached or used just now, which a later try may
    not meet, rather than refused what we asked of it, which every try would meet again."""
    if isinstance(exception, InternalError):
        return getattr(exception.__cause__, "sqlstate", None) == POSTGRESQL_READ_ONLY
    if not isinstance(exception, (OperationalError, InterfaceError)):
        return False
    return getattr(exception.__cause__, "sqlite_errorname", None) != SQLITE_STATEMENT_ERROR


class DatabaseUnavailableMiddleware:
    """Answers 503, with Retry-After, when the database cannot be reached (down, restarting,
    SQLite's lock held too long) or takes no write (read-only after a failover, a full
    disk), instead of a 500 page saying the site is broken. A table that is missing is a
    500: telling readers to try again would hide the mistake.

    Pages in the reader cache are still served without it. A form sent meanwhile stored
    nothing, so its text (the `body` field: a comment, an article) comes back on the page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None  # a server error, logged with its traceback
        return database_unavailable_response(request, exception)


def database_unavailable_response(request, exception):
    """The 503 page for a request the database could not serve (database_unavailable)."""
    logger.error("The database is unavailable (%s): %s answered 503.", exception, request.path)
    # Rendered without the request: its context processors would ask the database.
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_DESCRIPTION": settings.SITE_DESCRIPTION,
        "body": request.POST.get("body", "") if request.method == "POST" else "",
    }
    response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    add_never_cache_headers(response)
    return response


def page_not_found(request, exception):
    """Django's 404 page (handler404), or the 503 page when the database cannot be reached:
    the 404 page's header lists the sections, a query, and an address no page has (a bot's
    probe) was a 500 during an outage, each one logged as a server error."""
    try:
        return defaults.page_not_found(request, exception)
    except DatabaseError as error:
        if not database_unavailable(error):
            raise
        return database_unavailable_response(request, error)
