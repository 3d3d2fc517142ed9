"""Two moderators deciding on the same comments at the same moment.

Each moderator works in a thread with its own PostgreSQL connection, as two admin requests
would; a barrier lines them up on every comment. Whatever the interleaving, each comment
ends in one state, every real change has exactly one log entry and nothing else has any,
and the article's comment count matches its comments.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection, transaction

from comments import services
from comments.models import Comment
from tests.factories import make_article, make_comment, make_moderator

ROOTS = 10
ROUND_SECONDS = 30
Status = Comment.Status


@pytest.fixture
def thread_of_pending_comments(committed_db):
    """Ten pending comments, each with a pending reply: a reply shows only with its parent."""
    article = make_article()
    roots = [
        make_comment(article, status=Status.PENDING, notify_on_publish=True) for _ in range(ROOTS)
    ]
    replies = [make_comment(article, parent=root, status=Status.PENDING) for root in roots]
    return article, roots + replies


def decide_at_once(comments, *decisions):
    """Each (operation, moderator) goes over every comment in its own thread and database
    connection; all threads start each comment together. Returns, per decision, whether
    each call changed the comment."""
    lined_up = threading.Barrier(len(decisions), timeout=ROUND_SECONDS)

    def moderate(decision):
        operation, moderator = decision
        try:
            changed = []
            for comment in comments:
                own_copy = Comment.objects.get(pk=comment.pk)  # as the admin action loads it
                lined_up.wait()
                changed.append(operation(own_copy, by=moderator))
            return changed
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(decisions)) as pool:
        return list(pool.map(moderate, decisions))


def log_entries(comment):
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Comment), object_id=str(comment.pk)
        ).order_by("pk")
    )


def test_approve_and_spam_at_once_end_in_one_state_with_one_entry_per_change(
    thread_of_pending_comments,
):
    article, comments = thread_of_pending_comments
    moira, max_ = make_moderator("moira"), make_moderator("max")

    approved, spammed = decide_at_once(
        comments, (services.approve, moira), (services.mark_spam, max_)
    )

    # From pending, the first decision changes the comment and so does the other one, second.
    assert all(approved) and all(spammed)
    for comment in comments:
        comment.refresh_from_db()
        entries = log_entries(comment)
        assert len(entries) == 2
        assert {entry.user_id for entry in entries} == {moira.pk, max_.pk}
        last = entries[-1]
        assert comment.moderated_by_id == last.user_id
        expected = Status.APPROVED if last.user_id == moira.pk else Status.SPAM
        assert comment.status == expected
        assert last.get_change_message() == services.LOG_MESSAGES[expected]
    article.refresh_from_db()
    assert article.comment_count == services.visible_comment_counts([article.pk])[article.pk]


def test_the_same_decision_twice_at_once_is_one_change_one_entry_one_email(
    thread_of_pending_comments,
):
    article, comments = thread_of_pending_comments
    moira, max_ = make_moderator("moira"), make_moderator("max")

    first, second = decide_at_once(comments, (services.approve, moira), (services.approve, max_))

    assert [a + b for a, b in zip(first, second, strict=True)] == [1] * len(comments)
    assert Counter(len(log_entries(comment)) for comment in comments) == {1: len(comments)}
    assert set(Comment.objects.values_list("status", flat=True)) == {Status.APPROVED}
    article.refresh_from_db()
    assert article.comment_count == len(comments)
    # One "your comment is published" email per commenter who asked, not one per moderator.
    asked = Comment.objects.filter(parent=None).values_list("email", flat=True)
    assert sorted(to for message in mail.outbox for to in message.to) == sorted(asked)


def test_a_comment_deleted_while_another_is_approved_leaves_the_articles_count_true(
    committed_db,
):
    """A script deletes one comment while a moderator approves another on the same article.
    The deletion counted what the approval had not yet committed, and wrote after it: the
    approved comment was on the page, and the article's "1 comment" said 0."""
    article = make_article()
    deleted = make_comment(article, status=Status.APPROVED)
    approved = make_comment(article, status=Status.PENDING)
    services.refresh_comment_count(article.pk)
    moira = make_moderator("moira")
    decided, deletion_counted = threading.Event(), threading.Event()

    def approve_and_commit_after_the_deletion_counts():
        try:
            with transaction.atomic():
                services.approve(approved, by=moira)
                decided.set()
                assert deletion_counted.wait(ROUND_SECONDS)
        finally:
            connection.close()

    def note_the_deletion_counted(execute, sql, params, many, context):
        if '"articles_article"' in sql:  # its count is read: it writes (or locks) the article
            deletion_counted.set()
        return execute(sql, params, many, context)

    def delete():
        try:
            assert decided.wait(ROUND_SECONDS)
            with connection.execute_wrapper(note_the_deletion_counted):
                Comment.objects.get(pk=deleted.pk).delete()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [
            pool.submit(approve_and_commit_after_the_deletion_counts),
            pool.submit(delete),
        ]:
            done.result()

    article.refresh_from_db()
    assert list(Comment.objects.values_list("pk", flat=True)) == [approved.pk]
    assert article.comment_count == 1
