"""Long discussions page by top-level comment, so one page's cost stays bounded."""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comments import services
from comments.captcha import refill_pool
from comments.models import Comment
from comments.thread import PENDING_COOKIE, comment_page
from tests.factories import (
    comment_form_data,
    form_values,
    id_cookie,
    make_article,
    make_comment,
    make_moderator,
    press,
)

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


@contextmanager
def values_read():
    """Every value the database returned to the site meanwhile, whatever the query."""
    read = set()

    def counting(name):
        def fetch(cursor, *args):
            rows = getattr(cursor.cursor, name)(*args)
            for row in [rows] if name == "fetchone" else rows:
                read.update(row or ())
            return rows

        return fetch

    with pytest.MonkeyPatch.context() as patch:
        for name in ("fetchone", "fetchmany", "fetchall"):
            patch.setattr(CursorWrapper, name, counting(name), raising=False)
        yield read


def test_a_page_reads_only_its_own_threads_from_the_database():
    """One page's cost is bounded by the page: the other pages' comments are not read."""
    article = make_article()
    discussion(article, 7)

    with values_read() as read:
        status, second = page(article, 2)

    assert status == 200
    assert "Top 4." in second and "Deeper under 6." in second
    assert {"Top 4.", "Reply to 5.", "Deeper under 6."} <= read
    for elsewhere in (1, 3, 7):
        assert f"Top {elsewhere}." not in read
        assert f"Reply to {elsewhere}." not in read
        assert f"Deeper under {elsewhere}." not in read


