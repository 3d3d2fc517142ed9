"""The captcha: small arithmetic written in words and symbols, drawn by django-simple-captcha.

Questions come from a pre-generated pool (CAPTCHA_GET_FROM_POOL) so that showing the form
writes nothing to the database. Pool rows live for POOL_ROW_LIFETIME; django-simple-captcha
only hands out rows with more than CAPTCHA_GET_FROM_POOL_TIMEOUT minutes left, which is the
least time a reader gets to answer. Each answer, right or wrong, deletes its row
(claim_question); the pool is topped up in batches, not a row per answer, and by the daily
`refill_captcha_pool` (cron), with rows that can still be handed out at the next one.
"""

import datetime
import random
import re
import secrets
import subprocess
import tempfile
import unicodedata
from pathlib import Path

from captcha.conf import settings as captcha_settings
from captcha.fields import CaptchaField, CaptchaTextInput
from captcha.models import CaptchaStore
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.signals import post_delete
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from .models import SENTENCE_ENDS
from .widgets import input_html

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# The answers (2 to 81) in words, for readers who answer as the question is written and spoken.
TEEN_WORDS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]
TEEN_WORDS += ["seventeen", "eighteen", "nineteen"]
TENS_WORDS = {
    word: 10 * tens
    for tens, word in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], start=2
    )
}
SPOKEN_OPERATORS = {"+": "plus", "×": "times", "=": "equals"}
# The README's cron refills the pool daily: a refill leaves rows that outlive the next one.
REFILL_PERIOD = datetime.timedelta(days=1)
POOL_ROW_LIFETIME = 2 * REFILL_PERIOD
KEY_PATTERN = re.compile(r"[0-9a-f]{40}")
FLITE_TIMEOUT_SECONDS = 10
SPOKEN_AUDIO_CACHE_SECONDS = 7 * 24 * 60 * 60
# One used question in this many refills the pool, in one insert (see claim_question).
POOL_TOP_UP_EVERY = 25

# The longest answer read: "= seventy-seven." with spaces around it, or zeros before digits,
# fit well within it. A longer one is wrong unread (answer_meant).
ANSWER_MAX_LENGTH = 40

MISSING_ANSWER = "Please answer the math question."
WRONG_ANSWER = "That answer is not right. Please try the new question below."
EXPIRED_QUESTION = (
    "That question has expired or was already answered. Please answer the new question below."
)

CAPTCHA_HTML = """<div class="captcha">
  <img class="captcha__image" src="{image}" width="{width}" height="{height}" \
alt="A math question. If you cannot read it, listen to it or ask for a new question.">{audio}
  {key_input}
  {answer_input}
</div>"""
# In a tab of its own: a form sent back with an error answers a POST, which the browser does
# not keep, so leaving it for the audio would lose it (and the question heard) on the way back.
AUDIO_LINK_HTML = (
    '\n  <a class="captcha__audio" target="_blank" href="{}">Listen to the question'
    '<span class="visually-hidden"> (opens in a new tab)</span></a>'
)


def math_challenge():
    """Return ("five × 1 =", "5"): django-simple-captcha's CAPTCHA_CHALLENGE_FUNCT contract."""
    left, right = random.randint(1, 9), random.randint(1, 9)
    operator = random.choice(["+", "×"])
    answer = left + right if operator == "+" else left * right
    return f"{NUMBER_WORDS[left]} {operator} {right} =", str(answer)


def spoken_challenge(challenge):
    """ "five × 1 =" -> "five times one equals": flite says nothing for "×"."""
    words = []
    for token in challenge.split():
        if token.isdigit():
            words.append(" ".join(NUMBER_WORDS[int(digit)] for digit in token))
        else:
            words.append(SPOKEN_OPERATORS.get(token, token))
    return " ".join(words)


