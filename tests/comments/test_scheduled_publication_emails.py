"""With the default task backend, which cannot wait for a moment, the "published" emails owed
on a scheduled article go with the first request after its publication time, once the
response is sent: the article goes live by itself, with no save to send them. Real commits,
so that the emails are queued inside the requests, as on a running site."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.translation import ngettext

from articles import services as article_services
from articles.admin import NOW_SCHEDULED
from articles.models import Article
from comments import notifications, services
from comments.models import Comment
from comments.notifications import publications_may_be_due
from tests.factories import make_article, make_comment, make_editor, make_moderator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def time_passes(monkeypatch, clock):
    """Moves the site's clock (and the page cache's) forward, without waiting."""
    real_now = timezone.now
    offset = timedelta()

    def passes(duration):
        nonlocal offset
        offset += duration
        clock.now += duration.total_seconds()

    monkeypatch.setattr(timezone, "now", lambda: real_now() + offset)
    return passes


@pytest.fixture(autouse=True)
def _a_process_of_its_own(monkeypatch):
    """Each test is a site of its own, whose process has not looked yet (tests/conftest.py
    takes it as done elsewhere)."""
    monkeypatch.setattr(notifications, "_next_due", notifications.NOT_LOOKED)
    monkeypatch.setattr(notifications, "publications_may_be_due", publications_may_be_due)


@pytest.fixture
def another_worker(monkeypatch):
    """A process that has not yet looked for publications due: a gunicorn worker of its own."""

    def fresh():
        monkeypatch.setattr(notifications, "_next_due", notifications.NOT_LOOKED)
        return Client()

    return fresh


def scheduled_with_an_approved_comment():
    """An article scheduled an hour ahead, and a comment approved on it meanwhile whose
    author asked to hear when it is published."""
    article = make_article()
    comment = make_comment(
        article, status=Comment.Status.PENDING, email="ada@example.com", notify_on_publish=True
    )
    article.published_at = timezone.now() + timedelta(hours=1)
    article.save()
    services.approve(comment, by=make_moderator())
    return article, comment


def test_a_comment_approved_on_a_scheduled_article_is_announced_by_the_first_request_after_its_time(
    client, reader_cache, time_passes, another_worker
):
    article, comment = scheduled_with_an_approved_comment()
    client.get("/")
    assert mail.outbox == []

    time_passes(timedelta(minutes=61))
    client.get("/")

    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert f"/comments/c/{comment.pk}/" in message.body
    assert not Comment.objects.get(pk=comment.pk).notify_on_publish

    client.get("/")
    client.get(article.get_absolute_url())
    another_worker().get("/")
    assert len(mail.outbox) == 1


def test_the_requests_before_the_publication_time_send_nothing(
    client, reader_cache, time_passes, another_worker
):
    scheduled_with_an_approved_comment()

    time_passes(timedelta(minutes=59))
    client.get("/")
    another_worker().get("/feeds/rss/")

    assert mail.outbox == []


def test_the_announcement_is_claimed_once(time_passes):
    """Two workers, or a worker and the database queue, reach the same publication at once:
    the one whose claim the database takes sends the emails; the other sends nothing."""
    article, _ = scheduled_with_an_approved_comment()
    assert not notifications.claim_announcement(article.pk)  # not yet time
    time_passes(timedelta(minutes=61))

    assert notifications.claim_announcement(article.pk)
    assert not notifications.claim_announcement(article.pk)


def test_an_article_unpublished_then_published_again_announces_its_comments_once(
    client, reader_cache, time_passes
):
    article, _ = scheduled_with_an_approved_comment()
    article.status = Article.Status.DRAFT
    article.save()
    time_passes(timedelta(minutes=61))
    client.get("/")
    assert mail.outbox == []  # a draft by its time: nothing is published

    article.status = Article.Status.PUBLISHED
    article.published_at = timezone.now()
    article.save()
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]

    client.get("/")
    assert len(mail.outbox) == 1


def test_an_article_published_at_once_before_its_time_is_not_announced_again_at_it(
    client, reader_cache, time_passes
):
    """A comment whose email failed when the article went live is not tried again at the
    time the article had been scheduled for."""
    article, comment = scheduled_with_an_approved_comment()
    article.published_at = timezone.now()
    article.save()
    assert len(mail.outbox) == 1
    Comment.objects.filter(pk=comment.pk).update(notify_on_publish=True)  # as if it failed

    time_passes(timedelta(minutes=61))
    client.get("/")

    assert len(mail.outbox) == 1


def test_an_article_rescheduled_later_is_announced_at_the_new_time_only(
    client, reader_cache, time_passes
):
    article, _ = scheduled_with_an_approved_comment()
    article.published_at = timezone.now() + timedelta(hours=3)
    article.save()

    time_passes(timedelta(minutes=61))
    client.get("/")
    assert mail.outbox == []

    time_passes(timedelta(hours=2))
    client.get("/")
    assert len(mail.outbox) == 1


def test_while_an_article_waits_for_its_time_a_cached_page_costs_no_query(
    client, reader_cache, django_assert_num_queries
):
    """The process knows when the next publication is due: until then, no request asks."""
    scheduled_with_an_approved_comment()
    client.get("/")  # rendered and stored; the process looks once, after the response

    with django_assert_num_queries(0):
        response = Client().get("/")

    assert response.status_code == 200


@pytest.mark.parametrize("drafts", [1, 3])
def test_drafts_dated_later_published_from_the_list_are_announced_at_their_time(
    client, reader_cache, time_passes, drafts
):
    """The list's "Publish" writes the drafts together, with no save of each to schedule
    what their comments are owed: the action does it, for every one."""
    articles = [make_article(status=Article.Status.DRAFT) for _ in range(drafts)]
    moderator = make_moderator()
    for number, article in enumerate(articles):
        comment = make_comment(
            article,
            status=Comment.Status.PENDING,
            email=f"reader{number}@example.com",
            notify_on_publish=True,
        )
        services.approve(comment, by=moderator)
    Article.objects.filter(pk__in=[a.pk for a in articles]).update(
        published_at=timezone.now() + timedelta(hours=1)
    )
    editor = Client()
    editor.force_login(make_editor())
    editor.post(
        "/admin/articles/article/",
        {"action": "publish", "_selected_action": [article.pk for article in articles]},
    )
    client.get("/")
    assert mail.outbox == []

    time_passes(timedelta(minutes=61))
    client.get("/")

    assert sorted(message.to[0] for message in mail.outbox) == [
        f"reader{number}@example.com" for number in range(drafts)
    ]


def test_a_draft_a_colleague_dates_later_while_the_list_publishes_it_is_announced_at_its_time(
    client, reader_cache, time_passes, monkeypatch
):
    """The list reads the drafts before it publishes them. A colleague who saved a later
    time on one in between had it go out scheduled, with its time kept, but announced as
    "published", with no announcement of its time: its commenters were never written to."""
    article = make_article(status=Article.Status.DRAFT, published_at=None)
    comment = make_comment(
        article, status=Comment.Status.PENDING, email="reader@example.com", notify_on_publish=True
    )
    services.approve(comment, by=make_moderator())
    publish_drafts = article_services.publish_drafts

    def after_a_colleague_dates_it_later(drafts, *, by):
        later = timezone.now() + timedelta(hours=1)
        Article.objects.filter(pk=article.pk).update(published_at=later)
        return publish_drafts(drafts, by=by)

    monkeypatch.setattr(article_services, "publish_drafts", after_a_colleague_dates_it_later)
    editor = Client()
    editor.force_login(make_editor())
    response = editor.post(
        "/admin/articles/article/",
        {"action": "publish", "_selected_action": [article.pk]},
        follow=True,
    )
    client.get("/")
    assert mail.outbox == []
    assert [str(message) for message in response.context["messages"]] == [
        ngettext(*NOW_SCHEDULED, 1) % 1
    ]

    time_passes(timedelta(minutes=61))
    client.get("/")

    assert [message.to for message in mail.outbox] == [["reader@example.com"]]
