"""Questions (質問) and their answers (解決済み).

The author of a thread marks it as a question; the author or 運営 then
chooses one reply as the answer, which makes the question resolved. Lists of
unresolved questions help peers find what still waits for an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso import routes
from kyoso.db import utcnow
from kyoso.models import Channel, Message, Notification, Organisation, User
from kyoso.services import channels as channel_rules
from kyoso.services import markup
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import Event, InboxChanged, MessageChanged, record
from kyoso.services.timefmt import jst_datetime, jst_short

PAGE_SIZE = 30


def _thread_starter(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None or not message.is_visible:
        raise NotFound("スレッドが見つかりません。")
    if message.parent_id is not None:
        raise InvalidInput("質問にできるのはスレッドの最初の投稿だけです。")
    return message


def _check_open(session: Session, message: Message) -> None:
    if channel_rules.get_channel(session, message.channel_id).archived_at is not None:
        raise NotAllowed("アーカイブされたチャンネルでは変更できません。")


def can_mark_question(user: User, message: Message) -> bool:
    return message.parent_id is None and message.author_id == user.id


def can_choose_answer(user: User, thread: Message) -> bool:
    return thread.is_question and (thread.author_id == user.id or user.is_staff)


def _changed(message: Message) -> MessageChanged:
    return MessageChanged(message.channel_id, message.id, message.parent_id, "marked")  # type: ignore[arg-type]


def mark_question(session: Session, user: User, message_id: int, question: bool = True) -> None:
    """The author marks a thread as a question, or takes the mark back (which
    also drops its answer)."""
    channel_rules.require_active(user)
    thread = _thread_starter(session, message_id)
    if not can_mark_question(user, thread):
        raise NotAllowed("質問にできるのは、スレッドを始めた人だけです。")
    _check_open(session, thread)
    if thread.is_question == question:
        return
    events: list[Event] = [_changed(thread)]
    if not question and thread.answer_id:
        old = session.get(Message, thread.answer_id)
        if old is not None:
            old.rev += 1
            session.add(old)
            events.append(_changed(old))
        thread.answer_id = None
    thread.is_question = question
    thread.rev += 1
    session.add(thread)
    session.flush()
    record(session, *events)


def choose_answer(session: Session, user: User, reply_id: int) -> None:
    """Mark a reply as the answer to its thread's question (解決済み)."""
    channel_rules.require_active(user)
    reply = session.get(Message, reply_id)
    if reply is None or not reply.is_visible or reply.parent_id is None:
        raise NotFound("返信が見つかりません。")
    thread = _thread_starter(session, reply.parent_id)
    if not thread.is_question:
        raise InvalidInput("このスレッドは質問ではありません。先に質問にしてください。")
    if not can_choose_answer(user, thread):
        raise NotAllowed("回答を選べるのは、質問した人と運営だけです。")
    _check_open(session, thread)
    if thread.answer_id == reply.id:
        return
    events: list[Event] = [_changed(thread), _changed(reply)]
    if thread.answer_id:
        old = session.get(Message, thread.answer_id)
        if old is not None:
            events.append(_changed(old))
    thread.answer_id = reply.id
    thread.rev += 1
    session.add(thread)
    # The replies' views change too (is_answer): bump them so clients take them.
    for ev in events[1:]:
        m = session.get(Message, ev.message_id)  # type: ignore[attr-defined]
        if m is not None and m.id != thread.id:
            m.rev += 1
            session.add(m)
    # The asker (when 運営 chose) and the one who answered hear of it (mailed if unread).
    channel = session.get(Channel, thread.channel_id)
    link = routes.message(channel.slug if channel else "", reply.id or 0, thread.id)
    for uid, line in ((thread.author_id, f"あなたの質問に回答が選ばれました: {markup.plain_text(thread.body, 80)}"),
                      (reply.author_id, f"あなたの返信が質問の回答に選ばれました: {markup.plain_text(thread.body, 80)}")):
        if uid != user.id:
            session.add(Notification(user_id=uid, kind="answer", message_id=reply.id, channel_id=thread.channel_id,
                                     actor_id=user.id, text=line[:300], link=link))
            events.append(InboxChanged(uid))
    session.flush()
    record(session, *events)


