"""`make bench` / `python -m bench`: build the data, serve it, load it, print the table.

Three servers run one after the other, each measured against its own floor (`/robots.txt`,
a minimal Django response through the whole middleware stack), so every ratio compares
numbers taken minutes apart on the same machine:

1. "cached": the production configuration, reading the main data set;
2. "uncached": the same with a dummy cache (every request renders and queries afresh);
3. "baseline": uncached, on the small data set (1,000 articles), for the growth comparison.

Rounds interleave the pages (page A, B, C, A, B, C...), so drift from other work on the
machine lands on every page alike.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.chart import bar_chart
from bench.load import (
    BENCH_DIR,
    PROJECT_DIR,
    default_workers,
    ensure_wrk,
    gunicorn,
    wrk,
)
from bench.scenario import GROWTH_BASELINE_SCALE, SCALES

RESULTS_DIR = BENCH_DIR / "results"
TARGETS = {
    "hot_cached_vs_floor": 0.80,
    "hot_uncached_vs_floor": 0.25,
    "uncached_max_queries": 8,
    "list_p99_growth": 1.5,
    "comments_per_s": 100,
    "large_build_seconds": 120,
    "worker_peak_mb": 150,
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="default", help="main data set size")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per page")
    parser.add_argument("--duration", type=int, default=3, help="seconds per page per round")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per page")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=default_workers(), help="gunicorn workers")
    parser.add_argument("--submit-seconds", type=float, default=5, help="comment posting time")
    parser.add_argument("--submit-processes", type=int, default=4, help="posting clients")
    parser.add_argument(
        "--submit-only", action="store_true", help="measure comment posting alone (no wrk)"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data sets")
    parser.add_argument("--no-growth", action="store_true", help="skip the growth measurements")
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    parser.add_argument("--profile-requests", type=int, default=40, help="requests per profile")
    return parser.parse_args(argv)


# -- Environment and databases --------------------------------------------------------------


def database_url(scale):
    """SQLite file per scale under bench/, or `<name>_<scale>` beside DATABASE_URL's database."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        return f"sqlite:///{BENCH_DIR / f'bench-{scale}.sqlite3'}"
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{scale}"))


