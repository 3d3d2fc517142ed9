"""Hostile comment submissions: never a 500, nothing stored unless valid, and what is stored
is exactly what was typed, shown back as text.

Each property runs the hypothesis profile's examples (500 in CI) against one set of rows made
once per test; every example cleans up the comments it created.
"""

import secrets
from urllib.parse import urlencode

import pytest
from captcha.models import CaptchaStore
from django.conf import settings as django_settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from comments.captcha import add_to_pool, refill_pool
from comments.forms import (
    BODY_ALLOWED_CONTROLS,
    FORM_NOT_CHECKED,
    STARTED_SALT,
    has_visible_characters,
    sign_started,
)
from comments.models import WEBSITE_MAX_LENGTH, Comment, held_within_its_isolate
from comments.notifications import UNSUBSCRIBE_SALT
from comments.thread import PENDING_COOKIE, PENDING_SALT
from tests.factories import make_article, make_comment
from tests.hostile import (
    TRICKY_PIECES,
    elements,
    has_control_characters,
    hostile_text,
    with_class,
    with_id,
    without_whitespace,
)

pytestmark = pytest.mark.django_db

Status = Comment.Status
ALLOWED_IN_BODY = "".join(BODY_ALLOWED_CONTROLS)
PRINTABLE_PIECES = [piece for piece in TRICKY_PIECES if not has_control_characters(piece)]
MISSING = object()
HOSTILE = object()  # drawn from hostile_text() for the field at hand


@pytest.fixture(autouse=True)
def _quick_and_unflooded(settings):
    """Hundreds of comments from one address within seconds: the timer and flood limits have
    their own tests; here they would only hide what the form does."""
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    settings.COMMENTS_FLOOD_LIMIT = 10**9
    settings.COMMENTS_REDISPLAY_LIMIT = 10**9


@pytest.fixture
def readers():
    """A browser, and a bot that sends no CSRF token. Made once per test: each new Client
    loads the middleware again, which costs more than a request."""
    return {"browser": Client(), "bot": Client(enforce_csrf_checks=True)}


def first_visit(reader):
    """The same client as a new visitor: no cookie, so no session."""
    reader.cookies.clear()
    return reader


@pytest.fixture
def article(db):
    refill_pool(3)  # the questions that re-rendered forms show
    return make_article()


def post_url(article_pk):
    return reverse("comments:post", args=[article_pk])


def fresh_question():
    """A question straight from the pool, and its answer."""
    (store,) = add_to_pool(1)
    return store.hashkey, store.response


def typed(alphabet_excluded, *, min_size, max_size, allowed=""):
    """Text a person could type into the field: any characters but control ones, and
    something to see (not only zero-width or combining marks)."""
    characters = st.characters(exclude_categories=alphabet_excluded, include_characters=allowed)
    return st.one_of(
        st.text(characters, max_size=max_size),
        st.lists(
            st.one_of(st.sampled_from(PRINTABLE_PIECES), st.text(characters, max_size=8)),
            max_size=10,
        ).map("".join),
    ).filter(
        lambda text: min_size <= len(text.strip()) <= max_size and has_visible_characters(text)
    )


VALID_NAMES = typed(["Cc", "Cs"], min_size=1, max_size=100)
VALID_BODIES = typed(["Cc", "Cs"], min_size=2, max_size=5000, allowed=ALLOWED_IN_BODY)
VALID_EMAILS = st.from_regex(
    r"[a-z0-9+_-]{1,30}(\.[a-z0-9+_-]{1,10})?@[a-z0-9]{1,20}\.(com|org|example)", fullmatch=True
)
VALID_URLS = st.one_of(
    st.just(""),
    st.from_regex(r"https?://[a-z0-9]{1,20}\.(com|org)(/[A-Za-z0-9_~.-]{0,30})?", fullmatch=True),
)


def submit(reader, article, **values):
    key, answer = fresh_question()
    data = {
        "captcha_0": key,
        "captcha_1": answer,
        "started": sign_started(article.pk),
        "parent": "",
        "phone": "",
        **values,
    }
    return reader.post(post_url(article.pk), data)


