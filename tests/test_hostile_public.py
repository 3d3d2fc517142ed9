"""Hostile query strings, paths, methods and form bodies on the reader's site: never a 500,
and each parameter does exactly what it is for (a page that exists, a search shown back as
text, a reply target that readers can see) and nothing else.
"""

import logging
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from articles.views import clean_search_query
from comments.captcha import refill_pool
from comments.models import Comment
from newsroom.middleware import METHOD_NOT_ALLOWED, UNDECODABLE_FORM
from tests.factories import make_article, make_author, make_comment, make_section, make_tag
from tests.hostile import elements, hostile_text, with_id
from tests.test_head_requests import served

pytestmark = pytest.mark.django_db

LIST_PATHS = ["/", "/section/news/", "/tag/local/", "/author/ada/", "/search/?q=story"]
FIXED_PATHS = [
    *LIST_PATHS,
    "/search/",
    "/feeds/rss/",
    "/feeds/atom/",
    "/feeds/section/news/rss/",
    "/feeds/section/news/atom/",
    "/feeds/tag/local/rss/",
    "/feeds/author/ada/atom/",
    "/follow/",
    "/section/news/follow/",
    "/tag/local/follow/",
    "/author/ada/follow/",
    "/sitemap.xml",
    "/sitemap-articles.xml",
    "/sitemap-sections.xml",
    "/robots.txt",
]
SLUG_ROUTES = [
    "/section/{}/",
    "/tag/{}/",
    "/author/{}/",
    "/articles/{}/",
    "/feeds/section/{}/rss/",
    "/feeds/section/{}/atom/",
    "/feeds/tag/{}/rss/",
    "/feeds/author/{}/atom/",
    "/section/{}/follow/",
    "/tag/{}/follow/",
    "/author/{}/follow/",
    "/sitemap-{}.xml",
]
EXISTING = {
    "/section/{}/": {"news"},
    "/tag/{}/": {"local"},
    "/author/{}/": {"ada"},
    "/articles/{}/": {"the-story"},
    "/feeds/section/{}/rss/": {"news"},
    "/feeds/section/{}/atom/": {"news"},
    "/feeds/tag/{}/rss/": {"local"},
    "/feeds/author/{}/atom/": {"ada"},
    "/section/{}/follow/": {"news"},
    "/tag/{}/follow/": {"local"},
    "/author/{}/follow/": {"ada"},
    "/sitemap-{}.xml": {"home", "sections", "articles", "authors"},
}
# Where a slug typed in other capitals redirects to the stored one: all but the sitemaps.
SLUG_ADDRESS_ROUTES = {route for route in SLUG_ROUTES if not route.startswith("/sitemap-")}
EXISTING_SLUGS = sorted(set().union(*EXISTING.values()))
# Sent as they are, already percent-encoded: bytes that are no UTF-8, a NUL, dots and a
# slash in disguise. Every other slug is quoted, so a "#" or "%" in it stays in the path.
ENCODED_SLUGS = ["%ff%fe", "%00", "%2e%2e", "%2f", "news%20"]


@pytest.fixture
def site(db):
    """One article, reachable from every kind of page, with a reply-able comment."""
    section = make_section(name="News", slug="news")
    article = make_article(
        title="The story",
        slug="the-story",
        section=section,
        author=make_author(display_name="Ada", slug="ada"),
        tags=[make_tag(name="Local", slug="local")],
    )
    return {
        "article": article,
        "approved": make_comment(article, name="<b>Approved</b> reader"),
        "pending": make_comment(article, status=Comment.Status.PENDING),
        "elsewhere": make_comment(make_article(), name="Elsewhere"),
    }


@pytest.fixture(scope="module")
def reader():
    """Made once: each new Client loads the middleware again, which costs more than a GET."""
    return Client()


def query_values():
    """A query parameter's value(s): one, or repeated (the last one counts)."""
    return st.one_of(hostile_text(), st.lists(hostile_text(40), min_size=2, max_size=3))


def with_query(path, **params):
    separator = "&" if "?" in path else "?"
    params = {name: value for name, value in params.items() if value is not None}
    return f"{path}{separator}{urlencode(params, doseq=True)}" if params else path


