from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from . import page_cache
from .context_processors import NAVIGATION_CACHE_KEY
from .models import Article, Author, Section, Tag


def _forget_navigation():
    cache.delete(NAVIGATION_CACHE_KEY)


@receiver(post_save, sender=Section, dispatch_uid="articles.section_saved")
@receiver(post_delete, sender=Section, dispatch_uid="articles.section_deleted")
def forget_navigation(sender, **kwargs):
    """After the commit, like the version: forgotten earlier, the old list could be read back."""
    transaction.on_commit(_forget_navigation, robust=True)
    page_cache.bump_content_version_on_commit()


@receiver(post_save, sender=Article, dispatch_uid="articles.article_saved")
@receiver(post_delete, sender=Article, dispatch_uid="articles.article_deleted")
@receiver(post_save, sender=Author, dispatch_uid="articles.author_saved")
@receiver(post_delete, sender=Author, dispatch_uid="articles.author_deleted")
@receiver(post_save, sender=Tag, dispatch_uid="articles.tag_saved")
@receiver(post_delete, sender=Tag, dispatch_uid="articles.tag_deleted")
@receiver(m2m_changed, sender=Article.tags.through, dispatch_uid="articles.tags_changed")
def content_changed(sender, **kwargs):
    """What readers see changed: cached pages must not outlive it (articles/page_cache.py)."""
    page_cache.bump_content_version_on_commit()
