from django import template
from django.urls import reverse

from comments.cache import pending_count
from comments.models import in_bdi

register = template.Library()


@register.inclusion_tag("admin/comments/pending_notice.html", takes_context=True)
def pending_comments_notice(context):
    """ "3 comments awaiting moderation", linking to the queue, for those who may see it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_active or not user.is_staff:
        return {}
    if not user.has_perm("comments.view_comment"):
        return {}
    return {"count": pending_count(), "queue_url": reverse("admin:comments_comment_changelist")}


@register.filter
def bdi(text):
    """Text a reader wrote, in <bdi> (comments.models.in_bdi)."""
    return in_bdi(text)
