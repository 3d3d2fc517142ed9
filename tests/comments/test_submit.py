"""Sending a comment: what a commenter sees, and what is stored."""

import json
import re
import time
from html import unescape
from urllib.parse import unquote, urljoin

import pytest
from captcha.models import CaptchaStore
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.cache import cache, caches
from django.core.cache.backends.base import CacheKeyWarning
from django.core.cache.backends.redis import RedisCache
from django.db.models import F
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comments import services
from comments.captcha import EXPIRED_QUESTION, WRONG_ANSWER, pool_keys
from comments.forms import BAD_PARENT, STARTED_SALT, TOO_FAST, WEBSITE_TOO_LONG
from comments.models import USER_AGENT_MAX_LENGTH, Comment, commenter_keys
from comments.moderation import (
    DUPLICATE,
    EMAIL_FLOODED,
    FLOODED,
    HONEYPOT_FILLED,
    PRE_MODERATION,
)
from comments.ratelimit import flood_source
from comments.thread import PENDING_COOKIE
from comments.views import (
    AWAITING_MODERATION,
    PUBLISHED,
    REMEMBER_COOKIE,
    REMEMBER_MAX_AGE,
    SIGNED_REMEMBER_SALT,
)
from tests.factories import (
    captcha_answer,
    comment_form_data,
    form_values,
    make_article,
    make_comment,
    make_draft,
    make_editor,
    make_scheduled,
    make_thread_numbered_backwards,
    make_user,
    post_url,
    press,
)
from tests.redis_space import RedisSpace, take_time_off

pytestmark = pytest.mark.django_db


def test_valid_comment_is_stored_pending_and_redirects_to_it(client, article, fill_form):
    response = client.post(post_url(article), fill_form(article, notify_on_publish="on"))

    comment = Comment.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"{article.get_absolute_url()}#comment-{comment.pk}"
    assert comment.status == Comment.Status.PENDING
    assert comment.held_reason == PRE_MODERATION
    assert comment.notify_on_publish is True
    assert (comment.name, comment.email, comment.body) == (
        "Grace Hopper",
        "grace@example.com",
        "A thoughtful comment.",
    )
    assert comment.ip_address == "127.0.0.1"


@pytest.mark.parametrize(("approved", "query"), [(3, ""), (4, "?cpage=2")])
def test_a_new_comment_under_a_full_last_page_lands_on_the_page_that_shows_it(
    client, article, fill_form, settings, approved, query
):
    """Three approved comments fill page 1; the commenter's own pending comment is shown on
    the last page, so the redirect must not point at a page 2 that does not exist. A fourth
    makes page 2 the last. Replies, and comments no reader sees, take no room on a page."""
    settings.COMMENTS_PER_PAGE = 3
    for number in range(approved):
        first = make_comment(article, body=f"Approved {number}.")
    make_comment(article, parent=first, body="An approved reply.")
    make_comment(article, status=Comment.Status.PENDING, body="Someone else's, waiting.")
    make_comment(make_article(), body="On another article.")

    response = client.post(post_url(article), fill_form(article, body="Mine, waiting."))
    landing = client.get(response["Location"])

    comment = Comment.objects.get(body="Mine, waiting.")
    assert response["Location"] == f"{article.get_absolute_url()}{query}#comment-{comment.pk}"
    assert landing.status_code == 200
    assert f'id="comment-{comment.pk}"' in landing.content.decode()


@pytest.mark.parametrize("comments", [0, 60])
def test_a_new_visitors_comment_and_the_page_it_lands_on_cost_a_bounded_number_of_queries(
    client, article, fill_form, settings, monkeypatch, django_assert_max_num_queries, comments
):
    """The article (with its top-level comments counted, for the redirect's page), the
    question claimed (one DELETE ... RETURNING), the duplicate check (which also reads the
    address's unsubscribe key: the link of an earlier email stops this one too; and the
    commenter's key, which the flood limit counts them under), the flood
    limit's two counts (no Redis here) and the insert in a savepoint (two statements more
    inside the test's transaction): eight. (On PostgreSQL with Redis: the flood counts in
    Redis, and the lock that makes the same words wait, seven. The claims that refill the
    captcha pool, one in POOL_TOP_UP_EVERY, cost four more: none here. The moderators'
    notification runs after the commit.) The page it lands on, rendered for the commenter,
    costs what the article page costs anyone."""
    monkeypatch.setattr("comments.captcha.POOL_TOP_UP_EVERY", 10**12)
    settings.COMMENTS_CAPTCHA_POOL_SIZE = 5
    settings.COMMENTS_PER_PAGE = 25
    for _ in range(comments):
        make_comment(article)
    data = fill_form(article)

    with django_assert_max_num_queries(8):
        response = client.post(post_url(article), data)
    with django_assert_max_num_queries(8):
        landing = client.get(response["Location"])

    assert response.status_code == 303
    assert "Your comment is awaiting moderation." in landing.content.decode()


def test_commenter_sees_own_pending_comment_and_the_notice(client, article, fill_form):
    client.post(post_url(article), fill_form(article, body="Mine, awaiting review."))

    page = client.get(article.get_absolute_url()).content.decode()
    comment = Comment.objects.get()
    assert f'id="comment-{comment.pk}"' in page
    assert "Mine, awaiting review." in page
    assert AWAITING_MODERATION in page
    assert str(comment.pk) in client.cookies[PENDING_COOKIE].value
    assert Session.objects.count() == 0  # no database row for a commenter


def test_previously_approved_commenter_is_told_the_comment_is_published(
    client, article, fill_form, settings
):
    settings.COMMENTS_AUTO_APPROVE_PREVIOUSLY_APPROVED = True
    make_comment(article, email="grace@example.com", status=Comment.Status.APPROVED)

    client.post(post_url(article), fill_form(article, body="Back again, and published."))

    page = Client().get(article.get_absolute_url()).content.decode()
    own_page = client.get(article.get_absolute_url()).content.decode()
    assert "Back again, and published." in page
    assert PUBLISHED in own_page
    assert AWAITING_MODERATION not in own_page
    assert PENDING_COOKIE not in client.cookies


def test_pending_comment_is_invisible_to_other_readers(client, article, fill_form):
    client.post(post_url(article), fill_form(article, body="Mine, awaiting review."))

    page = Client().get(article.get_absolute_url()).content.decode()
    assert "Mine, awaiting review." not in page


def test_pending_comment_of_someone_else_is_not_shown_for_a_forged_cookie(client, article):
    other = make_comment(article, status=Comment.Status.PENDING, body="Not yours.")
    client.cookies[PENDING_COOKIE] = str(other.pk)  # unsigned: written by hand

    assert "Not yours." not in client.get(article.get_absolute_url()).content.decode()


def test_spaces_around_the_captcha_answer_are_accepted(client, article, fill_form):
    data = fill_form(article)
    data["captcha_1"] = f"  {data['captcha_1']} "

    assert client.post(post_url(article), data).status_code == 303


@pytest.mark.parametrize(
    "typed",
    [
        "35.",  # the end of a sentence, or a phone's double space (". ")
        "35. ",
        "35!",
        "\uff13\uff15\u3002",  # full width, with the full stop of Chinese and Japanese
        "035",
        "0035",
        "= 35",  # the question's own "=", typed again
        "=35",
        "Thirty-five.",
    ],
)
def test_the_right_answer_typed_as_people_type_it_is_accepted(client, article, fill_form, typed):
    """Each of these was called wrong, and the question used up: the reader, who had it
    right, was asked another."""
    data = fill_form(article)
    CaptchaStore.objects.filter(hashkey=data["captcha_0"]).update(response="35")
    data["captcha_1"] = typed

    assert client.post(post_url(article), data).status_code == 303


@pytest.mark.parametrize(
    "typed", ["36", "350", "3.5", "35.5", "-35", "3 5", "35 36", "35=", ".35", "0" * 5000]
)
def test_a_wrong_answer_near_the_right_one_is_still_wrong(client, article, fill_form, typed):
    data = fill_form(article)
    CaptchaStore.objects.filter(hashkey=data["captcha_0"]).update(response="35")
    data["captcha_1"] = typed

    response = client.post(post_url(article), data)

    assert response.status_code == 400
    assert WRONG_ANSWER in response.content.decode()


@pytest.mark.parametrize(
    "typed",
    ["  = Seventy-seven.  ", "\uff1d\u3000\uff17\uff17\u3002", "0" * 38 + "77"],
    ids=["in words", "full width", "zeros"],
)
def test_the_right_answer_as_long_as_a_meaningful_one_may_be_is_accepted(
    client, article, fill_form, typed
):
    data = fill_form(article)
    CaptchaStore.objects.filter(hashkey=data["captcha_0"]).update(response="77")
    data["captcha_1"] = typed

    assert client.post(post_url(article), data).status_code == 303


@pytest.mark.parametrize(
    "typed",
    ["0" * 39 + "77", "77" + " " * 250_000, "0" * 250_000 + "77"],
    ids=["one too many zeros", "a post's worth of spaces", "a post's worth of zeros"],
)
def test_an_answer_longer_than_any_meaningful_one_is_wrong_and_the_text_kept(
    client, article, fill_form, typed
):
    """An answer of any length was read whole (made NFKC, each digit's value looked up: a
    third of a second for 250 KB, which a bot may send): one longer than any meaningful
    answer is wrong unread."""
    data = fill_form(article, body="Words I do not want to type again.")
    CaptchaStore.objects.filter(hashkey=data["captcha_0"]).update(response="77")
    data["captcha_1"] = typed

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert WRONG_ANSWER in page
    assert "Words I do not want to type again.</textarea>" in page
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "digits",
    [
        "".join(map(chr, range(0xFF10, 0xFF1A))),  # full width: a Japanese keyboard's default
        "٠١٢٣٤٥٦٧٨٩",  # Arabic-Indic
        "०१२३४५६७८९",  # Devanagari
    ],
)
def test_the_right_answer_in_another_scripts_digits_is_accepted(client, article, fill_form, digits):
    data = fill_form(article)
    data["captcha_1"] = "".join(digits[int(digit)] for digit in data["captcha_1"])

    assert client.post(post_url(article), data).status_code == 303


