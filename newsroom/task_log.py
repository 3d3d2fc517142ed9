"""One line in the log for each task run, wherever it runs (after the response, in the worker
that served the request, with the default backend; in `manage.py db_worker` with the database
queue): the task, the ids it was given, how it ended and how long it took.

Django logs two lines for each (started, finished), and a failure's traceback ends with the
exception's message, which can hold the address a mail server refused. settings.LOGGING
sends those to a NullHandler: db_worker sets their logger's level itself, so a level there
would not hold. A failure is logged here with its stack, without the message; the database
queue keeps the whole traceback in the task's result, which superusers read in the admin.
"""

import logging
import sys
import traceback

from django.dispatch import receiver
from django.tasks import TaskResultStatus
from django.tasks.signals import task_finished

logger = logging.getLogger(__name__)


def shown_arguments(task_result):
    """Numbers (our tasks take the ids of comments and articles) as they are; anything else
    as "…": it may be an address."""
    values = [*task_result.args, *task_result.kwargs.values()]
    return ", ".join(str(value) if type(value) is int else "…" for value in values)


@receiver(task_finished)
def log_task_run(sender, task_result, **kwargs):
    seconds = (task_result.finished_at - task_result.started_at).total_seconds()
    ran = f"{task_result.task.module_path}({shown_arguments(task_result)})"
    if task_result.status != TaskResultStatus.FAILED:
        logger.info("Task %s %s in %.2f s, id %s", ran, task_result.status, seconds, task_result.id)
        return
    error = sys.exc_info()[1]  # the signal is sent while the task's exception is handled
    notes = " ".join(getattr(error, "__notes__", []))
    stack = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    logger.error(
        "Task %s FAILED in %.2f s, id %s: %s. %s\n%s",
        ran,
        seconds,
        task_result.id,
        task_result.errors[-1].exception_class_path,
        notes,
        stack.rstrip(),
    )
