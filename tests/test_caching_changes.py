"""Every change readers can see, made the way the site makes it (a moderator's or an editor's
request in the admin, a reader's comment published at once), shows on every kind of page
that shows it at the next request; and the copy a reader's browser kept from before is not
confirmed with a 304.

Each page is read twice before the change, so it is stored and then served from the cache
(LocMem here, Redis in the PostgreSQL suite). tests/test_caching.py proves the same for the
write side's functions called one by one.
"""

import contextlib
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from articles import page_cache
from articles.demo import draw_illustration
from articles.models import Article
from articles.views import feed_addresses
from comments import services
from comments.admin import LISTED_FOR_ERASURE, erasure_listing
from comments.captcha import refill_pool
from comments.models import Comment
from comments.services import refresh_comment_count
from tests.factories import (
    NO_OLD_ADDRESSES_LET_GO,
    article_change_form,
    change_form_letting_go,
    comment_form_data,
    make_article,
    make_author,
    make_comment,
    make_editor,
    make_moderator,
    make_section,
    make_superuser,
    make_tag,
    post_url,
)

pytestmark = pytest.mark.django_db

HOME = "/"
FEED = "/feeds/rss/"
SITEMAP = "/sitemap-articles.xml"
QUEUE = reverse("admin:comments_comment_changelist")


@pytest.fixture(autouse=True)
def _site(settings, reader_cache, clock):
    """Pages are stored in a second after the last change, so they carry their date."""
    refill_pool(20)
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0


@pytest.fixture
def moderator_client():
    client = Client()
    client.force_login(make_moderator())
    return client


@pytest.fixture
def editor_client():
    client = Client()
    client.force_login(make_editor())
    return client


@pytest.fixture
def superuser_client():
    """Deleting comments, erasing commenters: a superuser's."""
    client = Client()
    client.force_login(make_superuser())
    return client


def stored(*paths):
    """Each page as anonymous readers get it: rendered and stored, then served from the
    cache. Returns what each reader's browser keeps to ask again: its ETag and date."""
    validators = {}
    for path in paths:
        Client().get(path)
        served = Client().get(path)
        assert served.status_code == 200, path
        validators[path] = {"If-None-Match": served["ETag"]}
        if served.has_header("Last-Modified"):
            validators[path]["If-Modified-Since"] = served["Last-Modified"]
    return validators


def asked_again(validators):
    """Each page as a reader whose browser kept the copy from before asks for it again,
    with its ETag or its date, a second and a half later (HTTP dates count seconds): the
    change is on every one of them, so none may be confirmed with a 304."""
    page_cache.time.now += 1.5  # the `clock` fixture's
    responses = {}
    for path, headers in validators.items():
        for name, value in headers.items():
            response = Client().get(path, headers={name: value})
            assert response.status_code != 304, (path, name)
        responses[path] = response
    return responses


def text(response):
    return response.content.decode()


def listed_article(**fields):
    """A public article in a section, under a tag, by an author: on every kind of list.
    They have an older one too, so that their pages are there whatever becomes of this one
    (a section, tag or author without a public article has none)."""
    tag = make_tag()
    earlier = make_article(
        title="Lighthouse repainted", tags=[tag], published_at=timezone.now() - timedelta(days=2)
    )
    return make_article(
        title="Harbour wall repaired",
        section=earlier.section,
        author=earlier.author,
        tags=[tag],
        **{"published_at": timezone.now() - timedelta(hours=1), **fields},
    )


def lists_of(article):
    return [
        HOME,
        article.section.get_absolute_url(),
        article.tags.get().get_absolute_url(),
        article.author.get_absolute_url(),
        "/search/?q=harbour",
    ]


# -- Comments: a moderator's decision, edit or deletion, a privacy erasure ----------------------


