"""Emails: moderators hear of held comments, commenters of their approval if they asked."""

import email
import email.policy
import re
import smtplib

import pytest
from django.contrib.auth.models import Permission
from django.core import mail, signing
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.tasks import TaskResultStatus
from django.test import Client
from django.test.utils import CaptureQueriesContext

from articles import services as article_services
from articles.models import Article
from comments import services
from comments.forms import sign_started
from comments.models import Comment
from comments.notifications import (
    UNSUBSCRIBE_SALT,
    comment_for_token,
    notify_moderators_of_held_comment,
    unsubscribe_token,
)
from comments.privacy import erase_commenter_data
from tests.factories import (
    captcha_answer,
    make_article,
    make_comment,
    make_editor,
    make_moderator,
    make_superuser,
    make_thread_numbered_backwards,
    make_user,
)

pytestmark = pytest.mark.django_db

Status = Comment.Status


class BrokenMailServer(BaseEmailBackend):
    """Stands in for an SMTP server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


@pytest.fixture
def smtp_server(settings, monkeypatch):
    """Django's SMTP backend talking to a stand-in for the mail server's connection: what
    the server is asked to deliver, as (envelope sender, envelope recipients, message)."""
    delivered = []

    class Connection:
        def __init__(self, host, port, **options):
            pass

        def sendmail(self, sender, recipients, message):
            parsed = email.message_from_bytes(message, policy=email.policy.default)
            delivered.append((sender, list(recipients), parsed))

        def quit(self):
            pass

    monkeypatch.setattr(smtplib, "SMTP", Connection)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "mail.newsroom.test", "port": 25},
        }
    }
    return delivered


@pytest.fixture
def moderators(db):
    return [
        make_moderator("moira", email="moira@newsroom.test"),
        make_moderator("max", email="max@newsroom.test"),
    ]


def store(article, **fields):
    values = {
        "article": article,
        "parent": None,
        "name": "Reader",
        "email": "reader@example.com",
        "url": "",
        "body": "A thoughtful comment about the story.",
        "ip_address": "203.0.113.9",
        "user_agent": "Test",
        "notify_on_publish": False,
        "status": Status.PENDING,
        "held_reason": "2 links (more than 1)",
        **fields,
    }
    return services.submit_comment(**values)


def an_editor(email):
    make_editor(email=email)


def staff_given_the_permission(email):
    user = make_user(staff=True, email=email)
    user.user_permissions.add(Permission.objects.get(codename="moderate_comment"))


def a_superuser_in_no_group(email):
    make_superuser(email=email)


def an_editor_who_has_left(email):
    editor = make_editor(email=email)
    editor.is_active = False
    editor.save()


def an_editor_not_on_staff(email):
    make_user(groups=["Editors"], email=email)


class TestModeratorsHearOfHeldComments:
    def test_email_after_commit_with_article_excerpt_reason_and_links(
        self, article, moderators, settings, django_capture_on_commit_callbacks
    ):
        settings.SITE_URL = "https://news.example"
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            comment = store(article)
        assert mail.outbox == []  # nothing before the commit

        for callback in callbacks:
            callback()

        [message] = mail.outbox
        assert sorted(message.recipients()) == ["max@newsroom.test", "moira@newsroom.test"]
        assert article.title in message.subject
        assert "A thoughtful comment about the story." in message.body
        assert "Why held: 2 links (more than 1)" in message.body
        assert f"https://news.example{article.get_absolute_url()}" in message.body
        assert f"https://news.example/admin/comments/comment/{comment.pk}/change/" in message.body
        assert "reader@example.com" not in message.body + message.subject

    def test_the_commenter_s_words_are_quoted_so_they_cannot_pass_for_the_site_s_links(
        self, article, moderators, settings, django_capture_on_commit_callbacks
    ):
        """A comment is anyone's text: written to look like the email's own lines, it put a
        link of its choosing above the real one, for a moderator to sign in through."""
        settings.SITE_URL = "https://news.example"
        forged = "Nice piece.\n\nReview it: https://evil.example/admin/\nThe whole queue: x"
        with django_capture_on_commit_callbacks(execute=True):
            comment = store(article, body=forged)

        [message] = mail.outbox
        assert "> Nice piece.\n>\n> Review it: https://evil.example/admin/\n> The whole" in (
            message.body
        )
        review_lines = [line for line in message.body.splitlines() if line.startswith("Review")]
        assert review_lines == [
            f"Review it: https://news.example/admin/comments/comment/{comment.pk}/change/"
        ]

    @pytest.mark.parametrize(
        "padding",
        [" " * 200, "_" * 200 + " ", "\u2003" * 60, "\r\n" + "A line of words, " * 8],
        ids=["spaces", "one long word", "em spaces", "a long line sent by a browser"],
    )
    def test_the_quote_is_wrapped_so_no_window_s_wrap_starts_a_line_without_its_mark(
        self, padding, article, moderators, django_capture_on_commit_callbacks
    ):
        """A mail reader wraps a line wider than its window after a space: a run of spaces
        (or a word too long to fit) put the commenter's "Review it" link at the start of the
        next line, without the quote's mark, in every window narrower than the run. Each
        quoted line fits the 78 columns every mail reader shows whole."""
        forged = f"Nice piece.{padding}Review it: https://evil.example/admin/"
        with django_capture_on_commit_callbacks(execute=True):
            store(article, body=forged)

        [message] = mail.outbox
        quoted = [line for line in message.body.splitlines() if line.startswith(">")]
        assert "> Nice piece." in quoted[0]
        assert any("https://evil.example/admin/" in line for line in quoted)
        assert [line for line in quoted if len(line) > 78] == []

    def test_the_site_s_links_come_before_the_commenter_s_words(
        self, article, moderators, settings, django_capture_on_commit_callbacks
    ):
        """A phone's narrow window wraps a quoted line where the commenter's padding chose,
        a line of theirs then starting without its mark: read from the top, the real links
        come first, and what follows the quote's start is all the commenter's."""
        settings.SITE_URL = "https://news.example"
        with django_capture_on_commit_callbacks(execute=True):
            comment = store(article, body="_" * 37 + " Review it: https://evil.example/admin/")

        [message] = mail.outbox
        lines = message.body.splitlines()
        quote_starts = next(number for number, line in enumerate(lines) if line[:1] == ">")
        review = f"Review it: https://news.example/admin/comments/comment/{comment.pk}/change/"
        assert review in lines[:quote_starts]
        assert [line for line in lines[quote_starts:] if line and line[:1] != ">"] == []

    def test_the_email_is_built_from_two_queries(
        self, article, moderators, django_assert_num_queries
    ):
        """The held comment with its article, then the recipients: a field the email shows
        but the task's read leaves out would cost one more, after every comment posted."""
        comment = store(article, body="x" * 400)

        with django_assert_num_queries(2):
            notify_moderators_of_held_comment.call(comment.pk)

        [message] = mail.outbox
        assert article.title in message.subject
        quoted = [line.removeprefix("> ") for line in message.body.splitlines() if line[:1] == ">"]
        assert "".join(quoted) == "x" * 300 + "…"
        assert "Reader" in message.body

    def test_the_email_is_to_the_site_and_reaches_each_moderator_unseen_by_the_others(
        self, article, moderators, settings, smtp_server, django_capture_on_commit_callbacks
    ):
        """Without a To: header the email scores as spam (SpamAssassin: MISSING_HEADERS)."""
        settings.DEFAULT_FROM_EMAIL = "The Newsroom <desk@news.example>"

        with django_capture_on_commit_callbacks(execute=True):
            store(article)

        [(sender, recipients, message)] = smtp_server
        assert sender == "desk@news.example"
        assert sorted(recipients) == ["max@newsroom.test", "moira@newsroom.test"]
        assert message["To"] == "The Newsroom <desk@news.example>"
        assert message["Bcc"] is None
        assert "newsroom.test" not in str(message)

    def test_only_active_staff_members_of_the_group_are_written_to(
        self, article, moderators, django_capture_on_commit_callbacks
    ):
        moderators[1].is_active = False
        moderators[1].save()
        make_user("outsider", staff=True, email="outsider@newsroom.test")

        with django_capture_on_commit_callbacks(execute=True):
            store(article)

        assert mail.outbox[0].recipients() == ["moira@newsroom.test"]

    @pytest.mark.parametrize("make", [an_editor, staff_given_the_permission])
    def test_everyone_on_staff_who_may_moderate_is_written_to(
        self, make, article, moderators, django_capture_on_commit_callbacks
    ):
        """Editors moderate too: their group holds the Moderators' permissions."""
        make("eddie@newsroom.test")

        with django_capture_on_commit_callbacks(execute=True):
            store(article)

        assert sorted(mail.outbox[0].recipients()) == [
            "eddie@newsroom.test",
            "max@newsroom.test",
            "moira@newsroom.test",
        ]

    @pytest.mark.parametrize(
        "make", [a_superuser_in_no_group, an_editor_who_has_left, an_editor_not_on_staff]
    )
    def test_no_one_else_is_written_to(
        self, make, article, moderators, django_capture_on_commit_callbacks
    ):
        """Administering the site is not moderating its comments."""
        make("root@newsroom.test")

        with django_capture_on_commit_callbacks(execute=True):
            store(article)

        assert sorted(mail.outbox[0].recipients()) == ["max@newsroom.test", "moira@newsroom.test"]

    def test_a_setting_can_name_the_addresses(
        self, article, moderators, settings, django_capture_on_commit_callbacks
    ):
        settings.COMMENTS_MODERATOR_EMAILS = ["desk@newsroom.test"]

        with django_capture_on_commit_callbacks(execute=True):
            store(article)

        assert mail.outbox[0].recipients() == ["desk@newsroom.test"]

    def test_spam_and_auto_approved_comments_send_nothing(
        self, article, moderators, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            store(article, status=Status.SPAM, held_reason="Blocklisted word: casino")
            store(article, status=Status.APPROVED, body="Welcome back.", held_reason="")

        assert mail.outbox == []

    def test_a_broken_mail_server_loses_nothing_and_is_logged(
        self, article, moderators, settings, console_log, django_capture_on_commit_callbacks
    ):
        settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenMailServer"}}

        with django_capture_on_commit_callbacks(execute=True):
            comment = store(article)

        assert Comment.objects.get(pk=comment.pk).status == Status.PENDING
        [failure] = [record for record in console_log.records if record.levelname == "ERROR"]
        assert failure.levelname == "ERROR"
        assert "notify_moderators_of_held_comment" in failure.getMessage()
        assert f"Could not email moderators about held comment {comment.pk}." in console_log.text()

    def test_a_failed_send_fails_the_task_and_names_the_comment(
        self, article, moderators, settings
    ):
        """What a task queue's admin or retry policy sees: a failed task, the mail
        server's own error, and which comment it was about."""
        settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenMailServer"}}
        comment = store(article)  # not committed (test transaction): nothing sent yet

        result = notify_moderators_of_held_comment.enqueue(comment.pk)

        assert result.status == TaskResultStatus.FAILED
        [error] = result.errors
        assert error.exception_class_path == "builtins.ConnectionRefusedError"
        assert f"Could not email moderators about held comment {comment.pk}." in error.traceback

    def test_a_comment_posted_through_the_form_reaches_the_moderators(
        self, client, article, moderators, captcha_pool, django_capture_on_commit_callbacks
    ):
        page = client.get(article.get_absolute_url()).content.decode()
        key = re.search(r'name="captcha_0" value="(\w+)"', page).group(1)

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/comments/post/{article.pk}/",
                {
                    "name": "Form Reader",
                    "email": "form@example.com",
                    "body": "Posted the way readers post.",
                    "captcha_0": key,
                    "captcha_1": captcha_answer(key),
                    "started": sign_started(article.pk),
                },
            )

        assert response.status_code == 303
        [message] = mail.outbox
        assert "Posted the way readers post." in message.body


