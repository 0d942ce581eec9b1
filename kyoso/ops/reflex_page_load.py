"""A page load in two Reflex events, and a hydrate that reads only what a tab
has (issue 20: 2,000 people opening the 説明会 link in the same ten seconds).

Reflex 0.10.1 runs four events per page load: ``hydrate_and_load`` (the
state snapshot), ``on_load_internal``, the page's on_load, then
``set_is_hydrated``; each is a task, a state lock, a delta and a socket send
(~0.3 ms apiece in an arrival storm, bench/README.md). And the snapshot
reads and serialises all 31 of kyoso's state classes (207 vars) for every
new tab, only to find that a fresh tab has nothing to send, and so stores
every default in every tab.

Here both built-in handlers are replaced in place (``install``) by versions
that keep Reflex's behaviour as its tests describe it:

* ``on_load_internal`` runs the page's on_load handler inside itself,
  through Reflex's own ``process_event``, and sends ``is_hydrated`` in the
  load's delta: two events and two deltas per page load (a page whose
  on_load is not one plain state handler keeps Reflex's chain).
* ``hydrate_and_load`` is Reflex's, but its snapshot leaves out a state the
  tab has never read or written (no value stored on it), that has no
  computed var, and whose defaults the browser holds already (its hash of the
  compiled ``initialState`` matches the backend's): Reflex's diff would drop
  all of such a state's vars anyway. The client-storage reset visits only the
  states that have client storage.

A newer Reflex may change either handler: ``install`` refuses to start when
the handlers are not the ones this was written against (tested).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from importlib.metadata import version
from time import perf_counter
from typing import Any

from reflex.state import (
    OnLoadInternalState,
    State,
    _apply_client_storage_vars,
    _diff_against_initial_state,
    _get_client_storage_delta,
    _initial_snapshot_cache,
    _load_events_for_page,
    _resolve_delta,
    all_base_state_classes,
)
from reflex_base import constants
from reflex_base.constants.state import FIELD_MARKER
from reflex_base.event import Event
from reflex_base.event.context import EventContext
from reflex_base.event.processor.base_state_processor import chain_updates, process_event
from reflex_base.registry import RegistrationContext
from reflex_base.utils.format import format_event_handler

from kyoso.ops import logsetup, metrics, reflex_state_tree
from kyoso.ops.reflex_state_tree import is_made, makes_on_use

# --------------------------------------------------------------------------
# on_load_internal: the page's on_load inside it
# --------------------------------------------------------------------------


def _inline_load(loads: list[Event]) -> Any:
    """The one registered state handler a page loads with, when it can run
    inline: not a background task (it must not hold the lock), not a
    generator (its yields would carry ``is_hydrated`` before its end), not a
    browser-side event (``rx.redirect``). Otherwise, and for a page with
    several on_load handlers (each ran on its own even when one failed),
    None: Reflex's chain. Every kyoso page has one plain handler."""
    if len(loads) != 1:
        return None
    handler = RegistrationContext.get().event_handlers.get(loads[0].name)
    if handler is None or handler.handler.is_background:
        return None
    fn = handler.handler.fn
    if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
        return None
    return handler


async def on_load_internal(self: Any) -> Any:
    """Reflex's ``OnLoadInternalState.on_load_internal``, with the page's
    on_load handler run inside it instead of queued as an event of its own.

    What Reflex's chain promised still holds: the load runs through Reflex's
    ``process_event`` under this event's lock, its delta goes out before the
    events it returns (a redirect), a navigation still supersedes this event
    and so cancels a stale load, a navigation shows the page waiting
    (``is_hydrated`` false) until its load is done, and the page is hydrated
    even when its load fails. Pages ``_inline_load`` declines keep Reflex's
    chain."""
    loads = Event.from_event_type(
        RegistrationContext.get().app.get_load_events(self.rx_router_url.path))
    handler = _inline_load(loads)
    if handler is None:
        return _load_events_for_page(self)
    root = self._get_root_state()
    if self.is_hydrated:
        # A navigation: the page waits for its load, as with Reflex's chain
        # (the composer is disabled until the new channel is there).
        self.is_hydrated = False
        await chain_updates(None, handler_name="on_load_internal", root_state=root)
    # The load is still counted and logged under its own name.
    name = metrics.handler_label(loads[0].name)
    name_token = logsetup.event_name.set(name)
    start, ok = perf_counter(), False
    try:
        self.is_hydrated = True  # sent in the load's own delta
        await process_event(handler=handler.handler, payload=loads[0].payload,
                            state=await root.get_state(handler.states[0]), root_state=root)
        ok = True
    except Exception:
        # A failed load still leaves the page hydrated: Reflex's chain ran
        # set_is_hydrated after it. Only the flag is sent: what the load
        # changed before it failed is not (Reflex's processor sends no delta
        # of a failed event, and with Redis the state is not saved), and
        # Reflex's processor reports the error. A superseded load
        # (cancelled: a navigation) sends nothing more.
        ctx = EventContext.get()
        await ctx.emit_delta({root.get_full_name(): {constants.CompileVars.IS_HYDRATED + FIELD_MARKER: True}})
        raise
    finally:
        metrics.observe_event(name, perf_counter() - start, ok)
        logsetup.event_name.reset(name_token)
    return None