def decide(client, comment, name, how):
    """A moderator's decision, from the list's bulk action or the comment's own button, or
    "select all" over more comments than a request decides (comments.services), taken in the
    background after the response."""
    if how == "button":
        url = reverse("admin:comments_comment_decide", args=[comment.pk, name])
        return client.post(url, {"next": QUEUE})
    action = {"spam": "mark_selected_as_spam"}.get(name, f"{name}_selected")
    data = {"action": action, "_selected_action": [comment.pk]}
    if how == "in the background":  # every comment the search finds: this one
        query = urlencode({"status": "all", "q": comment.body})
        return client.post(f"{QUEUE}?{query}", data | {"select_across": "1"})
    return client.post(f"{QUEUE}?status=all", data)


# The task runs after the response and closes its connection, as a worker's would: on
# PostgreSQL the test's own transaction would go with it.
IN_THE_BACKGROUND = pytest.param("in the background", marks=pytest.mark.django_db(transaction=True))


@pytest.fixture
def committed_decision(committed, monkeypatch):
    """The block whose commit is the decision's. In the background (one comment made more
    than a request decides, the threshold lowered from 2,000) the task commits each lot
    itself, after the response, with no block of the test's open around it; and a second
    after the set-up's own commits (the content version is the `clock`'s time)."""

    def block(how):
        if how != "in the background":
            return committed()
        monkeypatch.setattr(services, "DECIDED_IN_THE_REQUEST", 0)
        page_cache.time.now += 1
        return contextlib.nullcontext()

    return block


@pytest.mark.parametrize("how", ["action", "button", IN_THE_BACKGROUND])
def test_a_comment_approved_in_the_admin_shows_with_its_count_on_every_page(
    how, moderator_client, committed_decision
):
    article = listed_article()
    comment = make_comment(article, status="pending", body="Worth publishing.")
    pages = stored(article.get_absolute_url(), *lists_of(article))

    with committed_decision(how):
        assert decide(moderator_client, comment, "approve", how).status_code == 302
    after = asked_again(pages)

    assert all(response.status_code == 200 for response in after.values())
    assert "Worth publishing." in text(after[article.get_absolute_url()])
    assert "1 comment" in text(after[article.get_absolute_url()])
    for path in lists_of(article):
        assert '#comments">1 comment</a>' in text(after[path]), path


@pytest.mark.parametrize("how", ["action", "button", IN_THE_BACKGROUND])
@pytest.mark.parametrize("name", ["unapprove", "reject", "spam"])
def test_a_comment_withheld_in_the_admin_leaves_every_page_with_its_replies(
    name, how, moderator_client, committed_decision, settings
):
    settings.COMMENTS_PER_PAGE = 1
    article = listed_article()
    make_comment(article, body="The first thread.")
    comment = make_comment(article, body="Soon withheld.")
    make_comment(article, parent=comment, body="A reply to it.")
    refresh_comment_count(article.pk)
    second_page = f"{article.get_absolute_url()}?cpage=2"
    pages = stored(article.get_absolute_url(), second_page, *lists_of(article))
    assert "Soon withheld." in Client().get(second_page).content.decode()

    with committed_decision(how):
        assert decide(moderator_client, comment, name, how).status_code == 302
    after = asked_again(pages)

    assert "1 comment" in text(after[article.get_absolute_url()])
    assert after[second_page].status_code == 302  # the discussion has one page now
    landing = text(Client().get(after[second_page]["Location"]))
    assert "Soon withheld." not in landing
    assert "A reply to it." not in landing
    for path in lists_of(article):
        assert '#comments">1 comment</a>' in text(after[path]), path


@pytest.mark.parametrize("status", ["pending", "rejected", "spam"])
def test_a_withheld_comment_approved_in_the_admin_brings_back_its_replies_and_their_count(
    status, moderator_client, committed
):
    """Its approved replies were hidden with it, and left out of the count: they come back."""
    article = listed_article()
    comment = make_comment(article, status=status, body="Withheld for a while.")
    make_comment(article, parent=comment, body="A reply hidden with it.")
    url = article.get_absolute_url()
    pages = stored(url, *lists_of(article))
    assert "A reply hidden with it." not in text(Client().get(url))

    with committed():
        assert decide(moderator_client, comment, "approve", "button").status_code == 302
    after = asked_again(pages)

    assert "A reply hidden with it." in text(after[url])
    assert "2 comments" in text(after[url])
    for path in lists_of(article):
        assert '#comments">2 comments</a>' in text(after[path]), path


