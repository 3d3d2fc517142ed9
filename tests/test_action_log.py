"""The action log (/admin/admin/logentry/): who did what in the admin, read-only for all."""

import re
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from comments import services
from comments.models import Comment, isolated
from newsroom.admin import ADMIN_SEARCH_MAX_WORDS, OWN_ACCOUNT
from tests.factories import (
    make_article,
    make_comment,
    make_draft,
    make_editor,
    make_moderator,
    make_superuser,
)
from tests.hostile import hostile_text

pytestmark = [
    pytest.mark.django_db,
    # Hand-made date-hierarchy values carry no time zone; Django says so and carries on.
    pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime"),
]

LOG = "/admin/admin/logentry/"


def rows(response):
    return list(response.context["cl"].result_list)


def log_change(user, obj, message, flag=CHANGE):
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[obj], action_flag=flag, change_message=message
    )


@pytest.fixture
def editor(db):
    return make_editor()


@pytest.fixture
def superuser(db):
    return make_superuser()


@pytest.fixture
def moderator(db):
    return make_moderator()


def test_a_moderator_s_decision_and_a_deleted_comment_say_who_when_and_what(
    client, superuser, moderator
):
    approved = make_comment(make_article(), status=Comment.Status.PENDING, name="Ann")
    deleted = make_comment(approved.article, name="Bob")
    services.approve(approved, by=moderator)
    client.force_login(superuser)
    client.post(f"/admin/comments/comment/{deleted.pk}/delete/", {"post": "yes"})

    response = client.get(LOG)

    html = response.content.decode()
    assert [(e.user, e.object_repr, e.get_action_flag_display()) for e in rows(response)] == [
        (superuser, f"Comment by {isolated('Bob')}", "Deletion"),
        (moderator, f"Comment by {isolated('Ann')}", "Change"),
    ]
    assert "Action log" in html
    assert "moira" in html and "root" in html
    assert "Approved." in html
    assert "field-action_time" in html  # when


@pytest.mark.parametrize("how", ["its page", "the list"])
def test_the_replies_a_deleted_comment_takes_with_it_are_each_in_the_log(client, superuser, how):
    """Django logged the comment deleted, and not the readers' replies that went with it:
    the log had their approvals, then nothing, as if they were still on the page."""
    parent = make_comment(make_article(), name="Ann")
    reply = make_comment(parent.article, parent=parent, name="Bob")
    make_comment(parent.article, parent=reply, name="Cy")
    make_comment(parent.article, name="Dee")  # not under it: stays, and is not logged
    client.force_login(superuser)

    if how == "its page":
        client.post(f"/admin/comments/comment/{parent.pk}/delete/", {"post": "yes"})
    else:
        client.post(
            "/admin/comments/comment/?status=all",
            {"action": "delete_selected", "_selected_action": [parent.pk], "post": "yes"},
        )

    entries = LogEntry.objects.order_by("pk")
    assert [(e.user, e.object_repr, e.get_action_flag_display()) for e in entries] == [
        (superuser, f"Comment by {isolated('Ann')}", "Deletion"),
        (superuser, f"Comment by {isolated('Bob')}", "Deletion"),
        (superuser, f"Comment by {isolated('Cy')}", "Deletion"),
    ]
    assert [e.get_change_message() for e in entries] == [
        "",
        "Deleted with the comment it answered.",
        "Deleted with the comment it answered.",
    ]
    assert list(Comment.objects.values_list("name", flat=True)) == ["Dee"]


