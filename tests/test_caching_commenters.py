"""A commenter keeps reading the site from the cache.

Their pending comments make only the pages of the articles they are under their own; the
details "remember me" keeps are in no page nor answer (the form's script fills them in from
their cookie). Before, either cookie had every page rendered for them: an article with 100
comments cost 30 times the cached copy, home 13 times. Once a comment is decided, the page
that reads it so drops it from the cookie, and its article comes from the cache again.
"""

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles import page_cache
from comments import services
from comments.captcha import refill_pool
from comments.models import Comment
from comments.privacy import erase_commenter_data
from comments.thread import (
    PENDING_COOKIE,
    PENDING_SALT,
    address_digest,
)
from comments.views import AWAITING_MODERATION, REMEMBER_COOKIE
from tests.factories import (
    article_change_form,
    comment_form_data,
    id_cookie,
    make_article,
    make_author,
    make_comment,
    make_editor,
    make_section,
    make_tag,
    make_user,
    post_url,
)

pytestmark = pytest.mark.django_db

HOME = "/"


@pytest.fixture(autouse=True)
def _site(settings, reader_cache):
    refill_pool(20)
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0


def read(path, client=None):
    response = (client or Client()).get(path)
    return response, response.content.decode()


def comment_as(client, article, **values):
    """`client` sends a comment from the article's page and lands where it is sent (which
    shows its message, so no message is left to make later pages its own)."""
    _, html = read(article.get_absolute_url(), client)
    sent = client.post(post_url(article), comment_form_data(html, **values))
    assert sent.status_code == 303
    landing = client.get(sent["Location"])
    assert AWAITING_MODERATION in landing.content.decode()
    # As a browser does: the test client keeps a deleted cookie and sends it empty.
    for name in [name for name, morsel in client.cookies.items() if not morsel.value]:
        del client.cookies[name]
    assert "messages" not in client.cookies


def stored(path):
    """Read twice by other readers: stored, then served once (the captcha sample is read)."""
    read(path)
    read(path)


@pytest.fixture
def site():
    section = make_section(name="Harbour", slug="harbour")
    author = make_author(display_name="Nellie Bly", slug="nellie-bly")
    tag = make_tag(name="Ferries", slug="ferries")
    commented = make_article(title="The commented story", section=section, author=author)
    other = make_article(
        title="Another story about the harbour", section=section, author=author, tags=[tag]
    )
    for number in range(100):
        make_comment(other, body=f"Reader's comment number {number}.")
    return {"commented": commented, "other": other, "section": section, "tag": tag}


def other_pages(site):
    return {
        "another article": site["other"].get_absolute_url(),
        "home": HOME,
        "section": site["section"].get_absolute_url(),
        "tag": site["tag"].get_absolute_url(),
        "author": reverse("articles:author", args=["nellie-bly"]),
        "search": f"{reverse('articles:search')}?q=harbour",
        "feed": reverse("articles:feed-rss"),
    }


@pytest.mark.parametrize(
    "other", ["another article", "home", "section", "tag", "author", "search", "feed"]
)
def test_a_commenter_gets_every_other_page_from_the_cache(other, site, django_assert_num_queries):
    commenter = Client()
    comment_as(commenter, site["commented"], body="Awaiting a moderator.")
    path = other_pages(site)[other]
    stored(path)

    with django_assert_num_queries(0):
        response, html = read(path, commenter)

    assert response.status_code == 200
    assert "Awaiting a moderator." not in html


def test_a_commenter_still_sees_their_pending_comment_under_its_article(site):
    commenter = Client()
    comment_as(commenter, site["commented"], body="Awaiting a moderator.")
    stored(site["commented"].get_absolute_url())

    response, html = read(site["commented"].get_absolute_url(), commenter)

    assert "Awaiting a moderator." in html
    assert AWAITING_MODERATION in html
    assert "private" in response["Cache-Control"]
    assert "Awaiting a moderator." not in read(site["commented"].get_absolute_url())[1]


def test_lists_count_a_pending_comment_only_once_it_is_approved(
    site, django_capture_on_commit_callbacks
):
    """The counts lists show are of approved comments: a commenter's list from the cache is
    the right one, and an approval shows in it at the next request."""
    commenter = Client()
    comment_as(commenter, site["commented"], body="Awaiting a moderator.")
    stored(HOME)
    _, before = read(HOME, commenter)
    comment = Comment.objects.get(body="Awaiting a moderator.")

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=make_user("moira", staff=True, superuser=True))
    _, after = read(HOME, commenter)

    link = f'{site["commented"].get_absolute_url()}#comments">1 comment</a>'
    assert link not in before
    assert link in after
    _, article = read(site["commented"].get_absolute_url(), commenter)
    assert "Awaiting a moderator." in article
    assert AWAITING_MODERATION not in article