def test_a_moderators_edit_in_the_admin_shows_at_the_next_request(moderator_client, committed):
    article = make_article()
    comment = make_comment(article, body="Teh typo.")
    pages = stored(article.get_absolute_url())

    with committed():
        response = moderator_client.post(
            reverse("admin:comments_comment_change", args=[comment.pk]),
            {"body": "The typo, fixed."},
        )
    after = asked_again(pages)[article.get_absolute_url()]

    assert response.status_code == 302
    assert after.status_code == 200
    assert "The typo, fixed." in text(after)
    assert "Teh typo." not in text(after)


@pytest.mark.parametrize("how", ["delete page", "bulk action", "script", "script's queryset"])
def test_a_deleted_comment_leaves_every_page_with_its_count(how, superuser_client, committed):
    article = listed_article()
    comment = make_comment(article, body="Said in haste.")
    refresh_comment_count(article.pk)
    pages = stored(article.get_absolute_url(), *lists_of(article))

    with committed():
        if how == "script":
            comment.delete()
        elif how == "script's queryset":
            Comment.objects.filter(body="Said in haste.").delete()
        elif how == "delete page":
            url = reverse("admin:comments_comment_delete", args=[comment.pk])
            response = superuser_client.post(url, {"post": "yes"})
        else:
            response = superuser_client.post(
                f"{QUEUE}?status=all",
                {"action": "delete_selected", "_selected_action": [comment.pk], "post": "yes"},
            )
    after = asked_again(pages)

    assert how.startswith("script") or response.status_code == 302
    assert not Comment.objects.exists()
    assert "Said in haste." not in text(after[article.get_absolute_url()])
    for path in lists_of(article):
        assert after[path].status_code == 200
        assert "#comments" not in text(after[path]), path


def test_a_commenter_erased_in_the_admin_leaves_every_page(superuser_client, committed):
    article = make_article()
    comment = make_comment(article, name="Ada Lovelace", body="Mine to take.")
    pages = stored(article.get_absolute_url())

    with committed():
        superuser_client.post(
            f"{QUEUE}?status=all",
            {
                "action": "erase_commenter_data",
                "_selected_action": [comment.pk],
                "confirmed": "yes",
                LISTED_FOR_ERASURE: erasure_listing([comment.email.lower()]),
            },
        )
    after = text(asked_again(pages)[article.get_absolute_url()])

    assert "Ada Lovelace" not in after
    assert "Mine to take." not in after


def test_a_regulars_comment_published_at_once_shows_with_its_count_everywhere(settings, committed):
    settings.COMMENTS_AUTO_APPROVE_PREVIOUSLY_APPROVED = True
    article = listed_article()
    make_comment(article, email="ada@example.com", body="My first word.")
    refresh_comment_count(article.pk)
    pages = stored(article.get_absolute_url(), *lists_of(article))
    commenter = Client()
    form = text(commenter.get(article.get_absolute_url()))

    data = comment_form_data(form, email="ada@example.com", body="And a second one.")
    with committed():
        assert commenter.post(post_url(article), data).status_code == 303
    after = asked_again(pages)

    assert "And a second one." in text(after[article.get_absolute_url()])
    for path in lists_of(article):
        assert '#comments">2 comments</a>' in text(after[path]), path


# -- Articles: an editor's change in the admin -------------------------------------------------


def edit_article(client, article, **changes):
    url = reverse("admin:articles_article_change", args=[article.pk])
    response = client.post(url, article_change_form(article, **changes))
    assert response.status_code == 302, response.content.decode()[:2000]


def test_an_edited_standfirst_shows_on_the_article_its_lists_and_feeds(editor_client, committed):
    article = listed_article()
    section_feed = reverse("articles:section-feed-rss", kwargs={"slug": article.section.slug})
    pages = stored(article.get_absolute_url(), *lists_of(article), FEED, section_feed)

    with committed():
        edit_article(editor_client, article, standfirst="Work ends a month early.")

    for path, response in asked_again(pages).items():
        assert "Work ends a month early." in text(response), path