@pytest.mark.parametrize("how", ["its page", "the list"])
def test_an_article_s_deletion_says_in_the_log_how_many_comments_went_with_it(
    client, superuser, how
):
    """Django's entry named the article alone: readers' comments vanished with it, and
    the log never said so."""
    commented, bare = make_article(title="Commented"), make_article(title="Bare")
    ann = make_comment(commented, name="Ann")
    make_comment(commented, name="Bob", parent=ann)
    make_comment(make_article(), name="Cy")  # elsewhere: stays
    client.force_login(superuser)

    if how == "its page":
        for article in (commented, bare):
            client.post(f"/admin/articles/article/{article.pk}/delete/", {"post": "yes"})
    else:
        client.post(
            "/admin/articles/article/",
            {
                "action": "delete_selected",
                "_selected_action": [commented.pk, bare.pk],
                "post": "yes",
            },
        )

    entries = LogEntry.objects.order_by("object_repr")
    assert [
        (e.user, e.object_repr, e.get_action_flag_display(), e.get_change_message())
        for e in entries
    ] == [
        (superuser, "Bare", "Deletion", ""),
        (superuser, "Commented", "Deletion", "Deleted with its 2 comments."),
    ]
    assert list(Comment.objects.values_list("name", flat=True)) == ["Cy"]


@pytest.mark.parametrize("how", ["its page", "the list"])
def test_a_staff_account_the_log_names_is_kept_and_its_deletion_steers_to_deactivation(
    client, superuser, moderator, how
):
    """Deleting a user deletes their entries (LogEntry.user is on_delete=CASCADE): the record
    of who decided what. The admin refused only because nobody may delete entries, saying to
    a superuser that their account lacked a permission, and nothing of what to do instead."""
    services.approve(make_comment(make_article(), status=Comment.Status.PENDING), by=moderator)
    client.force_login(superuser)

    if how == "its page":
        url, selection = f"/admin/auth/user/{moderator.pk}/delete/", {}
    else:
        url = "/admin/auth/user/"
        selection = {"action": "delete_selected", "_selected_action": [moderator.pk]}
    asked = client.post(url, selection) if selection else client.get(url)
    confirmed = client.post(url, {**selection, "post": "yes"})

    html = asked.content.decode()
    assert asked.status_code == 200
    assert "permission" not in html
    assert "1 entry in the action log records what moira did" in html
    assert "Deactivate the account instead" in html
    assert f'href="/admin/auth/user/{moderator.pk}/change/"' in html
    assert confirmed.status_code == 200
    assert LogEntry.objects.filter(user=moderator).count() == 1
    moderator.refresh_from_db()  # still there


def test_a_staff_account_the_log_does_not_name_can_be_deleted(client, superuser):
    mistake = make_editor("mistake")
    client.force_login(superuser)

    assert "Are you sure" in client.get(f"/admin/auth/user/{mistake.pk}/delete/").content.decode()
    client.post(f"/admin/auth/user/{mistake.pk}/delete/", {"post": "yes"})

    assert not type(mistake).objects.filter(pk=mistake.pk).exists()


@pytest.mark.parametrize("how", ["its page", "the list"])
def test_a_superuser_cannot_delete_their_own_account_and_the_record_of_it(client, how):
    """The entry for the deletion names the user who deletes, and went with their account:
    a superuser the log did not name yet deleted themself and left no trace of it."""
    newcomer = make_superuser("newcomer")
    client.force_login(newcomer)

    if how == "its page":
        url, selection = f"/admin/auth/user/{newcomer.pk}/delete/", {}
    else:
        url = "/admin/auth/user/"
        selection = {"action": "delete_selected", "_selected_action": [newcomer.pk]}
    asked = client.post(url, selection) if selection else client.get(url)
    client.post(url, {**selection, "post": "yes"})

    assert "Are you sure" not in asked.content.decode()
    assert OWN_ACCOUNT.format(username="newcomer") in asked.content.decode()
    assert type(newcomer).objects.filter(pk=newcomer.pk).exists()


def test_a_moderator_sees_the_entries_about_comments_only(client, editor, moderator):
    comment = make_comment(make_article())
    draft = make_draft(title="Secret merger talks")
    log_change(moderator, comment, "Approved.")
    log_change(editor, draft, "Changed title.")
    log_change(editor, make_editor("newhire"), "Changed password.")
    client.force_login(moderator)

    response = client.get(LOG)

    assert [entry.content_type.model for entry in rows(response)] == ["comment"]
    html = response.content.decode()
    assert "Secret merger talks" not in html
    assert "newhire" not in html
    assert "eddie" not in html  # not even among the filter's choices of users
    assert client.get(LOG, {"q": "Secret"}).context["cl"].result_list.count() == 0
    entry = LogEntry.objects.get(object_repr="Secret merger talks")
    assert client.get(f"{LOG}{entry.pk}/change/").status_code == 302  # "does not exist"


