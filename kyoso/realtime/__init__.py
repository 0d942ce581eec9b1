"""Live fan-out: the one module that delivers committed changes to browsers.

    from kyoso import realtime

    @realtime.live("channel")                                # a state that gets patches
    class ChannelState(SessionState): ...

    # inside a handler's database work (a page load, in ``db.off_loop``):
    realtime.subscribe(state, "page", topics, session, user)
    realtime.add_topic(state, "polls", topic, session, user)
    realtime.publish_soon(events)                            # after the commit

Every topic a client joins is checked with the domain
(``kyoso.services.topics``). This package imports no state and no page:
states register themselves (``registry``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from kyoso.db import assert_no_write_transaction, read_scope, wait
from kyoso.models import User
from kyoso.realtime.hub import hub
from kyoso.realtime.fanout import publish
from kyoso.realtime.registry import identity, live
from kyoso.services import topics as topic_rules
from kyoso.services.security import hash_token

__all__ = ["add_topic", "drain", "hub", "identity", "live", "publish", "publish_soon", "subscribe"]

_pending: set[asyncio.Task[None]] = set()


def publish_soon(events: list[Any]) -> None:
    """Publish without making the caller wait for the fan-out: the handler's
    own update (the member's acknowledgement) goes out first. Items carry
    revs, so the order in which concurrent publishes land does not matter."""
    if not events:
        return
    task = asyncio.get_running_loop().create_task(publish(events))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def drain() -> None:
    """Wait for the publishes started by ``publish_soon`` (tests, shutdown)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


def still_granted(user_id: int, topics: set[str]) -> set[str]:
    """The hub's ``checker``: which of a member's topics the domain still grants."""
    with read_scope() as session:
        user = session.get(User, user_id)
        return set(topic_rules.granted(session, user, topics)) if user is not None else set()


hub.checker = still_granted


def client_sid(state: Any) -> str:
    """The socket of the client behind ``state`` (Reflex's router data as
    stored: its ``router`` property assembles all five parts on each access)."""
    try:
        return state.get_value("rx_router_session").session_id or ""
    except AttributeError:
        return ""


def subscribe(state: Any, group: str, topics: Iterable[str], session: Session, user: User) -> list[str]:
    """Subscribe the client behind a Reflex state to the topics the member may
    see, replacing the group's earlier topics. Returns the topics granted.
    Runs inside a handler's database work (``db.off_loop``): the domain is
    asked with ``session``, then the rooms are joined at once (on the loop:
    ``off_loop`` runs in a greenlet there), before the publishing of any
    change committed after this load's reads and before the reply."""
    assert_no_write_transaction("realtime.subscribe")
    granted = topic_rules.granted(session, user, topics)
    sid = client_sid(state)
    hub.own(sid, user.id or 0, hash_token(str(getattr(state, "token", "") or "")))
    hub.join(sid, group, granted)
    return granted


def add_topic(state: Any, group: str, topic: str, session: Session, user: User) -> bool:
    """Add one topic to the client's group, if the member may see it (inside
    ``db.off_loop``, as ``subscribe``)."""
    assert_no_write_transaction("realtime.add_topic")
    if not topic_rules.allowed(session, user, topic):
        return False
    wait(hub.add_topic(client_sid(state), group, topic))
    return True