def test_another_readers_page_never_holds_a_commenters_comment_or_details(site):
    """The commenter is the first to read each page after their comment (the copies others
    get are rendered for their requests): nothing of theirs reaches those copies."""
    commenter = Client()
    comment_as(
        commenter,
        site["commented"],
        body="Awaiting a moderator.",
        name="Remembered Reader",
        email="remembered@example.com",
        url="https://remembered.example",
        remember="on",
    )
    paths = [site["commented"].get_absolute_url(), *other_pages(site).values()]
    for path in paths:
        read(path, commenter)

    for path in paths:
        _, html = read(path)
        assert "Awaiting a moderator." not in html
        assert "Remembered Reader" not in html
        assert "remembered@example.com" not in html
        assert "remembered.example" not in html


def test_a_remembered_reader_gets_pages_from_the_cache_and_their_details_in_no_answer(
    site, django_assert_num_queries
):
    first = Client()
    comment_as(first, site["commented"], name="Remembered Reader", remember="on")
    returning = Client()  # only the "remember me" cookie, no pending comment
    returning.cookies[REMEMBER_COOKIE] = first.cookies[REMEMBER_COOKIE].value
    for path in (site["other"].get_absolute_url(), HOME):
        stored(path)

    with django_assert_num_queries(0):
        _, article = read(site["other"].get_absolute_url(), returning)
        read(HOME, returning)
    token = returning.get(reverse("comments:token"))

    assert "Remembered Reader" not in article
    assert "grace@example.com" not in article
    assert "author" not in token.json()
    assert "grace@example.com" not in token.content.decode()
    assert "no-store" in token["Cache-Control"]
    assert "private" in token["Cache-Control"]


def test_a_cookie_from_before_pending_comments_named_their_article_still_shows_them(
    site, django_assert_num_queries
):
    """It named comment ids alone: every article page is still rendered for its bearer (it
    expires within SESSION_COOKIE_AGE), lists come from the cache."""
    comment = make_comment(site["commented"], status="pending", body="Sent last week.")
    old = HttpResponse()
    old.set_signed_cookie(PENDING_COOKIE, str(comment.pk), salt=PENDING_SALT)
    commenter = Client()
    commenter.cookies[PENDING_COOKIE] = old.cookies[PENDING_COOKIE].value
    stored(HOME)

    _, html = read(site["commented"].get_absolute_url(), commenter)
    with django_assert_num_queries(0):
        read(HOME, commenter)

    assert "Sent last week." in html


def address_cookie(comment):
    """A pending cookie as set before it named articles by id: by their address's digest."""
    old = HttpResponse()
    entry = f"{comment.pk}.{address_digest(comment.article.get_absolute_url())}"
    old.set_signed_cookie(PENDING_COOKIE, entry, salt=PENDING_SALT)
    return old.cookies[PENDING_COOKIE].value


def test_a_cookie_that_named_articles_by_address_still_shows_their_comments(
    site, django_assert_num_queries
):
    comment = make_comment(site["commented"], status="pending", body="Sent yesterday.")
    commenter = Client()
    commenter.cookies[PENDING_COOKIE] = address_cookie(comment)
    for path in (site["other"].get_absolute_url(), HOME):
        stored(path)

    _, html = read(site["commented"].get_absolute_url(), commenter)
    with django_assert_num_queries(0):
        read(site["other"].get_absolute_url(), commenter)
        read(HOME, commenter)

    assert "Sent yesterday." in html
    assert AWAITING_MODERATION in html


def test_a_second_comment_elsewhere_makes_that_article_the_commenters_own_too(site):
    commenter = Client()
    later = make_article(title="A story commented on later")
    comment_as(commenter, site["commented"], body="First, here.")
    comment_as(commenter, later, body="Then there.")

    _, first = read(site["commented"].get_absolute_url(), commenter)
    _, second = read(later.get_absolute_url(), commenter)

    assert "First, here." in first
    assert "Then there." in second
    assert "Then there." not in first


def moderator():
    return make_user(staff=True, superuser=True)


DECISIONS = {
    "approved": lambda comment: services.approve(comment, by=moderator()),
    "rejected": lambda comment: services.reject(comment, by=moderator()),
    "marked as spam": lambda comment: services.mark_spam(comment, by=moderator()),
    "deleted": lambda comment: comment.delete(),
}


