"""The math question: its text, its pool, its audio version and its refresh."""

import datetime
import io
import re

import captcha.conf
import pytest
from captcha.models import CaptchaStore
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comments.captcha import (
    POOL_ROW_LIFETIME,
    POOL_TOP_UP_EVERY,
    claim_question,
    fresh_pool_size,
    math_challenge,
    pool_key,
    refill_pool,
    spoken_challenge,
)
from comments.models import Comment
from tests.factories import form_values, post_url

pytestmark = pytest.mark.django_db


def test_challenge_is_words_and_symbols_with_a_numeric_answer():
    for _ in range(200):
        challenge, answer = math_challenge()
        left, operator, right, equals = challenge.split()
        assert len(challenge) <= 32
        assert operator in {"+", "×"} and equals == "="
        assert right.isdigit() and not left.isdigit()
        assert answer.isdigit()


@pytest.mark.parametrize(
    ("challenge", "spoken"),
    [("five × 1 =", "five times one equals"), ("nine + 12 =", "nine plus one two equals")],
)
def test_question_is_spoken_in_words(challenge, spoken):
    assert spoken_challenge(challenge) == spoken


def test_refill_tops_the_pool_up_and_drops_expired_rows():
    CaptchaStore.objects.create(
        challenge="one + 1 =", response="2", expiration=timezone.now() - datetime.timedelta(1)
    )

    assert refill_pool(4) == 4
    assert refill_pool(4) == 0
    assert CaptchaStore.objects.count() == 4


def test_answering_every_question_of_the_pool_leaves_it_stocked(settings):
    settings.COMMENTS_CAPTCHA_POOL_SIZE = POOL_TOP_UP_EVERY
    refill_pool()

    for question in list(CaptchaStore.objects.all()):
        assert claim_question(question.hashkey) == question.response

    assert fresh_pool_size() > 0


def test_a_picked_question_lives_at_least_an_hour(client, article, captcha_pool):
    page = client.get(article.get_absolute_url()).content.decode()

    row = CaptchaStore.objects.get(hashkey=form_values(page, "captcha_0"))
    assert row.expiration - timezone.now() > datetime.timedelta(hours=1)
    assert row.expiration - timezone.now() <= POOL_ROW_LIFETIME


def age_pool(*, hours):
    """As if `hours` had passed: every question is that much nearer its expiry."""
    CaptchaStore.objects.update(expiration=F("expiration") - datetime.timedelta(hours=hours))


def test_a_pool_refilled_once_a_day_lasts_until_the_next_refill(client, article):
    """The README's cron refills the pool daily. Rows lived a day and are handed out only
    with an hour left, so in the hour before each refill the pool was empty: reading wrote
    a question, which every reader then shared until one of them answered it."""
    for _day in range(3):
        refill_pool(5)
        age_pool(hours=23.5)
        questions = CaptchaStore.objects.count()

        page = client.get(article.get_absolute_url()).content.decode()

        assert CaptchaStore.objects.count() == questions
        row = CaptchaStore.objects.get(hashkey=form_values(page, "captcha_0"))
        assert row.expiration - timezone.now() > datetime.timedelta(hours=1)
        age_pool(hours=0.5)


def test_reading_takes_questions_from_the_pool(client, article, captcha_pool):
    keys = set(captcha_pool.values_list("hashkey", flat=True))

    page = client.get(article.get_absolute_url()).content.decode()

    assert form_values(page, "captcha_0") in keys
    assert CaptchaStore.objects.count() == len(keys)


def test_a_pool_run_out_is_refilled_rather_than_showing_a_dead_question(
    client, article, captcha_pool, reader_cache
):
    """Without the daily refill (a cron missing or failing), the pool's questions expire:
    the form must still show a question that can be read, not a picture that is gone."""
    client.get(article.get_absolute_url())  # the page is cached with a question of the pool
    CaptchaStore.objects.all().delete()  # answered, or expired and cleaned away since

    for reader in (client, client.__class__()):
        key = form_values(reader.get(article.get_absolute_url()).content.decode(), "captcha_0")
        assert reader.get(reverse("captcha-image", kwargs={"key": key})).status_code == 200