@pytest.mark.parametrize(
    ("answer", "typed"), [(7, "Seven"), (35, "thirty-five"), (81, "Eighty one")]
)
def test_the_right_answer_in_words_is_accepted(client, article, fill_form, answer, typed):
    """The question is written half in words ("five × 7 =") and spoken in words: a reader,
    and most of all one who listened to it, may well answer "thirty-five", which was called
    wrong."""
    data = fill_form(article)
    CaptchaStore.objects.filter(hashkey=data["captcha_0"]).update(response=str(answer))
    data["captcha_1"] = typed

    assert client.post(post_url(article), data).status_code == 303


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("body", "x", "at least 2 characters"),
        ("url", "javascript:alert(1)", "Enter a valid URL."),
    ],
)
def test_invalid_field_rerenders_article_with_everything_kept(
    client, article, fill_form, field, value, message
):
    data = fill_form(
        article, name="Ada", body="Keep every word of this.", url="https://ada.example"
    )
    data[field] = value

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert article.title in page  # the real article page, not a bare form
    assert message in page
    assert 'id="comment-errors" tabindex="-1"' in page
    for kept in ("name", "email", "url"):
        if data[kept]:
            assert f'value="{data[kept]}"' in page
    if field != "body":
        assert "Keep every word of this.</textarea>" in page
    assert Comment.objects.count() == 0


def test_wrong_answer_keeps_text_and_asks_a_fresh_question(client, article, fill_form):
    data = fill_form(article, body="Words I do not want to type again.")
    data["captcha_1"] = str(int(data["captcha_1"]) + 1)

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert WRONG_ANSWER in page
    assert "Words I do not want to type again.</textarea>" in page
    new_key = form_values(page, "captcha_0")
    assert new_key and new_key != data["captcha_0"]
    assert CaptchaStore.objects.filter(hashkey=new_key).exists()
    assert Comment.objects.count() == 0


def test_a_form_sent_back_asks_a_question_no_other_reader_can_use_up(client, article, fill_form):
    """Cached pages share the pool's questions: drawn from it, the question of a form sent
    back with a wrong answer could be answered by another reader first, and the reader who
    had been sent back once already was told on the next try that it had expired."""
    data = fill_form(article, body="Second try.", captcha_1="-1")
    back = client.post(post_url(article), data).content.decode()
    key = form_values(back, "captcha_0")
    answer = captcha_answer(key)  # read from the question's picture
    for number, drawn in enumerate(pool_keys(100)):  # every question other readers are shown
        other = Client(REMOTE_ADDR=f"198.51.100.{number + 1}")
        page = other.get(article.get_absolute_url()).content.decode()
        answered = comment_form_data(
            page,
            email=f"reader{number}@example.com",
            body=f"Reader {number}.",
            captcha_0=drawn,
            captcha_1=captcha_answer(drawn),
        )
        assert other.post(post_url(article), answered).status_code == 303

    response = client.post(post_url(article), {**data, "captcha_0": key, "captcha_1": answer})

    assert EXPIRED_QUESTION not in response.content.decode()
    assert response.status_code == 303
    assert Comment.objects.filter(body="Second try.").exists()


def test_links_on_a_form_sent_back_lead_to_pages_of_the_article(
    client, article, fill_form, settings
):
    """The page sent back with errors is at the form's address: its "Newer comments" links
    must still open the article, not ask the form's address for a page."""
    settings.COMMENTS_PER_PAGE = 3
    for number in range(4):
        make_comment(article, body=f"Approved {number}.")
    data = fill_form(article)
    data["captcha_1"] = str(int(data["captcha_1"]) + 1)

    response = client.post(post_url(article), data)

    page = response.content.decode()
    links = re.findall(r'<a rel="next" href="([^"]+)"', page)
    assert len(links) == 2  # "Newer comments" above and below
    for link in links:
        target = urljoin(post_url(article), unescape(link)).split("#")[0]
        assert target.startswith(article.get_absolute_url())
        assert client.get(target).status_code == 200


def test_a_reply_sent_back_shows_the_comment_it_answers_on_a_later_page(
    client, article, fill_form, settings
):
    settings.COMMENTS_PER_PAGE = 3
    comments = [make_comment(article, body=f"Approved {number}.") for number in range(4)]
    answered = comments[3]
    data = fill_form(article, f"{article.get_absolute_url()}?cpage=2&replyto={answered.pk}")
    data["captcha_1"] = str(int(data["captcha_1"]) + 1)

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert form_values(page, "parent") == str(answered.pk)
    assert f'id="comment-{answered.pk}"' in page
    assert "Page 2 of 2" in page


@pytest.mark.parametrize("label", ["Post Comment", "Show a new question"])
def test_a_form_sent_from_a_later_page_comes_back_on_that_page(
    client, article, captcha_pool, settings, label
):
    """The reader was reading page 2: the form sent back (a wrong answer, a new question)
    shows page 2 again above it, not the first page."""
    settings.COMMENTS_PER_PAGE = 1
    make_comment(article, body="On the first page.")
    make_comment(article, body="On the second page.")
    page = client.get(f"{article.get_absolute_url()}?cpage=2").content.decode()
    typed = comment_form_data(page, body="Mine, kept.", captcha_1="-1")

    response = press(client, page, label, typed)

    back = response.content.decode()
    assert "Page 2 of 2" in back
    assert "On the second page." in back
    assert "On the first page." not in back
    assert "\nMine, kept.</textarea>" in back


def test_a_form_first_sent_without_a_token_from_a_later_page_still_comes_back_there(
    article, captcha_pool, settings
):
    """The shared copy of page 2 has no token: its first send gets a page of its own with
    the form (the usual first step without JavaScript). What that form sends comes back on
    page 2, as it would have from page 2 itself."""
    settings.COMMENTS_PER_PAGE = 1
    make_comment(article, body="On the first page.")
    make_comment(article, body="On the second page.")
    reader = Client(enforce_csrf_checks=True)
    page = reader.get(f"{article.get_absolute_url()}?cpage=2").content.decode()
    first = press(reader, page, "Post Comment", comment_form_data(page, csrfmiddlewaretoken=""))
    assert first.status_code == 403
    step = first.content.decode()
    typed = comment_form_data(
        step,
        body="Mine, kept.",
        captcha_1="-1",
        csrfmiddlewaretoken=form_values(step, "csrfmiddlewaretoken"),
    )

    response = press(reader, step, "Post Comment", typed)

    back = response.content.decode()
    assert response.status_code == 400
    assert "Page 2 of 2" in back
    assert "On the second page." in back
    assert "\nMine, kept.</textarea>" in back


def test_the_form_kept_past_the_redisplay_budget_comes_back_on_its_page(
    client, article, captcha_pool, settings
):
    settings.COMMENTS_PER_PAGE = 1
    settings.COMMENTS_REDISPLAY_LIMIT = 0
    make_comment(article, body="On the first page.")
    make_comment(article, body="On the second page.")
    page = client.get(f"{article.get_absolute_url()}?cpage=2").content.decode()
    refused = press(client, page, "Show a new question", comment_form_data(page, captcha_1=""))
    assert refused.status_code == 429
    kept = refused.content.decode()
    settings.COMMENTS_REDISPLAY_LIMIT = 10  # the window has passed

    response = press(client, kept, "Post Comment", comment_form_data(kept, captcha_1="-1"))

    assert response.status_code == 400
    assert "On the second page." in response.content.decode()


