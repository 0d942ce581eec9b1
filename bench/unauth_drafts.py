"""How much a client without a session can make the backend hold (issue 14):
one headless client, never logged in, opens a channel page and sends 150
draft events of 400 KB each (``ChannelState.draft_changed`` and
``PollState.set_other_draft``, each with a new key, as an attacker would),
then the backend's resident memory is compared with before. Target: < 1 MB.
The drafts are sent as a browser sends them (Japanese raw in UTF-8); when
the server closes the socket (a message over KYOSO_WS_MAX_BYTES), the client
reconnects and goes on, as an attacker would.

    python -m bench.unauth_drafts                       # starts kyoso itself (production build)
    python -m bench.unauth_drafts --url http://127.0.0.1:3200 --pid <reflex pid>
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import socketio  # noqa: E402
import socketio.packet  # noqa: E402

from bench.load import server  # noqa: E402
from tests.utils.reflex_client import ReflexClient  # noqa: E402

EVENTS = 150
SIZE = 400_000
TARGET_BYTES = 1_000_000


class BrowserJson:
    """JSON as a browser writes it: Japanese raw in UTF-8, so a 400 KB draft
    is a 400 KB websocket message (python-socketio would escape it to 800 KB)."""

    loads = staticmethod(json.loads)

    @staticmethod
    def dumps(obj: object, **kwargs: object) -> str:
        return json.dumps(obj, ensure_ascii=False, **kwargs)  # type: ignore[arg-type]


def rss(pid: int | None, port: int | None) -> int:
    return sum(r for _, _, r in server.backend_memory(pid, port))


async def attack(url: str, pid: int | None, port: int | None, events: int, size: int,
                 handlers: str = "both", escaped: bool = False) -> tuple[int, int]:
    from kyoso.states.channel import ChannelState
    from kyoso.states.polls import PollState

    if not escaped:
        socketio.packet.Packet.json = BrowserJson  # python-socketio's JSON, for this process
    client = ReflexClient(url)  # no session token
    await client.connect("/c/zatsudan")
    draft = f"{ChannelState.get_full_name()}.draft_changed"
    other = f"{PollState.get_full_name()}.set_other_draft"
    # Warm up the handlers' code paths with small events first.
    for i in range(5):
        await client.fire(draft, {"target": f"warm-{i}", "text": "x"})
        await client.fire(other, {"poll_id": 900_000 + i, "text": "x"})
    await asyncio.sleep(2)
    before = rss(pid, port)
    refused = 0
    for i in range(events):
        text = chr(0x3042 + i % 50) * (size // 3) + "@" * (size - size // 3 * 3)  # 400 KB of UTF-8
        if not client.sio.connected:
            # The server closed the socket (the websocket message cap, or,
            # before it, the old code's replies): an attacker reconnects.
            # The same tab: its token again, so its state on the server is
            # the one it had (a new token would cost a page view each).
            refused += 1
            token, client = client.client_token, ReflexClient(url)
            client.client_token = token
            await client.connect("/c/zatsudan")
        try:
            if handlers == "other" or (handlers == "both" and i % 2):
                await client.fire(other, {"poll_id": i, "text": text})
            else:
                await client.fire(draft, {"target": f"t{i}", "text": text})
        except socketio.exceptions.SocketIOError:
            pass
    await asyncio.sleep(3)
    after = rss(pid, port)
    if not client.sio.connected:
        refused += 1
    else:
        await client.close()
    print(f"the server closed the socket on {refused} of {events} events")
    return before, after


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.unauth_drafts")
    p.add_argument("--url", default=None)
    p.add_argument("--pid", type=int, default=None, help="the backend's root process (with --url)")
    p.add_argument("--events", type=int, default=EVENTS)
    p.add_argument("--size", type=int, default=SIZE)
    p.add_argument("--handlers", choices=("both", "draft", "other"), default="both",
                   help="draft: ChannelState.draft_changed only, other: PollState.set_other_draft only")
    p.add_argument("--escaped", action="store_true",
                   help="send Japanese as \\uXXXX (python-socketio's default): 800 KB on the wire")
    p.add_argument("--workdir", default="/tmp/kyoso-bench-drafts")
    args = p.parse_args()
    app = None
    url, pid, port = args.url, args.pid, None
    if url is None:
        workdir = Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        app = server.start_kyoso(f"sqlite:///{workdir / 'kyoso.db'}", workdir)
        url, pid = app.url, app.pid
    elif pid is None:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
    try:
        before, after = asyncio.run(attack(url, pid, port, args.events, args.size, args.handlers,
                                            args.escaped))
    finally:
        if app is not None:
            app.stop()
    grown = after - before
    print(f"{args.events} unauthenticated draft events of {args.size // 1000} KB: backend RSS "
          f"{before / 1e6:.1f} MB -> {after / 1e6:.1f} MB, grew {grown / 1e6:.2f} MB "
          f"(target < {TARGET_BYTES / 1e6:.0f} MB)")
    return 0 if grown < TARGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
