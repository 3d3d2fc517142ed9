"""Load and concurrency tests: real processes on PostgreSQL and Redis.

They need what production has: row locks and concurrent writers (PostgreSQL) and a cache
shared by every worker process (Redis). Without both they are skipped, saying why; CI runs
them in its PostgreSQL + Redis pass of `make test`.
"""

from pathlib import Path
from urllib.parse import quote

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


@pytest.fixture
def committed_db(django_db_serialized_rollback, transactional_db):
    """Real commits, seen by other connections and processes; afterwards the database is
    put back as the migrations left it (the Moderators group included) for later tests."""


@pytest.fixture
def database_url(committed_db):
    """The test database, for processes of our own: what the tests commit, they see."""
    db = connection.settings_dict
    user = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{user}@{host}/{db['NAME']}"