@pytest.mark.parametrize("cpage", ["abc", "0", "-1", "99999999999"])
def test_a_form_sent_to_a_page_number_that_cannot_be_keeps_its_text(
    client, article, fill_form, cpage
):
    """The form's address carries the page of comments it was on: a hand-edited one is a
    404 for a reader asking for the page, but a 404 for the form would lose the text."""
    make_comment(article, body="Approved.")
    data = fill_form(article, body="My careful answer.")
    data["captcha_1"] = str(int(data["captcha_1"]) + 1)

    response = client.post(f"{post_url(article)}?cpage={cpage}", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert "My careful answer." in page
    assert "Approved." in page
    assert client.get(f"{article.get_absolute_url()}?cpage={cpage}").status_code == 404


def test_a_form_sent_back_to_a_page_past_the_last_keeps_its_text(
    client, article, fill_form, settings
):
    """A redirect would lose what the reader typed: the last page is shown instead."""
    settings.COMMENTS_PER_PAGE = 3
    for number in range(4):
        make_comment(article, body=f"Approved {number}.")
    data = fill_form(article, body="My careful answer.")
    data["captcha_1"] = str(int(data["captcha_1"]) + 1)

    response = client.post(f"{post_url(article)}?cpage=5", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert "My careful answer." in page
    assert "Page 2 of 2" in page


def test_expired_question_says_so(client, article, fill_form):
    data = fill_form(article)
    CaptchaStore.objects.filter(hashkey=data["captcha_0"]).update(
        expiration=timezone.now() - timezone.timedelta(seconds=1)
    )

    page = client.post(post_url(article), data).content.decode()

    assert EXPIRED_QUESTION in page
    assert WRONG_ANSWER not in page


def test_replayed_key_and_answer_are_refused(client, article, fill_form):
    data = fill_form(article)
    assert client.post(post_url(article), data).status_code == 303

    replay = client.post(post_url(article), {**data, "body": "A second one, same answer."})

    assert replay.status_code == 400
    assert EXPIRED_QUESTION in replay.content.decode()
    assert Comment.objects.count() == 1


def test_answered_question_is_used_up(client, article, fill_form):
    data = fill_form(article)

    client.post(post_url(article), data)

    assert not CaptchaStore.objects.filter(hashkey=data["captcha_0"]).exists()


def test_choosing_a_comment_to_answer_without_javascript_keeps_everything_typed(
    client, article, captcha_pool, settings
):
    """Without JavaScript a comment's Reply button sends the form back: the page returns with
    every word typed so far, now answering that comment, on the page of comments showing it."""
    settings.COMMENTS_PER_PAGE = 3
    comments = [make_comment(article, name=f"Reader {n}", body=f"Approved {n}.") for n in range(4)]
    answered = comments[3]
    page = client.get(f"{article.get_absolute_url()}?cpage=2").content.decode()
    typed = comment_form_data(
        page, body="Written before choosing.", url="ada.example", notify_on_publish="on"
    )

    response = press(client, page, f"Reply to {answered.name}", typed)

    back = response.content.decode()
    assert response.status_code == 200
    assert f"Reply to <bdi>{answered.name}</bdi>" in back
    assert form_values(back, "parent") == str(answered.pk)
    assert "Page 2 of 2" in back
    assert "\nWritten before choosing.</textarea>" in back
    for value in ("Grace Hopper", "grace@example.com", "ada.example"):
        assert f'value="{value}"' in back
    assert re.search(r'name="notify_on_publish"[^>]* checked', back)
    assert "Your comment was not sent yet" not in back  # nothing was wrong: nothing was sent
    assert Comment.objects.count() == 4
    # The question answered already comes back with its answer: nothing to type again.
    assert form_values(back, "captcha_0") == typed["captcha_0"]
    assert form_values(back, "captcha_1") == typed["captcha_1"]

    kept = {name: form_values(back, name) for name in ("captcha_0", "captcha_1", "parent")}
    sent = client.post(post_url(article), {**typed, **kept})

    assert sent.status_code == 303
    assert Comment.objects.get(body="Written before choosing.").parent == answered


def test_a_reply_chosen_after_the_question_expired_brings_a_new_question(
    client, article, captcha_pool
):
    ada = make_comment(article, name="Ada Lovelace")
    page = client.get(article.get_absolute_url()).content.decode()
    typed = comment_form_data(page, body="Kept.")
    CaptchaStore.objects.filter(hashkey=typed["captcha_0"]).delete()  # answered in another tab

    back = press(client, page, "Reply to Ada Lovelace", typed).content.decode()

    assert form_values(back, "parent") == str(ada.pk)
    assert form_values(back, "captcha_0") not in ("", typed["captcha_0"])
    assert form_values(back, "captcha_1") == ""


def test_cancel_reply_without_javascript_keeps_the_text_and_the_page(
    client, article, captcha_pool, settings
):
    settings.COMMENTS_PER_PAGE = 1
    make_comment(article)
    later = make_comment(article, name="Ada Lovelace")
    page = client.get(f"{article.get_absolute_url()}?cpage=2&replyto={later.pk}").content.decode()
    assert "Reply to <bdi>Ada Lovelace</bdi>" in page

    response = press(client, page, "Cancel reply", comment_form_data(page, body="On its own."))

    back = response.content.decode()
    assert response.status_code == 200
    assert "Leave a Reply" in back
    assert form_values(back, "parent") == ""
    assert "\nOn its own.</textarea>" in back
    assert "Page 2 of 2" in back


def test_sending_the_form_back_too_often_answers_429_with_everything_typed_kept(
    client, article, captcha_pool, settings
):
    """Reply and Cancel reply store nothing but render the whole article page: beyond a
    budget of their own, the answer is a small page with the reader's form, still whole."""
    settings.COMMENTS_REDISPLAY_LIMIT = 2
    ada = make_comment(article, name="Ada Lovelace")
    page = client.get(article.get_absolute_url()).content.decode()
    typed = comment_form_data(page, body="Written <before> choosing.", url="ada.example")
    for label in ("Reply to Ada Lovelace", "Cancel reply"):
        assert press(client, page, label, typed).status_code == 200

    response = press(client, page, "Reply to Ada Lovelace", typed)

    back = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.COMMENTS_FLOOD_WINDOW_SECONDS)
    assert "<h1>Please wait a little</h1>" in back
    assert "Body of article" not in back  # not the article page, whose rendering is spared
    assert "Reply to <bdi>Ada Lovelace</bdi>" in back
    assert "\nWritten &lt;before&gt; choosing.</textarea>" in back
    assert 'value="ada.example"' in back
    assert form_values(back, "captcha_0") == typed["captcha_0"]
    assert form_values(back, "captcha_1") == typed["captcha_1"]
    assert "no-store" in response["Cache-Control"]

    kept = {name: form_values(back, name) for name in ("captcha_0", "captcha_1", "parent")}
    sent = client.post(post_url(article), {**typed, **kept})

    assert sent.status_code == 303
    assert Comment.objects.get(body="Written <before> choosing.").parent == ada


def test_asking_for_new_questions_too_often_keeps_the_question_and_the_text(
    client, article, captcha_pool, settings
):
    settings.COMMENTS_REDISPLAY_LIMIT = 1
    page = client.get(article.get_absolute_url()).content.decode()
    typed = comment_form_data(page, body="Kept.", captcha_1="")
    assert press(client, page, "Show a new question", typed).status_code == 200
    page = client.get(article.get_absolute_url()).content.decode()
    typed = comment_form_data(page, body="Kept.", captcha_1="")

    response = press(client, page, "Show a new question", typed)

    back = response.content.decode()
    assert response.status_code == 429
    assert "We cannot show you a new question just now" in back
    assert "The question below is the one you had" in back
    assert "\nKept.</textarea>" in back
    assert form_values(back, "captcha_0") == typed["captcha_0"]


@pytest.mark.parametrize(
    ("button", "told"),
    [
        ("Reply to Ada Lovelace", "so we have stopped doing so for about 7 minutes."),
        ("Show a new question", "and are paused for about 7 minutes."),
    ],
)
def test_forms_sent_back_too_often_say_how_long_is_left_when_redis_counts(
    client, article, captcha_pool, settings, counted_in_redis, button, told
):
    """ "For a while", or "up to 10 minutes", said nothing of what was left to wait."""
    settings.COMMENTS_REDISPLAY_LIMIT = 1
    make_comment(article, name="Ada Lovelace")
    page = client.get(article.get_absolute_url()).content.decode()
    typed = comment_form_data(page, body="Kept.", captcha_1="")
    assert press(client, page, button, typed).status_code == 200
    cache.touch("comments:redisplay:ip:127.0.0.1", timeout=400)

    response = press(client, page, button, typed)

    back = response.content.decode()
    assert response.status_code == 429
    assert told in back
    assert "\nKept.</textarea>" in back


def test_forms_sent_back_with_mistakes_share_the_budget_and_a_good_one_still_goes(
    client, article, captcha_pool, settings
):
    """A form with a mistake renders the whole article page too: a bot sending wrong
    answers in a loop had the page rendered at will. A reader's good comment is never held
    back by the budget."""
    settings.COMMENTS_REDISPLAY_LIMIT = 2
    for _ in range(2):
        page = client.get(article.get_absolute_url()).content.decode()
        wrong = comment_form_data(page, body="Kept.", captcha_1="-1")
        assert client.post(post_url(article), wrong).status_code == 400
    page = client.get(article.get_absolute_url()).content.decode()

    refused = client.post(post_url(article), comment_form_data(page, body="Kept.", captcha_1="-1"))
    page = client.get(article.get_absolute_url()).content.decode()
    good = client.post(post_url(article), comment_form_data(page, body="Kept."))

    assert refused.status_code == 429
    assert "<h1>Please wait a little</h1>" in refused.content.decode()
    assert "\nKept.</textarea>" in refused.content.decode()
    assert good.status_code == 303
    assert Comment.objects.filter(body="Kept.").count() == 1


def test_the_budget_for_sending_the_form_back_is_per_address_and_apart_from_comments(
    client, article, captcha_pool, settings
):
    """A reader who has sent comments may still choose whom to answer; another address is
    not held back by this one's clicks."""
    settings.COMMENTS_REDISPLAY_LIMIT = 1
    settings.COMMENTS_FLOOD_LIMIT = 3
    ada = make_comment(article, name="Ada Lovelace")
    for number in range(2):
        page = client.get(article.get_absolute_url()).content.decode()
        sent = client.post(post_url(article), comment_form_data(page, body=f"Comment {number}."))
        assert sent.status_code == 303
    page = client.get(article.get_absolute_url()).content.decode()
    typed = comment_form_data(page, body="Kept.")

    first = press(client, page, f"Reply to {ada.name}", typed)
    second = press(client, page, f"Reply to {ada.name}", typed)
    elsewhere = client.post(
        post_url(article), {**typed, "replyto": str(ada.pk)}, REMOTE_ADDR="198.51.100.7"
    )

    assert (first.status_code, second.status_code, elsewhere.status_code) == (200, 429, 200)


@pytest.mark.parametrize("address", ["", "192.0.2.10"], ids=["without", "with"])
def test_the_budget_for_sending_the_form_back_holds_without_a_client_address(
    article, captcha_pool, settings, address
):
    """Uncounted, a bot behind a proxy that sends no address had the article page rendered
    at will; such requests share one budget, as they share one flood limit."""
    settings.COMMENTS_REDISPLAY_LIMIT = 1
    ada = make_comment(article, name="Ada Lovelace")
    answers = []
    for reader in (Client(REMOTE_ADDR=address), Client(REMOTE_ADDR=address)):
        page = reader.get(article.get_absolute_url()).content.decode()
        answers.append(press(reader, page, "Reply to Ada Lovelace", comment_form_data(page)))

    assert [answer.status_code for answer in answers] == [200, 429]
    assert f"Reply to <bdi>{ada.name}</bdi>" in answers[1].content.decode()


def test_a_reply_chosen_on_a_shared_page_without_a_token_comes_back_with_one(article, captcha_pool):
    """A shared cached page carries no CSRF token (articles.page_cache): the Reply button's
    send is refused as any such send is, and the page that says so gives the reader the
    form, answering the comment, with their text and a token."""
    ada = make_comment(article, name="Ada Lovelace")
    reader = Client(enforce_csrf_checks=True)
    page = reader.get(article.get_absolute_url()).content.decode()
    typed = comment_form_data(page, body="Typed on the shared copy.", csrfmiddlewaretoken="")

    response = press(reader, page, "Reply to Ada Lovelace", typed)

    back = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Your reply</h1>" in back
    assert "Reply to <bdi>Ada Lovelace</bdi>" in back
    assert "\nTyped on the shared copy.</textarea>" in back
    token = form_values(back, "csrfmiddlewaretoken")
    assert token
    data = comment_form_data(back, body="Typed on the shared copy.", csrfmiddlewaretoken=token)
    assert reader.post(post_url(article), data).status_code == 303
    assert Comment.objects.get(body="Typed on the shared copy.").parent == ada


def test_a_reply_chosen_to_a_comment_withheld_since_keeps_the_text_and_says_so(
    client, article, captcha_pool
):
    ada = make_comment(article, name="Ada Lovelace")
    page = client.get(article.get_absolute_url()).content.decode()
    services.reject(ada, by=make_editor())

    response = press(client, page, "Reply to Ada Lovelace", comment_form_data(page, body="Kept."))

    back = response.content.decode()
    assert response.status_code == 200
    assert "The comment you chose to reply to is no longer shown" in back
    assert "Leave a Reply" in back
    assert "\nKept.</textarea>" in back


def test_a_reply_chosen_on_a_later_page_to_a_comment_withheld_since_stays_on_that_page(
    client, article, captcha_pool, settings
):
    """Cancel reply keeps the reader's page of comments; so must a Reply whose comment is
    gone, rather than send them back to the first page to find their place again."""
    settings.COMMENTS_PER_PAGE = 1
    make_comment(article)
    ada = make_comment(article, name="Ada Lovelace")
    make_comment(article)
    make_comment(article)
    page = client.get(f"{article.get_absolute_url()}?cpage=2").content.decode()
    services.reject(ada, by=make_editor())

    response = press(client, page, "Reply to Ada Lovelace", comment_form_data(page, body="Kept."))

    back = response.content.decode()
    assert response.status_code == 200
    assert "The comment you chose to reply to is no longer shown" in back
    assert "Page 2 of 3" in back
    assert "\nKept.</textarea>" in back


@pytest.mark.parametrize("replyto", ["abc", "-1", "99999999999999999999999", "1e3", "²", "\0"])
def test_a_reply_button_sent_with_a_value_of_no_comment_keeps_the_text(
    client, article, captcha_pool, replyto
):
    page = client.get(article.get_absolute_url()).content.decode()

    response = client.post(
        post_url(article), {**comment_form_data(page, body="Kept."), "replyto": replyto}
    )

    assert response.status_code == 200
    assert "Leave a Reply" in response.content.decode()
    assert "\nKept.</textarea>" in response.content.decode()


def test_reply_to_an_approved_comment_is_stored_under_it(client, article, fill_form):
    parent = make_comment(article)
    data = fill_form(article, f"{article.get_absolute_url()}?replyto={parent.pk}")
    assert data["parent"] == str(parent.pk)

    client.post(post_url(article), data)

    assert Comment.objects.get(body="A thoughtful comment.").parent == parent


def test_reply_to_a_comment_whose_thread_s_ids_run_backwards_is_stored_under_it(
    client, article, fill_form
):
    """Imported with their ids, or numbered after a restore reset the id sequence, a
    comment can have a smaller id than the one it answers: a reply to it was refused, the
    comment taken to be under a withheld one."""
    *_, parent = make_thread_numbered_backwards(article)

    client.post(post_url(article), fill_form(article, parent=parent.pk))

    assert Comment.objects.get(body="A thoughtful comment.").parent == parent


@pytest.mark.parametrize("target", ["pending", "other_article", "missing", "forged"])
def test_reply_to_a_comment_readers_cannot_see_is_refused_with_text_kept(
    client, article, fill_form, target
):
    if target == "pending":
        parent_value = make_comment(article, status=Comment.Status.PENDING).pk
    elif target == "other_article":
        parent_value = make_comment(make_article()).pk
    elif target == "missing":
        parent_value = 987654
    else:
        parent_value = "1 OR 1=1"
    data = fill_form(article, parent=parent_value, body="My reply, kept.")

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert BAD_PARENT in page
    assert "My reply, kept.</textarea>" in page
    assert 'name="parent" value=' not in page  # sending again posts a new comment
    assert not Comment.objects.filter(body="My reply, kept.").exists()


@pytest.mark.parametrize(
    "spelling",
    [
        "{pk}.0",
        " {pk} ",
        "+{pk}",
        "{arabic_indic}",
        "{pk:0>20}",
    ],
)
def test_reply_target_spelled_other_than_the_form_writes_it_is_refused(
    client, article, fill_form, spelling
):
    """The form writes a comment's id in ASCII digits; the reply link (?replyto=) takes only
    those, and so does a send. int() would also read "1.0", "+1" or an Arabic-Indic "1" as 1."""
    parent = make_comment(article)
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in str(parent.pk))
    value = spelling.format(pk=parent.pk, arabic_indic=arabic_indic)

    response = client.post(post_url(article), fill_form(article, parent=value, body="Kept."))

    assert response.status_code == 400
    assert BAD_PARENT in response.content.decode()
    assert not Comment.objects.filter(body="Kept.").exists()


