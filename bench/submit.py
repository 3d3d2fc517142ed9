"""Comment submission over HTTP, as a browser does it: read the form, answer, post.

Run by bench/run.py as `python -m bench.submit COMMAND` with the benchmark's environment,
JSON on stdin and stdout:

- `commenter`: post one comment to an article and return the commenter's cookies, so wrk
  can read the article as someone with a pending comment of their own.
- `throughput`: several processes post valid comments for a fixed time; returns accepted
  comments per second and checks the database for lost or duplicated comments.
- `profile`: where the time of a comment post goes, in-process (pyinstrument), with the SQL
  queries of one post.

The captcha is answered the only way a bot that is not a person can: by reading the
answer from the database (`CaptchaStore`), one fresh question per comment.
"""

import http.client
import json
import multiprocessing
import os
import re
import sys
import time
import uuid
from collections import Counter
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from bench import django_setup  # noqa: F401
from bench.load import uses_task_queue

# isort: split
from captcha.models import CaptchaStore
from django.db import connection
from django.utils import timezone

from comments.models import Comment

COMMENT_ID = re.compile(r"#comment-(\d+)$")
ERROR_SUMMARY = re.compile(r'class="error-summary".*?</ul>', re.DOTALL)
TAG = re.compile(r"<[^>]+>")


class CommentFormParser(HTMLParser):
    """The fields of the form that posts to /comments/post/, with their current values."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.token_url = None
        self.fields = {}
        self._in_form = False
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "/comments/post/" in (attrs.get("action") or ""):
            self._in_form, self.action = True, attrs["action"]
            self.token_url = attrs.get("data-token-url")
        elif not self._in_form:
            return
        elif tag == "input" and attrs.get("name"):
            if attrs.get("type") in {"checkbox", "radio"} and "checked" not in attrs:
                return
            if attrs.get("type") in {"submit", "button"}:
                return
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False


class Browser:
    """One HTTP connection with a cookie jar; reconnects when the server closes."""

    def __init__(self, base_url, cookies=None):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.cookies = dict(cookies or {})

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response, content

    def comment_form(self, path):
        response, content = self.request("GET", path)
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        parser = CommentFormParser()
        parser.feed(content.decode())
        if not parser.action:
            raise RuntimeError(f"{path} has no comment form")
        if not parser.fields.get("csrfmiddlewaretoken"):
            # A shared cached page carries no token: ask for one, as comments.js does.
            _, token = self.request("GET", parser.token_url)
            parser.fields["csrfmiddlewaretoken"] = json.loads(token)["token"]
        return parser.action, parser.fields


def error_text(html):
    """The form's error summary as one line of text, to say why a comment was refused."""
    summary = ERROR_SUMMARY.search(html)
    return " ".join(TAG.sub(" ", summary.group()).split()) if summary else html[:200]


def fresh_captchas(count):
    """Questions drawn the way the form draws them, answers read back from the database."""
    keys = [CaptchaStore.generate_key() for _ in range(count)]
    answers = dict(CaptchaStore.objects.filter(hashkey__in=keys).values_list("hashkey", "response"))
    return [(key, answers[key]) for key in keys]


