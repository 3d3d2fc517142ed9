"""Django's date bar (`ModelAdmin.date_hierarchy`), each level read through the date's index.

Django lists the years, months or days that have rows with a DISTINCT over every row in
range: the whole table for the years, a whole year's rows for its months (and a young site
has one year, whose months the bar opens on). Here each period that has rows costs one probe
of the index on the field, the first date from the start of the period after the last one
found: a dozen or so cheap queries whatever the number of rows (a million comments: 200 ms
of DISTINCT on every page of the moderators' list). The bar shows the same links.
"""

from datetime import MAXYEAR, date, datetime, timedelta

from django import template
from django.conf import settings
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

register = template.Library()


def local(value):
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def first_of_each(queryset, field, next_period, *, first=None):
    """The first date (local time) of each period in which `queryset` has rows, in order.

    `next_period(found)` is where the period after the one holding `found` starts (None
    past the last representable one); `first`, the first date of all when it is known
    already (the bar opening a level down). A date left empty (a draft's publication
    time) is in no period: SQLite sorts NULL first."""
    found = []
    rest = queryset.filter(**{f"{field}__isnull": False})
    while (
        first is not None
        or (first := rest.order_by(field).values_list(field, flat=True).first()) is not None
    ):
        found.append(local(first))
        first = None
        start = next_period(found[-1])
        if start is None:
            break
        rest = queryset.filter(**{f"{field}__gte": start})
    return found


def period_starts(field):
    """Functions giving the start of the next year, month and day after a date, as values
    the field compares with (aware datetimes in the current time zone, for a datetime)."""
    if isinstance(field, models.DateTimeField):
        zone = timezone.get_current_timezone() if settings.USE_TZ else None

        def start(day):
            return datetime(day.year, day.month, day.day, tzinfo=zone)
    else:

        def start(day):
            return day

    def next_year(found):
        return None if found.year == MAXYEAR else start(date(found.year + 1, 1, 1))

    def next_month(found):
        if found.month == 12:
            return next_year(found)
        return start(date(found.year, found.month + 1, 1))

    def next_day(found):
        day = date(found.year, found.month, found.day)
        return None if day == date.max else start(day + timedelta(days=1))

    return next_year, next_month, next_day


@register.inclusion_tag("admin/date_hierarchy.html")
def indexed_date_hierarchy(cl):
    """What Django's {% date_hierarchy cl %} shows, read by probes of the date's index."""
    if not cl.date_hierarchy:
        return {}
    name = cl.date_hierarchy
    field = cl.model._meta.get_field(name)
    year_field, month_field, day_field = (f"{name}__{part}" for part in ("year", "month", "day"))
    year, month, day = (cl.params.get(key) for key in (year_field, month_field, day_field))
    if day or (month and not year):
        return date_hierarchy(cl)  # one day, which Django shows without a query; or "?e=1"
    next_year, next_month, next_day = period_starts(field)

    def link(filters):
        return cl.get_query_string(filters, [f"{name}__"])

    def bar(back, choices):
        return {"show": True, "back": back, "choices": choices, "field_name": field.verbose_name}

    years = []
    if not year:
        years = first_of_each(cl.queryset, name, next_year)
        if len(years) != 1:
            return bar(
                None,
                [{"link": link({year_field: str(y.year)}), "title": str(y.year)} for y in years],
            )
    months = []
    if not month:
        months = first_of_each(cl.queryset, name, next_month, first=next(iter(years), None))
        if year or len(months) != 1:
            year = year or str(years[0].year)
            return bar(
                {"link": link({}), "title": _("All dates")},
                [
                    {
                        "link": link({year_field: year, month_field: m.month}),
                        "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT")),
                    }
                    for m in months
                ],
            )
        year, month = str(months[0].year), months[0].month
    days = first_of_each(cl.queryset, name, next_day, first=next(iter(months), None))
    return bar(
        {"link": link({year_field: year}), "title": str(year)},
        [
            {
                "link": link({year_field: year, month_field: month, day_field: d.day}),
                "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT")),
            }
            for d in days
        ],
    )
