"""The production server under test (gunicorn) and the load tool that drives it (wrk)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
REPORT_SCRIPT = BENCH_DIR / "report.lua"
MARKER = "BENCH_JSON "


def ensure_wrk():
    """wrk comes from Debian's packages; install it when missing (we run as root here)."""
    if shutil.which("wrk"):
        return
    print("wrk is missing: installing it with apt-get", flush=True)
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    subprocess.run([*apt, "update", "-q"], check=True)
    subprocess.run([*apt, "install", "-y", "-q", "wrk"], check=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_workers():
    """gunicorn's advice, as `make serve` does: two per core plus one."""
    return int(os.environ.get("WEB_CONCURRENCY") or (os.cpu_count() or 1) * 2 + 1)


class Server:
    """A running gunicorn: its base URL and its worker processes."""

    def __init__(self, process, port):
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"

    def drain(self, timeout=300):
        """Wait until requests left queued by the last load run are served.

        wrk stops at its deadline, but requests it already sent wait in the listen queue;
        measuring the next page before they are served would charge their cost to it.
        """
        deadline = time.monotonic() + timeout
        quick_answers = 0
        while quick_answers < 2 and time.monotonic() < deadline:
            started = time.monotonic()
            with urllib.request.urlopen(self.base_url + "/robots.txt", timeout=timeout):
                pass
            quick_answers = quick_answers + 1 if time.monotonic() - started < 0.1 else 0

    def worker_pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def worker_memory_mb(self):
        """Resident and peak resident size of each worker, from /proc (Linux)."""
        workers = []
        for pid in self.worker_pids():
            fields = {}
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in {"VmRSS", "VmHWM"}:
                    fields[key] = int(value.split()[0]) / 1024
            workers.append({"pid": pid, "rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]})
        return workers


@contextmanager
def gunicorn(env, workers, label):
    """Serve the project like `make serve` (debug off, WhiteNoise), then stop it; with a task
    queue in the database (TASKS_BACKEND), its worker runs beside it, as in production."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "newsroom.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--log-level", "warning",
        "--no-control-socket",  # leave a production gunicorn's control socket on this host alone
    ]  # fmt: skip
    log_path = BENCH_DIR / "results" / f"gunicorn-{label}.log"
    with log_path.open("w") as log, task_worker(env, log):
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        server = Server(process, port)
        try:
            _wait_until_up(server, log_path)
            yield server
        finally:
            stop(process)


def uses_task_queue(env):
    return env.get("TASKS_BACKEND", "").startswith("django_tasks_db.")


@contextmanager
def task_worker(env, log):
    """`manage.py db_worker` for the length of the block, when tasks are queued at all."""
    if not uses_task_queue(env):
        yield
        return
    command = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=log)
    try:
        yield
    finally:
        stop(process)


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_up(server, log_path, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log_path}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.base_url + "/robots.txt", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout}s; see {log_path}")


def wrk(url, *, seconds, connections, threads, headers=()):
    """One wrk run; returns requests/s, latency percentiles (ms) and error counts."""
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(REPORT_SCRIPT),
    ]  # fmt: skip
    # gunicorn's sync workers close every connection after one response; saying so up front
    # spares wrk a reconnect stall (seconds of p99) that is wrk's, not the site's.
    for header in ("Connection: close", *headers):
        command += ["-H", header]
    command.append(url)
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next((line for line in result.stdout.splitlines() if line.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk gave no report for {url}:\n{result.stdout}\n{result.stderr}")
    raw = json.loads(line[len(MARKER) :])
    seconds_taken = raw["duration_us"] / 1e6
    errors = sum(value for key, value in raw.items() if key.startswith("errors_"))
    return {
        "rps": raw["requests"] / seconds_taken,
        "requests": raw["requests"],
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "wire_bytes": raw["bytes"] / max(raw["requests"], 1),
        "errors": errors,
        "errors_status": raw["errors_status"],
    }
