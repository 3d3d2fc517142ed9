"""Privacy requests and retention from the command line: export, erase, forget IPs."""

import json
import sqlite3
from datetime import timedelta
from io import StringIO
from smtplib import SMTPRecipientsRefused

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from comments.models import Comment, DeletedComment, commenter_key_digest, isolated
from comments.notifications import notify_commenter_of_approval
from comments.privacy import ERASED_ADDRESS, ERASED_BODY, ERASED_REPR, erase_commenter_data
from comments.services import approve, mark_spam, moderate_many
from tests.comments.conftest import TASK_QUEUE
from tests.factories import make_article, make_comment, make_editor

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def age(comment, days):
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def ada_comments(article):
    return [
        make_comment(
            article,
            name="Ada",
            email="ada@example.com",
            url="https://ada.example/",
            body="First thoughts.",
            ip_address="192.0.2.10",
            user_agent="Firefox",
            notify_on_publish=True,
        ),
        make_comment(
            article,
            name="Ada L.",
            email="Ada@Example.com",
            body="Second thoughts.",
            status=Comment.Status.PENDING,
        ),
    ]


class TestExport:
    def test_prints_every_comment_and_stored_field_as_json(self, article, ada_comments):
        make_comment(article, email="someone-else@example.com")

        data = json.loads(run("commenter_data", "export", "ada@example.com"))

        assert data["email"] == "ada@example.com"
        assert [c["body"] for c in data["comments"]] == ["First thoughts.", "Second thoughts."]
        first = data["comments"][0]
        assert first["ip_address"] == "192.0.2.10"
        assert first["user_agent"] == "Firefox"
        assert first["website"] == "https://ada.example/"
        assert first["article"] == article.title
        assert first["email_when_published"] is True

    def test_an_unknown_address_exports_an_empty_list(self, db):
        data = json.loads(run("commenter_data", "export", "nobody@example.com"))

        assert data["comments"] == []

    def test_an_address_pasted_with_spaces_around_it_is_found(self, ada_comments):
        data = json.loads(run("commenter_data", "export", " ada@example.com\n"))

        assert len(data["comments"]) == 2

    def test_names_their_deleted_comments_whose_log_entries_still_name_them(
        self, article, ada_comments
    ):
        """The action log keeps its entries about a deleted comment, with the commenter's
        name: data about them the site still holds, which an erasure would take out."""
        mark_spam(ada_comments[1], by=make_editor())
        gone = ada_comments[1].pk
        ada_comments[1].delete()
        make_comment(article, email="bob@example.com").delete()

        data = json.loads(run("commenter_data", "export", "ADA@example.com"))

        assert [c["id"] for c in data["comments"]] == [ada_comments[0].pk]
        assert data["deleted_comments"] == [gone]

    def test_refuses_something_that_is_not_an_address(self, db):
        with pytest.raises(CommandError):
            run("commenter_data", "export", "not-an-address")