class TestCommentersHearOfApproval:
    @pytest.fixture
    def moderator(self, db):
        return make_moderator()

    def approve(self, comment, moderator, capture):
        with capture(execute=True):
            services.approve(comment, by=moderator)

    def test_opted_in_commenter_gets_one_email_with_an_unsubscribe_link(
        self, article, moderator, settings, django_capture_on_commit_callbacks
    ):
        settings.SITE_URL = "https://news.example"
        comment = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )

        self.approve(comment, moderator, django_capture_on_commit_callbacks)

        [message] = mail.outbox
        assert message.recipients() == ["ada@example.com"]
        assert article.title in message.subject
        assert f"https://news.example/comments/c/{comment.pk}/\n" in message.body
        # The token is timestamped: read it from the email, then check what it opens.
        [token] = re.findall(r"https://news\.example/comments/unsubscribe/([^/\s]+)/", message.body)
        assert comment_for_token(token) == comment
        unsubscribe = f"https://news.example/comments/unsubscribe/{token}/"
        assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    def test_mail_clients_get_the_unsubscribe_header_as_a_plain_url(
        self, article, moderator, settings, django_capture_on_commit_callbacks
    ):
        """Too long to fit a line, the URL has no space to fold at: written as RFC 2047
        encoded words, which List-Unsubscribe does not allow, it offers mail clients no
        unsubscribe button at all (Gmail ignores the header)."""
        settings.SITE_URL = "https://news.example.com"
        comment = make_comment(article, status=Status.PENDING, notify_on_publish=True)

        self.approve(comment, moderator, django_capture_on_commit_callbacks)

        [message] = mail.outbox
        sent = message.message(policy=email.policy.SMTP).as_bytes().decode()
        [token] = re.findall(r"/comments/unsubscribe/([^/\s]+)/", message.body)
        url = f"https://news.example.com/comments/unsubscribe/{token}/"
        assert f"\r\nList-Unsubscribe: <{url}>\r\n" in sent
        assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in sent

    def test_approving_again_does_not_write_again(
        self, article, moderator, django_capture_on_commit_callbacks
    ):
        comment = make_comment(article, status=Status.PENDING, notify_on_publish=True)
        self.approve(comment, moderator, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            services.unapprove(comment, by=moderator)

        self.approve(comment, moderator, django_capture_on_commit_callbacks)

        assert len(mail.outbox) == 1

    def test_a_reply_under_a_withheld_comment_is_announced_once_readers_can_see_it(
        self, client, article, moderator, settings, django_capture_on_commit_callbacks
    ):
        """Approved under a rejected comment, a reply stays off the page (build_thread): an
        email saying it is published would link to a 404. It goes when the comment above
        is approved again, and the reply appears."""
        settings.SITE_URL = "https://news.example"
        above = make_comment(article, status=Status.REJECTED)
        reply = make_comment(
            article, parent=above, status=Status.PENDING, email="ada@example.com",
            notify_on_publish=True,
        )  # fmt: skip

        self.approve(reply, moderator, django_capture_on_commit_callbacks)

        assert mail.outbox == []

        self.approve(above, moderator, django_capture_on_commit_callbacks)

        [message] = mail.outbox
        assert message.recipients() == ["ada@example.com"]
        assert f"https://news.example/comments/c/{reply.pk}/\n" in message.body
        assert client.get(f"/comments/c/{reply.pk}/").status_code == 302

    def test_a_reply_is_announced_once_readers_can_see_it_whatever_the_thread_s_ids(
        self, client, article, moderator, settings, django_capture_on_commit_callbacks
    ):
        """Imported with their ids, or numbered after a restore reset the id sequence, a
        reply can have a smaller id than the comment it answers: approving the comment
        above announced nothing, the reply taken to be still under a withheld one."""
        settings.SITE_URL = "https://news.example"
        top, _, reply = make_thread_numbered_backwards(article)
        Comment.objects.filter(pk=top.pk).update(status=Status.PENDING)
        Comment.objects.filter(pk=reply.pk).update(
            status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )
        reply.refresh_from_db()
        self.approve(reply, moderator, django_capture_on_commit_callbacks)

        assert mail.outbox == []

        self.approve(top, moderator, django_capture_on_commit_callbacks)

        [message] = mail.outbox
        assert message.recipients() == ["ada@example.com"]
        assert f"https://news.example/comments/c/{reply.pk}/\n" in message.body

    def test_a_reply_published_at_once_is_not_announced_when_the_comment_above_returns(
        self, client, article, fill_form, moderator, settings, django_capture_on_commit_callbacks
    ):
        """A regular commenter's reply goes up at once ("previously approved") and their
        page says it is published: a moderator who withdraws the comment above and approves
        it again does not send them, days later, an email saying it is published."""
        settings.COMMENTS_AUTO_APPROVE_PREVIOUSLY_APPROVED = True
        above = make_comment(article, email="grace@example.com")
        data = fill_form(article, parent=str(above.pk), notify_on_publish="on")
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/comments/post/{article.pk}/", data)
        assert Comment.objects.get(parent=above).status == Status.APPROVED

        with django_capture_on_commit_callbacks(execute=True):
            services.unapprove(above, by=moderator)
        self.approve(above, moderator, django_capture_on_commit_callbacks)

        assert mail.outbox == []

    def test_approving_a_comment_writes_to_nobody_else_on_the_article(
        self, article, moderator, django_capture_on_commit_callbacks
    ):
        """An email that failed earlier (its request still open) is not tried again on
        every decision about the article: with the immediate task backend a hung mail
        server would hold up each of the moderator's clicks once per such email."""
        make_comment(article, email="failed@example.com", notify_on_publish=True)
        comment = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )

        self.approve(comment, moderator, django_capture_on_commit_callbacks)

        assert [message.recipients() for message in mail.outbox] == [["ada@example.com"]]

    def test_a_comment_approved_on_an_article_readers_cannot_see_is_not_announced(
        self, moderator, django_capture_on_commit_callbacks
    ):
        """Moderators still decide on the comments of an article unpublished since."""
        comment = make_comment(
            make_article(status="draft"), status=Status.PENDING, notify_on_publish=True
        )

        self.approve(comment, moderator, django_capture_on_commit_callbacks)

        assert mail.outbox == []

    def test_comments_approved_while_the_article_was_unpublished_are_announced_on_its_return(
        self, client, article, moderator, django_capture_on_commit_callbacks
    ):
        """The email waited for readers to see the comment; it went when the article came
        back only if a moderator happened to decide on one of its comments again."""
        comment = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )
        article.status = Article.Status.DRAFT
        article.save()
        self.approve(comment, moderator, django_capture_on_commit_callbacks)
        assert mail.outbox == []

        article.status = Article.Status.PUBLISHED
        with django_capture_on_commit_callbacks(execute=True):
            article.save()

        [message] = mail.outbox
        assert message.recipients() == ["ada@example.com"]
        assert client.get(f"/comments/c/{comment.pk}/").status_code == 302

    def test_publishing_from_the_article_list_announces_them_too(
        self, article, moderator, django_capture_on_commit_callbacks
    ):
        comment = make_comment(article, status=Status.PENDING, notify_on_publish=True)
        Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
        self.approve(comment, moderator, django_capture_on_commit_callbacks)
        client = Client()
        client.force_login(make_editor())

        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/admin/articles/article/",
                {"action": "publish", "_selected_action": [article.pk]},
            )

        assert [message.recipients() for message in mail.outbox] == [[comment.email]]

    def test_drafts_published_together_from_the_list_announce_every_one(
        self, moderator, monkeypatch, django_capture_on_commit_callbacks
    ):
        """Published together, in batches, each draft's comments are still written to once."""
        monkeypatch.setattr(article_services, "IDS_PER_QUERY", 2)
        drafts = [make_article(status=Article.Status.DRAFT) for _ in range(3)]
        comments = [
            make_comment(
                draft, status=Status.PENDING, email=f"r{n}@example.com", notify_on_publish=True
            )
            for n, draft in enumerate(drafts)
        ]
        for comment in comments:
            self.approve(comment, moderator, django_capture_on_commit_callbacks)
        client = Client()
        client.force_login(make_editor())

        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/admin/articles/article/",
                {"action": "publish", "_selected_action": [draft.pk for draft in drafts]},
            )

        assert sorted(message.to[0] for message in mail.outbox) == [
            "r0@example.com",
            "r1@example.com",
            "r2@example.com",
        ]

    def test_editing_a_published_article_writes_to_nobody(
        self, article, django_capture_on_commit_callbacks
    ):
        """An email that failed earlier is not tried again at every edit of the article:
        with the immediate task backend, a hung mail server would hold up each save."""
        make_comment(article, email="failed@example.com", notify_on_publish=True)

        article.title = "A corrected headline"
        with django_capture_on_commit_callbacks(execute=True):
            article.save()

        assert mail.outbox == []

    def test_a_reply_under_a_withheld_comment_still_waits_when_the_article_returns(
        self, article, moderator, django_capture_on_commit_callbacks
    ):
        above = make_comment(article, status=Status.REJECTED)
        make_comment(article, parent=above, notify_on_publish=True)
        Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
        article.refresh_from_db()

        article.status = Article.Status.PUBLISHED
        with django_capture_on_commit_callbacks(execute=True):
            article.save()

        assert mail.outbox == []

    def test_no_email_without_opt_in(self, article, moderator, django_capture_on_commit_callbacks):
        comment = make_comment(article, status=Status.PENDING, notify_on_publish=False)

        self.approve(comment, moderator, django_capture_on_commit_callbacks)

        assert mail.outbox == []

    def test_a_broken_mail_server_does_not_undo_the_approval(
        self, article, moderator, settings, console_log, django_capture_on_commit_callbacks
    ):
        settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenMailServer"}}
        comment = make_comment(article, status=Status.PENDING, notify_on_publish=True)

        self.approve(comment, moderator, django_capture_on_commit_callbacks)

        assert Comment.objects.get(pk=comment.pk).status == Status.APPROVED
        [failure] = [record for record in console_log.records if record.levelname == "ERROR"]
        assert "notify_commenter_of_approval" in failure.getMessage()
        assert (
            f"Could not email the commenter about approved comment {comment.pk}."
            in console_log.text()
        )
        assert Comment.objects.get(pk=comment.pk).notify_on_publish  # still owed


