"""The page shown for an address kyoso does not have: the shell, in Japanese."""

from __future__ import annotations

import reflex as rx

from kyoso.states.session import SessionState


class NotFoundState(SessionState):
    error: str = ""

    @rx.event
    async def open_not_found(self):
        return await self._open()
