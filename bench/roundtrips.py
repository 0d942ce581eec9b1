"""Database round trips per hot path, per engine (issue 19).

Runs the real page states' handlers (no browser, no server: the states as
``tests/states`` drives them) on a fresh database and counts, per handler
call, what goes to the database: statements, commits and rollbacks, and pool
checkouts (on PostgreSQL each checkout is also a ``SELECT 1`` ping). On
SQLite nothing crosses a socket, so its counts are calls into the library;
on PostgreSQL each is a round trip that, run inside ``db.off_loop``, lets
the event loop serve other clients while the database answers.

    python -m bench.roundtrips                       # SQLite (a temporary file)
    python -m bench.roundtrips --db postgres         # a throwaway PostgreSQL
    python -m bench.roundtrips --db-url postgresql+psycopg://...  # a server of yours (emptied!)
    python -m bench.roundtrips --calls 200 --profile /tmp/rt-prof [--profile-only open_room]

Each hot path is called ``--calls`` times after one warm-up call; the table
gives the mean per call, the wall time per call and this process's CPU time
per call (the handler, the driver, the fan-out's builds: what a worker
spends; the database server's own CPU is not in it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.pool import Pool  # noqa: E402

from kyoso.ops import pgserver  # noqa: E402
from tests.utils.reflex_state import page_state  # noqa: E402 - the state tests' way to make a page's state

COUNTS: Counter[str] = Counter()
SHOW: list[str] = []  # with --show: the statements of the last call, first line each
PROFILE: dict[str, Any] = {}  # with --profile: {"dir": Path, "only": substring of the hot paths to profile}


def _count(name: str) -> Callable[..., None]:
    def listener(*_args: Any, **_kw: Any) -> None:
        COUNTS[name] += 1

    return listener


def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    COUNTS["statements"] += 1
    SHOW.append(" ".join(statement.split())[:160])


def _listen() -> None:
    event.listen(sa.Engine, "before_cursor_execute", _statement)
    event.listen(sa.Engine, "commit", _count("commits"))
    event.listen(sa.Engine, "rollback", _count("rollbacks"))
    event.listen(Pool, "checkout", _count("checkouts"))


class _Sio:
    """The socket.io server as the hub sees it: rooms joined, emits dropped."""

    def __init__(self) -> None:
        self.manager = self

    def is_connected(self, sid: str, namespace: str) -> bool:
        return True

    def basic_enter_room(self, sid: str, namespace: str, room: str) -> None:
        return None

    def basic_leave_room(self, sid: str, namespace: str, room: str) -> None:
        return None

    async def enter_room(self, sid: str, room: str, namespace: str = "") -> None:
        return None

    async def leave_room(self, sid: str, room: str, namespace: str = "") -> None:
        return None

    async def emit(self, event: str, payload: dict[str, Any], room: str = "", namespace: str = "") -> None:
        return None


def _world(url: str) -> dict[str, Any]:
    """A channel with 30 threads (a poll among them), a live 説明会 with 20
    questions, and the members who use them."""
    from sqlmodel import Session

    from kyoso import db
    from kyoso.services import accounts, briefing_room, messages
    from tests.utils.factories import make_briefing, make_channel, make_poll, make_user, post

    with Session(db.get_engine(url), expire_on_commit=False) as s:
        members = [make_user(s) for _ in range(20)]
        organiser = make_user(s, role="national")
        channel = make_channel(s, slug="rt-room")
        for i in range(30):
            post(s, members[i % 20], channel, f"スレッド{i}：標準化の移行について")
        poll = make_poll(s, organiser, channel)
        target = post(s, members[0], channel, "スタンプを押される投稿")
        from datetime import timedelta

        from kyoso.db import utcnow
        from kyoso.services.timefmt import JST

        briefing = make_briefing(s, organiser, starts=(utcnow() - timedelta(minutes=5)).astimezone(JST))
        questions = [briefing_room.ask(s, members[i], briefing.id or 0, f"質問{i}") for i in range(20)]
        messages.post_message(s, members[1], channel.id or 0, "返信", parent_id=target.id)
        s.commit()
        tokens = [accounts.create_session(s, m) for m in members]
        s.commit()
        return {"tokens": tokens, "slug": channel.slug, "poll": poll.id, "message": target.id,
                "briefing": briefing.id, "questions": [q.id for q in questions]}


async def _measure(name: str, calls: int, make: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    import cProfile

    from kyoso import realtime

    await make(-1)  # warm-up: caches, prepared statements, the pool
    await realtime.drain()
    COUNTS.clear()
    profiler = cProfile.Profile() if PROFILE and PROFILE["only"] in name else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    for i in range(calls):
        SHOW.clear()
        await make(i)
        await realtime.drain()  # the fan-out's own reads are the post's too
    if profiler is not None:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler is not None:
        _report_profile(name, profiler)
    return {k: v / calls for k, v in COUNTS.items()} | {"ms": elapsed * 1000 / calls, "cpu": cpu * 1000 / calls}


def _report_profile(name: str, profiler: Any) -> None:
    """The hot path's own CPU by function (cProfile slows it ~2x: compare shares)."""
    import io
    import pstats

    slug = "".join(ch if ch.isalnum() else "-" for ch in name.split("(")[-1].rstrip(")"))
    path = PROFILE["dir"] / f"{slug}.prof"
    profiler.dump_stats(path)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(PROFILE["top"])
    print(f"## {name}: cProfile, by cumulative time ({path})")
    print(out.getvalue())