def assert_stored_as_typed(comment, *, name, email, url, body):
    """The form trims surrounding space and nothing else; the limits hold."""
    assert comment.name == name.strip()
    assert comment.email == email.strip()
    assert comment.body == body.strip()
    if url.strip():
        assert comment.url.startswith(("http://", "https://"))
    else:
        assert comment.url == ""
    assert 1 <= len(comment.name) <= 100
    assert len(comment.email) <= 254 and "@" in comment.email
    assert len(comment.url) <= WEBSITE_MAX_LENGTH
    assert 2 <= len(comment.body) <= 5000
    assert not has_control_characters(comment.name + comment.email + comment.url)
    assert not has_control_characters(comment.body, allowed=ALLOWED_IN_BODY)


def comment_section(page):
    """The part of the article page the checks read (parsing only it keeps examples cheap)."""
    return page[page.index('<section id="comments"') :]


def assert_shown_as_typed(page, comment):
    """The reader's own pending comment shows every character they typed, as text, but
    for what would end the isolate around their name (held_within_its_isolate)."""
    page = comment_section(page)
    (author,) = elements(page, with_id(f"comment-{comment.pk}-author"))
    assert author[1] == held_within_its_isolate(comment.name)
    (text,) = elements(page, with_class("comment__text"))
    # Line breaks become <p> and <br>; every other character is there, escaped.
    assert without_whitespace(text[1]) == without_whitespace(comment.body)
    website_links = elements(page, lambda tag, attrs: attrs.get("rel") == "nofollow ugc noopener")
    assert [attrs["href"] for attrs, _ in website_links] == ([comment.url] if comment.url else [])


def assert_typed_values_kept(page, *, name, body):
    """A refused form comes back with the reader's text in place."""
    page = comment_section(page)
    (textarea,) = elements(page, with_id("id_body"))
    assert textarea[1].removeprefix("\n") == body
    (name_input,) = elements(page, with_id("id_name"))
    assert name_input[0].get("value", "") == name


@given(data=st.data())
def test_typed_text_is_stored_exactly_and_shown_as_text_or_refused_with_the_text_kept(
    readers, article, data
):
    """Half the examples type what a person could (all accepted), half mix in anything."""
    person = data.draw(st.booleans(), label="typed by a person")
    fields = {
        name: data.draw(valid if person else st.one_of(valid, hostile_text()), label=name)
        for name, valid in [
            ("name", VALID_NAMES),
            ("email", VALID_EMAILS),
            ("url", VALID_URLS),
            ("body", VALID_BODIES),
        ]
    }
    reader = first_visit(readers["browser"])

    response = submit(reader, article, **fields)

    if not person and sent_more_than_readers_may(response):
        assert response.status_code == 413
        assert not Comment.objects.exists()
        return
    assert response.status_code in ((303,) if person else (303, 400))
    if response.status_code == 400:
        assert not Comment.objects.exists()
        assert_typed_values_kept(
            response.content.decode(), name=fields["name"], body=fields["body"]
        )
        return
    comment = Comment.objects.get()
    assert response["Location"] == f"{article.get_absolute_url()}#comment-{comment.pk}"
    assert comment.status == Status.PENDING
    assert_stored_as_typed(comment, **fields)
    page = reader.get(article.get_absolute_url()).content.decode()
    assert_shown_as_typed(page, comment)
    email = comment.email.lower()
    if email not in (comment.name + comment.body + comment.url).lower():
        assert email not in page.lower()
    Comment.objects.all().delete()


# Forged, missing, repeated and wrongly typed fields -----------------------------------------


@pytest.fixture
def world(article):
    """One open article with a thread, and every kind of place a forged post might point at."""
    other = make_article()
    return {
        "article": article,
        "closed": make_article(comments_enabled=False),
        "draft": make_article(status="draft", published_at=None),
        "approved": make_comment(article, status=Status.APPROVED),
        "pending": make_comment(article, status=Status.PENDING),
        "rejected": make_comment(article, status=Status.REJECTED),
        "spam": make_comment(article, status=Status.SPAM),
        "elsewhere": make_comment(other, status=Status.APPROVED),
    }


