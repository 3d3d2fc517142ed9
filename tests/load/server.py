"""A real gunicorn on loopback, and a reader's browser reduced to what the comment form needs.

The server runs the production settings (DEBUG off, several sync worker processes) against
the test database and the test Redis, so what the tests see is what readers would see.
"""

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import redis
from captcha.models import CaptchaStore

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 30
STOP_SECONDS = 10
REQUEST_SECONDS = 30


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    def errors(self):
        """What gunicorn and Django logged at warning level or above."""
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def gunicorn(*, database_url, redis_url, log_dir, workers=4, arguments=(), **environment):
    """gunicorn serving the project on a free loopback port; stopped and reaped on exit.
    `arguments` are gunicorn's own, added to those here.

    The listening socket is opened here and handed to gunicorn (fd://), so there is no
    window in which another process could take the port.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # A key space of its own in the shared Redis database, removed afterwards.
        "CACHE_KEY_PREFIX": f"loadtest-{secrets.token_hex(8)}",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        **environment,
    }
    log = Path(log_dir) / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "newsroom.wsgi",
        "--bind",
        f"fd://{listener.fileno()}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--preload",
        "--timeout",
        str(REQUEST_SECONDS),
        "--graceful-timeout",
        "1",
        "--log-level",
        "warning",
        # The default control socket is one path per user: ours would replace, then delete,
        # that of a gunicorn already serving on this host.
        "--no-control-socket",
        "--error-logfile",
        str(log),
        *arguments,
    ]
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=ROOT,
            env=env,
            pass_fds=[listener.fileno()],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    listener.close()
    server = Server(port=port, process=process, log=log)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _forget_cache_keys(redis_url, env["CACHE_KEY_PREFIX"])


def closed_port():
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Switch:
    """A loopback forwarder to a TCP service that can be switched off and on again: while
    off, connections are refused and those open are cut, as in a network outage; the
    service itself, and what it holds, stays as it was."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.port = closed_port()
        self._sockets = []
        self.on()

    def on(self):
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def off(self):
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked on it
            sock.close()
        self._sockets = []

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in [(client, upstream), (upstream, client)]:
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)


def _wait_until_serving(server):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start:\n{server.errors()}")
        try:
            if Reader(server.port).get("/robots.txt").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {START_SECONDS} s:\n{server.errors()}")


def _forget_cache_keys(redis_url, prefix):
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.ConnectionError:  # a test of Redis being down: nothing was stored
        pass
    finally:
        client.close()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str


@dataclass
class Reader:
    """One person's browser: their cookies and, behind our trusted proxy, their address."""

    port: int
    address: str = ""
    deadline: float = float("inf")  # time.monotonic() after which it stops sending
    cookies: dict = field(default_factory=dict)

    def get(self, path, headers=None):
        return self._request("GET", path, headers=headers)

    def form_token(self):
        return json.loads(self.get("/comments/token/").text)["token"]

    def post(self, path, data):
        body = urllib.parse.urlencode(data)
        return self._request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def _request(self, method, path, body=None, headers=None):
        headers = {**(headers or {}), "User-Agent": "newsroom-load-test"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.address:
            headers["X-Forwarded-For"] = self.address
        time_left = self.deadline - time.monotonic()
        if time_left <= 0:
            raise TimeoutError("The test's time is up.")
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=min(REQUEST_SECONDS, time_left)
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Response(response.status, response.headers, text)


def form_value(page, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return match.group(1) if match else ""


def filled_form(reader, page, **typed):
    """The form on `page` as a reader's browser sends it: the question answered from the
    database, and the CSRF token that comments.js asks for when the page is a shared cached
    copy (which carries none).

    When two readers were shown the same question and the other answered first, the
    question is gone; this reader then sends a guess and gets a new question back, as in
    a browser.
    """
    key = form_value(page, "captcha_0")
    answer = CaptchaStore.objects.filter(hashkey=key).values_list("response", flat=True).first()
    return {
        "csrfmiddlewaretoken": form_value(page, "csrfmiddlewaretoken") or reader.form_token(),
        "captcha_0": key,
        "captcha_1": answer or "0",
        "started": form_value(page, "started"),
        "url": "",
        "phone": "",
        **typed,
    }