async def _run(url: str, calls: int, show: bool) -> list[tuple[str, dict[str, float]]]:
    import kyoso.kyoso  # noqa: F401 - every state and page registered
    from kyoso.realtime import hub
    from kyoso.states.briefings import BriefingState
    from kyoso.states.channel import ChannelState
    from kyoso.states.polls import PollState

    hub.attach(_Sio())
    w = _world(url)
    tok = w["tokens"]
    slug, bid = w["slug"], str(w["briefing"])
    rows: list[tuple[str, dict[str, float]]] = []

    async def channel_load(i: int) -> None:
        await page_state(ChannelState, tok[i % 10 + 1], "/c/[slug]", sid=f"sid-c{i}", slug=slug).open_channel()

    async def room_load(i: int) -> None:
        await page_state(BriefingState, tok[i % 10 + 1], "/briefings/[id]", sid=f"sid-b{i}", id=bid).open_room()

    page = page_state(ChannelState, tok[0], "/c/[slug]", sid="sid-poster", slug=slug)
    await page.open_channel()

    async def post(i: int) -> None:
        await page.post({"body": f"計測の投稿 {i}"})

    stamper = page_state(ChannelState, tok[2], "/c/[slug]", sid="sid-stamper", slug=slug)
    await stamper.open_channel()

    async def stamp(i: int) -> None:
        await stamper.toggle_stamp(w["message"], "👍")

    voters = [page_state(PollState, tok[j], "/c/[slug]", sid=f"sid-v{j}", slug=slug) for j in range(20)]

    async def vote(i: int) -> None:
        await voters[(i + 1) % 20].choose(w["poll"], 0 if i % 2 else 1)

    room = page_state(BriefingState, tok[3], "/briefings/[id]", sid="sid-room", id=bid)
    await room.open_room()

    async def upvote(i: int) -> None:
        await room.upvote(w["questions"][(i + 1) % 20])

    for name, fn in [("channel page load (open_channel)", channel_load),
                     ("説明会 room load (open_room)", room_load),
                     ("post a thread (post)", post), ("stamp (toggle_stamp)", stamp),
                     ("poll vote (choose)", vote), ("question upvote (upvote)", upvote)]:
        rows.append((name, await _measure(name, calls, fn)))
        if show:
            print(f"## {name}: the statements of one call")
            print("\n".join(f"  {line}" for line in SHOW))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--db-url", default="")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--show", action="store_true", help="print the statements of one call of each")
    parser.add_argument("--profile", default="", metavar="PATH",
                        help="cProfile the hot paths whose name contains --profile-only; .prof files in PATH")
    parser.add_argument("--profile-only", default="open_channel")
    parser.add_argument("--profile-top", type=int, default=40)
    args = parser.parse_args()
    if args.profile:
        PROFILE.update(dir=Path(args.profile), only=args.profile_only, top=args.profile_top)
        PROFILE["dir"].mkdir(parents=True, exist_ok=True)
    pg = None
    tmp = tempfile.TemporaryDirectory(prefix="kyoso-rt-")
    if args.db_url:
        url = args.db_url
    elif args.db == "postgres":
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        pg = pgserver.Throwaway(port).start()
        url = pg.url
    else:
        url = f"sqlite:///{tmp.name}/kyoso.db"
    os.environ["KYOSO_DATABASE_URL"] = url
    os.environ.setdefault("KYOSO_FILES_DIR", f"{tmp.name}/files")
    from kyoso import db
    from kyoso.migrate import upgrade
    from kyoso.settings import get_settings

    get_settings.cache_clear()
    try:
        upgrade(url)
        _listen()
        rows = asyncio.run(_run(url, args.calls, args.show))
    finally:
        db.dispose_engines()
        if pg is not None:
            pg.stop()
        tmp.cleanup()
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"# {engine}, mean per call over {args.calls} calls")
    print("| hot path | statements | commits | rollbacks | pool checkouts | wall ms | CPU ms (this process) |")
    print("|---|---|---|---|---|---|---|")
    for name, c in rows:
        print(f"| {name} | {c.get('statements', 0):.1f} | {c.get('commits', 0):.1f} | "
              f"{c.get('rollbacks', 0):.1f} | {c.get('checkouts', 0):.1f} | {c['ms']:.1f} | {c['cpu']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
