"""Hostile search and filter parameters in the admin changelists: never a 500.

A bad parameter ends on the admin's own answers: the list (unknown values filter nothing in),
a redirect to `?e=1` for lookups it cannot apply, or 400 for lookups it does not allow.
"""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from comments.models import Comment
from tests.factories import (
    PASSWORD,
    make_article,
    make_comment,
    make_editor,
    make_moderator,
    make_superuser,
    make_user,
)
from tests.hostile import hostile_text

pytestmark = [
    pytest.mark.django_db,
    # Hand-made date-hierarchy values carry no time zone; Django says so and carries on.
    pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime"),
]

Status = Comment.Status
COMMENT_QUEUE = "/admin/comments/comment/"
ARTICLE_LIST = "/admin/articles/article/"
USER_LIST = "/admin/auth/user/"
GROUP_LIST = "/admin/auth/group/"
TASK_RESULTS = "/admin/django_tasks_database/dbtaskresult/"
NUMBERS = st.integers(-3, 10_000).map(str)


def values(*known):
    """A parameter's value(s): a known good one, a number, anything; sometimes repeated."""
    one = st.one_of(st.sampled_from(known), NUMBERS, hostile_text(60)) if known else hostile_text()
    return st.one_of(one, st.lists(one, min_size=2, max_size=3))


def parameters(**choices):
    """Any subset of the named parameters, each with hostile values."""
    return st.fixed_dictionaries({}, optional=choices)


@pytest.fixture
def comments(db):
    article = make_article()
    rows = [
        make_comment(article, status=status, ip_address="203.0.113.9", body=f"A {status} one")
        for status in Status.values
    ]
    Comment.objects.filter(pk=rows[0].pk).update(created_at=timezone.now() - timedelta(days=400))
    return rows


@pytest.fixture
def moderator_client(client, comments):
    client.force_login(make_moderator())
    return client


@pytest.fixture
def editor_client(client, comments):
    client.force_login(make_editor())
    return client


@pytest.fixture
def superuser_client(client, comments):
    """Users, groups, task results and deleting comments: a superuser's."""
    client.force_login(make_superuser())
    return client


def assert_answered_cleanly(response):
    assert response.status_code in (200, 302, 400)
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1")


@given(
    params=parameters(
        q=values("A", "203.0.113.9", "pending one", "%", "_"),
        status=values("all", *Status.values),
        created_at__year=values("2026"),
        created_at__month=values("1", "12"),
        created_at__day=values("1", "31"),
        created_at__gte=values("2026-01-01", "2026-01-01 00:00:00+00:00"),
        created_at__lt=values("2027-01-01"),
        article__section__id__exact=values("1"),
        article__section__isnull=values("True", "False"),
        o=values("1", "-2", "3.-4", "1.1"),
        p=values("1", "2"),
        all=values(""),
        e=values("1"),
    )
)
def test_comment_queue_search_and_filters_never_fail(moderator_client, params):
    response = moderator_client.get(f"{COMMENT_QUEUE}?{urlencode(params, doseq=True)}")

    assert_answered_cleanly(response)
    if response.status_code == 200 and "cl" in response.context:
        last = {
            name: value[-1] if isinstance(value, list) else value for name, value in params.items()
        }
        # The queue opens on pending comments; a search looks through every status.
        status = last.get("status") or ("all" if last.get("q", "").strip() else Status.PENDING)
        shown = {comment.status for comment in response.context["cl"].result_list}
        if status in Status.values:
            assert shown <= {status}
        elif status != "all":
            assert not shown


@given(
    params=parameters(
        q=values("Article", "What happened", "%"),
        status=values("draft", "scheduled", "published"),
        status__exact=values("draft", "published"),
        section__id__exact=values("1"),
        published_at__year=values("2026"),
        published_at__month=values("1", "12"),
        published_at__day=values("1", "31"),
        published_at__gte=values("2026-01-01"),
        published_at__lt=values("2027-01-01"),
        published_at__isnull=values("True", "False"),
        o=values("1", "-2", "5.-6", "7"),
        p=values("1", "2"),
        all=values(""),
    )
)
def test_article_list_search_and_filters_never_fail(editor_client, params):
    response = editor_client.get(f"{ARTICLE_LIST}?{urlencode(params, doseq=True)}")

    assert_answered_cleanly(response)


