"""説明会: the list (/briefings), a briefing's room (/briefings/[id]) and its
presenter view (/briefings/[id]/present).

Live vars: ``briefing``, ``live_poll_id``, ``questions`` (assign fresh only).
"""

from __future__ import annotations

import functools

from datetime import datetime
from typing import Any

import reflex as rx
import segno

from kyoso import realtime, routes
from kyoso.services import announcements, attachments, briefing_room, briefings, polls
from kyoso.services.errors import InvalidInput
from kyoso.services.timefmt import JST
from kyoso.states.attachments import AttachmentState
from kyoso.states.drafts import sent_script
from kyoso.states.polls import PollState, poll_input
from kyoso.states.session import SessionState


def _local(value: str, label: str) -> datetime:
    try:
        return datetime.fromisoformat((value or "").strip()).replace(tzinfo=JST)
    except ValueError:
        raise InvalidInput(f"{label}を入力してください（日本時間）。") from None


def _capacity(value: object) -> int:
    try:
        return int(str(value or 0))
    except ValueError:
        raise InvalidInput("定員は数字で入力してください。", field="capacity") from None


@functools.lru_cache(maxsize=256)
def join_qr(url: str) -> str:
    """The join URL as a QR code, an SVG data URI made here (nothing loaded
    from another host). The same for every arrival: made once per URL (drawing
    it was 17 % of a 説明会 room join)."""
    return segno.make(url, error="m").svg_data_uri(scale=8, border=2, dark="#000", light="#fff")


def briefing_input(form: dict[str, Any]) -> briefings.BriefingInput:
    return briefings.BriefingInput(
        title=str(form.get("title", "")), description=str(form.get("description", "")),
        starts_at=_local(str(form.get("starts_at", "")), "開始日時"),
        ends_at=_local(str(form.get("ends_at", "")), "終了日時"),
        online_url=str(form.get("online_url", "")), place=str(form.get("place", "")),
        capacity=_capacity(form.get("capacity")),
        channel_id=_capacity(form.get("channel_id")) or None,
    )


class BriefingListState(SessionState):
    upcoming: list[briefings.BriefingView] = []
    past: list[briefings.BriefingView] = []
    channels: list[list[str]] = []
    creating: bool = False
    error: str = ""

    @rx.event
    async def open_list(self):
        return await self._open(self._load)

    def _load(self, session: Any, user: Any) -> None:
        self.upcoming, self.past = briefings.lists(session, user)
        self.channels = [[str(i), n] for i, n in announcements.announcement_channels(session, user)]

    @rx.event
    def toggle_create(self):
        self.creating = not self.creating
        self.error = ""

    @rx.event
    async def create(self, form: dict):
        files = await self.get_state(AttachmentState)  # attachments: the form's pending files
        file_ids = files._ids("briefing")

        def change(session: Any, user: Any) -> int:
            briefing_id = briefings.create_briefing(session, user, briefing_input(form)).id or 0
            attachments.attach_to_briefing(session, user, file_ids, briefing_id)
            return briefing_id

        def created(briefing_id: int) -> Any:
            files._clear("briefing")
            self.creating = False
            return rx.redirect(routes.briefing(briefing_id))

        return await self._change(change, then=created)