class TestUnsubscribe:
    def test_the_link_of_a_prolific_commenter_reads_one_comment_without_sorting_all(
        self, client, article
    ):
        """The page needs one comment of the address (its email), any one. Taking the
        oldest sorted every comment the address ever sent: 8 ms for a commenter of 6,000
        comments on the large bench data, and growing with each. The key's index gives
        one row without a sort."""
        comments = [make_comment(article, email="prolific@example.com") for _ in range(3)]
        url = f"/comments/unsubscribe/{unsubscribe_token(comments[0])}/"
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        assert response.status_code == 200
        [sql] = [query["sql"] for query in context if "unsubscribe_key" in query["sql"]]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"EXPLAIN {sql}")
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan

    def test_the_link_asks_first_and_changes_nothing_on_get(self, client, article):
        comment = make_comment(article, notify_on_publish=True)
        url = f"/comments/unsubscribe/{unsubscribe_token(comment)}/"

        response = client.get(url)

        assert response.status_code == 200
        assert '<form method="post"' in response.content.decode()
        assert Comment.objects.get(pk=comment.pk).notify_on_publish is True

    def test_head_on_the_link_answers_as_get_does_and_changes_nothing(self, client, article):
        """Link checkers and mail scanners ask with HEAD before (or instead of) GET."""
        comment = make_comment(article, notify_on_publish=True)

        response = client.head(f"/comments/unsubscribe/{unsubscribe_token(comment)}/")

        assert response.status_code == 200
        assert Comment.objects.get(pk=comment.pk).notify_on_publish is True

    def test_one_click_post_stops_emails_for_all_their_comments(self, article):
        from django.test import Client

        mail_client = Client(enforce_csrf_checks=True)  # mail clients send no CSRF token
        comment = make_comment(article, email="ada@example.com", notify_on_publish=True)
        other = make_comment(article, email="ADA@example.com", notify_on_publish=True)
        stranger = make_comment(article, email="bob@example.com", notify_on_publish=True)

        response = mail_client.post(
            f"/comments/unsubscribe/{unsubscribe_token(comment)}/",
            {"List-Unsubscribe": "One-Click"},
        )

        assert response.status_code == 200
        assert "no more emails" in response.content.decode()
        notify = dict(Comment.objects.values_list("pk", "notify_on_publish"))
        assert notify == {comment.pk: False, other.pk: False, stranger.pk: True}

    def test_the_page_stays_out_of_shared_caches(self, client, article):
        """The URL is the commenter's key: a proxy or CDN must not keep a copy of the page
        (or of the "done" answer) under it."""
        comment = make_comment(article, notify_on_publish=True)
        url = f"/comments/unsubscribe/{unsubscribe_token(comment)}/"

        for response in (client.get(url), client.post(url)):
            cache_control = response.headers.get("Cache-Control", "")
            assert "private" in cache_control and "no-store" in cache_control

    def test_a_forged_token_is_refused(self, client, article):
        comment = make_comment(article, notify_on_publish=True)

        response = client.post(f"/comments/unsubscribe/{comment.pk}:forged/")

        assert response.status_code == 404
        assert "not valid" in response.content.decode()
        assert Comment.objects.get(pk=comment.pk).notify_on_publish is True

    def test_the_page_never_shows_the_address(self, client, article):
        comment = make_comment(article, email="private@example.com", notify_on_publish=True)

        response = client.get(f"/comments/unsubscribe/{unsubscribe_token(comment)}/")

        assert "private@example.com" not in response.content.decode()
        assert "private" not in unsubscribe_token(comment)


