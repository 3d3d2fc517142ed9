"""Deployment checks (`manage.py check --deploy`) that speak in environment variables."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def https_is_on(app_configs, **kwargs):
    """Without HTTPS Django warns about four settings by their own names, none of which an
    operator sets: one variable turns them all on."""
    if settings.SECURE_SSL:
        return []
    return [
        Warning(
            "DJANGO_SECURE_SSL is off: no HTTPS redirect, HSTS or secure cookies "
            "(security.W004, W008, W012 and W016).",
            hint="Serve the site over HTTPS and set DJANGO_SECURE_SSL=1; behind a proxy that "
            "ends TLS, set DJANGO_BEHIND_PROXY=1 too (README, Deployment).",
            id="newsroom.W001",
        )
    ]