def test_an_edited_body_shows_on_the_article_page_and_in_a_search_for_its_new_words(
    editor_client, committed
):
    article = make_article()
    url, search = article.get_absolute_url(), "/search/?q=corrected"
    pages = stored(url, search)
    assert url not in text(Client().get(search))

    with committed():
        edit_article(editor_client, article, body="A corrected paragraph.")
    after = asked_again(pages)

    assert "A corrected paragraph." in text(after[url])
    assert url in text(after[search])


def test_comments_closed_in_the_admin_take_the_form_off_the_article_page(editor_client, committed):
    article = make_article()
    pages = stored(article.get_absolute_url())
    assert "Leave a Reply" in text(Client().get(article.get_absolute_url()))

    with committed():
        edit_article(editor_client, article, comments_enabled="")
    after = text(asked_again(pages)[article.get_absolute_url()])

    assert "Leave a Reply" not in after
    assert "Comments are closed." in after


def test_an_article_moved_to_another_section_tag_and_author_leaves_the_old_lists(
    editor_client, committed
):
    article = listed_article()
    section, tag, author = make_section(), make_tag(), make_author()
    make_article(section=section, tags=[tag], author=author)  # their pages are there before
    old_lists = lists_of(article)[1:4]
    new_lists = [owner.get_absolute_url() for owner in (section, tag, author)]
    pages = stored(article.get_absolute_url(), *old_lists, *new_lists)

    with committed():
        edit_article(editor_client, article, section=section.pk, tags=[tag.pk], author=author.pk)
    after = asked_again(pages)

    for path in old_lists:
        assert "Harbour wall repaired" not in text(after[path]), path
    for path in new_lists:
        assert "Harbour wall repaired" in text(after[path]), path
    page = text(after[article.get_absolute_url()])
    assert all(f'href="{path}"' in page for path in new_lists)


def test_a_new_slug_leads_every_page_and_the_old_address_to_the_new_one(editor_client, committed):
    article = listed_article(slug="harbour-wall")
    pages = stored(article.get_absolute_url(), *lists_of(article), FEED, SITEMAP)

    with committed():
        edit_article(editor_client, article, slug="harbour-wall-repaired")
    after = asked_again(pages)

    assert after["/articles/harbour-wall/"].status_code == 301
    assert after["/articles/harbour-wall/"]["Location"] == "/articles/harbour-wall-repaired/"
    for path in [*lists_of(article), FEED, SITEMAP]:
        assert "/articles/harbour-wall-repaired/" in text(after[path]), path
        assert "/articles/harbour-wall/" not in text(after[path]), path


def test_a_new_lead_image_shows_on_the_article_page(editor_client, committed):
    article = make_article()
    pages = stored(article.get_absolute_url())

    image = SimpleUploadedFile("dawn.png", draw_illustration(0), content_type="image/png")
    with committed():
        edit_article(editor_client, article, lead_image=image, lead_image_alt="Hills at dawn")

    assert 'alt="Hills at dawn"' in text(asked_again(pages)[article.get_absolute_url()])


def test_an_article_deleted_in_the_admin_leaves_every_page(editor_client, committed):
    article = listed_article()
    url, lists = article.get_absolute_url(), lists_of(article)
    pages = stored(url, *lists, FEED, SITEMAP)

    with committed():
        response = editor_client.post(
            reverse("admin:articles_article_delete", args=[article.pk]), {"post": "yes"}
        )
    after = asked_again(pages)

    assert response.status_code == 302
    assert after[url].status_code == 404
    for path in [*lists, FEED, SITEMAP]:
        assert url not in text(after[path]), path


# -- Sections, tags and authors -----------------------------------------------------------------


def test_a_tag_renamed_in_the_admin_shows_on_its_articles_and_its_page(editor_client, committed):
    article = listed_article()
    tag = article.tags.get()
    pages = stored(article.get_absolute_url(), tag.get_absolute_url())

    with committed():
        editor_client.post(
            reverse("admin:articles_tag_change", args=[tag.pk]),
            {"name": "Sea defences", "slug": tag.slug} | NO_OLD_ADDRESSES_LET_GO,
        )

    for path, response in asked_again(pages).items():
        assert "Sea defences" in text(response), path


