"""The pages reached from a mail, before login: /verify?token= (confirm the
address of an application), /password/forgot and /password/reset?token=.

Each handler is ``_public`` (a domain change without a token): a bad link or
input shows the domain's Japanese message in ``error`` and changes nothing.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso import routes
from kyoso.services import account_mail
from kyoso.states.session import SessionState


class VerifyState(SessionState):
    """/verify?token=: the link of the confirmation mail. Opening it confirms
    the address; a link that no longer works offers to send a new one."""

    error: str = ""
    error_field: str = ""
    confirmed_name: str = ""
    resent: str = ""
    loading: bool = True

    @rx.event
    async def open_verify(self):
        self.confirmed_name, self.resent, self.loading = "", "", True

        def confirmed(name: str) -> None:
            self.confirmed_name = name

        token = self._query_param("token")
        self.error = ""
        if token:  # without one, the page only offers to send the mail again
            await self._public(lambda session: account_mail.confirm_email(session, token).name,
                               then=confirmed)
        self.loading = False

    @rx.event
    async def resend(self, form: dict):
        email = str(form.get("email", ""))[:254]

        def sent(message: str) -> None:
            self.resent = message

        return await self._public(account_mail.resend_confirmation, email, client_key=self._client_key(),
                                  then=sent)


class ForgotState(SessionState):
    """/password/forgot: ask for a reset link. The answer is the same whether
    or not the address is registered."""

    error: str = ""
    error_field: str = ""
    sent: str = ""

    @rx.event
    def open_forgot(self):
        self.error, self.error_field, self.sent = "", "", ""

    @rx.event
    async def submit(self, form: dict):
        self.error_field = ""
        email = str(form.get("email", ""))[:254]

        def accepted(message: str) -> None:
            self.sent = message

        return await self._public(account_mail.request_password_reset, email,
                                  client_key=self._client_key(), then=accepted)


class ResetState(SessionState):
    """/password/reset?token=: set a new password. Every session of the
    member ends; this browser goes to the login page."""

    error: str = ""
    error_field: str = ""
    valid: bool = False
    name: str = ""
    expires: str = ""

    @rx.event
    async def open_reset(self):
        self.valid, self.name, self.expires, self.error_field = False, "", "", ""

        def usable(link: account_mail.ResetLink) -> None:
            self.valid, self.name, self.expires = True, link.name, link.expires

        await self._public(account_mail.check_reset_link, self._query_param("token"), then=usable)

    @rx.event
    async def submit(self, form: dict):
        self.error_field = ""
        token, password = self._query_param("token"), str(form.get("password", ""))[:1000]

        def changed(_: Any) -> Any:
            self.token = ""  # this browser's own session (if any) ended with the others
            return rx.redirect(f"{routes.LOGIN}?reset=done", replace=True)

        return await self._public(account_mail.reset_password, token, password, then=changed)
