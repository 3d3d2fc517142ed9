"""Each public page costs a fixed number of queries however big the archive and its
discussions are."""

import re

import pytest
from captcha.models import CaptchaStore
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.models import Article, Author, FormerSlug, Section, Tag
from articles.sitemaps import ArticleSitemap
from comments.captcha import refill_pool
from comments.notifications import unsubscribe_token
from tests.factories import (
    make_article,
    make_author,
    make_comment,
    make_draft,
    make_section,
    make_tag,
    make_user,
)

pytestmark = pytest.mark.django_db

# The comments app's thread and form under an article (its own tests pin them).
COMMENT_SECTION_BUDGET = 3
ARTICLE_BUDGET = 5 + COMMENT_SECTION_BUDGET
# A search's time limit (newsroom/statement_timeout.py). On PostgreSQL its SET LOCAL, in a
# transaction of its own, which inside a test's is a savepoint and its release; on SQLite a
# progress handler on the connection, which costs no query.
SEARCH_TIME_LIMIT = 3 if connection.vendor == "postgresql" else 0
SEARCH_BUDGET = 1 + SEARCH_TIME_LIMIT

# Every public page, with the most queries it may cost a reader the cache does not serve.
BUDGETS = {
    "home": 1,
    "home, page 2": 1,
    "article": ARTICLE_BUDGET,
    "article, comments page 2": ARTICLE_BUDGET,
    "article, comments page past the last": ARTICLE_BUDGET,  # a redirect to the last
    "article at an old address": 2,  # a redirect
    "article typed in other capitals": 3,  # a redirect, after looking for it as typed
    "comment permalink": 3,  # a redirect
    "section": 2,
    "section, page 2": 2,
    "tag": 2,
    "tag, page 2": 2,
    "author": 2,
    "author, page 2": 2,
    "search": SEARCH_BUDGET,
    "search, page 2": SEARCH_BUDGET,
    "search of common words alone": SEARCH_BUDGET,
    "search of common words alone, page 2": SEARCH_BUDGET,
    "search of a phrase": SEARCH_BUDGET,
    "search with a word left out": SEARCH_BUDGET,
    "search of a common word in capitals": SEARCH_BUDGET,
    "search finding nothing": SEARCH_BUDGET,
    # Feeds: the articles, then their tags (their categories) in one query.
    "rss": 2,
    "atom": 2,
    "section rss": 3,
    "section atom": 3,
    "tag rss": 3,
    "tag atom": 3,
    "section rss typed in other capitals": 3,  # a redirect
    "author rss": 3,
    "author atom": 3,
    "follow": 1,
    "section follow": 2,
    "tag follow": 2,
    "author follow": 2,
    "sitemap index": 4,  # the count of each sitemap but the home page's
    "sitemap of the home page": 0,
    "sitemap of sections": 2,
    "sitemap of articles": 2,
    "sitemap of authors": 2,
    "sitemap of tags": 2,
    "robots": 0,
    # The comments app's pages beside the article's.
    "article, replying to a comment": ARTICLE_BUDGET + 1,  # rendered for the reader
    "comment form's token": 1,  # a question of the reader's own
    "captcha picture": 1,
    "comment address opened": 1,  # the form's address, asked for by GET
    "unsubscribe": 1,
}


@pytest.fixture(autouse=True)
def _discussions(settings):
    settings.COMMENTS_PER_PAGE = 3
    refill_pool(5)