def test_a_tag_deleted_in_the_admin_leaves_its_articles_and_its_page(editor_client, committed):
    article = listed_article()
    tag = article.tags.get()
    pages = stored(article.get_absolute_url(), tag.get_absolute_url())

    with committed():
        editor_client.post(reverse("admin:articles_tag_delete", args=[tag.pk]), {"post": "yes"})
    after = asked_again(pages)

    assert after[tag.get_absolute_url()].status_code == 404
    assert tag.get_absolute_url() not in text(after[article.get_absolute_url()])


@pytest.mark.parametrize("kind", ["article", "section"])
def test_an_old_address_let_go_in_the_admin_is_a_404_at_the_next_request(
    kind, editor_client, committed
):
    """The redirect from it was never stored (only pages are): nothing outlives the change."""
    article = make_article(slug="weather")
    owner = article if kind == "article" else article.section
    old_address = owner.get_absolute_url()
    owner.slug = "skies"
    owner.save()
    stored(owner.get_absolute_url())
    assert Client().get(old_address).status_code == 301
    form = change_form_letting_go(owner, owner.former_slugs.get())

    with committed():
        url = reverse(f"admin:articles_{kind}_change", args=[owner.pk])
        assert editor_client.post(url, form).status_code == 302

    for _ in range(2):
        assert Client().get(old_address).status_code == 404
    assert Client().get(owner.get_absolute_url()).status_code == 200


# -- Publication through the admin, and the clock ------------------------------------------------

ATOM = "/feeds/atom/"


def every_page_listing(article):
    """Every kind of page that lists or links `article`, its own aside: the lists, the feeds
    and follow pages (the site's and its section's, tag's and author's) and the sitemap."""
    owners = [None, article.section, article.tags.get(), article.author]
    feeds = [address for owner in owners for address in feed_addresses(owner).values()]
    return [*lists_of(article), *feeds, SITEMAP]


def a_day_ago():
    return timezone.now() - timedelta(days=1)


def a_day_before(article):
    """An article whose page links `article` as the next one: the factory dates each article
    a minute before the last, so a process that has made many would date `article` before
    one made "a day ago"."""
    return make_article(published_at=article.published_at - timedelta(days=1))


@pytest.mark.parametrize("how", ["change form", "list action"])
def test_a_draft_published_in_the_admin_shows_on_every_page_that_lists_it(
    how, editor_client, committed
):
    older = make_article(published_at=a_day_ago())  # its page links the next article
    draft = listed_article(status="draft", published_at=None)
    url = draft.get_absolute_url()
    pages = stored(older.get_absolute_url(), *every_page_listing(draft))

    with committed():
        if how == "change form":
            edit_article(
                editor_client, draft, status="published", published_at_0="", published_at_1=""
            )
        else:
            editor_client.post(
                reverse("admin:articles_article_changelist"),
                {"action": "publish", "_selected_action": [draft.pk]},
            )
    after = asked_again(pages)

    for path, response in after.items():
        assert url in text(response), path
    assert Client().get(url).status_code == 200


@pytest.mark.parametrize("how", ["change form", "list action"])
def test_an_article_unpublished_in_the_admin_leaves_every_page(how, editor_client, committed):
    article = listed_article()
    older = a_day_before(article)
    url = article.get_absolute_url()
    pages = stored(url, older.get_absolute_url(), *every_page_listing(article))

    with committed():
        if how == "change form":
            edit_article(editor_client, article, status="draft")
        else:
            editor_client.post(
                reverse("admin:articles_article_changelist"),
                {"action": "unpublish", "_selected_action": [article.pk]},
            )
    after = asked_again(pages)

    assert after.pop(url).status_code == 404
    for path, response in after.items():
        assert url not in text(response), path