def bench_env(scale, *, cache=True):
    """Production settings (debug off, WhiteNoise, manifest static files) on the bench data."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url(scale),
        "CACHE_KEY_PREFIX": f"bench-{scale}",
        "BENCH_CACHE": "on" if cache else "off",
        # One machine posts every comment: lift the per-IP flood limit and the "too fast
        # for a person" delay, which exist to stop exactly what a benchmark does.
        "COMMENTS_FLOOD_LIMIT": "1000000000",
        "COMMENTS_MIN_SUBMIT_SECONDS": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def recreate_database(scale):
    url = database_url(scale)
    if url.startswith("sqlite"):
        path = Path(urlsplit(url).path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def tool(module, command, env, payload=None, args=()):
    """Run one of the bench's Django-side tools and return its JSON answer."""
    result = subprocess.run(
        [sys.executable, "-m", module, command, *args],
        input=json.dumps(payload or {}),
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
    )
    if result.returncode:
        raise RuntimeError(f"{module} {command} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout)


def ensure_dataset(scale, rebuild):
    """Reuse the data set when it is complete, else build it afresh (and time that)."""
    env = bench_env(scale)
    try:
        if not rebuild and tool("bench.dataset", "describe", env, {"scale": scale})["complete"]:
            print(f"Data set '{scale}': reusing {database_url(scale)}", flush=True)
            return None
    except RuntimeError:
        pass  # no database yet, or an older schema
    articles, comments = SCALES[scale]
    print(f"Data set '{scale}': building {articles:,} articles, {comments:,} comments", flush=True)
    recreate_database(scale)
    timings = tool("bench.dataset", "build", env, {"scale": scale})
    print(f"  built in {timings['seconds']:.1f}s {timings['steps']}", flush=True)
    return timings


def collectstatic(env):
    """Over the files already there, as `make serve` collects: a server of this checkout may
    be serving them."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
    )


# -- Measuring ------------------------------------------------------------------------------


def measure_pages(server, pages, args):
    """Warm every page up, then run the rounds interleaved; medians per page."""
    runs = {page["key"]: [] for page in pages}
    for page in pages:
        wrk_page(server, page, args, args.warmup)
    for round_number in range(1, args.rounds + 1):
        print(f"  round {round_number}/{args.rounds}", flush=True)
        for page in pages:
            runs[page["key"]].append(wrk_page(server, page, args, args.duration))
    results = {}
    for page in pages:
        rounds = runs[page["key"]]
        results[page["key"]] = {
            "rps": statistics.median(run["rps"] for run in rounds),
            "p50_ms": statistics.median(run["p50_ms"] for run in rounds),
            "p99_ms": statistics.median(run["p99_ms"] for run in rounds),
            "wire_bytes": statistics.median(run["wire_bytes"] for run in rounds),
            "errors": sum(run["errors"] for run in rounds),
            "rounds": rounds,
        }
    return results


def wrk_page(server, page, args, seconds):
    server.drain()
    return wrk(
        server.base_url + page["path"],
        seconds=seconds,
        connections=args.connections,
        threads=args.threads,
        headers=page.get("headers", ()),
    )


def cookie_header(cookies):
    return "Cookie: " + "; ".join(f"{name}={value}" for name, value in cookies.items())


def run_server(label, scale, cache, pages, args, before=None, after=None):
    """Probe queries and bytes in-process, then serve and load every page."""
    env = bench_env(scale, cache=cache)
    print(f"\n== {label}: {SCALES[scale][0]:,} articles, cache {'on' if cache else 'off'}")
    extra = {}
    with gunicorn(env, args.workers, label) as server:
        if before:
            extra.update(before(server, env, pages))
        probes = tool("bench.probe", "measure", env, {"pages": pages})
        if revalidated := conditional_pages(server, pages):
            probes.update(tool("bench.probe", "measure", env, {"pages": revalidated}))
            pages += revalidated
        loads = measure_pages(server, pages, args)
        if after:
            extra.update(after(server, env))
        memory = server.worker_memory_mb()
    rows = []
    floor = loads["floor"]["rps"]
    if not floor:
        raise RuntimeError(f"The floor ({pages[0]['path']}) answered no request: see the log")
    for page in pages:
        row = {
            "server": label,
            "scale": scale,
            "articles": SCALES[scale][0],
            "key": page["key"],
            "label": page["label"],
            "path": page["path"],
            **probes[page["key"]],
            **loads[page["key"]],
        }
        row["ratio"] = row["rps"] / floor
        rows.append(row)
    return {"rows": rows, "workers": memory, **extra}


def conditional_pages(server, pages):
    """The hot article asked again with its ETag, as a returning browser does: a 304.

    The ETag is the server's own: pages hold absolute links, so the copy the probe renders
    for its test client's host has another one. The probe asks with the server's host too.
    """
    hot = next((page for page in pages if page["key"] == "hot"), None)
    if hot is None:
        return []
    with urllib.request.urlopen(server.base_url + hot["path"]) as response:
        etag = response.headers["ETag"]
    if not etag:
        return []
    return [
        {
            "key": "hot-304",
            "label": "hot article, If-None-Match (304)",
            "path": hot["path"],
            "headers": [f"Host: {urlsplit(server.base_url).netloc}", f"If-None-Match: {etag}"],
        }
    ]


def cached_pages(plan):
    return [
        {"key": "floor", "label": "floor: /robots.txt", "path": plan["floor"]},
        {"key": "static", "label": "static file (WhiteNoise)", "path": plan["static"]},
        {"key": "home", "label": "home", "path": plan["home"]},
        {"key": "section", "label": "section page", "path": plan["section"]},
        {"key": "hot", "label": "hot article, anonymous", "path": plan["hot"]},
        {"key": "search", "label": "search", "path": plan["search"]},
        {"key": "feed", "label": "RSS feed", "path": plan["feed"]},
    ]


def uncached_pages(plan, growth):
    pages = [
        {"key": "floor", "label": "floor: /robots.txt", "path": plan["floor"]},
        {"key": "home", "label": "home", "path": plan["home"]},
        {"key": "section", "label": "section page", "path": plan["section"]},
        {"key": "hot", "label": "hot article, anonymous", "path": plan["hot"]},
        {"key": "search", "label": "search", "path": plan["search"]},
        {"key": "feed", "label": "RSS feed", "path": plan["feed"]},
    ]
    if growth:
        pages += [
            {"key": f"thread-{size}", "label": f"article, {size:,} comments", "path": path}
            for size, path in ((int(size), path) for size, path in plan["growth"].items())
        ]
    return pages


def with_commenter(plan):
    """A hook for the cached server: one real comment, then read as that commenter."""

    def before(server, env, pages):
        commenter = tool(
            "bench.submit", "commenter", env, {"base_url": server.base_url, "path": plan["hot"]}
        )
        pages.insert(
            pages.index(next(page for page in pages if page["key"] == "hot")) + 1,
            {
                "key": "hot-commenter",
                "label": "hot article, commenter (pending)",
                "path": plan["hot"],
                "headers": [cookie_header(commenter["cookies"])],
                "cookies": commenter["cookies"],
            },
        )
        return {"commenter_comment_id": commenter["comment_id"]}

    return before


def with_submissions(plan, args):
    def after(server, env):
        print(
            f"  posting comments: {args.submit_processes} clients, {args.submit_seconds:g}s",
            flush=True,
        )
        result = tool(
            "bench.submit",
            "throughput",
            env,
            {
                "base_url": server.base_url,
                "path": plan["submit"],
                "processes": args.submit_processes,
                "seconds": args.submit_seconds,
            },
        )
        return {"submissions": result}

    return after


def submissions_only(plan, args):
    """`--submit-only`: comment posting on the production configuration, and nothing else."""
    env = bench_env(args.scale)
    print(f"\n== submissions: {SCALES[args.scale][0]:,} articles, cache on")
    with gunicorn(env, args.workers, "submit") as server:
        submissions = with_submissions(plan, args)(server, env)["submissions"]
    print_submissions(submissions)
    if args.profile:
        profile_submission(args.scale, plan, args)


def profile_submission(scale, plan, args):
    """Where the time of a comment post goes, in-process (pyinstrument), and its queries."""
    report = tool(
        "bench.submit",
        "profile",
        bench_env(scale),
        {"path": plan["submit"], "requests": args.profile_requests},
    )
    path = RESULTS_DIR / "profile-submit.txt"
    path.write_text("\n\n".join([report["tree"], report["flat"], *report["queries"]]))
    print(f"\n-- comment post, {args.profile_requests} in-process: self time; full tree: {path}")
    print("\n".join(report["flat"].splitlines()[:22]))
    print(f"\n{len(report['queries'])} queries per post:")
    print("\n".join(f"  {query[:120]}" for query in report["queries"]))
    return report


def profile(scale, plan, args):
    """Where the time of an uncached request goes, page by page (pyinstrument)."""
    env = bench_env(scale, cache=False)
    pages = [
        page
        for page in uncached_pages(plan, growth=False)
        if page["key"] in {"home", "section", "hot", "search", "feed"}
    ]
    reports = tool(
        "bench.probe", "profile", env, {"pages": pages, "requests": args.profile_requests}
    )
    print(f"\n== Profile: {args.profile_requests} uncached requests per page, in-process")
    for page in pages:
        report = reports[page["key"]]
        path = RESULTS_DIR / f"profile-{page['key']}.txt"
        path.write_text(report["tree"] + "\n\n" + report["flat"])
        print(f"\n-- {page['label']} ({page['path']}), self time by function; full tree: {path}")
        print("\n".join(report["flat"].splitlines()[:22]))
    return reports


# -- Reporting ------------------------------------------------------------------------------


def versions(env):
    def command_output(command):
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            return None
        return (result.stdout or result.stderr).strip().splitlines()[0]

    details = tool("bench.dataset", "versions", env)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "wrk": "wrk " + (command_output(["wrk", "--version"]) or "?").split()[1],
        **details,
    }


def target_checks(report):
    """Each of TARGETS (docs/benchmarks.md, "Targets"), with the measured value and whether it
    holds."""
    rows = {(row["server"], row["key"]): row for row in report["rows"]}
    checks = []

    def check(name, value, target, holds, detail=""):
        checks.append(
            {"target": name, "value": value, "goal": target, "holds": holds, "detail": detail}
        )

    hot_cached = rows.get(("cached", "hot"))
    if hot_cached:
        check(
            "hot article cached, share of floor req/s",
            round(hot_cached["ratio"], 3),
            f">= {TARGETS['hot_cached_vs_floor']:.0%}",
            hot_cached["ratio"] >= TARGETS["hot_cached_vs_floor"],
        )
    hot_uncached = rows.get(("uncached", "hot"))
    if hot_uncached:
        check(
            "hot article uncached, share of floor req/s",
            round(hot_uncached["ratio"], 3),
            f">= {TARGETS['hot_uncached_vs_floor']:.0%}",
            hot_uncached["ratio"] >= TARGETS["hot_uncached_vs_floor"],
        )
    article_rows = [
        row
        for row in report["rows"]
        if row["server"] == "uncached" and (row["key"] == "hot" or row["key"].startswith("thread"))
    ]
    if article_rows:
        most = max(row["queries_cold"] for row in article_rows)
        check(
            "uncached article queries at any comment count",
            {row["label"]: row["queries_cold"] for row in article_rows},
            f"<= {TARGETS['uncached_max_queries']}",
            most <= TARGETS["uncached_max_queries"],
        )
    for key in ("home", "section"):
        big, small = rows.get(("uncached", key)), rows.get(("baseline", key))
        if big and small:
            growth = big["p99_ms"] / small["p99_ms"]
            check(
                f"{key} p99 at {big['articles']:,} vs {small['articles']:,} articles (uncached)",
                round(growth, 2),
                f"<= {TARGETS['list_p99_growth']}x",
                growth <= TARGETS["list_p99_growth"],
                f"{big['p99_ms']:.1f} ms vs {small['p99_ms']:.1f} ms",
            )
    submissions = report.get("submissions")
    if submissions:
        clean = not (
            submissions["lost"]
            or submissions["duplicated"]
            or submissions["unexpected"]
            or submissions["id_mismatch"]
        )
        check(
            f"accepted comments per second ({report['database']})",
            round(submissions["accepted_per_s"], 1),
            f">= {TARGETS['comments_per_s']}, none lost or doubled",
            submissions["accepted_per_s"] >= TARGETS["comments_per_s"] and clean,
            f"{submissions['accepted']} accepted, {submissions['stored']} stored, "
            f"lost {len(submissions['lost'])}, duplicated {len(submissions['duplicated'])}",
        )
    build = report["builds"].get("large")
    if build:
        check(
            "large data set generation (100,000 articles, 1,000,000 comments)",
            round(build["seconds"], 1),
            f"< {TARGETS['large_build_seconds']} s",
            build["seconds"] < TARGETS["large_build_seconds"],
        )
    peaks = [worker["peak_rss_mb"] for server in report["servers"].values() for worker in server]
    if peaks:
        check(
            "gunicorn worker peak resident memory",
            round(max(peaks), 1),
            f"< {TARGETS['worker_peak_mb']} MB",
            max(peaks) < TARGETS["worker_peak_mb"],
        )
    return checks


def markdown(report):
    """The same results as the printed table, for docs/benchmarks.md."""
    machine = report["machine"]
    lines = [
        f"`{report['command']}` on {machine['cpu']} ({machine['cores']} cores, "
        f"{machine['memory_gb']} GB), {report['started_at']}; {machine['database']}, "
        f"cache {machine['cache']}; Python {machine['python']}, Django {machine['django']}, "
        f"gunicorn {machine['gunicorn']} ({report['settings']['workers']} sync workers), "
        f"{machine['wrk']}; {report['settings']['rounds']} rounds × "
        f"{report['settings']['duration']} s, {report['settings']['connections']} connections.",
        "",
        "| page | server | articles | req/s | p50 ms | p99 ms | queries | bytes | × floor |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rows"]:
        queries = row["queries_cold"] if row["server"] != "cached" else row["queries_warm"]
        lines.append(
            f"| {row['label']} | {row['server']} | {row['articles']:,} | {row['rps']:,.0f} | "
            f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {queries} | {row['bytes']:,} | "
            f"{row['ratio']:.2f} |"
        )
    submissions = report.get("submissions")
    if submissions:
        lines += [
            "",
            f"Comment submission: **{submissions['accepted_per_s']:.0f} accepted/s** "
            f"({submissions['accepted']} in {submissions['seconds']:.1f} s, "
            f"{submissions['processes']} clients), lost {len(submissions['lost'])}, "
            f"duplicated {len(submissions['duplicated'])}, refused {submissions['refused']}.",
        ]
    for scale, build in report["builds"].items():
        lines.append(f"Data set `{scale}` built in {build['seconds']} s: {build['steps']}.")
    peaks = [worker["peak_rss_mb"] for workers in report["servers"].values() for worker in workers]
    lines += ["", f"Worker peak RSS: {min(peaks):.0f} to {max(peaks):.0f} MB.", "", "Targets:", ""]
    for item in report["targets"]:
        mark = "holds" if item["holds"] else "**misses**"
        detail = f" ({item['detail']})" if item["detail"] else ""
        lines.append(f"- {mark}: {item['target']}: {item['value']} (goal {item['goal']}){detail}")
    return "\n".join(lines) + "\n"


def print_submissions(submissions):
    print(
        f"\nComment submission: {submissions['accepted_per_s']:.1f} accepted/s "
        f"({submissions['accepted']} in {submissions['seconds']:.1f}s, "
        f"{submissions['processes']} clients); refused {submissions['refused']}, "
        f"lost {len(submissions['lost'])}, duplicated {len(submissions['duplicated'])}, "
        f"unexpected {len(submissions['unexpected'])}"
    )
    for example in submissions["refused_examples"]:
        print(f"  refused: {example}")
    if queue := submissions.get("queue"):
        print(
            f"  notifications through the task queue: all run {queue['seconds']:.1f}s after "
            f"posting ended; {queue['waiting']} still waiting, {queue['failed']} failed"
        )


def print_table(report):
    header = (
        f"{'page':34} {'server':9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'queries':>8} {'bytes':>8} {'x floor':>8}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for row in report["rows"]:
        queries = row["queries_cold"] if row["server"] != "cached" else row["queries_warm"]
        flag = "  !" if row["errors"] or row["status"] >= 400 else ""
        print(
            f"{row['label'][:34]:34} {row['server']:9} {row['rps']:8,.0f} {row['p50_ms']:8.2f} "
            f"{row['p99_ms']:8.2f} {queries:8} {row['bytes']:8,} {row['ratio']:8.2f}{flag}"
        )
    print(
        "\nqueries: per request as measured in-process (cached rows: cache already warm;"
        " uncached rows: nothing cached). '!' marks errors or a non-2xx status."
    )
    if submissions := report.get("submissions"):
        print_submissions(submissions)
    for server, workers in report["servers"].items():
        peaks = ", ".join(f"{worker['peak_rss_mb']:.0f}" for worker in workers)
        print(f"Worker peak RSS, {server} server (MB): {peaks}")
    print("\nTargets:")
    for item in report["targets"]:
        mark = "HOLDS" if item["holds"] else "MISSES"
        detail = f" ({item['detail']})" if item["detail"] else ""
        print(f"  [{mark:6}] {item['target']}: {item['value']} (goal {item['goal']}){detail}")


def main(argv=None):
    args = parse_args(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    ensure_wrk()
    started = time.monotonic()
    growth = not (args.no_growth or args.submit_only) and args.scale != GROWTH_BASELINE_SCALE
    builds = {}
    for scale in dict.fromkeys([args.scale] + ([GROWTH_BASELINE_SCALE] if growth else [])):
        timing = ensure_dataset(scale, args.rebuild)
        if timing:
            builds[scale] = timing

    env = bench_env(args.scale)
    collectstatic(env)
    plan = tool("bench.probe", "plan", env)
    if args.submit_only:
        submissions_only(plan, args)
        return
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    cache_backend = "Redis" if os.environ.get("REDIS_URL") else "local memory (per worker)"
    report = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "database": database,
        "cache": cache_backend,
        "scale": args.scale,
        "settings": {
            key: getattr(args, key)
            for key in ("rounds", "duration", "warmup", "connections", "threads", "workers")
        },
        "machine": versions(env),
        "builds": builds,
        "rows": [],
        "servers": {},
    }

    cached = run_server(
        "cached",
        args.scale,
        True,
        cached_pages(plan),
        args,
        before=with_commenter(plan),
        after=with_submissions(plan, args),
    )
    uncached = run_server("uncached", args.scale, False, uncached_pages(plan, growth), args)
    servers = {"cached": cached, "uncached": uncached}
    if growth:
        small_plan = tool("bench.probe", "plan", bench_env(GROWTH_BASELINE_SCALE))
        baseline_pages = [
            page
            for page in uncached_pages(small_plan, growth=False)
            if page["key"] in {"floor", "home", "section"}
        ]
        servers["baseline"] = run_server(
            "baseline", GROWTH_BASELINE_SCALE, False, baseline_pages, args
        )
    for label, server in servers.items():
        report["rows"] += server["rows"]
        report["servers"][label] = server["workers"]
    report["submissions"] = cached.get("submissions")
    if args.profile:
        report["profile"] = {
            key: value["flat"] for key, value in profile(args.scale, plan, args).items()
        }
        report["profile"]["submit"] = profile_submission(args.scale, plan, args)["flat"]
    report["targets"] = target_checks(report)
    report["seconds"] = round(time.monotonic() - started, 1)

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{stamp}", "latest"):
        (RESULTS_DIR / f"{name}.json").write_text(json.dumps(report, indent=2))
        (RESULTS_DIR / f"{name}.md").write_text(markdown(report))
        bar_chart(
            report["rows"],
            RESULTS_DIR / f"{name}.png",
            f"Newsroom, {database} + {cache_backend}, {SCALES[args.scale][0]:,} articles: "
            f"requests/s (median of {args.rounds} rounds)",
        )
    print_table(report)
    print(f"\nResults: {RESULTS_DIR / f'bench-{stamp}.json'} and .png ({report['seconds']}s)")
