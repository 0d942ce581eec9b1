"""Messages and threads: posting, replying, editing, deleting, hiding.

A view of a message (``MessageView``) is the same for every reader of the
channel, so one copy can be sent to a whole room. What differs per reader
(which stamps are mine) is a list of its own, ``my_stamps``: the views do not
carry who pressed what, which in a room of 2,000 would send every presser's
id to each of them with every press.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso import routes
from kyoso.db import core, utcnow
from kyoso.models import (
    AnnouncementChannel,
    AuditLog,
    Channel,
    Message,
    Notification,
    Organisation,
    Poll,
    Stamp,
    Survey,
    User,
    UserStatus,
)
from kyoso.services import attachments
from kyoso.services.attachments import AttachmentView
from kyoso.services import channels as channel_rules
from kyoso.services import markup, ratelimit, visibility
from kyoso.services import search as search_index
from kyoso.services.shared import SharedViews
from kyoso.services.stamps import stamp_key
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import (
    AccessChanged,
    AnnouncementShown,
    Event,
    InboxChanged,
    MessageChanged,
    UnreadChanged,
    record,
)
from kyoso.services.text import clean_text
from kyoso.services.timefmt import jst_datetime, jst_short

MAX_BODY = 4000
PAGE_SIZE = 50
# A channel opens with fewer threads than a "load older" page brings: that is
# what fills a screen, and it is what every member of a full room is sent.
FIRST_PAGE = 30
STAMP_NAMES_SHOWN = 10
DELETED_TEXT = "このメッセージは削除されました"
HIDDEN_TEXT = "このメッセージは運営により非表示になりました"


@dataclass
class StampView:
    stamp: str
    count: int
    # Who pressed it, for the tooltip (the first few names, then "ほかN人").
    who: str


class Stampers:
    """Who pressed which stamp on a list of messages, kept on the server with
    a shared page so that each reader's own stamps come from it without a
    statement."""

    def __init__(self, rows: Iterable[tuple[int, str, int]] = ()) -> None:
        by_user: dict[int, list[str]] = defaultdict(list)
        for message_id, stamp, user_id in rows:
            by_user[user_id].append(stamp_key(message_id, stamp))
        self._by_user = dict(by_user)

    def of(self, user_id: int) -> list[str]:
        return list(self._by_user.get(user_id, ()))


@dataclass
class MessageView:
    id: int
    channel_id: int
    parent_id: int  # 0 for a thread's first message
    author_id: int
    author_name: str
    org_name: str
    department: str
    time: str
    time_full: str
    body_html: str
    edited: bool
    deleted: bool
    hidden: bool
    reply_count: int
    repliers: str
    stamps: list[StampView]
    rev: int
    is_question: bool
    resolved: bool
    is_answer: bool
    poll_id: int = 0
    survey_id: int = 0
    attachments: list[AttachmentView] = field(default_factory=list)
    at: int = 0  # posted at, Unix seconds: the page groups one person's consecutive posts


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


def _stamp_views(session: Session, message_ids: list[int]) -> tuple[dict[int, list[StampView]], Stampers]:
    if not message_ids:
        return {}, Stampers()
    rows = session.exec(
        select(Stamp.message_id, Stamp.stamp, Stamp.user_id, User.name)
        .join(User, User.id == Stamp.user_id)  # type: ignore[arg-type]
        .where(col(Stamp.message_id).in_(message_ids))
        .order_by(Stamp.id)  # type: ignore[arg-type]
    ).all()
    grouped: dict[int, dict[str, list[tuple[int, str]]]] = defaultdict(dict)
    for mid, stamp, uid, name in rows:
        grouped[mid].setdefault(stamp, []).append((uid, name))
    out: dict[int, list[StampView]] = {}
    for mid, by_stamp in grouped.items():
        views = []
        for stamp, people in by_stamp.items():
            names = "、".join(n for _, n in people[:STAMP_NAMES_SHOWN])
            if len(people) > STAMP_NAMES_SHOWN:
                names += f" ほか{len(people) - STAMP_NAMES_SHOWN}人"
            views.append(StampView(stamp, len(people), names))
        out[mid] = views
    return out, Stampers((mid, stamp, uid) for mid, stamp, uid, _ in rows)


def _repliers(session: Session, parent_ids: list[int]) -> dict[int, str]:
    """The latest distinct repliers of each thread, newest first (up to three)."""
    if not parent_ids:
        return {}
    rows = session.exec(
        select(Message.parent_id, User.name)
        .join(User, User.id == Message.author_id)  # type: ignore[arg-type]
        .where(col(Message.parent_id).in_(parent_ids), col(Message.deleted_at).is_(None),
               col(Message.hidden_at).is_(None))
        .order_by(col(Message.id).desc())
    ).all()
    out: dict[int, list[str]] = defaultdict(list)
    for pid, name in rows:
        names = out[pid]  # type: ignore[index]
        if name not in names and len(names) < 3:
            names.append(name)
    return {pid: "、".join(names) for pid, names in out.items()}


def _attached(session: Session, model: type[Poll] | type[Survey], message_ids: list[int]) -> dict[int, int]:
    """message id -> id of the poll (or survey) posted as that message."""
    if not message_ids:
        return {}
    rows = session.exec(select(model.message_id, model.id).where(col(model.message_id).in_(message_ids))).all()
    return {mid: pid for mid, pid in rows if mid is not None and pid is not None}


def views(session: Session, messages: list[Message]) -> list[MessageView]:
    """Views of messages in the given order, with authors, stamps and repliers."""
    return _views(session, messages)[0]


def _views(session: Session, messages: list[Message]) -> tuple[list[MessageView], Stampers]:
    if not messages:
        return [], Stampers()
    author_ids = {m.author_id for m in messages}
    people = {
        u.id: (u, o)
        for u, o in session.exec(
            select(User, Organisation)
            .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
            .where(col(User.id).in_(author_ids))
        ).all()
    }
    ids = [m.id for m in messages if m.id is not None]
    stamps, stampers = _stamp_views(session, ids)
    repliers = _repliers(session, [m.id for m in messages if m.parent_id is None and m.reply_count])
    answer_of: dict[int, int] = {}
    parent_ids = {m.parent_id for m in messages if m.parent_id}
    if parent_ids:
        for pid, aid in session.exec(
            select(Message.id, Message.answer_id).where(col(Message.id).in_(parent_ids))
        ).all():
            if aid:
                answer_of[pid] = aid  # type: ignore[index]
    poll_ids = _attached(session, Poll, ids)
    survey_ids = _attached(session, Survey, ids)
    files = attachments.for_messages(session, ids)
    now = utcnow()
    out = []
    for m in messages:
        user, org = people.get(m.author_id, (None, None))
        gone = m.deleted_at is not None or m.hidden_at is not None
        body = m.body_html
        if m.deleted_at is not None:
            body = ""
        elif m.hidden_at is not None:
            body = ""
        out.append(MessageView(
            id=m.id or 0, channel_id=m.channel_id, parent_id=m.parent_id or 0,
            author_id=0 if gone else m.author_id,  # a hidden post does not say whose it was
            author_name="" if gone else (user.name if user else "退会したメンバー"),
            org_name="" if gone or org is None else org.display_name,
            department="" if gone or user is None else user.department,
            time=jst_short(m.created_at, now), time_full=jst_datetime(m.created_at),
            at=int(m.created_at.timestamp()),
            body_html=body, edited=m.edited_at is not None and not gone,
            deleted=m.deleted_at is not None, hidden=m.hidden_at is not None and m.deleted_at is None,
            reply_count=m.reply_count, repliers=repliers.get(m.id or 0, ""),
            stamps=[] if gone else stamps.get(m.id or 0, []), rev=m.rev,
            is_question=m.is_question, resolved=m.answer_id is not None,
            is_answer=bool(m.parent_id and answer_of.get(m.parent_id) == m.id),
            poll_id=0 if gone else poll_ids.get(m.id or 0, 0),
            survey_id=0 if gone else survey_ids.get(m.id or 0, 0),
            attachments=[] if gone else files.get(m.id or 0, []),
        ))
    return out, stampers


def view(session: Session, message_id: int) -> MessageView | None:
    m = session.get(Message, message_id)
    return views(session, [m])[0] if m else None


def _visible_in_list(m: Message) -> bool:
    """Deleted or hidden messages stay in a list only as a placeholder for their replies."""
    return m.is_visible or m.reply_count > 0


def channel_page(session: Session, user: User, channel_id: int, *, before_id: int | None = None,
                 limit: int = PAGE_SIZE) -> tuple[list[MessageView], bool]:
    """The newest threads of a channel (or those before ``before_id``), oldest first.

    Returns the views and whether older ones exist. Uses the
    (channel_id, parent_id, id) index, so a channel with 100,000 messages
    opens as fast as one with 100.
    """
    views, more, _ = _channel_page(session, user, channel_id, before_id=before_id, limit=limit)
    return views, more


def _channel_page(session: Session, user: User, channel_id: int, *, before_id: int | None,
                  limit: int) -> tuple[list[MessageView], bool, Stampers]:
    channel = channel_rules.get_channel(session, channel_id)
    channel_rules.check_can_read(user, channel)
    stmt = select(Message).where(Message.channel_id == channel_id, col(Message.parent_id).is_(None))
    if before_id:
        stmt = stmt.where(col(Message.id) < before_id)
    rows = list(session.exec(stmt.order_by(col(Message.id).desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = [m for m in reversed(rows[:limit]) if _visible_in_list(m)]
    shown, stampers = _views(session, rows)
    return shown, more, stampers


# The newest page of a channel is the same for every reader: kept per channel
# and reused while the page's version (how many threads, the newest id, the sum
# of their revs, which every post, reply, edit, deletion and stamp bumps) is
# unchanged; at most PAGE_CACHE_SECONDS old, so names changed elsewhere show.
PAGE_CACHE_SECONDS = 30.0
_page_cache: SharedViews[tuple[list[MessageView], bool, Stampers]] = SharedViews(PAGE_CACHE_SECONDS)


_MESSAGE_T = Message.__table__  # type: ignore[attr-defined]
_newest = (
    sa.select(_MESSAGE_T.c.id, _MESSAGE_T.c.rev)
    .where(_MESSAGE_T.c.channel_id == sa.bindparam("p_channel"), _MESSAGE_T.c.parent_id.is_(None))
    .order_by(_MESSAGE_T.c.id.desc()).limit(FIRST_PAGE + 1).subquery()
)
# Every channel page load checks the shared page against this: built once.
_PAGE_VERSION = sa.select(sa.func.count(), sa.func.max(_newest.c.id), sa.func.sum(_newest.c.rev))


def _page_version(session: Session, channel_id: int) -> tuple[int, int, int]:
    count, top, revs = core(session).execute(_PAGE_VERSION, {"p_channel": channel_id}).one()
    return int(count or 0), int(top or 0), int(revs or 0)


def newest_page(session: Session, user: User, channel_id: int) -> tuple[list[MessageView], bool, list[str]]:
    """``channel_page`` for the newest threads, shared by all readers, and
    which of their stamps are the member's (``my_stamps``, from the same
    shared read)."""
    channel_rules.check_can_read(user, channel_rules.get_channel(session, channel_id))
    views, more, stampers = _page_cache.get_or_make(
        channel_id, _page_version(session, channel_id),
        lambda: _channel_page(session, user, channel_id, before_id=None, limit=FIRST_PAGE))
    return list(views), more, stampers.of(user.id or 0)


def thread(session: Session, user: User, parent_id: int) -> tuple[MessageView, list[MessageView]]:
    parent = session.get(Message, parent_id)
    if parent is None or parent.parent_id is not None:
        raise NotFound("スレッドが見つかりません。")
    channel_rules.check_can_read(user, channel_rules.get_channel(session, parent.channel_id))
    replies = list(session.exec(
        select(Message).where(Message.parent_id == parent_id).order_by(Message.id)  # type: ignore[arg-type]
    ).all())
    replies = [r for r in replies if r.is_visible]
    all_views = views(session, [parent, *replies])
    return all_views[0], all_views[1:]


# ---------------------------------------------------------------------------
# Changes
# ---------------------------------------------------------------------------


def _resolve_mentions(session: Session, body: str, mention_ids: dict[str, int] | None) -> dict[str, int]:
    """Names written as @[氏名] mapped to active users. The composer passes the
    ids it chose; a name typed by hand is resolved when it is unique."""
    names = markup.mentioned_names(body)
    if not names:
        return {}
    chosen = {k: int(v) for k, v in (mention_ids or {}).items() if k in names}
    out: dict[str, int] = {}
    if chosen:
        valid = set(session.exec(
            select(User.id).where(col(User.id).in_(chosen.values()), User.status == UserStatus.active)
        ).all())
        for name, uid in chosen.items():
            user = session.get(User, uid) if uid in valid else None
            if user is not None and user.name == name:
                out[name] = uid
    for name in names:
        if name in out:
            continue
        ids = session.exec(
            select(User.id).where(User.name == name, User.status == UserStatus.active).limit(2)
        ).all()
        if len(ids) == 1:
            out[name] = ids[0]  # type: ignore[assignment]
    return out


def post_message(session: Session, user: User, channel_id: int, body: str, *,
                 parent_id: int | None = None,
                 mention_ids: dict[str, int] | None = None,
                 rate_limited: bool = True, client_key: str = "",
                 file_ids: list[int] | None = None) -> Message:
    """Post a message, or a reply in a thread when ``parent_id`` is given,
    with the member's pending uploads ``file_ids`` attached (then the text may be empty)."""
    channel_rules.require_active(user)
    channel = channel_rules.get_channel(session, channel_id)
    text = clean_text(body, label="メッセージ", max_len=MAX_BODY, required=not file_ids)
    parent: Message | None = None
    if parent_id:
        parent = session.get(Message, parent_id)
        if parent is None or parent.channel_id != channel_id or parent.parent_id is not None:
            raise NotFound("返信先のスレッドが見つかりません。")
        if not parent.is_visible and parent.reply_count == 0:
            raise InvalidInput("削除されたメッセージには返信できません。")
        if not channel_rules.can_reply(user, channel):
            raise NotAllowed("このチャンネルでは返信できません。")
    elif not channel_rules.can_start_thread(user, channel):
        if channel.archived_at is not None:
            raise NotAllowed("アーカイブされたチャンネルには投稿できません。")
        raise NotAllowed("お知らせチャンネルで新しい投稿ができるのは、国の職員と運営だけです。返信はできます。")
    if rate_limited:
        busy = "短時間に多くの投稿がありました。少し待ってから、もう一度投稿してください。"
        ratelimit.hit_local([f"post:{user.id}"], limit=30, within=timedelta(minutes=1), message=busy)
        if client_key:  # a whole 自治体 may sit behind one LGWAN gateway: generous
            ratelimit.hit_local([f"post-addr:{client_key}"], limit=600, within=timedelta(minutes=1),
                                message=busy)

    mentions = _resolve_mentions(session, text, mention_ids)
    now = utcnow()
    message = Message(
        channel_id=channel_id, parent_id=parent.id if parent else None, author_id=user.id,  # type: ignore[arg-type]
        body=text, body_html=markup.render(text, mentions), created_at=now,
    )
    session.add(message)
    channel.last_message_at = now
    session.add(channel)
    session.flush()
    search_index.sync_message(session, message)
    attachments.attach(session, user, list(file_ids or []), message=message)
    events: list[Event] = [MessageChanged(channel_id, message.id, message.parent_id, "posted")]  # type: ignore[arg-type]
    notify: dict[int, tuple[str, str]] = {}
    excerpt = markup.plain_text(text, 80)
    if parent is not None:
        session.execute(
            sa.update(Message).where(Message.id == parent.id).values(
                reply_count=Message.reply_count + 1, last_reply_at=now, rev=Message.rev + 1)
        )
        session.refresh(parent)
        events.append(MessageChanged(channel_id, parent.id, None, "replied"))  # type: ignore[arg-type]
        # Thread participants hear of the reply: the starter and earlier repliers.
        participants = set(session.exec(
            select(Message.author_id).where(Message.parent_id == parent.id)
        ).all()) | {parent.author_id}
        for uid in participants:
            notify[uid] = ("reply", f"{user.name}さんがスレッドに返信しました: {excerpt}")
    else:
        events.append(UnreadChanged(channel_id, message.id, user.id))  # type: ignore[arg-type]
    for uid in mentions.values():
        notify[uid] = ("mention", f"{user.name}さんがあなたをメンションしました: {excerpt}")
    notify.pop(user.id or 0, None)
    thread_id = parent.id if parent else message.id
    for uid, (kind, line) in notify.items():
        session.add(Notification(
            user_id=uid, kind=kind, message_id=message.id, channel_id=channel_id, actor_id=user.id,
            text=line[:300], link=routes.message(channel.slug, message.id or 0, thread_id), created_at=now,
        ))
        events.append(InboxChanged(uid))
    record(session, *events)
    return message


