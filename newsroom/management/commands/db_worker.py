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
"""

import logging
import signal
import sys

from django_tasks_db.management.commands import db_worker

logger = logging.getLogger("django_tasks_db")

# Longer than a decision on 40,000 comments takes on an idle server (3 to 8 s), and than a
# mail server may take to refuse (EMAIL_TIMEOUT, 10 s); shorter than systemd waits before it
# kills the service (TimeoutStopSec, 90 s by default), which would leave the task's result
# "running" for ever.
STOP_GRACE_SECONDS = 60


class Worker(db_worker.Worker):
    def shutdown(self, signum, frame):
        if not self.running and signum == signal.SIGTERM:
            logger.warning(
                "Received %s - already stopping, once the running task has finished "
                "(press Ctrl+C again to force).",
                signal.strsignal(signum),
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
        try:
            super().run()
        finally:
            # A task that finished within the time leaves the alarm set (the worker returns
            # then, but `call_command` may have run it in a process that goes on).
            signal.alarm(0)


class Command(db_worker.Command):
    def handle(self, **options):
        # The library's handle() builds the module's own `Worker`, with no way to pass another.
        db_worker.Worker = Worker
        return super().handle(**options)
