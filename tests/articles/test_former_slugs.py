"""A section's, tag's or author's old address leads to it after its slug changes, as an
article's does: links shared, bookmarked and indexed keep working."""

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from articles.views import MOVED_SECONDS
from tests.factories import (
    NO_OLD_ADDRESSES_LET_GO,
    change_form_letting_go,
    make_article,
    make_article_viewer,
    make_author,
    make_draft,
    make_editor,
    make_moderator,
    make_owner,
    make_scheduled,
    make_section,
    make_tag,
)
from tests.hostile import elements

pytestmark = pytest.mark.django_db

KINDS = {
    "section": (make_section, "/section/{}/"),
    "tag": (make_tag, "/tag/{}/"),
    "author": (make_author, "/author/{}/"),
}


def make_listed(kind, slug):
    """A section, tag or author with `slug` and a public article under it."""
    maker, _ = KINDS[kind]
    owner = maker(slug=slug)
    if kind == "tag":
        make_article(tags=[owner])
    else:
        make_article(**{kind: owner})
    return owner


def address(kind, slug):
    return KINDS[kind][1].format(slug)


def renamed(owner, slug):
    owner.slug = slug
    owner.save()
    return owner


@pytest.mark.parametrize("kind", KINDS)
def test_an_old_address_redirects_permanently_to_the_new_one_with_its_query(client, kind):
    renamed(make_listed(kind, "weather"), "climate")

    response = client.get(address(kind, "weather") + "?page=2")

    assert response.status_code == 301
    assert response["Location"] == address(kind, "climate") + "?page=2"
    assert client.get(address(kind, "climate")).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("stored", "typed"), [("news", "News"), ("news", "NEWS"), ("Bbc", "bbc")])
def test_an_address_typed_in_other_capitals_redirects_permanently_to_the_stored_one(
    client, kind, stored, typed
):
    make_listed(kind, stored)

    response = client.get(address(kind, typed) + "?page=2")

    assert response.status_code == 301
    assert response["Location"] == address(kind, stored) + "?page=2"


def test_a_follow_page_typed_in_other_capitals_redirects_to_the_follow_page(client):
    make_listed("section", "news")

    response = client.get("/section/News/follow/")

    assert response.status_code == 301
    assert response["Location"] == "/section/news/follow/"


@pytest.mark.parametrize("kind", KINDS)
def test_an_address_matching_two_slugs_but_for_capitals_is_not_a_guess(client, kind):
    make_listed(kind, "news")
    make_listed(kind, "NEWS")

    assert client.get(address(kind, "News")).status_code == 404
    assert client.get(address(kind, "NEWS")).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("feed", ["rss", "atom"])
def test_a_feed_typed_in_other_capitals_redirects_permanently_to_the_stored_one(client, kind, feed):
    make_listed(kind, "news")

    response = client.get(f"/feeds/{kind}/News/{feed}/")

    assert response.status_code == 301
    assert response["Location"] == f"/feeds/{kind}/news/{feed}/"
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(("stored", "typed"), [("news", "News"), ("Bbc-story", "bbc-story")])
def test_an_article_typed_in_other_capitals_redirects_permanently_to_the_stored_one(
    client, stored, typed
):
    make_article(slug=stored)

    response = client.get(f"/articles/{typed}/?cpage=2")

    assert response.status_code == 301
    assert response["Location"] == f"/articles/{stored}/?cpage=2"


def test_a_draft_typed_in_other_capitals_is_404_for_readers_and_a_preview_for_editors(client):
    make_draft(slug="news")

    assert client.get("/articles/News/").status_code == 404
    client.force_login(make_article_viewer())
    assert client.get("/articles/News/")["Location"] == "/articles/news/"


def test_an_article_address_matching_two_slugs_but_for_capitals_is_not_a_guess(client):
    make_article(slug="news")
    make_article(slug="NEWS")

    assert client.get("/articles/News/").status_code == 404
    assert client.get("/articles/NEWS/").status_code == 200


@pytest.mark.parametrize(
    ("kind", "path", "typed"),
    [
        *((kind, address(kind, "{}"), "Weather") for kind in KINDS),
        ("section", "/feeds/section/{}/rss/", "WEATHER"),
        ("section", "/section/{}/follow/", "Weather"),
    ],
)
def test_an_old_address_typed_in_other_capitals_leads_to_the_new_one_in_one_step(
    client, kind, path, typed
):
    """The two redirects compose: an old address typed in other capitals (a link read out
    or copied from print before the slug changed) is no 404, and no second hop."""
    renamed(make_listed(kind, "weather"), "sky")

    response = client.get(path.format(typed) + "?page=2")

    assert response.status_code == 301
    assert response["Location"] == path.format("sky") + "?page=2"


