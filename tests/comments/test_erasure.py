"""Erasing a commenter, checked where it counts: after everything the site does with their
comments, no table of the database, and no page the cache could serve, holds anything of
theirs; other commenters and the moderators' record stay as they were."""

import json
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from smtplib import SMTPRecipientsRefused
from uuid import UUID

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test import Client

from articles import page_cache
from comments import services
from comments.admin import LISTED_FOR_ERASURE, erasure_listing
from comments.models import Comment, commenter_digest, commenter_key_digest, isolated
from tests.factories import make_comment, make_moderator, make_superuser, post_url

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_QUEUE = "/admin/comments/comment/"
ZELDA = {
    "name": "Zelda Quixbury",
    "email": "zelda.quixbury@erasure.example",
    "url": "https://quixbury-home.example/",
}
ZELDA_IP = "198.51.100.77"
ZELDA_AGENT = "QuixburyBrowser/9.1"
ZELDA_WORDS = "Marmalade zeppelins"  # in every comment she writes
BOB = {"name": "Bob Tarrant", "email": "bob.tarrant@erasure.example"}


class RefusingZelda(BaseEmailBackend):
    """A mail server that refuses Zelda's address, naming it, as SMTP servers do."""

    def send_messages(self, email_messages):
        for message in email_messages:
            if ZELDA["email"] in message.recipients():
                raise SMTPRecipientsRefused({ZELDA["email"]: (550, b"No such user")})
        return mail.get_connection("django.core.mail.backends.locmem.EmailBackend").send_messages(
            email_messages
        )


def stored_texts():
    """(table, column, text) for every value of every table that is not a number, a date or
    a flag: Django's introspection lists the tables, so a table added later is read too.
    Sessions are signed and compressed: read as their contents."""
    skipped = (bool, int, float, Decimal, date, datetime, time, timedelta, UUID)
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                column.name
                for column in connection.introspection.get_table_description(cursor, table)
            ]
            quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
            table_name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT {quoted} FROM {table_name}")  # noqa: S608 (the schema's names)
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None or isinstance(value, skipped):
                        continue
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode(errors="replace")
                    elif isinstance(value, (dict, list)):
                        value = json.dumps(value, ensure_ascii=False)
                    value = str(value)
                    if table == "django_session" and column == "session_data":
                        value = repr(SessionStore().decode(value))
                    yield table, column, value


def found_in_database(*needles):
    """Where each needle is stored, in any letter case: {(table, column, needle)}."""
    return {
        (table, column, needle)
        for table, column, text in stored_texts()
        for needle in needles
        if needle.casefold() in text.casefold()
    }