def gone_with_an_editor(emailed):
    emailed.delete()


def gone_with_its_article(emailed):
    emailed.article.delete()


def gone_with_the_comment_it_answered(emailed):
    emailed.parent.delete()


def asking_for_no_email(article, email):
    make_comment(article, email=email, notify_on_publish=False)


def seeded_without_a_key(article, email):
    Comment.objects.bulk_create([Comment(article=article, name="Ada", email=email, body="Seeded.")])


class TestTheUnsubscribeLinkOutlivesItsComment:
    """The link stands for the commenter, not for the comment it was emailed about: it stops
    the emails their other comments still owe them after that one has gone."""

    @pytest.fixture
    def moderator(self, db):
        return make_moderator()

    def emailed_link(self, comment, moderator, capture):
        """The path of the unsubscribe link in the "published" email, as the reader has it."""
        with capture(execute=True):
            services.approve(comment, by=moderator)
        [message] = [m for m in mail.outbox if m.recipients() == [comment.email]]
        [path] = re.findall(r"https?://[^/\s]+(/comments/unsubscribe/[^/\s]+/)", message.body)
        return path

    @pytest.mark.parametrize(
        "goes", [gone_with_an_editor, gone_with_its_article, gone_with_the_comment_it_answered]
    )
    def test_it_still_stops_their_other_comments_emails(
        self, goes, moderator, django_capture_on_commit_callbacks
    ):
        first, other = make_article(), make_article()
        answered = make_comment(first, email="bob@example.com")
        emailed = make_comment(
            first,
            parent=answered,
            status=Status.PENDING,
            email="ada@example.com",
            notify_on_publish=True,
        )
        link = self.emailed_link(emailed, moderator, django_capture_on_commit_callbacks)
        waiting = make_comment(
            other, status=Status.PENDING, email="Ada@Example.com", notify_on_publish=True
        )
        stranger = make_comment(
            other, status=Status.PENDING, email="cy@example.com", notify_on_publish=True
        )
        goes(emailed)
        assert not Comment.objects.filter(pk=emailed.pk).exists()
        mail_client = Client(enforce_csrf_checks=True)

        assert '<form method="post"' in mail_client.get(link).content.decode()
        response = mail_client.post(link, {"List-Unsubscribe": "One-Click"})

        assert response.status_code == 200
        assert "no more emails" in response.content.decode()
        assert Comment.objects.get(pk=waiting.pk).notify_on_publish is False
        assert Comment.objects.get(pk=stranger.pk).notify_on_publish is True

    @pytest.mark.parametrize("store_earlier", [asking_for_no_email, seeded_without_a_key])
    def test_it_stops_the_emails_of_a_comment_they_post_after_it_has_gone(
        self, store_earlier, article, moderator, django_capture_on_commit_callbacks
    ):
        """Their earlier comment holds the link's key once the one emailed about has gone:
        one that asked for no email took it when stored, and a row inserted around save()
        (the demo's) is given it with the email. So the comment they post next, asking for
        emails, joins it, and the link stops that one too."""
        store_earlier(article, "ada@example.com")
        emailed = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )
        link = self.emailed_link(emailed, moderator, django_capture_on_commit_callbacks)
        emailed.delete()
        later = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )

        response = Client().post(link)

        assert response.status_code == 200
        assert Comment.objects.get(pk=later.pk).notify_on_publish is False

    def test_it_survives_the_secret_key_rotated_and_the_old_one_dropped(
        self, article, moderator, settings, django_capture_on_commit_callbacks
    ):
        """An operator who rotates DJANGO_SECRET_KEY and later drops the old one from the
        fallbacks leaves the links already emailed working."""
        emailed = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )
        link = self.emailed_link(emailed, moderator, django_capture_on_commit_callbacks)
        waiting = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )
        settings.SECRET_KEY = "a brand new secret key, " * 3
        settings.SECRET_KEY_FALLBACKS = []

        response = Client().post(link)

        assert response.status_code == 200
        assert Comment.objects.get(pk=waiting.pk).notify_on_publish is False

    def test_a_link_emailed_before_this_release_still_works(self, article):
        """Those named the comment, signed: valid while that comment is there."""
        emailed = make_comment(article, email="ada@example.com")
        waiting = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )
        token = signing.dumps(emailed.pk, salt=UNSUBSCRIBE_SALT)

        response = Client().post(f"/comments/unsubscribe/{token}/")

        assert response.status_code == 200
        assert Comment.objects.get(pk=waiting.pk).notify_on_publish is False

    def test_after_erasure_the_link_says_there_is_nothing_left_to_stop(
        self, article, moderator, django_capture_on_commit_callbacks
    ):
        """Erased, the commenter has no address left with us: no email can come, and the
        link, new or from before this release, says so rather than pretend to do something."""
        emailed = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )
        links = [
            self.emailed_link(emailed, moderator, django_capture_on_commit_callbacks),
            f"/comments/unsubscribe/{signing.dumps(emailed.pk, salt=UNSUBSCRIBE_SALT)}/",
        ]
        erase_commenter_data("ada@example.com")

        for link in links:
            for response in [Client().get(link), Client().post(link)]:
                assert response.status_code == 404
                assert "no longer needed" in response.content.decode()
                assert '<form method="post"' not in response.content.decode()

    def test_the_link_is_the_same_for_all_their_comments_and_names_none_of_them(
        self, article, moderator, django_capture_on_commit_callbacks
    ):
        first = make_comment(
            article, status=Status.PENDING, email="ada@example.com", notify_on_publish=True
        )
        second = make_comment(
            article, status=Status.PENDING, email="ADA@example.com", notify_on_publish=True
        )
        stranger = make_comment(
            article, status=Status.PENDING, email="bob@example.com", notify_on_publish=True
        )
        capture = django_capture_on_commit_callbacks

        ada = self.emailed_link(first, moderator, capture)
        assert self.emailed_link(second, moderator, capture) == ada
        bob = self.emailed_link(stranger, moderator, capture)

        assert bob != ada
        for link in (ada, bob):
            assert ":" not in link  # no signed comment id, readable by anyone, in it