class TestErase:
    def test_anonymises_their_comments_and_removes_the_text_by_default(
        self, article, ada_comments, settings
    ):
        settings.COMMENTS_ERASE_KEEPS_TEXT = False
        other = make_comment(article, name="Bob", email="bob@example.com", ip_address="192.0.2.99")

        output = run("commenter_data", "erase", "ada@example.com")

        assert "Anonymised 2 comments" in output
        for comment in Comment.objects.filter(pk__in=[c.pk for c in ada_comments]):
            assert comment.name == "Anonymous"
            assert comment.email == ""
            assert comment.url == ""
            assert comment.ip_address is None
            assert comment.user_agent == ""
            assert comment.notify_on_publish is False
            assert comment.unsubscribe_key == ""  # nothing ties the anonymised ones together
            assert comment.body == ERASED_BODY
        other.refresh_from_db()
        assert (other.name, other.email, other.ip_address) == (
            "Bob",
            "bob@example.com",
            "192.0.2.99",
        )

    def test_says_one_comment_in_the_singular(self, article):
        """It said "Anonymised 1 comments", as purge_spam and clear_commenter_ips did."""
        make_comment(article, name="Ada", email="ada@example.com")

        output = run("commenter_data", "erase", "ada@example.com")

        assert output.strip() == "Anonymised 1 comment from ada@example.com."

    def test_keeps_the_text_when_the_setting_says_so(self, ada_comments, settings):
        settings.COMMENTS_ERASE_KEEPS_TEXT = True

        run("commenter_data", "erase", "ada@example.com")

        bodies = set(Comment.objects.values_list("body", flat=True))
        assert bodies == {"First thoughts.", "Second thoughts."}

    def test_replies_from_others_stay_in_place(self, article, ada_comments):
        reply = make_comment(article, parent=ada_comments[0], email="bob@example.com")

        run("commenter_data", "erase", "ada@example.com")

        assert Comment.objects.get(pk=reply.pk).parent_id == ada_comments[0].pk

    def test_afterwards_nothing_is_left_to_export(self, ada_comments):
        run("commenter_data", "erase", "ada@example.com")

        assert json.loads(run("commenter_data", "export", "ada@example.com"))["comments"] == []

    def test_the_admin_log_keeps_the_decisions_but_not_the_name(self, ada_comments):
        editor = make_editor()
        approve(ada_comments[1], by=editor)  # logged while the name was still there

        erase_commenter_data("ada@example.com", by=editor)

        entries = LogEntry.objects.filter(user=editor)
        assert entries.count() == 3
        assert all("Ada" not in entry.object_repr for entry in entries)

    def test_the_log_entries_of_their_deleted_comments_no_longer_name_them(
        self, article, ada_comments
    ):
        """A deleted comment's entries stay, naming its commenter, and its address went with
        it: the erasure found them no more."""
        editor = make_editor()
        approve(ada_comments[1], by=editor)
        bob = make_comment(article, name="Bob", email="bob@example.com")
        mark_spam(bob, by=editor)
        Comment.objects.filter(pk__in=[ada_comments[1].pk, bob.pk]).delete()

        erase_commenter_data("ada@example.com", by=editor)

        assert LogEntry.objects.get(object_id=str(ada_comments[1].pk)).object_repr == ERASED_REPR
        assert (
            LogEntry.objects.get(object_id=str(bob.pk)).object_repr
            == f"Comment by {isolated('Bob')}"
        )

    def test_an_address_whose_comments_all_went_with_their_article_is_erased_from_the_log(
        self, article, ada_comments
    ):
        moderate_many(ada_comments, Comment.Status.SPAM, by=make_editor())
        article.delete()

        output = run("commenter_data", "erase", "ADA@example.com")

        assert "No comment from ADA@example.com is stored." in output
        assert "Anonymised" not in output
        assert not LogEntry.objects.filter(object_repr__contains="Ada").exists()
        assert not DeletedComment.objects.exists()  # nothing left of the address either

    def test_a_failed_email_to_them_no_longer_names_their_address(
        self, article, ada_comments, settings
    ):
        """The database queue keeps a failed task's traceback, which ends with the mail
        server's refusal, naming the address as the commenter typed it."""
        settings.TASKS = TASK_QUEUE
        nada = make_comment(article, email="nada@example.com")
        failed = {}
        for comment, address in [(ada_comments[1], "Ada@Example.com"), (nada, nada.email)]:
            queued = notify_commenter_of_approval.enqueue(comment.pk)
            refused = SMTPRecipientsRefused({address: (550, b"No such user")})
            DBTaskResult.objects.get(pk=queued.id).set_failed(refused)
            failed[address] = queued.id

        erase_commenter_data("ada@example.com")

        theirs = DBTaskResult.objects.get(pk=failed["Ada@Example.com"]).traceback
        assert "ada@example.com" not in theirs.lower()
        assert f"SMTPRecipientsRefused: {{'{ERASED_ADDRESS}': (550" in theirs
        others = DBTaskResult.objects.get(pk=failed["nada@example.com"]).traceback
        assert "{'nada@example.com': (550" in others

    def test_a_deleted_comments_id_taken_again_by_another_commenter_keeps_both_findable(
        self, article
    ):
        """A backup restored over a reset sequence, say: the id's entries in the log name
        both commenters, and the second deletion left the first's no longer found."""
        editor = make_editor()
        ada = make_comment(article, name="Ada", email="ada@example.com")
        comment_id = ada.pk
        mark_spam(ada, by=editor)
        ada.delete()
        bob = make_comment(article, id=comment_id, name="Bob", email="bob@example.com")
        mark_spam(bob, by=editor)
        bob.delete()

        erase_commenter_data("ada@example.com")

        assert not LogEntry.objects.filter(object_repr__contains="Ada").exists()

    def test_a_comment_restored_with_its_id_can_be_deleted_again(self, article):
        """From a backup, say: its second deletion does not fail for the note of its first."""
        gone = make_comment(article, email="ada@example.com")
        comment_id = gone.pk
        gone.delete()

        make_comment(article, id=comment_id, email="ada@example.com").delete()

        assert not Comment.objects.filter(pk=comment_id).exists()

    def test_erases_more_comments_than_sqlite_takes_parameters_in_a_statement(
        self, article, old_sqlite_parameter_limit
    ):
        """A bot's one address on tens of thousands of comments: they and their log entries
        were updated through a parameter for each, past SQLite's limit (32,766 as built) a
        failure, and the editor's admin action a 500."""
        bot = Comment.objects.bulk_create(
            Comment(article=article, name="Bot", email="bot@example.com", body=f"Buy {number}")
            for number in range(1_000)
        )
        editor = make_editor()
        moderate_many(bot, Comment.Status.SPAM, by=editor)  # logged under the bot's name

        assert erase_commenter_data("bot@example.com", by=editor) == 1_000

        assert not Comment.objects.filter(name="Bot").exists()
        assert not LogEntry.objects.filter(object_repr__contains="Bot").exists()
        assert LogEntry.objects.filter(user=editor).count() == 2_000

    def test_erases_the_entries_of_more_deleted_comments_than_sqlite_takes_parameters(
        self, article, old_sqlite_parameter_limit
    ):
        """purge_spam's way: a bot's thousands of comments marked as spam, then deleted."""
        bot = Comment.objects.bulk_create(
            Comment(article=article, name="Bot", email="bot@example.com", body=f"Buy {number}")
            for number in range(1_000)
        )
        editor = make_editor()
        moderate_many(bot, Comment.Status.SPAM, by=editor)
        Comment.objects.filter(status=Comment.Status.SPAM).delete()

        assert erase_commenter_data("bot@example.com", by=editor) == 0

        assert not LogEntry.objects.filter(object_repr__contains="Bot").exists()
        assert LogEntry.objects.filter(user=editor).count() == 1_000


