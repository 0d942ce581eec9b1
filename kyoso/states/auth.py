"""Login and sign-up pages."""

from __future__ import annotations

import dataclasses

import reflex as rx

from kyoso.db import session_scope
from kyoso.services import accounts, organisations
from kyoso.services.errors import DomainError
from kyoso.states.session import SessionState


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class LoginState(SessionState):
    error: str = ""
    busy: bool = False

    @rx.event
    def open_login(self):
        self.error = ""
        self.busy = False
        # Already logged in: go home.
        with session_scope() as session:
            if accounts.user_for_token(session, self.token) is not None:
                return rx.redirect("/", replace=True)
        return None

    @rx.event
    def submit(self, form: dict):
        self.error = ""
        email = str(form.get("email", ""))
        password = str(form.get("password", ""))
        if not email.strip() or not password:
            self.error = "メールアドレスとパスワードを入力してください。"
            return None
        try:
            with session_scope() as session:
                user = accounts.authenticate(session, email, password, client_key=self._client_key())
                token = accounts.create_session(session, user)
                self._refresh_me(session, user)
        except DomainError as exc:
            self.error = exc.message
            return None
        self.token = token
        return rx.redirect(_safe_next(self.router.url.query_parameters.get("next")), replace=True)


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
    def submit(self, form: dict):
        self.error = ""
        self.error_field = ""
        org = self.org_code or str(form.get("org", ""))
        data = accounts.SignupInput(
            email=str(form.get("email", "")), name=str(form.get("name", "")), org_code=org,
            department=str(form.get("department", "")), password=str(form.get("password", "")),
            accepted_rules=str(form.get("rules", "")).lower() in ("on", "true", "1", "yes"),
        )
        try:
            with session_scope() as session:
                user = accounts.do_signup(session, data, client_key=self._client_key())
                email = user.email
        except DomainError as exc:
            self.error = exc.message
            self.error_field = exc.field or ""
            return
        self.done = True
        self.done_email = email
