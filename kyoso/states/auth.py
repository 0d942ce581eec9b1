"""Login and sign-up pages."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from kyoso import routes
from kyoso.db import read_scope
from kyoso.services import accounts, organisations
from kyoso.states.session import SessionState


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return routes.HOME
    return value


class LoginState(SessionState):
    error: str = ""
    notice: str = ""
    busy: bool = False
    # This browser's device token: it logged in before, so failures made
    # elsewhere never lock it out (accounts.log_in).
    device: str = rx.LocalStorage("", name="kyoso_device", sync=True)

    @rx.event
    def open_login(self):
        self.error = ""
        self.busy = False
        # After /password/reset (which ended every session of the member).
        done = self._router("url").query_parameters.get("reset") == "done"
        self.notice = "パスワードを設定しました。新しいパスワードでログインしてください。" if done else ""
        # Already logged in: go home.
        with read_scope() as session:
            if accounts.user_for_token(session, self.token) is not None:
                return rx.redirect(routes.HOME, replace=True)
        return None

    @rx.event
    async def submit(self, form: dict):
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        if not email.strip() or not password:
            self.error = "メールアドレスとパスワードを入力してください。"
            return None

        device = str(self.device or "")[:100]

        def log_in(session: Any) -> str:
            result = accounts.log_in(session, email, password, client_key=self._client_key(),
                                     device=device)
            self._refresh_me(session, result.user)
            self.device = result.device
            return accounts.create_session(session, result.user)

        def logged_in(token: str) -> Any:
            self.token = token
            return rx.redirect(_safe_next(self._router("url").query_parameters.get("next")), replace=True)

        return await self._public(log_in, then=logged_in)


@dataclasses.dataclass
class OrgChoice:
    code: str = ""
    label: str = ""
    kana: str = ""


class SignupState(SessionState):
    error: str = ""
    error_field: str = ""
    done: bool = False
    done_email: str = ""
    org_query: str = ""
    org_code: str = ""
    org_label: str = ""
    org_options: list[OrgChoice] = []
    email_kind: str = ""  # "local" | "agency" | "" : narrows the 団体 picker
    rules: list[str] = list(accounts.RULES)

    @rx.event
    def open_signup(self):
        self.error = ""
        self.error_field = ""
        self.done = False

    @rx.event
    def email_changed(self, value: str):
        kind = accounts.email_domain_kind(value.strip().lower()) or ""
        if kind != self.email_kind:
            self.email_kind = kind
            self._search()

    @rx.event
    def search_org(self, value: str):
        value = str(value)[:100]  # before login: a client sets no more than a page view holds
        self.org_query = value
        # Typing clears an earlier choice unless the text is still its label.
        if value != self.org_label:
            self.org_code = ""
            self.org_label = ""
        self._search()

    def _search(self) -> None:
        hits = organisations.search_organisations(
            self.org_query, kind=self.email_kind or None, limit=12
        )
        self.org_options = [OrgChoice(h.code, h.label, h.kana) for h in hits]

    @rx.event
    def choose_org(self, code: str):
        for option in self.org_options:
            if option.code == code:
                self.org_code = option.code
                self.org_label = option.label
                self.org_query = option.label
        self.org_options = []

    @rx.event
    async def submit(self, form: dict):
        self.error_field = ""
        data = accounts.SignupInput(
            email=str(form.get("email", "")), name=str(form.get("name", "")),
            org_code=self.org_code or str(form.get("org", "")),
            department=str(form.get("department", "")), password=str(form.get("password", "")),
            accepted_rules=str(form.get("rules", "")).lower() in ("on", "true", "1", "yes"),
        )

        def applied(email: str) -> None:
            self.done = True
            self.done_email = email

        return await self._public(
            lambda session: accounts.do_signup(session, data, client_key=self._client_key()).email,
            then=applied)
