"""The moderation queue, driven through the admin's own HTTP endpoints."""

import json
import re
from collections import defaultdict
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import DatabaseError, connection
from django.db.models.fields.files import FieldFile
from django.db.models.signals import post_init, pre_save
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from articles import page_cache
from articles.models import Article
from comments import admin as comments_admin
from comments import cache as comments_cache
from comments import services
from comments.admin import (
    BACKGROUND_DECISIONS,
    DECISION_NOT_TAKEN,
    EDITED_MEANWHILE,
    LEFT_AS_THEY_ARE,
    LISTED_FOR_ERASURE,
    NO_LONGER_THERE,
    SELECTION_CHANGED,
    SHORT_SEARCH,
    TEXT_SAVED,
    TOO_MANY_ARTICLES_TO_DELETE,
    TOO_MANY_TO_DELETE,
    TOO_MANY_TO_ERASE,
    TOO_MANY_TO_EXPORT,
    erasure_listing,
)
from comments.models import BackgroundDecision, Comment, isolated
from comments.privacy import ERASED_REPR, EXPORT_LOG_MESSAGE
from newsroom.cache import shared_by_every_process
from tests.factories import (
    PASSWORD,
    article_change_form,
    form_values,
    make_article,
    make_articles,
    make_comment,
    make_draft,
    make_editor,
    make_moderator,
    make_section,
    make_superuser,
    make_thread_numbered_backwards,
    make_user,
)
from tests.hostile import elements

pytestmark = pytest.mark.django_db

Status = Comment.Status
QUEUE = "/admin/comments/comment/"
# A valid global date and time string with an offset, as HTML defines it (<time datetime>).
HTML_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)")


def date_bar(tag, attrs):
    return attrs.get("aria-labelledby") == "date-hierarchy-label"


