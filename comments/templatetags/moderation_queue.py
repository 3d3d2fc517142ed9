from datetime import MAXYEAR, datetime

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.urls import reverse
from django.utils import timezone

from comments.cache import pending_count

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


def years_with_rows(queryset, field):
    """The years (in the current time zone) in which `queryset` has rows, each found by one
    probe of the index on `field`: the first date from the start of the year after the last
    one found. A DISTINCT over the years reads every row's date instead."""
    years, rest = [], queryset
    while (first := rest.order_by(field).values_list(field, flat=True).first()) is not None:
        years.append(timezone.localtime(first).year)
        if years[-1] == MAXYEAR:
            break
        next_year = datetime(years[-1] + 1, 1, 1, tzinfo=timezone.get_current_timezone())
        rest = queryset.filter(**{f"{field}__gte": next_year})
    return years


@register.inclusion_tag("admin/date_hierarchy.html")
def comments_date_hierarchy(cl):
    """Django's date bar, but its first level, the years that have comments, costs a probe
    of the date index per year, where Django's reads every comment (200 ms at a million)."""
    field = cl.date_hierarchy
    if any(cl.params.get(f"{field}__{part}") for part in ("year", "month", "day")):
        return date_hierarchy(cl)
    years = years_with_rows(cl.queryset, field)
    if len(years) < 2:
        return date_hierarchy(cl)  # which opens on the one year's months, or nothing
    return {
        "show": True,
        "back": None,
        "choices": [
            {
                "link": cl.get_query_string({f"{field}__year": str(year)}, [f"{field}__"]),
                "title": str(year),
            }
            for year in years
        ],
        "field_name": cl.model._meta.get_field(field).verbose_name,
    }
