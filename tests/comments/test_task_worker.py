"""Notifications, and decisions on more comments than a request can take, on a real queue:
TASKS_BACKEND=django_tasks_db.DatabaseBackend and `manage.py db_worker`, as the README tells
operators to run them.

The request only queues the email; the worker sends it later, reading the comment as it is
by then. The worker runs in this process, between real commits: its own connection
housekeeping would end a test's wrapping transaction.
"""

import os
import shlex
import signal
import time
from contextlib import contextmanager
from datetime import timedelta
from smtplib import SMTPRecipientsRefused

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from articles.models import Article
from comments import services
from comments.models import BackgroundDecision, Comment, PublicationAnnouncement
from comments.notifications import (
    notify_commenters_at_scheduled_publication,
    notify_moderators_of_held_comment,
)
from newsroom.management.commands import db_worker
from tests.factories import PASSWORD, make_comment, make_moderator

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE_PAGE = "/admin/comments/comment/"


@pytest.fixture
def moderator(db):
    return make_moderator("moira", email="moira@newsroom.test")


def test_a_held_comment_is_emailed_by_the_worker_not_the_request(
    client, article, fill_form, moderator, queued, run_worker
):
    response = client.post(
        f"/comments/post/{article.pk}/", fill_form(article, body="Queued for the desk.")
    )
    assert response.status_code == 303
    assert mail.outbox == []  # the request only queued it

    run_worker()

    [message] = mail.outbox
    assert message.recipients() == ["moira@newsroom.test"]
    assert "Queued for the desk." in message.body


def test_a_comment_decided_before_the_worker_gets_to_it_sends_nothing(
    article, fill_form, client, moderator, queued, run_worker
):
    client.post(f"/comments/post/{article.pk}/", fill_form(article))
    services.reject(Comment.objects.get(), by=moderator)

    run_worker()

    assert mail.outbox == []


def test_the_commenter_hears_of_the_approval_from_the_worker(
    client, article, fill_form, moderator, queued, run_worker
):
    data = fill_form(article, email="reader@example.com", notify_on_publish="on")
    client.post(f"/comments/post/{article.pk}/", data)
    run_worker()  # the moderators' email
    mail.outbox.clear()

    comment = Comment.objects.get()
    services.approve(comment, by=moderator)
    assert mail.outbox == []
    run_worker()

    [message] = mail.outbox
    assert message.to == ["reader@example.com"]
    assert not Comment.objects.get(pk=comment.pk).notify_on_publish


class RefusingMailServer(BaseEmailBackend):
    """A mail server that refuses the recipient, naming the address, as SMTP servers do."""

    def send_messages(self, email_messages):
        recipients = [address for message in email_messages for address in message.recipients()]
        raise SMTPRecipientsRefused(dict.fromkeys(recipients, (550, b"No such user")))


def lines_about(task, console_log):
    return [record for record in console_log.records if task.name in record.getMessage()]


def test_the_worker_logs_one_line_per_task_saying_what_ran_and_how_it_ended(
    client, article, fill_form, moderator, queued, run_worker, console_log
):
    """It logged two (started, then finished), for every comment sent for moderation."""
    client.post(f"/comments/post/{article.pk}/", fill_form(article, email="ida@example.com"))
    comment = Comment.objects.get()

    run_worker(verbosity=1)  # as `make serve` runs it

    [line] = lines_about(notify_moderators_of_held_comment, console_log)
    assert line.levelname == "INFO"
    assert f"notify_moderators_of_held_comment({comment.pk}) SUCCESSFUL in " in line.getMessage()
    assert "ida@example.com" not in console_log.text()