def _post(browser, action, fields, captcha, name, body):
    key, answer = captcha
    data = {
        **fields,
        "name": name,
        "email": f"{name}@bench.example",
        "url": "",
        "body": body,
        "captcha_0": key,
        "captcha_1": answer,
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response, content = browser.request("POST", action, urlencode(data), headers)
    match = COMMENT_ID.search(response.getheader("Location") or "")
    if response.status == 303 and match:
        return int(match.group(1)), None
    return None, f"{response.status}: {error_text(content.decode())}"


def commenter(request):
    """Post one comment and return the cookies of the browser that posted it."""
    browser = Browser(request["base_url"])
    action, fields = browser.comment_form(request["path"])
    body = f"Pending, and mine ({uuid.uuid4().hex[:8]})."
    comment_id, error = _post(browser, action, fields, fresh_captchas(1)[0], "benchreader", body)
    if error:
        raise RuntimeError(f"the commenter's comment was refused: {error}")
    return {"cookies": browser.cookies, "comment_id": comment_id}


def _submitter(base_url, action, fields, cookies, captchas, marker, seconds, results):
    """One client process: each comment from a new visitor (no cookies), as fast as accepted."""
    browser = Browser(base_url)
    accepted, refused = {}, []
    deadline = time.monotonic() + seconds
    for sequence, captcha in enumerate(captchas):
        if time.monotonic() >= deadline:
            break
        browser.cookies = dict(cookies)
        tag = f"{marker}-{sequence}"
        body = f"Comment {tag}: a measured thought about this story, posted by the benchmark."
        comment_id, error = _post(browser, action, fields, captcha, f"bench{tag}", body)
        if error:
            refused.append(error)
        else:
            accepted[tag] = comment_id
    results.put({"accepted": accepted, "refused": refused})


def throughput(request):
    """Accepted comments per second over `seconds`, and a check that none was lost or doubled."""
    processes, seconds, base_url = request["processes"], request["seconds"], request["base_url"]
    browser = Browser(base_url)
    action, fields = browser.comment_form(request["path"])
    cookies = {"csrftoken": browser.cookies["csrftoken"]}
    per_process = max(500, int(seconds * 400 / processes))
    captchas = fresh_captchas(per_process * processes)
    run = uuid.uuid4().hex[:10]
    connection.close()  # the children do not use the database; do not share a socket with them

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    shares = [captchas[n * per_process : (n + 1) * per_process] for n in range(processes)]
    workers = [
        context.Process(
            target=_submitter,
            args=(base_url, action, fields, cookies, share, f"{run}-{n}", seconds, results),
        )
        for n, share in enumerate(shares)
    ]
    posting_from, started = timezone.now(), time.monotonic()
    for worker in workers:
        worker.start()
    outcomes = [results.get() for _ in workers]
    elapsed = time.monotonic() - started
    for worker in workers:
        worker.join()

    accepted = {tag: cid for outcome in outcomes for tag, cid in outcome["accepted"].items()}
    refused = [error for outcome in outcomes for error in outcome["refused"]]
    stored = [
        (pk, body.split()[1].rstrip(":"), status)
        for pk, body, status in Comment.objects.filter(
            body__startswith=f"Comment {run}-"
        ).values_list("pk", "body", "status")
    ]
    copies = Counter(tag for _, tag, _ in stored)
    lost = sorted(set(accepted) - set(copies))
    duplicated = sorted(tag for tag, count in copies.items() if count > 1)
    unexpected = sorted(set(copies) - set(accepted))
    id_mismatch = sorted(tag for pk, tag, _ in stored if tag in accepted and accepted[tag] != pk)
    return {
        "queue": (
            queue_drained(since=posting_from, posting_ended=started + elapsed)
            if uses_task_queue(os.environ)
            else None
        ),
        "processes": processes,
        "seconds": elapsed,
        "accepted": len(accepted),
        "accepted_per_s": len(accepted) / elapsed,
        "refused": len(refused),
        "refused_examples": refused[:3],
        "stored": len(stored),
        "stored_statuses": dict(Counter(status for _, _, status in stored)),
        "lost": lost,
        "duplicated": duplicated,
        "unexpected": unexpected,
        "id_mismatch": id_mismatch[:10],
    }


def queue_drained(*, since, posting_ended, timeout=120):
    """With a task queue: how long after posting ended (`time.monotonic()`) its worker had
    run every notification queued since `since`, and what was still waiting, or had failed."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(enqueued_at__gte=since)
    waiting = queued.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    while waiting.exists() and time.monotonic() - posting_ended < timeout:
        time.sleep(0.1)
    return {
        "seconds": time.monotonic() - posting_ended,
        "waiting": waiting.count(),
        "failed": queued.filter(status=TaskResultStatus.FAILED).count(),
    }


def profile(request):
    """Profile `requests` comment posts in-process, each from a new visitor, as `throughput`
    sends them; returns pyinstrument's text reports and the SQL of one post."""
    from django.test import Client
    from pyinstrument import Profiler

    # One client (building a handler loads the middleware, WhiteNoise's file scan included),
    # its cookie jar emptied before each post but for the CSRF cookie.
    client = Client(enforce_csrf_checks=True)
    parser = CommentFormParser()
    parser.feed(client.get(request["path"]).content.decode())
    if not parser.fields.get("csrfmiddlewaretoken"):
        parser.fields["csrfmiddlewaretoken"] = client.get(parser.token_url).json()["token"]
    csrf_cookie = client.cookies["csrftoken"].value
    captchas = fresh_captchas(request["requests"] + 2)
    run = uuid.uuid4().hex[:10]

    def post(sequence):
        client.cookies.clear()
        client.cookies["csrftoken"] = csrf_cookie
        tag = f"{run}-{sequence}"
        key, answer = captchas[sequence]
        fields = {
            **parser.fields,
            "name": f"bench{tag}",
            "email": f"bench{tag}@bench.example",
            "url": "",
            "body": f"Comment {tag}: a measured thought about this story, in-process.",
            "captcha_0": key,
            "captcha_1": answer,
        }
        response = client.post(parser.action, fields)
        if response.status_code != 303:
            raise RuntimeError(f"the post was refused: {response.status_code}")

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    post(0)  # imports, templates, connections: not the post's cost
    queries = []
    with connection.execute_wrapper(record):
        post(1)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for sequence in range(2, request["requests"] + 2):
        post(sequence)
    profiler.stop()
    return {
        "tree": profiler.output_text(unicode=True, short_mode=False),
        "flat": profiler.output_text(unicode=True, flat=True),
        "queries": queries,
    }


COMMANDS = {"commenter": commenter, "throughput": throughput, "profile": profile}

if __name__ == "__main__":
    answer = COMMANDS[sys.argv[1]](json.load(sys.stdin))
    json.dump(answer, sys.stdout)