def test_an_editor_sees_the_entries_about_articles_and_comments_not_about_accounts(
    client, editor, superuser, moderator
):
    comment = make_comment(make_article())
    log_change(moderator, comment, "Approved.")
    log_change(superuser, make_draft(title="Secret merger talks"), "Changed title.")
    log_change(superuser, make_editor("newhire"), "Changed password.")
    client.force_login(editor)

    response = client.get(LOG)

    assert sorted(entry.content_type.model for entry in rows(response)) == ["article", "comment"]
    assert "newhire" not in response.content.decode()


def test_the_filters_narrow_the_log_to_a_user_a_kind_and_an_action(client, editor, moderator):
    comment = make_comment(make_article())
    log_change(moderator, comment, "Approved.")
    log_change(editor, comment.article, "Changed title.")
    log_change(editor, comment, "Added.", flag=ADDITION)
    client.force_login(editor)
    comments = ContentType.objects.get_for_model(Comment)

    assert len(rows(client.get(LOG, {"user__id__exact": moderator.pk}))) == 1
    assert len(rows(client.get(LOG, {"content_type__id__exact": comments.pk}))) == 2
    assert len(rows(client.get(LOG, {"action_flag__exact": ADDITION}))) == 1
    assert len(rows(client.get(LOG, {"q": "moira"}))) == 1


@pytest.mark.parametrize("who", ["editor", "moderator"])
def test_the_kind_filter_offers_no_empty_choice_that_would_list_nothing(client, request, who):
    user = request.getfixturevalue(who)
    comment = make_comment(make_article())
    log_change(user, comment, "Approved.")
    log_change(user, make_comment(comment.article), "Rejected.")
    client.force_login(user)

    html = client.get(LOG).content.decode()

    assert "content_type__isnull" not in html


def test_the_kind_filter_offers_entries_whose_kind_is_gone_to_a_superuser(client, superuser):
    comment = make_comment(make_article())
    log_change(superuser, comment, "Approved.")
    log_change(superuser, comment.article, "Changed title.")
    # Its model removed since: Django sets the entry's kind to NULL.
    LogEntry.objects.filter(object_repr=str(comment)).update(content_type=None)
    client.force_login(superuser)

    html = client.get(LOG).content.decode()

    assert "content_type__isnull=True" in html
    assert len(rows(client.get(LOG, {"content_type__isnull": "True"}))) == 1