def reading_every_date(queries):
    """The statements that read the date of every comment in range (Django's date bar)."""
    return [
        q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"] or "MIN(" in q["sql"]
    ]


def decide_url(comment, decision):
    return f"{QUEUE}{comment.pk}/decide/{decision}/"


def sent_by_button(html, formaction):
    """The name and value a browser sends with the page's button for this decision."""
    [(attrs, _)] = elements(
        html, lambda tag, attrs: tag == "button" and attrs.get("formaction") == formaction
    )
    return {attrs["name"]: attrs["value"]} if attrs.get("name") else {}


def sent_by_its_page(html, label, **typed):
    """What a comment's page sends when its decision button `label` is clicked: the fields
    of the form the button belongs to (its `form` attribute), the text as shown unless
    `typed` says otherwise, and the button's own name and value."""
    form = "comment_form"
    [button] = [
        attrs
        for attrs, text in elements(
            html, lambda tag, attrs: tag == "button" and attrs.get("form") == form
        )
        if text.strip() == label
    ]
    owned = elements(
        html, lambda tag, attrs: tag == "input" and attrs.get("form") == form and "name" in attrs
    )
    [(_, body)] = elements(html, lambda tag, attrs: tag == "textarea" and attrs["name"] == "body")
    return {
        "body": body.removeprefix("\n"),  # the newline after <textarea> is not the text's
        "text_shown": form_values(html, "text_shown"),
        **{attrs["name"]: attrs["value"] for attrs, _ in owned},
        button["name"]: button["value"],
        **typed,
    }


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def status_of(comment):
    return Comment.objects.get(pk=comment.pk).status


@pytest.fixture
def moderator(db):
    return make_moderator()


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def editor_client(client):
    client.force_login(make_editor())
    return client


@pytest.fixture
def superuser_client(client):
    """Deleting comments, exporting and erasing commenters' data: a superuser's."""
    client.force_login(make_superuser())
    return client


def list_rows(response):
    """Each listed comment's row of the moderators' list, by id."""
    rows = re.findall(r"(?s)<tr\b.*?</tr>", response.content.decode())
    return {
        int(match[1]): row
        for row in rows
        if (match := re.search(r'name="_selected_action" value="(\d+)"', row))
    }


def search_plan_without_scans(client, query):
    """PostgreSQL's plan for the moderators' search of every status for `query`. On a test
    table the planner would rather read it all, or walk the date index, so both are ruled
    out: what is left is the trigram index, if every match can use it."""
    response = client.get(QUEUE, {"status": "all", "q": query})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        return response.context["cl"].queryset.explain()


def ticked_on(html, comments):
    """What the list's actions form sends with these rows ticked: their ids, and the status
    every row showed (each row's hidden input)."""
    shown = elements(
        html, lambda tag, attrs: tag == "input" and attrs.get("name") == "status_shown"
    )
    return {
        "_selected_action": [c.pk for c in comments],
        "status_shown": [attrs["value"] for attrs, _ in shown],
    }


def run_action(client, action, comments, url=QUEUE, **extra):
    return client.post(
        url,
        {"action": action, "_selected_action": [c.pk for c in comments], **extra},
        follow=True,
    )


def bulk_comments(articles, status, parents=None):
    """A comment on each article (in reply to each of `parents`), inserted together."""
    return Comment.objects.bulk_create(
        Comment(
            article=article,
            parent=parent,
            name="Reader",
            email="reader@example.com",
            body="Thanks!",
            status=status,
        )
        for article, parent in zip(articles, parents or [None] * len(articles), strict=True)
    )


class TestQueue:
    def test_opens_on_pending_comments_oldest_first(self, moderator_client, article):
        older = make_comment(article, status=Status.PENDING)
        make_comment(article, status=Status.APPROVED)
        newer = make_comment(article, status=Status.PENDING)

        response = moderator_client.get(QUEUE)

        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [older, newer]

    @pytest.mark.parametrize("status", ["all", "approved", "rejected", "spam"])
    def test_other_lists_open_on_the_newest_comments(self, moderator_client, article, status):
        older = make_comment(article, status=status if status != "all" else Status.APPROVED)
        newer = make_comment(article, status=status if status != "all" else Status.SPAM)

        response = moderator_client.get(QUEUE, {"status": status})

        assert list(response.context["cl"].result_list) == [newer, older]

    def test_a_search_shows_no_date_bar_which_would_search_every_comment_twice_more(
        self, moderator_client, article
    ):
        make_comment(article, status=Status.PENDING, body="About the harbour")
        date_bar = 'id="date-hierarchy-label"'

        browsing = moderator_client.get(QUEUE, {"status": "all"})
        with CaptureQueriesContext(connection) as searching:
            found = moderator_client.get(QUEUE, {"status": "all", "q": "harbour"})

        assert date_bar in browsing.content.decode()
        assert date_bar not in found.content.decode()
        assert found.context["cl"].result_count == 1
        searches = [query["sql"] for query in searching.captured_queries if "UPPER" in query["sql"]]
        assert not [sql for sql in searches if "MIN(" in sql or "DISTINCT" in sql]

    def test_the_date_bar_lists_the_years_with_comments_without_reading_every_comment(
        self, moderator_client, article, settings
    ):
        settings.TIME_ZONE = "Asia/Tokyo"
        for written in ("2019-06-01T12:00Z", "2021-12-31T20:00Z", "2026-01-01T00:00Z"):
            comment = make_comment(article)
            Comment.objects.filter(pk=comment.pk).update(created_at=written)

        with CaptureQueriesContext(connection) as queries:
            response = moderator_client.get(QUEUE, {"status": "all"})

        [(_, bar)] = elements(response.content.decode(), date_bar)
        assert re.findall(r"\d{4}", bar) == ["2019", "2022", "2026"]  # in Tokyo, 2021 was over
        assert not reading_every_date(queries)

    def test_the_date_bar_still_opens_on_the_months_of_a_single_year(
        self, moderator_client, article
    ):
        """A young site has one year of comments: Django read all of them for its months."""
        for written in ("2025-03-01T12:00Z", "2025-07-01T12:00Z"):
            comment = make_comment(article)
            Comment.objects.filter(pk=comment.pk).update(created_at=written)

        with CaptureQueriesContext(connection) as queries:
            response = moderator_client.get(QUEUE, {"status": "all"})

        [(_, bar)] = elements(response.content.decode(), date_bar)
        assert re.findall(r"\w+ 2025", bar) == ["March 2025", "July 2025"]
        assert not reading_every_date(queries)

    def test_the_date_bar_opens_on_the_days_of_a_single_month(self, moderator_client, article):
        for written in ("2025-03-01T12:00Z", "2025-03-17T12:00Z"):
            comment = make_comment(article)
            Comment.objects.filter(pk=comment.pk).update(created_at=written)

        with CaptureQueriesContext(connection) as queries:
            response = moderator_client.get(QUEUE, {"status": "all"})

        [(_, bar)] = elements(response.content.decode(), date_bar)
        assert re.findall(r"\w+ \d+", bar) == ["March 1", "March 17"]
        assert "2025" in bar  # the way back to the year's months
        assert not reading_every_date(queries)

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"created_at__year": "2025"}, ["March 2025", "July 2025"]),
            ({"created_at__year": "2025", "created_at__month": "3"}, ["March 1", "March 31"]),
        ],
    )
    def test_each_level_of_the_date_bar_lists_its_periods_without_reading_every_comment(
        self, moderator_client, article, settings, params, expected
    ):
        settings.TIME_ZONE = "America/New_York"  # 1 April 02:00 UTC is still 31 March there
        for written in (
            "2024-12-01T12:00Z",
            "2025-03-01T12:00Z",
            "2025-04-01T02:00Z",
            "2025-07-01T12:00Z",
        ):
            comment = make_comment(article)
            Comment.objects.filter(pk=comment.pk).update(created_at=written)

        with CaptureQueriesContext(connection) as queries:
            response = moderator_client.get(QUEUE, {"status": "all", **params})

        [(_, bar)] = elements(response.content.decode(), date_bar)
        assert re.findall(r"[A-Z][a-z]+ \d+", bar) == expected
        assert not reading_every_date(queries)

    def test_all_shows_every_status_and_each_filter_shows_its_count(
        self, moderator_client, article
    ):
        make_comment(article, status=Status.PENDING)
        make_comment(article, status=Status.APPROVED)
        make_comment(article, status=Status.SPAM)

        response = moderator_client.get(QUEUE, {"status": "all"})

        assert response.context["cl"].result_count == 3
        html = response.content.decode()
        for label in ("All (3)", "Pending (1)", "Approved (1)", "Rejected (0)", "Spam (1)"):
            assert label in html

    @pytest.mark.skipif(
        shared_by_every_process(), reason="a shared cache is cleared for every worker at once"
    )
    def test_the_filters_counts_follow_a_decision_taken_in_another_worker(
        self, moderator_client, article
    ):
        """Without Redis each gunicorn worker has a cache of its own, which a decision taken
        in another worker does not clear."""
        comment = make_comment(article, status=Status.PENDING)
        assert "Pending (1)" in moderator_client.get(QUEUE).content.decode()

        Comment.objects.filter(pk=comment.pk).update(status=Status.APPROVED)  # elsewhere

        html = moderator_client.get(QUEUE, {"status": "all"}).content.decode()
        assert "Pending (0)" in html
        assert "Approved (1)" in html

    def test_an_unknown_status_shows_nothing_rather_than_failing(self, moderator_client, article):
        make_comment(article, status=Status.PENDING)

        response = moderator_client.get(QUEUE, {"status": "<script>"})

        assert response.status_code == 200
        assert response.context["cl"].result_count == 0

    def test_rows_show_what_a_moderator_needs_to_decide(self, moderator_client, article):
        make_comment(
            article,
            status=Status.PENDING,
            name="Grace",
            email="grace@example.com",
            url="https://grace.example/",
            body="Three links here",
            ip_address="203.0.113.5",
            held_reason="3 links (more than 2)",
        )

        html = moderator_client.get(QUEUE).content.decode()

        for expected in (
            "Grace",
            "grace@example.com",
            "https://grace.example/",
            "203.0.113.5",
            "3 links (more than 2)",
            "Three links here",
            f'href="{article.get_absolute_url()}"',
            'class="comment-status comment-status-pending"',
        ):
            assert expected in html

    def test_search_finds_by_email_body_and_ip(self, moderator_client, article):
        found = make_comment(
            article, status=Status.PENDING, email="needle@example.com", ip_address="198.51.100.7"
        )
        make_comment(article, status=Status.PENDING, body="Something else entirely.")

        for query in ("needle@", "198.51.100.7", found.body):
            response = moderator_client.get(QUEUE, {"q": query})
            assert list(response.context["cl"].result_list) == [found], query

    def test_a_search_looks_through_every_status_unless_one_is_picked(
        self, moderator_client, article
    ):
        """The queue opens on pending comments; a commenter looked up by address has their
        published and rejected comments found too, not "0 comments"."""
        approved = make_comment(article, status=Status.APPROVED, email="reader7@example.com")
        rejected = make_comment(article, status=Status.REJECTED, email="reader7@example.com")
        make_comment(article, status=Status.PENDING, email="someone@example.com")

        searched = moderator_client.get(QUEUE, {"q": "reader7@example.com"})
        picked = moderator_client.get(QUEUE, {"q": "reader7@example.com", "status": "pending"})

        assert list(searched.context["cl"].result_list) == [rejected, approved]  # as "All"
        assert list(picked.context["cl"].result_list) == []
        assert list(moderator_client.get(QUEUE).context["cl"].result_list) == [
            Comment.objects.get(email="someone@example.com")
        ]

    @pytest.mark.parametrize(
        ("query", "field", "value"),
        [
            ("Needle@Example.com", "email", "needle@example.com"),
            (" 198.51.100.7 ", "ip_address", "198.51.100.7"),
            ("2001:DB8::7", "ip_address", "2001:db8::7"),
        ],
    )
    def test_a_whole_address_finds_that_commenter_through_its_index(
        self, moderator_client, article, query, field, value
    ):
        found = make_comment(article, status=Status.PENDING, **{field: value})
        make_comment(article, status=Status.PENDING, body=f"Write to {value} for help.")
        lookalike = "x" + value if field == "email" else value.replace("7", "70")
        make_comment(article, status=Status.PENDING, **{field: lookalike})

        with CaptureQueriesContext(connection) as queries:
            response = moderator_client.get(QUEUE, {"q": query})

        assert list(response.context["cl"].result_list) == [found]
        assert not [query for query in queries if " LIKE " in query["sql"].upper()]

    @pytest.mark.parametrize(
        ("query", "found_from", "not_from"),
        [
            ("192.168.", ["192.168.0.7", "192.168.201.1"], ["10.192.168.1", "192.169.0.1"]),
            ("10.0.", ["10.0.0.1", "10.0.12.9"], ["10.10.0.1", "110.0.0.1"]),
            ("10.", ["10.0.0.1", "10.200.3.4"], ["110.0.0.1", "2001:db8::10"]),
            ("2001:DB8:", ["2001:db8::7", "2001:db8:1::"], ["2001:db9::7", "10.0.0.1"]),
            # As logs and firewalls write it; stored as Python writes it, without the zeros.
            ("2001:0db8:000a:", ["2001:db8:a::7"], ["2001:db8:a0::7", "2001:db8::a"]),
        ],
    )
    def test_the_start_of_an_ip_address_finds_the_addresses_that_start_so(
        self, moderator_client, article, query, found_from, not_from
    ):
        """ "10.0." was searched as a commenter's name (no three digits in a row), "192.168."
        anywhere in every address and every comment's text."""
        found = [make_comment(article, status=Status.PENDING, ip_address=a) for a in found_from]
        for address in not_from:
            make_comment(article, status=Status.PENDING, ip_address=address)
        make_comment(article, status=Status.PENDING, body=f"My router is at {query}1")

        response = moderator_client.get(QUEUE, {"q": query})

        assert set(response.context["cl"].result_list) == set(found)
        assert messages_of(response) == []

    @pytest.mark.parametrize(
        ("query", "found_from", "not_from"),
        [
            # Typed as the address is read out, or as Python writes it: the same addresses.
            ("2001:db8:0:", ["2001:db8::1", "2001:db8:0:5::"], ["2001:db8:1::1", "2001:db9::"]),
            ("2001:db8::", ["2001:db8::1", "2001:db8:0:5::"], ["2001:db8:1::1", "2001:db80::"]),
            ("2001:db8:0:0:0:", ["2001:db8::7"], ["2001:db8:0:0:1::", "2001:db8::1:0:0:7"]),
            ("fe80::5:", ["fe80::5:1:2:3", "fe80:0:0:5::"], ["fe80::5", "fe80::6:1:2:3"]),
            # A group cut short: the groups that start so.
            ("2001:db8:a", ["2001:db8:a::1", "2001:db8:abcd::"], ["2001:db8:ba::", "2001:db8::a"]),
        ],
    )
    def test_an_ipv6_start_finds_the_addresses_whatever_their_zeros_are_written_as(
        self, moderator_client, article, query, found_from, not_from
    ):
        """Stored as Python writes it ("2001:db8::1"), an address was searched for as text:
        "2001:db8:0:", the same start written with its zero, found nothing."""
        found = [make_comment(article, status=Status.PENDING, ip_address=a) for a in found_from]
        for address in not_from:
            make_comment(article, status=Status.PENDING, ip_address=address)

        response = moderator_client.get(QUEUE, {"q": query})

        assert set(response.context["cl"].result_list) == set(found)

    @pytest.mark.parametrize(("query", "address"), [("3.5", "3.5.0.1"), ("10:30", "10:30::1")])
    def test_a_number_or_a_time_is_not_taken_for_the_start_of_an_address(
        self, moderator_client, article, query, address
    ):
        make_comment(article, status=Status.PENDING, ip_address=address)
        named = make_comment(article, status=Status.PENDING, name=query)

        response = moderator_client.get(QUEUE, {"q": query})

        assert list(response.context["cl"].result_list) == [named]

    @pytest.mark.parametrize("figure", ["1.000.000", "2.500.000"])
    def test_a_figure_with_dots_between_its_thousands_is_looked_for_in_the_comments(
        self, moderator_client, article, figure
    ):
        """A million is written "1.000.000" in much of Europe: taken for the start of an
        address, which has no "000" nor "500" in it, it found nothing."""
        quoting = make_comment(article, status=Status.PENDING, body=f"It cost {figure} euros.")
        make_comment(article, status=Status.PENDING, ip_address="1.0.0.1")

        response = moderator_client.get(QUEUE, {"q": figure})

        assert list(response.context["cl"].result_list) == [quoting]

    def test_the_start_of_an_ip_address_costs_no_more_queries_than_a_search_for_words(
        self, moderator_client, article, django_assert_max_num_queries
    ):
        for n in range(30):
            make_comment(
                article, status=Status.PENDING, ip_address=f"10.0.0.{n}", body=f"The harbour {n}"
            )
        with CaptureQueriesContext(connection) as searching_words:
            moderator_client.get(QUEUE, {"q": "harbour"})

        with django_assert_max_num_queries(len(searching_words)):
            response = moderator_client.get(QUEUE, {"q": "10.0."})

        assert len(response.context["cl"].result_list) == 30

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
    @pytest.mark.parametrize("query", ["192.168.", "10."])
    def test_the_start_of_an_ipv4_address_is_read_from_the_trigram_index(
        self, moderator_client, article, query
    ):
        """The address's own index (comment_ip_idx, by value) cannot serve a start typed as
        text; the trigram index holds each address as text."""
        make_comment(article, status=Status.PENDING, ip_address="192.168.0.7")

        plan = search_plan_without_scans(moderator_client, query)

        assert "Bitmap Index Scan on comment_search_idx" in plan
        assert "Seq Scan on comments_comment" not in plan

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="an inet column is PostgreSQL's")
    @pytest.mark.parametrize("query", ["2001:db8:0:", "2001:db8::", "fe80::5:", "2001:db8:a"])
    def test_the_start_of_an_ipv6_address_is_read_from_the_address_index(
        self, moderator_client, article, query
    ):
        """Compared as addresses, the comments are found in the addresses' own index."""
        make_comment(article, status=Status.PENDING, ip_address="2001:db8::1")

        plan = search_plan_without_scans(moderator_client, query)

        assert "Bitmap Index Scan on comment_ip_idx" in plan
        assert "Seq Scan on comments_comment" not in plan

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
    def test_a_search_for_words_is_read_from_the_trigram_index(self, moderator_client, article):
        """Every field searched, as Django compares it, is a match the index answers."""
        make_comment(article, status=Status.PENDING, body="About the harbour")

        plan = search_plan_without_scans(moderator_client, "harbour 198.51")

        assert "Bitmap Index Scan on comment_search_idx" in plan
        assert "Seq Scan on comments_comment" not in plan

    @pytest.mark.parametrize(("query", "told"), [("al", "al"), (" AL ", "AL"), ('"Al"', "Al")])
    def test_a_search_of_one_or_two_letters_finds_commenters_of_that_name_only(
        self, moderator_client, article, query, told
    ):
        """No index serves "%al%" (trigrams need three letters): it read every comment, and
        found most of them. A moderator typing two letters is after a name like "Al"."""
        named_al = make_comment(article, status=Status.APPROVED, name="Al")
        make_comment(article, status=Status.PENDING, name="Alice", body="Al was right.")
        make_comment(article, status=Status.PENDING, email="al@example.com")

        response = moderator_client.get(QUEUE, {"q": query})

        assert list(response.context["cl"].result_list) == [named_al]
        assert messages_of(response) == [SHORT_SEARCH.format(term=isolated(told))]

    def test_a_decision_on_a_short_searchs_list_says_what_was_searched_once(
        self, moderator_client, article
    ):
        """The action's request reads the list twice and redirects to it, which reads it
        again: the notice was queued each time, and the page after showed it three times."""
        named_al = make_comment(article, status=Status.PENDING, name="Al")

        response = run_action(moderator_client, "approve_selected", [named_al], url=f"{QUEUE}?q=al")

        assert status_of(named_al) == Status.APPROVED
        assert response.content.decode().count("too short to search comments for") == 1

    def test_a_short_search_is_told_back_escaped(self, moderator_client):
        response = moderator_client.get(QUEUE, {"q": "<b>"})

        assert "commenters named exactly “\u2068&lt;b&gt;\u2069” are shown" in (
            response.content.decode()
        )

    def test_a_search_with_one_word_of_three_letters_searches_everything(
        self, moderator_client, article
    ):
        found = make_comment(article, status=Status.PENDING, name="Jo", body="The harbour wall")

        response = moderator_client.get(QUEUE, {"q": "jo har"})

        assert list(response.context["cl"].result_list) == [found]
        assert messages_of(response) == []

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
    def test_a_search_of_two_letters_is_read_from_the_trigram_index(
        self, moderator_client, article
    ):
        """As test_a_search_for_words_is_read_from_the_trigram_index, but the index must
        answer with what it holds: for LIKE '%AL%' (~~) it can only list every comment."""
        make_comment(article, status=Status.PENDING, name="Al")

        plan = search_plan_without_scans(moderator_client, "al")

        assert "Bitmap Index Scan on comment_search_idx" in plan
        assert "Seq Scan on comments_comment" not in plan
        assert "~~" not in plan

    def test_a_short_search_costs_no_more_queries_than_a_search_for_words(
        self, moderator_client, article, django_assert_max_num_queries
    ):
        for n in range(30):
            make_comment(article, status=Status.PENDING, name="Al", body=f"The harbour {n}")
        with CaptureQueriesContext(connection) as searching_words:
            moderator_client.get(QUEUE, {"q": "harbour"})

        with django_assert_max_num_queries(len(searching_words)):
            response = moderator_client.get(QUEUE, {"q": "al"})

        assert len(response.context["cl"].result_list) == 30

    def test_filter_by_article_section(self, moderator_client):
        sport = make_section(name="Sport", slug="sport")
        in_sport = make_comment(make_article(section=sport), status=Status.PENDING)
        make_comment(make_article(), status=Status.PENDING)

        response = moderator_client.get(QUEUE, {"article__section__id__exact": sport.pk})

        assert list(response.context["cl"].result_list) == [in_sport]

    def test_comment_text_is_escaped(self, moderator_client, article):
        make_comment(
            article, status=Status.PENDING, name="<b>x</b>", body="<script>alert(1)</script>"
        )

        html = moderator_client.get(QUEUE).content.decode()

        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;" in html

    def test_query_count_does_not_grow_with_500_comments_per_page(
        self, moderator_client, article, monkeypatch, django_assert_max_num_queries
    ):
        monkeypatch.setattr(admin.site._registry[Comment], "list_per_page", 500)
        make_comment(article, status=Status.PENDING)
        with django_assert_max_num_queries(14) as one:
            moderator_client.get(QUEUE)
        other = make_article()
        Comment.objects.bulk_create(
            Comment(
                article=article if n % 2 else other,
                name=f"Reader {n}",
                email=f"r{n}@example.com",
                body=f"Comment {n}",
                status=Status.PENDING,
            )
            for n in range(499)
        )

        with django_assert_max_num_queries(len(one.captured_queries)):
            response = moderator_client.get(QUEUE)

        assert len(response.context["cl"].result_list) == 500

    def test_an_approved_reply_under_a_withheld_comment_says_readers_cannot_see_it(
        self, moderator_client, article
    ):
        """Approved, yet build_thread leaves it off the page: the list said only "Approved"."""
        withheld = make_comment(article, status=Status.SPAM)
        hidden = make_comment(article, parent=make_comment(article, parent=withheld))
        shown = make_comment(article, parent=make_comment(article))

        rows = list_rows(moderator_client.get(QUEUE, {"status": "approved"}))

        assert "Not shown to readers: a comment above it is withheld." in rows[hidden.pk]
        assert "Not shown to readers" not in rows[shown.pk]

    def test_an_approved_comment_on_an_unpublished_article_says_readers_cannot_see_it(
        self, moderator_client
    ):
        comment = make_comment(make_article(status=Article.Status.DRAFT))

        rows = list_rows(moderator_client.get(QUEUE, {"status": "approved"}))

        assert "Not shown to readers: the article is not published." in rows[comment.pk]

    def test_whether_replies_are_shown_is_read_once_for_the_whole_page(
        self, moderator_client, article, django_assert_max_num_queries
    ):
        parent = make_comment(article, status=Status.REJECTED)
        make_comment(article, parent=parent)
        with django_assert_max_num_queries(14) as one:
            moderator_client.get(QUEUE, {"status": "approved"})
        for _ in range(30):
            parent = make_comment(article, parent=parent)

        with django_assert_max_num_queries(len(one.captured_queries)):
            rows = list_rows(moderator_client.get(QUEUE, {"status": "approved"}))

        assert len(rows) == 31
        assert all("a comment above it is withheld" in row for row in rows.values())

    def test_the_queue_counts_the_whole_table_once_in_the_status_filter(
        self, moderator_client, article, django_assert_max_num_queries
    ):
        make_comment(article, status=Status.PENDING)
        make_comment(article, status=Status.APPROVED)

        with django_assert_max_num_queries(14) as queries:
            html = moderator_client.get(QUEUE).content.decode()

        unfiltered = [
            query["sql"]
            for query in queries.captured_queries
            if query["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "comments_comment"')
            and "WHERE" not in query["sql"]
        ]
        assert unfiltered == []
        assert "All (2)" in html

    @pytest.mark.parametrize("status", ["all", "approved", "spam"])
    def test_a_list_of_one_status_is_counted_by_the_status_filter_not_again(
        self, moderator_client, article, status, django_assert_max_num_queries
    ):
        """The filter's "All (n)" already counts every comment; Django counted the list
        again on every page (a million comments for All, nearly as many for Approved)."""
        for _ in range(2):
            make_comment(article, status=Status.APPROVED)
        make_comment(article, status=Status.SPAM)
        make_comment(article, status=Status.PENDING)

        with django_assert_max_num_queries(14) as queries:
            response = moderator_client.get(QUEUE, {"status": status})

        counts = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
        assert not [sql for sql in counts if "pending" not in sql]  # the notice's count only
        expected = {"all": 4, "approved": 2, "spam": 1}[status]
        assert response.context["cl"].result_count == expected
        assert len(list_rows(response)) == expected
        assert f"{expected} comment" in response.content.decode()

    def test_the_last_page_of_a_list_counted_by_the_status_filter_has_the_oldest_comments(
        self, moderator_client, article, monkeypatch
    ):
        monkeypatch.setattr(admin.site._registry[Comment], "list_per_page", 2)
        oldest, *_ = [make_comment(article) for _ in range(3)]

        response = moderator_client.get(QUEUE, {"status": "approved", "p": "2"})

        assert list(response.context["cl"].result_list) == [oldest]

    def test_the_queue_and_filtered_lists_are_still_counted_row_by_row(
        self, moderator_client, article
    ):
        """The queue must never miss a comment, whatever the cached counts say; a list
        filtered by anything but the status has no count of its own to read."""
        make_comment(article, status=Status.PENDING)
        make_comment(make_article(), status=Status.APPROVED)

        queue = moderator_client.get(QUEUE)
        on_article = moderator_client.get(
            QUEUE, {"status": "approved", "article__id__exact": article.pk}
        )

        assert queue.context["cl"].result_count == 1
        assert on_article.context["cl"].result_count == 0

    @pytest.mark.parametrize(
        ("params", "budget"),
        [
            ({}, 12),
            ({"status": "all"}, 11),
            ({"status": "approved"}, 11),
            ({"status": "all", "q": "harbour"}, 9),
            ({"status": "all", "created_at__year": "2025"}, 11),
        ],
    )
    def test_each_list_stays_within_its_query_budget(
        self, moderator_client, article, params, budget, django_assert_max_num_queries
    ):
        """Comments in three years, and a month with several days: each period the date bar
        lists is one probe of the date's index."""
        for written in ("2023-05-01T12:00Z", "2025-03-01T12:00Z", "2025-03-09T12:00Z"):
            for status in (Status.PENDING, Status.APPROVED):
                comment = make_comment(article, status=status, body="The harbour")
                Comment.objects.filter(pk=comment.pk).update(created_at=written)

        with django_assert_max_num_queries(budget):
            response = moderator_client.get(QUEUE, params)

        assert response.context["cl"].result_count


class TestBulkDecisions:
    def test_approve_in_bulk_with_the_usual_message(self, moderator_client, moderator, article):
        comments = [make_comment(article, status=Status.PENDING) for _ in range(3)]

        response = run_action(moderator_client, "approve_selected", comments)

        assert "3 comments approved." in messages_of(response)
        assert {status_of(c) for c in comments} == {Status.APPROVED}
        assert Article.objects.get(pk=article.pk).comment_count == 3
        assert LogEntry.objects.filter(user=moderator).count() == 3

    @pytest.mark.parametrize(
        ("action", "start", "end", "message"),
        [
            ("unapprove_selected", Status.APPROVED, Status.PENDING, "2 comments moved back"),
            ("reject_selected", Status.PENDING, Status.REJECTED, "2 comments rejected."),
            ("mark_selected_as_spam", Status.PENDING, Status.SPAM, "2 comments marked as spam."),
        ],
    )
    def test_each_bulk_decision(self, moderator_client, article, action, start, end, message):
        comments = [make_comment(article, status=start) for _ in range(2)]

        response = run_action(moderator_client, action, comments, url=f"{QUEUE}?status=all")

        assert any(m.startswith(message) for m in messages_of(response))
        assert {status_of(c) for c in comments} == {end}

    def test_a_bulk_decision_costs_the_same_queries_for_3_or_30_comments(
        self, moderator_client, moderator, article
    ):
        """Each article locked, recounted and logged once per action, not once per comment."""
        other_article = make_article()
        moderator_client.get(QUEUE)  # a shared cache keeps the filter's counts from here on
        ContentType.objects.get_for_model(Comment)  # the log's, read once per process
        queries = {}
        for size in (3, 30):
            comments = [
                make_comment(choice, status=Status.PENDING)
                for choice in [article, other_article] * size
            ][:size]
            with CaptureQueriesContext(connection) as captured:
                response = moderator_client.post(
                    QUEUE,
                    {"action": "approve_selected", "_selected_action": [c.pk for c in comments]},
                )
            queries[size] = len(captured)
            assert response.status_code == 302
            assert {status_of(c) for c in comments} == {Status.APPROVED}

        assert queries[30] == queries[3]
        assert LogEntry.objects.filter(user=moderator).count() == 33
        assert Article.objects.get(pk=article.pk).comment_count == 2 + 15

    def test_a_bulk_decision_reads_the_comments_without_their_articles(
        self, moderator_client, article
    ):
        """A "select all" can take tens of thousands of comments: joining each one's article,
        body and all, as the list does to show its title, made the action's read 3 times
        slower at 70,000."""
        comments = [make_comment(article, status=Status.PENDING) for _ in range(2)]

        with CaptureQueriesContext(connection) as captured:
            response = moderator_client.post(
                QUEUE,
                {"action": "mark_selected_as_spam", "_selected_action": [c.pk for c in comments]},
            )

        assert response.status_code == 302
        assert {status_of(c) for c in comments} == {Status.SPAM}
        assert not [q for q in captured if 'JOIN "articles_article"' in q["sql"]]

    def test_comments_whose_parents_go_round_in_a_circle_are_listed_and_decided(
        self, moderator_client, article
    ):
        """A fixture loaded with loaddata, or rows written by hand, can make two comments
        each other's parent: the list, a search and a decision on them follow their parents
        round once, not round and round."""
        first = make_comment(article, status=Status.PENDING, body="Goes round.")
        second = make_comment(article, parent=first, status=Status.PENDING)
        below = make_comment(article, parent=second, status=Status.PENDING)
        Comment.objects.filter(pk=first.pk).update(parent=second)
        circle = [first, second, below]

        assert len(list_rows(moderator_client.get(QUEUE))) == 3
        assert moderator_client.get(f"{QUEUE}?q=round").status_code == 200
        response = run_action(moderator_client, "approve_selected", circle)

        assert messages_of(response)[0].startswith("3 comments approved.")
        assert {status_of(c) for c in circle} == {Status.APPROVED}
        assert Article.objects.get(pk=article.pk).comment_count == 0  # readers see none

    def test_approving_replies_under_a_rejected_comment_says_readers_do_not_see_them(
        self, moderator_client, article
    ):
        """They leave the queue, "approved": the moderator took them for published."""
        rejected = make_comment(article, status=Status.REJECTED)
        replies = [make_comment(article, parent=rejected, status=Status.PENDING) for _ in "ab"]
        shown = make_comment(article, status=Status.PENDING)
        on_draft = make_comment(make_draft(), status=Status.PENDING)

        response = run_action(moderator_client, "approve_selected", [*replies, shown, on_draft])

        assert messages_of(response) == [
            "4 comments approved. 3 of them are not shown to readers yet: a comment above "
            "each is withheld, or its article is not published."
        ]

    def test_select_all_approves_more_replies_than_sqlite_takes_parameters_in_a_statement(
        self, moderator_client, old_sqlite_parameter_limit
    ):
        """Which approved comments readers cannot see was asked in two statements with a
        parameter for each comment and each article: "select all" over more than SQLite
        takes (32,766 as built) was a 500, after the comments were approved."""
        articles = make_articles(1_000)
        replies = bulk_comments(
            articles, Status.PENDING, parents=bulk_comments(articles, Status.REJECTED)
        )

        response = run_action(moderator_client, "approve_selected", replies[:1], select_across="1")

        assert messages_of(response) == [
            "1,000 comments approved. 1,000 of them are not shown to readers yet: a comment "
            "above each is withheld, or its article is not published."
        ]

    @pytest.mark.parametrize("action", ["approve_selected", "unapprove_selected"])
    def test_query_count_does_not_grow_with_the_articles_decided_on(
        self, moderator_client, action, django_assert_max_num_queries
    ):
        """A page of the queue spans up to a hundred articles: each was recounted with a
        read and a write of its own."""
        status = Status.PENDING if action == "approve_selected" else Status.APPROVED

        def thread():
            article = make_article()
            parent = make_comment(article, status=status)
            return [parent, make_comment(article, parent=parent, status=status)]

        one = thread()
        with django_assert_max_num_queries(33) as queries:
            run_action(moderator_client, action, one, url=f"{QUEUE}?status=all")
        many = [comment for _ in range(20) for comment in thread()]

        with django_assert_max_num_queries(len(queries.captured_queries)):
            run_action(moderator_client, action, many, url=f"{QUEUE}?status=all")

        expected = 2 if action == "approve_selected" else 0
        counts = Article.objects.filter(comments__in=many).values_list("comment_count", flat=True)
        assert set(counts) == {expected}

    def test_comments_already_in_that_state_are_counted_apart(self, moderator_client, article):
        pending = make_comment(article, status=Status.PENDING)
        approved = make_comment(article, status=Status.APPROVED)

        response = run_action(
            moderator_client, "approve_selected", [pending, approved], url=f"{QUEUE}?status=all"
        )

        assert "1 comment approved. 1 comment already was." in messages_of(response)
        assert LogEntry.objects.filter(object_id=str(approved.pk)).count() == 0

    def test_rows_another_moderator_decided_meanwhile_are_left_and_the_message_says_so(
        self, moderator_client, article
    ):
        """Two moderators on one queue: ticking two rows shown as pending, one of which the
        other moderator had marked as spam since, read "1 comment approved" (or, with that
        row alone, "0 comments approved") and nothing about the other."""
        kept = make_comment(article, status=Status.PENDING)
        taken = make_comment(article, status=Status.PENDING)
        services.mark_spam(taken, by=make_moderator("max"))

        response = run_action(moderator_client, "approve_selected", [kept, taken])

        assert (status_of(kept), status_of(taken)) == (Status.APPROVED, Status.SPAM)
        assert messages_of(response) == ["1 comment approved.", LEFT_AS_THEY_ARE[False]]

        response = run_action(moderator_client, "reject_selected", [taken])

        assert status_of(taken) == Status.SPAM
        assert messages_of(response) == [LEFT_AS_THEY_ARE[False]]

    def test_an_approval_sent_twice_from_the_queue_says_the_rows_already_were_approved(
        self, moderator_client, article
    ):
        """The same action sent again (Back and Run, a second tab, another moderator who
        approved them first): the rows had left the queue, and the moderator read that
        they were "left as they are... Decide again if you still mean to", about comments
        approved as they meant, where "All" said "already were"."""
        first = make_comment(article, status=Status.PENDING)
        second = make_comment(article, status=Status.PENDING)
        html = moderator_client.get(QUEUE).content.decode()
        sent = {"action": "approve_selected", **ticked_on(html, [first, second])}
        moderator_client.post(QUEUE, sent, follow=True)

        again = moderator_client.post(QUEUE, sent, follow=True)

        assert messages_of(again) == ["2 comments already were approved."]
        assert LogEntry.objects.count() == 2  # the first approvals alone

        third = make_comment(article, status=Status.PENDING)
        services.approve(third, by=make_moderator("max"))
        response = run_action(moderator_client, "approve_selected", [third])

        assert messages_of(response) == ["1 comment already was approved."]

    @pytest.mark.parametrize("listed", [{"status": "all"}, {"q": "Comment number"}])
    def test_on_all_or_a_search_rows_decided_meanwhile_are_left_as_decided(
        self, moderator_client, moderator, article, listed
    ):
        """Those lists show every status, so the action kept no filter: a row ticked as
        pending, which another moderator had marked as spam since, was published by
        "Approve selected"."""
        kept = make_comment(article, status=Status.PENDING)
        taken = make_comment(article, status=Status.PENDING)
        rejected = make_comment(article, status=Status.REJECTED)
        already = make_comment(article, status=Status.PENDING)
        url = f"{QUEUE}?{urlencode(listed)}"
        html = moderator_client.get(url).content.decode()
        services.mark_spam(taken, by=make_moderator("max"))
        services.approve(rejected, by=make_moderator("mia"))
        services.approve(already, by=make_moderator("mo"))

        response = moderator_client.post(
            url,
            {"action": "approve_selected", **ticked_on(html, [kept, taken, rejected, already])},
            follow=True,
        )

        assert [status_of(c) for c in (kept, taken, rejected, already)] == [
            Status.APPROVED,
            Status.SPAM,
            Status.APPROVED,
            Status.APPROVED,
        ]
        assert LogEntry.objects.filter(user=moderator).count() == 1
        assert messages_of(response) == [
            "1 comment approved. 2 comments already were.",
            LEFT_AS_THEY_ARE[False],
        ]

    def test_a_row_shown_as_spam_and_approved_meanwhile_is_not_marked_as_spam_again(
        self, moderator_client, article
    ):
        comment = make_comment(article, status=Status.SPAM)
        url = f"{QUEUE}?status=all"
        html = moderator_client.get(url).content.decode()
        services.approve(comment, by=make_moderator("max"))

        response = moderator_client.post(
            url, {"action": "reject_selected", **ticked_on(html, [comment])}, follow=True
        )

        assert status_of(comment) == Status.APPROVED
        assert messages_of(response) == [LEFT_AS_THEY_ARE[False]]

    # As Django's action form reads it: a hand-made "true" selects across the pages too.
    @pytest.mark.parametrize("across", ["1", "true"])
    def test_select_all_decides_what_the_list_selects_when_it_is_run(
        self, moderator_client, article, across
    ):
        """Across the pages there is no status shown for most rows: "select all" on "All"
        means every comment, whatever its status by then."""
        comments = [make_comment(article, status=Status.PENDING) for _ in range(2)]
        url = f"{QUEUE}?status=all"
        html = moderator_client.get(url).content.decode()
        services.mark_spam(comments[0], by=make_moderator("max"))

        response = moderator_client.post(
            url,
            {"action": "approve_selected", "select_across": across, **ticked_on(html, comments)},
            follow=True,
        )

        assert {status_of(c) for c in comments} == {Status.APPROVED}
        assert messages_of(response) == ["2 comments approved."]

    @pytest.mark.django_db(transaction=True)
    def test_select_all_decides_a_chunk_at_a_time_each_committed_before_the_next(
        self, moderator_client, monkeypatch
    ):
        """ "Select all" over 40,000 comments was one transaction holding their articles'
        locks for over a minute: comment counts and other moderators waited for all of it."""
        monkeypatch.setattr(services, "DECISION_CHUNK", 2)
        for _ in range(5):
            make_comment(make_article(), status=Status.PENDING)
        decide_chunk, committed = services.moderate_chunk, []

        def each_chunk(chunk, *args, **kwargs):
            decided = decide_chunk(chunk, *args, **kwargs)
            committed.append((connection.in_atomic_block, Comment.objects.approved().count()))
            return decided

        monkeypatch.setattr(services, "moderate_chunk", each_chunk)

        response = moderator_client.post(
            QUEUE, {"action": "approve_selected", "select_across": "1", "_selected_action": ["1"]}
        )

        assert response.status_code == 302
        assert committed == [(False, 2), (False, 4), (False, 5)]
        assert messages_of(response) == ["5 comments approved."]

    def test_select_all_leaves_comments_another_moderator_decides_while_it_runs(
        self, moderator_client, moderator, monkeypatch
    ):
        """Decided a chunk at a time, a spam comment that another moderator took out of the
        queue while the first chunks went through was still approved by the last one."""
        monkeypatch.setattr(services, "DECISION_CHUNK", 2)
        comments = [make_comment(make_article(), status=Status.PENDING) for _ in range(5)]
        decide_chunk = services.moderate_chunk

        def another_moderator_meanwhile(chunk, *args, **kwargs):
            decided = decide_chunk(chunk, *args, **kwargs)
            if comments[0] in chunk:
                decide_chunk([Comment.objects.get(pk=comments[4].pk)], Status.SPAM, by=other)
            return decided

        other = make_moderator("max")
        monkeypatch.setattr(services, "moderate_chunk", another_moderator_meanwhile)

        response = run_action(moderator_client, "approve_selected", comments[:1], select_across="1")

        assert [status_of(c) for c in comments] == [Status.APPROVED] * 4 + [Status.SPAM]
        assert LogEntry.objects.filter(user=moderator).count() == 4
        assert Comment.objects.get(pk=comments[4].pk).moderated_by == other
        assert messages_of(response) == ["4 comments approved.", LEFT_AS_THEY_ARE[False]]

    # Real commits: the task runs after the response, when Django's request has ended.
    @pytest.mark.django_db(transaction=True)
    def test_select_all_over_more_than_a_request_can_take_is_decided_after_the_response(
        self, moderator_client, moderator, past_the_request
    ):
        """40,000 comments took tens of seconds in the request on a busy server: past
        gunicorn's 30 s the moderator got an error page, and the lots decided until then
        stayed decided."""
        comments = past_the_request(4)

        response = run_action(moderator_client, "approve_selected", comments[:1], select_across="1")

        assert messages_of(response)[0] == (
            "Approving 4 comments in the background: the list will show them as they are "
            "decided, 500 at a time. Any that someone else decides on meanwhile stay as they "
            "decided."
        )
        assert {status_of(c) for c in comments} == {Status.APPROVED}
        assert LogEntry.objects.filter(user=moderator, change_message="Approved.").count() == 4
        counts = Article.objects.filter(comments__in=comments).values_list("comment_count")
        assert set(counts) == {(1,)}

    @pytest.mark.django_db(transaction=True)
    def test_the_moderator_is_told_once_how_a_decision_in_the_background_ended(
        self, moderator_client, past_the_request
    ):
        """It ran after the response, and its outcome went only to the log: the moderator
        never learnt how many it approved, nor that readers could not see some of them."""
        spam = make_comment(make_article(), status=Status.SPAM)
        under_spam = make_comment(spam.article, parent=spam, status=Status.PENDING)
        comments = past_the_request(3)

        response = run_action(moderator_client, "approve_selected", comments[:1], select_across="1")
        again = moderator_client.get(QUEUE)

        assert status_of(under_spam) == Status.APPROVED
        assert messages_of(response)[1:] == [
            "Approving 4 comments in the background has ended: 4 comments approved. 1 of them "
            "is not shown to readers yet: a comment above it is withheld, or its article is "
            "not published."
        ]
        assert messages_of(again) == []

    @pytest.mark.django_db(transaction=True)
    def test_a_decision_in_the_background_that_fails_is_told_as_failed(
        self, moderator_client, monkeypatch, past_the_request
    ):
        """A database error half-way: the lots committed before it stay decided, and the
        moderator, told nothing, believed the whole selection was."""
        monkeypatch.setattr(services, "DECISION_CHUNK", 2)
        comments = past_the_request(4)
        decide_chunk = services.moderate_chunk

        def second_lot_fails(chunk, *args, **kwargs):
            if comments[0] not in chunk:
                raise DatabaseError("could not serialize access due to concurrent update")
            return decide_chunk(chunk, *args, **kwargs)

        monkeypatch.setattr(services, "moderate_chunk", second_lot_fails)

        response = run_action(moderator_client, "approve_selected", comments[:1], select_across="1")

        assert [status_of(c) for c in comments] == [Status.APPROVED] * 2 + [Status.PENDING] * 2
        [_, told] = messages_of(response)
        assert told.startswith("Approving 4 comments in the background, started ")
        assert "failed before it ended" in told
        assert "has ended" not in told
        assert messages_of(moderator_client.get(QUEUE)) == []

    @pytest.mark.django_db(transaction=True)
    def test_telling_how_a_background_decision_ended_keeps_the_list_within_its_budget(
        self, moderator_client, past_the_request, django_assert_max_num_queries
    ):
        """No query on a page with nothing to tell (the lists' budgets above, and the page
        after), and three on the one that tells: the decision read, then forgotten, and the
        session written without it."""
        comments = past_the_request(4)
        selection = {"action": "approve_selected", "select_across": "1"}
        moderator_client.post(QUEUE, {**selection, "_selected_action": [comments[0].pk]})

        with CaptureQueriesContext(connection) as telling_queries:
            telling = moderator_client.get(QUEUE)
        with django_assert_max_num_queries(12) as after_queries:
            after = moderator_client.get(QUEUE)

        def about_telling(queries):
            """The statements on the decisions to tell, and the session's write."""
            return [
                q["sql"].split()[0]
                for q in queries.captured_queries
                if "comments_backgrounddecision" in q["sql"]
                or q["sql"].startswith('UPDATE "django_session"')
            ]

        assert about_telling(telling_queries) == ["SELECT", "DELETE", "UPDATE"]
        assert about_telling(after_queries) == []
        assert [m.level_tag for m in get_messages(telling.wsgi_request)] == ["info", "success"]
        assert messages_of(after) == []
        assert {status_of(c) for c in comments} == {Status.APPROVED}

    @pytest.mark.django_db(transaction=True)
    def test_a_moderator_away_for_weeks_is_still_told_how_their_decision_ended(
        self, moderator_client, past_the_request
    ):
        """Other moderators' large decisions delete what nobody was told of in 30 days, not
        the decision of a moderator who has not looked at the list since theirs."""
        comments = past_the_request(4)
        selection = {"action": "approve_selected", "select_across": "1"}
        moderator_client.post(QUEUE, {**selection, "_selected_action": [comments[0].pk]})
        BackgroundDecision.objects.update(queued_at=timezone.now() - timedelta(days=29))
        others = [make_comment(make_article(), status=Status.PENDING) for _ in range(4)]
        services.moderate_later(others, Status.SPAM, by=make_moderator("max"), seen={})

        [announced, told] = messages_of(moderator_client.get(QUEUE))

        assert announced.startswith("Approving 4 comments in the background: the list will ")
        assert told == "Approving 4 comments in the background has ended: 4 comments approved."

    @pytest.mark.django_db(transaction=True)
    def test_a_decision_deleted_before_its_moderator_was_told_is_forgotten_quietly(
        self, moderator_client, past_the_request
    ):
        """Deleted weeks later (services.BACKGROUND_DECISIONS_KEPT) while the moderator's
        session still lists it: the list shows, without it, and stops looking for it."""
        comments = past_the_request(4)
        selection = {"action": "approve_selected", "select_across": "1"}
        moderator_client.post(QUEUE, {**selection, "_selected_action": [comments[0].pk]})
        BackgroundDecision.objects.all().delete()

        response = moderator_client.get(QUEUE)
        after = moderator_client.get(QUEUE)

        assert response.status_code == after.status_code == 200
        [announced] = messages_of(response)  # and nothing of how it went
        assert announced.startswith("Approving 4 comments in the background: the list will ")
        assert messages_of(after) == []
        assert moderator_client.session[BACKGROUND_DECISIONS] == []

    def test_moderators_cannot_delete(self, moderator_client, article):
        comment = make_comment(article, status=Status.PENDING)

        response = moderator_client.get(QUEUE)
        actions = [value for value, _ in response.context["action_form"].fields["action"].choices]
        run_action(moderator_client, "delete_selected", [comment], post="yes")

        assert "delete_selected" not in actions
        assert "approve_selected" in actions
        assert Comment.objects.filter(pk=comment.pk).exists()

    def test_an_editor_deletes_and_the_count_follows(self, superuser_client, article):
        comment = make_comment(article, status=Status.APPROVED)
        make_comment(article, status=Status.APPROVED, parent=comment)
        kept = make_comment(article, status=Status.APPROVED)
        from comments.services import refresh_comment_count

        refresh_comment_count(article.pk)

        run_action(
            superuser_client, "delete_selected", [comment], url=f"{QUEUE}?status=all", post="yes"
        )

        assert list(Comment.objects.all()) == [kept]
        assert Article.objects.get(pk=article.pk).comment_count == 1

    @pytest.mark.parametrize("confirmed", [False, True])
    def test_deleting_more_comments_than_a_request_takes_is_refused_with_what_to_do_instead(
        self, superuser_client, past_the_request, confirmed
    ):
        """Deleted in the request (its confirmation page too read every comment one by one):
        20,000 took 9 s to confirm and 11 s to delete on an idle server, and past gunicorn's
        30 s the worker was killed, the deletion rolled back, and the editor got an error."""
        comments = past_the_request(4)

        response = run_action(
            superuser_client,
            "delete_selected",
            comments[:1],
            url=f"{QUEUE}?status=all",
            select_across="1",
            **({"post": "yes"} if confirmed else {}),
        )

        assert response.status_code == 200
        assert "Are you sure" not in response.content.decode()
        assert messages_of(response) == [TOO_MANY_TO_DELETE.format(count="4", most="3")]
        assert "at most 3 are deleted at a time." in messages_of(response)[0]  # 3 of what
        assert Comment.objects.count() == 4

    @pytest.mark.parametrize("confirmed", [False, True])
    def test_the_replies_that_go_with_the_comments_count_towards_what_a_request_deletes(
        self, superuser_client, past_the_request, confirmed
    ):
        """Two comments selected, five deleted: their replies (and theirs) go with them, one
        by one too, and a selection under the limit could still outlast the time limit."""
        first, second = past_the_request(2)
        reply = make_comment(first.article, parent=first)
        make_comment(first.article, parent=reply)
        make_comment(second.article, parent=second)

        response = run_action(
            superuser_client,
            "delete_selected",
            [first, second],
            url=f"{QUEUE}?status=all",
            **({"post": "yes"} if confirmed else {}),
        )

        assert "Are you sure" not in response.content.decode()
        assert messages_of(response) == [TOO_MANY_TO_DELETE.format(count="2", most="3")]
        assert Comment.objects.count() == 5

    def test_deleting_the_first_comment_of_a_long_exchange_lists_what_goes_and_deletes_it(
        self, superuser_client, article
    ):
        """Django lists what a deletion takes nested as deep as it goes, each level a call
        within the last: under the first comment of a chain of 400 replies (two readers
        answering each other) its confirmation page was a server error."""
        above = first = make_comment(article)
        for _ in range(400):
            above = make_comment(article, parent=above)
        url = f"{QUEUE}{first.pk}/delete/"

        asked = superuser_client.get(url)

        assert asked.status_code == 200
        assert "Are you sure" in asked.content.decode()
        assert superuser_client.post(url, {"post": "yes"}).status_code == 302
        assert not Comment.objects.exists()

    def test_a_selection_within_the_limit_with_its_replies_is_deleted(
        self, superuser_client, past_the_request
    ):
        (first,) = past_the_request(1)
        make_comment(first.article, parent=first)

        run_action(
            superuser_client, "delete_selected", [first], url=f"{QUEUE}?status=all", post="yes"
        )

        assert not Comment.objects.exists()

    def test_a_confirmed_deletion_of_more_than_a_thousand_comments_across_the_pages_deletes_them(
        self, superuser_client, article
    ):
        """Django's confirmation sent one field per comment listed, and a form with over
        1,000 fields is refused (DATA_UPLOAD_MAX_NUMBER_FIELDS): an editor clearing a spam
        wave of 1,500 within the limit got a 400 at "Yes, I'm sure", and nothing deleted."""
        spam = bulk_comments([article] * 1_100, Status.SPAM)
        url = f"{QUEUE}?status=spam"
        confirmation = superuser_client.post(
            url,
            {"action": "delete_selected", "_selected_action": [spam[0].pk], "select_across": "1"},
        )
        assert "Are you sure" in confirmation.content.decode()
        sent = defaultdict(list)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', confirmation.content.decode()
        ):
            sent[name].append(value)

        response = superuser_client.post(url, sent, follow=True)

        assert response.status_code == 200
        assert not Comment.objects.exists()

    def test_deleting_comments_on_more_articles_than_sqlite_takes_parameters_recounts_them(
        self, superuser_client, old_sqlite_parameter_limit
    ):
        """The articles were locked and recounted with a parameter for each: "select all"
        over comments on more articles than SQLite takes (32,766) was a 500."""
        articles = make_articles(1_000)
        comments = bulk_comments(articles, Status.APPROVED)
        Article.objects.filter(comments__isnull=False).update(comment_count=1)

        response = run_action(
            superuser_client,
            "delete_selected",
            comments[:1],
            url=f"{QUEUE}?status=all",
            select_across="1",
            post="yes",
        )

        assert response.status_code == 200
        assert not Comment.objects.exists()
        assert set(Article.objects.values_list("comment_count", flat=True)) == {0}

    def test_deleting_many_published_comments_makes_cached_pages_stale_once(
        self, superuser_client, article, django_capture_on_commit_callbacks
    ):
        """Each deleted comment sends a signal, and each queued its own bump of the version
        every cached page is checked against: one write to Redis per comment deleted."""
        comments = [make_comment(article, status=Status.APPROVED) for _ in range(5)]

        with django_capture_on_commit_callbacks() as callbacks:
            run_action(
                superuser_client, "delete_selected", comments, url=f"{QUEUE}?status=all", post="yes"
            )

        assert not Comment.objects.exists()
        assert callbacks.count(page_cache.bump_content_version) == 1

    def test_deleting_spam_leaves_readers_cached_pages_alone(
        self, superuser_client, article, django_capture_on_commit_callbacks
    ):
        """Readers never saw it: deleting a spam wave must not end every cached page, any
        more than marking it as spam did."""
        spam = [make_comment(article, status=Status.SPAM) for _ in range(3)]

        with django_capture_on_commit_callbacks() as callbacks:
            run_action(
                superuser_client, "delete_selected", spam, url=f"{QUEUE}?status=all", post="yes"
            )

        assert not Comment.objects.exists()
        assert page_cache.bump_content_version not in callbacks


