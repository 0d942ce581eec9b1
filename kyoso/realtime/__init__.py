"""Live fan-out: the one module that delivers committed changes to browsers.

    from kyoso import realtime
    await realtime.publish(events)                          # after the commit
    await realtime.subscribe(state, "page", topics, session, user)

``subscribe`` asks the domain (``kyoso.services.topics``) about every topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from kyoso.db import assert_no_write_transaction
from kyoso.models import User
from kyoso.realtime.hub import hub
from kyoso.realtime.live import publish
from kyoso.services import topics as topic_rules

__all__ = ["hub", "publish", "publish_soon", "subscribe"]

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


def client_sid(state: Any) -> str:
    try:
        return state.router.session.session_id or ""
    except AttributeError:
        return ""


async def subscribe(state: Any, group: str, topics: Iterable[str], session: Session,
                    user: User) -> list[str]:
    """Subscribe the client behind a Reflex state to the topics the member may
    see, replacing the group's earlier topics. Returns the topics granted."""
    assert_no_write_transaction("realtime.subscribe")
    granted = topic_rules.granted(session, user, topics)
    await hub.subscribe(client_sid(state), group, granted)
    return granted