def speak(text):
    """WAV bytes of `text` spoken by flite (CAPTCHA_FLITE_PATH)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "question.wav"
        subprocess.run(  # noqa: S603 - fixed executable from settings, text is our own words
            [settings.CAPTCHA_FLITE_PATH, "-t", text, "-o", str(path)],
            check=True,
            capture_output=True,
            timeout=FLITE_TIMEOUT_SECONDS,
        )
        return path.read_bytes()


def spoken_audio(challenge):
    """WAV bytes of a question, spoken by flite once per distinct question and then cached.

    There are only 162 questions, so an endless stream of audio requests costs a cache read
    each, not a flite process each.
    """
    text = spoken_challenge(challenge)
    key = f"comments:captcha-audio:{text.replace(' ', '-')}"
    audio = cache.get(key)
    if audio is None:
        audio = speak(text)
        cache.set(key, audio, SPOKEN_AUDIO_CACHE_SECONDS)
    return audio


def number_in_words(text):
    """ "thirty-five" (or "thirty five") -> "35"; None for anything else."""
    words = re.split(r"[\s-]+", text)
    small = NUMBER_WORDS + TEEN_WORDS
    if len(words) == 1 and words[0] in small:
        return str(small.index(words[0]))
    if words[0] in TENS_WORDS and len(words) <= 2:
        units = words[1:] or ["zero"]
        if units[0] in NUMBER_WORDS:
            return str(TENS_WORDS[words[0]] + NUMBER_WORDS.index(units[0]))
    return None


def answer_meant(typed):
    """The number a reader's answer means, as the question's answer is written ("35"):
    typed in any script's digits (full width from a Japanese keyboard, say) or in words
    ("thirty-five", as the question is written and spoken), with leading zeros, with the
    question's "=" before it or a sentence's end after it ("35.", as a phone's double space
    types it). Anything else is returned as it is (a wrong answer), unread when it is
    longer than ANSWER_MAX_LENGTH: a bot's 250 KB took a third of a second to normalise."""
    if len(typed) > ANSWER_MAX_LENGTH:
        return typed
    answer = unicodedata.normalize("NFKC", typed).strip().lower()  # full-width "=" and "." too
    answer = answer.removeprefix("=").rstrip(SENTENCE_ENDS).strip()
    if answer.isdecimal():
        # Without int(), which refuses more than 4,300 digits (a 500), and a bot may send them.
        digits = "".join(str(unicodedata.decimal(char)) for char in answer)
        return digits.lstrip("0") or "0"
    return number_in_words(answer) or answer


def is_valid_key(key):
    return isinstance(key, str) and KEY_PATTERN.fullmatch(key) is not None


def question_is_open(key):
    """Whether question `key` can still be answered (not expired, not used up)."""
    return CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).exists()


def fresh_pool_size(*, later=datetime.timedelta(0)):
    """Rows django-simple-captcha would still hand out (`later` from now)."""
    threshold = (
        timezone.now() + later + datetime.timedelta(minutes=settings.CAPTCHA_GET_FROM_POOL_TIMEOUT)
    )
    return CaptchaStore.objects.filter(expiration__gt=threshold).count()


def pool_keys(count):
    """Keys of up to `count` questions of the pool, at random, that have at least
    CAPTCHA_GET_FROM_POOL_TIMEOUT minutes to live.

    A pool that has run out (its daily refill missed) is refilled here, in one batch: else
    each page rendered would write a question of its own (CaptchaStore.pick()'s fallback),
    and each cached page would keep showing one that is gone, its picture a 410. Without a
    pool (COMMENTS_CAPTCHA_POOL_SIZE 0) there is nothing to refill, and no sweep to pay for.
    """
    threshold = timezone.now() + datetime.timedelta(minutes=settings.CAPTCHA_GET_FROM_POOL_TIMEOUT)
    fresh = CaptchaStore.objects.filter(expiration__gt=threshold).order_by("?")
    keys = list(fresh.values_list("hashkey", flat=True)[:count])
    if not keys and settings.COMMENTS_CAPTCHA_POOL_SIZE and refill_pool():
        keys = list(fresh.values_list("hashkey", flat=True)[:count])
    return keys


def pool_key():
    """One question's key for a form: the pool's, or a new question when there is no pool
    to draw from (COMMENTS_CAPTCHA_POOL_SIZE 0)."""
    keys = pool_keys(1)
    return keys[0] if keys else CaptchaStore.generate_key()


def refill_pool(size=None):
    """Delete expired questions and add fresh ones until `size` can be handed out until
    the next daily refill: rows that go stale before it would leave the pool empty."""
    size = settings.COMMENTS_CAPTCHA_POOL_SIZE if size is None else size
    CaptchaStore.remove_expired()
    missing = size - fresh_pool_size(later=REFILL_PERIOD)
    if missing > 0:
        add_to_pool(missing)
    return max(missing, 0)


def add_to_pool(count):
    """Insert `count` questions in one statement, each under an unguessable key."""
    expiration = timezone.now() + POOL_ROW_LIFETIME
    rows = [
        CaptchaStore(
            challenge=challenge,
            response=response,
            hashkey=secrets.token_hex(20),
            expiration=expiration,
        )
        for challenge, response in (math_challenge() for _ in range(count))
    ]
    return CaptchaStore.objects.bulk_create(rows)


def question_of_ones_own():
    """The key of a new question no other reader is given: a reader who starts writing on a
    cached page, asks for a new question, or is sent the form back, answers it, where the
    page's question came from a sample that every reader draws from, and another reader's
    answer to it would use it up.

    One insert, for the few readers who write (ratelimit.claim_redisplay counts them). It
    lives CAPTCHA_GET_FROM_POOL_TIMEOUT minutes, the least a pool question is handed out
    with: the pool, which hands out only questions with more time left, never gives it to
    anyone else.
    """
    challenge, response = math_challenge()
    question = CaptchaStore.objects.create(
        challenge=challenge,
        response=response,
        hashkey=secrets.token_hex(20),
        expiration=timezone.now()
        + datetime.timedelta(minutes=settings.CAPTCHA_GET_FROM_POOL_TIMEOUT),
    )
    return question.hashkey