def sign_in(browser, user, password=PASSWORD):
    """Through the admin's sign-in page, as a browser does (django-axes checks it too)."""
    response = browser.post(
        "/admin/login/", {"username": user.username, "password": password, "next": QUEUE}
    )
    assert response.status_code == 302, "signed in"
    return response


def untold_decision(moderator, *, state=BackgroundDecision.State.ENDED, ago=timedelta(0)):
    """A decision on 3,000 comments taken in the background, queued `ago`, not yet told."""
    decision = BackgroundDecision.objects.create(
        moderator=moderator,
        target=Status.APPROVED,
        comment_count=3_000,
        state=state,
        changed=3_000 if state == BackgroundDecision.State.ENDED else 0,
    )
    BackgroundDecision.objects.filter(pk=decision.pk).update(queued_at=timezone.now() - ago)
    return decision


ENDED_3000 = "Approving 3,000 comments in the background has ended: 3,000 comments approved."


def approve_all(client, comments):
    """ "Select all" across the queue's pages, then Approve: more comments than a request
    decides itself (past_the_request) are decided in the background."""
    client.post(
        QUEUE,
        {"action": "approve_selected", "select_across": "1", "_selected_action": [comments[0].pk]},
    )


class TestToldAfterSigningIn:
    """How a decision taken in the background ended is told at the moderator's next look at
    the list, even in a session that did not take it: they signed out, their session ended,
    or they opened the admin in another browser. It was kept in the deciding session only,
    and the row waited, untold, until it was deleted 30 days on."""

    @pytest.mark.django_db(transaction=True)
    def test_a_moderator_who_signed_out_meanwhile_is_told_once_they_sign_in_again(
        self, client, moderator, past_the_request
    ):
        comments = past_the_request(4)
        sign_in(client, moderator)
        approve_all(client, comments)
        client.post("/admin/logout/")
        assert {status_of(c) for c in comments} == {Status.APPROVED}  # ended while signed out

        sign_in(client, moderator)
        told = messages_of(client.get(QUEUE))  # the page that signed them out announced it

        assert told == ["Approving 4 comments in the background has ended: 4 comments approved."]
        assert messages_of(client.get(QUEUE)) == []

    @pytest.mark.django_db(transaction=True)
    def test_with_two_browsers_signed_in_the_first_list_to_look_tells_it_and_the_other_does_not(
        self, client, moderator, past_the_request
    ):
        """Told once, wherever the moderator looks first: the row goes once told."""
        comments = past_the_request(4)
        sign_in(client, moderator)
        approve_all(client, comments)
        other_browser = Client()
        sign_in(other_browser, moderator)

        told_there = messages_of(other_browser.get(QUEUE))
        told_here = messages_of(client.get(QUEUE))

        assert told_there == [
            "Approving 4 comments in the background has ended: 4 comments approved."
        ]
        [announced] = told_here  # and nothing of how it ended
        assert announced.startswith("Approving 4 comments in the background: the list will ")
        assert messages_of(other_browser.get(QUEUE)) == messages_of(client.get(QUEUE)) == []

    def test_a_decision_still_running_is_told_so_then_how_it_ended(self, client, moderator):
        decision = untold_decision(moderator, state=BackgroundDecision.State.RUNNING)
        sign_in(client, moderator)

        [running] = messages_of(client.get(QUEUE))
        BackgroundDecision.objects.filter(pk=decision.pk).update(
            state=BackgroundDecision.State.ENDED, changed=3_000
        )
        ended = messages_of(client.get(QUEUE))

        assert running.startswith("Approving 3,000 comments in the background, started ")
        assert running.endswith(" has not ended yet: the list shows the comments decided so far.")
        assert ended == [ENDED_3000]
        assert messages_of(client.get(QUEUE)) == []

    def test_a_decision_told_as_stopped_is_not_told_again_at_the_next_sign_in(
        self, client, moderator
    ):
        """Its row stays for a worker that was only late; the moderator, told to select the
        rest again, hears no more of it, even once that worker has ended it."""
        decision = untold_decision(
            moderator, state=BackgroundDecision.State.RUNNING, ago=timedelta(hours=2)
        )
        sign_in(client, moderator)

        [stopped] = messages_of(client.get(QUEUE))
        client.post("/admin/logout/")
        BackgroundDecision.objects.filter(pk=decision.pk).update(
            state=BackgroundDecision.State.ENDED, changed=3_000
        )
        sign_in(client, moderator)

        assert "has not ended: it was probably stopped" in stopped
        assert messages_of(client.get(QUEUE)) == []

    def test_a_decision_told_as_stopped_in_one_browser_is_not_told_so_in_the_other(
        self, client, moderator
    ):
        untold_decision(moderator, state=BackgroundDecision.State.RUNNING, ago=timedelta(hours=2))
        other_browser = Client()
        sign_in(client, moderator)
        sign_in(other_browser, moderator)

        [stopped] = messages_of(client.get(QUEUE))

        assert "has not ended: it was probably stopped" in stopped
        assert messages_of(other_browser.get(QUEUE)) == []

    def test_a_decision_stopped_while_the_moderator_was_away_is_told_as_stopped(
        self, client, moderator
    ):
        untold_decision(moderator, state=BackgroundDecision.State.RUNNING, ago=timedelta(hours=5))
        sign_in(client, moderator)

        [stopped] = messages_of(client.get(QUEUE))

        assert stopped.startswith("Approving 3,000 comments in the background, started 5\xa0hours")
        assert "has not ended: it was probably stopped" in stopped

    def test_decisions_older_than_they_are_kept_are_not_told_even_before_they_are_deleted(
        self, client, moderator
    ):
        """Only a decision taken in the background deletes them (services.moderate_later):
        one still there after 30 days is told no more than one already gone."""
        untold_decision(moderator, ago=services.BACKGROUND_DECISIONS_KEPT + timedelta(hours=1))
        untold_decision(moderator, ago=services.BACKGROUND_DECISIONS_KEPT - timedelta(hours=1))
        untold_decision(make_moderator("max"))
        sign_in(client, moderator)

        assert messages_of(client.get(QUEUE)) == [ENDED_3000]

    def test_a_moderator_who_may_no_longer_decide_is_still_told_how_their_decision_ended(
        self, client
    ):
        """They took it when they could, and still see the list it changed."""
        former = make_user("former", staff=True)
        former.user_permissions.add(Permission.objects.get(codename="view_comment"))
        untold_decision(former)
        sign_in(client, former)

        assert messages_of(client.get(QUEUE)) == [ENDED_3000]

    def test_a_moderator_who_can_no_longer_see_comments_signs_in_and_is_told_if_let_back(
        self, client, moderator
    ):
        untold_decision(moderator)
        moderators = moderator.groups.get()
        moderator.groups.clear()

        sign_in(client, moderator)
        refused = client.get(QUEUE)
        moderator.groups.add(moderators)

        assert refused.status_code == 403
        assert messages_of(client.get(QUEUE)) == [ENDED_3000]

    def test_signing_in_reads_the_decisions_to_tell_once_and_the_lists_after_them_none(
        self, client, moderator, django_assert_max_num_queries
    ):
        untold_decision(moderator)

        def reading_decisions(queries):
            """Read as soon as the request ends: the next one starts a new query log."""
            return [
                q["sql"]
                for q in queries.captured_queries
                if "comments_backgrounddecision" in q["sql"]
            ]

        with CaptureQueriesContext(connection) as signing_in:
            sign_in(client, moderator)
        at_sign_in = reading_decisions(signing_in)
        client.get(QUEUE)  # tells it
        with django_assert_max_num_queries(12) as after:
            client.get(QUEUE)

        assert len(at_sign_in) == 1
        assert reading_decisions(after) == []


