"""gunicorn's access log, as `make serve` writes it: a line per request, and no email address
(a moderator's search in the admin is often one)."""

from tests.load.server import Reader, closed_port, gunicorn

SEARCHED = "ida.wells@example.com"


def test_the_access_log_keeps_the_path_but_not_the_search_nor_the_page_it_came_from(tmp_path):
    access_log = tmp_path / "access.log"
    with gunicorn(
        database_url=f"postgres://newsroom@127.0.0.1:{closed_port()}/newsroom",
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        log_dir=tmp_path,
        workers=1,
        arguments=["--access-logfile", str(access_log)],
    ) as server:
        Reader(server.port).get(
            f"/admin/comments/comment/?q={SEARCHED.replace('@', '%40')}&status=all",
            headers={"Referer": f"http://127.0.0.1/admin/comments/comment/?q={SEARCHED}"},
        )

    log = access_log.read_text()
    assert '"GET /admin/comments/comment/ HTTP/1.1"' in log
    assert "ida" not in log.lower()
