"""Demo comments: threads shaped like real discussions, written straight to the table."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article
from comments import demo
from comments.models import Comment
from tests.factories import make_article

pytestmark = pytest.mark.django_db


def test_demo_threads_hang_under_earlier_comments_of_the_same_article():
    first, second = make_article(), make_article()

    assert demo.create_comments({first.pk: 40, second.pk: 25}) == 65

    comments = {comment.pk: comment for comment in Comment.objects.all()}
    replies = [comment for comment in comments.values() if comment.parent_id]
    assert replies, "about half the comments are replies"
    for reply in replies:
        parent = comments[reply.parent_id]
        assert parent.article_id == reply.article_id
        assert parent.created_at <= reply.created_at


def test_demo_replies_nest_no_deeper_than_max_level():
    article = make_article()
    demo.create_comments({article.pk: 300})

    parents = dict(Comment.objects.values_list("pk", "parent_id"))

    def level(pk):
        return 1 if parents[pk] is None else 1 + level(parents[pk])

    assert max(level(pk) for pk in parents) == demo.MAX_LEVEL


def test_demo_comments_are_approved_dated_after_publication_and_counted():
    now = timezone.now()
    article = make_article(published_at=now - timedelta(days=2))

    demo.create_comments({article.pk: 30}, now=now)

    article.refresh_from_db()
    comments = Comment.objects.filter(article=article)
    assert article.comment_count == comments.approved().count() == 30
    assert all(article.published_at <= comment.created_at <= now for comment in comments)


def test_demo_comments_read_back_as_written():
    """Paragraph breaks, addresses and times survive the bulk path (COPY on PostgreSQL)."""
    article = make_article()
    demo.create_comments({article.pk: 60})

    comments = list(Comment.objects.all())
    assert any("\n\n" in comment.body for comment in comments)
    assert all(comment.ip_address.startswith("192.0.2.") for comment in comments)
    assert all(comment.created_at.tzinfo is not None for comment in comments)
    assert {comment.email for comment in comments} <= {
        f"{first.lower()}.{last.lower()}@example.com"
        for first in demo.FIRST_NAMES
        for last in demo.LAST_NAMES
    }


def test_comments_written_after_the_demo_get_fresh_ids():
    article = make_article()
    demo.create_comments({article.pk: 5})

    demo.create_pending([article.pk])

    assert Comment.objects.pending().get().pk > Comment.objects.approved().latest("pk").pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_postgresql_loads_demo_comments_with_copy_not_one_insert_per_row():
    article = make_article()

    with CaptureQueriesContext(connection) as queries:
        demo.create_comments({article.pk: 50})

    statements = [query["sql"] for query in queries]
    assert [sql for sql in statements if sql.startswith('COPY "comments_comment"')]
    assert not [sql for sql in statements if sql.startswith('INSERT INTO "comments_comment"')]
    assert Article.objects.get(pk=article.pk).comment_count == 50