def test_a_task_failing_on_a_refused_address_logs_the_failure_without_the_address(
    client, article, fill_form, moderator, queued, run_worker, console_log, settings
):
    """The mail server's refusal names the address; the task's traceback ended with it."""
    client.post(f"/comments/post/{article.pk}/", fill_form(article))
    comment = Comment.objects.get()
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingMailServer"}}

    run_worker(verbosity=1)

    [line] = lines_about(notify_moderators_of_held_comment, console_log)
    assert line.levelname == "ERROR"
    message = line.getMessage()
    assert f"notify_moderators_of_held_comment({comment.pk}) FAILED in " in message
    assert "smtplib.SMTPRecipientsRefused" in message
    assert f"Could not email moderators about held comment {comment.pk}." in message
    assert "moira@newsroom.test" not in console_log.text()
    assert DBTaskResult.objects.get().exception_class_path == "smtplib.SMTPRecipientsRefused"


def time_passes(duration):
    """What waiting `duration` does to a scheduled article and the tasks queued for later,
    without the wait: their stored times come that much nearer. A task queued to run at
    once (the queue's far-future marker) stays as it is."""
    Article.objects.update(published_at=F("published_at") - duration)
    PublicationAnnouncement.objects.update(due_at=F("due_at") - duration)
    DBTaskResult.objects.exclude(run_after=get_date_max()).update(
        run_after=F("run_after") - duration
    )


def test_comments_approved_before_a_scheduled_publication_are_announced_when_it_comes(
    article, moderator, queued, run_worker
):
    """A scheduled article goes live by itself, with no save at that moment: the queue
    runs the emails its comments are owed at the publication time, not before."""
    comment = make_comment(
        article, status=Comment.Status.PENDING, email="ada@example.com", notify_on_publish=True
    )
    article.status = Article.Status.DRAFT
    article.save()
    services.approve(comment, by=moderator)
    run_worker()
    assert mail.outbox == []

    article.status = Article.Status.PUBLISHED
    article.published_at = timezone.now() + timedelta(hours=1)
    article.save()
    run_worker()
    assert mail.outbox == []
    time_passes(timedelta(hours=1))

    run_worker()

    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert not Comment.objects.get(pk=comment.pk).notify_on_publish


def test_an_article_rescheduled_later_announces_its_comments_at_the_new_time_only(
    article, moderator, queued, run_worker
):
    comment = make_comment(article, status=Comment.Status.PENDING, notify_on_publish=True)
    article.status = Article.Status.DRAFT
    article.save()
    services.approve(comment, by=moderator)
    article.status = Article.Status.PUBLISHED
    article.published_at = timezone.now() + timedelta(minutes=1)
    article.save()
    article.published_at = timezone.now() + timedelta(hours=1)
    article.save()
    time_passes(timedelta(minutes=2))
    run_worker()
    assert mail.outbox == []

    time_passes(timedelta(hours=1))
    run_worker()

    [message] = mail.outbox
    assert message.recipients() == [comment.email]


def test_a_publication_a_request_announced_is_not_announced_again_by_the_queue(
    article, moderator, queued, run_worker
):
    """A server on the default backend (during a switch to the queue, say) claimed the
    publication first: the queue's task, run at the same time, finds it claimed."""
    comment = make_comment(article, status=Comment.Status.PENDING, notify_on_publish=True)
    article.published_at = timezone.now() + timedelta(hours=1)
    article.save()
    services.approve(comment, by=moderator)
    run_worker()
    time_passes(timedelta(hours=1))

    notify_commenters_at_scheduled_publication.call(article.pk)  # as the request's look does
    run_worker()

    [message] = mail.outbox
    assert message.recipients() == [comment.email]
    queue_run = DBTaskResult.objects.get(
        task_path=notify_commenters_at_scheduled_publication.module_path
    )
    assert queue_run.return_value == 0


def test_an_article_published_again_queues_one_task_for_all_its_emails(article, queued, run_worker):
    """The editor's save stores one task, however many commenters wait for the article."""
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
    waiting = [make_comment(article, notify_on_publish=True) for _ in range(3)]
    article.refresh_from_db()

    article.status = Article.Status.PUBLISHED
    article.save()

    assert DBTaskResult.objects.count() == 1
    run_worker()
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        comment.email for comment in waiting
    )