def clear_answer(session: Session, user: User, thread_id: int) -> None:
    """Take back the chosen answer: the question is unresolved again."""
    channel_rules.require_active(user)
    thread = _thread_starter(session, thread_id)
    if not can_choose_answer(user, thread):
        raise NotAllowed("回答を選べるのは、質問した人と運営だけです。")
    _check_open(session, thread)
    if not thread.answer_id:
        return
    events: list[Event] = [_changed(thread)]
    old = session.get(Message, thread.answer_id)
    if old is not None:
        old.rev += 1
        session.add(old)
        events.append(_changed(old))
    thread.answer_id = None
    thread.rev += 1
    session.add(thread)
    session.flush()
    record(session, *events)


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------


@dataclass
class QuestionView:
    id: int
    channel_slug: str
    channel_name: str
    excerpt: str
    author_name: str
    org_name: str
    time: str
    time_full: str
    reply_count: int
    link: str
    resolved: bool


@dataclass
class ChannelQuestionCount:
    slug: str
    name: str
    count: int


def _open_questions():  # type: ignore[no-untyped-def]
    return select(Message).where(
        col(Message.is_question).is_(True), col(Message.answer_id).is_(None),
        col(Message.parent_id).is_(None), col(Message.deleted_at).is_(None),
        col(Message.hidden_at).is_(None),
    )


def unresolved(session: Session, user: User, *, channel_id: int | None = None,
               before_id: int | None = None, limit: int = PAGE_SIZE) -> tuple[list[QuestionView], bool]:
    """Unresolved questions (未回答の質問), newest first, in one channel or all.
    Returns the views and whether older ones exist."""
    channel_rules.require_active(user)
    stmt = _open_questions()
    if channel_id:
        stmt = stmt.where(Message.channel_id == channel_id)
    if before_id:
        stmt = stmt.where(col(Message.id) < before_id)
    rows = list(session.exec(stmt.order_by(col(Message.id).desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    return question_views(session, rows[:limit]), more


def unresolved_counts(session: Session, user: User) -> list[ChannelQuestionCount]:
    """Channels that have unresolved questions, with how many, by name."""
    channel_rules.require_active(user)
    sub = _open_questions().subquery()
    rows = session.exec(
        select(Channel.slug, Channel.name, sa.func.count())
        .join(sub, sub.c.channel_id == Channel.id)
        .group_by(Channel.id, Channel.slug, Channel.name)
        .order_by(Channel.name)
    ).all()
    return [ChannelQuestionCount(slug, name, int(n)) for slug, name, n in rows]


def question_views(session: Session, messages: list[Message]) -> list[QuestionView]:
    if not messages:
        return []
    people = {
        u.id: (u, o) for u, o in session.exec(
            select(User, Organisation).join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
            .where(col(User.id).in_({m.author_id for m in messages}))).all()
    }
    chans = {c.id: c for c in session.exec(
        select(Channel).where(col(Channel.id).in_({m.channel_id for m in messages}))).all()}
    now = utcnow()
    out = []
    for m in messages:
        user, org = people.get(m.author_id, (None, None))
        channel = chans[m.channel_id]
        out.append(QuestionView(
            id=m.id or 0, channel_slug=channel.slug, channel_name=channel.name,
            excerpt=markup.plain_text(m.body, 140), author_name=user.name if user else "",
            org_name=org.display_name if org else "", time=jst_short(m.created_at, now),
            time_full=jst_datetime(m.created_at), reply_count=m.reply_count,
            link=routes.thread(channel.slug, m.id or 0), resolved=m.answer_id is not None,
        ))
    return out
