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
from kyoso.db import read_scope
from kyoso.models import ResultsVisibility
from kyoso.services import polls
from kyoso.services.errors import DomainError, InvalidInput, NotAuthenticated
from kyoso.services.events import Event
from kyoso.services.timefmt import JST
from kyoso.states.session import SessionState

MAX_FORM_OPTIONS = polls.MAX_OPTIONS


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

    async def _load(self, session: Any, user: Any, poll_ids: list[int]) -> None:
        """Called by the page state that shows these polls."""
        self.polls, self.tallies = polls.views_for(session, user, poll_ids)
        self.my_votes = polls.my_choices(session, user, poll_ids)
        self.error = ""
        topics = set()
        for pid in self.tallies:
            poll = polls.get_poll(session, int(pid))
            topic = polls.results_topic(poll)
            if topic.startswith("poll-results:"):
                topics.add(topic)
        await realtime.subscribe(self, "polls", topics, session, user)

    def _refresh(self, session: Any, user: Any, poll_id: int) -> None:
        """Fresh copies of one poll's view, tally and my choices."""
        poll = polls.get_poll(session, poll_id)
        key = str(poll_id)
        self.polls = {**self.polls, key: polls.view(session, poll)}
        tallies = {k: v for k, v in self.tallies.items() if k != key}
        if polls.can_see_results(session, user, poll):
            tallies[key] = polls.tally(session, poll)
        self.tallies = tallies
        votes = {k: v for k, v in self.my_votes.items() if k != key}
        votes.update(polls.my_choices(session, user, [poll_id]))
        self.my_votes = votes

    async def _after(self, events: list[Event], poll_id: int) -> None:
        with read_scope() as session:
            from kyoso.services import accounts

            user = accounts.user_for_token(session, self.token)
            if user is not None:
                self._refresh(session, user, poll_id)
                poll = polls.get_poll(session, poll_id)
                topic = polls.results_topic(poll)
                if topic.startswith("poll-results:") and polls.can_see_results(session, user, poll):
                    await realtime.hub.add_topic(realtime.client_sid(self), "polls", topic)
        await realtime.publish(events)

    # -- voting --------------------------------------------------------------

    @rx.event
    async def choose(self, poll_id: int, index: int):
        """One click: pick an option (single choice), or add/remove it (multiple)."""
        poll_id, index = int(poll_id), int(index)
        self.error = ""
        current = list(self.my_votes.get(str(poll_id), []))
        view = self.polls.get(str(poll_id))
        multiple = bool(view and view.multiple)
        if multiple:
            chosen = [p for p in current if p != index] if index in current else current + [index]
        else:
            chosen = [] if current == [index] else [index]
        await self._vote(poll_id, chosen)

    @rx.event
    def set_other_draft(self, poll_id: int, text: str):
        self.other_drafts = {**self.other_drafts, str(poll_id): text}

    @rx.event
    async def send_other(self, poll_id: int, index: int):
        """Choose 「その他」 with the text typed beside it."""
        poll_id, index = int(poll_id), int(index)
        current = [p for p in self.my_votes.get(str(poll_id), []) if p != index]
        view = self.polls.get(str(poll_id))
        chosen = current + [index] if view and view.multiple else [index]
        await self._vote(poll_id, chosen, self.other_drafts.get(str(poll_id), ""))

    async def _vote(self, poll_id: int, chosen: list[int], other: str | None = None) -> None:
        """The hot path of a 1,000-person vote burst: one write, then only what
        this client lacks; the new tally reaches everyone (this voter too) by
        the coalesced live update."""
        key = str(poll_id)
        try:
            with self._acting() as (session, user):
                # Held here, the poll is read once: vote() finds it in the session.
                poll = polls.get_poll(session, poll_id)
                events = polls.vote(session, user, poll_id, chosen, other_text=other,
                                    client_key=self._client_key())
                topic = polls.results_topic(poll)
                # Results shown to the whole room reach this member with the
                # room's live update; only a results room is joined and read here.
                newly_visible = (topic.startswith("poll-results:") and key not in self.tallies
                                 and polls.can_see_results(session, user, poll))
        except NotAuthenticated:
            self.error = "ログインしてください。"
            self.error_poll = poll_id
            return
        except DomainError as exc:
            self.error = exc.message
            self.error_poll = poll_id
            return
        self.error = ""
        self.my_votes = {**{k: v for k, v in self.my_votes.items() if k != key},
                         **({key: sorted(set(chosen))} if chosen else {})}
        if newly_visible:
            # Join the results room first, then read: nothing newer can be missed.
            await realtime.hub.add_topic(realtime.client_sid(self), "polls", topic)
            with self._reading() as (session, _user):
                self.tallies = {**self.tallies, key: polls.tally(session, polls.get_poll(session, poll_id))}
        realtime.publish_soon(events)

    @rx.event
    async def set_closed(self, poll_id: int, closed: bool):
        poll_id = int(poll_id)
        self.error = ""
        try:
            with self._acting() as (session, user):
                events = polls.set_closed(session, user, poll_id, bool(closed))
        except DomainError as exc:
            self.error = exc.message
            self.error_poll = poll_id
            return
        await self._after(events, poll_id)

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
        from kyoso.states.channel import ChannelState

        self.form_error = ""
        channel_state = await self.get_state(ChannelState)
        try:
            data = poll_input(form, self.form_options)
            with self._acting() as (session, user):
                poll, events = polls.create_poll(session, user, channel_state.channel.id, data)
                poll_id = poll.id or 0
        except DomainError as exc:
            self.form_error = exc.message
            return
        self.form_open = False
        await self._after(events, poll_id)