class Post:
    """A post being forged: its fields, and whether each makes the comment valid.

    A verdict is True (valid), False (refused) or None (depends on the text drawn).
    """

    def __init__(self, data):
        self.data = data
        self.fields = {}
        self.verdicts = {}

    def choose(self, name, options):
        """Draw one of `options` ({label: (value, verdict)}) for the field `name`."""
        label = self.data.draw(st.sampled_from(sorted(options)), label=name)
        value, verdict = options[label]
        if value is HOSTILE:
            value = self.data.draw(hostile_text(), label=f"{name} text")
        self.set(name, value, verdict)

    def set(self, name, value, verdict):
        shape = self.data.draw(st.sampled_from(["once", "repeated", "file"]), label=f"{name} as")
        if value is MISSING:
            self.fields.pop(name, None)
        elif shape == "repeated":  # the last value counts, as in QueryDict.get()
            earlier = self.data.draw(st.lists(hostile_text(40), min_size=1, max_size=2))
            self.fields[name] = [*earlier, value]
        elif shape == "file":  # not form data at all: the field is missing
            self.fields[name] = SimpleUploadedFile(f"{name}.txt", str(value).encode())
            verdict = False if name in REQUIRED else verdict
        else:
            self.fields[name] = value
        self.verdicts[name] = verdict

    def value(self, name, default=""):
        value = self.fields.get(name, default)
        if isinstance(value, SimpleUploadedFile):
            return default
        return value[-1] if isinstance(value, list) else value


REQUIRED = {"name", "email", "body", "captcha_0", "captcha_1", "started"}


def forge_post(data, world):
    article = world["article"]
    key, answer = fresh_question()
    used_key, _ = fresh_question()
    CaptchaStore.objects.filter(hashkey=used_key).delete()
    post = Post(data)
    hostile = HOSTILE
    for name, valid in [
        ("name", "Grace Hopper"),
        ("email", "grace@example.com"),
        ("body", "A thoughtful comment."),
    ]:
        post.choose(
            name, {"valid": (valid, True), "missing": (MISSING, False), "hostile": (hostile, None)}
        )
    post.choose(
        "url",
        {"empty": ("", True), "valid": ("https://example.com/", True), "missing": (MISSING, True)}
        | {"hostile": (hostile, None)},
    )
    post.choose(
        "parent",
        {
            "none": ("", True),
            "missing": (MISSING, True),
            "approved": (str(world["approved"].pk), True),
            "hostile": (hostile, None),
        }
        | {
            label: (str(world[label].pk), False)
            for label in ["pending", "rejected", "spam", "elsewhere"]
        }
        | {
            label: (value, False)
            for label, value in [
                ("unknown", "99999999"),
                ("huge", "9" * 40),
                ("negative", f"-{world['approved'].pk}"),
                ("zero", "0"),
                ("float", f"{world['approved'].pk}.0"),
                ("superscript", "²"),
                ("arabic digit", chr(0x0660 + world["approved"].pk % 10)),
            ]
        },
    )
    post.choose(
        "captcha_0",
        {
            "live": (key, True),
            "used": (used_key, False),
            "random": (secrets.token_hex(20), False),
            "upper": (key.upper(), False),
            "missing": (MISSING, False),
            "hostile": (hostile, False),
        },
    )
    post.choose(
        "captcha_1",
        {
            "right": (answer, True),
            "spaced": (f"  {answer} ", True),
            "wrong": (str(int(answer) + 1), False),
            "missing": (MISSING, False),
            "hostile": (hostile, None),
        },
    )
    post.choose(
        "started",
        {
            "signed": (sign_started(article.pk), True),
            "other article": (sign_started(world["closed"].pk), False),
            "tampered": (sign_started(article.pk)[:-2] + "xx", False),
            "missing": (MISSING, False),
            "hostile": (hostile, False),
        },
    )
    post.choose(
        "phone", {"empty": ("", True), "missing": (MISSING, True), "filled": (hostile, True)}
    )
    for name in ["notify_on_publish", "remember"]:
        post.choose(
            name, {"on": ("on", True), "missing": (MISSING, True), "hostile": (hostile, True)}
        )
    return post


def sent_more_than_readers_may(response):
    """Whether the request's body was longer than the site reads from anyone but staff."""
    sent = int(response.request.get("CONTENT_LENGTH") or 0)
    return sent > django_settings.PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE


def checkbox(post, name):
    value = post.value(name, default="")
    return bool(value) and value.lower() not in ("false", "0")