# --------------------------------------------------------------------------
# hydrate_and_load: a snapshot of what the tab has
# --------------------------------------------------------------------------


@functools.cache
def _client_storage_fields(cls: type) -> tuple[str, ...]:
    """The client-storage vars ``cls`` itself declares (Reflex resets these
    at every hydrate, so a browser that cleared its storage is believed)."""
    fields = cls.get_fields()  # type: ignore[attr-defined]
    return tuple(name for name in cls.base_vars if cls._is_client_storage(fields[name]))  # type: ignore[attr-defined]


def _tree(state: Any) -> Iterator[Any]:
    yield state
    for substate in state.substates.values():
        yield from _tree(substate)


def reset_client_storage(root: Any) -> None:
    """``BaseState._reset_client_storage`` without visiting the states that
    have no client storage."""
    for state in _tree(root):
        for name in _client_storage_fields(type(state)):
            setattr(state, name, type(state).get_fields()[name].default_value())


def _own_vars(state: Any) -> dict[str, Any]:
    """One state's part of ``BaseState.dict()`` (Reflex 0.10.1's, without the recursion)."""
    state._mark_dirty_computed_vars()
    values = {name: state.get_value(name) for name in state.base_vars}
    values.update((name, state.get_value(name)) for name, var in state.computed_vars.items()
                  if not var._backend)
    return {name + FIELD_MARKER: values[name] for name in sorted(values)}


async def _browser_defaults(root_cls: type, hashes: list[str] | None) -> frozenset[str]:
    """The states whose compiled defaults the browser holds (its hash of the
    ``initialState`` it was built with matches the backend's defaults). The
    same for every tab of one build: worked out once per build."""
    if not hashes:
        return frozenset()
    cached = _initial_snapshot_cache.get(root_cls)  # type: ignore[arg-type]
    if cached is None or cached.n_state_classes != len(all_base_state_classes):
        # Reflex's diff fills its cache of the backend's defaults on first use.
        await _diff_against_initial_state(root_cls, {}, hashes)
        cached = _initial_snapshot_cache.get(root_cls)  # type: ignore[arg-type]
    if (cached is None or len(hashes) != len(cached.hashes) + 1 or hashes[0] != cached.names_digest
            or not all(isinstance(h, str) for h in hashes)):
        return frozenset()
    key = tuple(hashes)
    known = _builds.get(key)
    if known is None or known[0] is not cached:  # Reflex rebuilt its defaults (a reload)
        browser = dict(zip(sorted(cached.hashes), hashes[1:], strict=True))
        known = (cached, frozenset(name for name, digest in cached.hashes.items() if browser.get(name) == digest))
        if len(_builds) > 16:  # a build or two a day; any number of forged ones
            _builds.clear()
        _builds[key] = known
    return known[1]


_builds: dict[tuple[str, ...], tuple[Any, frozenset[str]]] = {}


def snapshot(root: Any, browser_has: frozenset[str]) -> dict[str, dict[str, Any]]:
    """``root.dict()`` less the states the browser has as they are here: never
    read nor written on this tab (not made yet, ``reflex_state_tree``, or
    nothing stored on the instance: Reflex stores a field's value on first
    access), no computed var reading another state, and the browser's
    defaults equal to the backend's. A state not made yet is made only when
    it goes in."""
    out: dict[str, dict[str, Any]] = {}
    _snapshot(root, browser_has, out)
    return out


