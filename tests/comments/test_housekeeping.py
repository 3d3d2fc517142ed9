"""Housekeeping: spam purge, the demo moderator, the Moderators group migration."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.utils import timezone

from articles import page_cache
from comments import cache as comments_cache
from comments.models import Comment
from tests.factories import make_comment

pytestmark = pytest.mark.django_db

Status = Comment.Status


def age(comment, days):
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(days=days))


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


class TestPurgeSpam:
    def test_deletes_only_spam_older_than_the_given_days(self, article):
        old_spam = make_comment(article, status=Status.SPAM)
        age(old_spam, 31)
        recent_spam = make_comment(article, status=Status.SPAM)
        age(recent_spam, 29)
        old_rejected = make_comment(article, status=Status.REJECTED)
        age(old_rejected, 400)

        output = run("purge_spam", "--older-than", "30")

        assert "Deleted 1 comment: spam older than 30 days." in output
        assert set(Comment.objects.values_list("pk", flat=True)) == {
            recent_spam.pk,
            old_rejected.pk,
        }

    def test_says_its_counts_in_words_that_agree_with_them(self, article):
        for _ in range(2):
            age(make_comment(article, status=Status.SPAM), 2)

        dry_run = run("purge_spam", "--older-than", "1", "--dry-run")
        output = run("purge_spam", "--older-than", "1")

        assert "2 spam comments older than 1 day would be deleted;" in dry_run
        assert "Deleted 2 comments: spam older than 1 day." in output

    @pytest.mark.usefixtures("shared_cache")
    def test_the_moderators_spam_count_drops_at_once(
        self, article, django_capture_on_commit_callbacks
    ):
        age(make_comment(article, status=Status.SPAM), 60)
        assert comments_cache.status_counts() == {Status.SPAM: 1}

        with django_capture_on_commit_callbacks(execute=True):  # the deletion's commit
            run("purge_spam", "--older-than", "30")

        assert comments_cache.status_counts() == {}

    def test_readers_cached_pages_stay(self, article, django_capture_on_commit_callbacks):
        """Readers never saw the spam: purging it must not make every cached page render
        afresh, once per comment deleted."""
        age(make_comment(article, status=Status.SPAM), 60)
        before = page_cache.content_version()

        with django_capture_on_commit_callbacks(execute=True):
            run("purge_spam", "--older-than", "30")

        assert not Comment.objects.exists()
        assert page_cache.content_version() == before

    def test_dry_run_deletes_nothing(self, article):
        age(make_comment(article, status=Status.SPAM), 60)

        output = run("purge_spam", "--older-than", "30", "--dry-run")

        assert "1 spam comment older than 30 days would be deleted" in output
        assert Comment.objects.count() == 1

    def test_keeps_every_spam_comment_above_a_reply_that_is_not_old_spam(self, article):
        spam = make_comment(article, status=Status.SPAM)
        spam_reply = make_comment(article, parent=spam, status=Status.SPAM)
        answer = make_comment(article, parent=spam_reply, status=Status.PENDING)
        for comment in (spam, spam_reply):
            age(comment, 60)

        output = run("purge_spam", "--older-than", "30")

        assert "Deleted 0 comments" in output and "Kept 2 that others replied to." in output
        assert set(Comment.objects.values_list("pk", flat=True)) == {
            spam.pk,
            spam_reply.pk,
            answer.pk,
        }

    def test_counts_the_days_from_the_spam_decision_not_from_the_writing(self, article):
        """The help promises spam "marked as spam more than N days ago": a comment written
        long ago and marked yesterday, perhaps by mistake, can still be rescued."""
        marked_yesterday = make_comment(article, status=Status.SPAM)
        age(marked_yesterday, 40)
        Comment.objects.filter(pk=marked_yesterday.pk).update(
            moderated_at=timezone.now() - timedelta(days=1)
        )
        marked_long_ago = make_comment(article, status=Status.SPAM)
        age(marked_long_ago, 40)
        Comment.objects.filter(pk=marked_long_ago.pk).update(
            moderated_at=timezone.now() - timedelta(days=31)
        )

        run("purge_spam", "--older-than", "30")

        assert list(Comment.objects.values_list("pk", flat=True)) == [marked_yesterday.pk]


class TestDemoAccounts:
    @pytest.fixture(autouse=True)
    def _development(self, settings):
        settings.DEBUG = True

    def test_creates_a_moderator_and_prints_its_login_beside_the_editors(self):
        output = run("demo_accounts")

        assert "editor / editor-demo-password" in output
        assert "moderator / moderator-demo-password" in output
        moderator = get_user_model().objects.get(username="moderator")
        assert moderator.is_staff and not moderator.is_superuser
        assert list(moderator.groups.values_list("name", flat=True)) == ["Moderators"]
        assert moderator.check_password("moderator-demo-password")

    def test_creates_an_editor_who_writes_and_moderates_but_does_not_administer(self):
        output = run("demo_accounts")

        editor = get_user_model().objects.get(username="editor")
        assert "editor / editor-demo-password" in output
        assert editor.is_staff and not editor.is_superuser
        assert list(editor.groups.values_list("name", flat=True)) == ["Editors"]
        assert editor.has_perm("articles.change_article")
        assert editor.has_perm("comments.moderate_comment")
        assert not editor.has_perm("auth.view_user")

    def test_creates_a_superuser_for_site_administration(self):
        output = run("demo_accounts")

        assert "admin / admin-demo-password" in output
        assert get_user_model().objects.get(username="admin").is_superuser

    def test_running_twice_changes_nothing(self):
        first = run("demo_accounts")
        accounts = list(
            get_user_model()
            .objects.order_by("username")
            .values_list("username", "is_staff", "is_superuser", "password", "groups__name")
        )

        assert run("demo_accounts") == first
        assert (
            list(
                get_user_model()
                .objects.order_by("username")
                .values_list("username", "is_staff", "is_superuser", "password", "groups__name")
            )
            == accounts
        )

    def test_the_demo_editor_an_earlier_release_made_a_superuser_is_one_no_longer(self):
        get_user_model().objects.create_user(
            "editor",
            email="editor@newsroom.localhost",
            password="editor-demo-password",
            is_staff=True,
            is_superuser=True,
        )

        run("demo_accounts")

        editor = get_user_model().objects.get(username="editor")
        assert not editor.is_superuser
        assert list(editor.groups.values_list("name", flat=True)) == ["Editors"]

    def test_a_demo_login_whose_staff_status_was_taken_away_does_not_get_it_back(self):
        """As the README says, running it again changes nothing: unticking "Staff status"
        keeps the demo moderator out of the admin."""
        run("demo_accounts")
        get_user_model().objects.filter(username="moderator").update(is_staff=False)

        run("demo_accounts")

        assert not get_user_model().objects.get(username="moderator").is_staff

    def test_an_account_of_a_demo_login_s_name_that_is_not_one_is_left_as_it_is(self):
        """A developer's own "admin" is not made a superuser, nor given the demo password."""
        own = get_user_model().objects.create_user(
            "admin", email="me@example.org", password="my-own-password", is_staff=True
        )

        output = run("demo_accounts")

        own.refresh_from_db()
        assert "admin (not a demo login: left as it is)" in output
        assert not own.is_superuser and not own.groups.exists()
        assert own.check_password("my-own-password")

    def test_a_demo_login_given_its_own_password_is_not_printed_with_the_demo_one(self):
        """`make run` printed "editor / editor-demo-password" after the password had been
        changed (as comments.E001 asks before `make serve`): a login that no longer works."""
        run("demo_accounts")
        editor = get_user_model().objects.get(username="editor")
        editor.set_password("a-password-of-its-own")
        editor.save()

        output = run("demo_accounts")

        assert "editor-demo-password" not in output
        assert "editor (its password has been changed)" in output
        assert "moderator / moderator-demo-password" in output

    def test_a_deactivated_demo_login_is_printed_as_such(self):
        run("demo_accounts")
        get_user_model().objects.filter(username="moderator").update(is_active=False)

        output = run("demo_accounts")

        assert "moderator-demo-password" not in output
        assert "moderator (deactivated)" in output

    def test_refuses_with_debug_off_so_no_public_site_gets_the_published_passwords(self, settings):
        settings.DEBUG = False

        with pytest.raises(CommandError, match="development only"):
            run("demo_accounts")

        assert not get_user_model().objects.exists()

    def test_debug_off_stops_start_up_while_a_demo_login_keeps_its_published_password(
        self, settings
    ):
        """`make run` on the production database (the README's PostgreSQL steps) left a
        superuser whose password the README prints, and `make serve` started beside it."""
        run("demo_accounts")
        settings.DEBUG = False

        with pytest.raises(SystemCheckError) as stopped:
            call_command("check", "--database", "default")

        for username in ("admin", "editor", "moderator"):
            assert f"The demo login {username!r} still has its published password" in str(
                stopped.value
            )
        assert "moderator" in str(stopped.value)
        assert "changepassword" in str(stopped.value)

    def test_the_check_reads_no_column_a_migration_may_be_about_to_add(self, settings):
        """`migrate` runs the check before it migrates: reading every column of the user
        table, it would stop the very migration that adds one (a Django upgrade's, say)."""
        run("demo_accounts")
        settings.DEBUG = False
        with connection.cursor() as cursor:  # the table as an older release left it
            cursor.execute(f"ALTER TABLE {get_user_model()._meta.db_table} DROP COLUMN first_name")

        with pytest.raises(SystemCheckError, match="changepassword"):
            call_command("check", "--database", "default")

    def test_a_demo_login_given_a_password_of_its_own_no_longer_stops_start_up(self, settings):
        run("demo_accounts")
        for user in get_user_model().objects.all():
            user.set_password("a-password-of-its-own")
            user.save()
        settings.DEBUG = False

        call_command("check", "--database", "default")


class TestModeratorsMigration:
    migration = importlib.import_module("comments.migrations.0002_moderators_group")

    def test_reverses_and_reapplies(self):
        editor = SimpleNamespace(connection=connection)  # the functions only need its alias
        self.migration.delete_moderators_group(apps, editor)
        assert not Group.objects.filter(name="Moderators").exists()

        self.migration.create_moderators_group(apps, editor)

        codenames = Group.objects.get(name="Moderators").permissions.values_list(
            "codename", flat=True
        )
        assert sorted(codenames) == ["change_comment", "moderate_comment", "view_comment"]
