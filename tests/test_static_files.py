"""Static files as `make serve` serves them: WhiteNoise lists STATIC_ROOT once, as it starts."""

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from newsroom.middleware import FILE_BEING_COLLECTED

pytestmark = pytest.mark.django_db


def served_by(handler, path, method="GET"):
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=dict(headers))

    environ = RequestFactory()._base_environ(REQUEST_METHOD=method, PATH_INFO=path)
    chunks = handler(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        chunks.close()
    return started["status"], started["headers"], body


def test_a_file_collected_again_while_the_site_serves_is_a_moment_unavailable_not_an_error(
    settings,
):
    """A second app server started from the same folder (`make serve` on another port)
    collects the static files again, and a reader's stylesheet asked for in the meantime
    was a 500, mailed to DJANGO_ADMINS, for each request of those seconds. The file is
    back in a moment: no cache on the way may keep its absence."""
    stylesheet = settings.STATIC_ROOT / "css" / "site.0123456789ab.css"
    stylesheet.parent.mkdir()
    stylesheet.write_text("body { color: black; }")
    server = WSGIHandler()  # lists the files, as each gunicorn worker does once
    stylesheet.unlink()

    status, headers, body = served_by(server, "/static/css/site.0123456789ab.css")

    assert status == "503 Service Unavailable"
    assert headers["Retry-After"]
    assert "no-store" in headers["Cache-Control"]
    assert body.decode() == FILE_BEING_COLLECTED


def test_a_file_collected_again_while_the_site_serves_is_mailed_to_no_one(settings, mailoutbox):
    """The 503 was logged by Django as a server error, and each one mailed to DJANGO_ADMINS:
    every page a reader opened during a collect, a mail for each of its files."""
    settings.ADMINS = ["ops@example.com"]
    stylesheet = settings.STATIC_ROOT / "css" / "site.0123456789ab.css"
    stylesheet.parent.mkdir()
    stylesheet.write_text("body { color: black; }")
    server = WSGIHandler()
    stylesheet.unlink()

    status, _, _ = served_by(server, "/static/css/site.0123456789ab.css")

    assert status == "503 Service Unavailable"
    assert mailoutbox == []


@pytest.mark.parametrize("gone", [False, True])
def test_a_head_request_for_a_static_file_answers_as_get_does(settings, gone):
    """WhiteNoise answers HEAD from its list, without opening the file: a monitor or a link
    checker was told 200 for a file every browser got a 503 for."""
    stylesheet = settings.STATIC_ROOT / "css" / "site.0123456789ab.css"
    stylesheet.parent.mkdir()
    stylesheet.write_text("body { color: black; }")
    server = WSGIHandler()
    if gone:
        stylesheet.unlink()

    status, headers, body = served_by(server, "/static/css/site.0123456789ab.css")
    head_status, head_headers, head_body = served_by(
        server, "/static/css/site.0123456789ab.css", "HEAD"
    )

    assert head_status == status == ("503 Service Unavailable" if gone else "200 OK")
    assert head_body == b""
    assert head_headers["Content-Length"] == str(len(body))
    for header in ["Content-Length", "Content-Type", "Cache-Control", "Retry-After"]:
        assert head_headers.get(header) == headers.get(header), header
