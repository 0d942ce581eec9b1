"""A page load is one Reflex event after the hydrate (``ops/reflex_hooks.
_on_load_inline``): Reflex's own ``on_load_internal`` handler, run through
Reflex's ``process_event`` as its event processor does, runs the page's
on_load inside it and sends the page with ``is_hydrated`` in one delta,
instead of queueing the on_load and ``set_is_hydrated`` as two more events."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
import reflex as rx
from reflex.istate.manager.memory import StateManagerMemory
from reflex.state import OnLoadInternalState, State, state_snapshot_hashes
from reflex.utils import format
from reflex_base.constants.state import FIELD_MARKER
from reflex_base.event.context import EventContext
from reflex_base.event.processor.base_state_processor import process_event
from reflex_base.event import Event, EventHandler
from reflex_base.registry import RegisteredEventHandler, RegistrationContext
from sqlmodel import Session

from kyoso.ops import reflex_page_load
from kyoso.services import channels
from kyoso.states.channel import ChannelState
from kyoso.states.session import SessionState
from tests.utils.factories import make_channel, make_user, post

HYDRATED = "is_hydrated_rx_state_"
ROOT = "reflex___state____state"


class Wire:
    """What the event processor would send the browser, and queue as events."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.queued: list[Any] = []

    async def delta(self, token: str, delta: Any) -> None:
        self.sent.append(("delta", {name: dict(values) for name, values in delta.items()}))

    async def event(self, token: str, *events: Any) -> None:
        self.sent.extend(("event", e) for e in events)

    async def enqueue(self, token: str, *events: Any) -> None:
        self.queued.extend(events)

    def deltas(self) -> list[dict[str, Any]]:
        return [d for kind, d in self.sent if kind == "delta"]


async def run(page: Any, handler: Any, payload: dict[str, Any], state: Any, wire: Wire | None = None) -> Wire:
    """A Reflex event on ``page``'s tree, as its processor runs it."""
    wire = wire or Wire()
    ctx = EventContext(token="client-token", state_manager=StateManagerMemory(),
                       enqueue_impl=wire.enqueue, emit_delta_impl=wire.delta, emit_event_impl=wire.event)
    with ctx:
        await process_event(handler=handler, payload=payload, state=state, root_state=page._get_root_state())
    return wire


async def load(page: Any, wire: Wire | None = None) -> Wire:
    """Reflex's page-load event on ``page``'s tree."""
    root = page._get_root_state()
    return await run(page, OnLoadInternalState.event_handlers["on_load_internal"], {},
                     await root.get_state(OnLoadInternalState), wire)


def channel_part(delta: dict[str, Any]) -> dict[str, Any]:
    return next((v for k, v in delta.items() if k.endswith("channel____channel_state")), {})


async def test_a_page_load_sends_the_page_and_hydrated_in_one_delta(session: Session, states, token_of) -> None:
    member = make_user(session, name="山田 花子")
    channel = make_channel(session, slug="general")
    post(session, member, channel, "最初の投稿")
    page = states(ChannelState, token_of(member), "/c/[slug]", slug="general")
    wire = await load(page)
    assert wire.queued == []  # neither the on_load nor set_is_hydrated as events of their own
    [delta] = wire.deltas()
    assert delta[ROOT][HYDRATED] is True
    assert [m.author_name for m in channel_part(delta)["messages_rx_state_"]] == ["山田 花子"]
    assert page.is_hydrated and [m.author_name for m in page.messages] == ["山田 花子"]


async def test_a_tab_whose_states_are_made_as_used_sends_what_a_whole_tree_sends(
        session: Session, states, token_of) -> None:
    # The server makes a tab's states on first use (ops/reflex_state_tree.py):
    # a page load, a thread opened and a post sent there send the same deltas
    # as on Reflex's whole tree, where every state exists from the start.
    member = make_user(session, name="山田 花子")
    channel = make_channel(session, slug="general")
    parent = post(session, member, channel, "最初の投稿")
    token = token_of(member)
    wires = []
    for whole in (False, True):
        page = states(ChannelState, token, "/c/[slug]", slug="general", whole_tree=whole)
        wire = await load(page)
        await run(page, ChannelState.event_handlers["open_thread"], {"parent_id": parent.id}, page, wire)
        wires.append(sent(wire))
    made, whole = wires
    assert made == whole and len(made) == 2
    assert "山田 花子" in made[0] and "最初の投稿" in made[1]


