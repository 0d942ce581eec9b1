"""/: the home page: my お知らせ newest first (live), and publishing them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from kyoso import realtime
from kyoso.services import announcements, attachments
from kyoso.services.errors import InvalidInput
from kyoso.services.timefmt import JST
from kyoso.states.attachments import AttachmentState
from kyoso.states.session import SessionState


def announcement_input(form: dict[str, Any]) -> announcements.AnnouncementInput:
    expires: datetime | None = None
    raw = str(form.get("expires_at", "")).strip()
    if raw:
        try:
            expires = datetime.fromisoformat(raw).replace(tzinfo=JST)
        except ValueError:
            raise InvalidInput("掲載期限の日時が正しくありません。") from None
    return announcements.AnnouncementInput(
        title=str(form.get("title", "")), body=str(form.get("body", "")),
        category=str(form.get("category", "")), importance=str(form.get("importance", "normal")),
        channel_ids=[int(k.removeprefix("ch_")) for k, v in form.items()
                     if k.startswith("ch_") and k.removeprefix("ch_").isdecimal() and v],
        expires_at=expires,
    )


@realtime.live("home")
class HomeState(SessionState):
    announcements: list[announcements.AnnouncementView] = []
    channels: list[list[str]] = []  # [id, name, "1" when ticked to start with] for the publishing form
    composing: bool = False
    error: str = ""
    notice: str = ""
    live_patch: dict[str, Any] = {}

    def _load(self, session: Any, user: Any) -> None:
        self.announcements = announcements.feed(session, user)
        if announcements.can_publish(user):
            ticked = set(announcements.preselected_channels(session))
            self.channels = [[str(i), n, "1" if i in ticked else ""]
                             for i, n in announcements.announcement_channels(session, user)]

    async def _reload(self, _: Any = None) -> Any:
        return await self._read(self._load)

    @rx.event
    async def open_home(self):
        return await self._open(self._load)

    @rx.event
    async def mark_read(self, announcement_id: int):
        return await self._change(announcements.mark_read, int(announcement_id), then=self._reload)

    @rx.event
    async def set_pinned(self, announcement_id: int, pinned: bool):
        """Pin (or unpin) an お知らせ at the top of every channel it went to."""
        return await self._change(announcements.set_pinned_everywhere, int(announcement_id), bool(pinned),
                                  notice="ピン留めしました。" if pinned else "ピン留めを外しました。",
                                  then=self._reload)

    @rx.event
    def toggle_compose(self):
        self.composing = not self.composing
        self.error = ""

    @rx.event
    async def publish(self, form: dict):
        self.notice = ""
        files = await self.get_state(AttachmentState)  # attachments: the form's pending files
        file_ids = files._ids("announcement")

        def change(session: Any, user: Any) -> None:
            announcement = announcements.publish(session, user, announcement_input(form))
            attachments.attach_to_announcement(session, user, file_ids, announcement.id or 0)

        async def published(_: Any) -> Any:
            files._clear("announcement")
            self.composing = False
            return await self._reload()

        return await self._change(change, notice="お知らせを出しました。", then=published)