def claim_question(key):
    """Use question `key` up and return its answer; None if it expired or was used already.

    Deleting the row is what claims it, in one statement that also returns the answer: of
    two requests sending one key at the same moment (a double click), only one deletes it.
    Pool rows have consecutive ids, so the claims of one question in every
    POOL_TOP_UP_EVERY refill the pool: batches, with no counter to share between processes.
    """
    if not is_valid_key(key):
        return None
    table = connection.ops.quote_name(CaptchaStore._meta.db_table)
    with connection.cursor() as cursor:
        # The ORM's delete() would read the row first, then delete it by id: two round trips
        # in the path of every comment, where DELETE ... RETURNING needs one.
        cursor.execute(
            f"DELETE FROM {table} WHERE hashkey = %s AND expiration > %s "  # noqa: S608 (model metadata only)
            "RETURNING id, response",
            [key, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        claimed = cursor.fetchone()
    if claimed is None:
        return None
    question = CaptchaStore(pk=claimed[0], hashkey=key, response=claimed[1])
    # What listens for questions leaving the pool (the cached pages' sample) still hears.
    post_delete.send(
        sender=CaptchaStore, instance=question, using=connection.alias, origin=question
    )
    if question.pk % POOL_TOP_UP_EVERY == 0:
        refill_pool()
    return question.response


def discard_question(key):
    """Retire a question the reader asked to replace; True if there was one to retire."""
    return claim_question(key) is not None


class MathCaptchaWidget(CaptchaTextInput):
    """The stock widget, with the answer box reachable by its own <label for>.

    The stock template wraps both inputs in a fieldset, which leaves the answer without a
    label; ours also offers the question spoken aloud (our own view, in words). Written in
    Python, like the form's other inputs (comments/widgets.py).
    """

    use_fieldset = False
    # (key, answer) of a question the reader has and may have answered, to show again
    # rather than draw another (CommentForm.keep_question).
    kept_question = None
    # Else the key of a new question of the reader's own (CommentForm.ask_own_question);
    # None draws one from the pool.
    own_question = None

    def audio_url(self):
        if not settings.CAPTCHA_FLITE_PATH:
            return None
        return reverse("captcha-audio", kwargs={"key": self._key})

    def render(self, name, value, attrs=None, renderer=None):
        # The stock fetch_captcha_store() also reversed a URL on every render only to check
        # that captcha.urls is installed.
        self._key, answer = self.kept_question or (self.own_question or pool_key(), "")
        context = self.get_context(name, [self._key, answer], attrs)
        key_input, answer_input = context["widget"]["subwidgets"]
        # The field's attributes are the answer's: HTML allows none of these on the hidden key.
        for attribute in ("required", "aria-describedby", "aria-invalid"):
            key_input["attrs"].pop(attribute, None)
        answer_input["attrs"]["inputmode"] = "numeric"  # a number pad on phones
        width, height = captcha_settings.CAPTCHA_IMAGE_SIZE
        audio = context["audio"]
        return mark_safe(  # noqa: S308 - the URLs are escaped, the inputs written by input_html
            CAPTCHA_HTML.format(
                image=conditional_escape(context["image"]),
                width=width,
                height=height,
                audio=AUDIO_LINK_HTML.format(conditional_escape(audio)) if audio else "",
                key_input=input_html(key_input),
                answer_input=input_html(answer_input),
            )
        )


class MathCaptchaField(CaptchaField):
    """Tells an expired or already used question apart from a wrong answer."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MathCaptchaWidget())
        kwargs.setdefault(
            "error_messages", {"required": MISSING_ANSWER, "incomplete": MISSING_ANSWER}
        )
        kwargs["error_messages"].setdefault("invalid", WRONG_ANSWER)
        super().__init__(**kwargs)

    def clean(self, value):
        key, answer = value if value else (None, None)
        if not (answer or "").strip():
            raise ValidationError(MISSING_ANSWER, code="required")
        if not is_valid_key(key):
            raise ValidationError(EXPIRED_QUESTION, code="expired")
        answer = answer_meant(answer)
        # Any answer, right or wrong, uses the question up. Of two requests sending one key
        # at the same moment, the second is told the question was already answered rather
        # than storing the comment a second time.
        expected = claim_question(key)
        test_pass = captcha_settings.CAPTCHA_TEST_MODE and answer == "passed"
        if not (expected is not None or test_pass):
            raise ValidationError(EXPIRED_QUESTION, code="expired")
        if not (answer == expected or test_pass):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return [key, ""]
