"""The production settings, plus the one switch the benchmark needs: a server without cache.

Everything else is configured through the same environment variables as production
(bench/run.py sets them), so the benchmark measures what `make serve` runs.
"""

import os

from newsroom.settings import *  # noqa: F403

if os.environ.get("BENCH_CACHE") == "off":
    # "Uncached" rows: every request renders and queries as if the cache had just been cleared.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
