"""What a browser shows: Reflex deltas merged into a per-client view, and
kyoso's live patches applied the way ``assets/kyoso_live.js`` applies them.

A port of ``applyOp`` (same ops, same rev guards, same conditions), so that a
load client's final view can be checked like a page: "every client shows the
exact final tally". Keep it in step with kyoso_live.js.
"""

from __future__ import annotations

from typing import Any

SUFFIX = "_rx_state_"
View = dict[str, dict[str, Any]]


def _get_path(obj: Any, path: list[str]) -> Any:
    cur = obj
    for part in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def read_var(view: View, state: str, path: str) -> Any:
    head, *rest = path.split(".")
    value = view.get(state, {}).get(head + SUFFIX)
    return _get_path(value, rest) if rest else value


def _holds(view: View, state: str, cond: Any, current_path: str) -> bool:
    if not cond:
        return True
    conds = cond if isinstance(cond, list) else [cond]
    for c in conds:
        if "path" in c:
            if current_path != c["path"]:
                return False
        elif read_var(view, c.get("state") or state, c["var"]) != c.get("eq"):
            return False
    return True


def _newer(item: dict, old: dict | None) -> bool:
    if not old:
        return True
    if item.get("rev") is None or old.get("rev") is None:
        return True
    return item["rev"] >= old["rev"]


def _find(items: list, ident: Any) -> int:
    for i, x in enumerate(items):
        if isinstance(x, dict) and x.get("id") == ident:
            return i
    return -1


def apply_op(view: View, state: str, op: dict, me: Any, current_path: str) -> None:
    target = op.get("state") or state
    if op.get("when") and not _holds(view, target, op["when"], current_path):
        return
    if op.get("unless") and _holds(view, target, op["unless"], current_path):
        return
    if "unless_me" in op and op["unless_me"] == me:
        return
    key = op["var"] + SUFFIX
    vars_ = view.setdefault(target, {})
    current = vars_.get(key)
    kind = op.get("op")
    if kind == "upsert":
        items = current if isinstance(current, list) else []
        i = _find(items, op["item"]["id"])
        if i >= 0:
            if not _newer(op["item"], items[i]):
                return
            nxt = list(items)
            nxt[i] = op["item"]
        elif op.get("insert"):
            nxt = sorted([*items, op["item"]], key=lambda x: x["id"])
        else:
            return
    elif kind == "replace":
        if not current or current.get("id") != op["item"]["id"] or not _newer(op["item"], current):
            return
        nxt = op["item"]
    elif kind == "patch":
        rev = op.get("rev")

        def stale(x: dict) -> bool:
            return rev is not None and x.get("rev") is not None and rev < x["rev"]

        def merged(x: dict) -> dict:
            return {**x, **op["fields"], **({"rev": rev} if rev is not None else {})}

        if isinstance(current, list):
            i = _find(current, op["id"])
            if i < 0 or stale(current[i]):
                return
            nxt = list(current)
            nxt[i] = merged(current[i])
        else:
            if not current or current.get("id") != op["id"] or stale(current):
                return
            nxt = merged(current)
    elif kind == "remove":
        items = current if isinstance(current, list) else []
        nxt = [x for x in items if not (isinstance(x, dict) and x.get("id") == op["id"])]
        if len(nxt) == len(items):
            return
    elif kind == "put":
        old = (current or {}).get(op["key"])
        if old and op.get("value") and not _newer(op["value"], old):
            return
        nxt = {**(current or {}), op["key"]: op.get("value")}
    elif kind == "incr":
        items = current if isinstance(current, list) else []
        i = _find(items, op["id"])
        if i < 0:
            return
        nxt = list(items)
        nxt[i] = {**items[i], op["field"]: (items[i].get(op["field"]) or 0) + (op.get("by") or 1)}
    elif kind == "set":
        if op.get("rev") is not None and op.get("rev_var"):
            have = read_var(view, target, op["rev_var"])
            if isinstance(have, (int, float)) and not isinstance(have, bool) and have > op["rev"]:
                return
        nxt = op.get("value")
    else:
        return
    vars_[key] = nxt


def apply_update(view: View, update: dict, live_states: frozenset[str], me_state: str | None,
                 current_path: str) -> bool:
    """Merge one Reflex update into the view. Returns True when it carried a live patch."""
    delta = update.get("delta") or {}
    live = False
    for state, values in delta.items():
        patch = values.get("live_patch" + SUFFIX) if state in live_states else None
        if patch is not None:
            live = True
            ops = patch.get("ops") or []
            me = None
            if me_state is not None:
                me_val = view.get(me_state, {}).get("me" + SUFFIX)
                me = me_val.get("id") if isinstance(me_val, dict) else None
            view.setdefault(state, {})["live_patch" + SUFFIX] = patch
            for op in ops:
                try:
                    apply_op(view, state, op, me, current_path)
                except (KeyError, TypeError, AttributeError):
                    pass
            others = {k: v for k, v in values.items() if k != "live_patch" + SUFFIX}
            if others:
                view[state].update(others)
        else:
            view.setdefault(state, {}).update(values)
    return live