def test_an_old_article_address_typed_in_other_capitals_leads_to_the_article(client):
    renamed(make_article(slug="weather"), "sky")

    response = client.get("/articles/Weather/")

    assert response.status_code == 301
    assert response["Location"] == "/articles/sky/"


def test_an_old_address_of_a_draft_typed_in_other_capitals_stays_a_404_for_readers(client):
    renamed(make_draft(slug="weather"), "sky")

    assert client.get("/articles/Weather/").status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_every_old_address_leads_to_the_newest_after_several_changes(client, kind):
    renamed(renamed(make_listed(kind, "first"), "second"), "third")

    for old in ("first", "second"):
        response = client.get(address(kind, old))
        assert response.status_code == 301
        assert response["Location"] == address(kind, "third")


@pytest.mark.parametrize("kind", KINDS)
def test_a_slug_changed_back_shows_the_page_again_and_the_other_slug_redirects(client, kind):
    renamed(renamed(make_listed(kind, "home"), "away"), "home")

    assert client.get(address(kind, "home")).status_code == 200
    assert client.get(address(kind, "away"))["Location"] == address(kind, "home")


@pytest.mark.parametrize("kind", KINDS)
def test_a_former_slug_taken_by_a_new_one_shows_the_new_one_for_good(client, kind):
    old = renamed(make_listed(kind, "sport"), "sports")
    new = make_listed(kind, "sport")

    assert client.get(address(kind, "sport")).status_code == 200
    # Gone from the old one's former slugs: renaming the new one away leads to the new one.
    renamed(new, "local-sport")
    assert client.get(address(kind, "sport"))["Location"] == address(kind, "local-sport")
    assert old.former_slugs.count() == 0


@pytest.mark.parametrize("make", [make_draft, make_scheduled])
@pytest.mark.parametrize("kind", KINDS)
def test_no_address_of_one_without_a_public_article_redirects_until_one_is_out(client, kind, make):
    """Neither its old addresses nor its slug in other capitals, for its page, its follow
    page or its feeds: a redirect would tell its address now, and so its name, before its
    story is out. Once one of its articles is, each leads to it."""
    renamed(make_owner(kind, article=make, slug="weather"), "sky")
    paths = [
        address(kind, "{}"),
        f"/{kind}/{{}}/follow/",
        f"/feeds/{kind}/{{}}/rss/",
        f"/feeds/{kind}/{{}}/atom/",
    ]
    typed = ["weather", "Weather", "SKY"]
    for path in paths:
        for slug in typed:
            assert client.get(path.format(slug)).status_code == 404, path.format(slug)

    Article.objects.update(status="published", published_at=timezone.now())

    for path in paths:
        for slug in typed:
            assert client.get(path.format(slug))["Location"] == path.format("sky")


@pytest.mark.parametrize("kind", KINDS)
def test_a_slug_in_other_capitals_leads_to_the_one_out_when_the_other_is_not(client, kind):
    """As if the one not out did not exist: two slugs but for capitals are no guess only
    when both pages show (test_an_address_matching_two_slugs_but_for_capitals_is_not_a_guess)."""
    make_owner(kind, article=make_draft, slug="news")
    make_listed(kind, "NEWS")

    assert client.get(address(kind, "News"))["Location"] == address(kind, "NEWS")
    assert client.get(address(kind, "news"))["Location"] == address(kind, "NEWS")


@pytest.mark.parametrize("kind", KINDS)
def test_an_address_nothing_ever_had_is_still_404(client, kind):
    make_listed(kind, "real")

    assert client.get(address(kind, "never-was")).status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_a_deleted_ones_old_address_is_404(client, kind):
    maker, _ = KINDS[kind]
    owner = renamed(maker(slug="before"), "after")
    owner.delete()

    assert client.get(address(kind, "before")).status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_a_save_that_leaves_the_slug_out_records_nothing(kind):
    maker, _ = KINDS[kind]
    owner = maker(slug="kept")
    owner.slug = "not-saved"
    owner.save(update_fields=[field for field in ("name", "display_name") if hasattr(owner, field)])

    assert owner.former_slugs.count() == 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("feed", ["rss", "atom"])
def test_a_renamed_ones_feeds_lead_subscribers_to_the_new_feeds(client, kind, feed):
    renamed(make_listed(kind, "old-news"), "news")

    response = client.get(f"/feeds/{kind}/old-news/{feed}/")

    assert response.status_code == 301
    assert response["Location"] == f"/feeds/{kind}/news/{feed}/"
    assert client.get(response["Location"]).status_code == 200
    assert client.get(f"/feeds/{kind}/never-was/{feed}/").status_code == 404


