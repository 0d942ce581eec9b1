"""/questions: unresolved questions (未回答の質問), across channels or in one."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso import routes
from kyoso.services import channels, questions
from kyoso.states.session import SessionState


class QuestionsState(SessionState):
    items: list[questions.QuestionView] = []
    counts: list[questions.ChannelQuestionCount] = []
    total: int = 0
    channel: str = ""
    channel_name: str = ""
    more: bool = False
    error: str = ""

    @rx.var
    def channel_unlisted(self) -> bool:
        """A channel chosen by URL that has no open question (so no option yet)."""
        return bool(self.channel and self.channel_name
                    and all(c.slug != self.channel for c in self.counts))

    def _channel_id(self, session: Any) -> int | None:
        if not self.channel:
            return None
        channel = channels.get_channel_by_slug(session, self.channel)
        self.channel_name = channel.name
        return channel.id

    @rx.event
    async def open_questions(self):
        self.channel = self._query_param("channel", 40)
        self.channel_name = ""
        self.items, self.more = [], False
        return await self._open(self._load)

    def _load(self, session: Any, user: Any) -> None:
        self.counts = questions.unresolved_counts(session, user)
        self.total = sum(c.count for c in self.counts)
        self.items, self.more = questions.unresolved(session, user, channel_id=self._channel_id(session))

    @rx.event
    def choose_channel(self, slug: str):
        return rx.redirect(routes.QUESTIONS + (f"?channel={slug}" if slug else ""))

    @rx.event
    async def load_more(self):
        if not self.more or not self.items:
            return None

        def older(session: Any, user: Any) -> None:
            page, self.more = questions.unresolved(session, user, channel_id=self._channel_id(session),
                                                   before_id=self.items[-1].id)
            self.items = self.items + page

        return await self._read(older)