@pytest.mark.parametrize("decision", DECISIONS)
def test_once_their_comment_is_decided_its_article_comes_to_the_commenter_from_the_cache(
    decision, site, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """The page that reads the comment decided forgets it: the next request for the article
    is served from the cache, not rendered for them until the cookie expires. One a moderator
    marked as spam leaves their page as a rejected one does: neither is told from the other."""
    commenter = Client()
    comment_as(commenter, site["commented"], body="Awaiting a moderator.")
    with django_capture_on_commit_callbacks(execute=True):
        DECISIONS[decision](Comment.objects.get(body="Awaiting a moderator."))
    path = site["commented"].get_absolute_url()
    stored(path)

    _, first = read(path, commenter)
    with django_assert_num_queries(0):
        _, second = read(path, commenter)

    for html in (first, second):
        assert ("Awaiting a moderator." in html) is (decision == "approved")
        assert AWAITING_MODERATION not in html  # a rejected one is gone, as it was before


@pytest.mark.parametrize("waiting", ["pending", "spam"])
def test_a_comment_still_waiting_stays_shown_to_its_author_when_others_are_decided(
    waiting, site, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """One held as spam as it was sent (a rule's verdict, a blocklisted word here) looks
    pending to its author, for as long as the cookie lasts: that a rule caught it is not
    told, or reloading the page would test words against the blocklist, or tell whether an
    address typed in the form commented recently (the flood rule's spam)."""
    settings.COMMENTS_BLOCKLIST = ["casino"]
    commenter = Client()
    later = make_article(title="A story commented on later")
    comment_as(commenter, site["commented"], body="Decided here.")
    waiting_body = "Still waiting here." + (" Casino bonus!" if waiting == "spam" else "")
    comment_as(commenter, site["commented"], body=waiting_body)
    assert Comment.objects.get(body=waiting_body).status == waiting
    comment_as(commenter, later, body="Decided there.")
    moira = moderator()
    with django_capture_on_commit_callbacks(execute=True):
        for body in ("Decided here.", "Decided there."):
            services.approve(Comment.objects.get(body=body), by=moira)
    stored(later.get_absolute_url())

    read(site["commented"].get_absolute_url(), commenter)
    read(later.get_absolute_url(), commenter)
    with django_assert_num_queries(0):
        read(later.get_absolute_url(), commenter)
    response, html = read(site["commented"].get_absolute_url(), commenter)

    assert "Still waiting here." in html
    assert AWAITING_MODERATION in html
    assert "private" in response["Cache-Control"]


def test_a_commenters_article_costs_the_same_queries_however_many_comments_their_cookie_names(
    site, settings
):
    """The statuses of the comments the cookie names are read with the thread, in its one
    query: none more per comment, whether the page keeps it (waiting) or drops it (decided)."""
    settings.COMMENTS_BLOCKLIST = ["casino"]
    article, path = site["commented"], site["commented"].get_absolute_url()
    waiting = make_comment(article, status="pending", body="Still waiting.")
    moira = moderator()
    named = [waiting]
    for number in range(4):
        named += [
            make_comment(article, status="pending", body=f"Waiting {number}."),
            make_comment(article, status="spam", body=f"Casino {number}."),  # held as sent
            make_comment(article, body=f"Approved {number}."),
            make_comment(site["other"], status="pending", body=f"Elsewhere {number}."),
        ]
        for decide in (services.reject, services.mark_spam):
            decided = make_comment(article, status="pending", body=f"Decided {number}.")
            decide(decided, by=moira)
            named.append(decided)
    stored(path)

    def queries_with(*comments):
        commenter = Client()
        commenter.cookies[PENDING_COOKIE] = id_cookie(*comments)
        with CaptureQueriesContext(connection) as context:
            _, html = read(path, commenter)
        assert "Still waiting." in html
        return len(context.captured_queries)

    assert queries_with(*named) == queries_with(waiting)


def old_cookie(*comments):
    """A pending cookie as set before it named the comments' articles: ids alone."""
    old = HttpResponse()
    old.set_signed_cookie(
        PENDING_COOKIE, ",".join(str(comment.pk) for comment in comments), salt=PENDING_SALT
    )
    return old.cookies[PENDING_COOKIE].value


def test_an_entry_from_before_digests_is_forgotten_once_its_article_shows_it_approved(
    site, django_assert_num_queries
):
    comment = make_comment(site["commented"], body="Approved since.")
    commenter = Client()
    commenter.cookies[PENDING_COOKIE] = old_cookie(comment)
    stored(site["other"].get_absolute_url())

    read(site["other"].get_absolute_url(), commenter)  # not under it: may still be waiting
    _, html = read(site["commented"].get_absolute_url(), commenter)
    with django_assert_num_queries(0):
        read(site["other"].get_absolute_url(), commenter)

    assert "Approved since." in html


def test_an_entry_from_before_digests_missing_from_the_page_may_wait_elsewhere(site):
    """Not under the article read, it may be waiting under another: kept when the cookie is
    written again without an approved one."""
    later = make_article(title="A story commented on later")
    approved = make_comment(site["commented"], body="Approved since.")
    waiting = make_comment(later, status="pending", body="Still waiting there.")
    commenter = Client()
    commenter.cookies[PENDING_COOKIE] = old_cookie(approved, waiting)

    read(site["commented"].get_absolute_url(), commenter)
    _, html = read(later.get_absolute_url(), commenter)

    assert "Still waiting there." in html
    assert AWAITING_MODERATION in html


def renamed_in_the_admin(article, slug, capture_on_commit):
    """An editor gives the article a new slug through its change form (its commit ends the
    cached pages)."""
    editor = Client()
    editor.force_login(make_editor())
    change = reverse("admin:articles_article_change", args=[article.pk])
    with capture_on_commit(execute=True):
        response = editor.post(change, article_change_form(article, slug=slug))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.slug == slug


@pytest.mark.parametrize("way", ["stored by another reader", "first read", "old link"])
def test_a_commenter_still_sees_their_pending_comment_after_its_article_changes_slug(
    way, site, django_capture_on_commit_callbacks
):
    commenter = Client()
    comment_as(commenter, site["commented"], body="Awaiting a moderator.")
    old = site["commented"].get_absolute_url()
    renamed_in_the_admin(site["commented"], "the-story-renamed", django_capture_on_commit_callbacks)
    new = site["commented"].get_absolute_url()
    if way == "stored by another reader":
        stored(new)

    response = commenter.get(old if way == "old link" else new, follow=True)
    html = response.content.decode()

    assert response.request["PATH_INFO"] == new
    assert "Awaiting a moderator." in html
    assert AWAITING_MODERATION in html
    assert "private" in response["Cache-Control"]
    assert "Awaiting a moderator." not in read(new)[1]


def test_an_article_given_the_old_address_is_not_the_commenters_own(
    site, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """The address their comment was sent from now shows another article: they get it from
    the cache, and their comment still waits under its own article at its new address."""
    commenter = Client()
    comment_as(commenter, site["commented"], body="Awaiting a moderator.")
    old_slug = site["commented"].slug
    renamed_in_the_admin(site["commented"], "the-story-renamed", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = make_article(title="A story given the old address", slug=old_slug)
    stored(newcomer.get_absolute_url())

    with django_assert_num_queries(0):
        _, there = read(newcomer.get_absolute_url(), commenter)
    _, here = read(site["commented"].get_absolute_url(), commenter)

    assert "Awaiting a moderator." not in there
    assert "Awaiting a moderator." in here
    assert AWAITING_MODERATION in here


def test_an_entry_naming_its_article_by_address_follows_it_to_a_new_slug_once_read(
    site, django_capture_on_commit_callbacks
):
    """The article's page that shows the comment names its article by id from then on."""
    comment = make_comment(site["commented"], status="pending", body="Sent yesterday.")
    commenter = Client()
    commenter.cookies[PENDING_COOKIE] = address_cookie(comment)

    _, before = read(site["commented"].get_absolute_url(), commenter)
    renamed_in_the_admin(site["commented"], "the-story-renamed", django_capture_on_commit_callbacks)
    _, after = read(site["commented"].get_absolute_url(), commenter)

    assert "Sent yesterday." in before
    assert "Sent yesterday." in after
    assert AWAITING_MODERATION in after


def test_an_entry_from_before_digests_found_waiting_leaves_other_articles_to_the_cache(
    site, django_assert_num_queries
):
    """A bare id may be under any article, until an article's page finds it waiting there."""
    comment = make_comment(site["commented"], status="pending", body="Sent last week.")
    commenter = Client()
    commenter.cookies[PENDING_COOKIE] = old_cookie(comment)
    stored(site["other"].get_absolute_url())

    _, html = read(site["commented"].get_absolute_url(), commenter)
    with django_assert_num_queries(0):
        _, other = read(site["other"].get_absolute_url(), commenter)

    assert "Sent last week." in html
    assert "Sent last week." not in other
    _, again = read(site["commented"].get_absolute_url(), commenter)
    assert "Sent last week." in again


def revalidated(path, client, etag):
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    return response, response.content.decode()


def test_a_commenter_asking_again_for_their_unchanged_article_gets_a_304_without_a_render(
    site, django_assert_num_queries
):
    """Their own page was a full 200 every time; it now carries a validator of its own, and
    a revalidation that finds nothing changed costs no render and no query."""
    commenter = Client()
    comment_as(commenter, site["commented"], body="Awaiting a moderator.")
    path = site["commented"].get_absolute_url()
    stored(path)
    shared_etag = Client().get(path)["ETag"]

    first, html = read(path, commenter)
    with django_assert_num_queries(0):
        again, _ = revalidated(path, commenter, first["ETag"])

    assert "Awaiting a moderator." in html
    assert first["ETag"] != shared_etag
    assert "private" in first["Cache-Control"]
    assert "no-cache" in first["Cache-Control"]
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert "private" in again["Cache-Control"]


def their_comment():
    return Comment.objects.get(body="Awaiting a moderator.")


def edited_by_a_moderator(site):
    comment = their_comment()
    comment.body = "Edited by a moderator."
    comment.save()


def article_edited(site):
    article = site["commented"]
    article.title = "The commented story, corrected"
    article.save()


def second_comment_sent(site, commenter):
    comment_as(commenter, site["commented"], body="A second thought.")


# What happens; what their page shows afterwards; what it no longer shows.
CHANGES = {
    "their comment approved": (
        lambda site, _: services.approve(their_comment(), by=moderator()),
        "Awaiting a moderator.",
        AWAITING_MODERATION,
    ),
    "their comment rejected": (
        lambda site, _: services.reject(their_comment(), by=moderator()),
        None,
        "Awaiting a moderator.",
    ),
    "their comment marked as spam": (
        lambda site, _: services.mark_spam(their_comment(), by=moderator()),
        None,
        "Awaiting a moderator.",
    ),
    "their comment edited": (
        lambda site, _: edited_by_a_moderator(site),
        "Edited by a moderator.",
        "Awaiting a moderator.",
    ),
    "their comment deleted": (
        lambda site, _: their_comment().delete(),
        None,
        "Awaiting a moderator.",
    ),
    "their details erased": (
        lambda site, _: erase_commenter_data("grace@example.com", keep_text=True),
        "Awaiting a moderator.",
        "Grace Hopper",
    ),
    "another reader's comment published": (
        lambda site, _: make_comment(site["commented"], body="Another reader agrees."),
        "Another reader agrees.",
        None,
    ),
    "the article edited": (
        lambda site, _: article_edited(site),
        "The commented story, corrected",
        None,
    ),
    "a second comment of theirs": (
        second_comment_sent,
        "A second thought.",
        None,
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_commenters_article_is_sent_again_once_what_it_shows_them_changes(
    change, site, django_capture_on_commit_callbacks
):
    """Their page's validator changes with their comment (decided, edited, erased, deleted,
    which readers' pages may not show), with the article and its public comments, and with
    their cookie: the revalidation that follows gets the page as it now is, not a 304."""
    commenter = Client()
    comment_as(commenter, site["commented"], name="Grace Hopper", body="Awaiting a moderator.")
    path = site["commented"].get_absolute_url()
    stored(path)
    before, _ = read(path, commenter)
    assert revalidated(path, commenter, before["ETag"])[0].status_code == 304
    happens, shown, gone = CHANGES[change]

    with django_capture_on_commit_callbacks(execute=True):
        happens(site, commenter)
    stored(path)  # a current shared copy again, which their validator is made from
    after, html = revalidated(path, commenter, before["ETag"])

    assert after.status_code == 200
    if shown:
        assert shown in html
    if gone:
        assert gone not in html


def test_a_commenters_article_without_a_current_shared_copy_has_no_validator(site):
    """Their page is built on the shared copy's: with none, it is rendered and sent whole."""
    commenter = Client()
    comment_as(commenter, site["commented"], body="Awaiting a moderator.")
    page_cache.bump_content_version()  # the copy stored as they read the form is stale

    response, html = read(site["commented"].get_absolute_url(), commenter)

    assert "Awaiting a moderator." in html
    assert not response.has_header("ETag")
