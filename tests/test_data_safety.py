"""Nothing readers wrote disappears by accident.

Moderating never deletes: only someone holding the delete permission can, and the admin asks
first. Housekeeping commands change exactly the rows (and fields) they name, nothing else.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from comments.models import Comment
from tests.factories import make_article, make_comment, make_moderator, make_user

pytestmark = pytest.mark.django_db

Status = Comment.Status
QUEUE = "/admin/comments/comment/"
BULK_ACTIONS = [
    "approve_selected",
    "unapprove_selected",
    "reject_selected",
    "mark_selected_as_spam",
]


def rows():
    """Every comment with every stored field, keyed by id."""
    return {row["id"]: row for row in Comment.objects.values()}


def age(comment, days):
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(days=days))
    comment.refresh_from_db()
    return comment


def run(*args):
    call_command(*args, stdout=StringIO())


@pytest.fixture
def thread(db):
    """Comments in every state on two articles, with replies."""
    article, other = make_article(), make_article()
    made = [make_comment(article, status=status) for status in Status.values]
    made += [make_comment(other, status=status) for status in Status.values]
    made.append(make_comment(article, parent=made[0], status=Status.APPROVED))
    return made


def test_everything_a_moderator_can_do_keeps_every_comment(client, thread):
    client.force_login(make_moderator())
    ids = [comment.pk for comment in thread]

    for action in BULK_ACTIONS:
        client.post(f"{QUEUE}?status=all", {"action": action, "_selected_action": ids})
    for comment in thread:
        client.post(f"{QUEUE}{comment.pk}/decide/spam/", {"next": QUEUE})
    refused = [
        client.post(f"{QUEUE}?status=all", {"action": "delete_selected", "_selected_action": ids}),
        client.post(
            f"{QUEUE}?status=all",
            {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
        ),
        client.get(f"{QUEUE}{thread[0].pk}/delete/"),
        client.post(f"{QUEUE}{thread[0].pk}/delete/", {"post": "yes"}),
        client.post(
            f"{QUEUE}?status=all", {"action": "erase_commenter_data", "_selected_action": ids}
        ),
    ]

    assert set(rows()) == set(ids)
    assert [response.status_code for response in refused[2:4]] == [403, 403]
    change_page = client.get(f"{QUEUE}{thread[0].pk}/change/").content.decode()
    assert f"{thread[0].pk}/delete/" not in change_page


@pytest.fixture
def deleter_client(client):
    """Staff who may view and delete comments, and nothing else: not a moderator."""
    user = make_user("dee", staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="comments", codename__in=["view_comment", "delete_comment"]
        )
    )
    client.force_login(user)
    return client


def test_someone_with_the_delete_permission_deletes_after_confirming(deleter_client, thread):
    doomed = thread[1]
    selection = {"action": "delete_selected", "_selected_action": [doomed.pk]}

    confirmation = deleter_client.post(f"{QUEUE}?status=all", selection)
    assert confirmation.status_code == 200
    assert "Are you sure" in confirmation.content.decode()
    assert doomed.pk in rows()

    deleter_client.post(f"{QUEUE}?status=all", {**selection, "post": "yes"})

    assert set(rows()) == {comment.pk for comment in thread} - {doomed.pk}


def test_deleting_one_comment_in_the_admin_asks_first_and_takes_only_it(deleter_client, thread):
    doomed = thread[5]  # on the other article, no replies
    url = f"{QUEUE}{doomed.pk}/delete/"

    assert deleter_client.get(url).status_code == 200
    assert doomed.pk in rows()
    deleter_client.post(url, {"post": "yes"})

    assert set(rows()) == {comment.pk for comment in thread} - {doomed.pk}


class TestPurgeSpam:
    def test_deletes_old_spam_keeps_what_others_replied_to_and_changes_nothing_else(self, db):
        article = make_article()
        others = [Status.PENDING, Status.APPROVED, Status.REJECTED]
        for status in others:
            age(make_comment(article, status=status), 400)
        for status in Status.values:
            age(make_comment(article, status=status), 1)
        old_spam = [age(make_comment(article, status=Status.SPAM), days) for days in (31, 400)]
        answered = age(make_comment(article, status=Status.SPAM), 60)
        make_comment(article, parent=answered, status=Status.APPROVED)
        spam_reply = age(make_comment(article, parent=old_spam[0], status=Status.SPAM), 45)
        before = rows()

        run("purge_spam", "--older-than", "30")

        after = rows()
        # Old spam goes with its old spam replies; spam someone answered stays with the answer.
        assert set(before) - set(after) == {old_spam[0].pk, old_spam[1].pk, spam_reply.pk}
        assert after == {pk: before[pk] for pk in after}  # the rest untouched, field by field

    def test_fresh_spam_and_every_other_state_stay(self, thread):
        for comment in thread:
            age(comment, 29)
        before = rows()

        run("purge_spam", "--older-than", "30")

        assert rows() == before

    def test_dry_run_changes_nothing(self, thread):
        for comment in thread:
            age(comment, 100)
        before = rows()

        run("purge_spam", "--older-than", "30", "--dry-run")

        assert rows() == before


def test_clearing_old_ips_touches_only_ip_and_user_agent_of_old_comments(thread):
    for comment in thread:
        Comment.objects.filter(pk=comment.pk).update(ip_address="203.0.113.5", user_agent="UA/1")
    old = {age(comment, 90).pk for comment in thread[:4]}
    before = rows()

    run("clear_commenter_ips", "--days", "60")

    after = rows()
    assert set(after) == set(before)
    for pk, row in after.items():
        if pk in old:
            assert (row["ip_address"], row["user_agent"]) == (None, "")
            row = {**row, "ip_address": "203.0.113.5", "user_agent": "UA/1"}
        assert row == before[pk]


def test_erasing_a_commenter_touches_only_their_comments_and_deletes_none(thread):
    target = thread[2]
    Comment.objects.filter(pk=thread[6].pk).update(email=target.email.upper())
    theirs = {target.pk, thread[6].pk}
    before = rows()

    run("commenter_data", "erase", target.email)

    after = rows()
    assert set(after) == set(before)
    assert all(after[pk]["email"] == "" for pk in theirs)
    assert {pk: row for pk, row in after.items() if pk not in theirs} == {
        pk: row for pk, row in before.items() if pk not in theirs
    }