@realtime.live("briefing")
class BriefingState(SessionState):
    briefing: briefings.BriefingView | None = None
    not_found: bool = False
    status: str = ""
    status_label: str = ""
    can_manage: bool = False
    live_poll_id: int = 0
    room_polls: list[list[str]] = []  # [id, question] of the briefing's polls (managers)
    questions: list[briefing_room.BriefingQuestionView] = []
    materials: list[attachments.AttachmentView] = []  # the 説明会's files
    questions_rev: int = 0
    my_votes: list[int] = []
    my_questions: list[int] = []
    attendance: int = 0
    error: str = ""
    notice: str = ""
    poll_form_open: bool = False
    poll_form_options: int = 2
    question_order: str = "popular"  # 人気順 (live reorder) or "new" (新着順)
    join_url: str = ""  # the presenter view shows it, with its QR code
    join_qr: str = ""
    live_patch: dict[str, Any] = {}
    _attend: bool = False  # this room load is a first visit while it is on: count it

    def _id(self) -> int:
        return self._route_int("id")

    @rx.event
    async def open_room(self):
        self.notice = ""
        self._attend = False
        redirect = await self._open(self._load_room, shell=False, missing=self._missing)
        if redirect is None and self._attend:
            # A first visit while it is on counts as attending: written after
            # the reading (nothing is awaited inside a writing transaction),
            # as the member this load has just checked (``me``, set by it);
            # the new count reaches this room, this client too, live.
            await self._unchecked(briefing_room.mark_attended_of, self.me.id, self._id())
        return redirect

    def _missing(self) -> None:
        self.not_found = True
        self.briefing = None

    def _page_parts(self) -> tuple[type[rx.State], ...]:
        return (PollState,)

    def _load_room(self, session: Any, user: Any) -> None:
        briefing = briefings.read_briefing(session, self._id())
        bid = briefing.id or 0
        # Subscribe first: a change committed after the reads below still
        # reaches this client.
        realtime.subscribe(self, "page", [f"briefing:{bid}"], session, user)
        self._shell(session, user)
        self.not_found = False
        arrived = briefing_room.arrival(session, user.id or 0, bid)
        self.briefing, self.attendance = briefing_room.header(session, briefing, arrived.counts)
        self.materials = attachments.for_briefings(session, [bid]).get(bid, [])
        self.live_poll_id = briefing.live_poll_id or 0
        self.questions, self.questions_rev = briefing_room.room_questions(session, bid, arrived.questions_version)
        if (self._router("url").path or "").rstrip("/").endswith("/present"):
            # Only the presenter view shows them (2.3 KB an arrival in the room would not use).
            self.join_url = (self._router("url").origin or "") + routes.briefing(bid)
            self.join_qr = join_qr(self.join_url)
        else:
            self.join_url = self.join_qr = ""
        mine, room_polls = self._read_mine(session, user, briefing, arrived.mine)
        self._attend = briefing_room.attendance_due(user, briefing, mine)
        live_poll = briefing.live_poll_id or 0
        shown = [p.id or 0 for p in room_polls] if self.can_manage else ([live_poll] if live_poll else [])
        self._part(PollState)._load(session, user, shown)

    def _load_mine(self, session: Any, user: Any) -> None:
        """This member's own part of the room. After an action only this is
        re-read: the shared parts (the header, the questions, the live poll)
        come to everyone, this member included, by the room's rev-guarded
        live update; a plain re-read here could reach the browser after a
        newer live update and put an older list back on screen."""
        self._read_mine(session, user, briefings.read_briefing(session, self._id()))

    def _read_mine(self, session: Any, user: Any, briefing: Any,
                   part: briefing_room.MyPart | None = None) -> tuple[Any, list[Any]]:
        """``_load_mine`` of a briefing read already (``part``: the member's
        part of it, read already): (the member's registration, the room's
        polls when the member manages it)."""
        bid = briefing.id or 0
        part = part or briefing_room.my_part(session, user.id or 0, bid)
        mine = part.registration
        self.status = mine.status if mine else ""
        self.status_label = briefings.STATUS_LABELS.get(self.status, "")
        self.can_manage = briefings.can_manage(user, briefing)
        self.my_votes, self.my_questions = part.upvoted, part.asked
        room_polls = briefing_room.briefing_polls(session, bid) if self.can_manage else []
        self.room_polls = [[str(p.id), p.question] for p in room_polls]
        return mine, room_polls

    async def _act(self, change: Any, *args: Any, notice: str = "", then: Any = None, **kwargs: Any) -> Any:
        """A change in the room, then this member's own part read again."""
        async def done(value: Any) -> Any:
            await self._read(self._load_mine)
            self.notice = notice
            return then(value) if then is not None else None

        return await self._change(change, *args, then=done, **kwargs)

    @rx.event
    async def register(self):
        def registered(status: str) -> None:
            if status == briefings.WAITLISTED:
                self.notice = "定員に達しているため、キャンセル待ちで受け付けました。"

        return await self._act(briefings.register, self._id(), notice="申し込みました。", then=registered)

    @rx.event
    async def cancel(self):
        return await self._act(briefings.cancel, self._id(), notice="申し込みをキャンセルしました。")

    @rx.event
    async def download_ics(self):
        host = self._router("headers").host or "kyoso"
        return await self._read(briefings.ics, self._id(), host=host, then=lambda text: rx.download(
            data=text.encode("utf-8"), filename=f"briefing-{self._id()}.ics", mime_type="text/calendar"))

    @rx.event
    async def submit_question(self, form: dict):
        body = str(form.get("body", ""))
        return await self._act(briefing_room.ask, self._id(), body, anonymous=bool(form.get("anonymous")),
                               then=lambda _: sent_script("question-input", body))

    @rx.event
    async def upvote(self, question_id: int):
        return await self._act(briefing_room.toggle_upvote, int(question_id))

    @rx.event
    async def mark_answered(self, question_id: int, answered: bool):
        return await self._act(briefing_room.answer_question, int(question_id), "", answered=bool(answered))

    @rx.event
    async def answer_question(self, question_id: int, form: dict):
        """A written answer; it marks the question 回答済み."""
        return await self._act(briefing_room.answer_question, int(question_id), str(form.get("answer", "")),
                               answered=True)

    @rx.event
    async def hide_question(self, question_id: int):
        return await self._act(briefing_room.hide_question, int(question_id))

    @rx.event
    async def show_poll(self, poll_id: int):
        return await self._act(briefing_room.set_live_poll, self._id(), int(poll_id) or None)

    @rx.event
    def set_question_order(self, order: str | list[str]):
        self.question_order = "new" if order == "new" else "popular"

    @rx.event
    def toggle_poll_form(self):
        self.poll_form_open = not self.poll_form_open
        self.poll_form_options = 2

    @rx.event
    def add_poll_option(self):
        self.poll_form_options = min(self.poll_form_options + 1, polls.MAX_OPTIONS)

    @rx.event
    async def create_poll(self, form: dict):
        bid, count = self._id(), self.poll_form_options

        def change(session: Any, user: Any) -> None:
            poll = polls.create_briefing_poll(session, user, bid, poll_input(form, count))
            briefing_room.set_live_poll(session, user, bid, poll.id)

        return await self._act(change, then=lambda _: setattr(self, "poll_form_open", False))

    @rx.event
    async def archive(self):
        return await self._act(briefing_room.archive, self._id(),
                               notice="まとめを関連チャンネルのスレッドとして投稿しました。")
