"""Deployment checks (`manage.py check --deploy`) for what the comments app sends out."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@register(Tags.security, deploy=True)
def site_url_is_public(app_configs, **kwargs):
    """Emails (moderators' notices, commenters' unsubscribe links) link to SITE_URL, whose
    default only works on the machine that runs the site, and which makes links only when
    written with its scheme."""
    site_url = urlsplit(settings.SITE_URL)
    if site_url.scheme not in {"http", "https"} or not site_url.hostname:
        return [
            Warning(
                f"SITE_URL is {settings.SITE_URL}: the links in emails need a whole address.",
                hint="Write it with its scheme, e.g. https://news.example.org.",
                id="comments.W002",
            )
        ]
    if site_url.hostname not in LOCAL_HOSTS:
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL}: the links in emails will point there.",
            hint="Set SITE_URL to the site's public address, e.g. https://news.example.org.",
            id="comments.W001",
        )
    ]