def test_reply_to_an_approved_comment_under_a_rejected_one_is_refused(client, article, fill_form):
    rejected = make_comment(article, status=Comment.Status.REJECTED)
    hidden_reply = make_comment(article, parent=rejected)

    response = client.post(post_url(article), fill_form(article, parent=hidden_reply.pk))

    assert response.status_code == 400


def test_get_on_the_submission_url_is_405(client, article):
    assert client.get(post_url(article)).status_code == 405


@pytest.mark.parametrize("published", [True, False])
def test_opening_the_submission_url_leads_the_reader_on_instead_of_a_blank_page(client, published):
    """A form sent back with errors is shown at this address: reloaded from the address bar,
    bookmarked or shared, it is opened with GET."""
    article = make_article() if published else make_article(status="draft")

    response = client.get(post_url(article))

    html = response.content.decode()
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert "<h1>" in html
    if published:
        assert f'href="{article.get_absolute_url()}#respond"' in html
    else:
        assert article.get_absolute_url() not in html
        assert 'href="/"' in html


def test_comments_closed_shows_no_form_and_refuses_posts(client, fill_form):
    article = make_article()
    data = fill_form(article, body="Too late, but kept.")
    article.comments_enabled = False
    article.save()

    page = client.get(article.get_absolute_url()).content.decode()
    response = client.post(post_url(article), data)

    assert "Comments are closed." in page
    assert 'name="captcha_0"' not in page
    assert response.status_code == 403
    assert "Too late, but kept." in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert Comment.objects.count() == 0


def test_text_given_back_when_comments_closed_keeps_its_own_direction(client, fill_form):
    """An Arabic comment and title on the page that gives the text back read right to left,
    not laid out in the page's own direction with the punctuation at the wrong end."""
    article = make_article(title="مقال اليوم؟")
    data = fill_form(article, body="تعليق متأخر، لكنه محفوظ.")
    article.comments_enabled = False
    article.save()

    page = client.post(post_url(article), data).content.decode()

    assert 'dir="auto" readonly>تعليق متأخر، لكنه محفوظ.</textarea>' in page
    assert "<bdi>مقال اليوم؟</bdi> no longer takes comments" in page


@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_an_editors_preview_says_comments_open_on_publication(client, status):
    """Previewing an article left open to comments, an editor read "Comments are closed."
    and went looking for a setting that was not off."""
    article = make_draft() if status == "draft" else make_scheduled()
    client.force_login(make_editor())

    page = client.get(article.get_absolute_url()).content.decode()

    assert "Readers can comment once the article is published." in page
    assert "Comments are closed." not in page
    assert 'name="captcha_0"' not in page


def test_an_editors_preview_of_an_article_closed_to_comments_says_so(client):
    article = make_draft(comments_enabled=False)
    client.force_login(make_editor())

    assert "Comments are closed." in client.get(article.get_absolute_url()).content.decode()


def test_comments_close_after_the_configured_age(client, settings):
    settings.COMMENTS_CLOSE_AFTER_DAYS = 14
    old = make_article(published_at=timezone.now() - timezone.timedelta(days=15))
    recent = make_article(published_at=timezone.now() - timezone.timedelta(days=13))

    assert "Comments are closed." in client.get(old.get_absolute_url()).content.decode()
    assert 'name="captcha_0"' in client.get(recent.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "draft", "published_at": None},
        {"published_at": timezone.now() + timezone.timedelta(days=1)},
    ],
)
def test_posting_to_an_article_that_is_not_public_is_404(client, fields):
    article = make_article(**fields)

    assert client.post(post_url(article), {"body": "hello"}).status_code == 404


def test_an_article_withdrawn_while_the_reader_writes_gives_the_text_back(client, fill_form):
    article = make_article(title="Withdrawn <story>")
    data = fill_form(article, body="Written while it was <still> up.")
    article.status = "draft"
    article.save()

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]
    assert "Written while it was &lt;still&gt; up.</textarea>" in page
    assert "Withdrawn" not in page  # what is not public stays unnamed
    assert Comment.objects.count() == 0


def test_honeypot_filled_is_stored_as_spam_and_answered_like_success(client, article, fill_form):
    response = client.post(post_url(article), fill_form(article, phone="+1 555 0100"))

    comment = Comment.objects.get()
    assert response.status_code == 303
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    assert comment.status == Comment.Status.SPAM
    assert comment.held_reason == HONEYPOT_FILLED
    assert AWAITING_MODERATION in client.get(article.get_absolute_url()).content.decode()
    assert comment.body not in Client().get(article.get_absolute_url()).content.decode()


def test_too_fast_submission_keeps_text_and_asks_politely(client, article, fill_form, settings):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 3600
    data = fill_form(article, body="Typed at bot speed.")

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert TOO_FAST in page
    assert "Typed at bot speed.</textarea>" in page
    assert Comment.objects.count() == 0


def test_an_empty_form_sent_at_once_says_what_is_missing_not_too_fast(
    client, article, fill_form, settings
):
    """A person who clicks Send before writing is told what to fill in; the "too fast"
    guard is for bots, which fill in everything at once."""
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 3600
    data = fill_form(article, name="Ada", email="", body="  ", captcha_1="", remember="on")

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert TOO_FAST not in page
    assert "Comment: This field is required." in page
    assert "Email: This field is required." in page
    assert 'name="name" value="Ada"' in page
    assert re.search(r'<input type="checkbox" name="remember"[^>]* checked', page)
    assert Comment.objects.count() == 0