# Found by the properties above, on PostgreSQL ------------------------------------------------


@pytest.mark.parametrize("param", ["status", "status__exact"])
def test_nul_in_an_article_filter_is_refused_not_a_server_error(editor_client, param):
    """PostgreSQL refuses NUL in text; SQLite would have answered with an empty list."""
    response = editor_client.get(f"{ARTICLE_LIST}?{param}=draft%00")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=9999",
        "created_at__year=9999&created_at__month=12",
        "created_at__year=9999&created_at__month=12&created_at__day=31",
        "created_at__year=%D9%A9%D9%A9%D9%A9%D9%A9",  # 9999 in Arabic-Indic digits
        "created_at__year=1",
        "created_at__year=2026&created_at__month=2200000000",  # past a C int: OverflowError
        "created_at__year=2026&created_at__month=1&created_at__day=99999999999",
    ],
)
def test_date_hierarchy_at_the_ends_of_time_is_refused_not_a_server_error(
    moderator_client, settings, query
):
    """Django computes the end of the chosen period; past year 9998, or before year 1 in a
    time zone east of UTC, that overflowed into a 500."""
    settings.TIME_ZONE = "Asia/Tokyo"

    response = moderator_client.get(f"{COMMENT_QUEUE}?{query}")

    assert response.status_code == 400


def test_article_date_hierarchy_at_the_end_of_time_is_refused(editor_client):
    assert editor_client.get(f"{ARTICLE_LIST}?published_at__year=9999").status_code == 400


def test_date_hierarchy_still_narrows_to_a_year(moderator_client, comments):
    year = comments[-1].created_at.year

    response = moderator_client.get(f"{COMMENT_QUEUE}?status=all&created_at__year={year}")

    assert response.status_code == 200
    assert {c.created_at.year for c in response.context["cl"].result_list} == {year}
    assert len(response.context["cl"].result_list) == len(comments) - 1  # one is 400 days old


@pytest.mark.parametrize(
    "q",
    [
        "a b " * 200_000,  # 400,000 words: SQLite's expression tree overflowed
        "x" * 60_000,  # a LIKE pattern over SQLite's 50,000-byte limit
    ],
)
def test_a_huge_admin_search_is_bounded_not_a_server_error(editor_client, q):
    for url in (COMMENT_QUEUE, ARTICLE_LIST):
        assert editor_client.get(url, {"q": q}).status_code == 200


@pytest.mark.parametrize("q", ["a\x00b@example.com", "fe80::1%eth0", "203.0.113.9\x00"])
def test_an_address_search_the_database_cannot_read_is_no_server_error(moderator_client, q):
    """A NUL (PostgreSQL refuses it in text) or an IPv6 zone (not an inet) in what looks
    like a whole address."""
    response = moderator_client.get(COMMENT_QUEUE, {"q": q, "status": "all"})

    assert_answered_cleanly(response)


def test_a_long_admin_search_still_finds_a_whole_comment(moderator_client, comments):
    body = " ".join(f"word{n}" for n in range(800))  # 800 words, about 5,000 characters
    comment = make_comment(comments[0].article, status=Status.PENDING, body=body)

    response = moderator_client.get(COMMENT_QUEUE, {"q": body})

    assert [c.pk for c in response.context["cl"].result_list] == [comment.pk]