def test_a_decision_on_more_comments_than_a_request_takes_is_taken_by_the_worker(
    client, moderator, queued, run_worker, past_the_request
):
    """The moderator's page comes back at once; the worker decides as they would have, and
    leaves a comment another moderator decided on meanwhile as that one decided."""
    comments = past_the_request(5)
    client.force_login(moderator)

    response = client.post(
        "/admin/comments/comment/",
        {"action": "approve_selected", "select_across": "1", "_selected_action": [comments[0].pk]},
    )
    assert response.status_code == 302
    assert not Comment.objects.approved().exists()  # the request only queued it
    other = make_moderator("max")
    services.mark_spam(comments[4], by=other)

    run_worker()

    statuses = [Comment.objects.get(pk=comment.pk).status for comment in comments]
    assert statuses == [Comment.Status.APPROVED] * 4 + [Comment.Status.SPAM]
    assert Comment.objects.get(pk=comments[4].pk).moderated_by == other
    assert LogEntry.objects.filter(user=moderator, change_message="Approved.").count() == 4
    assert {article.comment_count for article in Article.objects.all()} == {0, 1}
    assert DBTaskResult.objects.get(task_path__endswith="moderate_in_background").return_value == {
        "changed": 4,
        "already": 0,
        "left": 1,
        "hidden": 0,
    }


def test_a_decision_queued_by_the_release_before_decisions_were_stored_is_taken(
    moderator, queued, run_worker, past_the_request, console_log
):
    """The task was queued with the status, the moderator's id and the ids before it took a
    BackgroundDecision's id: one still queued at the deploy failed on its arguments, and the
    comments its moderator had been told would be decided stayed in the queue."""
    comments = past_the_request(4)
    services.mark_spam(comments[3], by=make_moderator("max"))
    pending = [comment.pk for comment in comments]
    services.moderate_in_background.enqueue("approved", moderator.pk, {"pending": pending})

    run_worker(verbosity=1)

    statuses = [Comment.objects.get(pk=comment.pk).status for comment in comments]
    assert statuses == [Comment.Status.APPROVED] * 3 + [Comment.Status.SPAM]
    assert LogEntry.objects.filter(user=moderator, change_message="Approved.").count() == 3
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert (
        f"Moderator {moderator.pk}'s decision (approved) on 4 comments: 3 changed, 0 already "
        "were, 1 left as they are" in console_log.text()
    )
    assert not BackgroundDecision.objects.exists()


def messages_on_the_list(client):
    return [str(message) for message in get_messages(client.get(QUEUE_PAGE).wsgi_request)]


def select_all(client, action, comments):
    """ "Select all" across the pages of the queue, as a moderator runs an action on it."""
    return client.post(
        QUEUE_PAGE,
        {"action": action, "select_across": "1", "_selected_action": [comments[0].pk]},
        follow=True,
    )


def test_a_decision_left_to_the_worker_says_it_is_running_then_how_it_ended_once(
    client, moderator, queued, run_worker, past_the_request
):
    """The moderator was told "Approving 5 comments in the background", and never more."""
    comments = past_the_request(5)
    client.force_login(moderator)

    announced = select_all(client, "approve_selected", comments)
    running = messages_on_the_list(client)
    services.mark_spam(comments[4], by=make_moderator("max"))
    run_worker()
    ended = messages_on_the_list(client)

    assert [str(m) for m in get_messages(announced.wsgi_request)] == [
        "Approving 5 comments in the background: the list will show them as they are decided, "
        "500 at a time. Any that someone else decides on meanwhile stay as they decided."
    ]
    [still] = running
    assert still.startswith("Approving 5 comments in the background, started ")
    assert still.endswith(" ago, has not ended yet: the list shows the comments decided so far.")
    assert ended == [
        "Approving 5 comments in the background has ended: 4 comments approved. 1 selected "
        "comment was left as it is: it was decided on or deleted after the page was shown, by "
        "another moderator or in another window. Decide again if you still mean to."
    ]
    assert messages_on_the_list(client) == []


