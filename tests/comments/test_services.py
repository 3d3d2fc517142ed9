"""Moderation decisions: each transition, idempotence, the audit trail, replies withheld."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import page_cache
from articles.models import Article
from comments import cache as comments_cache
from comments import services
from comments.models import BackgroundDecision, Comment
from comments.moderation import PREVIOUSLY_APPROVED, Verdict, assess
from comments.thread import build_thread
from tests.factories import make_article, make_comment, make_moderator

pytestmark = pytest.mark.django_db

Status = Comment.Status


@pytest.fixture
def moderator(db):
    return make_moderator()


def entries_for(comment):
    return LogEntry.objects.filter(object_id=str(comment.pk)).order_by("pk")


def count_of(article):
    return Article.objects.get(pk=article.pk).comment_count


@pytest.mark.parametrize(
    ("operation", "start", "end", "message"),
    [
        (services.approve, Status.PENDING, Status.APPROVED, "Approved."),
        (
            services.unapprove,
            Status.APPROVED,
            Status.PENDING,
            "Moved back to the moderation queue.",
        ),
        (services.reject, Status.PENDING, Status.REJECTED, "Rejected."),
        (services.mark_spam, Status.APPROVED, Status.SPAM, "Marked as spam."),
    ],
)
def test_each_decision_records_who_when_and_logs_it(
    article, moderator, operation, start, end, message
):
    comment = make_comment(article, status=start)

    assert operation(comment, by=moderator) is True

    comment.refresh_from_db()
    assert comment.status == end
    assert comment.moderated_by == moderator
    assert comment.moderated_at is not None
    [entry] = entries_for(comment)
    assert entry.user == moderator
    assert entry.get_change_message() == message
    assert entry.is_change()


def test_deciding_what_is_already_decided_changes_and_logs_nothing(article, moderator):
    comment = make_comment(article, status=Status.APPROVED)

    assert services.approve(comment, by=moderator) is False

    comment.refresh_from_db()
    assert comment.moderated_by is None
    assert not entries_for(comment).exists()


def test_a_repeated_decision_logs_once(article, moderator):
    comment = make_comment(article, status=Status.PENDING)
    stale_copy = Comment.objects.get(pk=comment.pk)

    services.mark_spam(comment, by=moderator)
    services.mark_spam(stale_copy, by=make_moderator("second"))

    assert entries_for(comment).count() == 1
    comment.refresh_from_db()
    assert comment.moderated_by == moderator


def test_comment_count_follows_each_decision(article, moderator):
    comment = make_comment(article, status=Status.PENDING)
    make_comment(article, status=Status.APPROVED)
    services.refresh_comment_count(article.pk)
    assert count_of(article) == 1

    services.approve(comment, by=moderator)
    assert count_of(article) == 2

    services.mark_spam(comment, by=moderator)
    assert count_of(article) == 1


def test_withholding_a_comment_withholds_its_replies_and_approval_restores_them(article, moderator):
    parent = make_comment(article, status=Status.APPROVED)
    reply = make_comment(article, parent=parent, status=Status.APPROVED)
    make_comment(article, parent=reply, status=Status.APPROVED)
    services.refresh_comment_count(article.pk)
    assert count_of(article) == 3

    for withhold in (services.reject, services.mark_spam, services.unapprove):
        withhold(parent, by=moderator)
        assert build_thread(article).roots == []
        assert count_of(article) == 0

        services.approve(parent, by=moderator)
        [root] = build_thread(article).roots
        assert root.pk == parent.pk
        assert [r.pk for r in root.replies_shown] == [reply.pk]
        assert count_of(article) == 3


def test_count_only_covers_its_own_article(moderator):
    first, second = make_article(), make_article()
    comment = make_comment(first, status=Status.PENDING)
    make_comment(second, status=Status.APPROVED)
    Article.objects.filter(pk=second.pk).update(comment_count=0)  # stale, as a marker

    services.approve(comment, by=moderator)

    assert count_of(first) == 1
    assert count_of(second) == 0  # never recounted: untouched


def test_a_decision_makes_cached_pages_stale_after_commit(
    article, moderator, django_capture_on_commit_callbacks
):
    comment = make_comment(article, status=Status.PENDING)
    before = page_cache.content_version()

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=moderator)
        assert page_cache.content_version() == before  # not before the commit

    assert page_cache.content_version() != before


def test_no_decision_leaves_cached_pages_alone(
    article, moderator, django_capture_on_commit_callbacks
):
    comment = make_comment(article, status=Status.APPROVED)
    before = page_cache.content_version()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.approve(comment, by=moderator)

    assert callbacks == []
    assert page_cache.content_version() == before


def test_a_spam_wave_over_many_articles_is_marked_in_a_few_queries(
    moderator, django_assert_max_num_queries
):
    """No comment of the wave was visible, so no article is recounted (a766cf1): two
    queries per article, thousands of articles in a real wave, outlasted the request (35 s
    for 70,000 comments at a million)."""
    articles = [make_article() for _ in range(30)]
    wave = [make_comment(article, status=Status.PENDING) for article in articles]
    counts = [count_of(article) for article in articles]

    with django_assert_max_num_queries(8):
        assert services.moderate_many(wave, Status.SPAM, by=moderator) == len(wave)

    assert [count_of(article) for article in articles] == counts


def test_approving_a_comment_locks_and_recounts_its_article_once(
    article, moderator, django_assert_num_queries
):
    """The decision locks the article before it reads the comment; the recount used to take
    the same lock again, in a savepoint of its own: three statements more per decision."""
    comment = make_comment(article, status=Status.PENDING)
    ContentType.objects.get_for_model(Comment)  # the log's, read once per process

    with django_assert_num_queries(9) as queries:
        assert services.approve(comment, by=moderator) is True

    assert count_of(article) == 1
    reads_of_the_article = [q for q in queries if q["sql"].startswith('SELECT "articles_article"')]
    assert len(reads_of_the_article) == 1


@pytest.mark.usefixtures("shared_cache")
def test_pending_count_is_cached_and_cleared_by_decisions(
    article, moderator, django_capture_on_commit_callbacks, django_assert_num_queries
):
    comment = make_comment(article, status=Status.PENDING)
    assert comments_cache.pending_count() == 1
    with django_assert_num_queries(0):
        assert comments_cache.pending_count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=moderator)

    assert comments_cache.pending_count() == 0


@pytest.mark.usefixtures("shared_cache")
def test_status_counts_are_cached_and_cleared_by_decisions(
    article, moderator, django_capture_on_commit_callbacks, django_assert_num_queries
):
    comment = make_comment(article, status=Status.PENDING)
    assert comments_cache.status_counts() == {Status.PENDING: 1}
    with django_assert_num_queries(0):
        assert comments_cache.status_counts() == {Status.PENDING: 1}

    with django_capture_on_commit_callbacks(execute=True):
        services.mark_spam(comment, by=moderator)

    assert comments_cache.status_counts() == {Status.SPAM: 1}


def test_a_new_held_comment_clears_the_moderation_counts(
    article, django_capture_on_commit_callbacks
):
    assert comments_cache.pending_count() == 0
    assert comments_cache.status_counts() == {}
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_comment(
            article=article,
            parent=None,
            name="Reader",
            email="reader@example.com",
            url="",
            body="A first thought.",
            ip_address="203.0.113.9",
            user_agent="Test",
            notify_on_publish=False,
            status=Status.PENDING,
            held_reason="New comments wait for a moderator (pre-moderation).",
        )
    assert comments_cache.pending_count() == 1
    assert comments_cache.status_counts() == {Status.PENDING: 1}


def test_a_moderator_edit_to_the_body_makes_cached_pages_stale(
    article, django_capture_on_commit_callbacks
):
    comment = make_comment(article)
    before = page_cache.content_version()

    with django_capture_on_commit_callbacks(execute=True):
        services.edit_body(comment, body="Fixed a typo.")

    assert Comment.objects.get(pk=comment.pk).body == "Fixed a typo."
    assert page_cache.content_version() != before


def test_a_moderator_edit_to_a_held_comment_leaves_cached_pages_alone(
    article, django_capture_on_commit_callbacks
):
    """Readers cannot see it, before the edit or after."""
    comment = make_comment(article, status=Status.PENDING)
    before = page_cache.content_version()

    with django_capture_on_commit_callbacks(execute=True):
        services.edit_body(comment, body="Fixed a typo.")

    assert Comment.objects.get(pk=comment.pk).body == "Fixed a typo."
    assert page_cache.content_version() == before


class TestPreviouslyApprovedRule:
    def assess(self, email, body="Nice piece."):
        return assess(name="Ada", email=email, url="", body=body, honeypot="")

    def test_off_by_default_every_comment_waits(self, article, settings):
        make_comment(article, email="ada@example.com", status=Status.APPROVED)

        assert self.assess("ada@example.com").status == Status.PENDING

    def test_on_an_address_with_an_approved_comment_skips_the_queue(self, article, settings):
        settings.COMMENTS_AUTO_APPROVE_PREVIOUSLY_APPROVED = True
        make_comment(article, email="ada@example.com", status=Status.APPROVED)
        make_comment(article, email="bob@example.com", status=Status.SPAM)

        verdict = self.assess("ADA@example.com")

        assert verdict == Verdict(Status.APPROVED, PREVIOUSLY_APPROVED)
        assert self.assess("bob@example.com").status == Status.PENDING

    def test_other_rules_still_hold_a_regular_commenter(self, article, settings):
        settings.COMMENTS_AUTO_APPROVE_PREVIOUSLY_APPROVED = True
        settings.COMMENTS_MAX_LINKS = 1
        make_comment(article, email="ada@example.com", status=Status.APPROVED)

        verdict = self.assess("ada@example.com", body="https://a.example https://b.example")

        assert verdict.status == Status.PENDING

    def test_an_auto_approved_comment_counts_at_once(self, article):
        services.submit_comment(
            article=article,
            parent=None,
            name="Ada",
            email="ada@example.com",
            url="",
            body="Welcome back to me.",
            ip_address=None,
            user_agent="",
            notify_on_publish=False,
            status=Status.APPROVED,
            held_reason=PREVIOUSLY_APPROVED,
        )

        assert count_of(article) == 1


class TestDeletionOutsideTheAdmin:
    """A script's or the shell's delete() keeps the counts true, as the admin's does."""

    def test_a_deleted_comment_and_its_replies_leave_the_articles_count(self, article):
        comment = make_comment(article)
        make_comment(article, parent=comment)
        make_comment(article)
        services.refresh_comment_count(article.pk)

        comment.delete()

        assert count_of(article) == 1

    def test_a_queryset_deleted_across_articles_recounts_them_in_one_write(self):
        first, second = make_article(), make_article()
        for article in (first, second, first):
            make_comment(article, body="Spam that got through.")
        kept = make_comment(second)
        services.refresh_comment_counts([first.pk, second.pk])

        with CaptureQueriesContext(connection) as queries:
            Comment.objects.filter(body="Spam that got through.").delete()

        assert (count_of(first), count_of(second)) == (0, 1)
        assert list(Comment.objects.all()) == [kept]
        assert sum(query["sql"].startswith('UPDATE "articles_article"') for query in queries) == 1

    def test_a_comment_approved_since_it_was_loaded_leaves_the_count_when_deleted(
        self, article, moderator, django_capture_on_commit_callbacks
    ):
        """A script holding the comment as it was loaded, pending, deletes it after a
        moderator approved it: the count went on showing it, and cached pages too."""
        loaded = Comment.objects.get(pk=make_comment(article, status=Status.PENDING).pk)
        services.approve(Comment.objects.get(pk=loaded.pk), by=moderator)
        assert count_of(article) == 1
        before = page_cache.content_version()

        with django_capture_on_commit_callbacks(execute=True):
            loaded.delete()

        assert count_of(article) == 0
        assert page_cache.content_version() != before

    def test_a_comment_withdrawn_since_it_was_loaded_ends_no_cached_page_when_deleted(
        self, article, moderator, django_capture_on_commit_callbacks
    ):
        """Marked as spam since: readers no longer see it, so its deletion changes nothing of
        theirs, as deleting any spam does."""
        loaded = Comment.objects.get(pk=make_comment(article, status=Status.APPROVED).pk)
        services.refresh_comment_count(article.pk)
        services.mark_spam(Comment.objects.get(pk=loaded.pk), by=moderator)
        before = page_cache.content_version()

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            loaded.delete()

        assert count_of(article) == 0
        assert page_cache.bump_content_version not in callbacks
        assert page_cache.content_version() == before

    @pytest.mark.usefixtures("shared_cache")
    def test_a_deleted_pending_comment_leaves_the_moderators_count(
        self, article, django_capture_on_commit_callbacks
    ):
        """Kept a minute with Redis, it went on saying "1 comment awaiting moderation"."""
        comment = make_comment(article, status=Status.PENDING)
        assert comments_cache.pending_count() == 1

        with django_capture_on_commit_callbacks(execute=True):
            comment.delete()

        assert comments_cache.pending_count() == 0

    def test_an_articles_deletion_recounts_none_of_its_comments(self):
        """It takes them all: counting what is left, per comment, would be thousands of
        queries for a busy article, in the same queries whatever its number of comments."""

        def queries_to_delete(article):
            with CaptureQueriesContext(connection) as queries:
                article.delete()
            return [query["sql"] for query in queries]

        quiet, busy = make_article(), make_article()
        make_comment(quiet)
        for _ in range(40):
            make_comment(busy, parent=make_comment(busy))

        quiet_queries, busy_queries = queries_to_delete(quiet), queries_to_delete(busy)

        assert len(busy_queries) == len(quiet_queries)
        assert not any(sql.startswith('UPDATE "articles_article"') for sql in busy_queries)
        assert not Comment.objects.exists()


