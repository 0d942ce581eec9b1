"""/channels: the channel directory; 運営 create channels here."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso import routes
from kyoso.services import channels
from kyoso.states.session import SessionState
from kyoso.states.sidebar import SidebarState


class DirectoryState(SessionState):
    entries: list[channels.DirectoryEntry] = []
    query: str = ""
    show_archived: bool = False
    creating: bool = False
    error: str = ""
    notice: str = ""

    def _load(self, session: Any, user: Any) -> None:
        self.entries = channels.directory(session, user, self.query, include_archived=self.show_archived)

    async def _reload(self, _: Any = None) -> Any:
        return await self._read(self._load)

    @rx.event
    async def open_directory(self):
        self.notice = ""
        return await self._open(self._load)

    @rx.event
    async def search(self, value: str):
        self.query = str(value)[:100]
        return await self._reload()

    @rx.event
    async def toggle_archived(self):
        self.show_archived = not self.show_archived
        return await self._reload()

    @rx.event
    def toggle_create(self):
        self.creating = not self.creating
        self.error = ""

    @rx.event
    async def create(self, form: dict):
        def created(slug: str) -> Any:
            self.creating = False
            return rx.redirect(routes.channel(slug))

        return await self._change(
            lambda session, user: channels.create_channel(
                session, user, slug=str(form.get("slug", "")), name=str(form.get("name", "")),
                description=str(form.get("description", "")), announcement=bool(form.get("announcement")),
                allow_replies=not bool(form.get("no_replies"))).slug,
            then=created)

    @rx.event
    async def join(self, channel_id: int):
        async def joined(_: Any) -> Any:
            await self._reload()
            return SidebarState.load_sidebar

        return await self._change(channels.join, int(channel_id), then=joined)

    @rx.event
    async def set_archived(self, channel_id: int, archived: bool):
        return await self._change(channels.set_archived, int(channel_id), bool(archived), then=self._reload)