@pytest.mark.parametrize("selected", ["abc", "7\x00", "99999999999999999999999"])
@pytest.mark.parametrize(
    ("url", "action"),
    [
        (COMMENT_QUEUE, "approve_selected"),
        (ARTICLE_LIST, "publish"),
        (USER_LIST, "delete_selected"),
        (GROUP_LIST, "delete_selected"),
    ],
)
def test_a_hand_made_selection_for_an_action_is_refused_not_a_server_error(
    superuser_client, url, action, selected
):
    """The checkboxes send ids; anything else failed in the database (a 20-digit number on
    SQLite only)."""
    response = superuser_client.post(url, {"action": action, "_selected_action": ["1", selected]})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("url", "text_field"),
    [
        ("/admin/articles/section/", "slug"),
        ("/admin/articles/tag/", "slug"),
        ("/admin/articles/author/", "slug"),
        (USER_LIST, "username"),
        (GROUP_LIST, "name"),
    ],
)
def test_hand_made_urls_of_the_other_lists_never_fail(superuser_client, url, text_field):
    """The section, tag, author, user and group lists had none of the article list's guards:
    a NUL in a filter failed on PostgreSQL, a huge search on SQLite."""
    assert superuser_client.get(url, {text_field: "x\x00"}).status_code == 400
    assert superuser_client.get(url, {"q": "a b " * 200_000}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        f"{COMMENT_QUEUE}?status=all&id__in=1,{2**64}",
        f"{COMMENT_QUEUE}?status=all&article__in={2**64}",
        f"{ARTICLE_LIST}?pk__in=-{2**64}",
        f"{ARTICLE_LIST}?tags__in={2**64}",
        f"/admin/articles/section/?id__in={2**64}",
        f"{USER_LIST}?groups__id__in=1,{2**64}",
        f"{GROUP_LIST}?permissions__in={2**64}",
    ],
)
def test_a_list_of_numbers_past_64_bits_is_refused_not_a_server_error(superuser_client, query):
    """SQLite cannot take such a number at all; Django makes one match nothing in `exact`,
    `lt` or `gt`, not in a list."""
    assert superuser_client.get(query).status_code == 400


def test_a_list_of_ids_still_filters(editor_client, comments):
    response = editor_client.get(f"{COMMENT_QUEUE}?status=all&id__in={comments[0].pk},0")

    assert [c.pk for c in response.context["cl"].result_list] == [comments[0].pk]


def test_a_hand_made_row_of_the_section_order_list_is_refused_not_a_server_error(editor_client):
    """The section list edits the order in place: Django checks that the rows' ids are
    numbers, not that they fit the column (SQLite cannot take one past 64 bits)."""
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(2**64),
        "form-0-order": "1",
        "_save": "Save",
    }

    assert editor_client.post("/admin/articles/section/", data).status_code == 400