def test_an_article_scheduled_in_the_admin_is_on_no_page_until_its_time_then_on_every_one(
    editor_client, committed, clock
):
    article = listed_article()
    older = a_day_before(article)
    url = article.get_absolute_url()
    pages = [older.get_absolute_url(), *every_page_listing(article)]
    due = timezone.localtime().replace(microsecond=0) + timedelta(minutes=1)
    validators = stored(url, *pages)

    with committed():
        edit_article(
            editor_client,
            article,
            published_at_0=due.strftime("%Y-%m-%d"),
            published_at_1=due.strftime("%H:%M:%S"),
        )
    after = asked_again(validators)

    assert after[url].status_code == 404
    for path in pages:
        assert url not in text(after[path]), path

    # Its time comes, with no request and no save in between. The pages' clock moves past
    # it; the database's cannot be moved, so the article's time moves back as far instead,
    # without the signals a save sends.
    validators = stored(*pages)
    clock.now = due.timestamp()
    Article.objects.filter(pk=article.pk).update(published_at=timezone.now())
    after = asked_again(validators)

    for path in pages:
        assert url in text(after[path]), path
    assert Client().get(url).status_code == 200


OWNER_SITEMAPS = ["/sitemap-sections.xml", "/sitemap-tags.xml", "/sitemap-authors.xml"]
# What becomes of a section's, tag's and author's one article, and whether it is public after.
ONLY_ARTICLE_CHANGES = [
    ("published from the list", True),
    ("its scheduled time comes", True),
    ("unpublished from the list", False),
    ("deleted from the list", False),
]


def only_article(how):
    """The one article of a section, a tag and an author, as it is before `how` happens."""
    publication = {
        "published from the list": {"status": "draft", "published_at": None},
        "its scheduled time comes": {"published_at": timezone.now() + timedelta(minutes=1)},
    }.get(how, {})
    return make_article(title="Harbour wall repaired", tags=[make_tag()], **publication)


def change_only_article(how, article, editor_client, committed, clock):
    with committed():
        if how == "its scheduled time comes":  # as in the test above
            clock.now = article.published_at.timestamp()
            Article.objects.filter(pk=article.pk).update(published_at=timezone.now())
        else:
            action = {"published": "publish", "unpublished": "unpublish"}.get(
                how.split()[0], "delete_selected"
            )
            response = editor_client.post(
                reverse("admin:articles_article_changelist"),
                {"action": action, "_selected_action": [article.pk], "post": "yes"},
            )
            assert response.status_code == 302


@pytest.mark.parametrize(("how", "listed_after"), ONLY_ARTICLE_CHANGES)
def test_the_sitemaps_list_a_section_tag_and_author_while_one_of_their_articles_is_public(
    how, listed_after, editor_client, committed, clock
):
    """They list only those with something public: their one article's change is theirs."""
    article = only_article(how)
    owners = [article.section, article.tags.get(), article.author]
    pages = stored(*OWNER_SITEMAPS)
    for path, owner in zip(OWNER_SITEMAPS, owners, strict=True):
        assert (owner.get_absolute_url() in text(Client().get(path))) is not listed_after, path

    change_only_article(how, article, editor_client, committed, clock)
    after = asked_again(pages)

    for path, owner in zip(OWNER_SITEMAPS, owners, strict=True):
        assert (owner.get_absolute_url() in text(after[path])) is listed_after, path


def header(response):
    """The sections the page's header lists ("" without any), not those its articles show."""
    found = re.search(r'<nav class="section-nav".*?</nav>', text(response), re.DOTALL)
    return found[0] if found else ""


