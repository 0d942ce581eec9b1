"""The sidebar of every members' page: my channels with unread counts, and
the inbox count. Both are live. For 運営, what waits for them (pending
applications, reported posts), counted at each page load."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from kyoso import realtime
from kyoso.services import channels, moderation, sidebar
from kyoso.states.session import SessionState, shell_part


@shell_part
@realtime.live("sidebar")
class SidebarState(SessionState):
    channels: list[channels.SidebarChannel] = []
    inbox_unread: int = 0
    staff_applications: int = 0
    staff_reports: int = 0
    live_patch: dict[str, Any] = {}

    def _load_in(self, session: Any, user: Any, *, reading: int = 0) -> None:
        """``reading``: the channel the member is opening, whose threads are
        all being shown (and marked read): it counts no unread."""
        read = sidebar.read(session, user)
        mine = read.channels
        if reading:
            mine = [dataclasses.replace(c, unread=0) if c.id == reading else c for c in mine]
        self.channels = mine
        self.inbox_unread = read.inbox_unread
        if user.is_staff:
            waiting = moderation.staff_counts(session, user)
            self.staff_applications, self.staff_reports = waiting.applications, waiting.reports
        topics = ["all", f"user:{user.id}"] + [f"unread:{c.id}" for c in self.channels]
        realtime.subscribe(self, "shell", topics, session, user)

    @rx.event
    async def load_sidebar(self):
        """Reload after joining or leaving a channel. Page loads do the same
        through ``SessionState._shell`` in their own on_load event."""
        return await self._read(self._load_in, error="")