@pytest.mark.django_db(transaction=True)  # VACUUM, for PostgreSQL's index-only scans
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
@pytest.mark.parametrize("number", [1, 3])
def test_postgresql_reads_a_pages_top_level_comments_from_their_index_alone(number):
    """A page's top-level comments, and their count, come from comment_top_level_idx alone:
    neither the replies' rows nor the table. Ordered by time with no index of their own,
    PostgreSQL sorted every top-level comment of the article, or, for the first pages of a
    long discussion, walked every approved comment of the site in time order through the
    queue's index (96,000 rows read and left, 70 ms at 150,000 comments)."""
    article = make_article()
    discussion(article, 7)
    for _ in range(5):
        discussion(make_article(), 3)  # other articles' comments, which the index steps over
    with CaptureQueriesContext(connection) as context:
        status, _ = page(article, number)
    [thread] = [query["sql"] for query in context if "WITH RECURSIVE" in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE comments_comment")
        with transaction.atomic():
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(f"EXPLAIN {thread}")
            plan = [row for (row,) in cursor.fetchall()]
    [top_level] = [at for at, line in enumerate(plan) if line.strip() == "CTE top_level"]
    assert status == 200
    assert re.search(r"Index Only Scan using comment_top_level_idx", plan[top_level + 1]), plan


def busy_site(article, others, *, threads, depth):
    """`threads` top-level comments on `article`, each with a chain of `depth` replies, and
    20 top-level comments on the `others` for each of its threads, all come in over the same
    days (one insert per level: thousands of comments, too many to make one at a time)."""
    started = timezone.now() - timedelta(days=30)
    articles = [article, *others * (20 // len(others))]
    parents = [None] * (threads * len(articles))
    for level in range(depth + 1):
        parents = Comment.objects.bulk_create(
            Comment(
                article=parent.article if parent else articles[number % len(articles)],
                parent=parent,
                created_at=(
                    parent.created_at + timedelta(seconds=1)
                    if parent
                    else started + timedelta(minutes=number)
                ),
                name="Ada",
                email="ada@example.com",
                body=f"Level {level}.",
                status=Comment.Status.APPROVED,
            )
            for number, parent in enumerate(parents)
        )
        parents = [comment for comment in parents if comment.article_id == article.pk]


@pytest.mark.django_db(transaction=True)  # ANALYZE outside a test's transaction
def test_a_long_discussions_page_reads_no_other_articles_comments(settings):
    """Page 20 of a discussion of 1,000 threads four replies deep, on a site of 21,000
    top-level comments, found its 25 through the index of every comment's parent: 20,749
    other articles' top-level comments read and left (28 ms of the page's 35). PostgreSQL
    chose it with statistics fresh from ANALYZE, as autovacuum leaves them, whenever the
    table's pages were not all marked visible (after any update, until a VACUUM). The same
    shape, smaller: fewer rows are read and left than the article has."""
    settings.COMMENTS_PER_PAGE = 5
    article = make_article()
    busy_site(article, [make_article() for _ in range(4)], threads=200, depth=4)
    with CaptureQueriesContext(connection) as context:
        status, _ = page(article, 20)
    [thread] = [query["sql"] for query in context if "WITH RECURSIVE" in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE comments_comment")
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN ANALYZE {thread}")
            plan = [row for (row,) in cursor.fetchall()]
            left = sum(
                int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", "\n".join(plan))
            )
            assert left < 200 * 5, plan  # fewer than the article has
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {thread}")
            plan = [row[-1] for row in cursor.fetchall()]
            assert not [line for line in plan if "SCAN comments_comment" in line], plan
            assert [line for line in plan if re.search(r"INDEX \w+ \(article_id=", line)], plan
    assert status == 200


def test_a_commenters_waiting_reply_on_another_page_is_still_theirs():
    """Read on page 3, their reply on page 1 is still shown to them back on page 1: the
    page did not take it for decided and drop it from their cookie."""
    article = make_article()
    roots = discussion(article, 7)
    waiting = make_comment(
        article, parent=roots[0], body="Still waiting.", status=Comment.Status.PENDING
    )
    commenter = Client()
    commenter.cookies[PENDING_COOKIE] = id_cookie(waiting)

    third = commenter.get(f"{article.get_absolute_url()}?cpage=3")
    first = commenter.get(article.get_absolute_url()).content.decode()

    assert "Still waiting." not in third.content.decode()
    assert PENDING_COOKIE not in third.cookies
    assert "Still waiting." in first
    assert "Still waiting." not in page(article)[1]


def test_a_page_number_that_is_not_one_is_a_404():
    article = make_article()
    discussion(article, 4)

    assert page(article, 2)[0] == 200
    for malformed in ("x", "²", "0", "-1", "2.0", "10001"):
        assert page(article, malformed)[0] == 404


def test_a_page_past_the_last_redirects_to_the_last_page():
    """A link made when the discussion was longer still lands on it, not on a 404."""
    article = make_article()
    discussion(article, 4)

    for stale in (3, 10_000):
        response = Client().get(f"{article.get_absolute_url()}?cpage={stale}")

        assert response.status_code == 302
        assert response["Location"] == f"{article.get_absolute_url()}?cpage=2"


CAMPAIGN = "utm_source=newsletter&utm_term=jane%40example.com&utm_content=a&utm_content=b"


@pytest.mark.parametrize("cache_seconds", [600, 0], ids=["cached", "uncached"])
def test_a_page_past_the_last_keeps_the_campaign_tags_of_the_link(settings, cache_seconds):
    """A newsletter's stale link still counts as the newsletter's visit: its utm_* tags go
    along as sent, and no other parameter; the next reader's redirect has none of them."""
    settings.READER_CACHE_SECONDS = cache_seconds
    article = make_article()
    roots = discussion(article, 4)
    url = article.get_absolute_url()

    stale = Client().get(f"{url}?cpage=3&{CAMPAIGN}&ref=feed&utm_medium=email")
    reply = Client().get(f"{url}?cpage=3&utm_source=newsletter&replyto={roots[3].pk}")
    plain = Client().get(f"{url}?cpage=3")

    assert stale.status_code == reply.status_code == 302
    assert stale["Location"] == f"{url}?cpage=2&{CAMPAIGN}&utm_medium=email"
    assert reply["Location"] == f"{url}?cpage=2&replyto={roots[3].pk}&utm_source=newsletter"
    assert plain["Location"] == f"{url}?cpage=2"


def test_a_page_emptied_by_withheld_comments_redirects_to_the_article(
    reader_cache, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    """The copy of the page stored before is not served, the redirect is not stored in its
    place, and it costs no more queries than the page."""
    article = make_article()
    roots = discussion(article, 4)
    moderator = make_moderator()
    assert page(article, 2)[0] == 200  # and stored

    with django_capture_on_commit_callbacks(execute=True):
        services.reject(roots[3], by=moderator)
    with django_assert_max_num_queries(8):
        first = Client().get(f"{article.get_absolute_url()}?cpage=2")
    again = Client().get(f"{article.get_absolute_url()}?cpage=2")

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == article.get_absolute_url()
    status, landing = page(article)
    assert status == 200
    assert "Top 3." in landing and "Top 4." not in landing


def test_a_page_past_the_last_after_comments_per_page_is_raised_redirects(settings):
    # Pages stored under the old setting are not this test's subject: they last until they
    # expire (README, COMMENTS_PER_PAGE).
    settings.READER_CACHE_SECONDS = 0
    article = make_article()
    discussion(article, 7)
    assert page(article, 3)[0] == 200
    settings.COMMENTS_PER_PAGE = 5

    response = Client().get(f"{article.get_absolute_url()}?cpage=3")

    assert response.status_code == 302
    assert response["Location"] == f"{article.get_absolute_url()}?cpage=2"


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


def test_a_reply_chosen_on_a_later_page_comes_back_on_that_page():
    """Without JavaScript, a Reply button sends the form back; the page that returns shows
    the comment answered, not the first page of the discussion."""
    refill_pool(5)
    article = make_article()
    roots = discussion(article, 4)
    reader = Client()
    _, second = page(article, 2)

    back = press(reader, second, "Reply to Ada", comment_form_data(second, body="Mine."))

    html = back.content.decode()
    assert back.status_code == 200
    assert "Page 2 of 2" in html
    assert f'id="comment-{roots[3].pk}"' in html
    assert form_values(html, "parent") == str(roots[3].pk)


def test_a_reply_link_from_a_page_past_the_last_still_answers_its_comment():
    """A reply link (?replyto=, as pages made before the Reply buttons had, or a bookmark of
    one) from a page read before moderators withheld comments lands on the page that shows
    the comment, still answering it: not on a form for a new comment, which would post the
    reply on its own."""
    article = make_article()
    roots = discussion(article, 4)
    services.reject(roots[0], by=make_moderator())

    response = Client().get(f"{article.get_absolute_url()}?cpage=2&replyto={roots[3].pk}")
    landing = Client().get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert response["Location"] == f"{article.get_absolute_url()}?replyto={roots[3].pk}"
    assert "Top 4." in landing
    assert "Reply to <bdi>Ada</bdi>" in landing


@pytest.mark.parametrize("cache_seconds", [600, 0], ids=["cached", "uncached"])
def test_a_reply_link_lands_on_the_page_that_shows_the_comment_it_answers(settings, cache_seconds):
    """A reply link without its page number, or from a page read before moderators withheld
    comments above, opens the form answering a comment the page does not show: the reader
    is taken to the page that shows it, with the reply and the link's campaign tags."""
    settings.READER_CACHE_SECONDS = cache_seconds
    article = make_article()
    roots = discussion(article, 5)
    url = article.get_absolute_url()
    Client().get(f"{url}?cpage=2")  # stored, for the cached run

    unnumbered = Client().get(f"{url}?replyto={roots[3].pk}&utm_source=newsletter")
    services.reject(roots[0], by=make_moderator())
    moved_up = Client().get(f"{url}?cpage=2&replyto={roots[3].pk}")
    landing = Client().get(moved_up["Location"]).content.decode()

    assert unnumbered.status_code == moved_up.status_code == 302
    assert unnumbered["Location"] == f"{url}?cpage=2&replyto={roots[3].pk}&utm_source=newsletter"
    assert moved_up["Location"] == f"{url}?replyto={roots[3].pk}"
    assert "Top 4." in landing
    assert "Reply to <bdi>Ada</bdi>" in landing


def test_a_reply_link_to_a_comment_withheld_since_says_so_on_the_last_page():
    article = make_article()
    roots = discussion(article, 4)
    services.reject(roots[3], by=make_moderator())

    response = Client().get(f"{article.get_absolute_url()}?cpage=2&replyto={roots[3].pk}")
    landing = Client().get(response["Location"]).content.decode()

    assert response["Location"] == f"{article.get_absolute_url()}?replyto={roots[3].pk}"
    assert 'id="reply-target-gone"' in landing
    assert "Leave a Reply" in landing


def test_the_page_links_above_and_below_the_comments_are_told_apart():
    """Two landmarks with one name leave a screen reader's list of them ambiguous."""
    article = make_article()
    discussion(article, 4)

    _, first = page(article)

    assert 'aria-label="Pages of comments, above"' in first
    assert 'aria-label="Pages of comments, below"' in first