def test_a_nearly_empty_comment_sent_at_once_says_what_is_wrong_and_keeps_it(
    client, article, fill_form, settings
):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 3600
    data = fill_form(article, body="k", url="ada.example")

    response = client.post(post_url(article), data)

    page = unescape(response.content.decode())
    assert response.status_code == 400
    assert TOO_FAST not in page
    assert "Comment: Ensure this value has at least 2 characters (it has 1)." in page
    assert "\nk</textarea>" in page
    assert 'value="Grace Hopper"' in page
    assert 'value="grace@example.com"' in page
    assert 'value="ada.example"' in page
    assert Comment.objects.count() == 0


def shown_minutes_ago(article):
    """The signed "form shown at" of a page the reader opened ten minutes ago."""
    return signing.dumps([article.pk, time.time() - 600], salt=STARTED_SALT, compress=False)


def test_a_form_sent_back_keeps_the_time_it_was_first_shown(client, article, fill_form, settings):
    """Fixing one field and answering the new question takes seconds, not the minutes the
    comment took: the timer still counts from when the reader first got the form."""
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 60
    data = fill_form(article, email="not an address", started=shown_minutes_ago(article))
    refused = client.post(post_url(article), data)
    assert refused.status_code == 400

    page = refused.content.decode()
    response = client.post(post_url(article), comment_form_data(page, email="ada@example.com"))

    assert response.status_code == 303
    assert Comment.objects.get().email == "ada@example.com"


def test_one_more_step_for_the_csrf_cookie_keeps_the_time_the_form_was_shown(
    article, captcha_pool, settings
):
    """Without JavaScript, a comment sent from a shared cached page comes back to be sent once
    more; answering its new question at once is not "quicker than a person"."""
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 60
    reader = Client(enforce_csrf_checks=True)
    first_send = reader.post(
        post_url(article),
        {
            "name": "Ada",
            "email": "ada@example.com",
            "body": "Typed for ten minutes.",
            "started": shown_minutes_ago(article),
        },
    )
    assert first_send.status_code == 403

    page = first_send.content.decode()
    token = form_values(page, "csrfmiddlewaretoken")
    kept = {"name": "Ada", "email": "ada@example.com", "body": "Typed for ten minutes."}
    response = reader.post(
        post_url(article), comment_form_data(page, **kept, csrfmiddlewaretoken=token)
    )

    assert response.status_code == 303
    assert Comment.objects.get().body == "Typed for ten minutes."


