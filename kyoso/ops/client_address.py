"""The real address of a client, behind zero or more trusted reverse proxies.

Every proxy appends the address it received the request from to
X-Forwarded-For, so only the right-most entries were written by proxies
kyoso trusts; everything to their left came from the client and may be
forged. With ``KYOSO_TRUSTED_PROXY_HOPS=N`` the client is the N-th entry from
the right (nginx in deploy/ is one hop: its ``$proxy_add_x_forwarded_for``
puts the peer it saw last). With 0 (the default) the header is ignored and
the client is the TCP peer. Reflex applies the same rule to
``router.session.client_ip`` (``rxconfig.py`` passes the setting on as
``trusted_proxy_hops``), so an event handler and an HTTP route agree.

Used by /metrics (who may read it) and by login throttling per address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from kyoso.settings import get_settings

UNKNOWN = "0.0.0.0"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def resolve(peer: str | None, forwarded_for: str | None, hops: int | None = None) -> str:
    """The client address from the TCP peer and the X-Forwarded-For header.

    When the header holds fewer entries than ``hops`` the request did not
    come through the whole chain of proxies: the peer is the best we know.
    """
    hops = get_settings().trusted_proxy_hops if hops is None else hops
    if hops > 0 and forwarded_for:
        entries = [e.strip() for e in forwarded_for.split(",") if e.strip()]
        if len(entries) >= hops:
            client = _clean(entries[-hops])
            if _is_address(client):  # garbage written by a client is not an address
                return client
    return _clean(peer or UNKNOWN)


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def from_scope(scope: Mapping, hops: int | None = None) -> str:
    """The client address of an ASGI request (HTTP or websocket)."""
    client = scope.get("client")
    peer = client[0] if client else None
    forwarded: list[str] = []
    for name, value in scope.get("headers") or ():
        if name.lower() == b"x-forwarded-for":
            forwarded.append(value.decode("latin-1"))
    # Several X-Forwarded-For headers mean the same as one joined by commas.
    return resolve(peer, ", ".join(forwarded) or None, hops)


def from_headers(peer: str | None, headers: Mapping[str, str], hops: int | None = None) -> str:
    """The same for a plain header mapping (Reflex's router_data headers are
    lower-case with dashes: ``x-forwarded-for``)."""
    value = headers.get("x-forwarded-for") or headers.get("X-Forwarded-For")
    return resolve(peer, value, hops)


def networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """Parse CIDRs (``10.0.0.0/8``, a bare address means that one host)."""
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def allowed(address: str, nets: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in nets)


def _clean(address: str) -> str:
    """An address as written in the header: "[::1]:1234", "1.2.3.4:5678"
    (some proxies add the port) or a bare address."""
    a = address.strip()
    if a.startswith("["):
        return a[1:a.index("]")] if "]" in a else a
    if a.count(":") == 1:  # IPv4 with a port
        return a.split(":", 1)[0]
    return a
