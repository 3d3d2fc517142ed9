"""A comment's lasting address: links from outside its page keep working as its
discussion is moderated or paginated differently."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urljoin

import pytest
from django.core import mail
from django.utils import timezone

from comments import services
from comments.models import Comment
from tests.factories import (
    comment_form_data,
    make_article,
    make_comment,
    make_draft,
    make_editor,
    make_moderator,
    make_thread_numbered_backwards,
    post_url,
)

pytestmark = pytest.mark.django_db

Status = Comment.Status


@pytest.fixture(autouse=True)
def _three_per_page(settings):
    settings.COMMENTS_PER_PAGE = 3


@pytest.fixture
def moderator(db):
    return make_moderator()


def discussion(article, threads):
    """`threads` top-level comments, each with one reply."""
    roots = []
    for number in range(1, threads + 1):
        root = make_comment(article, body=f"Top {number}.")
        make_comment(article, parent=root, body=f"Reply to {number}.")
        roots.append(root)
    return roots


def follow(client, url):
    """Where a browser lands: the redirect's target, and the page it shows."""
    response = client.get(url)
    assert response.status_code == 302
    location = response["Location"]
    return location, client.get(location.split("#")[0]).content.decode()


def time_link(client, address, comment):
    """The link a reader copies from a comment's time on the page at `address`, absolute."""
    page = client.get(address).content.decode()
    meta = re.search(rf'id="comment-{comment.pk}-author".*?</header>', page, re.DOTALL).group()
    href = re.search(r'<a [^>]*href="([^"]*)"[^>]*><time ', meta).group(1)
    return urljoin(f"http://testserver{address}", unescape(href))


def opened(client, link):
    """Where a browser lands following `link` (redirects and all) and the page it shows."""
    response = client.get(link, follow=True)
    landing = response.redirect_chain[-1][0] if response.redirect_chain else link
    return urljoin(link, landing), response.status_code, response.content.decode()


def test_a_comments_time_links_to_where_it_is_shown_however_the_thread_moves(
    client, article, moderator
):
    """Readers copy the time's link to share a comment: it must keep finding the comment
    after moderators withhold comments above it, which moves it to another page."""
    roots = discussion(article, 7)
    reply = Comment.objects.get(body="Reply to 5.")
    shared = time_link(client, f"{article.get_absolute_url()}?cpage=2", reply)

    here, status, page = opened(client, shared)
    assert status == 200
    assert here.endswith(f"{article.get_absolute_url()}?cpage=2#comment-{reply.pk}")
    assert f'id="comment-{reply.pk}"' in page

    for root in roots[:3]:
        services.reject(root, by=moderator)
    later, status, page = opened(client, shared)

    assert status == 200
    assert later.endswith(f"{article.get_absolute_url()}#comment-{reply.pk}")
    assert f'id="comment-{reply.pk}"' in page


def test_the_time_of_ones_own_comment_awaiting_moderation_links_to_it_on_the_page(
    client, article, captcha_pool
):
    """It has no permalink yet (readers cannot see it): its author is not sent to a 404."""
    form = client.get(article.get_absolute_url()).content.decode()
    client.post(post_url(article), comment_form_data(form, body="Mine, waiting."))
    mine = Comment.objects.get(body="Mine, waiting.")

    link = time_link(client, article.get_absolute_url(), mine)
    here, status, page = opened(client, link)

    assert here.endswith(f"{article.get_absolute_url()}#comment-{mine.pk}")
    assert status == 200
    assert "Mine, waiting." in page


def test_an_editors_preview_links_comment_times_to_the_comments_on_the_page(client):
    """The comments of an article withdrawn since have no permalink while it is not public."""
    withdrawn = make_draft(slug="withdrawn")
    comment = make_comment(withdrawn, body="Said while it was out.")
    client.force_login(make_editor())

    here, status, page = opened(client, time_link(client, withdrawn.get_absolute_url(), comment))

    assert status == 200
    assert here.endswith(f"{withdrawn.get_absolute_url()}#comment-{comment.pk}")
    assert "Said while it was out." in page


def test_the_permalink_leads_to_the_page_that_shows_the_comment(client, article):
    discussion(article, 7)
    reply = Comment.objects.get(body="Reply to 5.")

    location, page = follow(client, reply.get_permalink())

    assert reply.get_permalink() == f"/comments/c/{reply.pk}/"
    assert location == f"{article.get_absolute_url()}?cpage=2#comment-{reply.pk}"
    assert f'id="comment-{reply.pk}"' in page


def test_the_permalink_of_a_reply_dated_before_its_thread_leads_to_it_under_its_parent(
    client, article
):
    """An app server's clock behind another's, or an import, can date a reply before the
    first comment of the discussion: it is on its thread's page, in its thread."""
    roots = discussion(article, 7)
    reply = Comment.objects.get(body="Reply to 5.")
    Comment.objects.filter(pk=reply.pk).update(
        created_at=roots[0].created_at - timedelta(minutes=1)
    )

    location, page = follow(client, reply.get_permalink())

    assert location == f"{article.get_absolute_url()}?cpage=2#comment-{reply.pk}"
    thread = re.search(rf'id="comment-{roots[4].pk}".*?id="comment-{roots[5].pk}"', page, re.S)
    assert f'id="comment-{reply.pk}"' in thread.group()