def test_one_more_step_for_the_csrf_cookie_keeps_the_answered_question(article, fill_form):
    """The first send from a shared page is refused before anything is checked: the reader
    sends again as it is, without a second question to answer."""
    reader = Client(enforce_csrf_checks=True)
    data = fill_form(article, body="Answered once.")
    first_send = reader.post(post_url(article), {**data, "csrfmiddlewaretoken": ""})
    page = first_send.content.decode()

    assert form_values(page, "captcha_0") == data["captcha_0"]
    assert form_values(page, "captcha_1") == data["captcha_1"]
    assert "send it again." in page
    assert "answer the new question" not in page
    token = form_values(page, "csrfmiddlewaretoken")
    response = reader.post(post_url(article), {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert Comment.objects.get().body == "Answered once."


def test_one_more_step_asks_for_the_answer_a_reader_left_out(article, fill_form):
    """The question kept for a reader who had not answered it yet is the same question:
    the page asks them to answer it, not merely to send again (which would fail)."""
    reader = Client(enforce_csrf_checks=True)
    data = fill_form(article, body="Forgot the sum.", captcha_1="")

    page = reader.post(post_url(article), {**data, "csrfmiddlewaretoken": ""}).content.decode()

    assert form_values(page, "captcha_0") == data["captcha_0"]
    assert "answer the question and send it again." in page
    assert "send it again." not in page.replace("answer the question and send it again.", "")


def test_one_more_step_asks_a_new_question_once_the_old_one_has_expired(article, fill_form):
    reader = Client(enforce_csrf_checks=True)
    data = fill_form(article, body="Written slowly.")
    CaptchaStore.objects.filter(hashkey=data["captcha_0"]).update(
        expiration=timezone.now() - timezone.timedelta(minutes=1)
    )

    page = reader.post(post_url(article), {**data, "csrfmiddlewaretoken": ""}).content.decode()

    assert form_values(page, "captcha_0") not in ("", data["captcha_0"])
    assert form_values(page, "captcha_1") == ""
    assert "answer the new question and send it again." in page
    assert "Written slowly.</textarea>" in page


def test_forged_or_missing_timer_is_refused_with_text_kept(client, article, fill_form):
    response = client.post(post_url(article), fill_form(article, started="forged", body="Kept."))

    assert response.status_code == 400
    assert "Kept.</textarea>" in response.content.decode()


@pytest.mark.parametrize("cause", ["too fast", "flooded", "reply target gone"])
def test_the_errors_say_once_that_the_text_is_kept(client, article, fill_form, settings, cause):
    """The summary ends "Everything you typed is kept below."; its message said so too
    ("...: your text is kept below."), twice in four lines."""
    values = {"body": "Kept, and said once."}
    if cause == "too fast":
        settings.COMMENTS_MIN_SUBMIT_SECONDS = 3600
    elif cause == "flooded":
        settings.COMMENTS_FLOOD_LIMIT = 1
        client.post(post_url(article), fill_form(article, email="first@example.com"))
    else:
        values["parent"] = 987654

    response = client.post(post_url(article), fill_form(article, **values))

    page = response.content.decode()
    assert response.status_code in {400, 429}
    assert "Kept, and said once.</textarea>" in page
    assert page.count("kept below") == 1


def test_flood_limit_per_address_answers_429_with_text_kept(client, article, fill_form, settings):
    settings.COMMENTS_FLOOD_LIMIT = 2
    for number in range(2):
        data = fill_form(article, email=f"r{number}@example.com", body=f"Comment {number}")
        assert client.post(post_url(article), data).status_code == 303

    response = client.post(
        post_url(article), fill_form(article, email="r9@example.com", body="One too many.")
    )

    page = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.COMMENTS_FLOOD_WINDOW_SECONDS)
    assert FLOODED.format(wait="10 minutes") in unescape(page)
    assert "One too many.</textarea>" in page
    assert Comment.objects.count() == 2


LOCAL_MEMORY = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(params=["in the database", "in a shared cache"])
def flood_counts(request, settings):
    """Where flood limits are counted: the comments table without a cache every process
    shares (local memory), or that cache (Redis)."""
    if request.param == "in the database":
        settings.CACHES = LOCAL_MEMORY
    else:
        request.getfixturevalue("shared_cache")
    cache.clear()


def test_an_email_over_its_flood_limit_elsewhere_is_not_told_so_and_waits_as_spam(
    article, fill_form, settings, flood_counts
):
    """Refused, it told anyone who typed an email address, from an address of their own,
    that this one had commented within the last minutes. It is answered as any comment, and
    kept out of the moderators' queue, where they can still find it."""
    settings.COMMENTS_FLOOD_LIMIT = 1
    author, stranger, other = (Client(REMOTE_ADDR=f"198.51.100.{n}") for n in (1, 2, 3))
    data = fill_form(article, reader=author, body="First", email="ada@example.com")
    assert author.post(post_url(article), data).status_code == 303

    probe = stranger.post(
        post_url(article),
        fill_form(article, reader=stranger, body="Second", email="ADA@example.com"),
        follow=True,
    )
    anyone = other.post(
        post_url(article),
        fill_form(article, reader=other, body="Unrelated", email="grace@example.com"),
        follow=True,
    )

    assert [probe.status_code, anyone.status_code] == [200, 200]
    for answer in (probe, anyone):
        assert [str(message) for message in answer.context["messages"]] == [AWAITING_MODERATION]
        assert "Your comment is awaiting moderation" in answer.content.decode()
    second = Comment.objects.get(body="Second")
    assert second.status == Comment.Status.SPAM
    assert second.held_reason == EMAIL_FLOODED.format(limit=1, minutes=10)
    assert Comment.objects.get(body="Unrelated").status == Comment.Status.PENDING


@pytest.fixture(params=["in the database", "in Redis"])
def flood_counts_with_their_windows(request, settings):
    """Where flood limits are counted, each able to tell when a window ends: the comments
    table, or Redis (the tests' own key space)."""
    if request.param == "in the database":
        settings.CACHES = LOCAL_MEMORY
        cache.clear()  # local memory outlives a test
    else:
        # A key space of the test's own, empty: clear() would flush the whole database,
        # which the test processes beside it share.
        request.getfixturevalue("counted_in_redis")


@pytest.fixture
def move_flood_clock():
    """Moves the clock flood control reads, instead of waiting for it: the comments table's
    count ends with its comments' times, Redis's with its counts' times to live, so those are
    what move. A real one-second window failed whenever a busy machine took over a second
    between the two comments that had to fall in it."""

    def move(delta):
        Comment.objects.update(created_at=F("created_at") - delta)
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            client = backend._cache.get_client(write=True)
            take_time_off(client, backend.make_key("comments:flood:*"), delta)

    return move


def test_flood_limit_window_ends_and_the_sender_may_comment_again(
    client, article, fill_form, settings, flood_counts_with_their_windows, move_flood_clock
):
    """Whatever counts (Redis, or the comments table without it), a count never outlives
    its window: a sender is held back for the window, not for good."""
    settings.COMMENTS_FLOOD_LIMIT = 1
    client.post(post_url(article), fill_form(article, body="First"), REMOTE_ADDR="198.51.100.1")
    refused = client.post(
        post_url(article), fill_form(article, body="Second"), REMOTE_ADDR="198.51.100.1"
    )
    assert refused.status_code == 429

    move_flood_clock(timezone.timedelta(seconds=settings.COMMENTS_FLOOD_WINDOW_SECONDS + 1))
    response = client.post(
        post_url(article), fill_form(article, body="Second"), REMOTE_ADDR="198.51.100.1"
    )

    assert response.status_code == 303
    assert Comment.objects.count() == 2


@pytest.fixture
def another_test_processs_flood_count(redis_space):
    """A flood count of another test process running beside this one: the tests' Redis
    database is shared by every process of the run (tests/redis_space.py)."""
    neighbour = RedisSpace(redis_space.url, f"{redis_space.prefix}-beside")
    key = f"{neighbour.prefix}:1:comments:flood:ip:198.51.100.1"
    with redis_space.client() as client:
        client.set(key, 1, ex=60)
    yield key
    neighbour.forget()


@pytest.mark.parametrize("flood_counts_with_their_windows", ["in Redis"], indirect=True)
def test_counting_in_redis_leaves_the_counts_of_the_test_processes_beside_it(
    another_test_processs_flood_count, flood_counts_with_their_windows, redis_space
):
    """Emptying the test's Redis cache flushed the whole database: every flood count of the
    processes beside it too, whose tests then took a comment they must refuse, now and then,
    on a busy machine."""
    with redis_space.client() as client:
        assert client.exists(another_test_processs_flood_count)


@pytest.mark.parametrize(
    "addresses",
    [
        ("ada@strasse.de", "ada@stra\u00dfe.de"),  # "ss" and "\u00df"
        ("tim@example.com", "t\u0131m@example.com"),  # a dotless "\u0131"
        ("kim@example.com", "\u212aim@example.com"),  # the Kelvin sign
        ("ada@\uff45xample.com", "ada@\uff25XAMPLE.com"),  # full-width letters
        ("ada@\u00e9lodie.fr", "ada@\u00c9LODIE.fr"),  # a capital beyond ASCII
    ],
)
def test_the_email_flood_limit_counts_one_commenter_as_the_site_tells_them_apart(
    article, fill_form, settings, flood_counts_with_their_windows, addresses
):
    """Two addresses are one commenter's where the database writes them alike in capitals,
    as everywhere else (their export, erasure, unsubscribe link): Redis counted them as
    Python folds them, which joins "ss" and "\u00df" and splits a dotless "\u0131" from "i". One
    commenter passed the limit there that the comments table stops, or two were one."""
    settings.COMMENTS_FLOOD_LIMIT = 1
    first, then = addresses
    author, other = (Client(REMOTE_ADDR=f"198.51.100.{n}") for n in (1, 2))
    author.post(post_url(article), fill_form(article, reader=author, body="One", email=first))
    other.post(post_url(article), fill_form(article, reader=other, body="Two", email=then))

    keys = commenter_keys(addresses)
    one_commenter = keys[first] == keys[then]
    assert Comment.objects.get(body="One").status == Comment.Status.PENDING
    second = Comment.objects.get(body="Two")
    assert second.status == (Comment.Status.SPAM if one_commenter else Comment.Status.PENDING)


@pytest.mark.parametrize(
    ("first", "then"),
    [("198.51.100.1", "198.51.100.1"), ("2001:db8::1", "2001:db8:0:0:ffff::2")],
    ids=["IPv4", "IPv6, from the same /64"],
)
def test_a_sender_over_the_flood_limit_is_told_how_long_to_wait_in_minutes(
    client, article, fill_form, settings, flood_counts_with_their_windows, first, then
):
    """ "Please wait a few minutes" said nothing of a wait of up to ten: the sender is told
    what is left of the window, in whole minutes (a bot learns no more than a person
    needs), and the text is kept."""
    settings.COMMENTS_FLOOD_LIMIT = 1
    client.post(post_url(article), fill_form(article, body="First"), REMOTE_ADDR=first)
    # The window opened 200 s ago: 400 s, 6 min 40 s, are left of it.
    Comment.objects.update(created_at=timezone.now() - timezone.timedelta(seconds=200))
    cache.touch(f"comments:flood:ip:{flood_source(first)}", timeout=400)

    response = client.post(post_url(article), fill_form(article, body="Second"), REMOTE_ADDR=then)

    page = unescape(response.content.decode())
    assert response.status_code == 429
    assert FLOODED.format(wait="7 minutes") in page
    assert "Please wait about 7 minutes" in page
    assert "Second</textarea>" in page


def test_a_sender_over_the_flood_limit_for_less_than_a_minute_more_is_told_about_a_minute(
    client, article, fill_form, settings, flood_counts_with_their_windows
):
    settings.COMMENTS_FLOOD_LIMIT = 1
    client.post(post_url(article), fill_form(article, body="First"), REMOTE_ADDR="198.51.100.1")
    Comment.objects.update(created_at=timezone.now() - timezone.timedelta(seconds=570))
    cache.touch("comments:flood:ip:198.51.100.1", timeout=30)

    response = client.post(
        post_url(article), fill_form(article, body="Second"), REMOTE_ADDR="198.51.100.1"
    )

    page = unescape(response.content.decode())
    assert FLOODED.format(wait="a minute") in page
    assert "Please wait about a minute" in page


@pytest.mark.parametrize(
    ("window_seconds", "wait"),
    [(86_400, "24 hours"), (91 * 60, "2 hours"), (90 * 60, "90 minutes")],
    ids=["a day", "just past an hour and a half", "an hour and a half"],
)
def test_a_sender_over_a_flood_limit_of_hours_is_told_the_wait_in_hours(
    client, article, fill_form, settings, flood_counts_with_their_windows, window_seconds, wait
):
    """An operator's day-long window told the sender "about 1440 minutes"."""
    settings.COMMENTS_FLOOD_LIMIT = 1
    settings.COMMENTS_FLOOD_WINDOW_SECONDS = window_seconds
    client.post(post_url(article), fill_form(article, body="First"), REMOTE_ADDR="198.51.100.1")

    response = client.post(
        post_url(article), fill_form(article, body="Second"), REMOTE_ADDR="198.51.100.1"
    )

    assert response.status_code == 429
    assert f"Please wait about {wait}, then" in unescape(response.content.decode())


def test_flood_limit_holds_across_worker_processes_without_redis(
    client, article, fill_form, settings
):
    """Without Redis each worker process has its own local memory: the database counts."""
    settings.CACHES = LOCAL_MEMORY
    settings.COMMENTS_FLOOD_LIMIT = 1
    client.post(post_url(article), fill_form(article, body="First"), REMOTE_ADDR="198.51.100.1")
    cache.clear()  # the next request lands on another worker, whose memory holds no count

    response = client.post(
        post_url(article),
        fill_form(article, body="Second", email="ada@example.com"),
        REMOTE_ADDR="198.51.100.1",
    )

    assert response.status_code == 429
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("address", ["", "192.0.2.10"], ids=["without", "with"])
def test_flood_limit_counts_requests_without_a_client_address_as_one_sender(
    article, fill_form, settings, flood_counts, address
):
    """Behind a proxy on a unix socket without DJANGO_BEHIND_PROXY no request has an address:
    each such sender is everyone else too, or the limit would hold for no one."""
    settings.COMMENTS_FLOOD_LIMIT = 1
    first, second = Client(REMOTE_ADDR=address), Client(REMOTE_ADDR=address)
    data = fill_form(article, reader=first, body="First", email="ada@example.com")
    assert first.post(post_url(article), data).status_code == 303

    response = second.post(
        post_url(article),
        fill_form(article, reader=second, body="Second", email="grace@example.com"),
    )

    assert response.status_code == 429
    assert FLOODED.format(wait="10 minutes") in unescape(response.content.decode())
    assert "Second</textarea>" in response.content.decode()


def test_flood_limit_counts_the_longest_email_address_under_a_valid_cache_key(
    client, article, fill_form, settings, shared_cache, recwarn
):
    settings.COMMENTS_FLOOD_LIMIT = 1
    longest = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 57}.com"
    assert len(longest) == 254
    first = fill_form(article, body="First", email=longest)
    assert client.post(post_url(article), first, REMOTE_ADDR="198.51.100.1").status_code == 303

    client.post(
        post_url(article),
        fill_form(article, body="Second", email=longest.upper()),
        REMOTE_ADDR="198.51.100.2",
    )

    assert Comment.objects.get(body="Second").status == Comment.Status.SPAM
    assert not [warning for warning in recwarn if warning.category is CacheKeyWarning]


@pytest.mark.parametrize(
    ("second_address", "status"), [("2001:db8:1:2::ff", 429), ("2001:db8:1:3::1", 303)]
)
def test_flood_limit_counts_an_ipv6_sender_by_its_network(
    client, article, fill_form, settings, shared_cache, second_address, status
):
    """One home or one server holds a whole /64, and can send from any address in it."""
    settings.COMMENTS_FLOOD_LIMIT = 1
    first = fill_form(article, body="First", email="ada@example.com")
    assert client.post(post_url(article), first, REMOTE_ADDR="2001:db8:1:2::1").status_code == 303

    response = client.post(
        post_url(article),
        fill_form(article, body="Second", email="grace@example.com"),
        REMOTE_ADDR=second_address,
    )

    assert response.status_code == status


@pytest.mark.parametrize(
    ("first_address", "second_address", "status"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::ff", 429),
        # Stored as Python writes them, "2001:db8::1" and "2001:db8::1:0:0:0": no common start.
        ("2001:db8::1", "2001:db8:0:0:1::", 429),
        ("2001:db8:1:2::1", "2001:db8:1:3::1", 303),
    ],
)
def test_flood_limit_counts_an_ipv6_sender_by_its_network_without_redis(
    client, article, fill_form, settings, first_address, second_address, status
):
    """The database counts when no cache is shared by every worker (or Redis is down): it
    must not let a /64 send from one address after another either."""
    settings.CACHES = LOCAL_MEMORY
    settings.COMMENTS_FLOOD_LIMIT = 1
    first = fill_form(article, body="First", email="ada@example.com")
    assert client.post(post_url(article), first, REMOTE_ADDR=first_address).status_code == 303
    cache.clear()  # another worker

    response = client.post(
        post_url(article),
        fill_form(article, body="Second", email="grace@example.com"),
        REMOTE_ADDR=second_address,
    )

    assert response.status_code == status


def test_duplicate_comment_is_refused(client, article, fill_form):
    client.post(post_url(article), fill_form(article, body="Same words."))

    response = client.post(
        post_url(article), fill_form(article, body="Same words.", email="GRACE@example.com")
    )

    assert response.status_code == 400
    assert DUPLICATE in response.content.decode()
    assert Comment.objects.count() == 1