def test_a_decision_the_worker_fails_to_take_is_told_as_failed_not_running(
    client, moderator, queued, run_worker, monkeypatch, past_the_request
):
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "mark_selected_as_spam", comments)

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "moderate_chunk", database_gone)
    run_worker()

    [told] = messages_on_the_list(client)
    assert "Marking 4 comments as spam in the background, started " in told
    assert "failed before it ended" in told
    assert not Comment.objects.exclude(status=Comment.Status.PENDING).exists()
    assert DBTaskResult.objects.get().status == "FAILED"
    assert messages_on_the_list(client) == []


def test_a_decision_whose_moderator_is_deleted_before_the_worker_runs_decides_nothing(
    client, moderator, queued, run_worker, past_the_request
):
    """Nobody would be logged as taking it, and nobody is left to tell."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    moderator.delete()

    run_worker()

    assert not Comment.objects.approved().exists()
    assert DBTaskResult.objects.get().status == "FAILED"


def test_a_decision_whose_moderator_is_deactivated_before_the_worker_runs_decides_nothing(
    client, moderator, queued, run_worker, past_the_request
):
    """Deactivating is how the README has departing (or compromised) staff stopped: their
    "select all" queued just before went on publishing, logged as theirs."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    moderator.is_active = False
    moderator.save(update_fields=["is_active"])

    run_worker()

    assert not Comment.objects.approved().exists()
    assert not LogEntry.objects.filter(user=moderator).exists()
    assert BackgroundDecision.objects.get().state == BackgroundDecision.State.FAILED
    assert DBTaskResult.objects.get().status == "FAILED"


def test_a_moderator_deactivated_during_a_decision_decides_no_further_lot(
    client, moderator, queued, run_worker, monkeypatch, past_the_request, console_log
):
    """Taken out of the Moderators group, or deactivated, between two lots: the lots decided
    before stay decided, and are told as a decision that failed once they may look again."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    monkeypatch.setattr(services, "DECISION_CHUNK", 2)
    decide_lot = services.moderate_chunk

    def moderator_removed_after_the_first_lot(lot, *args, **kwargs):
        decided = decide_lot(lot, *args, **kwargs)
        moderator.groups.clear()
        return decided

    monkeypatch.setattr(services, "moderate_chunk", moderator_removed_after_the_first_lot)
    run_worker(verbosity=1)

    assert Comment.objects.approved().count() == 2
    assert LogEntry.objects.filter(user=moderator).count() == 2
    assert BackgroundDecision.objects.get().state == BackgroundDecision.State.FAILED
    # The queue's record agrees (it said "successful"), and says why, for the admin's
    # task results.
    task = DBTaskResult.objects.get()
    assert task.status == "FAILED"
    assert task.exception_class_path == "comments.services.ModeratorWithdrawn"
    assert "they may no longer moderate" in task.traceback
    [line] = lines_about(services.moderate_in_background, console_log)
    assert "FAILED" in line.getMessage()
    assert (
        f"Moderator {moderator.pk}'s decision (approved) stopped after 2 comments changed: "
        "they may no longer moderate." in line.getMessage()
    )
    moderator.groups.add(Group.objects.get(name="Moderators"))  # back on the team
    [told] = messages_on_the_list(client)
    assert "Approving 4 comments in the background, started " in told
    assert "failed before it ended" in told
    assert messages_on_the_list(client) == []


def hours_pass(hours, *, worker_took_it_up=None):
    """What `hours` of waiting do to the decisions queued: they were queued that long ago, and
    their task, if `worker_took_it_up` (hours before now), was taken up by a worker then, and
    is still marked running: its worker was killed (SIGKILL, the machine going down), or is
    still at it."""
    BackgroundDecision.objects.update(queued_at=F("queued_at") - timedelta(hours=hours))
    if worker_took_it_up is not None:
        DBTaskResult.objects.update(
            status="RUNNING",
            started_at=timezone.now() - timedelta(hours=worker_took_it_up),
            worker_ids=["killed-or-slow"],
        )


def test_a_decision_its_worker_took_up_an_hour_ago_and_never_ended_is_told_as_stopped_once(
    client, moderator, queued, past_the_request
):
    """A killed worker leaves its task "running", and nothing records that it is gone: the
    list said "has not ended yet" at every look, for ever."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    hours_pass(3, worker_took_it_up=2)

    [told] = messages_on_the_list(client)

    assert told.startswith(
        "Approving 4 comments in the background, queued 3\xa0hours ago, started 2\xa0hours ago, "
    )
    assert "has not ended: it was probably stopped" in told
    assert messages_on_the_list(client) == []