async def test_a_navigation_shows_the_page_waiting_then_the_new_channel(
        session: Session, states, token_of) -> None:
    member = make_user(session)
    make_channel(session, slug="general")
    other = make_channel(session, slug="other")
    page = states(ChannelState, token_of(member), "/c/[slug]", slug="general")
    await load(page)
    page.router = type(page.router).from_router_data(
        {"pathname": "/c/[slug]", "asPath": "/c/other", "query": {"slug": "other"}, "sid": "sid-1",
         "token": "client-token", "headers": {}})
    wire = await load(page)
    first, last = wire.deltas()
    assert first[ROOT][HYDRATED] is False  # e.g. the composer waits for the new channel
    assert last[ROOT][HYDRATED] is True
    assert channel_part(last)["channel_rx_state_"].name == other.name


async def test_an_expired_session_is_hydrated_before_it_goes_to_login(session: Session, states) -> None:
    make_channel(session, slug="general")
    page = states(ChannelState, "not-a-token", "/c/[slug]", slug="general")
    wire = await load(page)
    kinds = [kind for kind, _ in wire.sent]
    assert kinds == ["delta", "event"]  # the page's delta first, as Reflex's chain sent it
    assert wire.deltas()[0][ROOT][HYDRATED] is True
    redirect = wire.sent[1][1]
    assert redirect.name == "_redirect" and "/login?next=/c/general" in redirect.payload["path"]


@pytest.mark.parametrize(("raised", "sent"), [
    # set_is_hydrated used to run as an event after a failed load: the page
    # is still told it is hydrated, and only that (Reflex sends nothing of a
    # failed event; with Redis its changes are not even saved). Reflex's
    # processor logs the error, as for any event.
    (RuntimeError("the database went away"), [{ROOT: {HYDRATED: True}}]),
    # A load a navigation supersedes is cancelled: the next page's load says
    # when the page is ready, not this one.
    (asyncio.CancelledError(), []),
], ids=["failed", "superseded"])
async def test_a_load_that_fails_leaves_the_page_usable_and_a_superseded_one_sends_nothing_more(
        session: Session, states, token_of, monkeypatch: pytest.MonkeyPatch,
        raised: BaseException, sent: list[Any]) -> None:
    member = make_user(session)
    make_channel(session, slug="general")
    page = states(ChannelState, token_of(member), "/c/[slug]", slug="general")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(channels, "get_channel_by_slug", broken)
    wire = Wire()
    with pytest.raises(type(raised)):
        await load(page, wire)
    assert wire.deltas() == sent


