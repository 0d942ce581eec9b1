"""Live membership follows rights at once: a revocation makes the sockets
concerned leave their rooms on every worker (two socket.io servers sharing a
real Redis, one hub each, as two gunicorn workers)."""

from __future__ import annotations

import asyncio

from kyoso.realtime import transport
from kyoso.realtime.hub import Hub
from tests.realtime.test_transport import _clients, serving


async def _received(clients: list, hub: Hub, room: str, n: int) -> list[bool]:
    """Emit to ``room`` and say which clients got it."""
    before = [len(got) for _, got in clients]
    await hub.emit(room, {"n": n})
    await asyncio.sleep(0.3)
    return [len(got) > b for (_, got), b in zip(clients, before)]


async def test_a_revocation_reaches_the_sockets_of_every_worker(redis_url: str) -> None:
    managers = [transport.FastRedisManager(redis_url, channel="kyoso-revoke-test") for _ in range(2)]
    async with serving(managers[0]) as (one, url_one), serving(managers[1]) as (two, url_two):
        hubs = [Hub(), Hub()]
        hubs[0].attach(one.sio)
        hubs[1].attach(two.sio)
        # Alice has a tab on each worker (two sessions), Bob one on worker two.
        alice_one, alice_two, bob_two = (await _clients(url_one, 1) + await _clients(url_two, 2))
        clients = [alice_one, alice_two, bob_two]
        a1, (a2, b2) = one.sids[0], two.sids
        hubs[0].own(a1, 7, "alice-session-1")
        hubs[1].own(a2, 7, "alice-session-2")
        hubs[1].own(b2, 8, "bob-session")
        for hub, sid in ((hubs[0], a1), (hubs[1], a2), (hubs[1], b2)):
            await hub.subscribe(sid, "page", {"channel:1", "poll-results:3"})
            await hub.subscribe(sid, "shell", {"user:7" if sid != b2 else "user:8"})
        await asyncio.sleep(0.3)  # both managers listening on Redis
        assert await _received(clients, hubs[0], "channel:1", 1) == [True, True, True]

        # A withdrawn vote, decided on worker one: only Alice's results room goes, on both workers.
        hubs[0].checker = hubs[1].checker = lambda user, topics: {t for t in topics if t != "poll-results:3" or user != 7}
        await hubs[0].revoke({"user": 7, "topic": "poll-results:3", "all": False})
        await asyncio.sleep(0.3)
        assert await _received(clients, hubs[1], "poll-results:3", 2) == [False, False, True]
        assert await _received(clients, hubs[1], "channel:1", 3) == [True, True, True]

        # Logout of one session (on worker two): only that tab leaves its rooms.
        await hubs[1].revoke({"user": 7, "token": "alice-session-1", "all": True})
        await asyncio.sleep(0.3)
        assert await _received(clients, hubs[0], "channel:1", 4) == [False, True, True]
        assert await _received(clients, hubs[0], "user:7", 5) == [False, True, False]

        # Suspension / log out everywhere (on worker one): every tab of Alice, Bob untouched.
        await hubs[0].revoke({"user": 7, "all": True})
        await asyncio.sleep(0.3)
        assert await _received(clients, hubs[1], "channel:1", 6) == [False, False, True]
        assert await _received(clients, hubs[1], "user:7", 7) == [False, False, False]
        assert a2 not in hubs[1]._groups and a1 not in hubs[0]._groups

        # A poll hidden with its message: everyone in its results room is re-checked.
        hubs[0].checker = hubs[1].checker = lambda user, topics: set()
        await hubs[0].revoke({"user": 0, "topic": "poll-results:3", "all": False})
        await asyncio.sleep(0.3)
        assert await _received(clients, hubs[0], "poll-results:3", 8) == [False, False, False]
        assert await _received(clients, hubs[0], "channel:1", 9) == [False, False, True]
        # A control message never reaches a browser.
        assert all(not isinstance(m, dict) or "user" not in m for _, got in clients for m in got)
        for c, _ in clients:
            await c.disconnect()


async def test_a_revocation_keeps_the_session_that_asked() -> None:
    """A password change ends the other sessions; the tab that made it stays."""
    async with serving(transport.FastEmit()) as (one, url):
        hub = Hub()
        hub.attach(one.sio)
        clients = await _clients(url, 2)
        for sid, token in zip(one.sids, ("kept", "other")):
            hub.own(sid, 7, token)
            await hub.subscribe(sid, "page", {"channel:1"})
        await hub.revoke({"user": 7, "keep": "kept", "all": True})
        assert await _received(clients, hub, "channel:1", 1) == [True, False]
        for c, _ in clients:
            await c.disconnect()
