"""/admin/mail: the outbox as 運営 see it. Without KYOSO_SMTP_URL every mail
stays here (held), so the demo's confirmation and reset links are read here."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso.services.mail import outbox
from kyoso.states.session import SessionState

STATUS_CHOICES = [("", "すべて")] + [(str(k), v) for k, v in outbox.STATUS_LABELS.items()]


class AdminMailState(SessionState):
    items: list[outbox.OutboxItem] = []
    summary: list[str] = []  # 「送信済み 12」, one per state that has mail
    held: int = 0
    status: str = ""
    to: str = ""
    error: str = ""
    notice: str = ""

    def _load(self, session: Any, user: Any) -> None:
        counts = outbox.outbox_counts(session, user)
        self.summary = [f"{label} {counts[str(key)]}" for key, label in outbox.STATUS_LABELS.items()
                        if counts.get(str(key))]
        self.held = counts.get("held", 0)
        self.items = outbox.list_outbox(session, user, status=self.status, to=self.to)

    async def _reload(self, _: Any = None) -> Any:
        return await self._read(self._load, error="")

    @rx.event
    async def open_mail(self):
        self.notice = ""
        self.status = self._query_param("status", 20)
        self.to = self._query_param("to", 254)
        return await self._open_staff(self._load)

    @rx.event
    async def set_status(self, value: str):
        self.status = "" if value == "all" else str(value)[:20]
        return await self._read(self._load)

    @rx.event
    async def search(self, form: dict):
        self.to = str(form.get("to", "")).strip()[:254]
        return await self._read(self._load)

    @rx.event
    async def requeue(self, outbox_id: int):
        return await self._change(outbox.requeue, int(outbox_id), notice="送信待ちに戻しました。",
                                  then=self._reload)

    @rx.event
    async def release_held(self):
        async def released(count: int) -> Any:
            self.notice = f"保留中の{count}通を送信待ちにしました。"
            return await self._reload()

        return await self._change(outbox.release_held, then=released)