def test_a_posted_comment_joins_the_unsubscribe_key_of_its_addresses_other_comments(
    client, article, fill_form
):
    """The key read with the duplicate check is the one stored, over one a row seeded
    without a key leaves blank: the link in an earlier email stops this comment's too. A
    stranger's key is not taken, and an address's first comment gets one of its own."""
    earlier = make_comment(make_article(), email="Grace@Example.com")
    seeded = make_comment(article, email="grace@example.com")
    Comment.objects.filter(pk=seeded.pk).update(unsubscribe_key="")
    stranger = make_comment(article, email="ada@example.com")

    client.post(post_url(article), fill_form(article, body="Mine, again."))
    client.post(post_url(article), fill_form(article, body="My first.", email="cy@example.com"))

    assert Comment.objects.get(body="Mine, again.").unsubscribe_key == earlier.unsubscribe_key
    first = Comment.objects.get(body="My first.").unsubscribe_key
    assert first and first not in {earlier.unsubscribe_key, stranger.unsubscribe_key}


def test_the_same_form_sent_again_once_stored_is_told_it_is_a_duplicate(client, article, fill_form):
    """A double click's second send comes with the question the first used up: that its
    comment is stored already is what the reader needs to hear, not that the question
    expired."""
    data = fill_form(article, body="Clicked twice.")
    client.post(post_url(article), data)

    response = client.post(post_url(article), data)

    page = unescape(response.content.decode())
    assert response.status_code == 400
    assert DUPLICATE in page
    assert EXPIRED_QUESTION not in page
    assert "Clicked twice.</textarea>" in page
    assert Comment.objects.count() == 1


def test_the_same_comment_sent_twice_without_a_client_address_is_refused(article, fill_form):
    """Behind a proxy that sends no client address, the browser that sent the first is
    still known by its own comments awaiting moderation."""
    reader = Client(REMOTE_ADDR="")
    reader.post(post_url(article), fill_form(article, body="Same words.", reader=reader))

    response = reader.post(post_url(article), fill_form(article, body="Same words.", reader=reader))

    assert response.status_code == 400
    assert DUPLICATE in response.content.decode()
    assert Comment.objects.count() == 1


def test_two_readers_thanks_without_client_addresses_are_both_kept(article, fill_form):
    for email in ("ada@example.com", "grace@example.com"):
        reader = Client(REMOTE_ADDR="")
        data = fill_form(article, body="Thanks!", email=email, reader=reader)

        assert reader.post(post_url(article), data).status_code == 303

    assert Comment.objects.filter(body="Thanks!").count() == 2


@pytest.mark.parametrize(
    ("author_address", "stranger_address"), [("192.0.2.10", "198.51.100.7"), ("", "")]
)
def test_someone_elses_address_with_their_words_is_not_told_they_commented(
    article, fill_form, author_address, stranger_address
):
    """The words of a published comment are there for anyone to copy: refused as "already
    said" under a guessed address, they would tell whose address it is. Only the sender of
    the first gets that answer; anyone else's copy waits for a moderator like any comment."""
    author, stranger = Client(REMOTE_ADDR=author_address), Client(REMOTE_ADDR=stranger_address)
    author.post(post_url(article), fill_form(article, body="Same words.", email="ada@example.com"))

    response = stranger.post(
        post_url(article), fill_form(article, body="Same words.", email="ADA@example.com")
    )

    assert response.status_code == 303
    assert DUPLICATE not in stranger.get(response["Location"]).content.decode()
    assert Comment.objects.filter(body="Same words.").count() == 2


def test_too_many_links_hold_the_comment_with_the_reason(client, article, fill_form, settings):
    settings.COMMENTS_MAX_LINKS = 1
    body = "See https://a.example and https://b.example"

    client.post(post_url(article), fill_form(article, body=body))

    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert comment.held_reason == "2 links (more than 1)"


