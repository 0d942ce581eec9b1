"""/polls/[id]: a poll's results by affiliation, exports, a print-ready page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso.services import export, poll_results, polls
from kyoso.services.errors import NotAllowed, NotFound
from kyoso.states.session import SessionState


class PollResultsState(SessionState):
    poll: polls.PollView | None = None
    tally: polls.TallyView | None = None
    results: poll_results.AffiliationResults | None = None
    can_export: bool = False
    channel_slug: str = ""
    message_id: int = 0
    error: str = ""

    def _poll_id(self) -> int:
        return self._route_int("id")

    @rx.event
    async def open_results(self):
        self.poll = self.tally = self.results = None
        return await self._open(self._load)

    def _load(self, session: Any, user: Any) -> None:
        poll = polls.get_poll(session, self._poll_id())
        if not polls.can_view(session, user, poll):
            raise NotFound("アンケートが見つかりません。")
        self.poll = polls.view(session, poll, user)
        self.can_export = polls.can_manage(user, poll)
        channel = polls.channel_of(session, poll)
        self.channel_slug = channel.slug if channel else ""
        self.message_id = poll.message_id or 0
        if polls.can_see_results(session, user, poll):
            self.tally = polls.tally(session, poll)
            self.results = poll_results.affiliation_results(session, user, poll.id or 0)

    @rx.event
    async def download_csv(self):
        return await self._read(poll_results.ballots_for_export, self._poll_id(), then=lambda made: rx.download(
            data=export.to_csv(made[1], made[2]), filename=f"poll-{made[0].id}.csv"))

    @rx.event
    async def download_chart(self):
        def chart(session: Any, user: Any) -> str:
            poll = polls.get_poll(session, self._poll_id())
            if not polls.can_see_results(session, user, poll):
                raise NotAllowed("このアンケートの結果はまだ公開されていません。")
            view, tally = polls.view(session, poll), polls.tally(session, poll)
            return export.bar_chart_svg(view.question, [o.label for o in view.options], tally.counts,
                                        subtitle=f"回答者 {tally.voters}人")

        return await self._read(chart, then=lambda svg: rx.download(
            data=svg.encode("utf-8"), filename=f"poll-{self._poll_id()}.svg"))
