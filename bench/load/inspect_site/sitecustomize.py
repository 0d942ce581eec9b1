"""A window into a running kyoso worker, for the load tool (bench only).

The load tool puts this directory first on the app's ``PYTHONPATH`` and sets
``KYOSO_BENCH_INSPECT=<dir>``; Python imports ``sitecustomize`` at start-up in
every process of the app. Nothing happens without that variable. In each
process (and in each worker gunicorn forks from its ``--preload`` master) a
daemon thread waits for a request file ``<dir>/inspect-<pid>.req`` (JSON) and
answers in ``<dir>/inspect-<pid>.json``:

* Reflex's in-memory state manager: client states held, tokens with an
  expiry, state locks, the expiry (``redis_token_expiration``, s);
* the socket.io/engine.io side: sockets, sids in the namespace, the number
  of rooms, the size of the rooms asked for (``rooms``: names);
* kyoso's hub: clients with subscription groups, socket owners, the number of
  (client, topic) subscriptions held;
* optionally ``state_bytes``: k — the deep size of the last k client states;
  ``gc``: a full collection first (kyoso runs them on a 10-minute
  clock), with the objects it freed; ``types``: the most numerous types among
  the GC-tracked objects; ``trim``: glibc ``malloc_trim(0)`` (memory Python
  freed but the allocator kept).

Reading dicts from another thread is safe under the GIL; iterations copy
first and retry if a dict changed size meanwhile. Not part of kyoso: kyoso's
code is unchanged, this only reads it.
"""

from __future__ import annotations

import os
import threading

_DIR = os.environ.get("KYOSO_BENCH_INSPECT")
_TRACE_BASE = None  # a tracemalloc snapshot to compare later peeks with


def _copy(fn, tries=5):  # type: ignore[no-untyped-def]
    for _ in range(tries):
        try:
            return fn()
        except RuntimeError:  # dictionary changed size during iteration
            continue
    return fn()


