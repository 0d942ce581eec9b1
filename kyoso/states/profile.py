"""Profile pages: anyone's profile, and editing one's own."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso.services import accounts
from kyoso.states.session import SessionState


class ProfileState(SessionState):
    profile: accounts.ProfileView | None = None
    not_found: bool = False
    editing: bool = False
    error: str = ""
    notice: str = ""

    @rx.event
    async def open_profile(self):
        self.notice = ""
        self.editing = False
        self.profile = None
        self.not_found = False
        return await self._open(self._load, missing=self._missing)

    def _load(self, session: Any, user: Any) -> None:
        raw = self._route_param("user_id")
        if not raw.isdecimal():
            self._missing()
            return
        self.profile = accounts.get_profile(session, user, int(raw))

    def _missing(self) -> None:
        self.profile = None
        self.not_found = True

    @rx.event
    def start_edit(self):
        self.editing = True
        self.error = ""

    @rx.event
    def cancel_edit(self):
        self.editing = False
        self.error = ""

    @rx.event
    async def save(self, form: dict):
        def change(session: Any, user: Any) -> None:
            accounts.update_profile(
                session, user, name=str(form.get("name", "")), department=str(form.get("department", "")),
                bio=str(form.get("bio", "")), interests=str(form.get("interests", "")))
            self._refresh_me(session, user)
            self.profile = accounts.get_profile(session, user, user.id or 0)

        def saved(_: Any) -> None:
            self.editing = False

        return await self._change(change, notice="プロフィールを更新しました。", then=saved)

    @rx.event
    async def change_password(self, form: dict):
        def changed(token: str | None) -> None:
            if token:
                self.token = token

        return await self._change(
            accounts.change_password, str(form.get("current_password", "")),
            str(form.get("new_password", "")), keep_token=self.token,
            notice="パスワードを変更しました。ほかの端末のログインは終了しました。", then=changed)
