"""Requests the site refuses before any view, or the CSRF check, reads them."""

from django.core.exceptions import BadRequest
from django.http import HttpResponseBadRequest

UNDECODABLE_FORM = (
    "This form was sent in a character set other than UTF-8, which the site cannot read. "
    "Please send it as UTF-8."
)


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