def _own_message(session: Session, user: User, message_id: int) -> Message:
    channel_rules.require_active(user)
    message = session.get(Message, message_id)
    if message is None or message.deleted_at is not None:
        raise NotFound("メッセージが見つかりません。")
    if message.author_id != user.id:
        raise NotAllowed("ほかの人のメッセージは編集・削除できません。")
    return message


def edit_message(session: Session, user: User, message_id: int, body: str,
                 mention_ids: dict[str, int] | None = None) -> None:
    message = _own_message(session, user, message_id)
    if message.hidden_at is not None:
        raise NotAllowed("運営により非表示になったメッセージは編集できません。")
    channel = channel_rules.get_channel(session, message.channel_id)
    if channel.archived_at is not None:
        raise NotAllowed("アーカイブされたチャンネルのメッセージは編集できません。")
    text = clean_text(body, label="メッセージ", max_len=MAX_BODY)
    if text == message.body:
        return
    message.body = text
    message.body_html = markup.render(text, _resolve_mentions(session, text, mention_ids))
    message.edited_at = utcnow()
    message.rev += 1
    session.add(message)
    search_index.sync_message(session, message)
    record(session, MessageChanged(message.channel_id, message.id or 0, message.parent_id, "edited"))


def _after_removal(session: Session, message: Message, change: str) -> None:
    search_index.sync_message(session, message)
    attachments.sync_message(session, message)
    events: list[Event] = [MessageChanged(message.channel_id, message.id or 0, message.parent_id, change)]
    # A poll hidden with its message: its results room keeps only 運営 and the author.
    events += [AccessChanged(topic=f"poll-results:{pid}")
               for pid in session.exec(select(Poll.id).where(Poll.message_id == message.id)).all()]
    # An お知らせ put out with this message leaves (or, restored, comes back
    # to) every home feed.
    events += [AnnouncementShown(aid, visibility.announcement_shown(session, aid))
               for aid in session.exec(select(AnnouncementChannel.announcement_id).where(
                   AnnouncementChannel.message_id == message.id)).all()]
    if message.parent_id:
        parent = session.get(Message, message.parent_id)
        if parent is not None:
            visible = int(session.exec(
                select(sa.func.count()).select_from(Message).where(
                    Message.parent_id == parent.id, col(Message.deleted_at).is_(None),
                    col(Message.hidden_at).is_(None))
            ).one())
            parent.reply_count = visible
            if parent.answer_id == message.id:
                parent.answer_id = None
            parent.rev += 1
            session.add(parent)
            events.append(MessageChanged(parent.channel_id, parent.id, None, "replied"))  # type: ignore[arg-type]
    record(session, *events)


