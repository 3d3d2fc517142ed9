"""The address of the client that sent a request, as rate limits and moderators see it."""

import ipaddress

from django.conf import settings


def client_ip(request):
    """Return the client's IP address, or None when there is no valid one.

    Behind our own reverse proxy (DJANGO_BEHIND_PROXY=1) every request comes from the proxy,
    so the client is the last address in X-Forwarded-For: the one our proxy appended. Earlier
    entries were written by the client and could be forged to dodge a limit.
    """
    candidates = [request.META.get("REMOTE_ADDR", "")]
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidates.insert(0, forwarded.rsplit(",", 1)[-1].strip())
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None
