import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import demo
from articles.models import Article, Section, render_markdown
from comments.models import Comment
from tests.factories import make_article

pytestmark = pytest.mark.django_db


def test_seed_creates_a_full_site_once():
    now = timezone.now()
    ids = demo.seed(articles=30, now=now)
    assert len(ids) == 30
    assert Article.objects.published().count() == 30
    assert Section.objects.count() == len(demo.SECTIONS)
    assert demo.seed(articles=30, now=now) == []
    assert Article.objects.count() == 32  # plus one draft and one scheduled article


def test_demo_has_a_draft_and_a_scheduled_article_that_stay_hidden():
    demo.seed(articles=3)
    hidden = Article.objects.exclude(pk__in=Article.objects.published())
    assert {article.slug for article in hidden} == {
        "demo-draft-not-yet-ready",
        "demo-scheduled-for-tomorrow",
    }


def test_demo_text_is_deterministic():
    now = timezone.now()
    demo.create_articles(5, now=now)
    first = list(Article.objects.order_by("pk").values_list("title", "standfirst", "body"))
    Article.objects.all().delete()
    demo.create_articles(5, now=now)
    second = list(Article.objects.order_by("pk").values_list("title", "standfirst", "body"))
    assert first == second


def test_bulk_articles_have_rendered_bodies_tags_and_past_dates():
    now = timezone.now()
    demo.create_articles(50, now=now)
    articles = Article.objects.published()
    assert articles.count() == 50
    assert all("<h2>" in article.body_html for article in articles)
    assert all(article.tags.exists() for article in articles[:10])
    assert all(article.published_at <= now for article in articles)
    assert not any(article.was_updated for article in articles)
    assert len({article.slug for article in articles}) == 50


def test_bulk_article_text_reads_back_as_written():
    """Paragraph breaks, quotes and rendered HTML survive the bulk path (COPY on PostgreSQL)."""
    demo.create_articles(20)

    for article in Article.objects.all():
        assert "\n\n## " in article.body
        assert article.body_html == render_markdown(article.body)
    assert any("“" in article.body for article in Article.objects.all())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_postgresql_loads_demo_articles_and_tags_with_copy_not_one_insert_per_row():
    with CaptureQueriesContext(connection) as queries:
        ids = demo.create_articles(30)

    statements = [query["sql"] for query in queries]
    assert 'COPY "articles_article" ("id", ' in "\n".join(statements)
    assert 'COPY "articles_article_tags" ("article_id", "tag_id")' in "\n".join(statements)
    assert not [sql for sql in statements if sql.startswith('INSERT INTO "articles_article')]
    assert Article.objects.filter(pk__in=ids, tags__isnull=False).distinct().count() == 30


def test_seed_demo_command_reports_progress_on_stderr(capsys):
    call_command("seed_demo", "--articles", "4")
    captured = capsys.readouterr()
    assert "4/4 articles" in captured.err
    assert "Demo content ready" in captured.out


def planner_statistics(table):
    """The columns of `table` the database's planner has statistics for (from ANALYZE)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT attname FROM pg_stats WHERE tablename = %s", [table])
            return {column for (column,) in cursor.fetchall()}
        cursor.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone():
            return set()
        cursor.execute("SELECT idx FROM main.sqlite_stat1 WHERE tbl = %s", [table])
        return {index for (index,) in cursor.fetchall()}


def test_seed_demo_leaves_the_planner_statistics_of_what_it_loaded(capsys):
    """Without them, on PostgreSQL with autovacuum off, the planner took a bulk-loaded
    archive for an empty one: /section/news/?page=400 took 81 s at 50,000 articles."""
    call_command("seed_demo", "--articles", "4")

    assert planner_statistics(Article._meta.db_table)
    assert planner_statistics(Comment._meta.db_table)


def test_seed_demo_fills_an_empty_site(capsys):
    call_command("seed_demo")

    assert Article.objects.published().count() == 30
    assert Comment.objects.exists()


def test_seed_demo_leaves_a_site_with_articles_of_its_own_alone(capsys):
    """`make run` seeds at every start: on a restored backup, or once the demo articles are
    deleted, it must not mix generated stories and comments in with the site's own."""
    make_article(title="Our own story")

    call_command("seed_demo")

    assert list(Article.objects.values_list("title", flat=True)) == ["Our own story"]
    assert not Comment.objects.exists()
    assert "no demo content added" in capsys.readouterr().out


def test_one_demo_article_in_three_has_a_described_lead_image():
    demo.create_articles(6)
    with_image = Article.objects.exclude(lead_image="")
    assert with_image.count() == 2
    assert all(article.lead_image_alt.startswith("Illustration:") for article in with_image)
    assert all(article.lead_image.storage.exists(article.lead_image.name) for article in with_image)


def test_articles_saved_after_a_bulk_seed_get_fresh_ids():
    ids = demo.create_articles(3)
    article = Article.objects.create(
        title="Written by hand",
        slug="written-by-hand",
        standfirst="After the demo.",
        body="Text.",
        author=Article.objects.get(pk=ids[0]).author,
        section=Section.objects.first(),
    )
    assert article.pk > max(ids)
