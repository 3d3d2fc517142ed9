"""`make run` and `make serve`, as people type them: what the servers they start are told."""

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.tasks import task
from gunicorn.config import Config

from tests.test_settings import env_example, manage

# Stands in for manage.py in every step of `make run`, or for gunicorn in `make serve`:
# prints the address emails link to.
PRINT_SITE_URL = f"{sys.executable} -c \"import os; print(os.environ.get('SITE_URL'))\""
# Stands in for gunicorn in `make serve`: prints the arguments it was given.
PRINT_ARGUMENTS = f'{sys.executable} -c "import json, sys; print(json.dumps(sys.argv[1:]))"'


def last_line_of_make_run(*, port, **environment):
    return last_line_of_make("run", f"PORT={port}", f"MANAGE={PRINT_SITE_URL}", **environment)


def last_line_of_make_serve(tmp_path, *, gunicorn, port=8000):
    """`make serve` with its manage.py steps skipped and `gunicorn` in gunicorn's place."""
    return last_line_of_make(
        "serve",
        f"PORT={port}",
        "MANAGE=true",
        f"GUNICORN={gunicorn}",
        f"SECRET_FILE={tmp_path / 'secret_key'}",
        DJANGO_SECRET_KEY="not-a-real-one",
    )


def last_line_of_make(*arguments, **environment):
    env = {name: value for name, value in os.environ.items() if name != "SITE_URL"}
    result = subprocess.run(  # noqa: S603 - make, with our own interpreter standing in
        ["make", "--no-print-directory", *arguments],  # noqa: S607
        cwd=settings.BASE_DIR,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()[-1]


def test_make_run_on_another_port_links_emails_to_that_port():
    """The moderators' email and the privacy export link to SITE_URL: on another port, a
    default of port 8000 led nowhere."""
    assert last_line_of_make_run(port=8123) == "http://127.0.0.1:8123"


def test_make_run_serves_on_the_port_given_and_on_loopback_only():
    """The README's `make run PORT=8123`: the development server listens there."""
    arguments = last_line_of_make("run", "PORT=8123", f"MANAGE={PRINT_ARGUMENTS}")

    assert json.loads(arguments) == ["runserver", "127.0.0.1:8123"]


def test_make_run_keeps_a_site_url_the_operator_set():
    assert last_line_of_make_run(port=8123, SITE_URL="https://news.example.com") == (
        "https://news.example.com"
    )


def test_make_run_with_env_example_exported_links_emails_to_its_port():
    """The README's set-up exports a copy of .env.example: a SITE_URL given there kept the
    emails on port 8000, whatever port `make run` served."""
    assert last_line_of_make_run(port=8123, **env_example()) == "http://127.0.0.1:8123"


def test_make_serve_leaves_the_control_socket_of_another_gunicorn_alone(tmp_path):
    """gunicorn 27 opens a control socket at one path per user: a second `make serve` on
    the host took over the first one's, and stopping either deleted it."""
    arguments = last_line_of_make_serve(tmp_path, gunicorn=PRINT_ARGUMENTS)
    served = Config().parser().parse_args(json.loads(arguments))

    assert served.args == ["newsroom.wsgi"]
    assert served.control_socket_disable is True


# Stands in for manage.py in `make serve`: prints the arguments of its collectstatic step.
PRINT_COLLECTSTATIC = (
    f'{sys.executable} -c "import json, sys; '
    f"sys.argv[1] == 'collectstatic' and print(json.dumps(sys.argv[1:]))\""
)


def test_make_serve_leaves_the_static_files_of_another_server_alone():
    """A second `make serve` from the same folder (another port, another app server) emptied
    STATIC_ROOT before collecting it again (`--clear`): for the seconds that took, every
    page the first server served came without its stylesheet and scripts."""
    command = ["make", "--no-print-directory", "serve", f"MANAGE={PRINT_COLLECTSTATIC}"]
    output = subprocess.run(  # noqa: S603 - make, with our own interpreter standing in
        [*command, "GUNICORN=true"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SECRET_KEY": "not-a-real-one"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [collected] = [line for line in output.splitlines() if line.startswith('["collectstatic"')]

    assert "--clear" not in json.loads(collected)


def test_make_serve_given_a_secret_key_makes_none_of_its_own(tmp_path):
    """It used to write .secret_key and say so, while the server used the key it was given."""
    last_line_of_make_serve(tmp_path, gunicorn=PRINT_ARGUMENTS)

    assert not (tmp_path / "secret_key").exists()


def test_make_serve_on_another_port_links_emails_to_that_port(tmp_path):
    """As `make run`: `make serve PORT=8123` sent moderators to port 8000, where nothing
    answers (a real site sets SITE_URL, and `check --deploy` says so)."""
    site_url = last_line_of_make_serve(tmp_path, gunicorn=PRINT_SITE_URL, port=8123)

    assert site_url == "http://127.0.0.1:8123"


# Stands in for manage.py in `make serve`: as the task worker, it writes down its process id
# and arguments, then waits to be stopped; every other command does nothing.
TASK_WORKER = """
import json, os, sys, time
if sys.argv[1] == "db_worker":
    with open(os.environ["WORKER_RECORD"] + ".tmp", "w") as record:
        json.dump({"pid": os.getpid(), "arguments": sys.argv[1:]}, record)
    os.rename(os.environ["WORKER_RECORD"] + ".tmp", os.environ["WORKER_RECORD"])
    time.sleep(600)
"""
# Stands in for gunicorn: serves until the task worker is up, then stops.
UNTIL_THE_WORKER_IS_UP = """
import os, time
deadline = time.monotonic() + 30
while not os.path.exists(os.environ["WORKER_RECORD"]) and time.monotonic() < deadline:
    time.sleep(0.05)
print("served")
"""


def serve_with_a_task_queue(tmp_path, task_worker):
    """`make serve` with the database queue, `task_worker` standing in for manage.py and a
    server that waits for the worker: make's last line, and where the worker said it ran."""
    worker, server, record = tmp_path / "worker.py", tmp_path / "server.py", tmp_path / "worker"
    worker.write_text(task_worker)
    server.write_text(UNTIL_THE_WORKER_IS_UP)
    last_line = last_line_of_make(
        "serve",
        f"MANAGE={sys.executable} {worker}",
        f"GUNICORN={sys.executable} {server}",
        f"SECRET_FILE={tmp_path / 'secret_key'}",
        DJANGO_SECRET_KEY="not-a-real-one",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        WORKER_RECORD=str(record),
    )
    return last_line, record


def test_make_serve_with_a_task_queue_runs_its_worker_and_stops_it_with_gunicorn(tmp_path):
    """With TASKS_BACKEND=django_tasks_db.DatabaseBackend nothing sends the notifications
    unless `manage.py db_worker` runs: `make serve` starts it, and does not leave it behind."""
    last_line, record = serve_with_a_task_queue(tmp_path, TASK_WORKER)

    assert last_line == "served"
    started = json.loads(record.read_text())
    assert started["arguments"] == ["db_worker", "--no-reload"]
    assert not process_is_running(started["pid"])


# Stands in for manage.py: the first task worker exits at once, as django-tasks-db's does
# when the database cannot be reached; the next one behaves as TASK_WORKER's.
TASK_WORKER_LOSING_ITS_DATABASE = (
    """
import os, sys
first_start = os.environ["WORKER_RECORD"] + ".first"
if sys.argv[1] == "db_worker" and not os.path.exists(first_start):
    open(first_start, "w").close()
    sys.exit(1)
"""
    + TASK_WORKER
)


def test_make_serve_starts_the_task_worker_again_when_it_exits(tmp_path):
    """Nothing else would: gunicorn kept serving, and no notification went out again."""
    last_line, record = serve_with_a_task_queue(tmp_path, TASK_WORKER_LOSING_ITS_DATABASE)

    assert last_line == "served"
    assert record.exists(), "a second worker started"
    assert not process_is_running(json.loads(record.read_text())["pid"])


# Stands in for manage.py: as db_worker does once Django has started, the task worker stops
# on Ctrl-C or a TERM signal, gracefully (exit status 0).
TASK_WORKER_CATCHING_CTRL_C = (
    """
import signal, sys
for number in (signal.SIGINT, signal.SIGTERM):
    signal.signal(number, lambda number, frame: sys.exit(0))
"""
    + TASK_WORKER
)
# Stands in for gunicorn: it writes down its process id once the task worker is up, and
# serves until Ctrl-C or a TERM signal, on which, as gunicorn does, it takes a moment to
# stop (its own workers stop first).
SERVES_UNTIL_STOPPED = """
import os, signal, sys, time
def stop(number, frame):
    time.sleep(1)
    sys.exit(0)
for number in (signal.SIGINT, signal.SIGTERM):
    signal.signal(number, stop)
while not os.path.exists(os.environ["WORKER_RECORD"]):
    time.sleep(0.05)
with open(os.environ["SERVER_RECORD"], "w") as record:
    record.write(str(os.getpid()))
time.sleep(600)
"""
# How long a stopped or starting `make serve` may take before the test calls it hung: far
# more than it needs, even on two cores shared with the whole suite.
PATIENCE = 60


def make_serve_in_a_terminal(tmp_path, worker, environment, **output):
    """`make serve` with `worker` standing in for manage.py and a server that runs until it
    is stopped for gunicorn, in a session of its own, as in a terminal, whose Ctrl-C
    reaches all of it."""
    worker_script, server = tmp_path / "worker.py", tmp_path / "server.py"
    worker_script.write_text(worker)
    server.write_text(SERVES_UNTIL_STOPPED)
    return subprocess.Popen(  # noqa: S603 - make, with our own interpreter standing in
        [  # noqa: S607
            # SIGINT as in a terminal: a test run a script started in the background (as
            # CI may be) would otherwise hand it down ignored, to make and gunicorn too.
            "env",
            "--default-signal=INT",
            "make",
            "--no-print-directory",
            "serve",
            f"MANAGE={sys.executable} {worker_script}",
            f"GUNICORN={sys.executable} {server}",
            f"SECRET_FILE={tmp_path / 'secret_key'}",
        ],
        cwd=settings.BASE_DIR,
        env={**environment, "DJANGO_SECRET_KEY": "not-a-real-one"},
        start_new_session=True,
        **output,
    )


def wait_for_its_server(make, server_record, what, log=None):
    deadline = time.monotonic() + PATIENCE
    while not server_record.exists() and make.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server_record.exists():
        fail_stopping(make, f"`make serve` did not start {what}", log)


@pytest.mark.parametrize(
    "task_worker",
    [TASK_WORKER_CATCHING_CTRL_C, TASK_WORKER],
    ids=["worker catching Ctrl-C", "worker still starting, deaf to Ctrl-C"],
)
def test_ctrl_c_on_make_serve_stops_all_it_started_and_announces_no_restart(tmp_path, task_worker):
    """Ctrl-C printed "starting it again in 5 s" though nothing started again, and left a
    worker started a moment before (which ignores Ctrl-C until Django has started) running
    after `make serve` had ended."""
    worker_record, server_record = tmp_path / "worker", tmp_path / "server"
    env = {name: value for name, value in os.environ.items() if name != "SITE_URL"}
    make = make_serve_in_a_terminal(
        tmp_path,
        task_worker,
        {
            **env,
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "WORKER_RECORD": str(worker_record),
            "SERVER_RECORD": str(server_record),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_its_server(make, server_record, "its server and its task worker")
    os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
    try:
        errors = make.communicate(timeout=PATIENCE)[1]
    except subprocess.TimeoutExpired:
        fail_stopping(make, f"`make serve` was still running {PATIENCE} s after Ctrl-C")

    assert "starting it again" not in errors
    assert processes_in_session(make.pid) == []


def test_make_serve_stopped_by_repeated_term_signals_waits_for_all_it_started(tmp_path):
    """make passes its TERM on to the recipe's shell, which systemd's TERM to every process
    has reached already: a second TERM arriving as the shell began to stop cut its wait for
    the server and the task worker short, and make ended with a task still running (under a
    supervisor that watches make alone, its result could be left "running" for good). Sent
    again and again from the first one on, over several stops, since it lands at random."""
    env = {name: value for name, value in os.environ.items() if name != "SITE_URL"}
    for attempt in range(4):
        stop_dir = tmp_path / str(attempt)
        stop_dir.mkdir()
        server_record = stop_dir / "server"
        make = make_serve_in_a_terminal(
            stop_dir,
            TASK_WORKER_CATCHING_CTRL_C,
            {
                **env,
                "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
                "WORKER_RECORD": str(stop_dir / "worker"),
                "SERVER_RECORD": str(server_record),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_its_server(make, server_record, "its server and its task worker")
        [recipe_shell] = children_of(make.pid)
        while not process_state(recipe_shell).startswith("S"):
            time.sleep(0.01)  # until it waits for the server it has started

        os.killpg(make.pid, signal.SIGTERM)
        repeat_until = time.monotonic() + 0.05
        while make.poll() is None and time.monotonic() < repeat_until:
            with contextlib.suppress(ProcessLookupError):
                os.kill(recipe_shell, signal.SIGTERM)
        wait_for_make(make, None, after="the stop")

        left_running = processes_in_session(make.pid)
        if left_running:
            os.killpg(make.pid, signal.SIGKILL)
        assert left_running == [], f"after stop {attempt + 1}"


# Stands in for manage.py in `make serve`: the real task worker (`manage.py db_worker`), while
# every other command does nothing.
REAL_TASK_WORKER = """
import os, sys
if sys.argv[1] == "db_worker":
    os.execv(sys.executable, [sys.executable, "manage.py", *sys.argv[1:]])
"""


@task
def runs_until_told_to_stop(times, started, log):
    """Stands in for a long task (a decision on 40,000 comments): says it has `started`, then
    runs until its worker has been told to stop `times` times, as the worker's `log` shows."""
    Path(started).touch()
    while Path(log).read_text().count("Received ") < times:
        time.sleep(0.05)


def queue_site(tmp_path):
    """The configuration of a site on the database queue, in a database of its own."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }


def serve_a_running_task(tmp_path, *, until_stopped, worker=REAL_TASK_WORKER, up="task-started"):
    """`make serve` with the database queue and `worker` (the real task worker) standing in
    for manage.py, once it has written `up` (in tmp_path; by default, once the worker runs a
    task that lasts until it has been told to stop `until_stopped` times); make's process, the
    file that takes what it prints, and the task's status once make has ended."""
    site = queue_site(tmp_path)
    started, log = tmp_path / "task-started", tmp_path / "make.log"
    enqueue = (
        "from tests.test_make import runs_until_told_to_stop as t; "
        f"t.enqueue({until_stopped}, {str(started)!r}, {str(log)!r})"
    )
    for command in (["migrate", "-v", "0", "django_tasks_database"], ["shell", "-c", enqueue]):
        result = manage(*command, **site)
        assert result.returncode == 0, result.stderr
    server_record = tmp_path / "server"
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("SITE_URL", "DATABASE_URL", "REDIS_URL")
    }
    with log.open("w") as output:
        make = make_serve_in_a_terminal(
            tmp_path,
            worker,
            {
                **env,
                **site,
                "WORKER_RECORD": str(tmp_path / up),  # the server stand-in waits for it
                "SERVER_RECORD": str(server_record),
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_for_its_server(make, server_record, "its server and its task", log)

    def task_status():
        with contextlib.closing(sqlite3.connect(tmp_path / "db.sqlite3")) as connection:
            [(status,)] = connection.execute(
                "SELECT status FROM django_tasks_database_dbtaskresult"
            )
        return status

    return make, log, task_status


def wait_for_make(make, log, after):
    try:
        make.wait(timeout=PATIENCE)
    except subprocess.TimeoutExpired:
        fail_stopping(make, f"`make serve` was still running {PATIENCE} s after {after}", log)


# systemd's TERM and the one the worker's loop passes on at once are often one signal to the
# worker: the kernel keeps one TERM pending until Python runs its handler, so it may be told
# only once, and a task waiting to be told twice ran into the stop's time limit.
# tests/comments/test_task_worker.py tells it twice for certain.
@pytest.mark.parametrize(
    ("stop", "told"),
    [(signal.SIGINT, 2), (signal.SIGTERM, 1)],
    ids=["Ctrl-C", "a TERM signal to all its processes, as systemd sends"],
)
def test_a_stopped_make_serve_lets_the_running_task_finish_then_stops_all(tmp_path, stop, told):
    """The worker took the TERM its loop passes on after Ctrl-C for a second Ctrl-C, and cut
    the running task short: a decision on many comments stopped between two lots, for good."""
    make, log, task_status = serve_a_running_task(tmp_path, until_stopped=told)

    os.killpg(make.pid, stop)  # Ctrl-C in its terminal, or systemd's stop
    wait_for_make(make, log, after="the stop")

    assert task_status() == "SUCCESSFUL", log.read_text()
    assert processes_in_session(make.pid) == []


def test_a_second_ctrl_c_on_make_serve_cuts_the_running_task_short(tmp_path):
    make, log, task_status = serve_a_running_task(tmp_path, until_stopped=3)
    os.killpg(make.pid, signal.SIGINT)
    deadline = time.monotonic() + PATIENCE
    while log.read_text().count("Received ") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # Ctrl-C, then the TERM that the worker's loop passes on

    os.killpg(make.pid, signal.SIGINT)
    wait_for_make(make, log, after="a second Ctrl-C")

    assert task_status() == "FAILED", log.read_text()
    assert processes_in_session(make.pid) == []


# Stands in for manage.py in `make serve`: the real task worker, which pauses for a minute
# each time its claim of a task (marking it "running") has committed, before it starts the
# task, and says so in WORKER_RECORD; every other command does nothing.
REAL_TASK_WORKER_PAUSING_AFTER_A_CLAIM = """
import os, sys, time
if sys.argv[1] == "db_worker":
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    import django
    django.setup()
    from django.core.management import execute_from_command_line
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    def pause():
        open(os.environ["WORKER_RECORD"], "w").close()
        time.sleep(60)

    claim = DBTaskResult.claim
    def claim_then_pause(result, worker_id):
        claim(result, worker_id)
        transaction.on_commit(pause)
    DBTaskResult.claim = claim_then_pause
    execute_from_command_line(["manage.py", *sys.argv[1:]])
"""


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "systemd"])
def test_a_task_claimed_but_not_started_when_make_serve_stops_is_left_to_the_next_worker(
    tmp_path, stop
):
    """A stop between tasks ends the worker at once: one landing after it had marked a task
    "running", before it started it, left the task so in the queue for ever, run by no
    worker (a moderator's decision on many comments never happened)."""
    make, log, task_status = serve_a_running_task(
        tmp_path, until_stopped=0, worker=REAL_TASK_WORKER_PAUSING_AFTER_A_CLAIM, up="claimed"
    )

    os.killpg(make.pid, stop)
    wait_for_make(make, log, after="the stop")
    assert task_status() == "READY", log.read_text()
    assert processes_in_session(make.pid) == []

    worker = manage(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", **queue_site(tmp_path)
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr
    assert task_status() == "SUCCESSFUL", worker.stdout


def fail_stopping(make, what, log=None):
    """Fails the test saying `what`, with the processes `make` left and what it printed,
    once they are stopped."""
    processes = "\n".join(processes_in_session(make.pid))
    with contextlib.suppress(ProcessLookupError):
        os.killpg(make.pid, signal.SIGKILL)
    output, errors = make.communicate()
    printed = log.read_text() if log else f"{output}{errors}"
    pytest.fail(f"{what}. Its processes:\n{processes}\nIt printed:\n{printed}")


def processes_in_session(session):
    """The processes still running in `session`, each as its id and command."""
    running = []
    for line in ps("-e", "-o", "sid=,pid=,stat=,args=").splitlines():
        sid, pid, state, command = line.split(None, 3)
        if int(sid) == session and not state.startswith("Z"):  # a zombie has ended
            running.append(f"{pid} {command}")
    return running


def children_of(pid):
    return [int(child) for child in ps("-o", "pid=", "--ppid", str(pid)).split()]


def process_state(pid):
    """As `ps` shows it: "S" for a process waiting (sleeping), "R" for one running."""
    return ps("-o", "stat=", "-p", str(pid)).strip()


def ps(*arguments):
    return subprocess.run(  # noqa: S603 - our own arguments
        ["ps", *arguments],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_serve_without_a_task_queue_starts_no_worker(tmp_path):
    worker, record = tmp_path / "worker.py", tmp_path / "worker"
    worker.write_text(TASK_WORKER)

    last_line_of_make(
        "serve",
        f"MANAGE={sys.executable} {worker}",
        "GUNICORN=true",
        f"SECRET_FILE={tmp_path / 'secret_key'}",
        DJANGO_SECRET_KEY="not-a-real-one",
        TASKS_BACKEND="",  # whatever the shell running the tests has set
        WORKER_RECORD=str(record),
    )

    assert not record.exists()


def process_is_running(pid, *, wait=5):
    """Whether `pid` still runs `wait` seconds on (a stopped process may take a moment)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True
