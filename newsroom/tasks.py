"""The default task backend: Django's immediate backend, run once the response is sent.

Tasks queued while a request is handled (the emails a comment, a decision or a publication
sends) run when the server has written the response (`request_finished`), not before it: the
commenter, the moderator or the editor is not kept waiting for the mail server, however many
emails one change releases (an article published again owes one to every commenter who
asked while it was away). Outside a request (a command, the shell, a task queued by a task)
they run at once, as Django's do. They still run in the worker process that served the
request, which is busy meanwhile: the database queue (TASKS_BACKEND=django_tasks_db.
DatabaseBackend, see the README) takes them out of it.
"""

from contextvars import ContextVar

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.dispatch import receiver
from django.tasks.backends.immediate import ImmediateBackend
from django.tasks.base import TaskResult, TaskResultStatus
from django.utils.crypto import get_random_string

# The tasks held until the response is sent, or None outside a request.
_held = ContextVar("newsroom_tasks_held_for_the_response", default=None)


class AfterResponseBackend(ImmediateBackend):
    def enqueue(self, task, args, kwargs):
        held = _held.get()
        if held is None:
            return super().enqueue(task, args, kwargs)
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_string(32),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        held.append((self, result))
        return result


@receiver(request_started, dispatch_uid="newsroom.tasks.hold")
def hold_tasks_for_the_response(**kwargs):
    _held.set([])


@receiver(request_finished, dispatch_uid="newsroom.tasks.run")
def run_tasks_held_for_the_response(**kwargs):
    held = _held.get()
    _held.set(None)
    if not held:
        return
    for backend, result in held:
        # ImmediateBackend's own runner: it records the outcome on the result, and
        # django.tasks logs a failure (a mail server down), as for a task run at once.
        backend._execute_task(result)
    # Django closed the request's expired connections before these ran (its receiver
    # comes first): what the tasks opened is handled the same way.
    close_old_connections()