def test_the_sitemaps_list_only_the_current_addresses(client):
    article = make_article()
    renamed(article.section, "renamed-section")
    renamed(article.author, "renamed-author")
    section_slug, author_slug = "renamed-section", "renamed-author"

    sections = client.get("/sitemap-sections.xml").content.decode()
    authors = client.get("/sitemap-authors.xml").content.decode()

    assert sections.count("/section/") == 1
    assert f"/section/{section_slug}/" in sections
    assert authors.count("/author/") == 1
    assert f"/author/{author_slug}/" in authors


def test_a_slug_changed_in_the_admin_redirects_from_the_old_address(client):
    section = make_listed("section", "arts")
    client.force_login(make_editor())

    response = client.post(
        reverse("admin:articles_section_change", args=[section.pk]),
        {"name": section.name, "slug": "culture", "description": "", "order": 1}
        | NO_OLD_ADDRESSES_LET_GO,
    )

    assert response.status_code == 302
    client.logout()
    assert client.get("/section/arts/")["Location"] == "/section/culture/"


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("section", "/section/weather/"),
        ("section", "/feeds/section/weather/atom/"),
        ("section", "/section/weather/follow/"),
        ("tag", "/tag/weather/"),
        ("tag", "/feeds/tag/weather/rss/"),
        ("author", "/author/weather/"),
        ("author", "/author/weather/follow/"),
        ("article", "/articles/weather/"),
    ],
)
def test_browsers_keep_an_old_addresss_redirect_an_hour_at_most(client, kind, path):
    """A permanent redirect without a lifetime of its own is kept by browsers for good.
    The slug changed back, or given to a new section, the page at the old address would
    never show again to a reader who followed the redirect once: changed back, it loops
    between the two addresses in their browser."""
    renamed(
        make_article(slug="weather") if kind == "article" else make_listed(kind, "weather"), "x"
    )

    response = client.get(path)

    assert response.status_code == 301
    assert response["Cache-Control"] == f"max-age={MOVED_SECONDS}"


ADMIN_KINDS = [*KINDS, "article"]


def renamed_twice(kind):
    """A section, tag, author or article first called "weather", then "climate", now "skies"."""
    owner = make_article(slug="weather") if kind == "article" else make_listed(kind, "weather")
    return renamed(renamed(owner, "climate"), "skies")


def old_addresses_on_change_page(client, owner):
    """The addresses the change page lists as its object's old addresses, as shown."""
    meta = owner._meta
    page = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[owner.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    return html, [text for _, text in elements(html, lambda tag, attrs: tag == "code")]


@pytest.mark.parametrize("kind", ADMIN_KINDS)
def test_the_change_page_lists_the_old_addresses_that_redirect(client, kind):
    """An editor can see which old addresses still lead to it, not only guess."""
    owner = renamed_twice(kind)
    client.force_login(make_editor())

    html, shown = old_addresses_on_change_page(client, owner)

    assert "Old addresses that redirect here" in html
    assert sorted(shown) == sorted([owner.address_for("weather"), owner.address_for("climate")])
    assert 'name="former_slugs-0-DELETE"' in html
    # Made only by changing the slug: no empty row to type one in, no table on a new one.
    assert "former_slugs-__prefix__" not in html
    meta = owner._meta
    add_page = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    assert "Old addresses" not in add_page.content.decode()


@pytest.mark.parametrize("kind", ADMIN_KINDS)
def test_an_old_address_let_go_in_the_admin_no_longer_leads_anywhere(client, kind):
    """A slug may hold a name that must stop leading to the page: deleted, it is a 404,
    and the other old addresses still redirect."""
    owner = renamed_twice(kind)
    client.force_login(make_editor())
    form = change_form_letting_go(owner, owner.former_slugs.get(slug="weather"))
    meta = owner._meta

    response = client.post(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[owner.pk]), form
    )

    assert response.status_code == 302
    client.logout()
    assert client.get(owner.address_for("weather")).status_code == 404
    assert client.get(owner.address_for("climate"))["Location"] == owner.get_absolute_url()


def test_staff_who_may_only_read_articles_see_the_old_addresses_but_cannot_let_one_go(client):
    article = renamed_twice("article")
    client.force_login(make_article_viewer())

    html, shown = old_addresses_on_change_page(client, article)

    assert sorted(shown) == ["/articles/climate/", "/articles/weather/"]
    assert "former_slugs-0-DELETE" not in html


def test_moderators_do_not_reach_the_old_addresses(client):
    article = renamed_twice("article")
    client.force_login(make_moderator())

    response = client.get(reverse("admin:articles_article_change", args=[article.pk]))

    assert response.status_code == 403