def test_a_pool_run_out_is_refilled_once_rather_than_a_question_written_per_page(
    client, article, settings
):
    """Pages rendered (not cached) on a pool run out: the first refills it, in one batch,
    and later ones draw from it instead of each writing a question of its own."""
    settings.COMMENTS_CAPTCHA_POOL_SIZE = 5

    for _reader in range(3):
        client.get(article.get_absolute_url())

    assert CaptchaStore.objects.count() == 5


def test_without_a_pool_a_form_shown_asks_only_for_its_own_question(client, article, settings):
    """COMMENTS_CAPTCHA_POOL_SIZE 0 keeps no pool: there is nothing to refill, so a form
    shown must not sweep expired questions and count the pool before writing its own."""
    settings.COMMENTS_CAPTCHA_POOL_SIZE = 0

    with CaptureQueriesContext(connection) as captured:
        page = client.get(article.get_absolute_url()).content.decode()

    table = CaptchaStore._meta.db_table
    statements = [query["sql"].split()[0] for query in captured if table in query["sql"]]
    assert statements == ["SELECT", "INSERT"]  # a question from the pool, none: a new one
    assert CaptchaStore.objects.get().hashkey == form_values(page, "captcha_0")


def test_test_mode_answer_is_accepted_when_switched_on(client, article, fill_form, monkeypatch):
    monkeypatch.setattr(captcha.conf.settings, "CAPTCHA_TEST_MODE", True)

    response = client.post(post_url(article), fill_form(article, captcha_1="passed"))

    assert response.status_code == 303
    assert Comment.objects.count() == 1


def test_audio_link_only_when_flite_is_available(client, article, captcha_pool, settings):
    settings.CAPTCHA_FLITE_PATH = None
    assert "Listen to the question" not in client.get(article.get_absolute_url()).content.decode()

    settings.CAPTCHA_FLITE_PATH = "/usr/bin/flite"
    page = client.get(article.get_absolute_url()).content.decode()
    key = form_values(page, "captcha_0")
    link = f'href="/captcha/audio/{key}.wav">Listen to the question'
    assert f'{link}<span class="visually-hidden"> (opens in a new tab)</span></a>' in page


@pytest.fixture
def fake_flite(tmp_path, settings):
    """Stands in for flite: writes the words it was asked to say into the output file."""
    script = tmp_path / "flite"
    script.write_text('#!/bin/sh\nprintf "RIFF%s" "$2" > "$4"\n')
    script.chmod(0o755)
    settings.CAPTCHA_FLITE_PATH = str(script)
    return script


def test_audio_speaks_the_question_in_words(client, captcha_pool, fake_flite):
    row = CaptchaStore.objects.create(
        challenge="five × 1 =", response="5", expiration=timezone.now() + POOL_ROW_LIFETIME
    )

    response = client.get(f"/captcha/audio/{row.hashkey}.wav")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response.content == b"RIFFfive times one equals"
    assert "no-cache" in response["Cache-Control"]


@pytest.fixture
def spoken_question(captcha_pool, fake_flite):
    """The address of a question's audio, and the whole file it answers."""
    row = CaptchaStore.objects.create(
        challenge="five × 1 =", response="5", expiration=timezone.now() + POOL_ROW_LIFETIME
    )
    return f"/captcha/audio/{row.hashkey}.wav", b"RIFFfive times one equals"


