"""The Redis the tests that need a real one use (tests/redis_space.py): the one the person or
CI running them names, and in it only keys of their own."""

import pytest

from tests.load.server import closed_port
from tests.redis_space import DEFAULT_TEST_REDIS_URL, RedisSpace, reach, redis_url_for_tests


def test_the_tests_redis_is_test_redis_url_else_the_runs_redis_url_else_a_local_one():
    """It was database 12 of the local Redis, whatever the run was told: someone else's,
    on some machines, and shared by every run on the host."""
    named = "redis://127.0.0.1:6379/8"
    runs = "redis://127.0.0.1:6379/9"

    assert redis_url_for_tests({"TEST_REDIS_URL": named, "REDIS_URL": runs}) == named
    assert redis_url_for_tests({"REDIS_URL": runs}) == runs
    assert redis_url_for_tests({}) == DEFAULT_TEST_REDIS_URL == "redis://127.0.0.1:6379/0"


def test_a_tests_keys_are_deleted_afterwards_and_no_others(redis_space):
    """Another test's space may start with the same characters (another worker's, another
    run's), and keys outside any space are someone else's."""
    neighbour = RedisSpace(redis_space.url, f"{redis_space.prefix}0")
    others = [f"{neighbour.prefix}:1:key", redis_space.prefix, f"{redis_space.prefix}-key"]
    with redis_space.client() as client:
        client.set(f"{redis_space.prefix}:1:key", "mine")
        for key in others:
            client.set(key, "theirs", ex=60)

        redis_space.forget()

        assert client.exists(f"{redis_space.prefix}:1:key") == 0
        assert client.exists(*others) == len(others)
        client.delete(*others)


def test_without_a_redis_the_test_fails_saying_where_it_looked_and_what_to_do():
    """Not a skip: these tests are what shows the site works with Redis."""
    port = closed_port()

    with pytest.raises(pytest.fail.Exception) as failure:
        reach(f"redis://:hunter2@127.0.0.1:{port}/8")

    message = str(failure.value)
    assert f"none answered at redis://:***@127.0.0.1:{port}/8" in message
    assert "name another with TEST_REDIS_URL" in message
    assert "hunter2" not in message
