"""What Reflex's hydrate costs per tab, in one idle process (issue 20).

Every new tab gets a root state with all of kyoso's state classes; its first
event (``hydrate_and_load``) builds the whole tree's snapshot, diffs it
against the compiled defaults and resets client storage. This times those
steps on a fresh tree, and says how many states and vars a tab holds; then
the same for kyoso's hydrate (``kyoso/ops/reflex_page_load.py``: only the
states the tab has), with the memory a tab's tree holds after each.

    python -m bench.hydrate [--n 300]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _count(cls: type) -> tuple[int, int]:
    states, variables = 1, len(cls.base_vars) + len(cls.computed_vars)  # type: ignore[attr-defined]
    for sub in cls.get_substates():  # type: ignore[attr-defined]
        s, v = _count(sub)
        states, variables = states + s, variables + v
    return states, variables


async def _measure(n: int) -> None:
    from reflex.state import State, _diff_against_initial_state, _resolve_delta, state_snapshot_hashes

    initial = await _resolve_delta(State(_reflex_internal_init=True).dict(initial=True))
    hashes = state_snapshot_hashes(initial)
    started = time.process_time()
    for _ in range(n):
        state = State(_reflex_internal_init=True)
    created = time.process_time()
    for _ in range(n):
        snapshot = await _resolve_delta(state.dict())
    dumped = time.process_time()
    for _ in range(n):
        diff = await _diff_against_initial_state(State, snapshot, hashes)
    diffed = time.process_time()
    for _ in range(n):
        state._reset_client_storage()
    reset = time.process_time()
    states, variables = _count(State)
    print(f"a tab's state tree: {states} states, {variables} vars; "
          f"full snapshot {len(json.dumps(snapshot, default=str)):,} bytes, after the diff {len(diff)} states")
    print(f"per tab (ms, CPU, mean of {n}): create {1e3 * (created - started) / n:.3f}, "
          f"dict {1e3 * (dumped - created) / n:.3f}, diff {1e3 * (diffed - dumped) / n:.3f}, "
          f"client-storage reset {1e3 * (reset - diffed) / n:.3f}")
    await _compare(n, hashes)


async def _tabs(n: int, hydrate: Any, hashes: list[str]) -> tuple[float, float]:
    """``hydrate`` (the snapshot, the diff, the client-storage reset) on n new
    tabs: CPU ms per tab, and KiB each tab's tree holds after it."""
    from reflex.state import State

    tabs = [State(_reflex_internal_init=True) for _ in range(n)]
    started = time.process_time()
    for tab in tabs:
        await hydrate(tab, hashes)
    cpu = time.process_time() - started
    tabs = [State(_reflex_internal_init=True) for _ in range(n)]  # again, memory traced
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for tab in tabs:
        await hydrate(tab, hashes)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return 1e3 * cpu / n, held / n / 1024


async def _compare(n: int, hashes: list[str]) -> None:
    from reflex.state import State, _diff_against_initial_state, _resolve_delta

    from kyoso.ops import reflex_page_load as lean

    async def reflex_own(tab: Any, hashes: list[str]) -> None:
        tab._reset_client_storage()
        await _diff_against_initial_state(State, await _resolve_delta(tab.dict()), hashes)

    async def kyoso(tab: Any, hashes: list[str]) -> None:
        lean.reset_client_storage(tab)
        has = await lean._browser_defaults(State, hashes)
        await _diff_against_initial_state(State, await _resolve_delta(lean.snapshot(tab, has)), hashes)

    rows = []
    for _ in range(3):  # alternating: the machine's speed moves
        for name, hydrate in (("Reflex's", reflex_own), ("kyoso's", kyoso)):
            rows.append((name, *await _tabs(n, hydrate, hashes)))
    for name, cpu, kib in rows:
        print(f"{name:9} hydrate of a new tab: {cpu:.3f} ms CPU, the tab's tree then holds {kib:.1f} KiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kyoso-hydrate-") as tmp:
        os.environ.setdefault("KYOSO_DATABASE_URL", f"sqlite:///{tmp}/kyoso.db")
        import kyoso.kyoso  # noqa: F401 - every state registered

        asyncio.run(_measure(args.n))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
