"""Polls shown in a page (a channel, a 説明会 room): definitions, tallies, my
choices, and the form that creates one.

``polls`` and ``tallies`` are live vars (see ARCHITECTURE.md): handlers only
assign them fresh values from the database. ``tallies`` only ever holds the
polls whose results this member may see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from kyoso import realtime
from kyoso.models import ResultsVisibility
from kyoso.services import channels, polls
from kyoso.services.errors import InvalidInput
from kyoso.services.timefmt import JST
from kyoso.states.session import SessionState

MAX_FORM_OPTIONS = polls.MAX_OPTIONS
MAX_OTHER_DRAFTS = 20  # その他 texts kept at once (the newest)


def parse_deadline(value: str) -> datetime | None:
    """A datetime-local input ("2026-11-30T17:00"), read as JST."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=JST)
    except ValueError:
        raise InvalidInput("締め切りの日時が正しくありません。", field="deadline") from None


def poll_input(form: dict[str, Any], option_count: int) -> polls.PollInput:
    options = [str(form.get(f"option_{i}", "")) for i in range(option_count)]
    try:
        max_choices = int(form.get("max_choices") or 0)
    except ValueError:
        raise InvalidInput("選べる数は数字で入力してください。", field="max_choices") from None
    return polls.PollInput(
        question=str(form.get("question", "")), options=options,
        multiple=bool(form.get("multiple")), max_choices=max_choices,
        allow_other=bool(form.get("allow_other")), anonymous=not bool(form.get("named")),
        visibility=str(form.get("visibility") or ResultsVisibility.always),
        deadline=parse_deadline(str(form.get("deadline", ""))),
    )


@realtime.live("polls")
class PollState(SessionState):
    polls: dict[str, polls.PollView] = {}
    tallies: dict[str, polls.TallyView] = {}
    my_votes: dict[str, list[int]] = {}
    other_drafts: dict[str, str] = {}
    error: str = ""
    error_poll: int = 0
    # The creation form.
    form_open: bool = False
    form_options: int = 2
    form_error: str = ""
    live_patch: dict[str, Any] = {}

    def _load(self, session: Any, user: Any, poll_ids: list[int]) -> None:
        """Called by the page state that shows these polls."""
        page = polls.page_polls(session, user, poll_ids)
        self.polls, self.tallies = page.views, page.tallies
        self.my_votes = polls.my_choices(session, user, poll_ids)
        self.error = ""
        realtime.subscribe(self, "polls", page.results_rooms, session, user)

    def _refresh(self, session: Any, user: Any, poll_id: int) -> None:
        """Fresh copies of one poll's view, tally and my choices; its results
        room joined first when this member may now see them."""
        poll = polls.get_poll(session, poll_id)
        key = str(poll_id)
        visible = polls.can_see_results(session, user, poll)
        topic = polls.results_topic(poll)
        if visible and topic.startswith("poll-results:"):
            realtime.add_topic(self, "polls", topic, session, user)
        self.polls = {**self.polls, key: polls.view(session, poll, user)}
        tallies = {k: v for k, v in self.tallies.items() if k != key}
        if visible:
            tallies[key] = polls.tally(session, poll)
        self.tallies = tallies
        votes = {k: v for k, v in self.my_votes.items() if k != key}
        votes.update(polls.my_choices(session, user, [poll_id]))
        self.my_votes = votes

    async def _after(self, poll_id: int) -> Any:
        return await self._read(self._refresh, poll_id)

    # -- voting --------------------------------------------------------------

    @rx.event
    async def choose(self, poll_id: int, index: int):
        """One click: pick an option (single choice), or add/remove it (multiple)."""
        poll_id, index = int(poll_id), int(index)
        current = list(self.my_votes.get(str(poll_id), []))
        view = self.polls.get(str(poll_id))
        if view and view.multiple:
            chosen = [p for p in current if p != index] if index in current else current + [index]
        else:
            chosen = [] if current == [index] else [index]
        return await self._vote(poll_id, chosen)

    @rx.event
    def set_other_draft(self, poll_id: int, text: str):
        """The その他 text typed beside a poll: kept only after the token was
        checked (``me``), up to its length limit, for the last few polls typed
        in (a poll that arrived by a live patch is not in the server's copy
        of ``polls``, so that cannot be the test)."""
        try:
            key = str(int(poll_id))
        except (TypeError, ValueError):
            return
        if not self.me.id:
            return
        drafts = {k: v for k, v in self.other_drafts.items() if k != key}
        drafts[key] = str(text)[:polls.OTHER_MAX]
        self.other_drafts = dict(list(drafts.items())[-MAX_OTHER_DRAFTS:])

    @rx.event
    async def send_other(self, poll_id: int, index: int):
        """Choose 「その他」 with the text typed beside it."""
        poll_id, index = int(poll_id), int(index)
        current = [p for p in self.my_votes.get(str(poll_id), []) if p != index]
        view = self.polls.get(str(poll_id))
        chosen = current + [index] if view and view.multiple else [index]
        return await self._vote(poll_id, chosen, self.other_drafts.get(str(poll_id), ""))

    async def _vote(self, poll_id: int, chosen: list[int], other: str | None = None) -> Any:
        """The hot path of a 1,000-person vote burst: one write, then only what
        this client lacks; the new tally reaches everyone (this voter too) by
        the coalesced live update."""
        key = str(poll_id)
        self.error_poll = poll_id

        def cast(session: Any, user: Any) -> bool:
            # Held here, the poll is read once: vote() finds it in the session.
            poll = polls.get_poll(session, poll_id)
            polls.vote(session, user, poll_id, chosen, other_text=other, client_key=self._client_key())
            # Results shown to the whole room reach this member with the
            # room's live update; only a results room is joined and read here.
            return (polls.results_topic(poll).startswith("poll-results:") and key not in self.tallies
                    and polls.can_see_results(session, user, poll))

        async def cast_done(newly_visible: bool) -> Any:
            self.my_votes = {**{k: v for k, v in self.my_votes.items() if k != key},
                             **({key: sorted(set(chosen))} if chosen else {})}
            if newly_visible:
                return await self._after(poll_id)
            return None

        return await self._change(cast, then=cast_done)

    @rx.event
    async def set_closed(self, poll_id: int, closed: bool):
        self.error_poll = int(poll_id)
        return await self._change(polls.set_closed, int(poll_id), bool(closed),
                                  then=lambda _: self._after(int(poll_id)))

    # -- the creation form ----------------------------------------------------

    @rx.event
    def open_form(self):
        self.form_open = True
        self.form_options = 2
        self.form_error = ""

    @rx.event
    def close_form(self):
        self.form_open = False

    @rx.event
    def add_option(self):
        self.form_options = min(self.form_options + 1, MAX_FORM_OPTIONS)

    @rx.event
    def remove_option(self):
        self.form_options = max(self.form_options - 1, 2)

    @rx.event
    async def create(self, form: dict):
        """A poll posted in the channel this page shows."""
        slug, count = self._route_param("slug"), self.form_options

        def change(session: Any, user: Any) -> int:
            channel = channels.get_channel_by_slug(session, slug)
            return polls.create_poll(session, user, channel.id or 0, poll_input(form, count)).id or 0

        async def created(poll_id: int) -> Any:
            self.form_open = False
            return await self._after(poll_id)

        return await self._change(change, error="form_error", then=created)
