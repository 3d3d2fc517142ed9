"""Each public page costs a fixed number of queries however big the archive is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_article, make_author, make_section, make_tag, make_user

pytestmark = pytest.mark.django_db

# The comments app's thread and form under an article (its own tests pin them).
COMMENT_SECTION_BUDGET = 3


def build_site(articles, tags_per_article):
    section, author = make_section(), make_author()
    tags = [make_tag() for _ in range(tags_per_article)]
    made = [make_article(section=section, author=author, tags=tags) for _ in range(articles)]
    return made[len(made) // 2]


def queries_for(client, url):
    client.get(url)  # the first request fills the section navigation cache
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def page_urls(article):
    tag = article.tags.first()
    return [
        "/",
        "/?page=2",
        article.get_absolute_url(),
        article.section.get_absolute_url(),
        tag.get_absolute_url(),
        article.author.get_absolute_url(),
        "/search/?q=article",
        "/feeds/rss/",
        "/sitemap-articles.xml",
    ]


def test_query_counts_do_not_grow_with_articles_or_tags(client):
    small = [queries_for(client, url) for url in page_urls(build_site(15, 1))]
    big = [queries_for(client, url) for url in page_urls(build_site(60, 8))]
    assert small == big


@pytest.mark.parametrize(("name", "budget"), [("home", 1), ("section", 2), ("robots", 0)])
def test_pages_stay_within_their_query_budget(client, django_assert_max_num_queries, name, budget):
    article = build_site(30, 3)
    url = {"home": "/", "section": article.section.get_absolute_url(), "robots": "/robots.txt"}
    client.get(url[name])
    with django_assert_max_num_queries(budget):
        client.get(url[name])


def test_article_page_query_budget(client, django_assert_max_num_queries):
    """Article, tags, related, previous, next: five; the comment section adds its own."""
    article = build_site(30, 3)
    client.get(article.get_absolute_url())
    with django_assert_max_num_queries(5 + COMMENT_SECTION_BUDGET):
        client.get(article.get_absolute_url())


def test_staff_article_page_adds_only_the_session_user_and_permissions(
    client, django_assert_max_num_queries
):
    """Session and user; then the user's and their groups' permissions (may they preview?)."""
    article = build_site(5, 2)
    client.force_login(make_user(staff=True))
    client.get(article.get_absolute_url())
    with django_assert_max_num_queries(5 + 4 + COMMENT_SECTION_BUDGET):
        client.get(article.get_absolute_url())