@pytest.mark.parametrize("field", ["tags", "author"])
def test_a_nul_in_an_autocomplete_search_is_refused_not_a_server_error(editor_client, field):
    """The tag and author boxes of the article form search as the editor types; Django's
    changelist refuses a NUL in its search box, its autocomplete view passed it to the
    database (PostgreSQL refuses it in text)."""
    params = {"app_label": "articles", "model_name": "article", "field_name": field}

    response = editor_client.get("/admin/autocomplete/", {**params, "term": "a\x00"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("app_label", "model_name", "field_name"),
    [
        ("auth", "user", "author"),
        ("articles", "article", "comments"),
        ("articles", "section", "articles"),
    ],
)
def test_an_autocomplete_for_a_relation_no_form_has_is_refused(
    editor_client, app_label, model_name, field_name
):
    """The autocomplete view answers the boxes of forms, which edit a model's own relations.
    Asked for one seen from the other side (a user's author, an article's comments), which no
    form has, it was a 500 for anyone allowed to see the rows on that side (moderators too,
    for an article's comments)."""
    params = {"app_label": app_label, "model_name": model_name, "field_name": field_name}

    response = editor_client.get("/admin/autocomplete/", {**params, "term": "a"})

    assert response.status_code == 403


def test_a_hand_made_id_in_a_group_s_permissions_is_a_form_error(superuser_client):
    """The group form's permissions and the user form's groups and permissions are lists of
    ids: a number past 64 bits failed on SQLite."""
    response = superuser_client.post(
        f"{GROUP_LIST}add/", {"name": "Subeditors", "permissions": ["1", str(2**64)]}
    )

    assert response.status_code == 200
    assert "permissions" in response.context["adminform"].form.errors


@pytest.mark.parametrize("field", ["groups", "user_permissions"])
def test_a_hand_made_id_in_a_user_s_groups_or_permissions_is_a_form_error(superuser_client, field):
    user = make_user("sam")
    data = {"username": "sam", "date_joined_0": "2026-01-01", "date_joined_1": "00:00"}

    response = superuser_client.post(
        f"{USER_LIST}{user.pk}/change/", {**data, field: ["1", str(2**64)]}
    )

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors


@pytest.mark.parametrize(
    "query",
    [
        f"{COMMENT_QUEUE}?status=all&ip_address=not-an-address",  # not an inet (PostgreSQL)
        f"{COMMENT_QUEUE}?status=all&ip_address=%20",  # nor is a space,
        f"{COMMENT_QUEUE}?status=all&ip_address=%20203.0.113.9",  # nor one around an address
        f"{COMMENT_QUEUE}?status=all&ip_address__in=203.0.113.9,abc",
        f"{COMMENT_QUEUE}?status=all&article_id={2**64}",  # past 64 bits (SQLite)
        f"{ARTICLE_LIST}?author_id__gt={2**64}",
        f"{COMMENT_QUEUE}?status=all&moderated_at__year=99999",  # past datetime's years
        f"{ARTICLE_LIST}?updated_at__year__gt=99999",
        f"{ARTICLE_LIST}?published_at__iso_year=99999",
        f"{COMMENT_QUEUE}?status=all&body__regex=(",  # a pattern the database cannot compile
        f"{ARTICLE_LIST}?title__iregex=[",
        f"{COMMENT_QUEUE}?status=all&name__range=abc",  # a range needs two values
        # The admins of the packages we install: django-tasks-db's task results.
        f"{TASK_RESULTS}?status=%00",  # PostgreSQL refuses NUL in text
        f"{TASK_RESULTS}?enqueued_at__year=-1",  # before year 1 (SQLite)
    ],
)
def test_a_filter_on_a_field_the_value_cannot_fit_is_refused_not_a_server_error(
    superuser_client, query
):
    """Django's admin lets a hand-made URL filter by any of the model's own fields, with any
    lookup; a value that field cannot hold failed in the database or in Python."""
    assert superuser_client.get(query).status_code == 400


def test_a_filter_on_a_field_with_a_value_it_holds_still_filters(editor_client, comments):
    response = editor_client.get(f"{COMMENT_QUEUE}?status=all&ip_address=203.0.113.9")

    assert {c.ip_address for c in response.context["cl"].result_list} == {"203.0.113.9"}


@pytest.mark.parametrize("typed", ["2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001"])
def test_an_ipv6_filter_written_in_capitals_or_in_full_is_not_refused(editor_client, typed):
    """The address is the same one written otherwise, not a value the field cannot hold."""
    make_comment(make_article(), ip_address="2001:db8::1")

    response = editor_client.get(f"{COMMENT_QUEUE}?status=all&ip_address={typed}")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "next_url", ["//elsewhere.example/", "https://elsewhere.example/", "javascript:x", "\x00"]
)
def test_signing_in_with_a_next_address_off_the_site_lands_on_the_admin(client, next_url):
    """Django rightly ignores a `next` that leads off the site (a link a phisher sent), for
    LOGIN_REDIRECT_URL, whose default /accounts/profile/ is no page here: the editor, signed
    in, was shown "Page not found"."""
    make_editor("eddie")

    response = client.post(
        f"/admin/login/?{urlencode({'next': next_url})}",
        {"username": "eddie", "password": PASSWORD, "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(response["Location"]).status_code == 200
