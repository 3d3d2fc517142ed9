"""Security headers on every kind of response a browser can get from us."""

import re

import pytest
from django.http import HttpResponse

from tests.factories import PASSWORD, make_article, make_author, make_section, make_user
from tests.test_head_requests import served

EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.fixture
def article(db):
    return make_article(
        title="Bridge reopens",
        slug="bridge-reopens",
        body="The bridge **reopened** today.",
        section=make_section(name="City", slug="city"),
        author=make_author(display_name="Ada Reporter", slug="ada-reporter"),
    )


def csp_directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, _, values in (part.strip().partition(" ") for part in policy.split(";"))
    }


def assert_security_headers(response):
    for header, value in EXPECTED_HEADERS.items():
        assert response.headers.get(header) == value, header
    directives = csp_directives(response)
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    # A sitemap allows the inline styles of the browser's own XML viewer (articles/urls.py).
    if response.get("Content-Type", "").startswith("application/xml"):
        assert directives["style-src"] == "'self' 'unsafe-inline'"
    else:
        assert directives["style-src"] == "'self'"
    # Django names the nonce only in responses whose page used it.
    assert re.fullmatch(r"'self'( 'nonce-[\w+/=-]+')?", directives["script-src"])
    others = [values for name, values in directives.items() if name != "style-src"]
    assert not any("unsafe-inline" in values for values in others)
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


def assert_inline_code_allowed_by_the_policy(response):
    """Inline scripts carry this response's nonce; inline styles would be blocked outright."""
    page = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    for attributes in re.findall(r"<script\b([^>]*)>", page):
        is_data_block = 'type="application/ld+json"' in attributes  # never executed
        if "src=" not in attributes and not is_data_block:
            assert nonce, f"inline <script{attributes}> but the policy has no nonce"
            assert f'nonce="{nonce[1]}"' in attributes, f"<script{attributes}> lacks the nonce"
    assert not re.search(r"<style\b", page), "inline <style> is blocked by the CSP"
    assert not re.search(r"\sstyle=", page), "style attributes are blocked by the CSP"
    assert not re.search(r"\son[a-z]+=", page), "inline event handlers are blocked by the CSP"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/articles/bridge-reopens/",
        "/section/city/",
        "/author/ada-reporter/",
        "/search/?q=bridge",
        "/feeds/rss/",
        "/sitemap.xml",
        "/robots.txt",
        "/no-such-page/",
        "/admin/login/",
    ],
)
def test_public_pages_and_admin_login_send_the_security_headers(client, article, url):
    response = client.get(url)

    assert response.status_code < 500
    assert_security_headers(response)
    if response["Content-Type"].startswith("text/html"):
        assert_inline_code_allowed_by_the_policy(response)


@pytest.mark.parametrize("path", ["/static/img/favicon.svg", "/favicon.ico"])
def test_static_and_root_files_send_the_security_headers(db, settings, path):
    """WhiteNoise serves these before most of the middleware; an SVG opened on its own is a
    document that could be framed or run a script. DEBUG on: `make run`'s runserver."""
    settings.DEBUG = True

    status, headers, _ = served("GET", path)

    assert status == "200 OK"
    assert_security_headers(HttpResponse(headers=headers))


def test_an_image_an_editor_shows_from_another_site_is_allowed_to_load(client, db):
    image = "https://images.example.org/bridge.jpg"
    article = make_article(body=f"The bridge at dawn:\n\n![The bridge]({image})")

    response = client.get(article.get_absolute_url())

    assert f'<img alt="The bridge" src="{image}">' in response.content.decode()
    assert "https:" in csp_directives(response)["img-src"].split()


def test_a_request_for_a_host_we_do_not_serve_gets_the_security_headers(client, db):
    response = client.get("/", HTTP_HOST="elsewhere.example")

    assert response.status_code == 400
    assert_security_headers(response)


def test_comment_error_page_sends_the_security_headers(client, article):
    """A comment form sent back with errors is a page an attacker controls the input of."""
    response = client.post(
        f"/comments/post/{article.pk}/",
        {"name": "<script>alert(1)</script>", "email": "not-an-email", "body": ""},
    )

    html = response.content.decode()
    assert response.status_code == 400  # the article page, the form filled in with errors
    assert_security_headers(response)
    assert_inline_code_allowed_by_the_policy(response)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the name given back, escaped
    assert "<script>alert(1)</script>" not in html


def test_admin_lockout_page_sends_the_security_headers(client, db, settings):
    settings.AXES_FAILURE_LIMIT = 1

    response = client.post("/admin/login/", {"username": "someone", "password": "guess"})

    assert response.status_code == 429
    assert_security_headers(response)
    assert_inline_code_allowed_by_the_policy(response)


@pytest.fixture
def https_settings(settings):
    """What DJANGO_SECURE_SSL=1 sets (tests/test_settings.py checks that mapping)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return settings


def test_https_mode_redirects_plain_http(client, db, https_settings):
    response = client.get("/admin/login/")

    assert response.status_code == 301
    assert response.url == "https://testserver/admin/login/"


def test_https_mode_sends_hsts_and_secure_http_only_cookies(client, db, https_settings):
    response = client.get("/admin/login/", secure=True)

    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    csrf_cookie = response.cookies["csrftoken"]
    assert csrf_cookie["secure"] is True
    assert csrf_cookie["httponly"] is True
    assert csrf_cookie["samesite"] == "Lax"


def test_https_mode_session_cookie_is_secure_and_http_only(client, db, https_settings):
    make_user("editor", staff=True)
    response = client.post(
        "/admin/login/", {"username": "editor", "password": PASSWORD}, secure=True
    )

    session_cookie = response.cookies["sessionid"]
    assert session_cookie["secure"] is True
    assert session_cookie["httponly"] is True
    assert_security_headers(response)