def cached_entries():
    """(key, stored bytes) of every entry this test process holds in the cache, its key as
    the code names it: Redis, or local memory, whose values are stored pickled too."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=False)
        stored = {
            key.decode(): client.get(key) or b""
            for key in client.scan_iter(match=f"{backend.key_prefix}:*", count=1000)
        }
    elif isinstance(backend, LocMemCache):
        stored = dict(backend._cache)
    else:
        raise NotImplementedError(f"Listing the entries of {type(backend).__name__}")
    for made_key, raw in stored.items():
        yield made_key.split(":", 2)[2], raw  # make_key's "prefix:version:key"


def servable_in_cache(*needles):
    """The cached values holding one of the needles that a reader could be served: anything
    but a page stored under an older content version, which is never served again."""
    current = page_cache.content_version()
    found = []
    for key, raw in cached_entries():
        if not any(needle.encode() in raw for needle in needles):
            continue
        value = cache.get(key)
        if isinstance(value, dict) and "parts" in value and value["version"] != current:
            continue
        found.append(key)
    return found


def post_as_zelda(client, fill_form, article, body, **values):
    response = client.post(
        post_url(article),
        fill_form(article, **ZELDA, body=body, **values),
        REMOTE_ADDR=ZELDA_IP,
        HTTP_USER_AGENT=ZELDA_AGENT,
    )
    assert response.status_code == 303, response.content.decode()[:2000]
    return Comment.objects.get(body=body)


def run_action(client, action, comments, **extra):
    response = client.post(
        f"{ADMIN_QUEUE}?status=all",
        {"action": action, "_selected_action": [c.pk for c in comments], **extra},
    )
    assert response.status_code in {200, 302}
    return response


def test_an_erased_commenter_leaves_no_trace_in_any_table_or_servable_cached_page(
    client, article, fill_form, settings, monkeypatch, reader_cache, queued, run_worker
):
    settings.COMMENTS_ERASE_KEEPS_TEXT = False
    settings.SITE_URL = "https://news.example"
    moderator = make_moderator("moira", email="moira@newsroom.test")
    moderating, editing, reading = Client(), Client(), Client()
    moderating.force_login(moderator)
    superuser = make_superuser("eddie")
    editing.force_login(superuser)
    bob = make_comment(article, **BOB, body="Bob's own opinion.", ip_address="203.0.113.5")

    # Zelda writes through the form (the question answered), asks to be emailed and
    # remembered, reads her pending comment, answers Bob, and writes three more.
    first = post_as_zelda(
        client, fill_form, article, f"{ZELDA_WORDS} one.", notify_on_publish="on", remember="on"
    )
    assert ZELDA_WORDS in client.get(article.get_absolute_url()).content.decode()
    reply = post_as_zelda(
        client, fill_form, article, f"{ZELDA_WORDS} two.", parent=bob.pk, notify_on_publish="on"
    )
    later = [
        post_as_zelda(client, fill_form, article, f"{ZELDA_WORDS} {number}.")
        for number in ("three", "four", "five")
    ]
    run_worker()  # the moderators hear of each
    assert len(mail.outbox) == 5

    # Approved by the row's button; her "published" email refused by the mail server, which
    # names her address in the failed task's traceback.
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingZelda"}}
    moderating.post(f"{ADMIN_QUEUE}{first.pk}/decide/approve/", {"seen": "pending"})
    run_worker()
    # Her reply approved by the action; its email sent, with the unsubscribe link she uses.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    run_action(moderating, "approve_selected", [reply])
    run_worker()
    [published] = [m for m in mail.outbox if ZELDA["email"] in m.recipients()]
    [token] = re.findall(r"/comments/unsubscribe/([^/\s]+)/", published.body)
    assert client.post(f"/comments/unsubscribe/{token}/").status_code == 200
    bobs_reply = make_comment(article, parent=first, **BOB, body="Bob answers Zelda.")

    # Two rejected in the background, one approved then edited by the superuser.
    with monkeypatch.context() as patched:
        patched.setattr(services, "DECIDED_IN_THE_REQUEST", 1)
        run_action(moderating, "reject_selected", later[:2])
    run_worker()
    assert {c.status for c in Comment.objects.filter(pk__in=[c.pk for c in later[:2]])} == {
        "rejected"
    }
    run_action(moderating, "approve_selected", later[2:])
    moderating.get(ADMIN_QUEUE)  # told how the background decision ended
    edited = editing.post(
        f"{ADMIN_QUEUE}{later[2].pk}/change/", {"body": f"{ZELDA_WORDS} five, tidied."}
    )
    assert edited.status_code == 302

    # The superuser deletes a rejected one on its own page, and an approved one with Bob's
    # reply under it by the list's action.
    bobs_reply_to_the_deleted = make_comment(article, parent=later[2], **BOB, body="Indeed.")
    editing.post(f"{ADMIN_QUEUE}{later[0].pk}/delete/", {"post": "yes"})
    run_action(editing, "delete_selected", [later[2]], post="yes")
    assert not Comment.objects.filter(pk__in=[later[0].pk, later[2].pk]).exists()
    before_erasure = LogEntry.objects.count()
    traces = [ZELDA["name"], ZELDA["email"], ZELDA["url"], ZELDA_IP, ZELDA_AGENT, ZELDA_WORDS]
    # What is kept of her address without it (the key: her address in capitals, all ASCII).
    digests = [commenter_digest(ZELDA["email"]), commenter_key_digest(ZELDA["email"].upper())]
    assert {needle for _, _, needle in found_in_database(*traces, *digests)} == {
        *traces,
        *digests,
    }
    # Readers get the thread from the cache.
    assert ZELDA["name"] in reading.get(article.get_absolute_url()).content.decode()
    assert servable_in_cache(ZELDA["name"])

    run_action(
        editing,
        "erase_commenter_data",
        [first],
        confirmed="yes",
        **{LISTED_FOR_ERASURE: erasure_listing([ZELDA["email"].lower()])},
    )

    assert found_in_database(*traces, *digests) == set()
    assert servable_in_cache(*traces) == []
    assert ZELDA["name"] not in reading.get(article.get_absolute_url()).content.decode()
    # Others' comments, and the record of who did what, stay.
    assert Comment.objects.filter(pk__in=[bob.pk, bobs_reply.pk], **BOB).count() == 2
    bobs = [*BOB.values(), "203.0.113.5", "Bob answers Zelda."]
    assert {needle for _, _, needle in found_in_database(*bobs)} == set(bobs)
    deleted_with_it = LogEntry.objects.get(
        object_id=str(bobs_reply_to_the_deleted.pk), action_flag=DELETION
    )
    assert deleted_with_it.object_repr == f"Comment by {isolated(BOB['name'])}"
    assert deleted_with_it.user == superuser
    assert LogEntry.objects.count() == before_erasure + 3  # the erasure's, for her 3 comments
    assert {entry.user for entry in LogEntry.objects.all()} == {moderator, superuser}
