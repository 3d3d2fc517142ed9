from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import Article
from tests.factories import make_article, make_draft, make_scheduled

pytestmark = pytest.mark.django_db


def test_published_includes_only_live_articles():
    live = make_article()
    make_draft()
    make_scheduled()
    assert list(Article.objects.published()) == [live]


def test_scheduled_article_goes_live_when_its_time_comes_without_any_job():
    article = make_scheduled()
    assert not article.is_public
    Article.objects.filter(pk=article.pk).update(published_at=timezone.now() - timedelta(seconds=1))
    assert list(Article.objects.published()) == [Article.objects.get(pk=article.pk)]


def test_draft_with_a_past_date_is_still_not_public():
    article = make_draft(published_at=timezone.now() - timedelta(days=1))
    assert not article.is_public
    assert not Article.objects.published().exists()


def test_publishing_without_a_date_stamps_now():
    article = make_draft()
    article.status = Article.Status.PUBLISHED
    article.save()
    assert article.published_at is not None
    assert article.is_public


def test_database_refuses_published_article_without_date():
    article = make_article()
    with pytest.raises(IntegrityError), transaction.atomic():
        Article.objects.filter(pk=article.pk).update(published_at=None)


def test_lead_image_needs_a_description():
    article = make_article()
    article.lead_image = "lead-images/photo.jpg"
    with pytest.raises(ValidationError) as error:
        article.full_clean()
    assert "lead_image_alt" in error.value.message_dict


def test_body_is_rendered_to_sanitized_html_on_save():
    article = make_article(
        body="## Heading\n\nSome *text* <script>alert(1)</script> [link](javascript:alert(1))"
    )
    assert "<h2>Heading</h2>" in article.body_html
    assert "<em>text</em>" in article.body_html
    assert "<script" not in article.body_html
    assert "javascript:" not in article.body_html


def test_saving_only_the_body_stores_its_html_too():
    article = make_article(body="Before")
    article.body = "After, *revised*"
    article.save(update_fields=["body"])
    article.refresh_from_db()
    assert "<em>revised</em>" in article.body_html


def test_a_top_level_heading_in_the_body_stays_a_heading_under_the_headline():
    article = make_article(body="# Background\n\nIt began in 1998.\n\n## Since then\n\nMore.")

    assert "<h2>Background</h2>" in article.body_html
    assert "<h2>Since then</h2>" in article.body_html
    assert "<h1" not in article.body_html


def test_reading_time_counts_words():
    assert make_article(body="word " * 10).reading_minutes == 1
    assert make_article(body="word " * 1000).reading_minutes == 5


def test_previous_and_next_follow_publication_order():
    now = timezone.now()
    older = make_article(published_at=now - timedelta(days=2))
    middle = make_article(published_at=now - timedelta(days=1))
    newer = make_article(published_at=now - timedelta(hours=1))
    published = Article.objects.published()
    assert published.before(middle).first() == older
    assert published.after(middle).first() == newer
    assert published.before(older).first() is None
