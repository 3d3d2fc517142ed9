"""django-tasks-db's `db_worker`, stopped once however many times one stop signals it.

Its worker lets the running task finish on a first SIGINT or SIGTERM, and cuts it short on
any second one. One stop often sends two: Ctrl-C on `make serve` reaches the worker from the
terminal, then as the TERM by which make serve's loop passes the stop on to it; a process
manager (systemd, by default) sends TERM to every process of the service, that loop too, which
passes it on again. A large moderation decision was cut short between two lots, and never
finished. Here a TERM while the worker is stopping changes nothing: a second Ctrl-C (SIGINT or
SIGQUIT) still cuts the task short, as the library says on the first, and so does time, so
that a stop ends: a task still running STOP_GRACE_SECONDS after the stop is cut short as by a
second Ctrl-C (its result is recorded as failed).

A stop between two tasks ends the worker at once (it is most often asleep, waiting for one), and
so it did when it landed after the worker had claimed a task (marked it "running") and before
it started it: the task stayed "running" in the queue for ever, run by nobody, and a
moderator's decision on many comments was never taken. Such a task is now put back as it was,
"ready", on the way out, and the next worker runs it.
"""

import json
import logging
import shlex
import signal
import sys

from django.db import DatabaseError
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("django_tasks_db")

# Longer than a decision on 40,000 comments takes on an idle server (3 to 8 s), and than a
# mail server may take to refuse (EMAIL_TIMEOUT, 10 s); shorter than systemd waits before it
# kills the service (TimeoutStopSec, 90 s by default), which would leave the task's result
# "running" for ever.
STOP_GRACE_SECONDS = 60


class Worker(db_worker.Worker):
    # The task last handed to run_task: started, so never put back in the queue.
    started_task = None
    # Since when a task this process claimed has not been started: since it started, or
    # since its last task ended (put_back_claimed_task).
    idle_since = None

    def shutdown(self, signum, frame):
        if not self.running and signum == signal.SIGTERM:
            logger.warning(
                "Received %s - already stopping%s.",
                signal.strsignal(signum),
                ", once the running task has finished (press Ctrl+C again to force)"
                if self.running_task
                else "",
            )
            return
        stopping_a_task = self.running and self.running_task
        super().shutdown(signum, frame)
        if stopping_a_task:
            signal.alarm(STOP_GRACE_SECONDS)
            logger.warning(
                "The running task has %s s to finish before it is terminated.", STOP_GRACE_SECONDS
            )

    def out_of_time(self, signum, frame):
        logger.warning(
            "The running task has not finished %s s after the stop - terminating it.",
            STOP_GRACE_SECONDS,
        )
        self.reset_signals()
        sys.exit(1)

    def configure_signals(self):
        super().configure_signals()
        signal.signal(signal.SIGALRM, self.out_of_time)

    def reset_signals(self):
        """Before the task is cut short: a third Ctrl-C then ends the process at once."""
        super().reset_signals()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def run(self):
        self.idle_since = timezone.now()
        try:
            super().run()
        except SystemExit:
            stopped_at = timezone.now()
            try:
                self.put_back_claimed_task()
            except DatabaseError as error:
                # A stop must still end as one (exit status 0): `make serve`'s loop, or a
                # process manager, would take a failure for a crash and start it again.
                logger.error(
                    "Could not put back a task this worker may have claimed but not started "
                    "(%s). If the stop came between a claim and its start, that task stays "
                    '"running" in the queue and no worker will run it; once the database '
                    "answers, put it back with: manage.py shell -c %s",
                    error,
                    shlex.quote(self.put_back_by_hand(until=stopped_at)),
                )
            raise
        finally:
            # A task that finished within the time leaves the alarm set (the worker returns
            # then, but `call_command` may have run it in a process that goes on).
            signal.alarm(0)

    def run_task(self, db_task_result):
        # Running from here on, for shutdown(): a stop lets the task finish. The library
        # raises its own flag inside the `try` that records any exception as the task's
        # failure: a stop landing just before it recorded the task as failed, never run.
        self.running_task = True
        self.started_task = db_task_result.pk
        try:
            super().run_task(db_task_result)
        finally:
            self.idle_since = timezone.now()

    def put_back_claimed_task(self):
        """The task this worker claimed and had not started when a stop ended it, "ready"
        again, as it was before the claim. A claim that had not committed is undone by the
        database already; no other worker touches a task this one claimed last.

        Only a claim made since this process last started a task, or started at all: a
        worker named on its command line (`--worker-id`) keeps its name when its process
        manager starts it again, and a task an earlier process of that name left "running"
        (killed while it ran, maybe after it had sent its emails) was put back and run again.
        """
        # The names are compared here, not in the query: the list of them is JSON, whose text
        # SQLite writes with "é" as "\\u00e9", and both databases with a quote as '\\"'.
        claimed = (
            DBTaskResult.objects.running()
            .filter(started_at__gte=self.idle_since)
            .exclude(pk=self.started_task)
            .only("worker_ids")
        )
        for result in claimed:
            if result.worker_ids[-1:] != [self.worker_id]:
                continue  # another worker's claim
            DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, started_at=None, worker_ids=result.worker_ids[:-1]
            )
            logger.warning(
                "Task id=%s was claimed but not started when the worker stopped - "
                "back in the queue for the next worker.",
                result.pk,
            )

    def put_back_by_hand(self, *, until):
        """put_back_claimed_task() as one line of Python for `manage.py shell -c`: only this
        process's claims, up to `until`, not those of the process started after it under the
        same `--worker-id`."""
        # Double quotes (JSON's, which Python reads too): shlex.quote() leaves them as they are.
        since, until, worker_id, started = (
            json.dumps(value)
            for value in (
                self.idle_since.isoformat(),
                until.isoformat(),
                self.worker_id,
                str(self.started_task or ""),
            )
        )
        return (
            "from django_tasks_db.models import DBTaskResult as T; "
            '[T.objects.filter(pk=t.pk, status="RUNNING").update('
            'status="READY", started_at=None, worker_ids=t.worker_ids[:-1]) '
            f'for t in T.objects.filter(status="RUNNING", started_at__range=({since}, {until})) '
            f"if t.worker_ids[-1:] == [{worker_id}] and str(t.pk) != {started}]"
        )


class Command(db_worker.Command):
    def handle(self, **options):
        # The library's handle() builds the module's own `Worker`, with no way to pass another.
        db_worker.Worker = Worker
        return super().handle(**options)
