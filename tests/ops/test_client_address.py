"""The client address behind trusted proxies (kyoso/ops/client_address.py)."""

from __future__ import annotations

import pytest

from kyoso.ops import client_address as ca


@pytest.mark.parametrize(("peer", "xff", "hops", "want"), [
    ("10.0.0.5", None, 0, "10.0.0.5"),
    # No proxy trusted: a forged header changes nothing.
    ("203.0.113.9", "127.0.0.1", 0, "203.0.113.9"),
    # nginx appends the peer it saw: the right-most entry is the client...
    ("127.0.0.1", "198.51.100.7", 1, "198.51.100.7"),
    # ...and whatever the client wrote itself stays to the left, ignored.
    ("127.0.0.1", "127.0.0.1, 198.51.100.7", 1, "198.51.100.7"),
    # Two proxies (a load balancer, then nginx).
    ("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.1.1", 2, "198.51.100.7"),
    # Fewer entries than hops: not through the whole chain, keep the peer.
    ("127.0.0.1", "198.51.100.7", 2, "127.0.0.1"),
    ("127.0.0.1", "", 1, "127.0.0.1"),
    ("127.0.0.1", "[2001:db8::1]:443", 1, "2001:db8::1"),
    ("127.0.0.1", "198.51.100.7:5555", 1, "198.51.100.7"),
])
def test_resolve(peer: str, xff: str | None, hops: int, want: str) -> None:
    assert ca.resolve(peer, xff, hops) == want


def test_setting_decides_the_hops(monkeypatch: pytest.MonkeyPatch) -> None:
    from kyoso.settings import get_settings

    scope = {"client": ("127.0.0.1", 4000), "headers": [(b"x-forwarded-for", b"1.2.3.4, 198.51.100.7")]}
    monkeypatch.delenv("KYOSO_TRUSTED_PROXY_HOPS", raising=False)
    get_settings.cache_clear()
    assert ca.from_scope(scope) == "127.0.0.1"
    monkeypatch.setenv("KYOSO_TRUSTED_PROXY_HOPS", "1")
    get_settings.cache_clear()
    try:
        assert ca.from_scope(scope) == "198.51.100.7"
        assert ca.from_headers("127.0.0.1", {"x-forwarded-for": "9.9.9.9"}) == "9.9.9.9"
    finally:
        get_settings.cache_clear()


def test_allowed_networks() -> None:
    nets = ca.networks(["127.0.0.1/32", "10.20.0.0/16", "::1"])
    assert ca.allowed("127.0.0.1", nets)
    assert ca.allowed("10.20.3.4", nets)
    assert ca.allowed("::1", nets)
    assert ca.allowed("::ffff:10.20.3.4", nets)
    assert not ca.allowed("10.21.0.1", nets)
    assert not ca.allowed("not-an-address", nets)


@pytest.mark.parametrize("hops", [0, 1, 2])
@pytest.mark.parametrize("xff", [None, "198.51.100.7", "6.6.6.6, 198.51.100.7", "1.1.1.1, 2.2.2.2, 3.3.3.3"])
def test_reflex_router_client_ip_agrees(hops: int, xff: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """rxconfig.py hands KYOSO_TRUSTED_PROXY_HOPS to Reflex: an event
    handler's ``router.session.client_ip`` is the address /metrics and the
    login throttle see."""
    from reflex.app import EventNamespace
    from reflex_base.config import get_config

    monkeypatch.setattr(get_config(), "trusted_proxy_hops", hops)
    headers = [(b"x-forwarded-for", xff.encode())] if xff else []
    scope = {"client": ("127.0.0.1", 4000), "headers": headers}
    router = EventNamespace._build_static_router_data(None, "sid", {"asgi.scope": scope})  # type: ignore[arg-type]
    assert router["ip"] == ca.from_scope(scope, hops)
