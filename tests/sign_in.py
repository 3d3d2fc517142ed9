"""Signing in to the admin as the throttle's tests do (tests/test_login_throttle.py, and its
burst on PostgreSQL and Redis, tests/load/test_sign_in_burst.py). Their fixtures are in
tests/conftest.py."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import Client

LOGIN_URL = "/admin/login/"
DATABASE_HANDLER = "newsroom.login_throttle.AxesDatabaseHandlerWithUsernameLimit"
PASSWORD = "correct horse battery staple"


def sign_in(client, username, password, ip="203.0.113.7"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def assert_locked_out(response):
    assert response.status_code == 429
    page = response.content.decode()
    assert "<title>Sign-in paused | The Newsroom admin</title>" in page
    assert "Django administration" not in page
    assert "Too many failed sign-in attempts" in page


class CountedHasher(PBKDF2PasswordHasher):
    """PBKDF2 as in production, a tenth as slow, noting each password it checks."""

    iterations = 150_000
    checked = []

    def verify(self, password, encoded):
        self.checked.append(password)
        return super().verify(password, encoded)


def guess_at_once(addresses, username="editor"):
    """A wrong password from each address, each in a thread (and on a database connection)
    of its own, sent at the same instant: as a server with several workers or threads takes
    them."""
    lined_up = threading.Barrier(len(addresses), timeout=30)

    def guess(address):
        try:
            lined_up.wait()
            return sign_in(Client(), username, "wrong guess", ip=address)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(addresses)) as pool:
        return list(pool.map(guess, addresses))


def assert_a_form_or_the_lockout_page(responses):
    assert sorted({response.status_code for response in responses}) in ([200], [200, 429], [429])