@given(data=st.data())
def test_forged_missing_and_repeated_fields_never_fail_and_store_only_valid_comments(
    readers, world, data
):
    article = world["article"]
    target = data.draw(
        st.sampled_from(["article", "article", "article", "closed", "draft", "nowhere"]),
        label="posted to",
    )
    target_pk = {"nowhere": 10**30}.get(target) or world[target].pk
    post = forge_post(data, world)
    new_question = data.draw(st.booleans(), label="new question button")
    if new_question:
        post.fields["new_question"] = "1"
    encoding = data.draw(st.sampled_from(["multipart", "urlencoded", "no csrf token"]))
    reader = first_visit(readers["bot" if encoding == "no csrf token" else "browser"])
    before = set(Comment.objects.values_list("pk", flat=True))

    form_fields = {k: v for k, v in post.fields.items() if not isinstance(v, SimpleUploadedFile)}
    if encoding == "urlencoded":
        body = urlencode(form_fields, doseq=True)
        response = reader.post(
            post_url(target_pk), body, content_type="application/x-www-form-urlencoded"
        )
    else:
        response = reader.post(post_url(target_pk), post.fields)

    created = Comment.objects.exclude(pk__in=before)
    if encoding == "no csrf token":
        expected = {403}
    elif target in ("draft", "nowhere"):
        expected = {404}
    elif target == "closed":
        expected = {403}
    elif new_question:
        expected = {200}
    elif all(post.verdicts.values()):
        expected = {303}
    elif False in post.verdicts.values():
        expected = {400}
    else:
        expected = {303, 400}
    if sent_more_than_readers_may(response):
        expected = {413}  # refused unread
    assert response.status_code in expected, post.verdicts
    if response.status_code != 303:
        assert not created.exists()
        return
    (comment,) = created
    assert comment.article_id == article.pk
    assert_stored_as_typed(
        comment,
        name=post.value("name"),
        email=post.value("email"),
        url=post.value("url"),
        body=post.value("body"),
    )
    parent = post.value("parent").strip()
    assert comment.parent_id == (world["approved"].pk if parent else None)
    assert comment.status == (Status.SPAM if post.value("phone").strip() else Status.PENDING)
    assert comment.notify_on_publish is checkbox(post, "notify_on_publish")
    created.delete()


RAW_PIECES = [
    b"name=a",
    b"body=%00",
    b"&",
    b"=",
    b"%",
    b"%ZZ",
    b"parent=%C2%B2",
    b"\xff\xfe",
    b"captcha_0=" + b"a" * 40,
    b"--xyz\r\nContent-Disposition: form-data; name=body\r\n\r\nhi\r\n--xyz--",
]


@given(
    body=st.one_of(
        st.binary(max_size=3000),
        st.lists(st.sampled_from(RAW_PIECES), max_size=12).map(b"&".join),
    ),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=utf-16",
            "application/x-www-form-urlencoded; charset=latin-1",
            "application/x-www-form-urlencoded; charset=no-such-charset",
            "multipart/form-data",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data; boundary=",
            "application/json",
            "text/plain",
            "",
        ]
    ),
    csrf=st.booleans(),
)
def test_raw_request_bodies_never_fail_nor_store_anything(
    readers, article, body, content_type, csrf
):
    reader = first_visit(readers["bot" if csrf else "browser"])

    response = reader.generic("POST", post_url(article.pk), body, content_type=content_type)

    assert response.status_code in ({400, 403} if csrf else {400})
    assert not Comment.objects.exists()


# Found by the properties above ----------------------------------------------------------------


def test_new_question_with_a_superscript_digit_as_reply_target_is_no_server_error(world, readers):
    """ "²" passes str.isdigit() but not int(): the form is shown again, as a new comment."""
    article = world["article"]
    key, _ = fresh_question()
    reader = first_visit(readers["browser"])

    response = reader.post(
        post_url(article.pk),
        {"new_question": "1", "body": "Kept text", "parent": "²", "captcha_0": key},
    )

    assert response.status_code == 200
    assert "Kept text" in response.content.decode()
    assert "Leave a Reply" in response.content.decode()


def test_stale_form_with_a_superscript_digit_as_reply_target_gives_the_text_back(world, readers):
    reader = first_visit(readers["bot"])
    count = Comment.objects.count()

    response = reader.post(post_url(world["article"].pk), {"body": "Kept text", "parent": "²"})

    assert response.status_code == 403
    assert "Kept text" in response.content.decode()
    assert Comment.objects.count() == count


# Found by the sweep against gunicorn: values signed with the site's key, in another shape ------


