"""What a client connecting to gunicorn itself may claim about the request: nothing.

Whether the site is behind a proxy that sets X-Forwarded-Proto is DJANGO_BEHIND_PROXY's to
say (settings.SECURE_PROXY_SSL_HEADER). gunicorn trusts those headers, and a SCRIPT_NAME
header, from any client on loopback by default (`forwarded_allow_ips`): a proxy on the same
host that passes them through unset, or any local client, made the site believe it spoke
HTTPS, and a page meant for every reader (robots.txt, kept an hour by caches in front)
carried the forger's addresses.
"""

import pytest

from tests.load.server import Reader, closed_port, gunicorn

FORGED = [
    {"X-Forwarded-Proto": "https"},
    {"X-Forwarded-Ssl": "on"},
    {"X-Forwarded-Protocol": "ssl"},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(
        database_url=f"postgres://newsroom@127.0.0.1:{closed_port()}/newsroom",
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        log_dir=tmp_path_factory.mktemp("gunicorn"),
        workers=1,
    ) as server:
        yield server


@pytest.mark.parametrize("forged", FORGED, ids=lambda headers: next(iter(headers)))
def test_a_client_without_a_proxy_cannot_claim_https(server, forged):
    robots = Reader(server.port).get("/robots.txt", headers=forged)

    assert robots.status == 200
    assert f"Sitemap: http://127.0.0.1:{server.port}/sitemap.xml" in robots.text


def test_a_client_cannot_move_the_site_under_another_path(server):
    robots = Reader(server.port).get("/evil/robots.txt", headers={"SCRIPT_NAME": "/evil"})

    # Not robots.txt: the path is /evil/robots.txt, a page this site does not have.
    assert "Sitemap:" not in robots.text


def test_behind_our_proxy_its_https_is_believed(tmp_path):
    with gunicorn(
        database_url=f"postgres://newsroom@127.0.0.1:{closed_port()}/newsroom",
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        log_dir=tmp_path,
        workers=1,
        DJANGO_BEHIND_PROXY="1",
    ) as server:
        robots = Reader(server.port).get("/robots.txt", headers={"X-Forwarded-Proto": "https"})

    assert f"Sitemap: https://127.0.0.1:{server.port}/sitemap.xml" in robots.text
