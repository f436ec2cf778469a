"""The client's address, from the connection or from trusted proxies only.

Behind a load balancer or reverse proxy, REMOTE_ADDR is the proxy. `X-Forwarded-For` is
believed only when the connection comes from an address in OPENIOP_TRUSTED_PROXIES
(comma-separated addresses or networks, e.g. "10.0.0.0/8,127.0.0.1"); the client is the
right-most address in the header that is not itself a trusted proxy. Anyone can send the
header, so without that setting it is ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(raw: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw if item.strip())


def trusted_proxies() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "OPENIOP_TRUSTED_PROXIES", ())))


def _parse(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(raw.strip())
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: tuple[Network, ...]) -> bool:
    return any(addr in net for net in nets)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's IP address as text, or None when it is not a valid address."""
    if request is None:
        return None
    peer = _parse(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    nets = trusted_proxies()
    if not nets or not _trusted(peer, nets):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for raw in reversed(forwarded.split(",")):
        addr = _parse(raw)
        if addr is None:
            break  # a malformed hop: stop believing the chain here
        if not _trusted(addr, nets):
            return str(addr)
        peer = addr
    return str(peer)
