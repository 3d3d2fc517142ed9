"""A commenter's email and IP address never reach a public response: not in a page, feed,
sitemap, search result, error page, JSON answer, header or cookie, and not as a Gravatar-style
hash or in percent- or entity-encoded form either.

Supersedes tests/comments/test_privacy_public.py (same crawl, more places, headers too).
"""

import hashlib
import html
import re
from urllib.parse import quote, unquote, urldefrag, urljoin, urlsplit

import pytest
from captcha.models import CaptchaStore
from django.test import Client
from django.urls import reverse

from comments.captcha import add_to_pool, refill_pool
from comments.forms import sign_started
from comments.models import Comment
from comments.notifications import unsubscribe_token
from comments.views import REMEMBER_COOKIE
from tests.factories import make_article, make_author, make_comment, make_section, make_tag

pytestmark = pytest.mark.django_db

SECRET_EMAIL = "Secret.Commenter@Example.com"
SECOND_EMAIL = "second-commenter@example.org"
SECRET_IP = "203.0.113.77"
SECRET_IPV6 = "2001:db8::77"
SECRET_AGENT = "SecretAgent/7.7"
LINK = re.compile(r"""(?:href|src|action)=["']([^"']+)["']|<loc>([^<]+)</loc>""")
SKIPPED = ("/admin", "/static", "/captcha/image", "/captcha/audio")


@pytest.fixture(autouse=True)
def _no_wait(settings):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0


def forbidden_strings():
    """Each secret as it might leak: plain, hashed like Gravatar, percent-encoded."""
    found = [SECRET_IP, SECRET_IPV6, SECRET_AGENT]
    for email in (SECRET_EMAIL, SECOND_EMAIL):
        normalised = email.strip().lower()
        found += [
            normalised,
            quote(normalised, safe=""),
            hashlib.md5(normalised.encode()).hexdigest(),  # noqa: S324 - what Gravatar publishes
            hashlib.sha256(normalised.encode()).hexdigest(),
            hashlib.md5(email.encode()).hexdigest(),  # noqa: S324
        ]
    return [secret.lower() for secret in found]


def leaks(response):
    """The secrets found in a response's body, headers and cookies (decoded every way a
    browser or a scraper would)."""
    body = response.content.decode(errors="replace")
    headers = "\n".join(f"{name}: {value}" for name, value in response.items())
    cookies = "\n".join(morsel.OutputString() for morsel in response.cookies.values())
    text = "\n".join([body, html.unescape(body), unquote(body), headers, unquote(cookies)])
    text = text.lower()
    return [secret for secret in forbidden_strings() if secret in text]


@pytest.fixture
def secrets_in_the_database(db):
    """Comments in every state from two commenters with known addresses, threads included."""
    refill_pool(3)
    article = make_article(
        title="A story with comments",
        section=make_section(name="News", slug="news"),
        author=make_author(display_name="Ada Reporter", slug="ada"),
        tags=[make_tag(name="Local", slug="local")],
    )
    made = {}
    for status in Comment.Status.values:
        made[status] = make_comment(
            article,
            name="Secret Commenter",
            email=SECRET_EMAIL,
            url="https://commenter.example/",
            body=f"A {status} comment, mentioning no address",
            status=status,
            ip_address=SECRET_IP,
            user_agent=SECRET_AGENT,
            notify_on_publish=True,
        )
    approved, pending = made["approved"], made["pending"]
    made["reply"] = make_comment(
        article,
        parent=approved,
        email=SECOND_EMAIL,
        body="An approved reply",
        ip_address=SECRET_IPV6,
    )
    made["reply to pending"] = make_comment(
        article, parent=pending, email=SECRET_EMAIL, body="Reply under a held comment"
    )
    made["reply to reply"] = make_comment(
        article, parent=made["reply"], email=SECRET_EMAIL, body="Deeper", ip_address=SECRET_IP
    )
    return article, made