def test_audio_is_sent_in_the_parts_safari_asks_for(client, spoken_question):
    """Safari (iPhone, iPad, Mac) plays media only from a server that answers byte ranges:
    it asks for bytes 0-1 first, and the whole file in reply left the question unplayable,
    for the VoiceOver readers the audio is there for (django-simple-captcha's own view
    answered ranges for this reason)."""
    url, whole = spoken_question

    first = client.get(url, headers={"range": "bytes=0-1"})
    rest = client.get(url, headers={"range": "bytes=2-"})

    assert first.status_code == rest.status_code == 206
    assert first["Content-Range"] == f"bytes 0-1/{len(whole)}"
    assert first.content + rest.content == whole
    assert client.get(url)["Accept-Ranges"] == "bytes"


def test_audio_asked_for_a_part_of_a_version_it_cannot_vouch_for_is_sent_whole(
    client, spoken_question
):
    """If-Range: the part only if the file is still the version the client names (RFC 9110
    13.1.5). The audio carries no ETag or date to compare with, so the part could belong
    to another file: the client gets the whole one, which it can always use."""
    url, whole = spoken_question

    response = client.get(url, headers={"range": "bytes=2-", "if-range": '"v1"'})

    assert response.status_code == 200
    assert response.content == whole


@pytest.mark.parametrize(
    "asked",
    [
        "bytes=20-3",
        "bytes=99-",
        "bytes=0-1,4-5",
        "lines=0-1",
        "bytes=\u0661-",
        "bytes=-",
        "bytes=" + "9" * 5000 + "-",
    ],
)
def test_audio_asked_for_a_part_it_cannot_give_is_sent_whole(client, spoken_question, asked):
    url, whole = spoken_question

    response = client.get(url, headers={"range": asked})

    assert response.status_code == 200
    assert response.content == whole


def test_audio_of_a_question_is_spoken_once_then_served_from_the_cache(
    client, captcha_pool, fake_flite
):
    expires = timezone.now() + POOL_ROW_LIFETIME
    first, second = (
        CaptchaStore.objects.create(challenge="seven + 2 =", response="9", expiration=expires)
        for _ in range(2)
    )
    assert client.get(f"/captcha/audio/{first.hashkey}.wav").status_code == 200

    fake_flite.write_text("#!/bin/sh\nexit 3\n")  # flite would fail from now on
    response = client.get(f"/captcha/audio/{second.hashkey}.wav")

    assert response.status_code == 200
    assert response.content == b"RIFFseven plus two equals"


def test_audio_of_an_unknown_question_is_gone(client, fake_flite):
    assert client.get(f"/captcha/audio/{'a' * 40}.wav").status_code == 410
    assert client.get("/captcha/audio/not-a-key.wav").status_code == 404


def test_audio_without_flite_is_404(client, settings, captcha_pool):
    settings.CAPTCHA_FLITE_PATH = None

    key = captcha_pool.first().hashkey

    assert client.get(f"/captcha/audio/{key}.wav").status_code == 404


def test_broken_flite_answers_503_not_500(client, captcha_pool, settings, tmp_path):
    broken = tmp_path / "flite"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    settings.CAPTCHA_FLITE_PATH = str(broken)

    response = client.get(f"/captcha/audio/{captcha_pool.first().hashkey}.wav")

    assert response.status_code == 503


REFRESH = "/captcha/refresh/"
XHR = {"x-requested-with": "XMLHttpRequest"}


def test_a_new_question_is_one_no_other_reader_is_given(client, captcha_pool):
    """Pool questions are handed to many readers (the cached pages' sample); a new one asked
    for is the asker's alone: the pool never hands it out, so no one else can use it up."""
    pooled = set(captcha_pool.values_list("hashkey", flat=True))

    response = client.get(REFRESH, headers=XHR)

    data = response.json()
    assert CaptchaStore.objects.filter(hashkey=data["key"]).exists()
    assert data["key"] not in pooled
    assert data["key"] not in {pool_key() for _ in range(20)}
    assert re.fullmatch(r"/captcha/image/\w+/", data["image_url"])