@pytest.mark.parametrize("who", ["superuser", "editor", "moderator"])
def test_nobody_may_add_change_or_delete_an_entry_superusers_included(client, request, who):
    user = request.getfixturevalue(who)
    comment = make_comment(make_article())
    log_change(user, comment, "Approved.")
    entry = LogEntry.objects.get()
    client.force_login(user)

    page = client.get(LOG).content.decode()

    assert f'href="{LOG}add/"' not in page
    assert 'name="action"' not in page  # no actions, not even "Delete selected"
    assert client.get(f"{LOG}add/").status_code == 403
    assert client.post(f"{LOG}{entry.pk}/change/", {"object_repr": "Nobody"}).status_code == 403
    assert client.post(f"{LOG}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.object_repr == str(comment)


def test_a_moderator_still_may_see_no_articles_users_or_groups(client, moderator):
    client.force_login(moderator)

    for url in ["/admin/articles/article/", "/admin/auth/user/", "/admin/auth/group/"]:
        assert client.get(url).status_code == 403


def test_an_entry_links_to_its_object_only_while_it_exists(client, editor):
    kept, gone = make_comment(make_article(), name="Kept"), make_comment(make_article())
    log_change(editor, kept, "Approved.")
    log_change(editor, gone, "Approved.")
    gone_url = f"/admin/comments/comment/{gone.pk}/change/"
    gone.delete()
    client.force_login(editor)

    html = client.get(LOG).content.decode()

    assert f'href="/admin/comments/comment/{kept.pk}/change/"' in html
    assert gone_url not in html


def test_an_entry_s_object_keeps_its_writing_direction_to_itself(client, editor):
    """An entry recorded before comments isolated their commenter's name, ending in a
    right-to-left override, turned around what the row showed after it."""
    comment = make_comment(make_article(), name="Mallory\u202e")
    log_change(editor, comment, "Approved.")
    LogEntry.objects.update(object_repr="Comment by Mallory\u202e")
    client.force_login(editor)

    html = client.get(LOG).content.decode()

    assert "><bdi>Comment by Mallory\u202e</bdi></a>" in html


def test_an_entry_s_page_keeps_its_object_s_writing_direction_to_itself(client, editor):
    """Django names the entry in the page's heading, title and breadcrumbs ("Changed “...”
    — Approved."): a name recorded before comments isolated it, ending in a right-to-left
    override, turned the rest around (".devorppA — ”")."""
    comment = make_comment(make_article(), name="Mallory\u202e")
    log_change(editor, comment, "Approved.")
    LogEntry.objects.update(object_repr="Comment by Mallory\u202e")
    entry = LogEntry.objects.get()
    client.force_login(editor)

    html = client.get(f"{LOG}{entry.pk}/change/").content.decode()

    isolated_name = "\u2068Comment by Mallory\u202e\u2069"
    assert f"<h2>Changed “{isolated_name}” — Approved.</h2>" in html
    assert f"<title>Changed “{isolated_name}” — Approved. |" in html
    assert "Comment by Mallory\u202e”" not in html  # the breadcrumbs too


def test_a_moderator_reads_an_entry_s_page_without_a_link_to_a_page_they_may_not_open(
    client, moderator
):
    """Django links the user who acted to the users' admin, which moderators may not open."""
    comment = make_comment(make_article(), status=Comment.Status.PENDING)
    services.approve(comment, by=moderator)
    client.force_login(moderator)

    response = client.get(f"{LOG}{LogEntry.objects.get().pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "moira" in html
    assert 'href="/admin/auth/user/' not in html


def test_the_list_costs_the_same_queries_with_2_entries_as_with_50(
    client, editor, moderator, django_assert_max_num_queries
):
    article = make_article()
    for _ in range(2):
        services.approve(make_comment(article, status=Comment.Status.PENDING), by=moderator)
    client.force_login(moderator)
    with CaptureQueriesContext(connection) as two:
        client.get(LOG)
    for n in range(48):
        services.approve(make_comment(article, status=Comment.Status.PENDING), by=moderator)
        log_change(editor, article, f"Changed title {n}.")

    with django_assert_max_num_queries(len(two)):
        response = client.get(LOG)

    assert len(rows(response)) == 50


def test_the_date_bar_is_not_read_for_a_search(client, editor):
    log_change(editor, make_comment(make_article()), "Approved.")
    client.force_login(editor)

    assert "toplinks" in client.get(LOG).content.decode()
    assert "toplinks" not in client.get(LOG, {"q": "Comment"}).content.decode()


@pytest.mark.parametrize("phrase", ['"Comment by Ann"', f'"Comment by {isolated("Ann")}"'])
def test_a_quoted_name_finds_the_entries_before_and_since_names_were_isolated(
    client, editor, phrase
):
    """A name is recorded between invisible isolates since comments isolated it (Comment.
    __str__): "Comment by Ann" in quotes, as a moderator types it, found only the entries
    recorded before; the same words copied from a heading, isolates and all, only those
    since."""
    comment = make_comment(make_article(), name="Ann")
    log_change(editor, comment, "Approved.")
    LogEntry.objects.update(object_repr="Comment by Ann")  # recorded before
    log_change(editor, comment, "Unapproved.")
    log_change(editor, make_comment(make_article(), name="Bob"), "Approved.")
    client.force_login(editor)

    found = rows(client.get(LOG, {"q": phrase}))

    assert sorted(entry.change_message for entry in found) == ["Approved.", "Unapproved."]


def test_each_word_of_a_search_is_in_the_object_s_name_or_the_username(client, editor, moderator):
    log_change(moderator, make_comment(make_article(), name="Ann"), "Approved.")
    log_change(moderator, make_comment(make_article(), name="Bob"), "Approved.")
    log_change(editor, make_comment(make_article(), name="Ann"), "Unapproved.")
    client.force_login(editor)

    found = rows(client.get(LOG, {"q": f"MOIRA {isolated('ann')}"}))

    assert [(entry.user, entry.change_message) for entry in found] == [(moderator, "Approved.")]


def test_a_word_in_more_usernames_than_a_statement_takes_parameters_finds_their_entries(
    client, editor, old_sqlite_parameter_limit
):
    """The users a word names are looked up before the log is read: a word in the names of
    more accounts than SQLite takes parameters in one statement was a server error."""
    readers = get_user_model().objects.bulk_create(
        get_user_model()(username=f"reader{n:04}") for n in range(1000)
    )
    log_change(readers[-1], make_article(title="Budget"), "Changed title.")
    log_change(editor, make_article(title="Weather"), "Changed title.")
    client.force_login(editor)

    found = rows(client.get(LOG, {"q": "READER"}))

    assert [entry.user for entry in found] == [readers[-1]]


def test_fifty_words_each_in_many_usernames_find_the_entry_holding_them_all(
    client, editor, old_sqlite_parameter_limit
):
    """Each word's users in a list of their ids, fifteen each, made a statement of more
    parameters than SQLite's old limit (999) takes."""
    words = [f"w{n:02}" for n in range(ADMIN_SEARCH_MAX_WORDS)]
    get_user_model().objects.bulk_create(
        get_user_model()(username=f"{word}{reader}")
        for word in words
        for reader in "abcdefghijklmno"
    )
    log_change(editor, make_article(title="Budget"), "Changed title.")
    log_change(editor, make_article(title="Weather"), "Changed title.")
    LogEntry.objects.filter(object_repr="Budget").update(object_repr=" ".join(words))
    client.force_login(editor)

    found = rows(client.get(LOG, {"q": " ".join(words)}))

    assert [entry.object_repr for entry in found] == [" ".join(words)]


def test_words_of_isolates_alone_do_not_count_among_a_search_s_words(client, editor):
    """Isolates are not searched for (names are compared without them): fifty words of
    isolates alone, pasted ahead of a name, left no word of the search to look for."""
    log_change(editor, make_comment(make_article(), name="Ann"), "Approved.")
    log_change(editor, make_comment(make_article(), name="Bob"), "Approved.")
    client.force_login(editor)

    found = rows(client.get(LOG, {"q": "\u2068 " * ADMIN_SEARCH_MAX_WORDS + "Ann"}))

    assert [entry.object_repr for entry in found] == [f"Comment by {isolated('Ann')}"]


def search_plan_without_scans(client, search):
    """PostgreSQL's plan for the action log's search for `search`. On a test table the
    planner would rather read it all, or walk the time index, so both are ruled out: what is
    left is the indexes, if every match can use one."""
    response = client.get(LOG, {"q": search})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        return response.context["cl"].queryset.explain()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
@pytest.mark.parametrize("search", ["Grace", '"Comment by Ann"', f"{isolated('Ann')} moira"])
def test_a_search_of_the_log_is_read_from_its_trigram_index(client, moderator, search):
    """Names, with or without their isolates, and usernames: without an index each search
    read every entry twice (its count, then its page), 1.2 to 1.7 s at a million entries."""
    log_change(moderator, make_comment(make_article(), name="Ann"), "Approved.")
    client.force_login(make_superuser())

    plan = search_plan_without_scans(client, search)

    assert "Bitmap Index Scan on newsroom_admin_log_object_name_trgm" in plan
    assert "Seq Scan on django_admin_log" not in plan


@pytest.fixture
def moderator_client(client, moderator):
    log_change(moderator, make_comment(make_article()), "Approved.")
    client.force_login(moderator)
    return client


NUMBERS = st.integers(-3, 10_000).map(str)


def values(*known):
    one = st.one_of(st.sampled_from(known), NUMBERS, hostile_text(60)) if known else hostile_text()
    return st.one_of(one, st.lists(one, min_size=2, max_size=3))


@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "q": values("Comment", "moira", "%"),
            "action_flag__exact": values("1", "2", "3"),
            "user__id__exact": values("1"),
            "content_type__id__exact": values("1"),
            "content_type__isnull": values("True", "False"),
            "action_time__year": values("2026"),
            "action_time__month": values("1", "12"),
            "action_time__day": values("1", "31"),
            "action_time__gte": values("2026-01-01"),
            "object_id": values("1"),
            "object_id__in": values("1,2"),
            "change_message__regex": values("("),
            "o": values("1", "-2", "3.-4"),
            "p": values("1", "2"),
            "all": values(""),
            "e": values("1"),
        },
    )
)
def test_hand_made_query_strings_never_fail(moderator_client, params):
    response = moderator_client.get(f"{LOG}?{urlencode(params, doseq=True)}")

    assert response.status_code in (200, 302, 400)


