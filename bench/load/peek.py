"""Asking a running worker what it holds (bench/load/inspect_site/sitecustomize.py).

``start_kyoso(..., inspect_dir=…)`` starts the app with that directory on its
``PYTHONPATH``; ``peek(dir, pid, rooms=[…], gc=True)`` then returns the
worker's answer as a dict (None if it does not answer in time).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

SITE_DIR = Path(__file__).resolve().parent / "inspect_site"


def app_env(inspect_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """The app's environment with the inspector on its path."""
    inspect_dir.mkdir(parents=True, exist_ok=True)
    out = dict(env)
    out["KYOSO_BENCH_INSPECT"] = str(inspect_dir)
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE_DIR), env.get("PYTHONPATH", "")) if p)
    return out


def peek(inspect_dir: Path, pid: int, timeout: float = 30.0, **request: Any) -> dict[str, Any] | None:
    req = inspect_dir / f"inspect-{pid}.req"
    ans = inspect_dir / f"inspect-{pid}.json"
    ans.unlink(missing_ok=True)
    tmp = req.with_suffix(".tmp")
    tmp.write_text(json.dumps(request))
    os.replace(tmp, req)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ans.exists():
            try:
                return json.loads(ans.read_text())
            except ValueError:
                pass
        time.sleep(0.05)
    req.unlink(missing_ok=True)
    return None


def summary(answer: dict[str, Any] | None) -> str:
    """One line of what a worker holds."""
    if not answer:
        return "no answer from the worker"
    if "error" in answer:
        return f"error: {answer['error']}"
    parts = [
        f"client states {answer.get('sm_states', '?')} (expiring {answer.get('sm_token_expires_at', '?')}, "
        f"locks {answer.get('sm_states_locks', '?')}, expiry {answer.get('token_expiration_s', '?')} s)",
        f"sockets {answer.get('eio_sockets', '?')}",
        f"tokens {answer.get('token_to_sid', '?')}",
        f"hub clients {answer.get('hub_clients', '?')} / subscriptions {answer.get('hub_subscriptions', '?')}",
    ]
    if answer.get("state_sample"):
        parts.append(f"a client state ~{answer['state_bytes_together_avg'] / 1024:.0f} KiB "
                     f"(deep size, {answer['state_sample']} sampled, shared objects once; "
                     f"{answer['state_bytes_alone_avg'] / 1024:.0f} KiB each alone)")
    if answer.get("state_bytes_by_state"):
        parts.append("by state " + ", ".join(f"{k} {v / 1024:.1f}" for k, v in answer["state_bytes_by_state"].items())
                     + " KiB")
    if answer.get("state_bytes_by_var"):
        parts.append("largest values " + ", ".join(f"{k} {v / 1024:.1f}" for k, v in answer["state_bytes_by_var"].items())
                     + " KiB")
    if answer.get("states_made_avg") is not None:
        parts.append(f"{answer['states_made_avg']:.1f} state instances per tab (the last: "
                     + ", ".join(answer.get("states_made_last") or []) + ")")
    if answer.get("room_sizes"):
        parts.append("rooms " + ", ".join(f"{k}={v}" for k, v in answer["room_sizes"].items()))
    return "; ".join(parts)


def traced(answer: dict[str, Any], clients: int, top: int = 40) -> str:
    """Where a worker started with ``PYTHONTRACEMALLOC=N`` holds its memory:
    the largest allocation sites, in KiB per client."""
    lines = [f"{answer['tracemalloc_total'] / 1024 / clients:.1f} KiB per client traced in all"]
    for size, count, frames in answer["tracemalloc_top"][:top]:
        lines.append(f"    {size / 1024 / clients:6.1f} KiB/client {count:>8} blocks  " + " <- ".join(reversed(frames[-4:])))
    return "\n".join(lines)