def test_a_decision_a_worker_took_up_late_is_told_as_running_not_as_stopped(
    client, moderator, queued, past_the_request
):
    """The hour counted from the request: a decision queued behind others for an hour was
    told as probably stopped while its worker was at it. It was also told as started when
    it was queued."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    hours_pass(2, worker_took_it_up=0.1)

    [told] = messages_on_the_list(client)

    assert told.startswith(
        "Approving 4 comments in the background, queued 2\xa0hours ago, started 6\xa0minutes ago, "
    )
    assert told.endswith(" has not ended yet: the list shows the comments decided so far.")


def test_a_decision_a_worker_took_up_late_and_that_failed_says_when_it_started(
    client, moderator, queued, run_worker, monkeypatch, past_the_request
):
    """It was told as started when it was queued, two hours before the worker took it."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    hours_pass(2)

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "moderate_chunk", database_gone)
    run_worker()

    [told] = messages_on_the_list(client)
    assert told.startswith(
        "Approving 4 comments in the background, queued 2\xa0hours ago, started 0\xa0minutes "
        "ago, failed before it ended."
    )


WAITING_FOR_A_WORKER = (
    "Approving 4 comments in the background, queued 2\xa0hours ago, has not started: no task "
    "worker has taken it up yet, and whoever runs the site may need to start one. It will be "
    "decided once one does: there is no need to select the comments again."
)


def test_a_decision_no_worker_has_taken_up_for_hours_is_told_it_waits_for_one(
    client, moderator, queued, run_worker, past_the_request
):
    """With no worker running, the moderator was told after an hour that the decision was
    probably stopped and to select the comments again, and never heard of it again, though
    the worker took it once started."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    hours_pass(2)

    told = messages_on_the_list(client)
    told_again = messages_on_the_list(client)
    run_worker()

    assert told == told_again == [WAITING_FOR_A_WORKER]
    assert messages_on_the_list(client) == [
        "Approving 4 comments in the background has ended: 4 comments approved."
    ]


def test_a_decision_whose_task_failed_before_it_could_record_it_is_told_as_failed_at_once(
    client, moderator, queued, run_worker, monkeypatch, past_the_request
):
    """The task records the decision's failure from its first lot on; the database lost as
    it reads the decision, or a stop cutting it short right then, fails the task before:
    the list said "has not ended yet" for an hour, then "probably stopped"."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(BackgroundDecision.objects, "select_related", database_gone)
    run_worker()
    monkeypatch.undo()

    [told] = messages_on_the_list(client)
    assert "Approving 4 comments in the background, started " in told
    assert "failed before it ended" in told
    assert DBTaskResult.objects.get().status == "FAILED"
    assert messages_on_the_list(client) == []


def stop_signals(*numbers):
    """What `make serve`'s Ctrl-C (the terminal's SIGINT, then the TERM its loop passes on)
    or systemd's stop (TERM to every process of the service, so twice) tells the worker."""
    for number in numbers:
        os.kill(os.getpid(), number)