def build_site(articles, tags_per_article, threads=4):
    """`articles` public articles; the one in the middle has `threads` top-level comments,
    each with a reply, and an old address."""
    section, author = make_section(), make_author()
    tags = [make_tag() for _ in range(tags_per_article)]
    made = [make_article(section=section, author=author, tags=tags) for _ in range(articles)]
    article = made[len(made) // 2]
    for _ in range(threads):
        make_comment(article, parent=make_comment(article))
    FormerSlug.objects.create(article=article, slug=f"old-{article.slug}")
    return article


def public_pages(article):
    url, section = article.get_absolute_url(), article.section.slug
    first, comment = article.comments.order_by("id")[0], article.comments.order_by("-id")[0]
    question = CaptchaStore.objects.first()
    tag, author = article.tags.first().slug, article.author.slug
    return {
        "home": "/",
        "home, page 2": "/?page=2",
        "article": url,
        "article, comments page 2": f"{url}?cpage=2",
        "article, comments page past the last": f"{url}?cpage=999",
        "article at an old address": f"/articles/old-{article.slug}/",
        "article typed in other capitals": f"/articles/{article.slug.upper()}/",
        "comment permalink": comment.get_permalink(),
        "section": article.section.get_absolute_url(),
        "section, page 2": f"{article.section.get_absolute_url()}?page=2",
        "tag": article.tags.first().get_absolute_url(),
        "tag, page 2": f"{article.tags.first().get_absolute_url()}?page=2",
        "author": article.author.get_absolute_url(),
        "author, page 2": f"{article.author.get_absolute_url()}?page=2",
        "search": "/search/?q=article",
        "search, page 2": "/search/?q=article&page=2",
        # Every summary reads "Summary of article N.": PostgreSQL leaves "of" out of its
        # documents, and looks for it in headlines and summaries instead.
        "search of common words alone": "/search/?q=of",
        "search of common words alone, page 2": "/search/?q=of&page=2",
        "search of a phrase": '/search/?q="summary+of+article"',
        "search with a word left out": "/search/?q=article+-zyzzyva",
        "search of a common word in capitals": "/search/?q=WHO+article",
        "search finding nothing": "/search/?q=zyzzyva",
        "rss": "/feeds/rss/",
        "atom": "/feeds/atom/",
        "section rss": f"/feeds/section/{section}/rss/",
        "section atom": f"/feeds/section/{section}/atom/",
        "tag rss": f"/feeds/tag/{tag}/rss/",
        "tag atom": f"/feeds/tag/{tag}/atom/",
        "section rss typed in other capitals": f"/feeds/section/{section.upper()}/rss/",
        "author rss": f"/feeds/author/{author}/rss/",
        "author atom": f"/feeds/author/{author}/atom/",
        "follow": "/follow/",
        "section follow": f"/section/{section}/follow/",
        "tag follow": f"/tag/{tag}/follow/",
        "author follow": f"/author/{author}/follow/",
        "sitemap index": "/sitemap.xml",
        "sitemap of the home page": "/sitemap-home.xml",
        "sitemap of sections": "/sitemap-sections.xml",
        "sitemap of articles": "/sitemap-articles.xml",
        "sitemap of authors": "/sitemap-authors.xml",
        "sitemap of tags": "/sitemap-tags.xml",
        "robots": "/robots.txt",
        "article, replying to a comment": f"{url}?replyto={first.pk}",
        "comment form's token": reverse("comments:token"),
        "captcha picture": reverse("captcha-image", kwargs={"key": question.hashkey}),
        "comment address opened": reverse("comments:post", args=[article.pk]),
        "unsubscribe": reverse("comments:unsubscribe", args=[unsubscribe_token(comment)]),
    }


def queries_for(client, url):
    client.get(url)  # the first request fills the section navigation cache
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code in {200, 301, 302, 405}, url
    return len(context.captured_queries)


def test_public_pages_make_the_same_queries_at_any_size(client):
    """15 articles with one tag and 4 threads of comments, or 60 with 8 and 40 threads."""
    small = {
        name: queries_for(client, url) for name, url in public_pages(build_site(15, 1)).items()
    }
    big = {
        name: queries_for(client, url)
        for name, url in public_pages(build_site(60, 8, threads=40)).items()
    }
    assert small == big


@pytest.mark.parametrize(("name", "budget"), BUDGETS.items())
def test_each_public_page_stays_within_its_query_budget(
    client, django_assert_max_num_queries, name, budget
):
    url = public_pages(build_site(30, 3, threads=7))[name]
    client.get(url)
    with django_assert_max_num_queries(budget):
        response = client.get(url)
    assert response.status_code in {200, 301, 302, 405}


def list_queries(context):
    """The queries that read articles as their rows: the lookup of a section, tag or author
    reads their table, with an EXISTS of its public articles (published()), as the header's
    sections do."""
    reads = [(query["sql"], re.search(r'\bFROM "(\w+)"', query["sql"])) for query in context]
    return [sql for sql, table in reads if table and table[1] == "articles_article"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
@pytest.mark.parametrize(
    ("name", "indexes"),
    [
        # Nearly every article is public: the editors' index serves the home page as well.
        ("home", {"article_public_idx", "article_newest_idx"}),
        ("home, page 2", {"article_public_idx", "article_newest_idx"}),
        ("section", {"article_section_idx"}),
        ("author", {"article_author_idx"}),
    ],
)
def test_postgresql_reads_a_list_page_in_order_from_its_index(client, name, indexes):
    """The newest articles of a list come in order from its index, whatever the archive's
    size: a sort would read every public article of the list first (the home page at
    100,000 articles must answer as fast as at 1,000). On a test table the planner would
    rather read it all and sort it, so both are ruled out: what is left is the index, if
    it gives the list's order, or a plan with a sort in it. The table holds other sections'
    and authors' articles too, and the planner knows it (statistics left by an earlier
    test would have it walk the home page's index instead, as good on a few rows)."""
    url = public_pages(build_site(30, 1))[name]
    for _ in range(60):
        make_article()  # each in a section and by an author of its own
    client.get(url)  # the header's sections, cached from then on
    with CaptureQueriesContext(connection) as context:
        client.get(url)
    [articles] = list_queries(context)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_article")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {articles}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert any(index in plan for index in indexes), plan
    assert "Sort" not in plan


def index_plan(sql, table="articles_article"):
    """The database's plan for `sql` as text, with the table's statistics fresh (another
    test's ANALYZE can leave SQLite's from an empty table, which makes any scan look cheap),
    on PostgreSQL once its pages are all visible (VACUUM) and with the scans a tiny test
    table would invite instead switched off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {table}")
            with transaction.atomic():
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
                cursor.execute(f"EXPLAIN {sql}")
                return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(row[-1] for row in cursor.fetchall())


@pytest.mark.django_db(transaction=True)  # VACUUM
@pytest.mark.parametrize(
    ("url", "kind", "former_table"),
    [
        ("/section/Never-Was/", "section", "articles_sectionformerslug"),
        ("/tag/Never-Was/", "tag", "articles_tagformerslug"),
        ("/author/Never-Was/", "author", "articles_authorformerslug"),
        ("/articles/Never-Was/", "article", "articles_formerslug"),
        ("/feeds/tag/Never-Was/rss/", "tag", "articles_tagformerslug"),
    ],
)
def test_an_unknown_address_looks_for_its_slug_in_other_capitals_in_an_index(
    client, url, kind, former_table
):
    """An address that matches no slug is looked for in other capitals (/section/News/ for
    "news"), among the slugs now, then the former ones: a bot's made-up addresses would
    each read the whole table without an index on the lowered slug. Among enough of each
    that an index is worth it to the planner."""
    for _ in range(60):
        make_article(tags=[make_tag()])  # each in a section and by an author of its own
    for model in (Article, Section, Tag, Author):  # and each with an old address
        for owner in model.objects.all():
            owner.former_slugs.create(slug=f"was-{owner.slug}")
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 404
    now, before = [query["sql"] for query in context if "LOWER(" in query["sql"]]
    with connection.cursor() as cursor:  # what the lookups' EXISTS reads (published())
        cursor.execute("ANALYZE articles_article")
        cursor.execute("ANALYZE articles_article_tags")
    for sql, table, index in [
        (now, f"articles_{kind}", f"{kind}_slug_lower_idx"),
        (before, former_table, f"{kind}_former_slug_lower_idx"),
    ]:
        assert index in index_plan(sql, table), index_plan(sql, table)


@pytest.mark.django_db(transaction=True)  # VACUUM, for PostgreSQL's index-only scans
@pytest.mark.parametrize("url", ["/?page=3", "/section/{section}/?page=3"])
def test_a_deep_page_steps_over_the_newer_articles_in_the_index_alone(client, url):
    """Crawlers walk a list to its last page. Reading and joining every article a deep
    page skips took 530 ms for the last home page of 100,000 articles on PostgreSQL; the
    page's ids come from the index alone (no table row read), then only its own rows."""
    article = build_site(30, 1)
    for _ in range(60):
        make_article()  # other sections' articles, which the section's index steps over
    client.get(url.format(section=article.section.slug))  # the header's sections, cached
    with CaptureQueriesContext(connection) as context:
        client.get(url.format(section=article.section.slug))
    [articles] = list_queries(context)
    plan = index_plan(articles)
    assert re.search(r"Index Only Scan|COVERING INDEX", plan), plan


@pytest.mark.django_db(transaction=True)  # VACUUM, for PostgreSQL's index-only scans
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
@pytest.mark.parametrize("number", [1, 3])
def test_postgresql_reads_a_tags_page_in_order_from_the_tags_own_index(client, settings, number):
    """A tag's page joined the tag's links to the articles and sorted every public one for
    any page of it: at 100,000 articles, 21 ms for page 100 of a tag of 9,300, 52 ms for
    its last. The page's ids come in order from the links' index, which stops at the page
    (no sort under the LIMIT); only the page's own rows are sorted, after."""
    tag = build_site(30, 1).tags.first()
    for _ in range(60):
        make_article(tags=[make_tag()])  # other tags' articles
    client.get(tag.get_absolute_url(), {"page": number})  # the header's sections, cached
    with CaptureQueriesContext(connection) as context:
        client.get(tag.get_absolute_url(), {"page": number})
    [articles] = list_queries(context)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE articles_article_tags")
    plan = index_plan(articles).splitlines()
    [limit] = [number for number, line in enumerate(plan) if "Limit" in line]
    assert re.search(r"Index Only Scan using article_tag_public_idx", plan[limit + 1]), plan
    # Whatever the join: at this size a hash join of the page's ids and a merge join after
    # sorting them cost the same to the planner (23.43 and 23.44), which picks either.
    sorted_rows = [re.search(r"\bSort\b(?! Key).*\brows=(\d+)", line) for line in plan]
    page = settings.ARTICLES_PER_PAGE + 1  # the page's rows and the one that tells of a next
    assert all(int(rows[1]) <= page for rows in sorted_rows if rows), plan


@pytest.mark.django_db(transaction=True)  # VACUUM, for PostgreSQL's index-only scans
def test_a_deep_sitemap_page_steps_over_the_newer_articles_in_the_index_alone(client, monkeypatch):
    """Crawlers read every page of the sitemap: its 90th page at 100,000 articles read and
    skipped 89,000 rows of the table; the page's ids come from the index alone."""
    monkeypatch.setattr(ArticleSitemap, "limit", 10)
    build_site(30, 1)
    with CaptureQueriesContext(connection) as context:
        response = client.get("/sitemap-articles.xml", {"p": 3})
    [articles] = [
        query["sql"]
        for query in context
        if 'FROM "articles_article"' in query["sql"] and "COUNT(" not in query["sql"]
    ]
    assert response.content.decode().count("<loc>") == 10
    plan = index_plan(articles)
    assert re.search(r"Index Only Scan|COVERING INDEX", plan), plan


@pytest.mark.django_db(transaction=True)  # VACUUM, for PostgreSQL's index-only scans
def test_the_sitemap_of_tags_checks_each_tag_in_the_tag_links_index_alone(client):
    """Whether a tag has a public article is read in its links' index (their copy of the
    articles' status and date), not in the articles' table nor the links' rows."""
    build_site(30, 3)
    make_draft(tags=[make_tag()])
    with CaptureQueriesContext(connection) as context:
        client.get("/sitemap-tags.xml")
    [tags] = [
        query["sql"]
        for query in context
        if "EXISTS" in query["sql"] and "COUNT(" not in query["sql"]
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE articles_article_tags")
    plan = index_plan(tags)
    reads = [line for line in plan.splitlines() if re.search(r"SCAN|SEARCH|Scan", line)]
    assert len(reads) == 2, plan  # the tags, and their public links
    assert any(
        re.search(r"Index Only Scan using article_tag_public_idx|COVERING INDEX", line)
        for line in reads
    ), plan


def test_a_new_question_for_the_comment_form_costs_one_query(client, django_assert_max_num_queries):
    """ "Show a new question" (the page's script, at the captcha's refresh address): the
    question's insert; the budget of forms sent back is counted in the cache."""
    build_site(5, 1)
    ajax = {"X-Requested-With": "XMLHttpRequest"}
    client.get(reverse("captcha-refresh"), headers=ajax)
    with django_assert_max_num_queries(1):
        response = client.get(reverse("captcha-refresh"), headers=ajax)
    assert response.status_code == 200
    assert response.json()["key"]


def test_staff_article_page_adds_only_the_session_user_and_permissions(
    client, django_assert_max_num_queries
):
    """Session and user; then the user's and their groups' permissions (may they preview?)."""
    article = build_site(5, 2)
    client.force_login(make_user(staff=True))
    client.get(article.get_absolute_url())
    with django_assert_max_num_queries(ARTICLE_BUDGET + 4):
        client.get(article.get_absolute_url())