def last(value):
    return value[-1] if isinstance(value, list) else value


@given(
    path=st.sampled_from(LIST_PATHS),
    page=st.one_of(
        st.none(),
        query_values(),
        st.integers(-5, 12_000).map(str),
        st.from_regex(r"0*1", fullmatch=True),
    ),
)
def test_page_parameter_shows_a_page_that_exists_or_a_404(site, reader, path, page):
    response = reader.get(with_query(path, page=page))

    value = "1" if page is None else last(page)
    exists = value.isascii() and value.isdigit() and int(value) == 1  # one page of articles
    assert response.status_code == (200 if exists else 404)


# Python's int() refuses a string of more than 4,300 digits (a ValueError, not a number):
# gunicorn turns such a request line away, but runserver and other servers pass it on.
HUGE_NUMBER = "1" * 5_000
PAGE_NUMBER_PATHS = [
    *(f"{path}{'&' if '?' in path else '?'}page=" for path in LIST_PATHS),
    "/articles/the-story/?cpage=",
    "/sitemap-articles.xml?p=",
    "/sitemap-sections.xml?p=",
]


@pytest.mark.parametrize("cached", [False, True], ids=["rendered", "cached"])
@pytest.mark.parametrize("path", PAGE_NUMBER_PATHS)
def test_a_page_number_too_long_for_python_is_a_page_that_does_not_exist(
    site, reader, request, path, cached
):
    if cached:
        request.getfixturevalue("reader_cache")

    response = reader.get(path + HUGE_NUMBER)

    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/follow/", "/feeds/rss/", "/articles/the-story/?replyto="])
def test_a_number_too_long_for_python_is_ignored_where_no_page_is_chosen(site, reader, path):
    response = reader.get(f"{path}{'' if '=' in path else '?page='}{HUGE_NUMBER}")

    assert response.status_code == 200


@given(q=query_values(), page=st.sampled_from([None, "1", "2", "x"]))
def test_search_shows_the_query_back_as_text(site, reader, q, page):
    response = reader.get(with_query("/search/", q=q, page=page))

    if page in ("2", "x"):
        assert response.status_code == 404
        return
    assert response.status_code == 200
    query = clean_search_query(last(q))
    (search_box,) = elements(response.content.decode(), with_id("search-page-q"))
    assert search_box[0].get("value", "") == query
    if query:
        assert f"Results for “{escape(query)}”" in response.content.decode()


@given(data=st.data())
def test_reply_target_is_an_approved_comment_of_this_article_or_nothing(site, reader, data):
    ids = {label: str(site[label].pk) for label in ["approved", "pending", "elsewhere"]}
    replyto = data.draw(
        st.one_of(
            query_values(),
            st.sampled_from(list(ids.values())),
            st.sampled_from([f"0{ids['approved']}", f"{ids['approved']} ", "²", "٣", "9" * 40]),
            st.sampled_from([ids["approved"].rjust(19, "0"), ids["approved"].rjust(20, "0")]),
        )
    )

    response = reader.get(with_query(site["article"].get_absolute_url(), replyto=replyto))

    assert response.status_code == 200
    page = response.content.decode()
    value = last(replyto)
    # An id as the site writes it (leading zeros allowed); 20 digits or more name nothing.
    is_an_id = value.isascii() and value.isdigit() and len(value) < 20
    names_approved = is_an_id and int(value) == site["approved"].pk
    (heading,) = elements(page, with_id("respond-title"))
    (parent,) = elements(page, with_id("id_parent"))
    if names_approved:
        assert heading[1] == "Reply to <b>Approved</b> reader"
        assert parent[0]["value"] == ids["approved"]
    else:
        assert heading[1] == "Leave a Reply"
        assert "value" not in parent[0]


