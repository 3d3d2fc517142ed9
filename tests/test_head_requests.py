"""HEAD requests, as the WSGI server receives the answer (the test client drops the body
itself, so it cannot show what the server gets)."""

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from tests.factories import make_article

pytestmark = pytest.mark.django_db


def served(method, path):
    """Status, headers and body as the application hands them to the server."""
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=dict(headers))

    environ = RequestFactory()._base_environ(REQUEST_METHOD=method, PATH_INFO=path)
    chunks = WSGIHandler()(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        chunks.close()
    return started["status"], started["headers"], body


@pytest.mark.parametrize("path", ["/", "/feeds/rss/", "/robots.txt", "/no-such-page/"])
def test_a_head_request_gets_the_headers_of_the_page_and_no_body(path):
    """Gunicorn logged a warning for every HEAD request whose body it had to drop."""
    make_article()
    status, headers, body = served("GET", path)

    head_status, head_headers, head_body = served("HEAD", path)

    assert head_body == b""
    assert head_status == status
    assert head_headers["Content-Length"] == headers["Content-Length"] == str(len(body))
    assert head_headers["Content-Type"] == headers["Content-Type"]
