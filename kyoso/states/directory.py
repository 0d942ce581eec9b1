"""/channels: the channel directory; 運営 create channels here."""

from __future__ import annotations

import reflex as rx

from kyoso import realtime
from kyoso.services import channels
from kyoso.services.errors import DomainError, NotAuthenticated
from kyoso.states.session import SessionState


class DirectoryState(SessionState):
    entries: list[channels.DirectoryEntry] = []
    query: str = ""
    show_archived: bool = False
    creating: bool = False
    error: str = ""
    notice: str = ""

    def _load(self) -> None:
        with self._reading() as (session, user):
            self.entries = channels.directory(session, user, self.query,
                                              include_archived=self.show_archived)

    @rx.event
    async def open_directory(self):
        self.error = ""
        self.notice = ""
        if (redirect := await self._load_shell()) is not None:
            return redirect
        try:
            self._load()
        except NotAuthenticated:
            return self._login_redirect()
        except DomainError as exc:
            self.error = exc.message
        return None

    @rx.event
    def search(self, value: str):
        self.query = value
        try:
            self._load()
        except DomainError as exc:
            self.error = exc.message

    @rx.event
    def toggle_archived(self):
        self.show_archived = not self.show_archived
        self._load()

    @rx.event
    def toggle_create(self):
        self.creating = not self.creating
        self.error = ""

    @rx.event
    def create(self, form: dict):
        self.error = ""
        try:
            with self._acting() as (session, user):
                channel = channels.create_channel(
                    session, user, slug=str(form.get("slug", "")), name=str(form.get("name", "")),
                    description=str(form.get("description", "")),
                    announcement=bool(form.get("announcement")),
                    allow_replies=not bool(form.get("no_replies")),
                )
                slug = channel.slug
        except DomainError as exc:
            self.error = exc.message
            return None
        self.creating = False
        return rx.redirect(f"/c/{slug}")

    @rx.event
    async def join(self, channel_id: int):
        try:
            with self._acting() as (session, user):
                events = channels.join(session, user, int(channel_id))
            self._load()
        except DomainError as exc:
            self.error = exc.message
            return None
        await realtime.publish(events)
        from kyoso.states.sidebar import SidebarState

        return SidebarState.load_sidebar

    @rx.event
    async def set_archived(self, channel_id: int, archived: bool):
        try:
            with self._acting() as (session, user):
                events = channels.set_archived(session, user, int(channel_id), bool(archived))
            self._load()
        except DomainError as exc:
            self.error = exc.message
            return
        await realtime.publish(events)