def delete_on_its_own(comment):
    comment.delete()


def delete_as_a_selection(comment):
    Comment.objects.filter(pk=comment.pk).delete()


def delete_with_its_article(comment):
    comment.article.delete()


def delete_with_the_comment_it_answers(comment):
    comment.parent.delete()


def delete_by_purge_spam(comment):
    Comment.objects.filter(pk=comment.pk).update(moderated_at=timezone.now() - timedelta(days=60))
    run("purge_spam", "--older-than", "30")


DELETIONS = [
    delete_on_its_own,
    delete_as_a_selection,
    delete_with_its_article,
    delete_with_the_comment_it_answers,
    delete_by_purge_spam,
]


def deleted_comment(email, *, name, by, deletion=delete_as_a_selection):
    """The id of a comment from `email`, marked as spam by `by` (a log entry naming `name`),
    then deleted by `deletion`, on an article of its own."""
    article = make_article()
    answered = make_comment(article, name="Bob", email="bob@example.com")
    comment = make_comment(article, parent=answered, name=name, email=email)
    mark_spam(comment, by=by)
    comment_id = comment.pk  # delete() clears it
    deletion(comment)
    assert not Comment.objects.filter(pk=comment_id).exists()
    return comment_id


def named_in_the_log(comment_id):
    return LogEntry.objects.get(object_id=str(comment_id)).object_repr != ERASED_REPR


def exported_deleted_comments(email):
    return json.loads(run("commenter_data", "export", email))["deleted_comments"]