@contextmanager
def stopped_once_it_has_claimed(monkeypatch):
    """A TERM landing in the worker just after its claim of a task has committed, before it
    starts the task: a window of about one commit, held open here."""
    claim = DBTaskResult.claim

    def claimed_then_stopped(result, worker_id):
        claim(result, worker_id)
        transaction.on_commit(lambda: stop_signals(signal.SIGTERM))

    with monkeypatch.context() as patched:
        patched.setattr(DBTaskResult, "claim", claimed_then_stopped)
        yield


@pytest.mark.parametrize(
    "stop",
    [(signal.SIGINT, signal.SIGTERM), (signal.SIGTERM, signal.SIGTERM)],
    ids=["Ctrl-C", "systemd"],
)
def test_a_decision_running_when_the_worker_is_stopped_is_taken_to_its_end(
    client, moderator, queued, run_worker, monkeypatch, past_the_request, stop
):
    """The worker took the second signal for a second Ctrl-C and cut the decision short
    between two lots, for good: it was never taken up again."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    monkeypatch.setattr(services, "DECISION_CHUNK", 2)
    decide_lot = services.moderate_chunk

    def stopped_during_the_first_lot(lot, *args, **kwargs):
        if not Comment.objects.approved().exists():
            stop_signals(*stop)
        return decide_lot(lot, *args, **kwargs)

    monkeypatch.setattr(services, "moderate_chunk", stopped_during_the_first_lot)
    run_worker()

    assert Comment.objects.approved().count() == 4
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert messages_on_the_list(client)[0].startswith(
        "Approving 4 comments in the background has ended: 4 comments approved."
    )


def test_a_decision_cut_short_by_a_second_ctrl_c_is_told_as_failed_at_once(
    client, moderator, queued, run_worker, monkeypatch, past_the_request
):
    """It was told as running for an hour, then as "probably stopped"."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)

    def stopped_twice_by_ctrl_c(*args, **kwargs):
        stop_signals(signal.SIGINT, signal.SIGTERM, signal.SIGINT)

    monkeypatch.setattr(services, "moderate_chunk", stopped_twice_by_ctrl_c)
    run_worker()

    [told] = messages_on_the_list(client)
    assert "Approving 4 comments in the background, started " in told
    assert "failed before it ended" in told


def test_a_decision_its_worker_claimed_but_had_not_started_when_stopped_is_taken_by_the_next(
    client, moderator, queued, run_worker, monkeypatch, past_the_request, console_log
):
    """A stop between tasks ends the worker at once; one that landed after the worker had
    marked the task "running" and before it started it left it so for ever: no worker
    took it again, and the moderator's decision never happened."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    with stopped_once_it_has_claimed(monkeypatch), pytest.raises(SystemExit) as stopped:
        run_worker(verbosity=1)
    assert stopped.value.code == 0

    run_worker()  # the worker, started again

    assert Comment.objects.approved().count() == 4
    assert messages_on_the_list(client) == [
        "Approving 4 comments in the background has ended: 4 comments approved."
    ]
    assert "claimed but not started when the worker stopped" in console_log.text()


@pytest.mark.parametrize(
    "error", ["database is locked", "server closed the connection unexpectedly"]
)
def test_a_stop_while_the_database_cannot_be_reached_ends_the_worker_quietly_and_says_why(
    client, moderator, queued, run_worker, monkeypatch, past_the_request, console_log, error
):
    """Putting the claimed task back failed, and with it the stop: the worker ended with
    exit status 1, and `make serve`'s loop said it would start it again, during a stop."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)

    def unreachable():
        raise OperationalError(error)

    # Only the put-back asks for running tasks: the worker claims from the ready ones.
    monkeypatch.setattr(DBTaskResult.objects, "running", unreachable)
    with stopped_once_it_has_claimed(monkeypatch), pytest.raises(SystemExit) as stopped:
        run_worker(verbosity=1)
    monkeypatch.undo()

    assert stopped.value.code == 0
    told = console_log.text()
    assert error in told
    assert 'stays "running"' in told
    assert DBTaskResult.objects.get().status == "RUNNING"

    # The operator runs the command the log gives, and the next worker takes the decision.
    [*_, put_back] = shlex.split(told.split("put it back with: manage.py shell -c ", 1)[1])
    call_command("shell", command=put_back)
    run_worker()

    assert Comment.objects.approved().count() == 4


