"""/inbox: mentions, replies to my threads, reminders."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso.services import notifications
from kyoso.states.session import SessionState
from kyoso.states.sidebar import SidebarState


class InboxState(SessionState):
    items: list[notifications.InboxItem] = []
    error: str = ""

    def _load(self, session: Any, user: Any) -> None:
        self.items = notifications.inbox(session, user)

    @rx.event
    async def open_inbox(self):
        return await self._open(self._load)

    @rx.event
    async def mark_all_read(self):
        async def done(_: Any) -> Any:
            await self._read(self._load)
            return SidebarState.load_sidebar

        return await self._change(notifications.mark_all_read, then=done)

    @rx.event
    async def open_item(self, notification_id: int, link: str):
        await self._change(notifications.mark_read, int(notification_id))
        return rx.redirect(str(link)) if str(link).startswith("/") and not str(link).startswith("//") else None
