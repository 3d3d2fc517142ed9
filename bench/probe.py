"""In-process measurements that wrk cannot make: SQL queries and body size per page, profiles.

Run by bench/run.py as `python -m bench.probe COMMAND` with the benchmark's environment;
reads a JSON request on stdin and writes a JSON answer on stdout.

- `plan`: the URLs to measure, discovered from the benchmark database.
- `measure`: status, body bytes and SQL queries of each page, on a cold then a warm cache.
- `profile`: where the time goes for each page (pyinstrument), as text.
"""

import json
import sys

from bench import django_setup  # noqa: F401

# isort: split
from django.core.cache import cache
from django.db import connection
from django.templatetags.static import static
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.models import Article, Section
from bench.scenario import GROWTH_SIZES, HOT_SLUG, SEARCH_TERM, growth_slug


def plan(_request):
    """Paths of every page the benchmark compares, plus the article comments are posted to."""
    section = Section.objects.order_by("order", "name").first()
    hot = Article.objects.get(slug=HOT_SLUG)
    return {
        "floor": "/robots.txt",
        "static": static("css/site.css"),
        "home": reverse("articles:home"),
        "section": section.get_absolute_url(),
        "hot": hot.get_absolute_url(),
        "search": f"{reverse('articles:search')}?q={SEARCH_TERM}",
        "feed": reverse("articles:feed-rss"),
        # Comments arrive where readers are: the benchmark posts under the hot article.
        "submit": hot.get_absolute_url(),
        "growth": {
            str(size): Article.objects.get(slug=growth_slug(size)).get_absolute_url()
            for size in GROWTH_SIZES
        },
        "hot_id": hot.pk,
    }


def _client(cookies):
    client = Client()
    for name, value in (cookies or {}).items():
        client.cookies[name] = value
    return client


def _fetch(client, path, headers=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
    body = b"".join(response) if response.streaming else response.content
    return response, len(body), len(queries)


def measure(request):
    """Queries and bytes of each page: first request on an empty cache, then a repeat."""
    results = {}
    for page in request["pages"]:
        client = _client(page.get("cookies"))
        headers = dict(header.split(": ", 1) for header in page.get("headers", ()))
        headers.pop("Cookie", None)  # the client's own cookies carry them
        cache.clear()
        cold, size, cold_queries = _fetch(client, page["path"], headers)
        warm, _, warm_queries = _fetch(client, page["path"], headers)
        results[page["key"]] = {
            "status": cold.status_code,
            "warm_status": warm.status_code,
            "bytes": size,
            "queries_cold": cold_queries,
            "queries_warm": warm_queries,
        }
    return results


def profile(request):
    """Profile `requests` repeats of each page and return pyinstrument's text reports."""
    from pyinstrument import Profiler

    reports = {}
    for page in request["pages"]:
        client = _client(page.get("cookies"))
        client.get(page["path"])  # imports, template loading, connection: not the page's cost
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(request["requests"]):
            client.get(page["path"])
        profiler.stop()
        reports[page["key"]] = {
            "tree": profiler.output_text(unicode=True, short_mode=False),
            "flat": profiler.output_text(unicode=True, flat=True),
        }
    return reports


COMMANDS = {"plan": plan, "measure": measure, "profile": profile}

if __name__ == "__main__":
    answer = COMMANDS[sys.argv[1]](json.load(sys.stdin))
    json.dump(answer, sys.stdout)