@pytest.mark.parametrize("started", ["a string", None, [1], {"at": 1.0}])
def test_a_form_time_signed_in_another_shape_is_a_form_error_not_a_server_error(
    article, readers, started
):
    """Only the site can sign "form shown at", but a value it signed in another shape (an
    older release's, a key reused by another app) was a 500 when the time was subtracted."""
    reader = first_visit(readers["browser"])
    value = signing.dumps([article.pk, started], salt=STARTED_SALT, compress=False)

    response = submit(
        reader, article, name="Ada", email="ada@example.com", body="Kept text", started=value
    )

    assert response.status_code == 400
    assert FORM_NOT_CHECKED in response.content.decode()
    assert "Kept text" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize("signed", ["12", "not a number", [1, 2], {"id": 1}, True, None, 1.5])
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unsubscribe_token_signed_in_another_shape_is_an_invalid_link(
    article, readers, signed, method
):
    """The token is a comment's id signed by the site; anything else it might have signed
    (a list, a text) was a 500 when read as an id, and True or 1.5 read as comment 1."""
    comment = make_comment(article, notify_on_publish=True)
    token = signing.dumps(signed, salt=UNSUBSCRIBE_SALT)

    response = getattr(readers["browser"], method)(f"/comments/unsubscribe/{token}/")

    assert response.status_code == 404
    comment.refresh_from_db()
    assert comment.notify_on_publish


@pytest.mark.parametrize("token", ["%00", "abc%00def", "%C3%A9t%C3%A9", "x" * 2_000, "%20"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unsubscribe_token_no_key_looks_like_is_an_invalid_link(article, readers, token, method):
    """A key is URL-safe base64: anything else (a NUL, which PostgreSQL refuses in text)
    is an invalid link without asking the database."""
    comment = make_comment(article, notify_on_publish=True)

    response = getattr(readers["browser"], method)(f"/comments/unsubscribe/{token}/")

    assert response.status_code == 404
    comment.refresh_from_db()
    assert comment.notify_on_publish


# Ids past the database's integers (64 bits): ignored as unknown ones, never a 500 --------

PAST_64_BITS = [
    pytest.param(str(2**63), id="2**63"),
    pytest.param("9" * 19, id="19 digits"),
    pytest.param("1" * 30, id="30 digits"),
    pytest.param("1" * 4400, id="more digits than int() reads"),
]


def signed_pending_cookie(value):
    response = HttpResponse()
    response.set_signed_cookie(PENDING_COOKIE, value, salt=PENDING_SALT)
    return response.cookies[PENDING_COOKIE].value


@pytest.mark.parametrize("big", PAST_64_BITS)
@pytest.mark.parametrize("entry", ["{big}", "{big}.#{article}", "1.#{big}", "{big}.0123456789ab"])
def test_a_signed_pending_cookie_naming_an_id_past_64_bits_is_ignored(
    article, readers, big, entry, settings
):
    """Only the site can sign the cookie, but an id the database cannot hold was a 500 on
    SQLite (OverflowError) on the article page and at the next comment: it names no
    comment of anyone's, as an unknown id does not."""
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    mine = make_comment(article, status=Status.PENDING, body="Mine, still waiting.")
    reader = first_visit(readers["browser"])
    value = f"{mine.pk}.#{article.pk}," + entry.format(big=big, article=article.pk)
    reader.cookies[PENDING_COOKIE] = signed_pending_cookie(value)

    page = reader.get(article.get_absolute_url())
    sent = submit(reader, article, name="Ada", email="ada@example.com", body="Another one.")

    assert page.status_code == 200
    assert "Mine, still waiting." in page.content.decode()
    assert sent.status_code == 303
    assert Comment.objects.filter(body="Another one.").exists()


@pytest.mark.parametrize("big", PAST_64_BITS)
def test_a_reply_link_or_target_past_64_bits_is_a_comment_gone(article, readers, big):
    reader = first_visit(readers["browser"])

    link = reader.get(f"{article.get_absolute_url()}?replyto={big}")
    sent = submit(reader, article, name="Ada", email="ada@example.com", body="Kept", parent=big)
    chosen = submit(reader, article, name="Ada", email="ada@example.com", body="Kept", replyto=big)

    assert link.status_code == 200
    assert sent.status_code == 400
    assert "Kept</textarea>" in sent.content.decode()
    assert chosen.status_code == 200
    assert "Kept</textarea>" in chosen.content.decode()
    assert not Comment.objects.exists()
