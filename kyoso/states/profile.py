"""Profile pages: anyone's profile, and editing one's own."""

from __future__ import annotations

import reflex as rx

from kyoso.services import accounts
from kyoso.services.errors import DomainError, NotAuthenticated
from kyoso.states.session import SessionState


class ProfileState(SessionState):
    profile: accounts.ProfileView | None = None
    not_found: bool = False
    editing: bool = False
    error: str = ""
    notice: str = ""

    @rx.event
    async def open_profile(self):
        self.error = ""
        self.notice = ""
        self.editing = False
        if (redirect := await self._load_shell()) is not None:
            return redirect
        raw = self._route_param("user_id")
        try:
            user_id = int(raw)
        except (TypeError, ValueError):
            self.not_found = True
            self.profile = None
            return None
        try:
            with self._reading() as (session, user):
                self._refresh_me(session, user)
                self.profile = accounts.get_profile(session, user, user_id)
                self.not_found = False
        except NotAuthenticated:
            return self._login_redirect()
        except DomainError:
            self.profile = None
            self.not_found = True
        return None

    @rx.event
    def start_edit(self):
        self.editing = True
        self.error = ""

    @rx.event
    def cancel_edit(self):
        self.editing = False
        self.error = ""

    @rx.event
    def save(self, form: dict):
        self.error = ""
        try:
            with self._acting() as (session, user):
                accounts.update_profile(
                    session, user, name=form.get("name", ""), department=form.get("department", ""),
                    bio=form.get("bio", ""), interests=form.get("interests", ""),
                )
                self._refresh_me(session, user)
                self.profile = accounts.get_profile(session, user, user.id or 0)
        except DomainError as exc:
            self.error = exc.message
            return
        self.editing = False
        self.notice = "プロフィールを更新しました。"

    @rx.event
    def change_password(self, form: dict):
        self.error = ""
        try:
            with self._acting() as (session, user):
                token = accounts.change_password(
                    session, user, str(form.get("current_password", "")),
                    str(form.get("new_password", "")), keep_token=self.token,
                )
        except DomainError as exc:
            self.error = exc.message
            return
        if token:
            self.token = token
        self.notice = "パスワードを変更しました。ほかの端末のログインは終了しました。"