@given(
    route=st.sampled_from(SLUG_ROUTES),
    slug=st.one_of(
        st.sampled_from(EXISTING_SLUGS),
        hostile_text(),
        st.from_regex(r"[-a-zA-Z0-9_]{1,60}", fullmatch=True),
        st.sampled_from(["..", "NEWS"]),
        st.sampled_from(ENCODED_SLUGS),
    ),
)
def test_unknown_slugs_are_a_404(site, reader, route, slug):
    quoted = slug if slug in ENCODED_SLUGS else quote(slug, safe="")
    response = reader.get(route.format(quoted))

    if slug in EXISTING[route]:
        assert response.status_code == 200
    elif route in SLUG_ADDRESS_ROUTES and slug.isascii() and slug.lower() in EXISTING[route]:
        assert response.status_code == 301  # to the slug as stored
    else:
        assert response.status_code == 404


@given(
    path=st.sampled_from(FIXED_PATHS),
    params=st.dictionaries(
        st.one_of(st.sampled_from(["page", "p", "q", "replyto", "format", "o"]), hostile_text(20)),
        query_values(),
        max_size=4,
    ),
)
def test_any_query_string_on_any_public_page_is_no_server_error(site, reader, path, params):
    response = reader.get(with_query(path, **params))

    assert response.status_code in (200, 404)
    if response.status_code == 404:
        page_params = {"page", "p"} & params.keys()
        assert page_params, "only a page that does not exist is missing"


READ_ONLY_PATHS = [*FIXED_PATHS, "/articles/the-story/", "/media/lead-images/photo.jpg"]


CSRF_SECRET = "abcdefghijklmnopqrstuvwxyz012345"


@pytest.fixture(scope="module")
def production_browser():
    """CSRF checked and errors answered as pages, as in production."""
    return Client(enforce_csrf_checks=True, raise_request_exception=False)


@pytest.mark.parametrize("path", READ_ONLY_PATHS)
@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH", "POST"])
@pytest.mark.parametrize("with_csrf_cookie", [False, True], ids=["no cookie", "csrf cookie"])
def test_public_pages_answer_only_methods_that_read(
    site, production_browser, path, method, with_csrf_cookie
):
    """In a few plain words that name the methods the address takes: neither the page (a
    feed once answered TRACE and PUT with the whole document) nor the request (a TRACE
    answer that echoes it is what cross-site tracing reads). Nor the CSRF failure page,
    which asked to send a form again: the CSRF check comes after the method's."""
    production_browser.cookies.clear()
    if with_csrf_cookie:
        production_browser.cookies["csrftoken"] = CSRF_SECRET
    response = production_browser.generic(
        method, path, data="sent-body-marker", headers={"x-sent": "sent-header-marker"}
    )

    assert response.status_code == 405
    assert "GET" in response["Allow"]
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == METHOD_NOT_ALLOWED.format(allowed=response["Allow"])
    assert response["Content-Length"] == str(len(response.content))


@pytest.mark.parametrize("path", READ_ONLY_PATHS)
def test_options_on_a_public_page_lists_the_methods_without_the_page(site, reader, path):
    """As Django's class-based views answer it: a feed, a follow page or the sitemap
    refused it with a 405 where the article and list pages answered."""
    response = reader.options(path)

    assert response.status_code == 200
    assert {"GET", "HEAD", "OPTIONS"} <= set(response["Allow"].split(", "))
    assert not response.content


@pytest.mark.parametrize("name", ["x" * 300, "x" * 300 + "/photo.jpg", "x" * 3000])
def test_a_media_name_longer_than_any_file_system_takes_is_a_404(reader, settings, tmp_path, name):
    """A path part over 255 bytes is no file the site could have stored: the file system's
    "File name too long" was a 500."""
    settings.MEDIA_ROOT = tmp_path

    assert reader.get(f"/media/{name}").status_code == 404


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_the_comment_address_answers_other_methods_than_post_in_words(
    site, production_browser, method
):
    production_browser.cookies["csrftoken"] = CSRF_SECRET

    response = production_browser.generic(
        method, reverse("comments:post", args=[site["article"].pk]), data="body=Hello"
    )

    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert response.content.decode() == METHOD_NOT_ALLOWED.format(allowed="POST, OPTIONS")


def test_options_on_the_comment_address_lists_its_methods_as_every_page_does(site, reader):
    """It answered with its 405 page for a GET, while every other address answers 200."""
    response = reader.options(reverse("comments:post", args=[site["article"].pk]))

    assert response.status_code == 200
    assert response["Allow"] == "POST, OPTIONS"
    assert not response.content