@pytest.mark.parametrize("kind", ["a browser-side event", "two handlers"])
async def test_a_page_load_kyoso_does_not_run_inline_keeps_reflexs_chain(
        session: Session, states, token_of, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    member = make_user(session)
    make_channel(session, slug="general")
    page = states(ChannelState, token_of(member), "/c/[slug]", slug="general")
    app = RegistrationContext.get().app
    loads = {"a browser-side event": [rx.redirect("/elsewhere")],
             "two handlers": [ChannelState.open_channel, ChannelState.open_channel]}[kind]
    monkeypatch.setattr(app, "get_load_events", lambda path: loads)
    wire = await load(page)
    # Reflex's chain: the loads, then set_is_hydrated, as events of their own.
    chain = [e.name for e in wire.queued] + [e.name for kind_, e in wire.sent if kind_ == "event"]
    assert any(name.endswith("set_is_hydrated") for name in chain)
    assert not page.is_hydrated


def test_a_load_that_yields_or_runs_in_the_background_is_not_run_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    async def in_steps(self: Any) -> Any:
        yield

    async def plain(self: Any) -> None:
        return None

    @rx.event(background=True)
    async def background(self: Any) -> None:
        return None

    registry = RegistrationContext.get().event_handlers
    for name, fn in (("test.in_steps", in_steps), ("test.plain", plain), ("test.background", background)):
        monkeypatch.setitem(registry, name, RegisteredEventHandler(handler=EventHandler(fn=fn), states=(ChannelState,)))
    assert reflex_page_load._inline_load([Event(name="test.plain")]) is not None
    assert reflex_page_load._inline_load([Event(name="test.in_steps")]) is None
    assert reflex_page_load._inline_load([Event(name="test.background")]) is None
    assert reflex_page_load._inline_load([Event(name="_redirect")]) is None


# -- the hydrate ----------------------------------------------------------------


async def hydrate(page: Any, *, reflex_own: bool = False, hashes: list[str] | None = None,
                  vars: dict[str, Any] | None = None) -> Wire:  # noqa: A002 - the event's own name
    """``hydrate_and_load`` on ``page``'s tree as the processor runs it:
    kyoso's, or Reflex's own (``reflex_own``) for comparison."""
    handler = State.event_handlers["hydrate_and_load"]
    if reflex_own:
        handler = dataclasses.replace(handler, fn=handler.fn.__wrapped__)
    return await run(page, handler, {"vars": vars or {}, "hashes": hashes}, page._get_root_state())


def sent(wire: Wire) -> list[str]:
    return [format.json_dumps(d) for d in wire.deltas()]


def compiled_hashes(**changed: str) -> list[str]:
    """The hashes a browser sends on its first hydrate: of the compiled
    ``initialState`` (``changed``: a state's differs, e.g. an older build)."""
    hashes = state_snapshot_hashes(State(_reflex_internal_init=True).dict(initial=True))  # type: ignore[call-arg]
    names = sorted(State(_reflex_internal_init=True).dict(initial=True))  # type: ignore[call-arg]
    for name, digest in changed.items():
        hashes[1 + names.index(name)] = digest
    return hashes


@pytest.mark.parametrize("case", ["new tab", "reloaded tab", "reconnect", "older build", "forged hashes"])
async def test_the_hydrate_sends_what_reflexs_own_sends(session: Session, states, token_of, case: str) -> None:
    member = make_user(session)
    channel = make_channel(session, slug="general")
    post(session, member, channel, "最初の投稿")
    token = token_of(member)
    # Ours as the server makes a tab's tree (each state on first use);
    # Reflex's own hydrate on a whole tree, as Reflex would make it.
    ours, theirs = (states(ChannelState, token, "/c/[slug]", slug="general", whole_tree=whole)
                    for whole in (False, True))
    if case == "reloaded tab":  # the tab's state is still held: a browser reload
        for page in (ours, theirs):
            await load(page)
    hashes = {"reconnect": None, "older build": compiled_hashes(**{ChannelState.get_full_name(): "0" * 16}),
              "forged hashes": [*compiled_hashes()[:-1], ["not", "a", "hash"]]}.get(case, compiled_hashes())
    storage = {f"{SessionState.get_full_name()}.token{FIELD_MARKER}": token}
    mine = await hydrate(ours, hashes=hashes, vars=storage)
    reflex = await hydrate(theirs, reflex_own=True, hashes=hashes, vars=storage)
    assert sent(mine) == sent(reflex)
    assert mine.queued == reflex.queued
    if case == "new tab":
        # A new tab has made only the states its page uses: a third of the
        # tree at most.
        made, whole = tree(ours._get_root_state()), tree(theirs._get_root_state())
        assert len(made) * 3 <= len(whole)


def tree(state: Any) -> list[Any]:
    return [state, *(s for sub in state.substates.values() for s in tree(sub))]


def test_a_state_the_hydrate_leaves_out_has_no_computed_var_that_reads_another_state() -> None:
    # Left out (and not even made) while at its defaults: its computed vars
    # read only its own vars, so they are at the browser's defaults too.
    from kyoso.states.questions import QuestionsState
    from kyoso.states.search import SearchState

    assert all(reflex_page_load._computed_from_itself(cls) for cls in (SearchState, QuestionsState))

    def state(cache: bool, reads: str) -> type:
        var = type("Var", (), {"_cache": cache, "_backend": False,
                               "_deps": lambda self, objclass: {reads: {"x"}}})()
        return type("Fake", (), {"computed_vars": {"v": var}, "get_full_name": classmethod(lambda cls: "mine")})

    assert reflex_page_load._computed_from_itself(state(True, "mine"))
    assert not reflex_page_load._computed_from_itself(state(True, "another"))  # e.g. the member's name
    assert not reflex_page_load._computed_from_itself(state(False, "mine"))  # recomputed on every delta


def test_a_hydrate_on_a_tree_reflex_loaded_in_part_sends_what_is_there() -> None:
    # With Redis, Reflex's trees hold the states an event loaded: the
    # snapshot leaves a missing one out (it cannot make it), as before.
    from kyoso.states.search import SearchState

    root = State(_reflex_internal_init=True)  # type: ignore[call-arg]
    session_state = root.substates[SessionState.get_name()]
    del session_state.substates[SearchState.get_name()]
    sent_states = reflex_page_load.snapshot(root, frozenset())
    assert SearchState.get_full_name() not in sent_states
    assert ChannelState.get_full_name() in sent_states and len(sent_states) == 30
