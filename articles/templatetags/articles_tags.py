import json

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

# The escapes of django.utils.html.json_script: nothing in the data can close the element.
JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_ld(value):
    """Structured data as a data block: browsers never execute it, so CSP needs no nonce."""
    data = json.dumps(value, cls=DjangoJSONEncoder).translate(JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(data))  # noqa: S308


@register.filter
def html_datetime(value):
    """A `<time datetime>` in the site's time zone, to the second: `date:"c"` gives the
    microseconds a time was saved with, and HTML allows three decimal places at most."""
    return timezone.localtime(value).isoformat(timespec="seconds")


@register.simple_tag
def site_name():
    """For pages rendered without context processors, such as the 500 page."""
    return settings.SITE_NAME


@register.simple_tag
def site_description():
    """For pages rendered without context processors, such as the 500 page."""
    return settings.SITE_DESCRIPTION
