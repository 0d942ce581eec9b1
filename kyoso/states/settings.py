"""/settings: which mails I receive (each kind on or off, the daily digest)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso.services.mail import prefs
from kyoso.states.session import SessionState

_ON = ("on", "true", "1", "yes")


class SettingsState(SessionState):
    mail: list[prefs.MailSettingItem] = []
    error: str = ""
    notice: str = ""

    def _load(self, session: Any, user: Any) -> None:
        self.mail = prefs.get_mail_settings(session, user)

    @rx.event
    async def open_settings(self):
        self.notice = ""
        return await self._open(self._load)

    @rx.event
    async def save(self, form: dict):
        """The form holds a checkbox per kind (named by its key); an unchecked
        box is missing from the form, so every key shown is sent."""
        wanted = {item.key: str(form.get(item.key, "")).lower() in _ON for item in self.mail}

        def saved(items: list[prefs.MailSettingItem]) -> None:
            self.mail = items

        return await self._change(prefs.set_mail_settings, wanted, then=saved,
                                  notice="メールの設定を保存しました。")