class TestQuickDecisions:
    def test_approve_button_returns_to_the_same_filtered_page(self, moderator_client, article):
        comment = make_comment(article, status=Status.PENDING)
        page = f"{QUEUE}?status=pending&q=Comment"

        html = moderator_client.get(page).content.decode()
        response = moderator_client.post(decide_url(comment, "approve"), {"next": page})

        assert f'formaction="{decide_url(comment, "approve")}"' in html
        assert 'form="comment-decision"' in html
        assert response.status_code == 302
        assert response["Location"] == page
        assert status_of(comment) == Status.APPROVED

    def test_a_rows_decision_leads_back_to_the_next_rows_buttons(self, moderator_client, article):
        """The list came back with the focus at the top of the page; the fragment puts it
        on the next row's first button, with or without JavaScript (tests/e2e)."""
        first, second = (make_comment(article, status=Status.PENDING) for _ in range(2))
        html = moderator_client.get(QUEUE).content.decode()
        [(attrs, _)] = elements(
            html,
            lambda tag, attrs: (
                attrs.get("aria-label") == f"Approve: comment by {isolated(first.name)}"
            ),
        )

        response = moderator_client.post(attrs["formaction"], {"next": QUEUE})

        assert response["Location"] == f"{QUEUE}#decide-{second.pk}"
        assert status_of(first) == Status.APPROVED
        next_buttons = elements(html, lambda tag, attrs: attrs.get("id") == f"decide-{second.pk}")
        assert [attrs["aria-label"] for attrs, _ in next_buttons] == [
            f"Approve: comment by {isolated(second.name)}"
        ]

    def test_a_decision_not_taken_leads_back_to_its_own_row(self, moderator_client, article):
        """Decided meanwhile by someone else, nothing was decided here: the focus went on to
        the next row, past the one to decide again."""
        first = make_comment(article, status=Status.PENDING)
        make_comment(article, status=Status.PENDING)  # the next row
        all_url = f"{QUEUE}?status=all"
        html = moderator_client.get(all_url).content.decode()
        [(attrs, _)] = elements(
            html,
            lambda tag, attrs: (
                attrs.get("aria-label") == f"Approve: comment by {isolated(first.name)}"
            ),
        )
        services.mark_spam(first, by=make_moderator("max"))

        response = moderator_client.post(
            attrs["formaction"], {"next": all_url, "seen": attrs["value"]}
        )

        assert status_of(first) == Status.SPAM
        assert response["Location"] == f"{all_url}#decide-{first.pk}"

    @pytest.mark.parametrize("then", ["x", '1"><script>', "-1", ""])
    def test_a_hand_made_row_to_go_back_to_is_ignored(self, moderator_client, article, then):
        comment = make_comment(article, status=Status.PENDING)

        response = moderator_client.post(
            f"{decide_url(comment, 'approve')}?then={then}", {"next": QUEUE}
        )

        assert response["Location"] == QUEUE

    def test_each_rows_buttons_name_their_comment_for_screen_readers(
        self, moderator_client, article
    ):
        """A hundred "Approve" and "Spam" buttons, tabbed through or listed by a screen
        reader, did not say whose comment each would decide."""
        make_comment(article, status=Status.PENDING, name="Ann <b>O'Hara</b>")

        html = moderator_client.get(QUEUE).content.decode()

        name = isolated("Ann &lt;b&gt;O&#x27;Hara&lt;/b&gt;")
        assert f'aria-label="Approve: comment by {name}"' in html
        assert f'aria-label="Spam: comment by {name}"' in html

    def test_spam_button(self, moderator_client, moderator, article):
        comment = make_comment(article, status=Status.PENDING)

        response = moderator_client.post(decide_url(comment, "spam"), follow=True)

        assert status_of(comment) == Status.SPAM
        assert f"Comment by {isolated(comment.name)} marked as spam." in messages_of(response)
        assert Comment.objects.get(pk=comment.pk).moderated_by == moderator

    def test_a_row_another_moderator_decided_meanwhile_stays_as_they_decided(
        self, moderator_client, article
    ):
        """Two moderators work one queue: a row's Approve, clicked on a page shown before
        the other one marked the comment as spam, published the spam, and said only
        "approved"."""
        comment = make_comment(article, status=Status.PENDING)
        approve = decide_url(comment, "approve")
        html = moderator_client.get(QUEUE).content.decode()
        services.mark_spam(comment, by=make_moderator("max"))

        response = moderator_client.post(
            approve, {"next": QUEUE, **sent_by_button(html, approve)}, follow=True
        )

        assert response.redirect_chain[-1][0] == f"{QUEUE}#decide-{comment.pk}"
        assert status_of(comment) == Status.SPAM
        assert messages_of(response) == [
            f"Comment by {isolated(comment.name)} was marked as spam by max while you were "
            "looking: nothing was decided. Decide again if you still mean to."
        ]
        assert LogEntry.objects.filter(object_id=str(comment.pk)).count() == 1
        # The list now shows it as spam, with its Approve button for a knowing decision.
        again = moderator_client.get(QUEUE, {"status": "spam"}).content.decode()
        moderator_client.post(approve, {"next": QUEUE, **sent_by_button(again, approve)})
        assert status_of(comment) == Status.APPROVED

    def test_a_change_page_shown_before_another_decision_decides_nothing(
        self, moderator_client, article
    ):
        comment = make_comment(article, status=Status.PENDING)
        change_page = f"{QUEUE}{comment.pk}/change/"
        html = moderator_client.get(change_page).content.decode()
        services.approve(comment, by=make_moderator("max"))

        response = moderator_client.post(change_page, sent_by_its_page(html, "Reject"), follow=True)

        assert status_of(comment) == Status.APPROVED
        assert messages_of(response) == [
            f"Comment by {isolated(comment.name)} was approved by max while you were looking: "
            "nothing was decided. Decide again if you still mean to."
        ]

    def test_a_decision_taken_meanwhile_in_another_window_says_so_plainly(
        self, moderator_client, moderator, article
    ):
        """The moderator read their own name, "by moira", as if another moderator had
        decided."""
        comment = make_comment(article, status=Status.PENDING)
        approve = decide_url(comment, "approve")
        html = moderator_client.get(QUEUE).content.decode()
        services.mark_spam(comment, by=moderator)  # the same queue, open in another tab

        response = moderator_client.post(approve, sent_by_button(html, approve), follow=True)

        assert status_of(comment) == Status.SPAM
        assert messages_of(response) == [
            f"Comment by {isolated(comment.name)} was marked as spam by you, on another page or in "
            "another window, while this one was open: nothing was decided here. Decide again "
            "if you still mean to."
        ]

    def test_the_same_decision_taken_meanwhile_is_told_as_already_taken(
        self, moderator_client, article
    ):
        comment = make_comment(article, status=Status.PENDING)
        approve = decide_url(comment, "approve")
        html = moderator_client.get(QUEUE).content.decode()
        services.approve(comment, by=make_moderator("max"))

        response = moderator_client.post(approve, sent_by_button(html, approve), follow=True)

        assert messages_of(response) == [
            f"Comment by {isolated(comment.name)} already was approved."
        ]
        assert LogEntry.objects.filter(object_id=str(comment.pk)).count() == 1

    @pytest.mark.parametrize("above", [Status.PENDING, Status.REJECTED])
    def test_approving_a_reply_under_a_withheld_comment_says_readers_do_not_see_it(
        self, moderator_client, article, above
    ):
        """The reply leaves the queue and the message said only "approved": the moderator
        took it for published, while readers see nothing until the comment above is."""
        parent = make_comment(article, status=above)
        reply = make_comment(article, parent=parent, status=Status.PENDING)

        response = moderator_client.post(decide_url(reply, "approve"), follow=True)

        assert messages_of(response) == [
            f"Comment by {isolated(reply.name)} approved. Readers do not see it yet: a comment "
            f"above it is {above.label.lower()}."
        ]

    def test_approving_a_comment_of_an_unpublished_article_says_readers_do_not_see_it(
        self, moderator_client
    ):
        comment = make_comment(make_draft(), status=Status.PENDING)

        response = moderator_client.post(decide_url(comment, "approve"), follow=True)

        assert messages_of(response) == [
            f"Comment by {isolated(comment.name)} approved. Readers do not see it yet: the article "
            "is not published."
        ]

    def test_a_foreign_next_url_is_ignored(self, moderator_client, article):
        comment = make_comment(article, status=Status.PENDING)

        response = moderator_client.post(
            decide_url(comment, "approve"), {"next": "https://evil.example/"}
        )

        assert response["Location"] == QUEUE

    @pytest.mark.parametrize("next_url", ["queue", "%0d%0aSet-Cookie:x"])
    def test_a_next_url_without_slash_or_dot_is_still_a_redirect(
        self, moderator_client, article, next_url
    ):
        """Django's redirect() took such a value for a URL's name: a 500 after the decision."""
        comment = make_comment(article, status=Status.PENDING)

        response = moderator_client.post(decide_url(comment, "approve"), {"next": next_url})

        assert response.status_code == 302
        assert response["Location"] == next_url
        assert status_of(comment) == Status.APPROVED

    def test_signing_in_again_after_a_decision_leads_to_the_comment_not_an_empty_page(
        self, client, moderator, article
    ):
        """Signed out (a session ended, a sign-out in another tab), a moderator's Approve
        goes to the sign-in page, which then opens the decision's address: that was an
        empty 405 page. Opening it decides nothing and leads to the comment's page."""
        comment = make_comment(article, status=Status.PENDING)
        sign_in = client.post(decide_url(comment, "approve"))
        client.force_login(moderator)

        next_url = parse_qs(urlsplit(sign_in["Location"]).query)["next"][0]

        response = client.get(next_url, follow=True)

        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == f"{QUEUE}{comment.pk}/change/"
        assert messages_of(response) == [DECISION_NOT_TAKEN]
        assert status_of(comment) == Status.PENDING

    def test_post_without_csrf_token_is_refused(self, moderator, article):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(moderator)
        comment = make_comment(article, status=Status.PENDING)

        response = strict.post(decide_url(comment, "approve"))

        assert response.status_code == 403
        assert status_of(comment) == Status.PENDING

    def test_unknown_decision_is_404(self, moderator_client, article):
        comment = make_comment(article, status=Status.PENDING)

        assert moderator_client.post(decide_url(comment, "publish")).status_code == 404

    @pytest.mark.parametrize("object_id", ["999999", "abc"])
    def test_an_unknown_comment_leads_back_with_a_message(self, moderator_client, object_id):
        response = moderator_client.post(f"{QUEUE}{object_id}/decide/approve/", follow=True)

        assert response.redirect_chain == [(QUEUE, 302)]
        assert messages_of(response) == [NO_LONGER_THERE]

    def test_a_row_whose_article_an_editor_deleted_meanwhile_leads_back_to_the_queue(
        self, moderator_client, article
    ):
        """An editor deleted a spam-laden article while a moderator worked the queue: the
        Approve of one of its rows was a bare 404 page, with no way back to the queue."""
        comment = make_comment(article, status=Status.PENDING)
        kept = make_comment(make_article(), status=Status.PENDING)
        page = f"{QUEUE}?status=pending"
        moderator_client.get(page)
        article.delete()

        response = moderator_client.post(
            decide_url(comment, "approve"), {"next": page}, follow=True
        )

        assert response.status_code == 200
        assert response.redirect_chain == [(page, 302)]
        assert messages_of(response) == [NO_LONGER_THERE]
        assert list(response.context["cl"].result_list) == [kept]


