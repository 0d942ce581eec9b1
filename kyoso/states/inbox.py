"""/inbox: mentions, replies to my threads, reminders."""

from __future__ import annotations

import reflex as rx

from kyoso.services import notifications
from kyoso.services.errors import DomainError, NotAuthenticated
from kyoso.states.session import SessionState


class InboxState(SessionState):
    items: list[notifications.InboxItem] = []

    @rx.event
    async def open_inbox(self):
        try:
            with self._reading() as (session, user):
                await self._shell(session, user)
                self.items = notifications.inbox(session, user)
        except NotAuthenticated:
            return self._login_redirect()
        return None

    @rx.event
    def mark_all_read(self):
        try:
            with self._acting() as (session, user):
                notifications.mark_all_read(session, user)
                self.items = notifications.inbox(session, user)
        except DomainError:
            return None
        from kyoso.states.sidebar import SidebarState

        return SidebarState.load_sidebar

    @rx.event
    def open_item(self, notification_id: int, link: str):
        try:
            with self._acting() as (session, user):
                notifications.mark_read(session, user, int(notification_id))
        except DomainError:
            pass
        if not str(link).startswith("/"):
            return None
        return rx.redirect(str(link))