def test_a_reader_who_starts_writing_is_given_a_question_of_their_own(client, captcha_pool):
    """What comments.js asks for when the reader starts writing: a token, and a question in
    place of the cached page's, which other readers may have drawn too."""
    pooled = set(captcha_pool.values_list("hashkey", flat=True))

    data = client.get(reverse("comments:token")).json()

    key = data["question"]["key"]
    assert data["token"]
    assert key not in pooled
    assert key not in {pool_key() for _ in range(20)}
    assert client.get(data["question"]["image_url"]).status_code == 200


# How a reader's form comes back to them: what they send along with the form they filled.
SENT_BACK = {
    "a wrong answer": {"captcha_1": "-1"},
    "a missing field": {"name": ""},
    "an expired question": {},
    "a new question asked for without JavaScript": {"new_question": "1"},
}


def is_none_of_the_pools(key, pooled):
    """Whether question `key` is neither among `pooled` (the pool's keys before the form
    was sent) nor drawn from the pool since."""
    return key not in pooled and key not in {pool_key() for _ in range(20)}


@pytest.mark.parametrize("way", SENT_BACK)
def test_a_form_sent_back_asks_a_question_of_the_readers_own(client, article, fill_form, way):
    """A form sent back is never cached: its question need not be one of the pool's, which
    cached pages show other readers too, and another reader's answer would use up."""
    data = {**fill_form(article), **SENT_BACK[way]}
    if way == "an expired question":
        CaptchaStore.objects.filter(hashkey=data["captcha_0"]).update(expiration=timezone.now())
    pooled = set(CaptchaStore.objects.values_list("hashkey", flat=True))

    page = client.post(post_url(article), data).content.decode()

    key = form_values(page, "captcha_0")
    assert is_none_of_the_pools(key, pooled)
    assert client.get(f"/captcha/image/{key}/").status_code == 200


@pytest.mark.parametrize("first_send", ["a new question", "an expired question"])
def test_a_form_sent_back_for_its_csrf_token_asks_a_question_of_the_readers_own(
    article, fill_form, first_send
):
    """Sent from a shared cached page without JavaScript, the form comes back with a token:
    with a new question (asked for, or the one answered had expired), the reader's own."""
    reader = Client(enforce_csrf_checks=True)
    data = {**fill_form(article), "csrfmiddlewaretoken": ""}
    if first_send == "a new question":
        data["new_question"] = "1"
    else:
        CaptchaStore.objects.filter(hashkey=data["captcha_0"]).update(expiration=timezone.now())
    pooled = set(CaptchaStore.objects.values_list("hashkey", flat=True))

    page = reader.post(post_url(article), data).content.decode()

    key = form_values(page, "captcha_0")
    assert is_none_of_the_pools(key, pooled)
    assert CaptchaStore.objects.filter(hashkey=key).exists()


def test_past_the_budget_a_form_sent_back_for_its_csrf_token_asks_a_pool_question(
    article, fill_form, settings
):
    """Each question of one's own is an insert: past the sender's budget for them, the
    form asks one of the pool's and writes nothing."""
    settings.COMMENTS_REDISPLAY_LIMIT = 0
    reader = Client(enforce_csrf_checks=True)
    data = {**fill_form(article), "csrfmiddlewaretoken": "", "new_question": "1"}
    pooled = set(CaptchaStore.objects.values_list("hashkey", flat=True))

    page = reader.post(post_url(article), data).content.decode()

    assert form_values(page, "captcha_0") in pooled
    assert set(CaptchaStore.objects.values_list("hashkey", flat=True)) == pooled


def test_new_questions_past_the_redisplay_budget_are_refused_saying_why(
    client, captcha_pool, settings
):
    """With JavaScript as without, "Show a new question" spends the budget of the forms sent
    back; past it the reader is told why and keeps the question they have."""
    settings.COMMENTS_REDISPLAY_LIMIT = 2
    client.get(reverse("comments:token"))
    client.get(REFRESH, headers=XHR)
    questions = CaptchaStore.objects.count()

    refused = client.get(REFRESH, headers=XHR)
    token = client.get(reverse("comments:token")).json()

    assert refused.status_code == 429
    assert "We cannot show you a new question just now" in refused.json()["message"]
    assert int(refused["Retry-After"]) == settings.COMMENTS_FLOOD_WINDOW_SECONDS
    assert token["token"] and "question" not in token
    assert CaptchaStore.objects.count() == questions


