"""The hub: topics as socket.io rooms, one emit per change per room.

Reflex's own way to share state (SharedState) modifies each linked client's
state one by one: O(N) work per change and O(N²) joins, far too slow for a
1,000-person 説明会 (shared/docs/reflex-notes.md). kyoso instead

* puts each client's socket into socket.io rooms named after topics
  ("channel:12", "poll-results:3", "user:7") once the domain has said the
  member may see that topic;
* turns a committed change into ONE payload shaped like Reflex's own state
  update, carrying a *live patch* (``{"seq", "ops"}``) in a var that the
  server never assigns, and emits it once to the room;
* coalesces changes that come in bursts (stamps, tallies) per key: the first
  goes out at once, then at most one emit per ``COALESCE_SECONDS``, built from
  the database at send time so the last emit always carries the final truth.

In the browser, ``assets/kyoso_live.js`` applies the ops (upsert, patch,
remove, put, incr) to the state's vars. Each item carries a ``rev`` and an
older one never replaces a newer one, so reordering across workers cannot
leave a stale value on screen.

The server's per-client copy of a live var is therefore stale by design. The
rule that keeps this correct: a handler only ever *assigns* a live var a fresh
value read from the database, never edits it in place (see ARCHITECTURE.md).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from kyoso.db import off_loop
from kyoso.ops import metrics

logger = logging.getLogger("kyoso.realtime")

NAMESPACE = "/_event"
COALESCE_SECONDS = 0.1
# In a full room every emit costs ~0.1 ms per recipient: a vote burst's tally,
# a 説明会's question list (upvotes) and a post's stamps (2,000 people pressing
# 👍 on one お知らせ: at the short window, ~10 emits a second of 0.2 s each)
# are coalesced there over a longer window.
LARGE_ROOM = 300
LARGE_ROOM_COALESCE_SECONDS = 0.25
LARGE_ROOM_KEYS = ("tally:", "briefing:", "stamps:")
# Counts nobody waits for (a 説明会's attendance, which every arrival of a
# 1,000-person join burst changes): at most one emit per key this often.
SLOW_KEYS = ("attendance:",)
SLOW_COALESCE_SECONDS = 2.0
# In a room of this many clients on a worker (a 1,000-person 説明会), an emit
# of a bursty key costs ~0.1 s of CPU: during a steady burst it goes out only
# every HUGE_ROOM_COALESCE_SECONDS, but once the burst has been quiet for
# QUIET_SECONDS the held change goes out at once (never sooner than the
# large-room window after the previous emit), so the final tally still
# arrives soon after the last vote.
HUGE_ROOM = 800
HUGE_ROOM_COALESCE_SECONDS = 1.0
QUIET_SECONDS = 0.05

# A topic that a client does not need while it holds another: a member reading
# channel 12 sees its messages arrive, and the browser ignores the channel's
# unread count there (kyoso_live.js ``unless: {path}``). Leaving such rooms
# halves the deliveries of a post to a room full of readers (bench/README.md).
MUTED_BY: dict[str, str] = {"unread": "channel"}

# A builder returns {room: payload} to emit, computed when the emit happens.
Builder = Callable[[], dict[str, dict[str, Any]]]


class Hub:
    def __init__(self) -> None:
        self.sio: Any = None
        self._groups: dict[str, dict[str, set[str]]] = {}  # sid -> group -> topics
        self._owners: dict[str, tuple[int, str]] = {}  # sid -> (user id, session token's hash)
        # (user id, topics) -> the topics the member may still receive (the
        # domain's ``topics.granted``, set by ``kyoso.realtime``).
        self.checker: Callable[[int, set[str]], set[str]] | None = None
        self._seq = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:6]
        self._last_emit: dict[str, float] = {}
        self._last_change: dict[str, float] = {}
        self._pending: dict[str, Builder] = {}
        self._recipients: dict[str, int] = {}  # key -> recipients of its last emit
        self._subscribes = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._redis: Any = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.sent = 0  # emits, for tests and benchmarks

    # -- wiring ------------------------------------------------------------

    def attach(self, sio: Any) -> None:
        self.sio = sio
        manager = getattr(sio, "manager", None)
        if manager is not None and hasattr(manager, "disconnected"):
            # A gone client's groups go with it (not at the next prune: a
            # reload storm would hold two sets per tab until then).
            manager.disconnected = self.forget
        if manager is not None and hasattr(manager, "publish_control"):
            manager.control_handler = self.revoke_local

    def new_worker(self) -> None:
        """Called in each worker process at start-up: fresh ids for this process."""
        self._prefix = uuid.uuid4().hex[:6] + f"{os.getpid():x}"

    # -- subscriptions -----------------------------------------------------

    @staticmethod
    def _rooms(groups: dict[str, set[str]]) -> set[str]:
        """The rooms a client is in: the topics of all its groups, less those
        muted by another topic it holds (``MUTED_BY``)."""
        held = set().union(*groups.values()) if groups else set()
        rooms = set()
        for topic in held:
            kind, _, ident = topic.partition(":")
            muter = MUTED_BY.get(kind)
            if muter is None or f"{muter}:{ident}" not in held:
                rooms.add(topic)
        return rooms

    def join(self, sid: str, group: str, topics: Iterable[str]) -> None:
        """Make ``topics`` the client's subscriptions for ``group`` ("page",
        "shell"), leaving the rooms of the group's previous topics. On the
        loop, in one go (nothing awaited): a page load's work runs there, in
        a greenlet (``kyoso.realtime.subscribe``).

        The caller has checked with the domain that the member may see each
        topic (``kyoso.services.topics``).
        """
        if self.sio is None or not sid:
            return
        manager = self.sio.manager
        if not manager.is_connected(sid, NAMESPACE):
            # Gone while its page was loading: no room keeps a dead socket.
            self.forget(sid)
            return
        self._subscribes += 1
        if self._subscribes % 1000 == 0:
            self._prune()
        groups = self._groups.setdefault(sid, {})
        before = self._rooms(groups)
        groups[group] = set(topics)
        after = self._rooms(groups)
        # socket.io's own room books (``AsyncServer.enter_room`` awaits
        # nothing but these).
        for topic in before - after:
            manager.basic_leave_room(sid, NAMESPACE, topic)
        for topic in after - before:
            manager.basic_enter_room(sid, NAMESPACE, topic)

    async def subscribe(self, sid: str, group: str, topics: Iterable[str]) -> None:
        """``join``, for callers on the loop."""
        self.join(sid, group, topics)

    async def add_topic(self, sid: str, group: str, topic: str) -> None:
        groups = self._groups.setdefault(sid, {})
        if topic not in groups.get(group, set()):
            await self.subscribe(sid, group, groups.get(group, set()) | {topic})

    def forget(self, sid: str) -> None:
        self._groups.pop(sid, None)
        self._owners.pop(sid, None)

    def own(self, sid: str, user_id: int, token_hash: str) -> None:
        """Note whose session a client's socket belongs to (see ``revoke``)."""
        if sid:
            self._owners[sid] = (user_id, token_hash)

    # -- leaving rooms: live membership follows rights at once ------------------
    #
    # Rooms were joined on a page load, after the domain said yes. When the
    # answer changes (logout, log out everywhere, suspension, a role change, a
    # withdrawn vote on a "voters only" poll, a hidden poll) the sockets
    # concerned leave at once, on every worker: socket.io can make a socket
    # leave a room only on the worker holding it, so a revocation is applied
    # here and sent to the other workers through the Redis manager
    # (``transport.CONTROL_EVENT``); each applies it to its own sockets.
    #
    # A revocation is a dict: {"user": id, "token": hash or "", "keep": hash
    # or "", "all": bool, "topic": ""}. ``all``: the sockets of the user (of
    # one session when ``token`` is given, except ``keep``) leave every room;
    # otherwise the user's sockets (or, with ``topic`` and no user, every
    # socket in that room) keep only what ``checker`` still grants.

    async def revoke(self, revocation: dict[str, Any]) -> None:
        await self.revoke_local(revocation)
        manager = getattr(self.sio, "manager", None)
        if manager is not None and hasattr(manager, "publish_control"):
            try:
                await manager.publish_control(revocation)
            except Exception:  # noqa: BLE001 - Redis gone: other workers re-check on their next page load
                logger.exception("sending a revocation to the other workers failed")

    def _sids_of(self, revocation: dict[str, Any]) -> list[str]:
        user, token, keep = int(revocation.get("user") or 0), revocation.get("token"), revocation.get("keep")
        if not user:
            topic = str(revocation.get("topic") or "")
            try:
                in_room = self.sio.manager.rooms.get(NAMESPACE, {}).get(topic) or {}
            except AttributeError:
                in_room = {}
            return [sid for sid in list(in_room) if sid in self._owners]
        return [sid for sid, (uid, th) in list(self._owners.items())
                if uid == user and (not token or th == token) and (not keep or th != keep)]

    async def revoke_local(self, revocation: dict[str, Any]) -> None:
        """Apply a revocation to this worker's sockets."""
        if self.sio is None:
            return
        topic = str(revocation.get("topic") or "")
        for sid in self._sids_of(revocation):
            groups = self._groups.get(sid, {})
            if revocation.get("all"):
                keep: set[str] = set()
            else:
                held = set().union(*groups.values()) if groups else set()
                asked = {topic} if topic else held
                allowed = (await off_loop(functools.partial(self.checker, self._owners[sid][0], asked))
                           if self.checker else asked)
                keep = held - (asked - allowed)
            before = self._rooms(groups)
            for group in groups:
                groups[group] = groups[group] & keep
            after = self._rooms(groups)
            for room in before - after:
                await self.sio.leave_room(sid, room, namespace=NAMESPACE)
            for room in after - before:  # a topic muted by one that went (``MUTED_BY``)
                await self.sio.enter_room(sid, room, namespace=NAMESPACE)
            if revocation.get("all"):
                self.forget(sid)

    def _prune(self) -> None:
        """Forget clients that have gone (socket.io left their rooms already),
        and coalescing keys not used for a minute."""
        manager = getattr(self.sio, "manager", None)
        if manager is not None:
            for sid in [s for s in self._groups if not manager.is_connected(s, NAMESPACE)]:
                self.forget(sid)
        now = time.monotonic()
        for key in [k for k, t in self._last_emit.items() if now - t > 60 and k not in self._timers]:
            self._last_emit.pop(key, None)
            self._last_change.pop(key, None)
            self._recipients.pop(key, None)

    # -- sending -----------------------------------------------------------

    def patch(self, ops: list[dict[str, Any]]) -> dict[str, Any]:
        return {"seq": f"{self._prefix}-{next(self._seq)}", "ops": ops}

    async def emit(self, room: str, payload: dict[str, Any]) -> None:
        """Send a Reflex-shaped update to every client in the room."""
        if self.sio is None:
            return
        self.sent += 1
        metrics.count_emit(room, self.room_size(room))
        await self.sio.emit("event", payload, room=room, namespace=NAMESPACE)

    def room_size(self, room: str) -> int:
        """Clients of this worker in the room."""
        try:
            return len(self.sio.manager.rooms.get(NAMESPACE, {}).get(room) or ())
        except AttributeError:
            return 0

    def windows(self, key: str) -> tuple[float, float]:
        """(spacing, longest) for a key: after an emit, a held change goes
        out once ``spacing`` has passed and the burst has been quiet for
        ``QUIET_SECONDS``, and at the latest after ``longest``.

        Tallies, question lists and stamps in a full room wait longer
        between emits; other keys (a reply count, an inbox) keep the short
        window, so a change that follows another closely is never held back
        long."""
        if key.startswith(SLOW_KEYS):
            return SLOW_COALESCE_SECONDS, SLOW_COALESCE_SECONDS
        recipients = self._recipients.get(key, 0)
        if not key.startswith(LARGE_ROOM_KEYS) or recipients < LARGE_ROOM:
            return COALESCE_SECONDS, COALESCE_SECONDS
        if recipients < HUGE_ROOM:
            return LARGE_ROOM_COALESCE_SECONDS, LARGE_ROOM_COALESCE_SECONDS
        return LARGE_ROOM_COALESCE_SECONDS, HUGE_ROOM_COALESCE_SECONDS

    def window(self, key: str) -> float:
        """The shortest spacing between two emits of a key."""
        return self.windows(key)[0]

    async def emit_built(self, builder: Builder, key: str | None = None) -> None:
        try:
            built = await off_loop(builder)  # its reads do not block the loop (db.off_loop)
        except Exception:  # noqa: BLE001 - a failed build must not break the caller
            logger.exception("building a live update failed")
            return
        if key is not None and self.sio is not None:
            self._recipients[key] = sum(self.room_size(room) for room in built)
        for room, payload in built.items():
            await self.emit(room, payload)

    async def send_now(self, builder: Builder) -> None:
        await self.emit_built(builder)

    def send_coalesced(self, key: str, builder: Builder) -> Awaitable[None] | None:
        """Send at once if nothing went out for ``key`` recently; otherwise
        once the window has passed, with the latest builder."""
        if self._redis is not None:
            return self._send_shared(key, builder)
        now = time.monotonic()
        self._last_change[key] = now
        last = self._last_emit.get(key, 0.0)
        window = self.window(key)
        if now - last >= window and key not in self._timers:
            self._last_emit[key] = now
            return self.emit_built(builder, key)
        self._pending[key] = builder
        if key not in self._timers:
            delay = max(0.0, window - (now - last))
            loop = asyncio.get_running_loop()
            self._timers[key] = loop.call_later(delay, self._flush, key)
        return None

    def _flush(self, key: str) -> None:
        self._timers.pop(key, None)
        if key not in self._pending:
            return
        # Still in a burst, and the longest hold not reached: look again when
        # the burst may have gone quiet.
        now = time.monotonic()
        _, longest = self.windows(key)
        due = self._last_emit.get(key, 0.0) + longest
        quiet_at = self._last_change.get(key, 0.0) + QUIET_SECONDS
        if now < due - 0.001 and now < quiet_at - 0.001:
            delay = min(due, quiet_at) - now
            self._timers[key] = asyncio.get_running_loop().call_later(delay, self._flush, key)
            return
        builder = self._pending.pop(key)
        self._last_emit[key] = time.monotonic()
        # Keep a reference: the loop holds tasks only weakly.
        task = asyncio.get_running_loop().create_task(self.emit_built(builder, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- coalescing across workers (Redis) ------------------------------------
    #
    # With several workers each would coalesce its own share of a burst and
    # emit to everyone: twice the deliveries. Instead one worker leads a key for
    # a window: the first change claims it and goes out at once; a change
    # anywhere during the window only marks the key dirty (with Redis's clock
    # time); when the window ends the leader sends once more if it is dirty
    # (built from the database, so it carries every committed change) and
    # keeps the lead, or lets go. In a huge room it holds a dirty key until
    # the burst has been quiet (``windows``), looking again every
    # QUIET_SECONDS. Each step is one Lua script, so no change falls between.

    _CLAIM = """
    if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
    local t = redis.call('TIME')
    redis.call('SET', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000), 'PX', 60000)
    return 0
    """
    # ARGV: leader id, lead hold (ms), quiet (ms), "1" to send if dirty at all.
    # Returns 1: send now (lead kept); 2: dirty, still busy (lead kept); 0: let go.
    _CHECK = """
    local dirty = redis.call('GET', KEYS[2])
    if not dirty then
      redis.call('DEL', KEYS[1])
      return 0
    end
    local t = redis.call('TIME')
    local now = t[1] * 1000 + math.floor(t[2] / 1000)
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    if ARGV[4] == '1' or now - tonumber(dirty) >= tonumber(ARGV[3]) then
      redis.call('DEL', KEYS[2])
      return 1
    end
    return 2
    """

    def use_redis(self, url: str) -> None:
        import redis.asyncio as aioredis  # only a deployment with Redis loads the client

        self._redis = aioredis.from_url(url)
        self._claim = self._redis.register_script(self._CLAIM)
        self._check = self._redis.register_script(self._CHECK)

    def _shared_keys(self, key: str) -> list[str]:
        return [f"kyoso:lead:{key}", f"kyoso:dirty:{key}"]

    async def _send_shared(self, key: str, builder: Builder) -> None:
        self._pending[key] = builder  # the newest; any builder of a key reads the same truth
        window, longest = self.windows(key)
        hold = str(int(longest * 4000))  # released by the check; expires only if we die
        try:
            won = await self._claim(keys=self._shared_keys(key), args=[self._prefix, hold])
        except Exception:  # noqa: BLE001 - Redis gone: send without coordination
            logger.exception("coalescing through Redis failed")
            won = 1
        if not won:
            return
        self._last_emit[key] = time.monotonic()
        await self.emit_built(builder, key)
        self._schedule_check(key, window)

    def _schedule_check(self, key: str, delay: float) -> None:
        def fire() -> None:
            task = asyncio.get_running_loop().create_task(self._shared_check(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        asyncio.get_running_loop().call_later(delay, fire)

    async def _shared_check(self, key: str) -> None:
        _, longest = self.windows(key)
        left = self._last_emit.get(key, 0.0) + longest - time.monotonic()
        try:
            dirty = await self._check(keys=self._shared_keys(key), args=[
                self._prefix, str(int(longest * 4000)), str(int(QUIET_SECONDS * 1000)),
                "1" if left <= 0.001 else "0"])
        except Exception:  # noqa: BLE001
            logger.exception("coalescing through Redis failed")
            dirty = 1
        if dirty == 2:
            self._schedule_check(key, min(QUIET_SECONDS, max(left, 0.0)))
            return
        builder = self._pending.get(key)
        if dirty and builder is not None:
            self._last_emit[key] = time.monotonic()
            await self.emit_built(builder, key)
            self._schedule_check(key, self.window(key))

    async def drain(self) -> None:
        """Send everything pending now (tests, shutdown)."""
        for key in list(self._timers):
            self._timers.pop(key).cancel()
            builder = self._pending.pop(key, None)
            if builder is not None:
                await self.emit_built(builder)


hub = Hub()
