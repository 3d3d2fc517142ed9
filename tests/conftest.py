import os

import hypothesis
import pytest

# Playwright runs an event loop in the test thread; the ORM calls around it are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Hypothesis: "ci" (the default) runs the 500 examples per property the hardening issue asks
# for; HYPOTHESIS_PROFILE=dev runs 50 while iterating. Examples share the test's database and
# client on purpose (data made once per test keeps 500 examples cheap), hence the health check.
hypothesis.settings.register_profile(
    "ci",
    max_examples=500,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ],
)
hypothesis.settings.register_profile("dev", hypothesis.settings.get_profile("ci"), max_examples=50)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session", autouse=True)
def _cache_per_xdist_worker(worker_id):
    """Parallel test processes share one Redis database: each gets its own key prefix, so
    that one process clearing its cache never wipes another's counters mid-test."""
    from django.conf import settings
    from django.test import override_settings

    caches = {
        alias: {**config, "KEY_PREFIX": f"{config.get('KEY_PREFIX', '')}-test-{worker_id}"}
        for alias, config in settings.CACHES.items()
    }
    with override_settings(CACHES=caches):
        yield


def clear_cache(cache):
    """Empty this test process's cache. On Redis, delete only this process's keys:
    RedisCache.clear() would flush the whole database, other processes' keys included."""
    from django.core.cache.backends.redis import RedisCache

    if not isinstance(cache, RedisCache):
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import caches

    clear_cache(caches["default"])
    yield
    clear_cache(caches["default"])
