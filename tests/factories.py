"""The smallest objects a test needs, with overrides for what the test is about.

Every `make_*` function creates (and returns) saved rows; names and slugs are unique per call.
Pytest fixtures that wrap them live in the conftest.py files.
"""

import itertools
import re
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser

from captcha.models import CaptchaStore
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Author, Section, Tag
from comments.models import Comment
from comments.services import refresh_comment_count
from comments.thread import PENDING_COOKIE, PendingEntry, set_pending_cookie

PASSWORD = "a-test-password"
_numbers = itertools.count(1)


def make_section(**overrides):
    number = next(_numbers)
    fields = {"name": f"Section {number}", "slug": f"section-{number}", "order": number}
    return Section.objects.create(**{**fields, **overrides})


def make_tag(**overrides):
    number = next(_numbers)
    fields = {"name": f"Tag {number}", "slug": f"tag-{number}"}
    return Tag.objects.create(**{**fields, **overrides})


def make_author(**overrides):
    number = next(_numbers)
    fields = {"display_name": f"Author {number}", "slug": f"author-{number}", "bio": ""}
    return Author.objects.create(**{**fields, **overrides})


def make_article(*, tags=(), **overrides):
    """A published article, live since an hour ago, unless the overrides say otherwise."""
    number = next(_numbers)
    fields = {
        "title": f"Article number {number}",
        "slug": f"article-{number}",
        "standfirst": f"Summary of article {number}.",
        "body": f"Body of article {number}.\n\nA second paragraph.",
        "status": Article.Status.PUBLISHED,
        "published_at": timezone.now() - timedelta(hours=1, minutes=number),
    }
    fields.update(overrides)
    if "section" not in fields:
        fields["section"] = make_section()
    if "author" not in fields:
        fields["author"] = make_author()
    article = Article.objects.create(**fields)
    if tags:
        article.tags.set(tags)
    return article


def make_articles(count):
    """Published articles, inserted together: a test of thousands spends no time on them."""
    model = make_article()
    first = next(_numbers)
    return Article.objects.bulk_create(
        Article(
            title=f"Article {number}",
            slug=f"bulk-article-{number}",
            standfirst="",
            body="Text.",
            status=Article.Status.PUBLISHED,
            published_at=model.published_at,
            section=model.section,
            author=model.author,
        )
        for number in range(first, first + count)
    )


def make_draft(**overrides):
    return make_article(**{"status": Article.Status.DRAFT, "published_at": None, **overrides})


def make_scheduled(**overrides):
    return make_article(**{"published_at": timezone.now() + timedelta(days=1), **overrides})


def make_owner(kind, *, article=make_article, **overrides):
    """A section, tag or author (`kind`) with one article, which `article` makes: a public
    one unless it is make_draft or make_scheduled."""
    owner = {"section": make_section, "tag": make_tag, "author": make_author}[kind](**overrides)
    article(**({"tags": [owner]} if kind == "tag" else {kind: owner}))
    return owner


def make_comment(article, **overrides):
    """An approved comment on `article`, unless the overrides say otherwise, counted in the
    article's comment_count as the site's own ways of writing one count it (the page's
    heading reads it)."""
    number = next(_numbers)
    fields = {
        "name": f"Reader {number}",
        "email": f"reader{number}@example.com",
        "body": f"Comment number {number}.",
        "status": Comment.Status.APPROVED,
    }
    comment = Comment.objects.create(article=article, **{**fields, **overrides})
    refresh_comment_count(article.pk)
    return comment


def make_thread_numbered_backwards(article, length=3, **overrides):
    """A chain of comments, each answering the one before, whose ids run backwards: a reply's
    id smaller than its parent's, as comments imported with their ids (loaddata, another
    site's export) or numbered after a restore reset the id sequence can be."""
    first_id = 10**9 + next(_numbers) * 1000 + length
    comments, parent = [], None
    for place in range(length):
        parent = make_comment(article, pk=first_id - place, parent=parent, **overrides)
        comments.append(parent)
    return comments


def make_user(
    username=None, *, staff=False, superuser=False, groups=(), email=None, password=PASSWORD
):
    username = username or f"user{next(_numbers)}"
    user = get_user_model().objects.create_user(
        username,
        email=email or f"{username}@newsroom.test",
        password=password,
        is_staff=staff or superuser,
        is_superuser=superuser,
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def make_moderator(username="moira", **overrides):
    """A staff member in the "Moderators" group that the data migration created."""
    return make_user(username, staff=True, groups=["Moderators"], **overrides)


def make_article_viewer(username="vera"):
    """Staff who may read articles in the admin, drafts included, but not change them."""
    user = make_user(username, staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="articles", codename="view_article")
    )
    return user


def make_editor(username="eddie", **overrides):
    """A staff member in the "Editors" group that the data migration created: writes,
    publishes and moderates, and may not manage users or read the sign-in logs."""
    return make_user(username, staff=True, groups=["Editors"], **overrides)


def make_superuser(username="root", **overrides):
    """Whoever administers the site: users, groups, sign-in logs, and everything else."""
    return make_user(username, superuser=True, **overrides)


def post_url(article):
    return reverse("comments:post", args=[article.pk])