def delete_message(session: Session, user: User, message_id: int) -> None:
    """Delete one's own message. A thread's first message with replies stays as
    a placeholder (「このメッセージは削除されました」)."""
    message = _own_message(session, user, message_id)
    message.deleted_at = utcnow()
    message.rev += 1
    session.add(message)
    session.flush()
    _after_removal(session, message, "deleted")


def hide_message(session: Session, moderator: User, message_id: int, reason: str = "") -> None:
    channel_rules.require_staff(moderator)
    message = session.get(Message, message_id)
    if message is None or message.deleted_at is not None:
        raise NotFound("メッセージが見つかりません。")
    if message.hidden_at is not None:
        return
    message.hidden_at = utcnow()
    message.hidden_by_id = moderator.id
    message.rev += 1
    session.add(message)
    session.add(AuditLog(actor_id=moderator.id, action="message.hide", target_type="message",
                         target_id=message.id, detail=reason[:2000]))
    session.flush()
    _after_removal(session, message, "hidden")


def restore_message(session: Session, moderator: User, message_id: int) -> None:
    channel_rules.require_staff(moderator)
    message = session.get(Message, message_id)
    if message is None or message.deleted_at is not None or message.hidden_at is None:
        raise NotFound("非表示のメッセージが見つかりません。")
    message.hidden_at = None
    message.hidden_by_id = None
    message.rev += 1
    session.add(message)
    session.add(AuditLog(actor_id=moderator.id, action="message.restore", target_type="message",
                         target_id=message.id))
    session.flush()
    _after_removal(session, message, "restored")


def get_message(session: Session, user: User, message_id: int) -> Message:
    channel_rules.require_active(user)
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound("メッセージが見つかりません。")
    return message


def channel_of(session: Session, message: Message) -> Channel:
    return channel_rules.get_channel(session, message.channel_id)