class TestChangeView:
    def test_shows_the_comment_in_context_with_its_history(
        self, moderator_client, moderator, article
    ):
        parent = make_comment(article, name="Parent Person", body="The question asked.")
        comment = make_comment(article, parent=parent, status=Status.PENDING, body="My answer.")
        make_comment(article, parent=comment, name="Later Replier", status=Status.PENDING)
        moderator_client.post(decide_url(comment, "approve"))

        html = moderator_client.get(f"{QUEUE}{comment.pk}/change/").content.decode()

        assert article.title in html
        assert "The question asked." in html  # the comment it answers
        assert "Later Replier" in html  # the thread below it
        assert "(this comment)" in html
        assert f"{moderator.username}: Approved." in html
        for label in ("Unapprove", "Reject", "Spam"):
            assert f">{label}</button>" in html
        assert ">Approve</button>" not in html  # it already is

    def test_its_times_are_written_for_machines_as_html_allows(self, moderator_client, article):
        """To the second: `date:"c"` gave the microseconds a time was saved with, six decimal
        places where HTML allows three."""
        comment = make_comment(article, status=Status.PENDING)
        make_comment(article, parent=comment)
        moderator_client.post(decide_url(comment, "approve"))

        html = moderator_client.get(f"{QUEUE}{comment.pk}/change/").content.decode()

        times = re.findall(r'<time datetime="([^"]*)"', html)
        assert len(times) >= 3  # the thread's two comments, the decision in the history
        assert all(HTML_DATETIME.fullmatch(value) for value in times), times

    def test_a_comment_deep_in_a_long_exchange_shows_its_whole_thread(
        self, moderator_client, article
    ):
        """Two readers answering each other for weeks make a chain of replies as deep as
        their exchange is long: the page of any comment in it was a server error (the
        thread's template nested once per reply, past Python's recursion limit)."""
        above = None
        for turn in range(150):
            above = make_comment(article, parent=above, name=f"Turn {turn}", body=f"Reply {turn}")
        first = Comment.objects.get(name="Turn 0")

        for comment in (above, first):
            response = moderator_client.get(f"{QUEUE}{comment.pk}/change/")

            assert response.status_code == 200
            thread = response.content.decode().partition('class="comment-thread"')[2]
            assert all(f"Reply {turn}" in thread for turn in range(150))
            assert "in reply to <bdi>Turn 148</bdi>" in thread  # past the nesting, whom it answers

    def test_the_thread_is_shown_whole_and_in_reading_order_whatever_its_ids(
        self, moderator_client, article
    ):
        """Imported with their ids, or numbered after a restore reset the id sequence, a
        reply can have a smaller id than the comment it answers, and a later reply a smaller
        one than an earlier: the page started the thread at the wrong comment, left out
        those above it, and listed replies by id, not as readers see them."""
        start = timezone.now() - timedelta(days=1)
        top, middle, reply = make_thread_numbered_backwards(article)
        Comment.objects.filter(pk__in=[top.pk, middle.pk, reply.pk]).update(created_at=start)
        late = make_comment(article, parent=top, pk=top.pk - 10, body="Answered late.")
        early = make_comment(article, parent=top, pk=top.pk - 9, body="Answered early.")
        Comment.objects.filter(pk=late.pk).update(created_at=start + timedelta(minutes=2))
        Comment.objects.filter(pk=early.pk).update(created_at=start + timedelta(minutes=1))

        html = moderator_client.get(f"{QUEUE}{reply.pk}/change/").content.decode()

        thread = html.partition('class="comment-thread"')[2]
        shown = [thread.find(c.body) for c in (top, middle, reply, early, late)]
        assert -1 not in shown
        assert shown == sorted(shown)

    def test_a_thread_whose_parents_go_round_in_a_circle_still_shows(
        self, moderator_client, article
    ):
        """Rows written by hand, or a fixture loaded with loaddata, can make two comments
        each other's parent: the thread is read up the chain and down again once, not round
        and round."""
        first = make_comment(article, body="Goes round.")
        second = make_comment(article, parent=first, body="And round.")
        Comment.objects.filter(pk=first.pk).update(parent=second)
        reply = make_comment(article, parent=second, body="Answers the circle.")

        html = moderator_client.get(f"{QUEUE}{reply.pk}/change/").content.decode()

        thread = html.partition('class="comment-thread"')[2]
        shown = [thread.find(c.body) for c in (first, second, reply)]
        assert -1 not in shown
        assert shown == sorted(shown)

    def test_a_comment_s_page_reads_its_own_thread_not_every_comment_of_the_article(
        self, moderator_client, article
    ):
        """The thread was found among all the article's comments, each read with its text
        and made an object: 0.3 s a page under an article with 20,000 comments (0.035 s
        under a short one), for a thread of a few."""
        question = make_comment(article, body="The question asked.")
        answer = make_comment(article, parent=question, body="My answer.")
        bulk_comments([article] * 200, Status.APPROVED)
        made = []

        def count(sender, instance, **kwargs):
            made.append(instance.pk)

        post_init.connect(count, sender=Comment)
        try:
            html = moderator_client.get(f"{QUEUE}{answer.pk}/change/").content.decode()
        finally:
            post_init.disconnect(count, sender=Comment)

        thread = html.partition('class="comment-thread"')[2]
        assert "The question asked." in thread and "My answer." in thread
        assert "Thanks!" not in thread  # the other threads' text
        assert len(made) < 20

    def test_a_comment_nobody_has_decided_on_shows_no_moderator_rather_than_none(
        self, moderator_client, article
    ):
        comment = make_comment(article, status=Status.PENDING)

        html = moderator_client.get(f"{QUEUE}{comment.pk}/change/").content.decode()

        moderated_by = re.search(r'(?s)field-moderator">.*?<div class="readonly">(.*?)</div>', html)
        assert moderated_by.group(1) == "-"  # as "Moderated at", and Django's other empty fields

    def test_an_approved_reply_under_a_withheld_comment_says_readers_cannot_see_it(
        self, moderator_client, article
    ):
        """Its status says Approved, yet build_thread leaves it off the page: the moderator
        learns why, with the comment that hides it, and is offered no "View on site"."""
        withheld = make_comment(article, status=Status.REJECTED)
        middle = make_comment(article, parent=withheld)
        reply = make_comment(article, parent=middle)

        html = moderator_client.get(f"{QUEUE}{reply.pk}/change/").content.decode()

        assert (
            f'Not shown to readers: <a href="{QUEUE}{withheld.pk}/change/">a comment above it</a>'
            " is rejected." in html
        )
        assert "viewsitelink" not in html

    def test_an_approved_comment_readers_see_says_so(self, moderator_client, article):
        comment = make_comment(article)

        html = moderator_client.get(f"{QUEUE}{comment.pk}/change/").content.decode()

        assert "Shown to readers." in html
        assert "viewsitelink" in html

    def test_moderator_fixes_a_typo_and_the_edit_is_logged(
        self, moderator_client, moderator, article
    ):
        comment = make_comment(article, status=Status.PENDING, body="Teh typo.")

        response = moderator_client.post(
            f"{QUEUE}{comment.pk}/change/",
            {"body": "The typo.", "status": Status.APPROVED, "_save": "Save"},
        )

        assert response.status_code == 302
        comment.refresh_from_db()
        assert comment.body == "The typo."
        assert comment.status == Status.PENDING  # status only changes through decisions
        entry = LogEntry.objects.get(object_id=str(comment.pk), user=moderator)
        assert "Body" in entry.get_change_message()

    def test_a_decision_on_its_page_saves_the_text_fixed_there_first(
        self, moderator_client, moderator, article
    ):
        """The buttons above the text sent a form of their own: the address taken out of
        the comment, then Approve clicked, was published, and the page said "approved"."""
        comment = make_comment(article, status=Status.PENDING, body="Call me on 555 0100.")
        change_url = f"{QUEUE}{comment.pk}/change/"
        html = moderator_client.get(change_url).content.decode()

        response = moderator_client.post(
            change_url, sent_by_its_page(html, "Approve", body="Call me."), follow=True
        )

        comment.refresh_from_db()
        assert (comment.status, comment.body) == (Status.APPROVED, "Call me.")
        assert response.redirect_chain[-1][0] == change_url
        assert messages_of(response) == [
            TEXT_SAVED,
            f"Comment by {isolated(comment.name)} approved.",
        ]
        entries = LogEntry.objects.filter(object_id=str(comment.pk), user=moderator)
        assert [e.get_change_message() for e in entries.order_by("pk")] == [
            "Changed Body.",
            "Approved.",
        ]

    def test_a_decision_on_its_page_without_an_edit_logs_the_decision_alone(
        self, moderator_client, article
    ):
        comment = make_comment(article, status=Status.PENDING, body="Fine as it is.")
        change_url = f"{QUEUE}{comment.pk}/change/"
        html = moderator_client.get(change_url).content.decode()

        response = moderator_client.post(change_url, sent_by_its_page(html, "Spam"), follow=True)

        assert status_of(comment) == Status.SPAM
        assert messages_of(response) == [f"Comment by {isolated(comment.name)} marked as spam."]
        entries = LogEntry.objects.filter(object_id=str(comment.pk))
        assert [e.get_change_message() for e in entries] == ["Marked as spam."]

    def test_a_decision_on_its_page_with_a_text_it_refuses_decides_nothing(
        self, moderator_client, article
    ):
        comment = make_comment(article, status=Status.PENDING, body="Fine as it is.")
        change_url = f"{QUEUE}{comment.pk}/change/"
        html = moderator_client.get(change_url).content.decode()

        response = moderator_client.post(change_url, sent_by_its_page(html, "Approve", body=" "))

        assert response.status_code == 200  # the page again, to correct
        assert "This field is required." in response.content.decode()
        assert status_of(comment) == Status.PENDING
        assert not LogEntry.objects.filter(object_id=str(comment.pk)).exists()

    def test_a_decision_on_a_page_opened_before_another_s_edit_decides_nothing(
        self, moderator_client, article
    ):
        """Approved, it would publish the moderator's text over their colleague's fix."""
        comment = make_comment(article, status=Status.PENDING, body="Call me on 555 0100.")
        change_url = f"{QUEUE}{comment.pk}/change/"
        html = moderator_client.get(change_url).content.decode()
        services.edit_body(comment, body="Call me.")

        response = moderator_client.post(change_url, sent_by_its_page(html, "Approve"))

        assert response.status_code == 200
        assert escape(EDITED_MEANWHILE) in response.content.decode()
        comment.refresh_from_db()
        assert (comment.status, comment.body) == (Status.PENDING, "Call me.")

    def test_a_decision_sent_with_its_page_by_one_who_may_not_moderate_saves_nothing(
        self, client, article
    ):
        editor_of_text = make_user("tess", staff=True)
        editor_of_text.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_comment", "change_comment"])
        )
        client.force_login(editor_of_text)
        comment = make_comment(article, status=Status.PENDING, body="Call me on 555 0100.")
        change_url = f"{QUEUE}{comment.pk}/change/"
        html = client.get(change_url).content.decode()
        assert "Approve" not in html

        response = client.post(
            change_url, {"body": "Call me.", "_decide": "approve", "seen": "pending"}
        )

        assert response.status_code == 403
        comment.refresh_from_db()
        assert (comment.status, comment.body) == (Status.PENDING, "Call me on 555 0100.")

    def test_a_moderator_who_may_not_edit_decides_on_its_page_with_its_buttons(
        self, client, article
    ):
        """Without the permission to edit, the page's form is read-only: its buttons send
        the decision alone, as the list's do."""
        judge = make_user("jude", staff=True)
        judge.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_comment", "moderate_comment"])
        )
        client.force_login(judge)
        comment = make_comment(article, status=Status.PENDING)
        change_url = f"{QUEUE}{comment.pk}/change/"
        html = client.get(change_url).content.decode()
        approve = decide_url(comment, "approve")

        response = client.post(
            approve, {"next": change_url, **sent_by_button(html, approve)}, follow=True
        )

        assert status_of(comment) == Status.APPROVED
        assert response.redirect_chain[-1][0] == change_url

    def test_an_edit_from_a_page_opened_before_another_moderator_s_edit_does_not_undo_it(
        self, moderator_client, article
    ):
        """Two moderators fixing one comment: the second to save, from a page opened before
        the first saved, put back the text the first had taken out (a slur, an address),
        and read "changed successfully". Told, they may save again to replace it."""
        comment = make_comment(article, body="Call me on 555 0100, you idiot.")
        change_url = f"{QUEUE}{comment.pk}/change/"
        opened = moderator_client.get(change_url).content.decode()
        colleague = Client()
        colleague.force_login(make_moderator("colleague"))
        colleague.post(change_url, {"body": "Call me, you idiot."})

        mine = {"body": "Call me on 555 0100.", "text_shown": form_values(opened, "text_shown")}
        response = moderator_client.post(change_url, mine)

        assert response.status_code == 200
        assert escape(EDITED_MEANWHILE) in response.content.decode()
        assert Comment.objects.get(pk=comment.pk).body == "Call me, you idiot."

        mine["text_shown"] = form_values(response.content.decode(), "text_shown")
        assert moderator_client.post(change_url, mine).status_code == 302  # knowingly
        assert Comment.objects.get(pk=comment.pk).body == "Call me on 555 0100."

    def test_an_edit_sent_twice_by_a_double_click_is_saved_without_a_word_of_conflict(
        self, moderator_client, article
    ):
        comment = make_comment(article, body="Teh typo.")
        change_url = f"{QUEUE}{comment.pk}/change/"
        opened = moderator_client.get(change_url).content.decode()
        edit = {"body": "The typo.", "text_shown": form_values(opened, "text_shown")}

        assert moderator_client.post(change_url, edit).status_code == 302
        assert moderator_client.post(change_url, edit).status_code == 302  # finds its own save

    def test_moderator_saves_an_edit_to_a_comment_at_the_length_limit(
        self, moderator_client, article
    ):
        """Readers may send 5,000 characters with line breaks, which the browser sends as
        CR LF; the admin's textarea sends the text back the same way."""
        typed = "\n".join(["Line of a long comment."] * 300)[:4999] + "!"
        comment = make_comment(article, body=typed.replace("\n", "\r\n"))
        edited = typed.replace("Line", "Text")

        response = moderator_client.post(
            f"{QUEUE}{comment.pk}/change/", {"body": edited.replace("\n", "\r\n")}
        )

        assert response.status_code == 302
        comment.refresh_from_db()
        assert comment.body == edited.replace("\n", "\r\n")

    def test_nobody_adds_comments_in_the_admin(self, editor_client):
        assert editor_client.get(f"{QUEUE}add/").status_code == 403