def _rss() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _answer(req: dict) -> dict:  # type: ignore[type-arg]
    import gc
    import sys
    import time

    out: dict = {"pid": os.getpid(), "rss_before": _rss(), "t": time.time()}  # type: ignore[type-arg]
    mod = sys.modules.get("kyoso.kyoso")
    app = getattr(mod, "app", None)
    out["app_loaded"] = app is not None
    if req.get("gc"):
        t = time.perf_counter()
        out["gc_freed"] = gc.collect()
        out["gc_seconds"] = round(time.perf_counter() - t, 3)
        out["rss_after_gc"] = _rss()
    if req.get("trim"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            out["rss_after_trim"] = _rss()
        except OSError as exc:
            out["trim_error"] = str(exc)
    if app is not None:
        sm = getattr(app, "_state_manager", None)
        if sm is not None:
            out["state_manager"] = type(sm).__name__
            for name in ("states", "_token_expires_at", "_states_locks"):
                value = getattr(sm, name, None)
                if value is not None:
                    out[f"sm{name if name.startswith('_') else '_' + name}"] = len(value)
            out["token_expiration_s"] = getattr(sm, "token_expiration", None)
        ns = getattr(app, "_event_namespace", None)
        tm = getattr(ns, "_token_manager", None)
        if tm is not None:
            out["token_to_sid"] = len(getattr(tm, "token_to_sid", {}) or {})
            out["sid_to_token"] = len(getattr(tm, "sid_to_token", {}) or {})
        sio = getattr(app, "sio", None)
        if sio is not None:
            eio = getattr(sio, "eio", None)
            out["eio_sockets"] = len(getattr(eio, "sockets", {}) or {})
            manager = getattr(sio, "manager", None)
            rooms = _copy(lambda: dict(getattr(manager, "rooms", {}).get("/_event", {}) or {}))
            out["rooms"] = len(rooms)
            # socket.io puts every sid in a room named after itself and in None.
            out["sids_in_namespace"] = len(rooms.get(None, {}) or {})
            out["room_sizes"] = {name: len(rooms.get(name, {}) or {}) for name in req.get("rooms", [])}
            out["in_rooms_total"] = sum(len(v) for k, v in _copy(lambda: list(rooms.items()))
                                        if isinstance(k, str) and ":" in k)
    hub_mod = sys.modules.get("kyoso.realtime.hub")
    hub = getattr(hub_mod, "hub", None)
    if hub is not None:
        groups = _copy(lambda: dict(hub._groups))  # noqa: SLF001
        out["hub_clients"] = len(groups)
        out["hub_owners"] = len(hub._owners)  # noqa: SLF001
        out["hub_subscriptions"] = _copy(lambda: sum(len(t) for g in groups.values()
                                                     for t in list(g.values())))
        wanted = set(req.get("rooms", []))
        out["hub_holding"] = {name: _copy(lambda n=name: sum(
            1 for g in groups.values() if any(n in t for t in list(g.values())))) for name in wanted}
    if req.get("state_bytes") and app is not None:
        try:
            out.update(_state_bytes(app, int(req["state_bytes"])))
        except Exception as exc:  # noqa: BLE001 - the other figures still count
            out["state_bytes_error"] = f"{type(exc).__name__}: {exc}"
    if req.get("types"):
        from collections import Counter

        counts = Counter(type(o).__name__ for o in gc.get_objects())
        out["gc_tracked"] = sum(counts.values())
        out["gc_frozen"] = gc.get_freeze_count()
        out["types"] = counts.most_common(int(req.get("types") or 15))
    import tracemalloc

    if tracemalloc.is_tracing():
        # PYTHONTRACEMALLOC=N in the app's environment: where the worker's
        # memory was allocated, N frames deep, largest first, at each peek;
        # after a peek with ``tracemalloc_base``, what grew since that one.
        global _TRACE_BASE
        snap = tracemalloc.take_snapshot()
        if req.get("tracemalloc_base"):
            _TRACE_BASE = snap
        elif _TRACE_BASE is not None:
            diff = snap.compare_to(_TRACE_BASE, "traceback")
            out["tracemalloc_total"] = sum(s.size_diff for s in diff)
            out["tracemalloc_top"] = [[s.size_diff, s.count_diff, [str(f) for f in s.traceback]]
                                      for s in diff[:60]]
        else:
            stats = snap.statistics("lineno")
            out["tracemalloc_total"] = sum(s.size for s in stats)
            out["tracemalloc_top"] = [[s.size, s.count, [str(f) for f in s.traceback]] for s in stats[:40]]
    out["rss"] = _rss()
    return out


_SKIP_MODULES = ("sqlalchemy", "asyncio", "socketio", "engineio", "uvicorn", "starlette", "reflex.app")


def _deep_size(obj, seen, depth=0):  # type: ignore[no-untyped-def]
    """sys.getsizeof of obj and what it refers to (containers, instance
    dicts and slots), each object once per ``seen``; classes, modules,
    functions and objects of the server's machinery are not followed."""
    import sys
    import types

    if id(obj) in seen or depth > 40:
        return 0
    seen.add(id(obj))
    if isinstance(obj, (type, types.ModuleType, types.FunctionType, types.MethodType,
                        types.BuiltinFunctionType, types.CodeType)):
        return 0
    mod = type(obj).__module__ or ""
    if mod.startswith(_SKIP_MODULES):
        return 0
    size = sys.getsizeof(obj, 0)
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            size += _deep_size(k, seen, depth + 1) + _deep_size(v, seen, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in list(obj):
            size += _deep_size(v, seen, depth + 1)
    else:
        d = getattr(obj, "__dict__", None)
        if isinstance(d, dict):
            size += _deep_size(d, seen, depth + 1)
        for slot in getattr(type(obj), "__slots__", ()) or ():
            if isinstance(slot, str) and hasattr(obj, slot):
                size += _deep_size(getattr(obj, slot), seen, depth + 1)
    return size


def _state_bytes(app, k):  # type: ignore[no-untyped-def]
    """The memory of ``k`` client states (Reflex's in-memory manager): each
    alone (what it reaches, shared objects included) and all together
    (shared objects once), per state."""
    sm = getattr(app, "_state_manager", None)
    states = list(getattr(sm, "states", {}).values())[-k:]
    if not states:
        return {}
    alone = [_deep_size(st, set()) for st in states]
    together = _deep_size(states, set())

    def made(st):  # type: ignore[no-untyped-def]
        return [st.get_name()] + [n for sub in list(st.substates.values()) for n in made(sub)]

    names = [made(st) for st in states]

    def walk(st):  # type: ignore[no-untyped-def]
        yield st
        for sub in list(st.substates.values()):
            yield from walk(sub)

    # Each state's own part: its values (what other states share counted
    # once, by the first), its instance, its bookkeeping sets and dict.
    import sys

    seen = {id(s) for st in states for s in walk(st)}
    per: dict = {}  # type: ignore[type-arg]
    per_var: dict = {}  # type: ignore[type-arg]
    seen_vars = set(seen)
    for st in states:
        for s in walk(st):
            own = (sys.getsizeof(s) + sys.getsizeof(s.dirty_vars) + sys.getsizeof(s.dirty_substates)
                   + sys.getsizeof(s.substates) + _deep_size(vars(s), seen))
            key = s.get_name().rsplit("____", 1)[-1]
            per[key] = per.get(key, 0) + own
            for var, value in list(vars(s).items()):  # the largest values, by state.var
                vk = f"{key}.{var}"
                per_var[vk] = per_var.get(vk, 0) + _deep_size(value, seen_vars)
    return {"state_sample": len(states), "state_bytes_alone_avg": sum(alone) // len(states),
            "state_bytes_together_avg": together // len(states),
            "state_bytes_by_state": {k: v // len(states) for k, v in sorted(per.items(), key=lambda kv: -kv[1])},
            "state_bytes_by_var": {k: v // len(states) for k, v in sorted(per_var.items(), key=lambda kv: -kv[1])[:12]},
            "states_made_avg": sum(map(len, names)) / len(states),
            "states_made_last": [n.rsplit("____", 1)[-1] for n in names[-1]]}


def _serve() -> None:
    import json
    import time

    pid = os.getpid()
    req_path = os.path.join(_DIR, f"inspect-{pid}.req")  # type: ignore[arg-type]
    out_path = os.path.join(_DIR, f"inspect-{pid}.json")  # type: ignore[arg-type]
    while os.getpid() == pid:
        if os.path.exists(req_path):
            try:
                with open(req_path) as f:
                    req = json.loads(f.read() or "{}")
            except (OSError, ValueError):
                req = {}
            try:
                answer = _answer(req)
            except Exception as exc:  # noqa: BLE001 - say what failed, keep serving
                answer = {"pid": pid, "error": f"{type(exc).__name__}: {exc}"}
            try:
                os.unlink(req_path)
            except OSError:
                pass
            tmp = out_path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(answer, f, default=str)
            os.replace(tmp, out_path)
        time.sleep(0.2)


def _start() -> None:
    threading.Thread(target=_serve, name="kyoso-bench-inspect", daemon=True).start()


if _DIR:
    os.makedirs(_DIR, exist_ok=True)
    _start()
    os.register_at_fork(after_in_child=_start)