@pytest.mark.parametrize(("how", "shown_after"), ONLY_ARTICLE_CHANGES)
def test_a_section_tag_and_author_are_on_the_site_while_one_of_their_articles_is_public(
    how, shown_after, editor_client, committed, clock
):
    """Their pages, follow pages and feeds, and the section in every page's header: a 404
    before their first article is out shows at the next request once it is, however it
    comes out, and a page stored while it was out leaves with it."""
    article = only_article(how)
    owners = [article.section, article.tags.get(), article.author]
    addresses = [
        address
        for owner in owners
        for address in (owner.get_absolute_url(), *feed_addresses(owner).values())
    ]
    other = make_article(published_at=a_day_ago())
    with_header = [HOME, other.get_absolute_url()]
    if shown_after:
        for path in addresses:
            for _ in range(2):  # and nothing stored of it
                assert Client().get(path).status_code == 404, path
        pages = stored(*with_header)
    else:
        pages = stored(*addresses, *with_header)
    for path in with_header:
        in_header = f'href="{article.section.get_absolute_url()}"' in header(Client().get(path))
        assert in_header is not shown_after, path

    change_only_article(how, article, editor_client, committed, clock)
    after = asked_again(pages)

    for path in addresses:
        assert Client().get(path).status_code == (200 if shown_after else 404), path
        if shown_after:
            assert article.get_absolute_url() in text(Client().get(path)), path
    for path in with_header:
        in_header = f'href="{article.section.get_absolute_url()}"' in header(after[path])
        assert in_header is shown_after, path


# -- Sections and authors renamed, as every page shows them -----------------------------------


def test_a_section_renamed_in_the_admin_shows_in_every_header_and_moves_its_feeds(
    editor_client, committed
):
    article = listed_article()
    section = article.section
    old_page = section.get_absolute_url()
    old_feed = reverse("articles:section-feed-rss", kwargs={"slug": section.slug})
    pages = stored(HOME, article.get_absolute_url(), "/search/?q=harbour", FEED, old_page, old_feed)

    with committed():
        response = editor_client.post(
            reverse("admin:articles_section_change", args=[section.pk]),
            {
                "name": "Coast",
                "slug": "coast",
                "description": "Tides, storms and the harbour.",
                "order": section.order,
            }
            | NO_OLD_ADDRESSES_LET_GO,
        )
    after = asked_again(pages)

    assert response.status_code == 302
    for path in (HOME, article.get_absolute_url(), "/search/?q=harbour"):
        assert '<a href="/section/coast/">Coast</a>' in text(after[path]), path
        assert old_page not in text(after[path]), path
    assert "<category>Coast</category>" in text(after[FEED])
    assert after[old_page]["Location"] == "/section/coast/"
    assert after[old_feed]["Location"] == "/feeds/section/coast/rss/"
    new_page = text(Client().get("/section/coast/"))
    assert "Tides, storms and the harbour." in new_page
    assert 'href="/section/coast/follow/">Follow this section</a>' in new_page
    assert 'title="Coast (RSS)" href="/feeds/section/coast/rss/">' in new_page  # for feed readers
    assert "<title>Coast" in text(Client().get("/feeds/section/coast/rss/"))


def test_sections_reordered_in_the_admin_are_reordered_in_every_header(editor_client, committed):
    """(A section added shows in the headers with its first public article, above.)"""
    first, second = make_section(name="Alpha", order=1), make_section(name="Beta", order=2)
    article = make_article(section=first)
    make_article(section=second)
    pages = stored(HOME, article.get_absolute_url(), first.get_absolute_url())

    with committed():
        response = editor_client.post(
            reverse("admin:articles_section_changelist"),
            {
                "form-TOTAL_FORMS": 2,
                "form-INITIAL_FORMS": 2,
                "form-0-id": first.pk,
                "form-0-order": 3,
                "form-1-id": second.pk,
                "form-1-order": 2,
                "_save": "Save",
            },
        )
    after = asked_again(pages)

    assert response.status_code == 302
    for path, response in after.items():
        assert header(response).index(">Beta<") < header(response).index(">Alpha<"), path


def test_an_author_renamed_in_the_admin_shows_on_every_byline_and_their_bio_on_their_page(
    editor_client, committed
):
    article = listed_article()
    author = article.author
    pages = stored(article.get_absolute_url(), *lists_of(article), FEED, ATOM)

    with committed():
        response = editor_client.post(
            reverse("admin:articles_author_change", args=[author.pk]),
            {"display_name": "Nellie Bly", "slug": author.slug, "bio": "Ten days in a madhouse."}
            | NO_OLD_ADDRESSES_LET_GO,
        )
    after = asked_again(pages)

    assert response.status_code == 302
    for path, response in after.items():
        assert "Nellie Bly" in text(response), path
    assert "Ten days in a madhouse." in text(after[author.get_absolute_url()])