class TestPendingNotice:
    def test_index_and_other_pages_show_the_count_linking_to_the_queue(
        self, moderator_client, article
    ):
        comment = make_comment(article, status=Status.PENDING)
        make_comment(article, status=Status.PENDING)
        make_comment(article, status=Status.PENDING)

        for url in ("/admin/", f"{QUEUE}{comment.pk}/change/", "/admin/password_change/"):
            html = moderator_client.get(url).content.decode()
            assert "3 comments awaiting moderation" in html, url
            assert f'href="{QUEUE}"' in html

    def test_count_follows_decisions(
        self, moderator_client, article, django_capture_on_commit_callbacks
    ):
        first = make_comment(article, status=Status.PENDING)
        make_comment(article, status=Status.PENDING)
        assert "2 comments awaiting" in moderator_client.get("/admin/").content.decode()

        with django_capture_on_commit_callbacks(execute=True):
            moderator_client.post(decide_url(first, "approve"))

        assert "1 comment awaiting" in moderator_client.get("/admin/").content.decode()

    @pytest.mark.skipif(
        shared_by_every_process(), reason="a shared cache is cleared for every worker at once"
    )
    def test_count_follows_a_decision_taken_in_another_worker(self, moderator_client, article):
        """Without Redis each gunicorn worker has a cache of its own: a count kept there
        still showed a decision taken in another worker (or a new comment) for a minute."""
        comment = make_comment(article, status=Status.PENDING)
        assert "1 comment awaiting" in moderator_client.get("/admin/").content.decode()

        Comment.objects.filter(pk=comment.pk).update(status=Status.APPROVED)  # elsewhere

        assert "No comments awaiting" in moderator_client.get("/admin/").content.decode()

    def test_says_so_when_the_queue_is_empty(self, moderator_client):
        assert "No comments awaiting moderation" in moderator_client.get("/admin/").content.decode()


class TestArticleAdmin:
    def test_article_list_shows_pending_counts(self, editor_client):
        busy = make_article(title="Busy")
        make_article(title="Quiet")
        for _ in range(2):
            make_comment(busy, status=Status.PENDING)
        make_comment(busy, status=Status.APPROVED)

        response = editor_client.get("/admin/articles/article/")

        rows = {a.title: a.pending_comment_count for a in response.context["cl"].result_list}
        assert rows == {"Busy": 2, "Quiet": 0}
        assert f"?article__id__exact={busy.pk}&amp;status=pending" in response.content.decode()

    def test_pending_counts_cost_no_query_per_article(
        self, editor_client, django_assert_max_num_queries
    ):
        """All on one day: the date hierarchy's queries depend on the days the articles span,
        and the factory dates each article further back than the one before."""
        day = timezone.now() - timedelta(days=1)
        make_comment(make_article(published_at=day), status=Status.PENDING)
        with django_assert_max_num_queries(20) as few:
            editor_client.get("/admin/articles/article/")
        for _ in range(15):
            make_comment(make_article(published_at=day), status=Status.PENDING)

        with django_assert_max_num_queries(len(few.captured_queries)):
            editor_client.get("/admin/articles/article/")

    def test_pending_counts_are_read_for_the_listed_articles_only(
        self, editor_client, django_assert_max_num_queries
    ):
        """Not joined and grouped over every article: the paginator's count and the date
        hierarchy would carry the join too, over every comment on the site."""
        make_comment(make_article(), status=Status.PENDING)

        with django_assert_max_num_queries(20) as queries:
            editor_client.get("/admin/articles/article/")

        statements = [query["sql"] for query in queries.captured_queries]
        assert not [sql for sql in statements if 'JOIN "comments_comment"' in sql]
        counts = [sql for sql in statements if 'COUNT(*) AS "__count" FROM "articles_' in sql]
        assert counts, "the paginator counts the articles"
        assert not [sql for sql in counts if "comments_comment" in sql]

    def test_article_page_lists_its_comments_read_only(self, editor_client, article):
        comment = make_comment(article, status=Status.SPAM, body="Buy cheap things")

        html = editor_client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()

        assert "Buy cheap things" in html
        assert "comment-status-spam" in html
        assert f"/admin/comments/comment/{comment.pk}/change/" in html

    def test_article_page_query_count_does_not_grow_with_its_latest_comments(
        self, editor_client, article, django_assert_max_num_queries
    ):
        url = f"/admin/articles/article/{article.pk}/change/"
        make_comment(article)
        with django_assert_max_num_queries(20) as one:
            editor_client.get(url)
        for _ in range(19):
            make_comment(article)

        with django_assert_max_num_queries(len(one.captured_queries)):
            response = editor_client.get(url)

        assert response.content.decode().count("/admin/comments/comment/") >= 20

    def test_pending_link_opens_that_articles_queue(self, editor_client):
        busy, other = make_article(), make_article()
        mine = make_comment(busy, status=Status.PENDING)
        make_comment(other, status=Status.PENDING)

        response = editor_client.get(QUEUE, {"article__id__exact": busy.pk, "status": "pending"})

        assert list(response.context["cl"].result_list) == [mine]

    def test_that_articles_queue_names_it_with_a_way_back_to_every_article(self, editor_client):
        busy = make_article(title="Harbour wall repaired")
        make_comment(busy, status=Status.PENDING)

        page = editor_client.get(QUEUE, {"article__id__exact": busy.pk}).content.decode()
        unfiltered = editor_client.get(QUEUE).content.decode()

        filters = page[page.index('id="changelist-filter"') :]
        assert "By article" in filters
        assert '<li class="selected">' in filters.split("By article")[1].split("</ul>")[0]
        assert "<bdi>Harbour wall repaired</bdi>" in filters
        assert "By article" not in unfiltered

    @pytest.mark.parametrize("value", ["abc", "99999999"])
    def test_an_articles_queue_of_an_article_that_is_no_more_is_no_error(
        self, editor_client, value
    ):
        response = editor_client.get(QUEUE, {"article__id__exact": value})

        assert response.status_code in {200, 302}