@pytest.mark.parametrize("path", ["/favicon.ico", "/static/css/site.css"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "TRACE"])
def test_files_answer_only_methods_that_read_in_words_too(settings, path, method):
    """WhiteNoise answers them before any other middleware: its 405 was empty."""
    settings.DEBUG = True  # WhiteNoise finds static files uncollected, as under runserver
    status, headers, body = served(method, path)

    assert status == "405 Method Not Allowed"
    assert headers["Allow"] == "GET, HEAD"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert body.decode() == METHOD_NOT_ALLOWED.format(allowed="GET, HEAD")
    assert headers["Content-Length"] == str(len(body))


# Form bodies in a character set other than UTF-8 ------------------------------------------------

FORM_TARGETS = ["search", "comment", "admin login"]


def form_target(name, site):
    if name == "comment":
        return reverse("comments:post", args=[site["article"].pk])
    return {"search": "/search/", "admin login": "/admin/login/"}[name]


def post_form(browser, url, fields, *, content_type, encoding, with_csrf_cookie):
    """Post `fields` in `encoding`; with the cookie, the form carries its matching token."""
    browser.cookies.clear()
    if with_csrf_cookie:
        browser.cookies["csrftoken"] = CSRF_SECRET
        fields = {**fields, "csrfmiddlewaretoken": CSRF_SECRET}
    if content_type.startswith("multipart/form-data"):
        body = multipart_body(fields, encoding)
        content_type = f"{content_type}; boundary={BOUNDARY}"
    else:
        body = urlencode(fields, encoding=encoding).encode("ascii")
    return browser.generic("POST", url, body, content_type=content_type)


BOUNDARY = "xyz"


def multipart_body(fields, encoding):
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return "".join([*parts, f"--{BOUNDARY}--\r\n"]).encode(encoding)


FORM_FIELDS = {"q": "café", "body": "Un café, merci", "username": "zoë", "password": "x"}


@pytest.mark.parametrize("target", FORM_TARGETS)
@pytest.mark.parametrize("with_csrf_cookie", [False, True], ids=["no cookie", "csrf cookie"])
@pytest.mark.parametrize("charset", ["latin-1", "utf-16"])
def test_a_urlencoded_form_in_another_charset_is_refused_with_a_400(
    site, production_browser, target, with_csrf_cookie, charset
):
    """Such forms must be UTF-8 (RFC 1866): Django cannot read them, so neither can we."""
    response = post_form(
        production_browser,
        form_target(target, site),
        FORM_FIELDS,
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
        encoding=charset,
        with_csrf_cookie=with_csrf_cookie,
    )

    assert response.status_code == 400
    assert response.content.decode() == UNDECODABLE_FORM


READABLE_FORMS = pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        # A charset Python does not know is ignored: the body is read as UTF-8.
        ("application/x-www-form-urlencoded; charset=x-unknown", "utf-8"),
        # A multipart form may be in any charset, and is read in the one it names.
        ("multipart/form-data; charset=latin-1", "latin-1"),
        ("multipart/form-data; charset=x-unknown", "utf-8"),
    ],
)
# With its token, the form reaches the view: a comment lacks its captcha answer, the password
# is wrong. Without it, the CSRF check refuses it. Search is a page to GET, whatever the token.
ANSWER_WITH_TOKEN = {"search": 405, "comment": 400, "admin login": 200}
ANSWER_WITHOUT_TOKEN = {"search": 405, "comment": 403, "admin login": 403}


@pytest.mark.parametrize("target", FORM_TARGETS)
@pytest.mark.parametrize("with_csrf_cookie", [False, True], ids=["no cookie", "csrf cookie"])
@READABLE_FORMS
def test_other_charsets_are_read_and_answered_as_usual(
    site, production_browser, target, with_csrf_cookie, content_type, encoding
):
    refill_pool(1)  # for the comment form shown again
    response = post_form(
        production_browser,
        form_target(target, site),
        FORM_FIELDS,
        content_type=content_type,
        encoding=encoding,
        with_csrf_cookie=with_csrf_cookie,
    )

    answers = ANSWER_WITH_TOKEN if with_csrf_cookie else ANSWER_WITHOUT_TOKEN
    assert response.status_code == answers[target]


