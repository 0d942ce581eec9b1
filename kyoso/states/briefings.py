"""説明会: the list (/briefings), a briefing's room (/briefings/[id]) and its
presenter view (/briefings/[id]/present).

Live vars: ``briefing``, ``live_poll_id``, ``questions`` (assign fresh only).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from kyoso import realtime
from kyoso.services import announcements, briefings, polls
from kyoso.services.errors import DomainError, InvalidInput, NotAuthenticated
from kyoso.services.events import Event
from kyoso.services.timefmt import JST
from kyoso.states.polls import PollState, poll_input
from kyoso.states.session import SessionState


def _local(value: str, label: str) -> datetime:
    try:
        return datetime.fromisoformat((value or "").strip()).replace(tzinfo=JST)
    except ValueError:
        raise InvalidInput(f"{label}を入力してください（日本時間）。") from None


class BriefingListState(SessionState):
    upcoming: list[briefings.BriefingView] = []
    past: list[briefings.BriefingView] = []
    channels: list[list[str]] = []
    creating: bool = False
    error: str = ""

    @rx.event
    async def open_list(self):
        self.error = ""
        if (redirect := await self._load_shell()) is not None:
            return redirect
        try:
            with self._reading() as (session, user):
                self.upcoming, self.past = briefings.lists(session, user)
                self.channels = [[str(i), n] for i, n in announcements.announcement_channels(session, user)]
        except NotAuthenticated:
            return self._login_redirect()
        return None

    @rx.event
    def toggle_create(self):
        self.creating = not self.creating
        self.error = ""

    @rx.event
    def create(self, form: dict):
        self.error = ""
        try:
            data = briefings.BriefingInput(
                title=str(form.get("title", "")), description=str(form.get("description", "")),
                starts_at=_local(str(form.get("starts_at", "")), "開始日時"),
                ends_at=_local(str(form.get("ends_at", "")), "終了日時"),
                online_url=str(form.get("online_url", "")), place=str(form.get("place", "")),
                capacity=int(str(form.get("capacity") or 0)),
                channel_id=int(str(form.get("channel_id") or 0)) or None,
            )
            with self._acting() as (session, user):
                briefing = briefings.create_briefing(session, user, data)
                bid = briefing.id
        except ValueError:
            self.error = "定員は数字で入力してください。"
            return None
        except DomainError as exc:
            self.error = exc.message
            return None
        self.creating = False
        return rx.redirect(f"/briefings/{bid}")


class BriefingState(SessionState):
    briefing: briefings.BriefingView | None = None
    not_found: bool = False
    status: str = ""
    status_label: str = ""
    can_manage: bool = False
    live_poll_id: int = 0
    room_polls: list[list[str]] = []  # [id, question] of the briefing's polls (managers)
    questions: list[briefings.QuestionView] = []
    questions_rev: int = 0
    my_votes: list[int] = []
    my_questions: list[int] = []
    attendance: int = 0
    error: str = ""
    notice: str = ""
    poll_form_open: bool = False
    poll_form_options: int = 2
    live_patch: dict[str, Any] = {}

    def _id(self) -> int:
        return self._route_int("id")

    async def _load(self, *, live: bool = False) -> None:
        """Read the room fresh. Called outside any writing transaction (it awaits).

        After an action only this member's own vars are re-read (``live``
        False): the shared ones (the header, the questions, the live poll)
        come to everyone, this member included, by the room's rev-guarded live
        update. A plain re-read here could reach the browser after a newer live
        update and put an older list back on screen."""
        with self._reading() as (session, user):
            await self._load_in(session, user, live=live)

    async def _load_in(self, session: Any, user: Any, *, live: bool = True) -> None:
        briefing = briefings.get_briefing(session, self._id())
        bid = briefing.id or 0
        if live:
            # Subscribe first: a change committed after the reads below still
            # reaches this client.
            await realtime.subscribe(self, "page", [f"briefing:{bid}"], session, user)
            await self._shell(session, user)
            self.briefing = briefings.view(session, briefing)
            self.live_poll_id = briefing.live_poll_id or 0
            self.questions, self.questions_rev = briefings.room_questions(session, bid)
            self.attendance = briefings.attendance(session, bid)
        self.status = briefings.registration_status(session, user, bid)
        self.status_label = briefings.STATUS_LABELS.get(self.status, "")
        self.can_manage = briefings.can_manage(user, briefing)
        self.my_votes = briefings.my_question_votes(session, user, bid)
        self.my_questions = briefings.my_questions(session, user, bid)
        room_polls = briefings.briefing_polls(session, bid)
        self.room_polls = [[str(p.id), p.question] for p in room_polls] if self.can_manage else []
        if live:
            poll_state = await self.get_state(PollState)
            live_poll = briefing.live_poll_id or 0
            shown = [p.id or 0 for p in room_polls] if self.can_manage else ([live_poll] if live_poll else [])
            await poll_state._load(session, user, shown)

    @rx.event
    async def open_room(self):
        self.error = ""
        self.notice = ""
        try:
            with self._acting() as (session, user):
                events = briefings.mark_attended(session, user, self._id())
            await self._load(live=True)
            self.not_found = False
        except NotAuthenticated:
            return self._login_redirect()
        except DomainError:
            self.not_found = True
            self.briefing = None
            return None
        realtime.publish_soon(events)
        return None

    async def _do(self, fn, *args: Any, notice: str = "") -> bool:  # type: ignore[no-untyped-def]
        self.error = ""
        try:
            with self._acting() as (session, user):
                result = fn(session, user, *args)
                events: list[Event] = result[1] if isinstance(result, tuple) else result
            await self._load()
        except DomainError as exc:
            self.error = exc.message
            return False
        self.notice = notice
        realtime.publish_soon(events)
        return True

    @rx.event
    async def register(self):
        await self._do(briefings.register, self._id(), notice="申し込みました。")
        if self.status == briefings.WAITLISTED:
            self.notice = "定員に達しているため、キャンセル待ちで受け付けました。"

    @rx.event
    async def cancel(self):
        await self._do(briefings.cancel, self._id(), notice="申し込みをキャンセルしました。")

    @rx.event
    def download_ics(self):
        try:
            with self._reading() as (session, user):
                text = briefings.ics(session, user, self._id(), host=self.router.headers.host or "kyoso")
        except DomainError as exc:
            self.error = exc.message
            return None
        return rx.download(data=text.encode("utf-8"), filename=f"briefing-{self._id()}.ics",
                           mime_type="text/calendar")

    @rx.event
    async def submit_question(self, form: dict):
        body = str(form.get("body", ""))
        anonymous = bool(form.get("anonymous"))
        self.error = ""
        try:
            with self._acting() as (session, user):
                _, events = briefings.ask(session, user, self._id(), body, anonymous=anonymous)
            await self._load()
        except DomainError as exc:
            self.error = exc.message
            return None
        realtime.publish_soon(events)
        return rx.set_value("question-input", "")

    @rx.event
    async def upvote(self, question_id: int):
        await self._do(briefings.toggle_upvote, int(question_id))

    @rx.event
    async def mark_answered(self, question_id: int, answered: bool):
        await self._do(lambda s, u, q: briefings.answer_question(s, u, q, answered=answered), int(question_id))

    @rx.event
    async def hide_question(self, question_id: int):
        await self._do(briefings.hide_question, int(question_id))

    @rx.event
    async def show_poll(self, poll_id: int):
        await self._do(briefings.set_live_poll, self._id(), int(poll_id) or None)

    @rx.event
    def toggle_poll_form(self):
        self.poll_form_open = not self.poll_form_open
        self.poll_form_options = 2

    @rx.event
    def add_poll_option(self):
        self.poll_form_options = min(self.poll_form_options + 1, polls.MAX_OPTIONS)

    @rx.event
    async def create_poll(self, form: dict):
        self.error = ""
        try:
            data = poll_input(form, self.poll_form_options)
            with self._acting() as (session, user):
                poll, events = polls.create_briefing_poll(session, user, self._id(), data)
                events += briefings.set_live_poll(session, user, self._id(), poll.id)
            await self._load()
        except DomainError as exc:
            self.error = exc.message
            return
        self.poll_form_open = False
        await realtime.publish(events)

    @rx.event
    async def archive(self):
        await self._do(briefings.archive, self._id(),
                       notice="まとめを関連チャンネルのスレッドとして投稿しました。")
