from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .context_processors import NAVIGATION_CACHE_KEY
from .models import Section


@receiver(post_save, sender=Section, dispatch_uid="articles.section_saved")
@receiver(post_delete, sender=Section, dispatch_uid="articles.section_deleted")
def forget_navigation(sender, **kwargs):
    cache.delete(NAVIGATION_CACHE_KEY)
