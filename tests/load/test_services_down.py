"""Redis and the mail server both down, against the real server (gunicorn, DEBUG off):
pages still serve and comments are still taken."""

import time

from comments.captcha import refill_pool
from comments.models import Comment
from comments.views import AWAITING_MODERATION
from tests.factories import make_article, make_comment

from .server import Reader, closed_port, filled_form, gunicorn

TEST_SECONDS = 60


def test_with_redis_and_the_mail_server_down_the_site_serves_and_takes_comments(
    database_url, tmp_path
):
    refill_pool(5)
    article = make_article()
    make_comment(article, body="Approved before the outage.")

    with gunicorn(
        database_url=database_url,
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        log_dir=tmp_path,
        workers=2,
        COMMENTS_MIN_SUBMIT_SECONDS="0",
        COMMENTS_MODERATOR_EMAILS="desk@newsroom.test",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(closed_port()),
        EMAIL_USE_TLS="0",
    ) as server:
        reader = Reader(server.port, deadline=time.monotonic() + TEST_SECONDS)
        for path in ["/", f"/section/{article.section.slug}/", article.get_absolute_url()]:
            assert reader.get(path).status == 200, path
        page = reader.get(article.get_absolute_url()).text
        assert "Approved before the outage." in page

        typed = {"name": "Nellie Bly", "email": "nellie@example.com", "body": "Still here."}
        response = reader.post(f"/comments/post/{article.pk}/", filled_form(reader, page, **typed))

        assert response.status == 303
        thread = reader.get(response.headers["Location"].split("#")[0]).text
        assert "Still here." in thread
        assert AWAITING_MODERATION in thread

    assert Comment.objects.get(body="Still here.").status == Comment.Status.PENDING
    log = server.errors()
    assert "Redis is unreachable" in log
    assert "Could not email moderators" in log
    assert "Internal Server Error" not in log
