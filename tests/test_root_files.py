"""Files asked for at the site's root whatever the pages link to: /favicon.ico, which
browsers, feed readers and crawlers request on their own."""

import io

import pytest
from PIL import Image

from newsroom.root_files import ROOT_FILE_MAX_AGE
from tests.test_head_requests import served

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True], ids=["make serve", "make run"])
def test_favicon_ico_is_the_sites_icon_kept_a_day(settings, debug):
    """DEBUG off is `make serve` (WhiteNoise's files read once); on, `make run` (runserver,
    WhiteNoise looking for each file as it is asked for, and caching nothing of its own)."""
    settings.DEBUG = debug

    status, headers, body = served("GET", "/favicon.ico")

    assert status == "200 OK"
    assert headers["Content-Type"] == "image/x-icon"
    assert headers["Cache-Control"] == f"max-age={ROOT_FILE_MAX_AGE}, public"
    assert headers["X-Content-Type-Options"] == "nosniff"
    icon = Image.open(io.BytesIO(body))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32)} <= icon.info["sizes"]


def test_favicon_ico_answers_head_without_its_body():
    status, headers, body = served("HEAD", "/favicon.ico")

    assert status == "200 OK"
    assert headers["Content-Type"] == "image/x-icon"
    assert body == b""


def test_static_files_keep_their_own_cache_headers(settings):
    """Only root files are kept a day: a stylesheet under runserver is asked for afresh."""
    settings.DEBUG = True

    status, headers, _ = served("GET", "/static/css/site.css")

    assert status == "200 OK"
    assert headers["Cache-Control"] == "max-age=0, public"
