"""The client address of rate limits behind KYOSO_TRUSTED_PROXY_HOPS reverse proxies."""

from __future__ import annotations

import pytest
from reflex.istate.data import RouterData

from kyoso.settings import get_settings
from kyoso.states.auth import LoginState


@pytest.mark.parametrize(("hops", "expected"), [(0, "10.0.0.5"), (1, "203.0.113.9"), (2, "6.6.6.6")])
def test_the_client_key_takes_only_trusted_hops(states, monkeypatch: pytest.MonkeyPatch, hops: int,
                                                expected: str) -> None:
    monkeypatch.setenv("KYOSO_TRUSTED_PROXY_HOPS", str(hops))
    get_settings.cache_clear()
    try:
        page = states(LoginState, "", "/login")
        root = page
        while root.parent_state is not None:
            root = root.parent_state
        root.router = RouterData.from_router_data({
            "pathname": "/login", "asPath": "/login", "query": {}, "sid": "sid-key", "token": "t",
            "ip": "10.0.0.5", "headers": {"asgi-scope-client": "10.0.0.5",
                                          "x-forwarded-for": "6.6.6.6, 203.0.113.9"}})
        assert page._client_key() == expected
    finally:
        monkeypatch.delenv("KYOSO_TRUSTED_PROXY_HOPS")
        get_settings.cache_clear()
