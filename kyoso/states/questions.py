"""/questions: unresolved questions (未回答の質問), across channels or in one."""

from __future__ import annotations

import reflex as rx

from kyoso import routes
from kyoso.services import channels, questions
from kyoso.services.errors import DomainError, NotAuthenticated
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

    def _channel_id(self, session) -> int | None:  # type: ignore[no-untyped-def]
        if not self.channel:
            return None
        channel = channels.get_channel_by_slug(session, self.channel)
        self.channel_name = channel.name
        return channel.id

    @rx.event
    async def open_questions(self):
        if (redirect := await self._load_shell()) is not None:
            return redirect
        self.error = ""
        self.channel = str(self.router.url.query_parameters.get("channel", "") or "")[:40]
        self.channel_name = ""
        try:
            with self._reading() as (session, user):
                self.counts = questions.unresolved_counts(session, user)
                self.total = sum(c.count for c in self.counts)
                self.items, self.more = questions.unresolved(session, user,
                                                             channel_id=self._channel_id(session))
        except NotAuthenticated:
            return self._login_redirect()
        except DomainError as exc:
            self.error = exc.message
            self.items, self.more = [], False
        return None

    @rx.event
    def choose_channel(self, slug: str):
        return rx.redirect(routes.QUESTIONS + (f"?channel={slug}" if slug else ""))

    @rx.event
    def load_more(self):
        if not self.more or not self.items:
            return
        try:
            with self._reading() as (session, user):
                older, self.more = questions.unresolved(session, user, channel_id=self._channel_id(session),
                                                        before_id=self.items[-1].id)
        except DomainError as exc:
            self.error = exc.message
            return
        self.items = self.items + older
