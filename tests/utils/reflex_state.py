"""A Reflex page state without a browser or a server: a root state, router
data as a page load would bring it, the session token set
(``shared/docs/reflex-notes.md``). For state tests and bench.roundtrips.

The tree is made as the server makes a tab's (``kyoso/ops/
reflex_state_tree.py``: each state on first use) unless ``whole_tree``."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlencode

from reflex.istate.data import RouterData
from reflex.state import State

from kyoso.ops import reflex_state_tree

S = TypeVar("S")


def page_state(cls: type[S], token: str, route: str = "/", *, sid: str = "sid-1",
               query: dict[str, str] | None = None, whole_tree: bool = False, **params: str) -> S:
    """The state ``cls`` of one browser (``sid``) on ``route`` with its
    dynamic segments ``params`` and ``query``, logged in with ``token``."""
    root = State(_reflex_internal_init=True) if whole_tree else reflex_state_tree.make(State)  # type: ignore[call-arg]
    path = route
    for key, value in params.items():
        path = path.replace(f"[{key}]", value)
    if query:  # the page's URL, where router.url.query_parameters reads them
        path += "?" + urlencode(query)
    router_data = {"pathname": route, "asPath": path, "query": {**params, **(query or {})},
                   "sid": sid, "token": "client-token", "ip": "192.0.2.1", "headers": {}}
    root.router = RouterData.from_router_data(router_data)
    state = root.get_substate(cls.get_full_name().split(".")[1:])  # type: ignore[attr-defined]
    root.get_substate(["kyoso___states___session____session_state"]).token = token
    return state  # type: ignore[return-value]
