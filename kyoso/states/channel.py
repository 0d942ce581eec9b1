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
from kyoso.realtime.live import ChannelHeader, channel_header
from kyoso.services import announcements, channels, messages, questions, search, stamps
from kyoso.services.errors import DomainError, NotAuthenticated, NotFound
from kyoso.services.events import Event
from kyoso.states.session import SessionState


class ChannelState(SessionState):
    channel: ChannelHeader = ChannelHeader()
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

    def _slug(self) -> str:
        return self._route_param("slug")

    def _query_int(self, name: str) -> int:
        try:
            return int(self.router.url.query_parameters.get(name, 0) or 0)
        except (TypeError, ValueError):
            return 0

    @rx.event
    async def open_channel(self):
        """on_load: the newest threads, the unread divider, live subscription."""
        self.error = ""
        self.thread_error = ""
        self.notice = ""
        self.report_id = 0
        self.editing_id = 0
        self.mention_options = []
        self.ask_question = False
        self.ask_key += 1
        self.similar = []
        try:
            # Reading only: no await may happen inside a writing transaction,
            # or another client's write would block the event loop on the lock.
            with self._reading() as (session, user):
                channel = channels.get_channel_by_slug(session, self._slug())
                channels.check_can_read(user, channel)
                cid = channel.id or 0
                # Subscribe before reading: a change committed after the reads
                # below still reaches this client.
                await realtime.subscribe(self, "page", [f"channel:{cid}"], session, user)
                self.channel = channel_header(channel)
                self.not_found = False
                self.can_post = channels.can_start_thread(user, channel)
                self.can_reply = channels.can_reply(user, channel)
                self.messages, self.has_older = messages.newest_page(session, user, cid)
                last_read = channels.last_read_id(session, user, cid)
                self.joined = last_read is not None
                self.first_unread_id = next(
                    (m.id for m in self.messages
                     if last_read is not None and m.id > last_read and m.author_id != user.id), 0)
                newest = self.messages[-1].id if self.messages else 0
                # One read scope for the whole page (each costs a token check).
                await self._shell(session, user, reading=cid)
                self.palette = stamps.palette(session, user)
                self.pinned = announcements.pinned_in(session, user, cid)
                self.editing_channel = False
                thread_id = self._query_int("thread")
                if thread_id:
                    self._load_thread(thread_id, session, user)
                else:
                    self.thread_open_id = 0
                    self.thread_parent = None
                    self.thread_replies = []
                await self._load_polls(session, user)
            # Only a member who has not seen the newest thread writes (after the
            # reading: nothing may be awaited inside a writing transaction).
            if last_read is not None and newest > last_read:
                with self._acting() as (session, user):
                    channels.mark_read(session, user, cid)
        except NotAuthenticated:
            return self._login_redirect()
        except NotFound:
            self.not_found = True
            self.channel = ChannelHeader()
            self.messages = []
            return await self._load_shell()
        self.focus_id = self._query_int("m") or self._query_int("thread")
        return None

    async def _load_polls(self, session: Any, user: Any) -> None:
        """The polls among the shown messages, for PollState to render."""
        from kyoso.states.polls import PollState

        ids = [m.poll_id for m in [*self.messages, *self.thread_replies] if m.poll_id]
        poll_state = await self.get_state(PollState)
        await poll_state._load(session, user, ids)

    @rx.event
    async def load_older(self):
        if not self.messages or not self.has_older or self.loading_older:
            return
        self.loading_older = True
        try:
            with self._reading() as (session, user):
                older, more = messages.channel_page(session, user, self.channel.id,
                                                    before_id=self.messages[0].id)
                # Re-read the loaded window too: the browser may hold newer copies
                # than this server-side list, and a plain assignment must not
                # bring back stale ones.
                current, _ = messages.channel_page(
                    session, user, self.channel.id, before_id=None,
                    limit=max(len(self.messages), messages.PAGE_SIZE))
        except DomainError as exc:
            self.error = exc.message
            self.loading_older = False
            return
        self.messages = older + [m for m in current if not older or m.id > older[-1].id]
        self.has_older = more
        self.loading_older = False
        with self._reading() as (session, user):
            await self._load_polls(session, user)

    def _load_thread(self, parent_id: int, session: Any, user: Any) -> None:
        self.thread_error = ""
        try:
            parent, replies = messages.thread(session, user, parent_id)
        except DomainError as exc:
            self.thread_error = exc.message
            self.thread_open_id = 0
            self.thread_parent = None
            self.thread_replies = []
            return
        if parent.channel_id != self.channel.id:
            self.thread_open_id = 0
            return
        self.thread_open_id = parent.id
        self.thread_parent = parent
        self.thread_replies = replies

    @rx.event
    async def open_thread(self, parent_id: int):
        try:
            with self._reading() as (session, user):
                self._load_thread(int(parent_id), session, user)
                await self._load_polls(session, user)
        except NotAuthenticated:
            return self._login_redirect()
        return None

    @rx.event
    def close_thread(self):
        self.thread_open_id = 0
        self.thread_parent = None
        self.thread_replies = []

    # -- changes -----------------------------------------------------------

    async def _publish(self, events: list[Event]) -> None:
        # The author's own update goes out first; the room's follows.
        realtime.publish_soon(events)

    @rx.event
    async def post(self, form: dict):
        """Start a thread. The composer keeps its text unless the post succeeds."""
        self.error = ""
        body = str(form.get("body", ""))
        try:
            with self._acting() as (session, user):
                message, events = messages.post_message(
                    session, user, self.channel.id, body, mention_ids=self._mentions)
                if self.ask_question:
                    events += questions.mark_question(session, user, message.id or 0)
                channels.mark_read(session, user, self.channel.id, message.id)
        except NotAuthenticated:
            return self._login_redirect()
        except DomainError as exc:
            self.error = exc.message
            return None
        self._mentions = {}
        if self.ask_question:
            self.ask_question = False
            self.ask_key += 1
        self.similar = []
        await self._publish(events)
        return rx.set_value("composer", "")

    @rx.event
    async def reply(self, form: dict):
        self.thread_error = ""
        body = str(form.get("body", ""))
        try:
            with self._acting() as (session, user):
                _, events = messages.post_message(
                    session, user, self.channel.id, body, parent_id=self.thread_open_id,
                    mention_ids=self._mentions)
        except NotAuthenticated:
            return self._login_redirect()
        except DomainError as exc:
            self.thread_error = exc.message
            return None
        self._mentions = {}
        await self._publish(events)
        return rx.set_value("thread-composer", "")

    @rx.event
    def start_edit(self, message_id: int):
        self.error = ""
        try:
            with self._reading() as (session, user):
                message = messages.get_message(session, user, int(message_id))
                if message.author_id != user.id:
                    return
                self.editing_id = message.id or 0
                self.edit_text = message.body
        except DomainError as exc:
            self.error = exc.message

    @rx.event
    def cancel_edit(self):
        self.editing_id = 0

    @rx.event
    async def save_edit(self, form: dict):
        self.error = ""
        try:
            with self._acting() as (session, user):
                events = messages.edit_message(session, user, self.editing_id,
                                               str(form.get("body", "")), self._mentions)
        except DomainError as exc:
            self.error = exc.message
            return
        self.editing_id = 0
        await self._publish(events)

    @rx.event
    async def delete(self, message_id: int):
        self.error = ""
        try:
            with self._acting() as (session, user):
                events = messages.delete_message(session, user, int(message_id))
        except DomainError as exc:
            self.error = exc.message
            return
        await self._publish(events)

    @rx.event
    async def hide(self, message_id: int):
        self.error = ""
        try:
            with self._acting() as (session, user):
                events = messages.hide_message(session, user, int(message_id))
        except DomainError as exc:
            self.error = exc.message
            return
        await self._publish(events)

    @rx.event
    async def toggle_stamp(self, message_id: int, stamp: str):
        self.error = ""
        try:
            with self._acting() as (session, user):
                _, events = stamps.toggle(session, user, int(message_id), str(stamp))
        except DomainError as exc:
            self.error = exc.message
            return
        await self._publish(events)

    @rx.event
    async def join(self):
        try:
            with self._acting() as (session, user):
                events = channels.join(session, user, self.channel.id)
                self.joined = True
        except DomainError as exc:
            self.error = exc.message
            return None
        await self._publish(events)
        from kyoso.states.sidebar import SidebarState

        return SidebarState.load_sidebar

    @rx.event
    async def leave(self):
        try:
            with self._acting() as (session, user):
                events = channels.leave(session, user, self.channel.id)
                self.joined = False
        except DomainError as exc:
            self.error = exc.message
            return None
        await self._publish(events)
        from kyoso.states.sidebar import SidebarState

        return SidebarState.load_sidebar

    @rx.event
    def mark_read(self):
        """When the reader leaves the page: everything shown has been seen."""
        if not self.channel.id:
            return
        try:
            with self._acting() as (session, user):
                channels.mark_read(session, user, self.channel.id)
        except DomainError:
            pass

    # -- channel settings (運営) ---------------------------------------------

    @rx.event
    def toggle_channel_edit(self):
        self.editing_channel = not self.editing_channel
        self.channel_error = ""

    @rx.event
    async def save_channel(self, form: dict):
        self.channel_error = ""
        try:
            with self._acting() as (session, user):
                events = channels.update_channel(
                    session, user, self.channel.id, name=str(form.get("name", "")),
                    description=str(form.get("description", "")),
                    allow_replies=not bool(form.get("no_replies")))
        except DomainError as exc:
            self.channel_error = exc.message
            return
        self.editing_channel = False
        realtime.publish_soon(events)

    # -- reports -----------------------------------------------------------

    @rx.event
    def start_report(self, message_id: int):
        self.report_id = int(message_id)
        self.report_error = ""

    @rx.event
    def cancel_report(self):
        self.report_id = 0

    @rx.event
    def submit_report(self, form: dict):
        from kyoso.services import moderation

        self.report_error = ""
        reason = " / ".join(x for x in (str(form.get("category", "")), str(form.get("detail", "")).strip()) if x)
        try:
            with self._acting() as (session, user):
                moderation.report(session, user, self.report_id, reason)
        except DomainError as exc:
            self.report_error = exc.message
            return
        self.report_id = 0
        self.notice = "通報を受け付けました。運営が確認します。"

    # -- questions ---------------------------------------------------------

    @rx.event
    def set_ask_question(self, value: bool):
        """The composer's 「質問として投稿」: similar past threads follow the draft."""
        self.ask_question = bool(value)
        self._suggest_similar(self._drafts.get("composer", ""))

    def _suggest_similar(self, text: str) -> None:
        if not self.ask_question:
            self.similar = []
            return
        try:
            with self._reading() as (session, user):
                self.similar = search.similar_threads(session, user, text)
        except DomainError:
            self.similar = []

    @rx.event
    async def mark_question(self, message_id: int, question: bool):
        self.error = ""
        try:
            with self._acting() as (session, user):
                events = questions.mark_question(session, user, int(message_id), bool(question))
        except DomainError as exc:
            self.error = exc.message
            return
        await self._publish(events)

    @rx.event
    async def choose_answer(self, reply_id: int):
        self.thread_error = ""
        try:
            with self._acting() as (session, user):
                events = questions.choose_answer(session, user, int(reply_id))
        except DomainError as exc:
            self.thread_error = exc.message
            return
        await self._publish(events)

    @rx.event
    async def clear_answer(self):
        self.thread_error = ""
        try:
            with self._acting() as (session, user):
                events = questions.clear_answer(session, user, self.thread_open_id)
        except DomainError as exc:
            self.thread_error = exc.message
            return
        await self._publish(events)

    # -- mentions ----------------------------------------------------------

    @rx.event
    def draft_changed(self, target: str, text: str):
        """Offer members to mention when the draft ends with @ and a few letters."""
        from kyoso.services import people

        query = people.mention_query(text)
        self._drafts = {**self._drafts, target: text}
        self.mention_target = target
        if target == "composer":
            self._suggest_similar(text)
        if query is None:
            self.mention_options = []
            return
        self.mention_query = query
        try:
            with self._reading() as (session, user):
                self.mention_options = [
                    {"id": str(p.id), "name": p.name, "org": p.org_name}
                    for p in people.suggest(session, user, query)
                ]
        except DomainError:
            self.mention_options = []

    @rx.event
    def choose_mention(self, user_id: str):
        """Replace the @query at the end of the draft with @[name]."""
        from kyoso.services import people

        chosen = next((o for o in self.mention_options if o["id"] == str(user_id)), None)
        self.mention_options = []
        if chosen is None:
            return None
        target = self.mention_target or "composer"
        self._mentions = {**self._mentions, chosen["name"]: int(chosen["id"])}
        text = people.insert_mention(self._drafts.get(target, ""), chosen["name"])
        self._drafts = {**self._drafts, target: text}
        return [rx.set_value(target, text), rx.set_focus(target)]