def test_the_permalink_follows_the_comment_when_withheld_comments_shrink_the_thread(
    client, article, moderator
):
    roots = discussion(article, 7)
    reply = Comment.objects.get(body="Reply to 5.")
    for root in roots[:3]:
        services.reject(root, by=moderator)

    location, page = follow(client, reply.get_permalink())

    assert location == f"{article.get_absolute_url()}#comment-{reply.pk}"
    assert "Reply to 5." in page


def test_the_permalink_follows_the_comment_when_comments_per_page_is_lowered(
    client, article, settings
):
    discussion(article, 7)
    reply = Comment.objects.get(body="Reply to 5.")
    permalink = reply.get_permalink()
    settings.COMMENTS_PER_PAGE = 2

    location, page = follow(client, permalink)

    assert location == f"{article.get_absolute_url()}?cpage=3#comment-{reply.pk}"
    assert "Reply to 5." in page


def test_the_approval_email_links_to_the_comment_wherever_the_thread_moves_it(
    client, article, moderator, settings, django_capture_on_commit_callbacks
):
    """The email carried the page number of the day it was sent: a moderator who withheld
    comments above it since turned its link into a 404 for the whole article."""
    settings.SITE_URL = "https://news.example"
    roots = discussion(article, 4)
    comment = make_comment(article, status=Status.PENDING, notify_on_publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=moderator)
    [message] = mail.outbox
    for root in roots[:2]:
        services.reject(root, by=moderator)

    link = next(line for line in message.body.splitlines() if line.startswith("https://"))
    location, page = follow(client, link.removeprefix("https://news.example"))

    assert link == f"https://news.example/comments/c/{comment.pk}/"
    assert location == f"{article.get_absolute_url()}#comment-{comment.pk}"
    assert f'id="comment-{comment.pk}"' in page


@pytest.mark.parametrize("status", [Status.PENDING, Status.SPAM, Status.REJECTED])
def test_a_comment_readers_cannot_see_has_no_permalink(client, article, status):
    comment = make_comment(article, status=status, body="Not for readers.")

    response = client.get(comment.get_permalink())

    assert response.status_code == 404
    assert article.get_absolute_url() not in response.content.decode()


def test_a_reply_under_a_withheld_comment_has_no_permalink(client, article):
    """build_thread does not show it either."""
    withheld = make_comment(article, status=Status.REJECTED)
    reply = make_comment(article, parent=withheld)

    assert client.get(reply.get_permalink()).status_code == 404


@pytest.mark.parametrize(
    "article_fields",
    [
        {"status": "draft"},
        {"published_at": timezone.now() + timedelta(days=1)},  # scheduled
    ],
    ids=["draft", "scheduled"],
)
def test_a_comment_on_an_article_that_is_not_public_has_no_permalink(client, article_fields):
    """The redirect would name the article's address, which a draft keeps to itself."""
    hidden = make_article(slug="not-yet-public", **article_fields)
    comment = make_comment(hidden)

    response = client.get(comment.get_permalink())

    assert response.status_code == 404
    assert "not-yet-public" not in response.get("Location", "")
    assert "not-yet-public" not in response.content.decode()


def test_an_unknown_comment_is_a_404(client):
    assert client.get("/comments/c/987654/").status_code == 404


def test_the_permalink_only_reads(client, article):
    comment = make_comment(article)

    assert client.post(comment.get_permalink()).status_code == 405


def test_a_deep_reply_finds_its_page_in_the_same_queries(
    client, article, django_assert_max_num_queries
):
    """The comment with its article, its ancestry in one recursive query, one count."""
    discussion(article, 4)
    deepest = Comment.objects.get(body="Reply to 4.")
    for level in range(10):
        deepest = make_comment(article, parent=deepest, body=f"Level {level}.")

    with django_assert_max_num_queries(3):
        response = client.get(deepest.get_permalink())

    assert response["Location"] == f"{article.get_absolute_url()}?cpage=2#comment-{deepest.pk}"


def test_a_reply_whose_thread_s_ids_run_backwards_links_to_its_page(client, article):
    """Imported with their ids, or numbered after a restore reset the id sequence, a reply
    can have a smaller id than the comment it answers: its link was a 404, the comment it
    answers taken for the top of its thread."""
    discussion(article, 3)
    top, _, reply = make_thread_numbered_backwards(article)

    location, page = follow(client, f"/comments/c/{reply.pk}/")

    assert location == f"{article.get_absolute_url()}?cpage=2#comment-{reply.pk}"
    assert f'id="comment-{reply.pk}"' in page and f'id="comment-{top.pk}"' in page


def test_comments_whose_parents_go_round_in_a_circle_are_neither_shown_nor_linked(client, article):
    """A fixture loaded with loaddata, or rows written by hand, can make two comments each
    other's parent: no thread leads to them, so the page shows the rest of the discussion,
    and their links, and their replies', are a 404 (as a withheld comment's), never a loop."""
    plain = make_comment(article, body="Plain comment.")
    first = make_comment(article, body="Goes round.")
    second = make_comment(article, parent=first, body="And round.")
    below = make_comment(article, parent=second, body="Answers the circle.")
    Comment.objects.filter(pk=first.pk).update(parent=second)

    page = client.get(article.get_absolute_url()).content.decode()

    assert plain.body in page
    assert not [c for c in (first, second, below) if c.body in page]
    assert {client.get(f"/comments/c/{c.pk}/").status_code for c in (first, second, below)} == {404}
