"""/: the home page: my お知らせ newest first (live), and publishing them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from kyoso import realtime
from kyoso.services import announcements
from kyoso.services.errors import DomainError, InvalidInput, NotAuthenticated
from kyoso.services.timefmt import JST
from kyoso.states.session import SessionState


class HomeState(SessionState):
    announcements: list[announcements.AnnouncementView] = []
    channels: list[list[str]] = []  # [id, name] for the publishing form
    composing: bool = False
    error: str = ""
    notice: str = ""
    live_patch: dict[str, Any] = {}

    def _load(self, session: Any, user: Any) -> None:
        self.announcements = announcements.feed(session, user)
        if announcements.can_publish(user):
            self.channels = [[str(i), n] for i, n in announcements.announcement_channels(session, user)]

    @rx.event
    async def open_home(self):
        self.error = ""
        try:
            with self._reading() as (session, user):
                await self._shell(session, user)
                self._load(session, user)
        except NotAuthenticated:
            return self._login_redirect()
        return None

    @rx.event
    def mark_read(self, announcement_id: int):
        try:
            with self._acting() as (session, user):
                announcements.mark_read(session, user, int(announcement_id))
                self._load(session, user)
        except DomainError as exc:
            self.error = exc.message

    @rx.event
    async def set_pinned(self, announcement_id: int, pinned: bool):
        """Pin (or unpin) an お知らせ at the top of every channel it went to."""
        self.error = ""
        events = []
        try:
            with self._acting() as (session, user):
                for cid in announcements.channel_ids_of(session, int(announcement_id)):
                    events += announcements.set_pinned(session, user, int(announcement_id), cid, bool(pinned))
                self._load(session, user)
        except DomainError as exc:
            self.error = exc.message
            return
        self.notice = "ピン留めしました。" if pinned else "ピン留めを外しました。"
        realtime.publish_soon(events)

    @rx.event
    def toggle_compose(self):
        self.composing = not self.composing
        self.error = ""

    @rx.event
    async def publish(self, form: dict):
        self.error = ""
        self.notice = ""
        expires: datetime | None = None
        try:
            raw = str(form.get("expires_at", "")).strip()
            if raw:
                try:
                    expires = datetime.fromisoformat(raw).replace(tzinfo=JST)
                except ValueError:
                    raise InvalidInput("掲載期限の日時が正しくありません。") from None
            channel_ids = [int(k.removeprefix("ch_")) for k, v in form.items()
                           if k.startswith("ch_") and v]
            data = announcements.AnnouncementInput(
                title=str(form.get("title", "")), body=str(form.get("body", "")),
                category=str(form.get("category", "")), importance=str(form.get("importance", "normal")),
                channel_ids=channel_ids, expires_at=expires,
            )
            with self._acting() as (session, user):
                _, events = announcements.publish(session, user, data)
                self._load(session, user)
        except DomainError as exc:
            self.error = exc.message
            return
        self.composing = False
        self.notice = "お知らせを出しました。"
        await realtime.publish(events)