def test_blocklisted_word_in_any_field_marks_spam(client, article, fill_form, settings):
    settings.COMMENTS_BLOCKLIST = ["casino"]

    client.post(post_url(article), fill_form(article, name="Best Casino Deals"))

    comment = Comment.objects.get()
    assert comment.status == Comment.Status.SPAM
    assert comment.held_reason == "Blocklisted word: casino"


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, article, fill_form):
    client.post(post_url(article), fill_form(article), HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert Comment.objects.get().ip_address == "127.0.0.1"


def test_forwarded_for_is_used_behind_a_trusted_proxy(client, article, fill_form, settings):
    settings.BEHIND_PROXY = True

    client.post(
        post_url(article),
        fill_form(article),
        HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.9",
    )

    assert Comment.objects.get().ip_address == "203.0.113.9"


def test_a_user_agent_with_a_nul_byte_still_stores_the_comment(client, article, fill_form):
    """A bot's header, not the reader's text: PostgreSQL refuses NUL in text, which answered
    "could not save your comment, send it again in a minute" at every try (runserver passes
    the byte on; gunicorn and nginx refuse the request first)."""
    response = client.post(
        post_url(article), fill_form(article), HTTP_USER_AGENT="Bot/1.0\x00\x1b[31m\x9b (x)"
    )

    assert response.status_code == 303
    assert Comment.objects.get().user_agent == "Bot/1.0[31m (x)"


def test_a_user_agent_longer_than_the_column_still_stores_the_comment(client, article, fill_form):
    """Kept for moderators, not worth refusing a comment over: PostgreSQL refuses a value
    longer than its column, so a bot's (or a browser extension's) long header is cut."""
    response = client.post(post_url(article), fill_form(article), HTTP_USER_AGENT="Bot/" * 2000)

    assert response.status_code == 303
    assert Comment.objects.get().user_agent == ("Bot/" * 2000)[:USER_AGENT_MAX_LENGTH]


def test_no_commenter_cookie_without_remember_me(client, article, fill_form):
    response = client.post(post_url(article), fill_form(article))

    assert response.cookies[REMEMBER_COOKIE].value == ""  # deleted, never set


def remembered_details(response):
    """What the "remember me" cookie set by `response` keeps, read as comments.js reads it."""
    return json.loads(unquote(response.cookies[REMEMBER_COOKIE].value))


def test_remember_me_keeps_the_details_in_the_browser_for_the_forms_script(
    client, article, fill_form
):
    response = client.post(
        post_url(article), fill_form(article, remember="on", url="https://grace.example")
    )

    cookie = response.cookies[REMEMBER_COOKIE]
    assert remembered_details(response) == {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "url": "https://grace.example",
    }
    assert not cookie["httponly"]  # comments.js reads it
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == REMEMBER_MAX_AGE
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # plain HTTP in development


def test_remember_me_is_sent_over_https_only_when_the_site_is(client, article, fill_form, settings):
    settings.SESSION_COOKIE_SECURE = True

    response = client.post(post_url(article), fill_form(article, remember="on"))

    assert response.cookies[REMEMBER_COOKIE]["secure"]


def test_a_remembered_email_is_in_no_answer_to_its_browser(client, article, fill_form):
    """The form's script fills the form from the cookie: neither the pages nor the answer
    that brings the token (JSON that anyone holding the cookie may fetch) carry the details."""
    client.post(post_url(article), fill_form(article, remember="on", url="https://grace.example"))
    other = make_article()

    answers = {
        "article": client.get(other.get_absolute_url()),
        "own article": client.get(article.get_absolute_url()),  # with the comment waiting
        "token": client.get(reverse("comments:token")),
    }

    assert "author" not in answers["token"].json()
    for answer in answers.values():
        assert answer.status_code == 200
        text = answer.content.decode()
        assert "grace@example.com" not in text
        assert [form_values(text, name) for name in ("name", "url")] == ["", ""]


def test_new_question_button_keeps_text_without_errors(client, article, fill_form):
    data = fill_form(article, body="Half written.", name="")
    data["new_question"] = "1"

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Half written.</textarea>" in page
    assert 'id="comment-errors"' not in page
    new_key = form_values(page, "captcha_0")
    assert new_key != data["captcha_0"]
    assert CaptchaStore.objects.filter(hashkey=new_key).exists()
    assert not CaptchaStore.objects.filter(hashkey=data["captcha_0"]).exists()  # retired


def test_csrf_failure_gives_the_text_back_with_a_fresh_form(article, captcha_pool):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(
        post_url(article), {"name": "Ada", "email": "ada@example.com", "body": "Do not lose me."}
    )

    page = response.content.decode()
    assert response.status_code == 403
    assert "no-store" in response["Cache-Control"]
    assert "Do not lose me.</textarea>" in page
    assert 'value="Ada"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'name="captcha_0"' in page


@pytest.mark.parametrize(
    ("token", "heading"),
    [
        ("", "One more step to send your comment"),  # sent from a shared cached page
        ("x" * 64, "Please send your comment again"),  # a stale or forged token
    ],
)
def test_csrf_failure_says_whether_the_form_had_a_token(article, captcha_pool, token, heading):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies["csrftoken"] = "y" * 32

    response = strict.post(post_url(article), {"body": "Kept.", "csrfmiddlewaretoken": token})

    assert response.status_code == 403
    assert f"<h1>{heading}</h1>" in response.content.decode()


def test_a_new_question_asked_from_a_shared_page_without_javascript_is_given(article, captcha_pool):
    """The shared page's form has no token yet: the reader who asked for another question
    is given one, not told to send a comment they did not send."""
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(
        post_url(article), {"body": "Half written.", "new_question": "", "csrfmiddlewaretoken": ""}
    )

    page = response.content.decode()
    assert "<h1>A new question</h1>" in page
    assert "One more step" not in page
    assert "Half written.</textarea>" in page
    assert 'name="captcha_0"' in page


def test_a_browser_that_sends_no_cookie_back_is_told_cookies_are_needed(article, captcha_pool):
    """The form had its token, the browser kept no cookie (cookies blocked): sending again
    would fail again, so the reader must hear why."""
    no_cookies = Client(enforce_csrf_checks=True)

    response = no_cookies.post(
        post_url(article), {"body": "Kept.", "csrfmiddlewaretoken": "x" * 64}
    )

    page = response.content.decode()
    assert response.status_code == 403
    assert "Cookies must be allowed for this site to send a comment." in page
    assert "Kept.</textarea>" in page


def test_csrf_failure_elsewhere_still_shows_the_posted_text(captcha_pool):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post("/admin/login/", {"body": "Still mine."})

    assert response.status_code == 403
    assert "Still mine." in response.content.decode()


@pytest.mark.parametrize("token", ["", "x" * 64])
def test_csrf_failure_on_another_form_does_not_speak_of_a_comment(captcha_pool, token):
    """A moderator whose admin sign-in form went stale is not asked to resend a comment."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies["csrftoken"] = "y" * 32

    response = strict.post(
        "/admin/login/", {"username": "moira", "password": "x", "csrfmiddlewaretoken": token}
    )

    page = response.content.decode()
    text = re.sub(r"<[^>]+>", "", page[page.index("<main") : page.index("</main>")])
    assert response.status_code == 403
    assert "Please send the form again" in text
    assert "comment" not in text.lower()


@pytest.mark.parametrize("forwarded", ["not-an-ip", "", " , ", "999.1.1.1"])
def test_garbage_forwarded_for_behind_a_proxy_is_not_trusted(
    client, article, fill_form, settings, forwarded
):
    settings.BEHIND_PROXY = True

    response = client.post(post_url(article), fill_form(article), HTTP_X_FORWARDED_FOR=forwarded)

    assert response.status_code == 303
    assert Comment.objects.get().ip_address in {None, "127.0.0.1"}


def test_error_pages_with_typed_details_are_never_stored_in_shared_caches(
    client, article, fill_form
):
    response = client.post(post_url(article), fill_form(article, name=""))

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def signed_remember_me_cookie(details):
    """The "remember me" cookie as the site set it before its script read it: signed, and
    for the server alone."""
    response = HttpResponse()
    response.set_signed_cookie(
        REMEMBER_COOKIE, json.dumps(details), salt=SIGNED_REMEMBER_SALT, httponly=True
    )
    return response.cookies[REMEMBER_COOKIE].value


def test_a_signed_remember_me_cookie_from_before_is_converted_in_the_token_answers_headers(
    client, article, captcha_pool
):
    """A reader remembered before gets their details back, for the script to read, when
    they start writing: in a cookie, never in the answer's body."""
    details = {"name": "Ada", "email": "ada@example.com", "url": "https://ada.example"}
    client.cookies[REMEMBER_COOKIE] = signed_remember_me_cookie(details)

    page = client.get(article.get_absolute_url())
    token = client.get(reverse("comments:token"))

    assert "ada@example.com" not in page.content.decode()
    assert "ada@example.com" not in token.content.decode()
    assert remembered_details(token) == details
    assert not token.cookies[REMEMBER_COOKIE]["httponly"]
    assert token.cookies[REMEMBER_COOKIE]["max-age"] == REMEMBER_MAX_AGE


@pytest.mark.parametrize(
    "value",
    [
        '{"name": "Mallory", "email": "m@example.com"}',  # not signed
        "%7B%22name%22%3A%22Mallory%22%7D",  # the script's own, which the server leaves alone
        "not json",
    ],
)
def test_a_remember_me_cookie_the_site_did_not_sign_is_not_converted(
    client, article, captcha_pool, value
):
    client.cookies[REMEMBER_COOKIE] = value

    page = client.get(article.get_absolute_url()).content.decode()
    token = client.get(reverse("comments:token"))

    assert "Mallory" not in page
    assert token.status_code == 200
    assert REMEMBER_COOKIE not in token.cookies


GONE_NOTICE = "The comment you chose to reply to is no longer shown: yours will appear on its own."


def test_a_new_question_for_a_reply_to_a_comment_withdrawn_meanwhile_says_so(
    client, article, fill_form
):
    parent = make_comment(article, name="Ada Lovelace")
    data = fill_form(article, f"{article.get_absolute_url()}?replyto={parent.pk}")
    services.reject(parent, by=make_user("moira", staff=True))

    page = client.post(post_url(article), {**data, "new_question": "1"}).content.decode()

    assert GONE_NOTICE in page
    assert "Leave a Reply" in page
    assert 'name="parent" value=' not in page


def test_one_more_step_for_a_reply_to_a_comment_withdrawn_meanwhile_says_so(article, fill_form):
    """Sent without JavaScript from a shared cached page, a form first comes back for its
    security token: by then the comment it answers may be gone."""
    parent = make_comment(article, name="Ada Lovelace")
    reader = Client(enforce_csrf_checks=True)
    data = fill_form(article, f"{article.get_absolute_url()}?replyto={parent.pk}", reader=reader)
    parent.delete()

    page = reader.post(post_url(article), {**data, "csrfmiddlewaretoken": ""}).content.decode()

    assert "One more step to send your comment" in page
    assert GONE_NOTICE in page


@pytest.mark.parametrize("parent", ["²", "\u0661\u0662", "-3", "x" * 50])
def test_new_question_with_a_strange_reply_target_keeps_the_text(
    client, article, fill_form, parent
):
    data = fill_form(article, body="Still here.", parent=parent, new_question="1")

    response = client.post(post_url(article), data)

    assert response.status_code == 200
    assert "Still here.</textarea>" in response.content.decode()


def long_address(length):
    """A web address of exactly `length` characters, typed without its scheme."""
    start = "ada.example/"
    return start + "a" * (length - len(start))


@pytest.mark.parametrize("length", [193, 200])
def test_a_website_typed_without_https_is_stored_at_the_full_length_the_box_takes(
    client, article, fill_form, length
):
    """Typed as "ada.example/...", an address is stored as "https://ada.example/...": the
    https:// is the site's, not the reader's, so it may not push the address over its limit."""
    address = long_address(length)

    response = client.post(post_url(article), fill_form(article, url=address))

    assert response.status_code == 303
    assert Comment.objects.get().url == "https://" + address


def test_a_remembered_long_website_is_taken_again_as_the_form_shows_it(client, article, fill_form):
    """The "remember me" cookie keeps the address with its https://, as the form's script
    fills it in the next form."""
    address = long_address(200)
    remembered = remembered_details(
        client.post(post_url(article), fill_form(article, url=address, remember="on"))
    )
    other = make_article()

    response = client.post(
        post_url(other),
        fill_form(other, url=remembered["url"], body="Another thought."),
    )

    assert remembered["url"] == "https://" + address
    assert response.status_code == 303
    assert Comment.objects.filter(article=other).get().url == "https://" + address


# The most bytes a cookie of any browser keeps, name, value and attributes together (RFC
# 6265 asks browsers for at least this; larger ones are dropped without a word).
BROWSER_COOKIE_BYTES = 4096
# At the form's limits, in the characters that take the most room once percent-encoded.
LONGEST_NAME = "😀" * 100
LONGEST_EMAIL = "a@" + ".".join(["漢" * 19] * 12) + ".jp"
LONGEST_WEBSITE = "https://漢.jp/" + "😀" * 195


def remember_me_cookie_bytes(response):
    return len(response.cookies[REMEMBER_COOKIE].OutputString().encode())


def test_remember_me_fits_in_a_browser_cookie_with_the_longest_name_and_email(
    client, article, fill_form
):
    """A name, email and website whose cookie a browser would drop: the website gives way,
    so that the next form still gets the name and email, which it asks for."""
    details = {"name": LONGEST_NAME, "email": LONGEST_EMAIL, "url": LONGEST_WEBSITE}

    response = client.post(post_url(article), fill_form(article, remember="on", **details))

    assert response.status_code == 303
    assert Comment.objects.get().url == LONGEST_WEBSITE, "the comment keeps all it was sent"
    assert remember_me_cookie_bytes(response) <= BROWSER_COOKIE_BYTES
    assert remembered_details(response) == {**details, "url": ""}


def test_remember_me_keeps_a_long_website_when_it_fits(client, article, fill_form):
    details = {"name": "Grace Hopper", "email": LONGEST_EMAIL, "url": LONGEST_WEBSITE[:120]}

    response = client.post(post_url(article), fill_form(article, remember="on", **details))

    assert remember_me_cookie_bytes(response) <= BROWSER_COOKIE_BYTES
    assert remembered_details(response) == details


@pytest.mark.parametrize("typed", ["", "https://", "http://"])
def test_a_website_too_long_is_counted_as_the_reader_typed_it(client, article, fill_form, typed):
    address = long_address(201)

    response = client.post(
        post_url(article), fill_form(article, url=typed + address, body="Keep this.")
    )

    page = unescape(response.content.decode())
    assert response.status_code == 400
    assert WEBSITE_TOO_LONG.format(limit=200, length=201) in page
    assert f'value="{typed}{address}"' in page
    assert "Keep this.</textarea>" in page
    assert Comment.objects.count() == 0


# The most a reader may send: the site's limit on a body (PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE)
# must leave room for the longest comment in any script, and for one too long by far.
FOUR_BYTE_CHARACTER = "𝄞"  # sent as %F0%9D%84%9E: 12 bytes, the most one character takes


def test_the_longest_comment_in_the_widest_characters_is_taken(client, article, fill_form):
    body = FOUR_BYTE_CHARACTER * 5000
    name, email = FOUR_BYTE_CHARACTER * 100, "grace@" + "ü" * 60 + ".example"
    url = ".".join(["ü" * 60] * 3) + ".example"

    response = client.post(
        post_url(article), fill_form(article, body=body, name=name, email=email, url=url)
    )

    assert response.status_code == 303
    assert Comment.objects.get().body == body


def test_a_comment_twice_too_long_comes_back_with_its_text_and_why(client, article, fill_form):
    body = FOUR_BYTE_CHARACTER * 10_000

    response = client.post(post_url(article), fill_form(article, body=body))

    page = unescape(response.content.decode())
    assert response.status_code == 400
    assert "Ensure this value has at most 5000 characters (it has 10000)." in page
    assert f"\n{body}</textarea>" in page
    assert not Comment.objects.exists()


def test_staff_send_a_comment_under_the_readers_limit_too(client, article, fill_form):
    """Only the admin takes an article-sized body from staff."""
    client.force_login(make_editor())
    data = fill_form(article, body="x" * 300_000)

    response = client.post(post_url(article), data)

    assert response.status_code == 413
    assert not Comment.objects.exists()
