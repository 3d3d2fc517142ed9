from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.template.autoreload import get_template_directories
from django.utils.autoreload import file_changed

from . import page_cache
from .models import Article, Author, Section, Tag, delete_lead_image_on_commit


@receiver(post_save, sender=Article, dispatch_uid="articles.article_saved")
@receiver(post_delete, sender=Article, dispatch_uid="articles.article_deleted")
@receiver(post_save, sender=Author, dispatch_uid="articles.author_saved")
@receiver(post_delete, sender=Author, dispatch_uid="articles.author_deleted")
@receiver(post_save, sender=Section, dispatch_uid="articles.section_saved")
@receiver(post_delete, sender=Section, dispatch_uid="articles.section_deleted")
@receiver(post_save, sender=Tag, dispatch_uid="articles.tag_saved")
@receiver(post_delete, sender=Tag, dispatch_uid="articles.tag_deleted")
@receiver(m2m_changed, sender=Article.tags.through, dispatch_uid="articles.tags_changed")
def content_changed(sender, **kwargs):
    """What readers see changed: cached pages and the header's sections must not outlive it
    (articles/page_cache.py, articles/context_processors.py)."""
    page_cache.bump_content_version_on_commit()


@receiver(post_save, sender=Article, dispatch_uid="articles.article_saved_for_counts")
@receiver(post_delete, sender=Article, dispatch_uid="articles.article_deleted_for_counts")
def article_changed(sender, **kwargs):
    """The count of published articles may have changed (articles/sitemaps.py)."""
    page_cache.bump_articles_version_on_commit()


@receiver(post_delete, sender=Article, dispatch_uid="articles.lead_image_let_go")
def article_deleted(sender, instance, **kwargs):
    """Its lead image goes with it (Article.save deals with one replaced or cleared). An
    instance read without the field keeps the file: reading it now would query a deleted row."""
    if "lead_image" not in instance.get_deferred_fields() and instance.lead_image:
        delete_lead_image_on_commit(instance.lead_image.name)


@receiver(file_changed, dispatch_uid="articles.template_edited")
def template_edited(sender, file_path, **kwargs):
    """`runserver` takes an edited template without restarting (Django's own receiver
    empties the template loaders), so the release in the page keys stays the same: the edit
    ends the cached pages itself, or a developer would see the old page for minutes."""
    if any(folder in file_path.parents for folder in get_template_directories()):
        page_cache.bump_content_version()