class TestEmailsArePlainText:
    """Emails are text/plain: what editors and readers wrote arrives as they wrote it."""

    TITLE = 'Q&A: "Fish" <and> chips'

    def test_held_comment_email_keeps_the_title_and_the_comment_as_written(
        self, moderators, settings, django_capture_on_commit_callbacks
    ):
        settings.SITE_NAME = "Fish & Chips News"
        article = make_article(title=self.TITLE)

        with django_capture_on_commit_callbacks(execute=True):
            store(article, name="Tom & Jerry", body='Is 1 < 2 & "yes"?')

        [message] = mail.outbox
        subject = f"[Fish & Chips News] Comment awaiting moderation on “{self.TITLE}”"
        assert message.subject == subject
        assert self.TITLE in message.body
        assert "From: Tom & Jerry" in message.body
        assert 'Is 1 < 2 & "yes"?' in message.body

    def test_published_email_keeps_the_title_and_the_name_as_written(
        self, django_capture_on_commit_callbacks
    ):
        article = make_article(title=self.TITLE)
        comment = make_comment(
            article, name="Tom & Jerry", status=Status.PENDING, notify_on_publish=True
        )

        with django_capture_on_commit_callbacks(execute=True):
            services.approve(comment, by=make_moderator())

        [message] = mail.outbox
        assert message.subject == f"Your comment on “{self.TITLE}” is published"
        assert "Hello Tom & Jerry," in message.body
        assert self.TITLE in message.body