# -- Page 2: of the lists, of the discussion --------------------------------------------------


def test_an_edit_shows_on_the_second_page_of_every_list(editor_client, committed, settings):
    settings.ARTICLES_PER_PAGE = 1
    article = listed_article(published_at=a_day_ago())
    make_article(  # newer, and the better match for the search: page 1 of every list
        published_at=timezone.now() - timedelta(hours=1),
        title="Harbour dues rise in the harbour",
        standfirst="The harbour board decided.",
        section=article.section,
        author=article.author,
        tags=[article.tags.get()],
    )
    second_pages = [f"{path}{'&' if '?' in path else '?'}page=2" for path in lists_of(article)]
    pages = stored(*second_pages)
    for path in second_pages:
        assert "Harbour wall repaired" in text(Client().get(path)), path

    with committed():
        edit_article(editor_client, article, title="Harbour wall rebuilt")

    for path, response in asked_again(pages).items():
        assert "Harbour wall rebuilt" in text(response), path


def test_a_deep_reply_approved_in_the_admin_shows_on_the_third_page_its_permalink_leads_to(
    moderator_client, committed, settings
):
    """Pages hold top-level comments with all their replies: a reply four levels down a
    third thread is on page 3, and its permalink, a 404 while it waits, leads there."""
    settings.COMMENTS_PER_PAGE = 1
    article = make_article()
    roots = [make_comment(article, body=f"Thread {number}.") for number in (1, 2, 3)]
    parent = roots[2]
    for depth in (2, 3, 4):
        parent = make_comment(article, parent=parent, body=f"Level {depth}.")
    reply = make_comment(article, parent=parent, status="pending", body="The deepest word.")
    refresh_comment_count(article.pk)
    third_page = f"{article.get_absolute_url()}?cpage=3"
    pages = stored(article.get_absolute_url(), third_page)
    permalink = reverse("comments:permalink", args=[reply.pk])
    assert Client().get(permalink).status_code == 404

    with committed():
        assert decide(moderator_client, reply, "approve", "button").status_code == 302
    after = asked_again(pages)

    assert "The deepest word." in text(after[third_page])
    assert "7 comments" in text(after[article.get_absolute_url()])
    landing = Client().get(permalink)
    assert landing["Location"] == f"{third_page}#comment-{reply.pk}"
    assert f'id="comment-{reply.pk}"' in text(Client().get(third_page))


# -- Lead images, and articles deleted from the list ------------------------------------------


def test_a_lead_image_added_then_cleared_in_the_admin_shows_then_leaves_every_page(
    editor_client, committed
):
    article = listed_article()
    pages = [article.get_absolute_url(), HOME, article.section.get_absolute_url()]
    validators = stored(*pages)

    image = SimpleUploadedFile("dawn.png", draw_illustration(0), content_type="image/png")
    with committed():
        edit_article(editor_client, article, lead_image=image, lead_image_alt="Hills at dawn")
    after = asked_again(validators)
    for path in pages:
        assert 'alt="Hills at dawn"' in text(after[path]), path

    validators = stored(*pages)
    article.refresh_from_db()
    with committed():
        edit_article(editor_client, article, **{"lead_image-clear": "on"}, lead_image_alt="")
    after = asked_again(validators)
    for path in pages:
        assert "Hills at dawn" not in text(after[path]), path


def test_articles_deleted_from_the_list_leave_every_page(editor_client, committed):
    article = listed_article()
    other = make_article(title="Harbour master retires", section=article.section)
    urls = [article.get_absolute_url(), other.get_absolute_url()]
    pages = stored(*urls, *every_page_listing(article))

    with committed():
        response = editor_client.post(
            reverse("admin:articles_article_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [article.pk, other.pk],
                "post": "yes",
            },
        )
    after = asked_again(pages)

    assert response.status_code == 302
    for url in urls:
        assert after.pop(url).status_code == 404
        for path, response in after.items():
            assert url not in text(response), path
