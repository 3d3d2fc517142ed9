"""Load and concurrency tests: real processes on PostgreSQL and Redis.

They need what production has: row locks and concurrent writers (PostgreSQL) and a cache
shared by every worker process (Redis). Without both they are skipped, saying why; CI runs
them in its PostgreSQL + Redis pass of `make test`.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

HERE = Path(__file__).resolve().parent
NEEDS = (
    "needs PostgreSQL and Redis (DATABASE_URL=postgres://... REDIS_URL=redis://...); "
    "CI runs it in its PostgreSQL + Redis pass"
)


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql" and settings.REDIS_URL:
        return
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.skip(reason=NEEDS))
