"""The client's address, trusting X-Forwarded-For only from configured proxies.

OPENIOP_TRUSTED_PROXIES lists the reverse proxies (addresses or networks) in front of the
application. A request whose REMOTE_ADDR is one of them gets its client address from
X-Forwarded-For, read right to left and skipping the trusted proxies, so a client cannot
choose its own address by sending the header itself (OWASP: "X-Forwarded-For" header
spoofing; RFC 7239 section 8.1). Anything else uses REMOTE_ADDR.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _parse(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(raw.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    networks = _networks(tuple(getattr(settings, "OPENIOP_TRUSTED_PROXIES", ()) or ()))
    return any(address in network for network in networks)


def client_ip(request: HttpRequest | None, *args: object, **kwargs: object) -> str | None:
    """The client's IP address as a string, or None when it cannot be told.

    (Extra arguments are accepted so django-axes can call it as AXES_CLIENT_IP_CALLABLE.)
    """
    if request is None:
        return None
    remote = _parse(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    if not _trusted(remote):
        return str(remote)
    hops = [h for h in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
    client = remote
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            # A malformed hop: the proxies before it cannot be trusted to have written it.
            break
        client = address
        if not _trusted(address):
            break
    return str(client)