def _snapshot(state: Any, browser_has: frozenset[str], out: dict[str, dict[str, Any]]) -> None:
    name = state.get_full_name()
    if not (name in browser_has and not vars(state) and _computed_from_itself(type(state))):
        out[name] = _own_vars(state)
    for cls in type(state).get_substates():
        sub = cls.get_name()
        if is_made(state, sub) or (makes_on_use(state) and _goes_in(cls, browser_has)):
            _snapshot(state.substates[sub], browser_has, out)


@functools.lru_cache(maxsize=256)
def _goes_in(cls: type, browser_has: frozenset[str]) -> bool:
    """Whether a state of ``cls`` that was never made, or one below it, goes
    into a snapshot: the browser lacks its defaults, or a computed var of it
    reads another state."""
    return (cls.get_full_name() not in browser_has or not _computed_from_itself(cls)
            or any(_goes_in(sub, browser_has) for sub in cls.get_substates()))  # type: ignore[attr-defined]


@functools.cache
def _computed_from_itself(cls: type) -> bool:
    """Whether every computed var the browser gets of ``cls`` is cached and
    reads only ``cls``'s own vars: while those are at their defaults, so are
    they (the browser's defaults were computed from a fresh state)."""
    own = cls.get_full_name()  # type: ignore[attr-defined]
    return all(var._cache and set(var._deps(objclass=cls)) <= {own}
               for var in cls.computed_vars.values() if not var._backend)  # type: ignore[attr-defined]


async def hydrate_and_load(self: Any, vars: dict[str, Any] | None = None,  # noqa: A002 - Reflex's name
                           hashes: list[str] | None = None) -> Any:
    """Reflex 0.10.1's ``State.hydrate_and_load``, line for line, but for the
    client-storage reset and the snapshot (the module's docstring)."""
    reset_client_storage(self)
    applied = await _apply_client_storage_vars(self, vars) if vars else []
    self._clean()
    # The snapshot must carry is_hydrated=False: the frontend skips
    # writing client storage for a delta that is not yet hydrated, and
    # the reset defaults above must not be written back to the browser.
    self.is_hydrated = False
    ctx = EventContext.get()
    if ctx.emit_delta_impl is not None:
        delta = await _resolve_delta(snapshot(self, await _browser_defaults(type(self), hashes)))
        if hashes:
            delta = await _diff_against_initial_state(type(self), delta, hashes)
        # Include the guard and values changed while resolving the snapshot.
        for state_name, changes in (await self._get_resolved_delta()).items():
            delta.setdefault(state_name, {}).update(changes)
        await ctx.emit_delta(delta=delta)
        # Follow-up corrections must be allowed to write browser storage.
        self.dirty_vars.discard(constants.CompileVars.IS_HYDRATED)
        if applied:
            delta = await _get_client_storage_delta(self, applied)
            await ctx.emit_delta(delta=delta)
    if not RegistrationContext.get().app.get_load_events(self.rx_router_url.path):
        self.is_hydrated = True
        return None
    return [OnLoadInternalState.on_load_internal]


# --------------------------------------------------------------------------


REFLEX_VERSION = "0.10.1"  # pinned in pyproject.toml
_REPLACED = (
    (OnLoadInternalState, "on_load_internal", on_load_internal),
    (State, "hydrate_and_load", hydrate_and_load),
)


def install() -> None:
    """Put both handlers in place (idempotent). Reflex holds each built-in
    handler twice, on its state class and, as another ``EventHandler``, in
    the registry its event processor looks events up in: both get the new
    function, keeping Reflex's own markers (``supersedes``)."""
    for package in ("reflex", "reflex-base"):  # the handlers, and the processor that runs them
        if (found := version(package)) != REFLEX_VERSION:
            raise RuntimeError(f"kyoso's page loads replace two handlers of Reflex {REFLEX_VERSION}, not "
                               f"{package} {found}: compare them with the new Reflex's "
                               "(kyoso/ops/reflex_page_load.py, kyoso/ops/reflex_state_tree.py)")
    reflex_state_tree.install()
    for cls, name, replacement in _REPLACED:
        original = cls.event_handlers[name]
        registered = RegistrationContext.get().event_handlers[format_event_handler(original)]
        for handler in (original, registered.handler):
            if getattr(handler.fn, "kyoso_replaced", False):
                continue
            fn = functools.wraps(handler.fn)(replacement)
            fn.kyoso_replaced = True  # type: ignore[attr-defined]
            object.__setattr__(handler, "fn", fn)
            handler.__dict__.pop("_is_coroutine_function", None)