@pytest.mark.parametrize("name", ["rédaction", 'desk "b"'])
def test_a_task_claimed_by_a_worker_named_beyond_ascii_goes_back_to_the_queue_too(
    client, moderator, queued, run_worker, monkeypatch, past_the_request, name
):
    """The put-back looked for the worker's name in the stored list of names as text, where
    SQLite writes "é" as "\\u00e9" and both databases a quote as '\\"': a worker so named
    (`--worker-id`) left its claimed task "running" for ever, as before the put-back."""
    comments = past_the_request(4)
    client.force_login(moderator)
    select_all(client, "approve_selected", comments)
    with stopped_once_it_has_claimed(monkeypatch), pytest.raises(SystemExit):
        run_worker(worker_id=name)
    run_worker()

    assert Comment.objects.approved().count() == 4


def test_a_task_a_killed_worker_left_running_stays_so_when_its_successor_of_the_same_id_stops(
    client, article, fill_form, moderator, queued, run_worker, monkeypatch
):
    """A worker named on its command line (`--worker-id`, unique in the pool as the library
    asks) and killed after it had sent a task's email, before it recorded the task as done,
    leaves the task "running". Started again under the same name and stopped with a task
    claimed, the worker put that old task back in the queue too, and the next worker sent
    its email a second time."""
    client.post(f"/comments/post/{article.pk}/", fill_form(article, body="First."))
    run_worker()
    assert len(mail.outbox) == 1
    DBTaskResult.objects.update(
        status="RUNNING", finished_at=None, worker_ids=["newsroom-worker"]
    )  # killed (SIGKILL) before it could record its end
    client.post(f"/comments/post/{article.pk}/", fill_form(article, body="Second."))
    with stopped_once_it_has_claimed(monkeypatch), pytest.raises(SystemExit):
        run_worker(worker_id="newsroom-worker")  # started again by its process manager
    run_worker()

    assert [message.body.count("First.") for message in mail.outbox] == [1, 0]
    assert "Second." in mail.outbox[1].body


@task
def runs_on_after_the_stop():
    """Stands in for a task that does not end when it should (a mail server that never
    answers): the worker is stopped while it runs, and it goes on for a minute."""
    stop_signals(signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_task_still_running_long_after_the_stop_is_cut_short(
    queued, run_worker, monkeypatch, console_log
):
    """A stop has to end: the process manager would kill the worker, and leave the task
    "running" for ever in the queue."""
    monkeypatch.setattr(db_worker, "STOP_GRACE_SECONDS", 1)
    runs_on_after_the_stop.enqueue()

    run_worker(verbosity=1)

    assert DBTaskResult.objects.get().status == "FAILED"
    assert "has not finished 1 s after the stop - terminating it." in console_log.text()


def test_a_decision_the_worker_ends_after_its_moderator_signed_out_is_told_at_their_sign_in(
    client, moderator, queued, run_worker, past_the_request
):
    """What they were to be told was kept in the session they signed out of."""
    comments = past_the_request(4)
    credentials = {"username": moderator.username, "password": PASSWORD}
    client.post("/admin/login/", credentials)
    select_all(client, "approve_selected", comments)
    client.post("/admin/logout/")

    run_worker()
    client.post("/admin/login/", credentials)

    assert messages_on_the_list(client) == [
        "Approving 4 comments in the background has ended: 4 comments approved."
    ]
    assert messages_on_the_list(client) == []
