"""/polls/[id]: a poll's results by affiliation, exports, a print-ready page."""

from __future__ import annotations

import reflex as rx

from kyoso.services import export, polls
from kyoso.services.errors import DomainError, NotAllowed, NotAuthenticated, NotFound
from kyoso.states.session import SessionState


class PollResultsState(SessionState):
    poll: polls.PollView | None = None
    tally: polls.TallyView | None = None
    results: polls.AffiliationResults | None = None
    can_export: bool = False
    channel_slug: str = ""
    message_id: int = 0
    error: str = ""

    def _poll_id(self) -> int:
        return self._route_int("id")

    @rx.event
    async def open_results(self):
        self.error = ""
        self.poll = self.tally = self.results = None
        try:
            with self._reading() as (session, user):
                await self._shell(session, user)
                poll = polls.get_poll(session, self._poll_id())
                if not polls.can_view(session, user, poll):
                    raise NotFound("アンケートが見つかりません。")
                self.poll = polls.view(session, poll)
                self.can_export = polls.can_manage(user, poll)
                channel = polls.channel_of(session, poll)
                self.channel_slug = channel.slug if channel else ""
                self.message_id = poll.message_id or 0
                if polls.can_see_results(session, user, poll):
                    self.tally = polls.tally(session, poll)
                    self.results = polls.affiliation_results(session, user, poll.id or 0)
        except NotAuthenticated:
            return self._login_redirect()
        except DomainError as exc:
            self.error = exc.message
        return None

    @rx.event
    def download_csv(self):
        try:
            with self._reading() as (session, user):
                poll, header, rows = polls.ballots_for_export(session, user, self._poll_id())
        except DomainError as exc:
            self.error = exc.message
            return None
        return rx.download(data=export.to_csv(header, rows), filename=f"poll-{poll.id}.csv")

    @rx.event
    def download_chart(self):
        try:
            with self._reading() as (session, user):
                poll = polls.get_poll(session, self._poll_id())
                if not polls.can_see_results(session, user, poll):
                    raise NotAllowed("このアンケートの結果はまだ公開されていません。")
                view = polls.view(session, poll)
                tally = polls.tally(session, poll)
        except DomainError as exc:
            self.error = exc.message
            return None
        svg = export.bar_chart_svg(view.question, [o.label for o in view.options], tally.counts,
                                   subtitle=f"回答者 {tally.voters}人")
        return rx.download(data=svg.encode("utf-8"), filename=f"poll-{view.id}.svg")
