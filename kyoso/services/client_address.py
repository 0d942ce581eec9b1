"""The client's address, as rate limits per address must see it.

Behind kyoso's reverse proxy every connection comes from the proxy; the
client is then in ``X-Forwarded-For``, which the client can also write
itself. Only the right-most ``KYOSO_TRUSTED_PROXY_HOPS`` entries were added
by proxies we run, so the client is the entry that many places from the
right (werkzeug's ProxyFix does the same). With 0 hops (the default) the
header is ignored: it would let anyone choose their address.
"""

from __future__ import annotations

import ipaddress

MAX_HEADER = 2000


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: str | None, hops: int) -> str:
    """``peer``: the address of the connection; ``forwarded_for``: the
    X-Forwarded-For header (several headers joined with commas); ``hops``:
    how many reverse proxies we run in front of kyoso."""
    if hops <= 0 or not forwarded_for:
        return peer
    entries = [e.strip() for e in forwarded_for[-MAX_HEADER:].split(",") if e.strip()]
    if len(entries) < hops:
        return peer
    return _valid(entries[-hops]) or peer
