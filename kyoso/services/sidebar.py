"""The sidebar every members' page shows around its content: my channels
with their unread threads, and the count of my unread notifications (受信箱),
read in one statement (every page load reads it: a 説明会's arrival storm)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from kyoso.db import core
from kyoso.models import User
from kyoso.services import channels, notifications

_SIDEBAR = channels.MY_CHANNELS.add_columns(notifications.UNREAD_COUNT.scalar_subquery().label("inbox"))


@dataclass
class Sidebar:
    channels: list[channels.SidebarChannel]
    inbox_unread: int


def read(session: Session, user: User) -> Sidebar:
    channels.require_active(user)
    rows = core(session).execute(_SIDEBAR, {"p_user": user.id}).all()
    mine = channels.my_channels_of(session, user, rows)
    # (A member in no channel: no row to carry the count.)
    inbox = int(rows[0].inbox) if rows else notifications.unread_count(session, user.id or 0)
    return Sidebar(mine, inbox)
