"""A channel page (/c/[slug]): its threads, the thread panel, the composer.

Live vars (``messages``, ``thread_parent``, ``thread_replies``, ``channel``)
also change in the browser through live patches, so the server's copy may be
older than what the browser shows. Handlers therefore only ever assign them
fresh values from the database, never edit them in place.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso import realtime
from kyoso.services import announcements, channels, messages, moderation, people, questions, search, stamps
from kyoso.services.errors import DomainError
from kyoso.states.attachments import AttachmentState
from kyoso.states.polls import PollState
from kyoso.states.drafts import sent_script
from kyoso.states.session import SessionState
from kyoso.states.sidebar import SidebarState


# The composers whose drafts a channel page follows (components/messages.py
# ``composer``), and the most of a draft it keeps.
DRAFT_TARGETS = ("composer", "thread-composer")
DRAFT_MAX = 2 * messages.MAX_BODY


@realtime.live("channel")
class ChannelState(SessionState):
    channel: channels.ChannelHeader = channels.ChannelHeader()
    not_found: bool = False
    joined: bool = False
    can_post: bool = False
    can_reply: bool = False
    messages: list[messages.MessageView] = []
    has_older: bool = False
    loading_older: bool = False
    first_unread_id: int = 0
    focus_id: int = 0
    palette: list[str] = list(stamps.DEFAULT_STAMPS)
    # The member's own stamps on the shown messages (``stamps.stamp_key``);
    # a press changes it in the browser through a live patch to the member's
    # tabs (realtime/fanout.py), like the live vars above.
    my_stamps: list[str] = []
    # The thread panel.
    thread_open_id: int = 0
    thread_parent: messages.MessageView | None = None
    thread_replies: list[messages.MessageView] = []
    # Editing one of my messages.
    editing_id: int = 0
    edit_text: str = ""
    # Mentions chosen from the autocomplete in the current drafts: name -> id.
    mention_query: str = ""
    mention_options: list[dict[str, str]] = []
    mention_target: str = ""
    _mentions: dict[str, int] = {}
    _drafts: dict[str, str] = {}
    _unseen: bool = False  # the open channel has threads newer than my reading position
    # Writing a new thread as a question (質問), and similar past threads.
    ask_question: bool = False
    ask_key: int = 0
    similar: list[search.SimilarThread] = []
    error: str = ""
    thread_error: str = ""
    notice: str = ""
    # Editing the channel (運営) and its pinned お知らせ.
    editing_channel: bool = False
    channel_error: str = ""
    pinned: list[announcements.AnnouncementView] = []
    # Reporting a post (通報).
    report_id: int = 0
    report_error: str = ""
    live_patch: dict[str, Any] = {}

    # -- loading -----------------------------------------------------------

    @rx.event
    async def open_channel(self):
        """on_load: the newest threads, the unread divider, live subscription."""
        self.thread_error = self.notice = ""
        self.report_id = self.editing_id = 0
        self.mention_options = []
        self.ask_question = False
        self.ask_key += 1
        self.similar = []
        self.editing_channel = False
        self._unseen = False
        redirect = await self._open(self._load_page, shell=False, missing=self._missing)
        if redirect is None and self._unseen:
            # Only a member who has not seen the newest thread writes (after the
            # reading: nothing may be awaited inside a writing transaction),
            # as the member this load has just checked (``me``, set by it).
            await self._unchecked(channels.mark_read_of, self.me.id, self.channel.id)
        self.focus_id = self._query_int("m") or self._query_int("thread")
        return redirect

    def _page_parts(self) -> tuple[type[rx.State], ...]:
        return (PollState,)

    def _load_page(self, session: Any, user: Any) -> None:
        channel = channels.read_channel_by_slug(session, self._route_param("slug"))
        channels.check_can_read(user, channel)
        cid = channel.id or 0
        # Subscribe before reading: a change committed after the reads below
        # still reaches this client.
        realtime.subscribe(self, "page", [f"channel:{cid}"], session, user)
        self.channel = channels.header(channel)
        self.not_found = False
        self.can_post = channels.can_start_thread(user, channel)
        self.can_reply = channels.can_reply(user, channel)
        self.messages, self.has_older, mine = messages.newest_page(session, user, cid)
        # The shell first: the sidebar's read has my reading position here.
        self._shell(session, user, reading=cid)
        last_read = channels.last_read_id(session, user, cid)
        self.joined = last_read is not None
        self.first_unread_id = next(
            (m.id for m in self.messages
             if last_read is not None and m.id > last_read and m.author_id != user.id), 0)
        newest = self.messages[-1].id if self.messages else 0
        self._unseen = last_read is not None and newest > last_read
        self.palette = stamps.palette(session, user)
        self.pinned = announcements.pinned_in(session, user, cid)
        thread_id = self._query_int("thread")
        if thread_id:
            self._load_thread(thread_id, session, user)
        else:
            self._close_thread()
        self._load_polls(session, user)
        # The page's own come with the shared page; a thread opened with it is read.
        self.my_stamps = self._read_my_stamps(session, user) if self.thread_open_id else mine

    async def _missing(self):  # type: ignore[no-untyped-def]
        self.not_found = True
        self.channel = channels.ChannelHeader()
        self.messages = []
        return await self._open()

    def _read_my_stamps(self, session: Any, user: Any) -> list[str]:
        shown = [*self.messages, *([self.thread_parent] if self.thread_parent else []), *self.thread_replies]
        return stamps.my_stamps(session, user, [m.id for m in shown])

    def _load_polls(self, session: Any, user: Any) -> None:
        """The polls among the shown messages, for PollState to render."""
        ids = [m.poll_id for m in [*self.messages, *self.thread_replies] if m.poll_id]
        self._part(PollState)._load(session, user, ids)

    @rx.event
    async def load_older(self):
        if not self.messages or not self.has_older or self.loading_older:
            return None
        self.loading_older = True
        await self._read(self._load_older)
        self.loading_older = False
        return None

    def _load_older(self, session: Any, user: Any) -> None:
        older, more = messages.channel_page(session, user, self.channel.id, before_id=self.messages[0].id)
        # Re-read the loaded window too: the browser may hold newer copies than
        # this server-side list, and a plain assignment must not bring back
        # stale ones.
        current, _ = messages.channel_page(session, user, self.channel.id, before_id=None,
                                           limit=max(len(self.messages), messages.PAGE_SIZE))
        self.messages = older + [m for m in current if not older or m.id > older[-1].id]
        self.has_older = more
        self._load_polls(session, user)
        self.my_stamps = self._read_my_stamps(session, user)

    def _load_thread(self, parent_id: int, session: Any, user: Any) -> None:
        self.thread_error = ""
        try:
            parent, replies = messages.thread(session, user, parent_id)
        except DomainError as exc:
            self.thread_error = exc.message
            self._close_thread()
            return
        if parent.channel_id != self.channel.id:
            self._close_thread()
            return
        self.thread_open_id = parent.id
        self.thread_parent = parent
        self.thread_replies = replies

    def _close_thread(self) -> None:
        self.thread_open_id = 0
        self.thread_parent = None
        self.thread_replies = []

    @rx.event
    async def open_thread(self, parent_id: int):
        def load(session: Any, user: Any) -> None:
            self._load_thread(int(parent_id), session, user)
            self._load_polls(session, user)
            self.my_stamps = self._read_my_stamps(session, user)

        return await self._read(load, error="thread_error")

    @rx.event
    def close_thread(self):
        self._close_thread()

    # -- posting -----------------------------------------------------------

    @rx.event
    async def post(self, form: dict):
        """Start a thread. The composer keeps its text unless the post succeeds."""
        body, ask = str(form.get("body", "")), self.ask_question
        files = await self._files()  # attachments: the composer's pending files

        def change(session: Any, user: Any) -> None:
            message = messages.post_message(session, user, self.channel.id, body, mention_ids=self._mentions,
                                            file_ids=files._ids("composer"))
            if ask:
                questions.mark_question(session, user, message.id or 0)
            channels.mark_read(session, user, self.channel.id, message.id)

        def posted(_: Any) -> Any:
            files._clear("composer")  # attachments
            self._mentions = {}
            if self.ask_question:
                self.ask_question = False
                self.ask_key += 1
            self.similar = []
            return sent_script("composer", body)

        return await self._change(change, then=posted)

    @rx.event
    async def reply(self, form: dict):
        files = await self._files()  # attachments: the thread composer's pending files
        body = str(form.get("body", ""))

        def sent(_: Any) -> Any:
            files._clear("thread")  # attachments
            self._mentions = {}
            return sent_script("thread-composer", body)

        return await self._change(messages.post_message, self.channel.id, body,
                                  parent_id=self.thread_open_id, mention_ids=self._mentions,
                                  file_ids=files._ids("thread"), error="thread_error", then=sent)

    # -- attachments (issue 17): the files pending in this page's composers ---

    async def _files(self) -> AttachmentState:
        return await self.get_state(AttachmentState)

    # -- end of attachments ----------------------------------------------------

    @rx.event
    async def start_edit(self, message_id: int):
        def load(session: Any, user: Any) -> None:
            message = messages.get_message(session, user, int(message_id))
            if message.author_id == user.id:
                self.editing_id, self.edit_text = message.id or 0, message.body

        return await self._read(load)

    @rx.event
    def cancel_edit(self):
        self.editing_id = 0

    @rx.event
    async def save_edit(self, form: dict):
        return await self._change(messages.edit_message, self.editing_id, str(form.get("body", "")),
                                  self._mentions, then=lambda _: setattr(self, "editing_id", 0))

    @rx.event
    async def delete(self, message_id: int):
        return await self._change(messages.delete_message, int(message_id))

    @rx.event
    async def hide(self, message_id: int):
        return await self._change(messages.hide_message, int(message_id))

    @rx.event
    async def toggle_stamp(self, message_id: int, stamp: str):
        return await self._change(stamps.toggle, int(message_id), str(stamp))

    # -- membership ----------------------------------------------------------

    @rx.event
    async def join(self):
        return await self._change(channels.join, self.channel.id, then=self._membership(True))

    @rx.event
    async def leave(self):
        return await self._change(channels.leave, self.channel.id, then=self._membership(False))

    def _membership(self, joined: bool):  # type: ignore[no-untyped-def]
        def done(_: Any) -> Any:
            self.joined = joined
            return SidebarState.load_sidebar

        return done

    @rx.event
    async def mark_read(self):
        """When the reader leaves the page: everything shown has been seen."""
        if self.channel.id:
            await self._change(channels.mark_read, self.channel.id)

    # -- channel settings (運営) ---------------------------------------------

    @rx.event
    def toggle_channel_edit(self):
        self.editing_channel = not self.editing_channel
        self.channel_error = ""

    @rx.event
    async def save_channel(self, form: dict):
        return await self._change(
            channels.update_channel, self.channel.id, name=str(form.get("name", "")),
            description=str(form.get("description", "")), allow_replies=not bool(form.get("no_replies")),
            join_by_default=bool(form.get("join_by_default")),
            error="channel_error", then=lambda _: setattr(self, "editing_channel", False))

    # -- reports -----------------------------------------------------------

    @rx.event
    def start_report(self, message_id: int):
        self.report_id = int(message_id)
        self.report_error = ""

    @rx.event
    def cancel_report(self):
        self.report_id = 0

    @rx.event
    async def submit_report(self, form: dict):
        reason = " / ".join(x for x in (str(form.get("category", "")), str(form.get("detail", "")).strip()) if x)

        def reported(_: Any) -> None:
            self.report_id = 0

        return await self._change(moderation.report, self.report_id, reason, error="report_error",
                                  notice="通報を受け付けました。運営が確認します。", then=reported)

    # -- questions ---------------------------------------------------------

    @rx.event
    async def set_ask_question(self, value: bool):
        """The composer's 「質問として投稿」: similar past threads follow the draft."""
        self.ask_question = bool(value)
        await self._suggest_similar(self._drafts.get("composer", ""))

    async def _suggest_similar(self, text: str) -> None:
        self.similar = []
        if self.ask_question:
            await self._read(search.similar_threads, text, error="",
                             then=lambda found: setattr(self, "similar", found))

    @rx.event
    async def mark_question(self, message_id: int, question: bool):
        return await self._change(questions.mark_question, int(message_id), bool(question))

    @rx.event
    async def choose_answer(self, reply_id: int):
        return await self._change(questions.choose_answer, int(reply_id), error="thread_error")

    @rx.event
    async def clear_answer(self):
        return await self._change(questions.clear_answer, self.thread_open_id, error="thread_error")

    # -- mentions ----------------------------------------------------------

    @rx.event
    async def draft_changed(self, target: str, text: str):
        """Offer members to mention when the draft ends with @ and a few letters.

        Nothing is kept for a client whose token was never checked (``me`` is
        set only by a page load that checked it), and only the page's two
        composers, each up to twice a message's length: a client without a
        session costs no more than a page view (issue 14)."""
        if not self.me.id or target not in DRAFT_TARGETS:
            return
        text = str(text)[:DRAFT_MAX]
        query = people.mention_query(text)
        self._drafts = {**self._drafts, target: text}
        self.mention_target = target
        if target == "composer":
            await self._suggest_similar(text)
        self.mention_options = []
        if query is not None:
            self.mention_query = query
            await self._read(people.suggest, query, error="", then=self._offer)

    def _offer(self, found: list[Any]) -> None:
        self.mention_options = [{"id": str(p.id), "name": p.name, "org": p.org_name} for p in found]

    @rx.event
    def choose_mention(self, user_id: str):
        """Replace the @query at the end of the draft with @[name]."""
        chosen = next((o for o in self.mention_options if o["id"] == str(user_id)), None)
        self.mention_options = []
        if chosen is None:
            return None
        target = self.mention_target or "composer"
        self._mentions = {**self._mentions, chosen["name"]: int(chosen["id"])}
        text = people.insert_mention(self._drafts.get(target, ""), chosen["name"])
        self._drafts = {**self._drafts, target: text}
        return [rx.set_value(target, text), rx.set_focus(target)]