def test_the_list_and_its_date_bar_read_the_log_through_its_time_index(client, superuser):
    """Newest first, and the date bar's first date of each period: Django's LogEntry has no
    index on its time, and every page sorted the whole log (millions of rows on a busy
    site). A test table is small enough to sort: PostgreSQL is told to avoid it if it can."""
    log_change(superuser, make_comment(make_article()), "Approved.")
    client.force_login(superuser)
    page = client.get(LOG).context["cl"].result_list
    first_date = LogEntry.objects.order_by("action_time").values_list("action_time")[:1]

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
        plans = [page.explain(), first_date.explain()]

    for plan in plans:
        assert "newsroom_admin_log_action_time" in plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan


def user_change_form(html):
    """What the user's change page sends as shown: its boxes, ticks and chosen options."""
    sent = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name, value = re.search(r'\sname="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        checkbox = 'type="checkbox"' in tag
        if checkbox and "checked" not in tag:
            continue
        sent.setdefault(name.group(1), []).append(value.group(1) if value else "on" * checkbox)
    for name, options in re.findall(
        r'<select[^>]*\sname="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        sent[name] = re.findall(r'<option value="([^"]+)"[^>]*selected', options)
    return sent


def test_saving_a_user_page_opened_before_the_account_was_deactivated_does_not_reactivate_it(
    client, superuser, moderator
):
    """A colleague deactivates a moderator's account (it was compromised, they left): an
    superuser saving a change to that user from a page opened before, their email say, gave
    the account back its access, unannounced. Told, they may save again to do so knowingly."""
    client.force_login(superuser)
    url = f"/admin/auth/user/{moderator.pk}/change/"
    shown = user_change_form(client.get(url).content.decode())
    moderator.is_active = False
    moderator.save(update_fields=["is_active"])

    response = client.post(url, {**shown, "email": "moira@newsroom.example"})

    assert response.status_code == 200
    # Its username as it is: a warning above the page starts with a capital letter.
    told = f"The access of “{moderator.username}” was changed after you opened this page"
    assert told in response.content.decode()
    moderator.refresh_from_db()
    assert not moderator.is_active

    again = {**user_change_form(response.content.decode()), "email": "moira@newsroom.example"}
    assert client.post(url, again).status_code == 302  # knowingly
    moderator.refresh_from_db()
    assert moderator.is_active


def test_saving_a_group_page_opened_before_its_permissions_changed_does_not_restore_them(
    client, superuser
):
    """A colleague takes "Can moderate comments" from the Moderators (an incident, a
    change of policy): a superuser renaming the group from a page opened before gave it back,
    unannounced."""
    moderators = Group.objects.get(name="Moderators")
    client.force_login(superuser)
    url = f"/admin/auth/group/{moderators.pk}/change/"
    shown = user_change_form(client.get(url).content.decode())
    moderators.permissions.remove(Permission.objects.get(codename="moderate_comment"))

    response = client.post(url, {**shown, "name": "Comment moderators"})

    assert response.status_code == 200
    # Not "Moderators's permissions", as a group's plural name read.
    assert (
        "The permissions of the group “Moderators” were changed after you opened this page"
        in response.content.decode()
    )
    assert not moderators.permissions.filter(codename="moderate_comment").exists()
