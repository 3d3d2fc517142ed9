"""The address of the client that sent a request, as rate limits and moderators see it."""

import ipaddress

from django.conf import settings

IPV6_NETWORK_PREFIX = 64


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


def sender_block(ip_address):
    """The addresses one sender holds, which a limit counts as one: an IPv4 address, or an
    IPv6 address's /64 (2001:db8::/64), which one home or one server holds whole and can send
    from any address of. An IPv4 address written as IPv6 (::ffff:203.0.113.7) counts as it."""
    address = ipaddress.ip_address(ip_address)
    address = getattr(address, "ipv4_mapped", None) or address
    if address.version == 6:
        return str(ipaddress.ip_network((address, IPV6_NETWORK_PREFIX), strict=False))
    return str(address)


def client_block(request):
    """What django-axes counts a client's sign-in failures under (AXES_CLIENT_IP_CALLABLE):
    its sender_block, by the block's first address (2001:db8::), as axes stores an address."""
    if ip_address := client_ip(request):
        return str(ipaddress.ip_network(sender_block(ip_address)).network_address)
    return None