class TestDeletedCommentsAreTheirCommentersAsTheDatabaseTellsThemApart:
    """Live comments are told apart by the database's UPPER(); deleted ones were by Python's
    casefold, which writes "ß" as "ss" (two commenters joined) and keeps a dotless "i" from
    "i", which PostgreSQL writes alike in capitals (one commenter split)."""

    @pytest.mark.parametrize("deletion", DELETIONS)
    def test_erasing_ss_leaves_sharp_s_s_deleted_comments_and_the_other_way(self, deletion):
        """Erasing ada@strasse.de scrubbed the log entries of ada@straße.de's deleted
        comments, and deleted what tied them to her."""
        editor = make_editor()
        ss = deleted_comment("ada@strasse.de", name="Ada SS", by=editor, deletion=deletion)
        sharp_s = deleted_comment("ada@straße.de", name="Ada Eszett", by=editor, deletion=deletion)

        erase_commenter_data("ada@strasse.de")

        assert (named_in_the_log(ss), named_in_the_log(sharp_s)) == (False, True)
        assert exported_deleted_comments("ada@straße.de") == [sharp_s]

        erase_commenter_data("ada@straße.de")

        assert not named_in_the_log(sharp_s)
        assert exported_deleted_comments("ada@strasse.de") == []
        assert exported_deleted_comments("ada@straße.de") == []

    def test_ss_and_sharp_s_each_export_their_own_deleted_comments(self):
        editor = make_editor()
        ss = deleted_comment("ada@strasse.de", name="Ada SS", by=editor)
        sharp_s = deleted_comment("ada@straße.de", name="Ada Eszett", by=editor)

        assert exported_deleted_comments("ada@strasse.de") == [ss]
        assert exported_deleted_comments("ada@straße.de") == [sharp_s]

    @pytest.mark.parametrize(
        ("asked", "written", "one_commenter_on"),
        [
            ("ADA@example.com", "ada@example.com", {"postgresql", "sqlite"}),
            # PostgreSQL writes the dotless "i" as "I"; Python's casefold keeps it.
            ("adi@example.com", "ad\u0131@example.com", {"postgresql"}),
            # SQLite capitalises only ASCII; Python's casefold folds every letter.
            ("\u00c4DA@example.com", "\u00e4da@example.com", {"postgresql"}),
            ("ada@strasse.de", "ada@stra\u00dfe.de", set()),
        ],
    )
    def test_an_erasure_finds_deleted_comments_exactly_where_it_finds_live_ones(
        self, article, asked, written, one_commenter_on
    ):
        editor = make_editor()
        live = make_comment(article, name="Ada", email=written)
        gone = deleted_comment(written, name="Ada", by=editor)
        one_commenter = connection.vendor in one_commenter_on
        assert exported_deleted_comments(asked) == ([gone] if one_commenter else [])

        erased = erase_commenter_data(asked)

        assert erased == (1 if one_commenter else 0)
        assert Comment.objects.get(pk=live.pk).email == ("" if one_commenter else written)
        assert named_in_the_log(gone) is not one_commenter

    @pytest.mark.parametrize(
        ("written", "asked"),
        [
            ("ada@\u00e9lodie.fr", "ada@\u00e9lodie.fr"),
            ("ada@\u00e9lodie.fr", "ADA@\u00e9LODIE.FR"),
            ("ad\u0131@example.com", "AD\u0131@example.com"),
            ("\u00c4da@example.com", "\u00c4DA@example.com"),
        ],
    )
    def test_comments_deleted_on_sqlite_are_found_after_the_move_to_postgresql(
        self, written, asked
    ):
        """A site moved from SQLite to PostgreSQL (dumpdata, loaddata) brings its rows as
        SQLite wrote them: the key in SQLite's capitals, which are ASCII's alone, where
        PostgreSQL capitalises every letter. Found by the key alone, a deleted comment of an
        address beyond ASCII was no longer its commenter's, to export or to erase."""
        editor = make_editor()
        gone = deleted_comment(written, name="Ada", by=editor)
        with sqlite3.connect(":memory:") as sqlite:
            [key] = sqlite.execute("SELECT UPPER(?)", [written]).fetchone()
        DeletedComment.objects.update(commenter_key=commenter_key_digest(key))

        assert exported_deleted_comments(asked) == [gone]

        erase_commenter_data(asked)

        assert not named_in_the_log(gone)
        assert not DeletedComment.objects.exists()

    def test_comments_deleted_before_their_key_was_kept_are_found_by_the_old_digest(self):
        """Rows written before migration 0015 hold only the old digest (blank key)."""
        editor = make_editor()
        before = deleted_comment("Ada@Example.com", name="Ada", by=editor)
        DeletedComment.objects.filter(comment_id=before).update(commenter_key="")
        since = deleted_comment("ada@example.com", name="Ada", by=editor)

        assert exported_deleted_comments("ada@EXAMPLE.com") == [before, since]

        erase_commenter_data("ada@EXAMPLE.com")

        assert (named_in_the_log(before), named_in_the_log(since)) == (False, False)
        assert not DeletedComment.objects.exists()

    def test_a_comment_deleted_before_its_key_was_kept_and_again_since_is_exported_once(
        self, article
    ):
        """Restored from a backup with its id after its deletion was noted without the key,
        then deleted again: its two notes listed it twice in the file."""
        comment = make_comment(article, email="ada@example.com")
        Comment.objects.filter(pk=comment.pk).delete()  # a queryset's delete() keeps comment.pk
        DeletedComment.objects.update(commenter_key="")
        comment.save(force_insert=True)
        Comment.objects.filter(pk=comment.pk).delete()
        assert DeletedComment.objects.count() == 2

        assert exported_deleted_comments("Ada@example.com") == [comment.pk]

    def test_deleting_comments_from_more_addresses_than_sqlite_takes_parameters(
        self, article, old_sqlite_parameter_limit
    ):
        """A spam wave's thousand addresses, purged: their keys are asked of the database in
        lots, each within SQLite's limit."""
        Comment.objects.bulk_create(
            Comment(article=article, name="Bot", email=f"bot{n}@example.com", body="Buy")
            for n in range(1_000)
        )

        Comment.objects.all().delete()

        assert exported_deleted_comments("BOT999@example.com") != []
        assert DeletedComment.objects.exclude(commenter_key="").count() == 1_000

    def test_erasing_many_deleted_comments_takes_as_many_queries_as_erasing_one(
        self, article, django_assert_max_num_queries
    ):
        editor = make_editor()
        make_comment(article, name="Ada", email="ada@example.com")
        DeletedComment.objects.filter(
            comment_id=deleted_comment("ada@example.com", name="Ada", by=editor)
        ).update(commenter_key="")
        with django_assert_max_num_queries(20) as erasing_one:
            erase_commenter_data("ada@example.com", by=editor)
        make_comment(article, name="Cy", email="cy@example.com")
        before = [deleted_comment("cy@example.com", name="Cy", by=editor) for _ in range(5)]
        DeletedComment.objects.filter(comment_id__in=before).update(commenter_key="")
        since = [deleted_comment("cy@example.com", name="Cy", by=editor) for _ in range(5)]

        with django_assert_max_num_queries(len(erasing_one.captured_queries)):
            erase_commenter_data("cy@example.com", by=editor)

        assert not any(named_in_the_log(comment_id) for comment_id in before + since)


class TestClearCommenterIps:
    def test_clears_ip_and_user_agent_after_the_retention_period(self, article, settings):
        settings.COMMENTS_IP_RETENTION_DAYS = 30
        old = make_comment(article, ip_address="192.0.2.1", user_agent="Old browser")
        age(old, 31)
        recent = make_comment(article, ip_address="192.0.2.2", user_agent="New browser")
        age(recent, 29)

        output = run("clear_commenter_ips")

        assert "Cleared the IP address and user agent of 1 comment." in output
        old.refresh_from_db()
        recent.refresh_from_db()
        assert (old.ip_address, old.user_agent) == (None, "")
        assert (recent.ip_address, recent.user_agent) == ("192.0.2.2", "New browser")

    def test_days_can_be_given_for_one_run(self, article):
        comment = make_comment(article, ip_address="192.0.2.1")
        age(comment, 3)

        run("clear_commenter_ips", "--days", "2")

        assert Comment.objects.get(pk=comment.pk).ip_address is None
