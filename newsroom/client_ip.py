"""The address of the client that sent a request, as the rate limits should see it."""

from django.conf import settings


def client_ip(request):
    """Return the client's IP address.

    Behind our own reverse proxy (DJANGO_BEHIND_PROXY=1) every request comes from the proxy,
    so the client is the last address in X-Forwarded-For: the one our proxy appended. Earlier
    entries were written by the client and could be forged to dodge a limit.
    """
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last_hop = forwarded.rsplit(",", 1)[-1].strip()
        if last_hop:
            return last_hop
    return request.META.get("REMOTE_ADDR", "")