@pytest.mark.parametrize("with_csrf_cookie", [False, True], ids=["no cookie", "csrf cookie"])
@READABLE_FORMS
def test_a_comment_in_another_readable_charset_comes_back_as_typed(
    site, production_browser, with_csrf_cookie, content_type, encoding
):
    refill_pool(1)
    response = post_form(
        production_browser,
        form_target("comment", site),
        FORM_FIELDS,
        content_type=content_type,
        encoding=encoding,
        with_csrf_cookie=with_csrf_cookie,
    )

    assert FORM_FIELDS["body"] in response.content.decode()


# Bodies larger than any comment -------------------------------------------------------------

BOT_TEXT = "Bot text "
# Four times the site's limit, a fraction of the admin's 12 MB.
BODY_LARGER_THAN_ANY_COMMENT = urlencode({"body": BOT_TEXT * 120_000, "name": "Bot"})


@pytest.mark.parametrize(
    "path",
    [
        "comment",
        "/comments/token/",
        "/captcha/refresh/",
        "/search/",
        "/admin/login/",
        "/nowhere/",
    ],
)
def test_a_body_larger_than_any_comment_is_refused_unread_with_a_413(
    site, path, django_assert_num_queries
):
    """Django read up to the admin's 12 MB from anyone, and the comment form sent it all
    back in the page."""
    url = form_target("comment", site) if path == "comment" else path

    with django_assert_num_queries(0):
        response = Client().post(
            url, BODY_LARGER_THAN_ANY_COMMENT, content_type="application/x-www-form-urlencoded"
        )

    page = response.content.decode()
    assert response.status_code == 413
    assert "What you sent is too long for this site" in page
    assert "This site takes up to 256\xa0KB from a form" in page  # not "256.0 KB"
    assert "go back with its Back button to find it in the form" in page
    assert BOT_TEXT not in page


def test_a_body_sent_without_its_length_is_not_read(site):
    """Chunked, with no Content-Length: Django reads none of it (WSGI), so there is no size
    to refuse and nothing to send back."""
    response = Client().generic(
        "POST",
        form_target("comment", site),
        BODY_LARGER_THAN_ANY_COMMENT,
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )

    assert response.status_code == 400
    assert BOT_TEXT not in response.content.decode()


@pytest.mark.parametrize(
    "request_kwargs",
    [
        pytest.param({"path": "/", "headers": {"host": "scanner.example"}}, id="another host"),
        pytest.param(
            {
                "path": "/search/",
                "method": "post",
                "data": "&".join(f"f{number}=x" for number in range(1001)),
                "content_type": "application/x-www-form-urlencoded",
            },
            id="too many form fields",
        ),
    ],
)
def test_a_refused_request_mails_no_one(db, settings, mailoutbox, request_kwargs):
    """DJANGO_ADMINS receive error reports (500s). A 400 for what a bot chose to send is a
    log line, not a mail per request: scanners send any Host header all day long."""
    settings.ADMINS = ["ops@example.com"]
    kwargs = dict(request_kwargs)
    method = getattr(Client(), kwargs.pop("method", "get"))

    response = method(kwargs.pop("path"), **kwargs)

    assert response.status_code == 400
    assert mailoutbox == []


def test_a_form_body_that_cannot_be_parsed_is_logged_in_one_line(site, caplog):
    """A multipart body without its boundary is a 400 of the client's making, which any bot
    can send: a line in the log, not a traceback of where Django noticed, per request."""
    response = Client().generic(
        "POST", form_target("comment", site), b"--x\r\n\r\n", content_type="multipart/form-data"
    )

    assert response.status_code == 400
    [logged] = [record for record in caplog.records if record.name == "django.request"]
    assert "Unable to parse request body" in logged.getMessage()
    assert logged.exc_info is None


def test_a_server_error_is_still_mailed_to_the_admins(settings, mailoutbox):
    settings.ADMINS = ["ops@example.com"]

    logging.getLogger("django.request").error(
        "Internal Server Error: /", extra={"status_code": 500}
    )

    assert [message.to for message in mailoutbox] == [["ops@example.com"]]