def form_values(html, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    return match.group(1) if match else ""


def captcha_answer(key):
    """The answer to the captcha question `key`: what a person reads in its image."""
    return CaptchaStore.objects.get(hashkey=key).response


def captcha_answer_on(page):
    """The answer to the question a browser `page` (Playwright) shows in its comment form,
    once it shows the reader's own (comments.js marks the question busy until then)."""
    from playwright.sync_api import expect

    expect(page.locator(".captcha[aria-busy=true]")).to_have_count(0)
    return captcha_answer(page.locator('input[name="captcha_0"]').input_value())


def comment_form_data(html, **values):
    """What a reader posts from the comment form in `html`: the real question answered."""
    key = form_values(html, "captcha_0")
    fields = {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "url": "",
        "body": "A thoughtful comment.",
        "captcha_0": key,
        "captcha_1": captcha_answer(key),
        "started": form_values(html, "started"),
        "parent": form_values(html, "parent"),
        "phone": "",
    }
    return {**fields, **values}


class _Buttons(HTMLParser):
    def __init__(self):
        super().__init__()
        self.buttons, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "button":
            self._open = {"text": "", **{name: value or "" for name, value in attrs}}
            self.buttons.append(self._open)

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "button":
            self._open = None


def button(html, label):
    """The attributes of the button a reader knows as `label` (its aria-label, else its text)."""
    parser = _Buttons()
    parser.feed(html)
    return next(
        found
        for found in parser.buttons
        if (found.get("aria-label") or found["text"]).strip() == label
    )


def press(client, html, label, data):
    """Press the comment form's button `label` in page `html` with the form holding `data`:
    the browser sends the form to the button's formaction, with the button's name and value."""
    pressed = button(html, label)
    action = pressed.get("formaction") or form_action(html)
    named = {pressed["name"]: pressed["value"]} if "name" in pressed else {}
    return client.post(action.split("#")[0], {**data, **named})


def form_action(html):
    return unescape(re.search(r'<form id="comment-form"[^>]* action="([^"]*)"', html).group(1))


# The inline of a saved section's, tag's, author's or article's old addresses, untouched.
NO_OLD_ADDRESSES_LET_GO = {"former_slugs-TOTAL_FORMS": 0, "former_slugs-INITIAL_FORMS": 0}


def article_change_form(article, **changes):
    """The article's change form as the admin shows it, with `changes` typed in."""
    published_at = timezone.localtime(article.published_at)  # as the form shows it
    return {
        "title": article.title,
        "slug": article.slug,
        "standfirst": article.standfirst,
        "body": article.body,
        "section": article.section.pk,
        "author": article.author.pk,
        "tags": [tag.pk for tag in article.tags.all()],
        "status": article.status,
        "published_at_0": published_at.strftime("%Y-%m-%d"),
        "published_at_1": published_at.strftime("%H:%M:%S"),
        "comments_enabled": "on",
        "lead_image_alt": "",
        # The comments app's inline of the article's latest comments.
        "comments-TOTAL_FORMS": 0,
        "comments-INITIAL_FORMS": 0,
        **NO_OLD_ADDRESSES_LET_GO,
        **changes,
    }


# What the change pages of a section, tag or author show besides their old addresses.
CHANGE_FORM_FIELDS = {
    Section: ["name", "slug", "description", "order"],
    Tag: ["name", "slug"],
    Author: ["display_name", "slug", "bio"],
}


def change_form_letting_go(owner, *let_go):
    """The change form of an article, section, tag or author as the admin shows it, its old
    addresses listed and those in `let_go` ticked to be deleted."""
    if isinstance(owner, Article):
        form = article_change_form(owner)
    else:
        form = {field: getattr(owner, field) for field in CHANGE_FORM_FIELDS[type(owner)]}
    formers = list(owner.former_slugs.all())
    owner_field = owner.former_slugs.field.name
    form |= {"former_slugs-TOTAL_FORMS": len(formers), "former_slugs-INITIAL_FORMS": len(formers)}
    for number, former in enumerate(formers):
        form[f"former_slugs-{number}-id"] = former.pk
        form[f"former_slugs-{number}-{owner_field}"] = owner.pk
        if former in let_go:
            form[f"former_slugs-{number}-DELETE"] = "on"
    return form


def new_article_form(**values):
    """What the add form posts for a new draft, with the given fields changed."""
    fields = {
        "title": "Harbour wall repaired",
        "slug": "harbour-wall-repaired",
        "standfirst": "The work is done.",
        "body": "Two paragraphs.\n\nOf news.",
        "section": make_section().pk,
        "author": make_author().pk,
        "status": Article.Status.DRAFT,
        "published_at_0": "",
        "published_at_1": "",
        "comments_enabled": "on",
        "lead_image_alt": "",
        "comments-TOTAL_FORMS": "0",
        "comments-INITIAL_FORMS": "0",
    }
    return {**fields, **values}


def id_cookie(*comments):
    """A pending cookie naming these comments and their articles by id, as set now."""
    response = HttpResponse()
    set_pending_cookie(
        response, [PendingEntry(comment.pk, article_id=comment.article_id) for comment in comments]
    )
    return response.cookies[PENDING_COOKIE].value
