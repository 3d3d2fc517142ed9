"""A commenter's email (and address) never reaches a public response."""

import hashlib
import re
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.test import Client

from articles.models import Tag
from comments.models import Comment

from .conftest import make_article, make_comment

pytestmark = pytest.mark.django_db

SECRET_EMAIL = "Secret.Commenter@example.com"
SECRET_IP = "203.0.113.77"
LINK = re.compile(r"""(?:href|src)=["']([^"']+)["']|<loc>([^<]+)</loc>""")


def forbidden_strings():
    email = SECRET_EMAIL.lower()
    return [
        email,
        SECRET_EMAIL,
        hashlib.md5(email.encode()).hexdigest(),  # noqa: S324 - what Gravatar would publish
        hashlib.sha256(email.encode()).hexdigest(),
        SECRET_IP,
    ]


def crawl(client, start_paths, limit=200):
    """Every same-site page reachable from the start paths, like a search engine would."""
    seen, queue, pages = set(), list(start_paths), {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen or path.startswith(("/admin", "/static", "/captcha/image")):
            continue
        seen.add(path)
        response = client.get(path)
        body = response.content.decode(errors="replace")
        pages[path] = (response.status_code, body)
        for match in LINK.finditer(body):
            target = match.group(1) or match.group(2)
            parts = urlsplit(urldefrag(urljoin(f"http://testserver{path}", target))[0])
            if parts.netloc in {"testserver", ""}:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return pages


def test_commenter_email_and_ip_appear_in_no_public_response(captcha_pool):
    article = make_article()
    article.tags.add(Tag.objects.create(name="Local", slug="local"))
    for status in Comment.Status.values:
        make_comment(
            article,
            name="Secret Commenter",
            email=SECRET_EMAIL,
            url="https://commenter.example/",
            body=f"A {status} comment",
            status=status,
            ip_address=SECRET_IP,
        )
    make_comment(article, email=SECRET_EMAIL, body="Another approved one", ip_address=SECRET_IP)
    reader = Client()

    pages = crawl(
        reader,
        [
            "/",
            article.get_absolute_url(),
            "/sitemap.xml",
            "/robots.txt",
            "/feeds/rss/",
            "/feeds/atom/",
            "/search/?q=Secret",
            "/search/?q=approved+comment",
            "/this-page-does-not-exist/",
        ],
    )

    assert article.get_absolute_url() in pages
    assert "A approved comment" in pages[article.get_absolute_url()][1]  # comments were there
    assert len(pages) > 8
    for path, (_status, body) in pages.items():
        for secret in forbidden_strings():
            assert secret.lower() not in body.lower(), f"{secret} leaked on {path}"


def test_own_pending_comment_view_does_not_show_the_email_either(client, article, fill_form):
    client.post(f"/comments/post/{article.pk}/", fill_form(article, email=SECRET_EMAIL))

    page = client.get(article.get_absolute_url()).content.decode()

    assert "Grace Hopper" in page
    assert SECRET_EMAIL.lower() not in page.lower()