# Names the public form takes (runs of spaces, the line and paragraph separators, the
# ideographic space), and a line break a name saved before the form refused it holds.
NAMES_ON_MORE_THAN_ONE_LINE = [
    "Ada   Lovelace",
    "Ada\u2028Lovelace",
    "Ada\u2029Lovelace",
    "Ada\u3000\u3000Lovelace",
    "Ada\r\nLovelace",
]


@pytest.mark.parametrize("name", NAMES_ON_MORE_THAN_ONE_LINE)
def test_the_published_email_greets_the_commenter_on_one_line(
    name, django_capture_on_commit_callbacks
):
    """The greeting read "Hello Ada   Lovelace," or broke the line, and a name could forge a
    line of the email ("Ada\u2028Your account is suspended: ..."). The name stays as typed."""
    comment = make_comment(make_article(), name=name, status=Status.PENDING, notify_on_publish=True)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=make_moderator())

    [message] = mail.outbox
    assert message.body.splitlines()[0] == "Hello Ada Lovelace,"
    comment.refresh_from_db()
    assert comment.name == name


@pytest.mark.parametrize("name", NAMES_ON_MORE_THAN_ONE_LINE)
def test_the_held_comment_email_names_the_commenter_on_one_line(
    name, moderators, django_capture_on_commit_callbacks
):
    """The moderators' "From:" line, which a name could likewise break into a line of its own."""
    with django_capture_on_commit_callbacks(execute=True):
        store(make_article(), name=name)

    [message] = mail.outbox
    assert "From: Ada Lovelace\n" in "\n".join(message.body.splitlines())
