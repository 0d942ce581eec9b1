"""Per-handler event metrics and log ids (kyoso/ops/reflex_hooks.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from kyoso.ops import logsetup, reflex_hooks

NAME = "reflex___state____state.kyoso___states___channel____channel_state.toggle_stamp"


def _count(handler: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("kyoso_events_total", {"handler": handler, "outcome": outcome}) or 0.0


def test_handler_label() -> None:
    assert reflex_hooks.handler_label(NAME) == "channel_state.toggle_stamp"
    assert reflex_hooks.handler_label("plain") == "plain"


async def test_each_event_is_counted_and_timed_with_its_ids() -> None:
    seen: list[tuple[str, str]] = []

    async def execute(self, *, entry, registered_handler):  # type: ignore[no-untyped-def]
        seen.append((logsetup.event_name.get(), logsetup.event_id.get()))
        await asyncio.sleep(0.01)
        if entry.event.payload.get("fail"):
            raise RuntimeError("boom")

    timed = reflex_hooks._timed(execute)
    ok_before = _count("channel_state.toggle_stamp", "ok")
    err_before = _count("channel_state.toggle_stamp", "error")
    entry = SimpleNamespace(event=SimpleNamespace(name=NAME, payload={}), ctx=SimpleNamespace(txid="tx1"))
    await timed(None, entry=entry, registered_handler=None)
    bad = SimpleNamespace(event=SimpleNamespace(name=NAME, payload={"fail": True}), ctx=SimpleNamespace(txid="tx2"))
    with pytest.raises(RuntimeError):
        await timed(None, entry=bad, registered_handler=None)
    assert seen == [("channel_state.toggle_stamp", "tx1"), ("channel_state.toggle_stamp", "tx2")]
    assert _count("channel_state.toggle_stamp", "ok") == ok_before + 1
    assert _count("channel_state.toggle_stamp", "error") == err_before + 1
    assert logsetup.event_name.get() == ""  # reset after the event
    total = REGISTRY.get_sample_value("kyoso_event_seconds_sum", {"handler": "channel_state.toggle_stamp"})
    assert total is not None and total >= 0.02


def test_instrument_wraps_reflex_once() -> None:
    from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

    reflex_hooks.instrument_events()
    first = BaseStateEventProcessor._execute_event
    reflex_hooks.instrument_events()
    assert BaseStateEventProcessor._execute_event is first
    assert getattr(first, "kyoso_timed", False)


async def test_a_gone_tabs_state_is_dropped_after_its_grace_and_not_before() -> None:
    """Reflex keeps a tab's state an hour after its last event; kyoso drops
    it ``gone_tab_seconds`` after its socket went, unless the tab is back or
    its state is in use."""
    import asyncio
    from types import SimpleNamespace

    from reflex.istate.manager.memory import StateManagerMemory
    from reflex.istate.manager.token import BaseStateToken
    from reflex.state import State

    def tab(name: str) -> BaseStateToken:
        return BaseStateToken(ident=name, cls=State)

    manager = StateManagerMemory()
    tokens = {"sid-a": "tab-a", "sid-b": "tab-b", "sid-c": "tab-c", "sid-d": "tab-d"}
    for token in tokens.values():
        await manager.get_state(tab(token))
    closed: list[str] = []

    class Namespace:
        sid_to_token = tokens

        def on_disconnect(self, sid: str) -> None:
            closed.append(sid)

    namespace = Namespace()
    gone = reflex_hooks.GoneTabs(SimpleNamespace(_state_manager=manager), 0.2)
    gone.watch(namespace)
    gone.watch(namespace)  # twice: still one note per disconnect
    for sid in ("sid-a", "sid-b", "sid-c"):
        namespace.on_disconnect(sid)
    assert closed == ["sid-a", "sid-b", "sid-c"]  # Reflex's own handler still runs, once
    gone.sweep()
    assert len(manager.states) == 4  # not before the grace
    await manager.get_state(tab("tab-b"))  # tab b came back: Reflex's own deadline again
    lock = await manager._get_state_lock(tab("tab-c"))
    async with lock:  # tab c's state is in use
        await asyncio.sleep(0.3)
        gone.sweep()
        assert set(manager.states) == {"tab-b", "tab-c", "tab-d"}
    gone.sweep()
    assert set(manager.states) == {"tab-b", "tab-d"}
    await manager.close()