class TestDeletingAnArticle:
    """Its comments go with it: the confirmation says how many, without listing each."""

    @staticmethod
    def delete_page(client, article):
        return client.get(f"/admin/articles/article/{article.pk}/delete/").content.decode()

    def test_the_confirmation_counts_the_comments_instead_of_listing_them(self, superuser_client):
        article = make_article(title="Busy")
        first = make_comment(article)
        reply = make_comment(article, parent=first, status=Status.PENDING)
        make_comment(article, parent=reply, status=Status.SPAM)
        make_comment(article)

        html = self.delete_page(superuser_client, article)

        assert "<li>Comments: 4</li>" in html  # Django's summary
        assert html.count("<li>Comments: 4</li>") == 2  # and the one line under the article
        assert not re.search(r"/admin/comments/comment/\d+/change/", html)
        assert "Yes, I\u2019m sure" in html

    def test_the_confirmation_counts_in_as_many_queries_for_hundreds_of_comments_as_for_one(
        self, superuser_client, django_assert_max_num_queries
    ):
        """Django read every comment and listed each: half a second and a page of 5,000
        lines for an article with 5,000 comments. They are counted, not read."""
        quiet, busy = make_article(), make_article()
        make_comment(quiet)
        with django_assert_max_num_queries(30) as one:
            self.delete_page(superuser_client, quiet)
        Comment.objects.bulk_create(
            Comment(article=busy, name="Reader", email="r@example.com", body="Hi")
            for _ in range(300)
        )
        parent = None
        for _ in range(6):  # a thread six replies deep
            parent = make_comment(busy, parent=parent)

        with django_assert_max_num_queries(len(one.captured_queries)) as many:
            html = self.delete_page(superuser_client, busy)

        assert "<li>Comments: 306</li>" in html
        statements = [query["sql"] for query in many.captured_queries]
        assert not [sql for sql in statements if '"comments_comment"."body"' in sql]

    def test_deleting_several_articles_counts_each_ones_comments(self, superuser_client):
        one, two, bare = make_article(), make_article(), make_article()
        for article, count in [(one, 2), (two, 3)]:
            for _ in range(count):
                make_comment(article)
        selection = {
            "action": "delete_selected",
            "_selected_action": [one.pk, two.pk, bare.pk],
        }

        html = superuser_client.post("/admin/articles/article/", selection).content.decode()
        superuser_client.post("/admin/articles/article/", {**selection, "post": "yes"})

        assert "<li>Comments: 5</li>" in html
        assert "<li>Comments: 2</li>" in html and "<li>Comments: 3</li>" in html
        assert not re.search(r"/admin/comments/comment/\d+/change/", html)
        assert not Article.objects.exists()
        assert not Comment.objects.exists()

    @pytest.mark.parametrize("confirmed", [False, True])
    def test_deleting_articles_with_more_comments_than_a_request_takes_is_refused_saying_so(
        self, editor_client, monkeypatch, confirmed
    ):
        """Django deleted any number: 2,000 articles with 10,000 comments took 5 to 6 s to
        delete, and "select all" over a larger archive passed gunicorn's 30 s, the deletion
        rolled back and the editor got an error page. The comments count: each is read and
        deleted on its own, after its article's."""
        monkeypatch.setattr(comments_admin, "DELETED_WITH_ARTICLES_IN_THE_REQUEST", 4)
        one, two = make_article(), make_article()
        for article in [one, two, one]:
            make_comment(article)

        response = editor_client.post(
            "/admin/articles/article/",
            {
                "action": "delete_selected",
                "_selected_action": [one.pk, two.pk],
                **({"post": "yes"} if confirmed else {}),
            },
            follow=True,
        )

        assert "Are you sure" not in response.content.decode()
        assert messages_of(response) == [
            TOO_MANY_ARTICLES_TO_DELETE.format(
                articles="2 articles", comments="3 comments", most="4"
            )
        ]
        assert Article.objects.count() == 2
        assert Comment.objects.count() == 3

    def test_deleting_one_article_with_more_comments_than_a_request_takes_says_so_in_english(
        self, editor_client, monkeypatch
    ):
        """The message counted in plurals alone: "Deleting the 1 articles selected"."""
        monkeypatch.setattr(comments_admin, "DELETED_WITH_ARTICLES_IN_THE_REQUEST", 1)
        article = make_article()
        make_comment(article)

        response = run_action(
            editor_client, "delete_selected", [article], url="/admin/articles/article/"
        )

        [told] = messages_of(response)
        assert told.startswith("Deleting 1 article with 1 comment at once would outlast")

    def test_deleting_as_many_articles_and_comments_as_a_request_takes_deletes_them(
        self, superuser_client, monkeypatch
    ):
        monkeypatch.setattr(comments_admin, "DELETED_WITH_ARTICLES_IN_THE_REQUEST", 4)
        one, two = make_article(), make_article()
        for article in [one, two]:
            make_comment(article)
        selection = {"action": "delete_selected", "_selected_action": [one.pk, two.pk]}

        html = superuser_client.post("/admin/articles/article/", selection).content.decode()
        superuser_client.post("/admin/articles/article/", {**selection, "post": "yes"})

        assert "Are you sure" in html
        assert not Article.objects.exists()
        assert not Comment.objects.exists()

    def test_deleting_more_articles_than_sqlite_takes_parameters_counts_their_comments(
        self, superuser_client, old_sqlite_parameter_limit
    ):
        """Their comments were counted in one statement with a parameter for each article:
        the confirmation of "select all" over more than SQLite takes (32,766) was a 500."""
        articles = make_articles(1_000)
        bulk_comments(articles, Status.APPROVED)
        selection = {
            "action": "delete_selected",
            "select_across": "1",
            "_selected_action": [articles[0].pk],
        }

        response = superuser_client.post("/admin/articles/article/", selection)

        assert "<li>Comments: 1,000</li>" in response.content.decode()

    def test_staff_who_may_not_delete_comments_cannot_delete_an_article_that_has_them(self, client):
        """As Django refuses it for any related object the user may not delete."""
        user = make_user("arturo", staff=True)
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="articles",
                codename__in=["view_article", "change_article", "delete_article"],
            )
        )
        client.force_login(user)
        commented, bare = make_article(), make_article()
        make_comment(commented, status=Status.SPAM)

        html = self.delete_page(client, commented)
        client.post(f"/admin/articles/article/{commented.pk}/delete/", {"post": "yes"})
        client.post(f"/admin/articles/article/{bare.pk}/delete/", {"post": "yes"})

        assert "have permission to delete the following types of objects" in html
        assert "<li>comment</li>" in html
        assert list(Article.objects.all()) == [commented]
        assert Comment.objects.filter(article=commented).exists()

    @pytest.mark.usefixtures("shared_cache")
    def test_the_moderators_counts_forget_the_deleted_articles_comments(
        self, superuser_client, django_capture_on_commit_callbacks
    ):
        """Kept a minute with Redis, they went on saying "1 comment awaiting moderation"."""
        article = make_article()
        make_comment(article, status=Status.PENDING)
        make_comment(make_article(), status=Status.SPAM)
        assert comments_cache.pending_count() == 1
        assert comments_cache.status_counts() == {Status.PENDING: 1, Status.SPAM: 1}

        with django_capture_on_commit_callbacks(execute=True):
            superuser_client.post(f"/admin/articles/article/{article.pk}/delete/", {"post": "yes"})

        assert comments_cache.pending_count() == 0
        assert comments_cache.status_counts() == {Status.SPAM: 1}


def export_queries(client, comments):
    """The queries of exporting the data of the commenters of `comments`."""
    with CaptureQueriesContext(connection) as export:
        run_action(client, "export_commenter_data", comments, url=f"{QUEUE}?status=spam")
    return export.captured_queries


class TestPrivacyActions:
    def test_export_downloads_everything_about_the_selected_commenters(
        self, superuser_client, article
    ):
        comment = make_comment(article, email="ada@example.com", ip_address="192.0.2.1")
        make_comment(article, email="ada@example.com", body="Another one.")
        make_comment(article, email="someone@example.com")

        response = superuser_client.post(
            f"{QUEUE}?status=all",
            {"action": "export_commenter_data", "_selected_action": [comment.pk]},
        )

        assert response["Content-Disposition"] == 'attachment; filename="commenter-data.json"'
        [person] = json.loads(response.content)
        assert person["email"] == "ada@example.com"
        assert len(person["comments"]) == 2
        assert person["comments"][0]["ip_address"] == "192.0.2.1"

    def test_an_export_is_in_the_action_log_and_each_comment_s_history_without_the_address(
        self, client, article
    ):
        """Every other moderator action left an entry; a moderator exporting someone's data
        left none: no one could tell who had taken whose data, or when."""
        ada_first = make_comment(article, name="Ada", email="ada@example.com")
        ada_second = make_comment(article, name="Ada", email="ADA@example.com")
        make_comment(article, name="Bob", email="bob@example.com")  # not selected
        editor = make_superuser()
        client.force_login(editor)

        client.post(
            f"{QUEUE}?status=all",
            {"action": "export_commenter_data", "_selected_action": [ada_first.pk]},
        )

        entries = LogEntry.objects.order_by("pk")
        assert [(e.user, e.object_id, e.get_change_message()) for e in entries] == [
            (editor, str(ada_first.pk), EXPORT_LOG_MESSAGE),
            (editor, str(ada_second.pk), EXPORT_LOG_MESSAGE),
        ]
        log = client.get("/admin/admin/logentry/").content.decode()
        history = client.get(f"{QUEUE}{ada_second.pk}/change/").content.decode()
        assert escape(EXPORT_LOG_MESSAGE) in log
        assert escape(EXPORT_LOG_MESSAGE) in history
        assert "ada@example.com" not in log.lower()

    def test_exporting_more_commenters_than_a_request_takes_is_refused_saying_so(
        self, superuser_client, article, monkeypatch
    ):
        """ "Select all" over 10,000 addresses passed gunicorn's 30 s, and the editor got an
        error page instead of a file."""
        monkeypatch.setattr(comments_admin, "EXPORTED_IN_THE_REQUEST", 2)
        comments = [
            make_comment(article, email=f"reader{n}@example.com", status=Status.SPAM)
            for n in range(3)
        ]

        response = run_action(
            superuser_client, "export_commenter_data", comments, url=f"{QUEUE}?status=spam"
        )

        assert "Content-Disposition" not in response
        assert messages_of(response) == [TOO_MANY_TO_EXPORT.format(count="3", most="2")]

    def test_exporting_as_many_commenters_as_a_request_takes_downloads_them_all(
        self, superuser_client, article, monkeypatch
    ):
        monkeypatch.setattr(comments_admin, "EXPORTED_IN_THE_REQUEST", 2)
        comments = [
            make_comment(article, email=f"reader{n}@example.com", status=Status.SPAM)
            for n in range(2)
        ]

        response = run_action(
            superuser_client, "export_commenter_data", comments, url=f"{QUEUE}?status=spam"
        )

        assert [person["email"] for person in json.loads(response.content)] == [
            "reader0@example.com",
            "reader1@example.com",
        ]

    def test_exporting_many_commenters_takes_as_many_queries_as_exporting_two(
        self, superuser_client, article, django_assert_max_num_queries
    ):
        """Each commenter's comments and deleted comments were read on their own: two
        queries a commenter, 1,000 for the 500 a request takes. Those of a deleted comment
        stay in the file, by the digest only the site keeps of them."""
        comments = [
            make_comment(article, email=f"Reader{n}@example.com", status=Status.SPAM)
            for n in range(6)
        ]
        make_comment(article, email="reader0@EXAMPLE.com", body="Again.", status=Status.SPAM)
        deleted = make_comment(article, email="reader5@example.com", status=Status.SPAM)
        deleted_id = deleted.pk
        deleted.delete()

        with django_assert_max_num_queries(len(export_queries(superuser_client, comments[:2]))):
            response = run_action(
                superuser_client, "export_commenter_data", comments, url=f"{QUEUE}?status=spam"
            )

        people = json.loads(response.content)
        assert [person["email"] for person in people] == [
            f"Reader{n}@example.com" for n in range(6)
        ]
        assert [len(person["comments"]) for person in people] == [2, 1, 1, 1, 1, 1]
        assert people[0]["comments"][1]["body"] == "Again."
        assert [person["deleted_comments"] for person in people] == [[]] * 5 + [[deleted_id]]

    def test_exporting_as_many_commenters_as_a_request_takes_on_an_older_sqlite(
        self, superuser_client, article, old_sqlite_parameter_limit
    ):
        """Their deleted comments were looked for with two parameters a commenter (a key's
        digest and an old one): at 500 commenters, past the old limit of 999 parameters, the
        editor got an error page, not the file."""
        Comment.objects.bulk_create(
            Comment(
                article=article,
                name="Bot",
                email=f"bot{n}@example.com",
                body="Buy",
                status=Status.SPAM,
            )
            for n in range(comments_admin.EXPORTED_IN_THE_REQUEST)
        )
        gone = Comment.objects.get(email="bot7@example.com")
        Comment.objects.filter(pk=gone.pk).delete()
        Comment.objects.create(
            article=article, name="Bot", email="bot7@example.com", body="Buy", status=Status.SPAM
        )

        response = run_action(
            superuser_client,
            "export_commenter_data",
            Comment.objects.all(),
            url=f"{QUEUE}?status=spam",
            select_across="1",
        )

        assert response.status_code == 200
        people = json.loads(response.content)
        assert len(people) == comments_admin.EXPORTED_IN_THE_REQUEST
        assert {
            person["email"]: person["deleted_comments"]
            for person in people
            if person["deleted_comments"]
        } == {"bot7@example.com": [gone.pk]}

    def test_each_commenter_s_file_holds_their_comments_alone(self, superuser_client, article):
        """Two addresses the database tells apart, which Python's str.upper() writes alike
        ("ß" as "SS"): exported together, each one's file held the other's comments too,
        and their address with them."""
        comments = [
            make_comment(article, email="ada@strasse.de", body="From strasse.", status=Status.SPAM),
            make_comment(article, email="ada@straße.de", body="From straße.", status=Status.SPAM),
        ]

        response = run_action(
            superuser_client, "export_commenter_data", comments, url=f"{QUEUE}?status=spam"
        )

        assert {
            person["email"]: [comment["body"] for comment in person["comments"]]
            for person in json.loads(response.content)
        } == {"ada@strasse.de": ["From strasse."], "ada@straße.de": ["From straße."]}

    @staticmethod
    def deleted_in_the_admin(client, article, email, name):
        """The id of a comment from `email`, which a decision logged under `name`, deleted
        by the list's action."""
        comment = make_comment(article, name=name, email=email, status=Status.PENDING)
        run_action(client, "mark_selected_as_spam", [comment])
        assert Comment.objects.get(pk=comment.pk).status == Status.SPAM
        run_action(client, "delete_selected", [comment], url=f"{QUEUE}?status=all", post="yes")
        assert not Comment.objects.filter(pk=comment.pk).exists()
        return comment.pk

    def test_each_commenter_s_file_lists_their_deleted_comments_alone(
        self, superuser_client, article
    ):
        """Deleted comments were found by a digest of the address as Python folds it, which
        writes "ß" as "ss": each of the two commenters' files listed both ones'."""
        gone = {
            email: self.deleted_in_the_admin(superuser_client, article, email, "Ada")
            for email in ["ada@strasse.de", "ada@straße.de"]
        }
        comments = [
            make_comment(article, email=email, status=Status.SPAM)
            for email in ["ada@strasse.de", "ada@straße.de"]
        ]

        response = run_action(
            superuser_client, "export_commenter_data", comments, url=f"{QUEUE}?status=spam"
        )

        assert {
            person["email"]: person["deleted_comments"] for person in json.loads(response.content)
        } == {email: [comment_id] for email, comment_id in gone.items()}

    def test_erasing_a_commenter_leaves_the_log_naming_another_whose_address_python_folds_alike(
        self, superuser_client, article
    ):
        """Erasing ada@strasse.de scrubbed the name off the log entries of ada@straße.de's
        deleted comments too."""
        hers = self.deleted_in_the_admin(superuser_client, article, "ada@strasse.de", "Ada SS")
        others = self.deleted_in_the_admin(superuser_client, article, "ada@straße.de", "Ada Eszett")
        comment = make_comment(article, name="Ada SS", email="ada@strasse.de")
        choice = {"action": "erase_commenter_data", "_selected_action": [comment.pk]}
        listing = erasure_listing(["ada@strasse.de"])

        response = superuser_client.post(
            f"{QUEUE}?status=all",
            {**choice, "confirmed": "yes", LISTED_FOR_ERASURE: listing},
            follow=True,
        )

        assert messages_of(response) == ["Anonymised 1 comment from 1 commenter."]
        named = {
            (int(entry.object_id), entry.object_repr)
            for entry in LogEntry.objects.filter(object_id__in=[str(hers), str(others)])
        }
        assert named == {(hers, ERASED_REPR), (others, f"Comment by {isolated('Ada Eszett')}")}

    @pytest.mark.parametrize("email", ["İlker@example.com", "ilker@İzmir.example.com"])
    def test_a_commenter_whose_address_has_a_capital_dotted_i_gets_their_data(
        self, superuser_client, article, email
    ):
        """The form takes a Turkish "İ"; written in small letters by Python ("i" and a dot
        above), the address no longer matched theirs in the database: the export held none
        of their comments."""
        comment = make_comment(article, email=email, status=Status.SPAM)

        response = run_action(
            superuser_client, "export_commenter_data", [comment], url=f"{QUEUE}?status=spam"
        )

        [person] = json.loads(response.content)
        assert [data["id"] for data in person["comments"]] == [comment.pk]

    @pytest.mark.parametrize("email", ["İlker@example.com", "ilker@İzmir.example.com"])
    def test_a_commenter_whose_address_has_a_capital_dotted_i_is_erased(
        self, superuser_client, article, email
    ):
        """Written in small letters by Python, the address matched none of their comments:
        "Anonymised 0 comments", and their name, address and IP stayed."""
        comment = make_comment(article, name="İlker", email=email, ip_address="192.0.2.1")
        choice = {"action": "erase_commenter_data", "_selected_action": [comment.pk]}
        confirm = superuser_client.post(f"{QUEUE}?status=all", choice).content.decode()
        listing = re.search(rf'name="{LISTED_FOR_ERASURE}" value="([^"]*)"', confirm).group(1)

        response = superuser_client.post(
            f"{QUEUE}?status=all",
            {**choice, "confirmed": "yes", LISTED_FOR_ERASURE: listing},
            follow=True,
        )

        comment.refresh_from_db()
        assert (comment.name, comment.email, comment.ip_address) == ("Anonymous", "", None)
        assert "Anonymised 1 comment from 1 commenter." in messages_of(response)

    def test_erase_asks_first_then_anonymises(self, superuser_client, article, settings):
        settings.COMMENTS_ERASE_KEEPS_TEXT = False
        comment = make_comment(article, name="Ada", email="ada@example.com", ip_address="192.0.2.1")
        data = {"action": "erase_commenter_data", "_selected_action": [comment.pk]}

        confirm = superuser_client.post(f"{QUEUE}?status=all", data)
        assert "ada@example.com" in confirm.content.decode()
        assert Comment.objects.get(pk=comment.pk).email == "ada@example.com"

        response = superuser_client.post(
            f"{QUEUE}?status=all",
            {**data, "confirmed": "yes", LISTED_FOR_ERASURE: erasure_listing(["ada@example.com"])},
            follow=True,
        )

        comment.refresh_from_db()
        assert (comment.name, comment.email, comment.ip_address) == ("Anonymous", "", None)
        assert "Anonymised 1 comment from 1 commenter." in messages_of(response)

    def test_erase_of_every_page_erases_every_commenter_it_listed(self, superuser_client, article):
        """With "Select all" across the pages the confirmation lists every commenter of the
        queue; its form then sent only the rows ticked on the page, and erased those alone."""
        comments = [
            make_comment(article, email=f"reader{n}@example.com", status=Status.PENDING)
            for n in range(3)
        ]
        choice = {
            "action": "erase_commenter_data",
            "_selected_action": [comments[0].pk],
            "select_across": "1",
        }
        confirm = superuser_client.post(QUEUE, choice).content.decode()
        assert all(f"reader{n}@example.com" in confirm for n in range(3))

        form = re.search(r'<form method="post">.*?</form>', confirm, re.S).group()
        sent = {}
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form):
            sent.setdefault(name, []).append(value)
        response = superuser_client.post(QUEUE, sent, follow=True)

        assert not Comment.objects.exclude(email="").exists()
        assert messages_of(response) == ["Anonymised 3 comments from 3 commenters."]

    @pytest.mark.parametrize("confirmed", [False, True])
    def test_erasing_more_commenters_than_a_request_takes_is_refused_saying_so(
        self, superuser_client, article, monkeypatch, confirmed
    ):
        """Each commenter is erased in a transaction of their own, a few milliseconds each:
        "Select all" over a spam wave's 1,900 addresses took 46 s, past gunicorn's 30 s, which
        would have killed the worker with some erased, the others not, and the editor told
        nothing but an error."""
        monkeypatch.setattr(comments_admin, "ERASED_IN_THE_REQUEST", 2)
        comments = [
            make_comment(article, email=f"reader{n}@example.com", status=Status.SPAM)
            for n in range(3)
        ]
        emails = sorted(comment.email for comment in comments)

        response = run_action(
            superuser_client,
            "erase_commenter_data",
            comments,
            url=f"{QUEUE}?status=spam",
            **(
                {"confirmed": "yes", LISTED_FOR_ERASURE: erasure_listing(emails)}
                if confirmed
                else {}
            ),
        )

        assert messages_of(response) == [TOO_MANY_TO_ERASE.format(count="3", most="2")]
        assert "Erase commenter data?" not in response.content.decode()
        assert Comment.objects.exclude(email="").count() == 3

    def test_erase_of_every_page_spares_a_commenter_who_wrote_after_it_listed(
        self, superuser_client, article
    ):
        """The confirmation of "Select all" lists the commenters it will erase; one whose
        comment reached the queue between it and the click was erased too, unlisted."""
        listed = make_comment(article, email="listed@example.com", status=Status.PENDING)
        choice = {
            "action": "erase_commenter_data",
            "_selected_action": [listed.pk],
            "select_across": "1",
        }
        confirm = superuser_client.post(QUEUE, choice).content.decode()
        form = re.search(r'<form method="post">.*?</form>', confirm, re.S).group()
        sent = {}
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form):
            sent.setdefault(name, []).append(value)
        newcomer = make_comment(article, email="newcomer@example.com", status=Status.PENDING)

        response = superuser_client.post(QUEUE, sent)

        assert Comment.objects.get(pk=newcomer.pk).email == "newcomer@example.com"
        assert Comment.objects.get(pk=listed.pk).email == "listed@example.com"
        assert SELECTION_CHANGED in messages_of(response)
        assert "newcomer@example.com" in response.content.decode()  # asked again, listed

    def test_moderators_do_not_get_privacy_actions(self, moderator_client, article):
        make_comment(article, status=Status.PENDING)

        response = moderator_client.get(QUEUE)
        actions = [value for value, _ in response.context["action_form"].fields["action"].choices]

        assert "erase_commenter_data" not in actions
        assert "export_commenter_data" not in actions