def test_new_questions_paused_say_how_long_is_left_when_redis_counts(
    client, captcha_pool, settings, counted_in_redis
):
    """ "Paused for up to 10 minutes" held a reader back who had a minute or two left to wait:
    Redis, which counts the budget, knows when its window ends."""
    settings.COMMENTS_REDISPLAY_LIMIT = 1
    client.get(REFRESH, headers=XHR)
    cache.touch("comments:redisplay:ip:127.0.0.1", timeout=100)

    refused = client.get(REFRESH, headers=XHR)

    assert refused.status_code == 429
    assert "are paused for about 2 minutes." in refused.json()["message"]


def test_new_questions_paused_without_redis_say_the_longest_wait(client, captcha_pool, settings):
    """Each process counts in its own memory, which does not say when a window ends."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.COMMENTS_REDISPLAY_LIMIT = 1
    client.get(REFRESH, headers=XHR)

    refused = client.get(REFRESH, headers=XHR)

    assert "are paused for up to 10 minutes." in refused.json()["message"]


def test_new_questions_asked_for_spend_the_budget_of_the_forms_sent_back(
    client, article, fill_form, settings
):
    settings.COMMENTS_REDISPLAY_LIMIT = 2
    data = fill_form(article)
    for _ in range(2):
        client.get(REFRESH, headers=XHR)

    response = client.post(post_url(article), {**data, "replyto": ""})

    assert response.status_code == 429


def test_captcha_image_is_drawn(client, captcha_pool):
    response = client.get(f"/captcha/image/{captcha_pool.first().hashkey}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_refill_command_fills_the_pool(settings):
    settings.COMMENTS_CAPTCHA_POOL_SIZE = 7
    out = io.StringIO()

    call_command("refill_captcha_pool", stdout=out)

    assert CaptchaStore.objects.count() == 7
    assert "7 questions added, 7 available" in out.getvalue()


def test_refill_command_says_how_many_a_fuller_pool_holds(settings):
    call_command("refill_captcha_pool", "--size", "9", stdout=io.StringIO())
    out = io.StringIO()

    call_command("refill_captcha_pool", "--size", "4", stdout=out)

    assert "0 questions added, 9 available" in out.getvalue()


def test_a_new_question_comes_with_our_audio_in_words(client, captcha_pool, fake_flite):
    """The library's "new question" names the audio address; there our view speaks the
    question in words (the library's own ran flite at every request, spelling it out)."""
    response = client.get(REFRESH, headers=XHR)
    data = response.json()
    challenge = CaptchaStore.objects.get(hashkey=data["key"]).challenge

    audio = client.get(data["audio_url"])

    assert data["audio_url"] == f"/captcha/audio/{data['key']}.wav"
    assert audio.content == b"RIFF" + spoken_challenge(challenge).encode()


def test_no_question_is_drawn_cut_off_at_double_size(client, captcha_pool):
    """django-simple-captcha's @2x picture doubles the font in the same 220×50 box."""
    response = client.get(f"/captcha/image/{captcha_pool.first().hashkey}@2/")

    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/captcha/image/{key}/", "/captcha/refresh/"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_captcha_views_answer_only_reads(client, captcha_pool, path, method):
    url = path.format(key=captcha_pool.first().hashkey)

    response = getattr(client, method)(url, headers={"x-requested-with": "XMLHttpRequest"})

    assert response.status_code == 405
    assert client.head(url, headers={"x-requested-with": "XMLHttpRequest"}).status_code == 200