# -- Decisions taken in the background --------------------------------------------------------


State = BackgroundDecision.State


def queued(days_ago, *, by, state=State.ENDED):
    """A BackgroundDecision its moderator has not been told of yet, queued `days_ago`."""
    decision = BackgroundDecision.objects.create(
        moderator=by, target=Status.APPROVED, comment_count=3_000, state=state
    )
    BackgroundDecision.objects.filter(pk=decision.pk).update(
        queued_at=timezone.now() - timedelta(days=days_ago)
    )
    return decision.pk


def test_a_decision_queued_in_the_background_deletes_those_nobody_was_told_of_in_30_days(
    article, moderator
):
    """Each decision whose moderator was never told how it ended (their session ended first,
    or it was told as stopped) kept its row for ever."""
    other = make_moderator("max")
    for state in State.values:  # stopped, if still running
        queued(31, by=moderator, state=state)
    waiting = [queued(29, by=other), queued(29, by=moderator, state=State.RUNNING)]
    comments = [make_comment(article, status=Status.PENDING) for _ in range(2)]

    with CaptureQueriesContext(connection) as queries:
        decision = services.moderate_later(comments, Status.APPROVED, by=moderator, seen={})

    assert set(BackgroundDecision.objects.values_list("pk", flat=True)) == {
        *waiting,
        decision.pk,
    }
    deletes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("DELETE") and "comments_backgrounddecision" in q["sql"]
    ]
    assert len(deletes) == 1  # one statement, however many go
