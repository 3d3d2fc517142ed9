"""Moving an SQLite site to PostgreSQL by the README's commands ("Moving an SQLite site to
PostgreSQL"), run as written, in processes of their own, on a small site."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import global_settings, settings
from django.db import connection

from articles.models import Article
from comments.models import Comment
from comments.privacy import export_commenter_data
from tests.factories import comment_form_data, post_url
from tests.sign_in import sign_in

README = (settings.BASE_DIR / "README.md").read_text()
MANAGE = ".venv/bin/python manage.py"
DUMP = (
    "(umask 077 && .venv/bin/python manage.py dumpdata --natural-foreign --exclude contenttypes"
    " --exclude auth.permission --exclude sessions --exclude captcha --format jsonl"
    " --output newsroom-move.jsonl.gz)"
)
LOAD = [
    ".venv/bin/python manage.py migrate --no-input",
    ".venv/bin/python manage.py flush --no-input",
    ".venv/bin/python manage.py loaddata newsroom-move.jsonl.gz",
    'psql "$DATABASE_URL" -c ANALYZE',
]
DUMP_LINES = "gzip -dc newsroom-move.jsonl.gz | wc -l"
SWITCH = [
    ".venv/bin/python manage.py forget_cached_pages",
    ".venv/bin/python manage.py refill_captcha_pool",
]
DEMO_PASSWORDS = {
    "admin": "admin-demo-password",
    "editor": "editor-demo-password",
    "moderator": "moderator-demo-password",
}

# Beyond ASCII: SQLite wrote its deleted comment's key otherwise than PostgreSQL would.
DELETED_COMMENTER = "ada@élodie.fr"

# Run on the SQLite site: comments in every status, a thread whose replies have smaller ids
# than the comments they answer, a deleted comment, an Editors group made again (its id no
# longer the migration's), then what a reader sees of the first article.
SQLITE_SITE = f"""
import json, re
from django.contrib.auth.models import Group, User
from django.test import Client
from django.test.utils import setup_test_environment
from articles.models import Article
from comments import services
from articles.models import Article
from comments.models import Comment
from comments.privacy import export_commenter_data
from tests.factories import make_comment, make_thread_numbered_backwards

DELETED_COMMENTER = {DELETED_COMMENTER!r}
moderator = User.objects.get(username="moderator")
article = Article.objects.published().order_by("pk").first()
services.reject(make_comment(article, status="pending"), by=moderator)
services.mark_spam(make_comment(article, status="pending"), by=moderator)
make_comment(article, status="pending", name="Still Waiting")
make_thread_numbered_backwards(article)
deleted = make_comment(article, email=DELETED_COMMENTER).pk
Comment.objects.get(pk=deleted).delete()
editors = Group.objects.get(name="Editors")
remade = Group.objects.create(name="Editors again")
remade.permissions.set(editors.permissions.all())
remade.user_set.set(editors.user_set.all())
editors.delete()
remade.name = "Editors"
remade.save()

setup_test_environment()
page = Client().get(article.get_absolute_url()).content.decode()
print(json.dumps({{
    "article": article.pk,
    "url": article.get_absolute_url(),
    "title": article.title,
    "comments": re.findall(r'id="comment-(\\d+)"', page),
    "heading": re.search(r'id="comments-title"[^>]*>([^<]*)<', page)[1],
    "pending": list(Comment.objects.pending().values_list("pk", flat=True)),
    "deleted": deleted,
    "last_id": max(Comment.objects.values_list("pk", flat=True)),
}}))
"""


def test_readme_gives_these_commands():
    for command in [DUMP, *LOAD, DUMP_LINES, *SWITCH]:
        assert command in README


@pytest.fixture
def in_folder(tmp_path):
    """Run a README command as written, in a folder like the project's (its .venv and
    manage.py), with these environment variables."""
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "manage.py").symlink_to(settings.BASE_DIR / "manage.py")

    def run(command, **environment):
        done = subprocess.run(  # noqa: S602 - the README's own commands
            command,
            shell=True,
            cwd=tmp_path,
            env={**os.environ, **environment},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    return run


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the move is to PostgreSQL")
def test_a_site_moved_from_sqlite_reads_posts_and_signs_in_as_before(
    in_folder, tmp_path, database_url, redis_space, client, settings
):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # the demo logins' own
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    sqlite_site = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "REDIS_URL": ""}
    for command in ("migrate --no-input", "seed_demo --articles 2", "demo_accounts"):
        in_folder(f"{MANAGE} {command}", **sqlite_site)
    shown = in_folder(f"{MANAGE} shell -v 0 -c {shlex.quote(SQLITE_SITE)}", **sqlite_site)
    before = json.loads(shown)

    in_folder(DUMP, **sqlite_site)
    postgresql_site = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_space.url,
        "CACHE_KEY_PREFIX": redis_space.prefix,
    }
    loaded = "".join(in_folder(command, **postgresql_site) for command in LOAD)
    for command in SWITCH:
        in_folder(command, **postgresql_site)

    assert f"Installed {int(in_folder(DUMP_LINES))} object(s)" in loaded
    page = client.get(before["url"]).content.decode()
    assert re.findall(r'id="comment-(\d+)"', page) == before["comments"]
    assert re.search(r'id="comments-title"[^>]*>([^<]*)<', page)[1] == before["heading"]
    assert before["url"] in client.get("/search/", {"q": before["title"]}).content.decode()
    exported = export_commenter_data(DELETED_COMMENTER)
    assert exported["deleted_comments"] == [before["deleted"]]

    posted = client.post(
        post_url(Article.objects.get(pk=before["article"])),
        comment_form_data(page, name="After Move"),
    )
    assert posted.status_code == 303
    assert Comment.objects.get(name="After Move").pk > before["last_id"]

    for username, password in DEMO_PASSWORDS.items():
        client.logout()
        assert sign_in(client, username, password).status_code == 302, username
    queue = client.get("/admin/comments/comment/").content.decode()
    for pk in before["pending"]:
        assert f"/admin/comments/comment/{pk}/change/" in queue
    client.logout()
    sign_in(client, "editor", DEMO_PASSWORDS["editor"])
    assert client.get("/admin/articles/article/add/").status_code == 200
