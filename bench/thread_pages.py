"""The uncached article page at each growth size: build_thread alone and the whole page.

    PYTHONPATH=. python -m bench.thread_pages [--seed] [--before OLD_THREAD_PY]

With `--seed`, first fills the configured (empty, migrated) database with the growth
articles (bench.scenario) and 20 other articles of 300 comments, then runs ANALYZE. With
`--before`, a copy of comments/thread.py from another commit is timed too, each round
alternating the two, so that both see the same load on a shared machine. Prints the best
and the median of ROUNDS rounds. Needs the environment production needs
(DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS=testserver, DJANGO_DEBUG=0).
"""

import argparse
import importlib.util
import os
import statistics
import sys
import time

os.environ["BENCH_CACHE"] = "off"

from bench import django_setup  # noqa: F401

# isort: split
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import override_settings, setup_test_environment

import comments.templatetags.comments as comments_tag
from articles import demo as articles_demo
from articles.models import Article
from bench.scenario import GROWTH_SIZES, growth_slug
from comments import demo as comments_demo
from comments import thread

ROUNDS = 30


def seed():
    ids = articles_demo.create_articles(len(GROWTH_SIZES) + 20)
    comments_demo.create_comments(dict.fromkeys(ids[len(GROWTH_SIZES) :], 300), seed=2)
    for pk, size in zip(ids, GROWTH_SIZES, strict=False):
        Article.objects.filter(pk=pk).update(slug=growth_slug(size))
        if size:
            comments_demo.create_comments({pk: size})
    articles_demo.analyze_tables(vacuum=True)


def load(path):
    spec = importlib.util.spec_from_file_location("comments.thread_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def measure(versions):
    client = Client()
    for size in GROWTH_SIZES:
        article = Article.objects.get(slug=growth_slug(size))
        url = article.get_absolute_url()
        times = {name: ([], []) for name in versions}
        for _ in range(ROUNDS):
            for name, module in versions.items():
                built, page = times[name]
                started = time.perf_counter()
                module.build_thread(article)
                built.append((time.perf_counter() - started) * 1000)
                comments_tag.build_thread = module.build_thread
                started = time.perf_counter()
                if client.get(url).status_code != 200:
                    raise SystemExit(f"{url} did not answer 200")
                page.append((time.perf_counter() - started) * 1000)
        for name, (built, page) in times.items():
            print(
                f"{connection.vendor:10} {size:>5} comments {name:6}: build_thread "
                f"{min(built):6.1f} / {statistics.median(built):6.1f} ms, page "
                f"{min(page):6.1f} / {statistics.median(page):6.1f} ms (best / median)"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("--before")
    arguments = parser.parse_args()
    if arguments.seed:
        seed()
    setup_test_environment()
    static_files = "django.contrib.staticfiles.storage.StaticFilesStorage"
    override_settings(
        STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": static_files}}
    ).enable()
    versions = {"after": thread}
    if arguments.before:
        versions = {"before": load(arguments.before), **versions}
    measure(versions)


if __name__ == "__main__":
    main()
