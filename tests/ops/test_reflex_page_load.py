"""Installing kyoso's page-load handlers into Reflex (kyoso/ops/reflex_page_load.py);
what they do is tested through the states, in tests/states/test_page_load_events.py."""

from __future__ import annotations

import pytest
from reflex.state import OnLoadInternalState, State
from reflex_base.registry import RegistrationContext
from reflex_base.utils.format import format_event_handler

import kyoso.kyoso  # noqa: F401 - the app, which installs them
from kyoso.ops import reflex_page_load


@pytest.mark.parametrize(("cls", "name"), [(OnLoadInternalState, "on_load_internal"), (State, "hydrate_and_load")])
def test_both_places_reflex_looks_a_handler_up_run_kyosos(cls: type, name: str) -> None:
    reflex_page_load.install()  # again: nothing changes
    on_class = cls.event_handlers[name]  # type: ignore[attr-defined]
    registered = RegistrationContext.get().event_handlers[format_event_handler(on_class)].handler
    for handler in (on_class, registered):
        assert handler.fn.kyoso_replaced and handler.fn.__wrapped__.__module__ == "reflex.state"
        assert handler._is_coroutine_function
    assert OnLoadInternalState.event_handlers["on_load_internal"].supersedes  # Reflex's marker kept


def test_another_reflex_is_refused_until_the_handlers_are_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reflex_page_load, "version", lambda package: "0.11.0")
    with pytest.raises(RuntimeError, match="0.11.0"):
        reflex_page_load.install()
