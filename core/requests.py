import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The caller's address.

    Behind `TRUSTED_PROXY_COUNT` proxies, the address the outermost trusted proxy saw: the
    entries a client writes itself sit further left and are ignored.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or "unknown"


def client_network(ip: str) -> str:
    """What a per-address limit counts: an IPv4 address itself, an IPv6 address's /64.

    One IPv6 host is commonly given a whole /64; counting single addresses there would hand
    it a fresh limit per address (2^64 of them).
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
