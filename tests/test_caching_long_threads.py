"""Long discussions page by top-level comment, so one page's cost stays bounded."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from comments.models import Comment
from comments.thread import comment_page
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _three_per_page(settings):
    settings.COMMENTS_PER_PAGE = 3
    settings.READER_CACHE_SECONDS = 600


def discussion(article, threads):
    """`threads` top-level comments, each with a reply and a reply to the reply."""
    roots = []
    for number in range(1, threads + 1):
        root = make_comment(article, name="Ada", body=f"Top {number}.")
        reply = make_comment(article, parent=root, name="Bo", body=f"Reply to {number}.")
        make_comment(article, parent=reply, name="Cy", body=f"Deeper under {number}.")
        roots.append(root)
    return roots


def page(article, number=None):
    query = f"?cpage={number}" if number else ""
    response = Client().get(f"{article.get_absolute_url()}{query}")
    return response.status_code, response.content.decode()


def test_each_page_holds_its_top_level_comments_with_all_their_replies():
    article = make_article()
    discussion(article, 7)

    _, first = page(article)
    _, third = page(article, 3)

    for number in (1, 2, 3):
        assert f"Top {number}." in first
        assert f"Deeper under {number}." in first
    assert "Top 4." not in first
    assert "Top 7." in third and "Deeper under 7." in third
    assert "Top 6." not in third
    assert "Page 1 of 3" in first
    assert 'rel="next" href="?cpage=2#comments"' in first


def test_a_page_beyond_the_last_or_not_a_number_is_a_404():
    article = make_article()
    discussion(article, 4)

    assert page(article, 2)[0] == 200
    assert page(article, 3)[0] == 404
    assert page(article, "x")[0] == 404
    assert page(article, "²")[0] == 404


def test_a_permalink_lands_on_the_page_that_shows_the_comment():
    article = make_article()
    roots = discussion(article, 7)
    deep_reply = Comment.objects.get(body="Deeper under 5.")

    assert comment_page(roots[0]) == 1
    assert comment_page(deep_reply) == 2
    url = deep_reply.get_absolute_url()
    landing = Client().get(url.split("#")[0]).content.decode()

    assert url.endswith(f"?cpage=2#comment-{deep_reply.pk}")
    assert f'id="comment-{deep_reply.pk}"' in landing


def test_a_reply_at_any_depth_finds_its_page_in_the_same_queries():
    """The redirect after every reply asks for its page: a deep thread must not cost more."""
    article = make_article()
    discussion(article, 7)
    reply = Comment.objects.get(body="Reply to 5.")
    deepest = Comment.objects.get(body="Deeper under 5.")
    for level in range(20):
        deepest = make_comment(article, parent=deepest, body=f"Level {level} under 5.")

    with CaptureQueriesContext(connection) as shallow:
        assert comment_page(reply) == 2
    with CaptureQueriesContext(connection) as deep:
        assert comment_page(deepest) == 2

    assert len(deep) == len(shallow) == 2


def test_reply_links_keep_the_page_they_are_on():
    article = make_article()
    roots = discussion(article, 4)

    _, second = page(article, 2)

    assert f'href="?cpage=2&amp;replyto={roots[3].pk}#respond"' in second


def test_the_page_links_above_and_below_the_comments_are_told_apart():
    """Two landmarks with one name leave a screen reader's list of them ambiguous."""
    article = make_article()
    discussion(article, 4)

    _, first = page(article)

    assert 'aria-label="Pages of comments, above"' in first
    assert 'aria-label="Pages of comments, below"' in first