def test_an_editor_s_save_keeps_the_comment_count_a_moderator_changed_meanwhile(
    editor_client, moderator, article
):
    """The article's form is read, then saved: a comment approved in between (another
    moderator, at that moment) was counted, then the editor's save wrote the count read
    before it back, and lists told readers of one comment fewer than the article showed."""
    comment = make_comment(article, status=Status.PENDING)
    assert Article.objects.get(pk=article.pk).comment_count == 0

    def approved_meanwhile(sender, instance, **kwargs):
        if sender is Article and instance.pk == article.pk:
            services.approve(Comment.objects.get(pk=comment.pk), by=moderator)

    pre_save.connect(approved_meanwhile, sender=Article)
    try:
        response = editor_client.post(
            f"/admin/articles/article/{article.pk}/change/",
            article_change_form(article, title="A new headline"),
        )
    finally:
        pre_save.disconnect(approved_meanwhile, sender=Article)

    assert response.status_code == 302
    saved = Article.objects.get(pk=article.pk)
    assert (saved.title, saved.comment_count) == ("A new headline", 1)


class TestArticlePageComments:
    def test_shows_the_newest_comments_and_links_to_all_of_them(self, editor_client, article):
        comments = [make_comment(article, body=f"Comment number {n}") for n in range(25)]

        response = editor_client.get(f"/admin/articles/article/{article.pk}/change/")

        shown = [form.instance for form in response.context["inline_admin_formsets"][-1].formset]
        assert shown == comments[::-1][:20]
        assert f"/admin/comments/comment/?article__id__exact={article.pk}" in (
            response.content.decode()
        )

    def test_each_status_says_what_the_moderators_list_says_and_why_a_comment_was_held(
        self, editor_client, article
    ):
        """A bare "Approved" told an editor the comment was on the page when it was not."""
        withheld = make_comment(article, status=Status.REJECTED)
        hidden = make_comment(article, parent=withheld)
        shown = make_comment(article)
        held = make_comment(
            article, status=Status.PENDING, held_reason="3 links (more than <b>2</b>)"
        )

        rows = inline_rows(editor_client.get(f"/admin/articles/article/{article.pk}/change/"))

        assert "Not shown to readers: a comment above it is withheld." in rows[hidden.pk]
        assert "Not shown to readers" not in rows[shown.pk]
        assert "Held: 3 links (more than &lt;b&gt;2&lt;/b&gt;)" in rows[held.pk]
        assert f'href="/admin/comments/comment/{held.pk}/change/"' in rows[held.pk]

    def test_an_unpublished_articles_approved_comments_say_readers_cannot_see_them(
        self, editor_client
    ):
        article = make_article(status=Article.Status.DRAFT)
        comment = make_comment(article)

        rows = inline_rows(editor_client.get(f"/admin/articles/article/{article.pk}/change/"))

        assert "Not shown to readers: the article is not published." in rows[comment.pk]

    def test_each_status_links_to_the_articles_comments_in_it_in_the_moderators_list(
        self, editor_client, article
    ):
        pending = [make_comment(article, status=Status.PENDING) for _ in range(2)]
        make_comment(article, status=Status.SPAM)
        make_comment(make_article(), status=Status.PENDING)
        page = editor_client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()
        link = re.search(r'<a href="([^"]+)">2 pending</a>', page).group(1)

        response = editor_client.get(link.replace("&amp;", "&"))

        assert set(response.context["cl"].result_list) == set(pending)
        assert ">1 spam</a>" in page
        assert " approved</a>" not in page

    def test_only_comments_readers_see_are_offered_view_on_site(self, editor_client, article):
        """Django offered it on every row: a held or spam comment's led to a page without it."""
        shown = make_comment(article)
        held = make_comment(article, status=Status.PENDING)
        spam = make_comment(article, status=Status.SPAM)
        under_spam = make_comment(article, parent=spam)

        rows = inline_rows(editor_client.get(f"/admin/articles/article/{article.pk}/change/"))

        assert "View on site" in rows[shown.pk]
        for hidden in (held, spam, under_spam):
            assert "View on site" not in rows[hidden.pk]

    def test_a_new_articles_form_shows_no_comments_and_no_record(self, editor_client):
        """An empty table of latest comments, "0" comments and two "-" dates, on every new
        article."""
        response = editor_client.get("/admin/articles/article/add/")

        html = response.content.decode()
        assert "Latest comments" not in html
        assert "field-comment_count" not in html and "field-created_at" not in html

    def test_the_link_to_all_comments_lists_them_in_every_state(self, editor_client, article):
        """The queue opens on pending comments; "All comments" showed those alone."""
        comments = [make_comment(article, status=status) for status in Status.values]
        page = editor_client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()
        link = re.search(r'<a href="([^"]+)">All comments on this article</a>', page).group(1)

        response = editor_client.get(link.replace("&amp;", "&"))

        assert set(response.context["cl"].result_list) == set(comments)

    def test_saving_an_article_with_many_comments_keeps_them_all(self, editor_client, article):
        for n in range(25):
            make_comment(article, body=f"Comment number {n}")
        page = editor_client.get(f"/admin/articles/article/{article.pk}/change/")
        data = {}
        for formset in page.context["inline_admin_formsets"]:
            for form in [formset.formset.management_form, *formset.formset.forms]:
                for field in form:
                    data[field.html_name] = field.value()
        form = page.context["adminform"].form
        for field in form:
            value = field.value()
            if value is not None and not isinstance(value, FieldFile):
                data[field.html_name] = value
        data["title"] = "A new title"

        response = editor_client.post(f"/admin/articles/article/{article.pk}/change/", data)

        assert response.status_code == 302, response.context["errors"]
        article.refresh_from_db()
        assert article.title == "A new title"
        assert article.comments.count() == 25


def inline_rows(response):
    """Each comment's row in the article page's latest comments, by id."""
    rows = re.findall(
        r'(?s)<tr class="form-row[^"]*"\s+id="comments-\d+">.*?</tr>', response.content.decode()
    )
    return {
        int(match[1]): row
        for row in rows
        if (match := re.search(r'name="comments-\d+-id" value="(\d+)"', row))
    }


def site_icons(response):
    return [
        attrs["href"]
        for attrs, _ in elements(
            response.content.decode(),
            lambda tag, attrs: tag == "link" and attrs.get("rel") == "icon",
        )
    ]


def test_admin_pages_carry_the_site_icon_instead_of_a_404_for_favicon_ico(client, moderator):
    """Browsers ask for /favicon.ico on a page that names no icon: a 404 per visit."""
    icon = site_icons(client.get("/"))
    login_page = client.get("/admin/login/")
    client.force_login(moderator)

    assert icon
    assert site_icons(login_page) == icon
    assert site_icons(client.get(QUEUE)) == icon


@pytest.mark.parametrize(
    ("action", "limit", "said"),
    [
        ("export_commenter_data", "EXPORTED_IN_THE_REQUEST", "at most 2 are exported at a time"),
        ("erase_commenter_data", "ERASED_IN_THE_REQUEST", "at most 2 are erased at a time"),
    ],
)
def test_refusing_more_commenters_than_a_request_takes_says_how_many_it_takes(
    superuser_client, article, monkeypatch, action, limit, said
):
    """It said "would take more than 2 at once": more than 2 of what, and whether 2 would
    do, was left to guess."""
    monkeypatch.setattr(comments_admin, limit, 2)
    comments = [
        make_comment(article, email=f"reader{n}@example.com", status=Status.SPAM) for n in range(3)
    ]

    response = run_action(superuser_client, action, comments, url=f"{QUEUE}?status=spam")

    [message] = messages_of(response)
    assert "the 3 commenters selected at once could outlast the server's time limit" in message
    assert f"{said}. Nothing was" in message


# A name that turns what follows it around: it ends in a right-to-left override (U+202E).
OVERRIDING_NAME = "Mallory\u202e"
ARABIC_TEXT = "شكرا على المقال"


class TestWhatCommentersWroteKeepsItsDirection:
    """A commenter's name ending in a right-to-left override, or in Arabic or Hebrew, turned
    around the words after it wherever the admin showed it inside a line: in <bdi> on a page,
    between the isolates U+2068 and U+2069 in plain text (a message, a heading, a title)."""

    def test_the_moderators_list_isolates_each_thing_the_commenter_wrote(
        self, moderator_client, article
    ):
        comment = make_comment(
            article,
            status=Status.PENDING,
            name=OVERRIDING_NAME,
            email="mallory@example.com",
            body=ARABIC_TEXT,
            url="https://example.com/",
        )

        row = list_rows(moderator_client.get(QUEUE))[comment.pk]

        assert f"<bdi>{OVERRIDING_NAME}</bdi>" in row
        assert "<bdi>mallory@example.com</bdi>" in row
        assert f"<bdi>{ARABIC_TEXT}</bdi>" in row
        assert "<bdi>https://example.com/</bdi>" in row
        assert f"<bdi>{escape(article.title)}</bdi>" in row
        assert f'aria-label="Approve: comment by {isolated(OVERRIDING_NAME)}"' in row

    def test_a_website_that_is_no_web_address_is_shown_to_moderators_unlinked(
        self, moderator_client, article
    ):
        """Written by no form of ours (an import): a moderator reads it, and clicking it
        cannot run code in the admin."""
        comment = make_comment(article, status=Status.PENDING, url="javascript:alert(1)")

        row = list_rows(moderator_client.get(QUEUE))[comment.pk]

        assert "<bdi>javascript:alert(1)</bdi>" in row
        assert 'href="javascript:' not in row

    def test_the_comment_s_page_isolates_the_name_in_its_heading_title_and_fields(
        self, moderator_client, article
    ):
        comment = make_comment(article, name=OVERRIDING_NAME)

        html = moderator_client.get(f"{QUEUE}{comment.pk}/change/").content.decode()

        assert f"<h2>Comment by {isolated(OVERRIDING_NAME)}</h2>" in html
        assert f"<title>Comment by {isolated(OVERRIDING_NAME)} |" in html
        assert f"<bdi>{OVERRIDING_NAME}</bdi>" in html  # the name field

    def test_django_s_message_after_an_edit_isolates_the_name(self, moderator_client, article):
        comment = make_comment(article, name=OVERRIDING_NAME, body="Teh typo.")
        change_url = f"{QUEUE}{comment.pk}/change/"
        opened = moderator_client.get(change_url).content.decode()

        response = moderator_client.post(
            change_url, {"body": "The typo.", "text_shown": form_values(opened, "text_shown")}
        )

        [message] = messages_of(response)
        assert f">Comment by {isolated(OVERRIDING_NAME)}</a>” was changed successfully" in message

    def test_the_delete_confirmation_isolates_the_name(self, superuser_client, article):
        comment = make_comment(article, name=OVERRIDING_NAME)

        html = superuser_client.get(f"{QUEUE}{comment.pk}/delete/").content.decode()

        assert f"delete the comment “Comment by {isolated(OVERRIDING_NAME)}”?" in html

    def test_a_name_cannot_end_its_isolate_early_in_a_message_or_the_list(
        self, moderator_client, article
    ):
        """A U+2069 closing no isolate of the name's own closed the one around it, and a
        paragraph separator ended it: the override after either turned the rest of the
        message around, as a name ending in one did."""
        comment = make_comment(article, status=Status.PENDING, name="Mallory\u2069\u2029\u202e")

        row = list_rows(moderator_client.get(QUEUE))[comment.pk]
        response = moderator_client.post(decide_url(comment, "spam"), follow=True)

        assert "<bdi>Mallory \u202e</bdi>" in row
        assert messages_of(response) == ["Comment by \u2068Mallory \u202e\u2069 marked as spam."]

    def test_a_name_cannot_keep_the_end_of_its_isolate_for_one_it_left_open(
        self, moderator_client, article
    ):
        """An isolate the name opened and left open (U+2066) took the end of the one around
        it for its own: the override before it turned the rest of the message around."""
        comment = make_comment(article, status=Status.PENDING, name="Mallory\u202e\u2066")

        row = list_rows(moderator_client.get(QUEUE))[comment.pk]
        response = moderator_client.post(decide_url(comment, "spam"), follow=True)

        assert "<bdi>Mallory\u202e\u2066\u2069</bdi>" in row
        assert messages_of(response) == [
            "Comment by \u2068Mallory\u202e\u2066\u2069\u2069 marked as spam."
        ]

    @pytest.mark.parametrize("copied", ["Ada\u2069", "\u2068Ada Lovelace\u2069 "])
    def test_a_name_copied_from_a_heading_or_a_message_finds_their_comments(
        self, moderator_client, article, copied
    ):
        """A double click on the name in "Comment by Ada" (the comment's heading, a
        decision's message) selects the invisible isolate after it too: pasted into the
        search, it found no one."""
        adas = make_comment(article, name="Ada Lovelace"), make_comment(article, name="Ada")
        make_comment(article, name="Grace")

        response = moderator_client.get(QUEUE, {"status": "all", "q": copied})

        found = list(response.context["cl"].result_list)
        assert found and set(found) <= set(adas)

    def test_a_short_search_s_message_isolates_the_name_searched_for(
        self, moderator_client, article
    ):
        make_comment(article, name="عل")

        response = moderator_client.get(QUEUE, {"q": "عل"})

        assert messages_of(response) == [SHORT_SEARCH.format(term="\u2068عل\u2069")]

    def test_an_article_s_latest_comments_isolate_the_name_and_text(self, editor_client, article):
        make_comment(article, name=OVERRIDING_NAME, body=ARABIC_TEXT)

        html = editor_client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()

        assert f"<bdi>{OVERRIDING_NAME}</bdi>" in html
        assert f"<bdi>{ARABIC_TEXT}</bdi>" in html