def crawl(client, start_paths, limit=250):
    """Every same-site page reachable from the start paths, as a search engine would find it."""
    seen, queue, responses = set(), list(start_paths), {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen or path.startswith(SKIPPED):
            continue
        seen.add(path)
        response = client.get(path)
        responses[path] = response
        body = response.content.decode(errors="replace")
        for match in LINK.finditer(body):
            target = html.unescape(match.group(1) or match.group(2))
            parts = urlsplit(urldefrag(urljoin(f"http://testserver{path}", target))[0])
            if parts.netloc in {"testserver", ""}:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return responses


def form_posts(article, made):
    """What a reader (or a bot) can post, and get a page back for: every error page."""
    approved_pk = made["approved"].pk
    (question,) = add_to_pool(1)
    mallory = {"name": "Mallory", "email": "mallory@example.net", "body": "Hello there"}
    url = reverse("comments:post", args=[article.pk])
    return [
        ("400: fields missing", Client(), url, {"parent": str(approved_pk)}),
        (
            "400: wrong captcha",
            Client(),
            url,
            {
                **mallory,
                "parent": str(approved_pk),
                "captcha_0": question.hashkey,
                "captcha_1": str(int(question.response) + 1),
                "started": sign_started(article.pk),
            },
        ),
        (
            "400: reply to a held comment",
            Client(),
            url,
            {**mallory, "parent": str(made["pending"].pk)},
        ),
        (
            "200: new question",
            Client(),
            url,
            {**mallory, "new_question": "1", "parent": str(approved_pk)},
        ),
        (
            "403: CSRF failure",
            Client(enforce_csrf_checks=True),
            url,
            {**mallory, "parent": str(approved_pk)},
        ),
        ("403: CSRF failure elsewhere", Client(enforce_csrf_checks=True), "/search/", mallory),
    ]


def test_no_commenter_email_ip_or_hash_in_any_public_response(secrets_in_the_database):
    article, made = secrets_in_the_database
    page = article.get_absolute_url()
    reader = Client()
    start = [
        "/",
        page,
        f"{page}?replyto={made['approved'].pk}",
        f"{page}?replyto={made['reply'].pk}",
        f"{page}?replyto={made['pending'].pk}",
        "/sitemap.xml",
        "/robots.txt",
        "/feeds/rss/",
        "/feeds/atom/",
        "/search/?q=Secret",
        "/search/?q=comment",
        "/search/?q=commenter.example",
        "/search/?q=approved+comment",
        "/this-page-does-not-exist/",
        "/articles/no-such-article/",
        "/comments/unsubscribe/not-a-token/",
        f"/comments/unsubscribe/{unsubscribe_token(made['approved'])}/",
    ]

    responses = crawl(reader, start)
    responses[f"GET {reverse('comments:post', args=[article.pk])}"] = reader.get(
        reverse("comments:post", args=[article.pk])
    )
    responses["/admin/login/"] = reader.get("/admin/login/")
    responses["captcha refresh"] = reader.get(
        "/captcha/refresh/", headers={"x-requested-with": "XMLHttpRequest"}
    )
    for label, client, url, data in form_posts(article, made):
        responses[label] = client.post(url, data)

    page_text = responses[page].content.decode()
    assert "A approved comment" in page_text and "An approved reply" in page_text  # there to leak
    assert {"/section/news/", "/tag/local/", "/author/ada/", "/sitemap-articles.xml"} <= set(
        responses
    ), "the crawl reached section, tag, author pages and the sitemaps"
    assert {r.status_code for r in responses.values()} >= {200, 400, 403, 404, 405}
    assert "Reply to" in responses["400: wrong captcha"].content.decode()
    for label, response in responses.items():
        assert not leaks(response), f"{leaks(response)} leaked on {label}"


def test_search_for_an_address_answers_as_for_any_unknown_address(secrets_in_the_database):
    """Search never tells whether an address has commented (it only echoes the query)."""
    reader = Client()

    known = reader.get("/search/", {"q": SECRET_EMAIL}).content.decode()
    unknown = reader.get("/search/", {"q": "nobody.at.all@example.com"}).content.decode()

    assert known.replace(SECRET_EMAIL, "ADDRESS") == unknown.replace(
        "nobody.at.all@example.com", "ADDRESS"
    )


def test_a_commenter_does_not_see_their_own_address_on_their_pending_comment(
    secrets_in_the_database, settings
):
    article, _ = secrets_in_the_database
    settings.COMMENTS_FLOOD_LIMIT = 100  # the fixture's comments from this address count too
    reader = Client()
    (question,) = add_to_pool(1)
    reader.post(
        reverse("comments:post", args=[article.pk]),
        {
            "name": "Grace Hopper",
            "email": SECRET_EMAIL,
            "body": "My own comment, awaiting moderation.",
            "captcha_0": question.hashkey,
            "captcha_1": question.response,
            "started": sign_started(article.pk),
        },
    )
    assert not CaptchaStore.objects.filter(hashkey=question.hashkey).exists()

    response = reader.get(article.get_absolute_url())

    assert "My own comment, awaiting moderation." in response.content.decode()
    assert not leaks(response)


def test_a_commenter_remembered_finds_their_address_in_no_page_or_answer_their_browser_gets(
    secrets_in_the_database, settings
):
    """The details "remember me" keeps stay in the browser, for the form's script: no page,
    fragment or JSON answer carries them, wherever the commenter reads on."""
    article, _ = secrets_in_the_database
    settings.COMMENTS_FLOOD_LIMIT = 100  # the fixture's comments from this address count too
    reader = Client()
    (question,) = add_to_pool(1)
    sent = reader.post(
        reverse("comments:post", args=[article.pk]),
        {
            "name": "Grace Hopper",
            "email": SECRET_EMAIL,
            "body": "Remember me, please.",
            "captcha_0": question.hashkey,
            "captcha_1": question.response,
            "started": sign_started(article.pk),
            "remember": "on",
        },
    )
    assert SECRET_EMAIL.lower() in unquote(sent.cookies[REMEMBER_COOKIE].value).lower()

    responses = crawl(reader, ["/", article.get_absolute_url(), "/feeds/rss/", "/sitemap.xml"])
    responses["token"] = reader.get(reverse("comments:token"))
    responses["captcha refresh"] = reader.get(
        "/captcha/refresh/", headers={"x-requested-with": "XMLHttpRequest"}
    )

    assert "Remember me, please." in responses[article.get_absolute_url()].content.decode()
    for label, response in responses.items():
        assert not leaks(response), f"{leaks(response)} leaked on {label}"
