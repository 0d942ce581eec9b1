"""Moderation: reports (通報), the moderators' queue, suspending members, the
audit log. Every action of 運営 is written to the audit log, which admins read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso import routes
from kyoso.db import utcnow
from kyoso.models import (AuditLog, BriefingQuestion, Channel, Message, Organisation, Poll, Report, Role, User,
                          UserStatus)
from kyoso.services import accounts, markup, messages, ratelimit
from kyoso.services.events import AccessChanged, record
from kyoso.services import channels as channel_rules
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.text import clean_text
from kyoso.services.timefmt import jst_datetime

REPORT_REASONS = ("誹謗中傷・攻撃的な内容", "スパム・宣伝", "個人情報・機密情報", "外部への転載", "その他")
ACTION_LABELS = {
    "signup.approve": "参加申込を承認", "signup.reject": "参加申込を却下",
    "message.hide": "投稿を非表示", "message.restore": "投稿を再表示",
    "report.resolve": "通報を対応済みに", "report.dismiss": "通報を却下",
    "user.suspend": "利用停止", "user.reinstate": "利用再開", "user.role": "役割を変更",
    "channel.create": "チャンネル作成", "channel.update": "チャンネル編集",
    "channel.archive": "チャンネルをアーカイブ", "channel.unarchive": "アーカイブを解除",
    "stamp.add": "スタンプ追加", "stamp.remove": "スタンプ削除",
    "poll.close": "アンケートを締め切り", "poll.reopen": "アンケートを再開",
    "question.hide": "質問を非表示",
    "user.link": "取り込んだメンバーを結びつけ", "import.slack": "Slackから取り込み",
}


@dataclass
class ReportView:
    id: int
    message_id: int
    excerpt: str
    author: str
    reason: str
    reporter: str
    count: int
    hidden: bool
    at: str
    link: str = ""  # the post, open in its thread


@dataclass
class AuditEntry:
    at: str
    actor: str
    action: str
    target: str
    detail: str


@dataclass
class MemberRow:
    id: int
    name: str
    org_name: str
    role: str
    status: str
    role_code: str = ""
    link: str = ""  # the member's profile


def report(session: Session, user: User, message_id: int, reason: str) -> Report:
    """A member reports a post. One report per member per post."""
    channel_rules.require_active(user)
    message = session.get(Message, message_id)
    if message is None or message.deleted_at is not None:
        raise NotFound("投稿が見つかりません。")
    text = clean_text(reason, label="通報の理由", max_len=1000)
    ratelimit.check(session, [f"report:{user.id}"], limit=20, within=timedelta(hours=1),
                    message="短時間に多くの通報がありました。時間をおいてからお試しください。")
    existing = session.exec(select(Report).where(
        Report.message_id == message_id, Report.reporter_id == user.id)).first()
    if existing is not None:
        raise InvalidInput("この投稿はすでに通報済みです。運営が確認します。")
    ratelimit.hit(session, f"report:{user.id}")
    row = Report(message_id=message_id, reporter_id=user.id, reason=text)  # type: ignore[arg-type]
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise InvalidInput("この投稿はすでに通報済みです。運営が確認します。") from None
    return row


def queue(session: Session, moderator: User) -> list[ReportView]:
    """Open reports, one row per reported post (the latest reason), oldest first."""
    accounts.require_staff(moderator)
    rows = session.exec(
        select(Report, Message, User, Channel)
        .join(Message, Message.id == Report.message_id)  # type: ignore[arg-type]
        .join(User, User.id == Report.reporter_id)  # type: ignore[arg-type]
        .join(Channel, Channel.id == Message.channel_id)  # type: ignore[arg-type]
        .where(Report.status == "open").order_by(Report.created_at)  # type: ignore[arg-type]
    ).all()
    by_message: dict[int, ReportView] = {}
    for r, m, reporter, channel in rows:
        view = by_message.get(m.id or 0)
        if view is not None:
            view.count += 1
            view.reason, view.reporter = r.reason, reporter.name
            continue
        author = session.get(User, m.author_id)
        by_message[m.id or 0] = ReportView(
            id=r.id or 0, message_id=m.id or 0, excerpt=markup.plain_text(m.body, 140),
            author=author.name if author else "", reason=r.reason, reporter=reporter.name, count=1,
            hidden=m.hidden_at is not None, at=jst_datetime(r.created_at),
            link=routes.message(channel.slug, m.id or 0, m.parent_id or m.id))
    return list(by_message.values())


def close_reports(session: Session, moderator: User, message_id: int, *, hide: bool) -> None:
    """Handle every open report of a post: hide it, or dismiss the reports."""
    accounts.require_staff(moderator)
    reports = session.exec(select(Report).where(
        Report.message_id == message_id, Report.status == "open")).all()
    if not reports:
        raise NotFound("対応待ちの通報はありません。画面を更新してください。")
    if hide:
        messages.hide_message(session, moderator, message_id, reason="通報により非表示")
    now = utcnow()
    for r in reports:
        r.status = "resolved" if hide else "dismissed"
        r.resolved_by_id, r.resolved_at = moderator.id, now
        session.add(r)
    session.add(AuditLog(actor_id=moderator.id, action="report.resolve" if hide else "report.dismiss",
                         target_type="message", target_id=message_id, detail=f"{len(reports)}件"))


def set_suspended(session: Session, moderator: User, user_id: int, suspended: bool, reason: str = "") -> None:
    accounts.require_staff(moderator)
    target = session.get(User, user_id)
    if target is None or target.status not in (UserStatus.active, UserStatus.suspended):
        raise NotFound("メンバーが見つかりません。")
    if target.id == moderator.id:
        raise InvalidInput("自分自身を利用停止にはできません。")
    if target.role == Role.admin and moderator.role != Role.admin:
        raise NotAllowed("管理者を利用停止にできるのは管理者だけです。")
    target.status = UserStatus.suspended if suspended else UserStatus.active
    if suspended:
        accounts.end_all_sessions(session, target)
    session.add(target)
    session.add(AuditLog(actor_id=moderator.id, action="user.suspend" if suspended else "user.reinstate",
                         target_type="user", target_id=target.id,
                         detail=clean_text(reason, label="理由", max_len=1000, required=False)))


def set_role(session: Session, admin: User, user_id: int, role: str) -> None:
    if admin.status != UserStatus.active or admin.role != Role.admin:
        raise NotAllowed("役割を変えられるのは管理者だけです。")
    if role not in set(Role):
        raise InvalidInput("役割が正しくありません。")
    target = session.get(User, user_id)
    if target is None:
        raise NotFound("メンバーが見つかりません。")
    if target.id == admin.id:
        raise InvalidInput("自分の役割は変えられません。ほかの管理者に依頼してください。")
    before = target.role
    target.role = role
    session.add(target)
    record(session, AccessChanged(target.id or 0))  # rooms only 運営 may be in are left at once
    labels = accounts.ROLE_LABELS
    session.add(AuditLog(actor_id=admin.id, action="user.role", target_type="user", target_id=target.id,
                         detail=f"{labels.get(Role(before), before)} → {labels.get(Role(role), role)}"))


def find_members(session: Session, moderator: User, query: str, *, limit: int = 30) -> list[MemberRow]:
    accounts.require_staff(moderator)
    q = f"%{(query or '').strip()[:50]}%"
    rows = session.exec(
        select(User, Organisation).join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(col(User.status).in_([UserStatus.active, UserStatus.suspended]),
               sa.or_(col(User.name).ilike(q), col(Organisation.name).ilike(q)))
        .order_by(User.name).limit(limit)
    ).all()
    return [MemberRow(u.id or 0, u.name, o.display_name, accounts.ROLE_LABELS.get(Role(u.role), u.role),
                      u.status, u.role, link=routes.profile(u.id or 0)) for u, o in rows]


def audit_log(session: Session, admin: User, *, limit: int = 200) -> list[AuditEntry]:
    """Every action of 運営, newest first. Admins only."""
    if admin.status != UserStatus.active or admin.role != Role.admin:
        raise NotAllowed("監査ログを見られるのは管理者だけです。")
    rows = session.exec(
        select(AuditLog, User).join(User, User.id == AuditLog.actor_id, isouter=True)  # type: ignore[arg-type]
        .order_by(col(AuditLog.id).desc()).limit(limit)
    ).all()
    names = _target_names(session, [a for a, _ in rows])
    return [AuditEntry(jst_datetime(a.created_at), u.name if u else "システム",
                       ACTION_LABELS.get(a.action, a.action),
                       names.get((a.target_type, a.target_id), TARGET_LABELS.get(a.target_type, a.target_type)),
                       a.detail)
            for a, u in rows]


@dataclass
class StaffCounts:
    """What waits for 運営 (the badge on the 運営 menu)."""

    applications: int
    reports: int  # reported posts with an open report

    @property
    def total(self) -> int:
        return self.applications + self.reports


def staff_counts(session: Session, staff: User) -> StaffCounts:
    accounts.require_staff(staff)
    applications = session.exec(
        select(sa.func.count()).select_from(User).where(User.status == UserStatus.pending)).one()
    reports = session.exec(
        select(sa.func.count(sa.distinct(Report.message_id))).where(Report.status == "open")).one()
    return StaffCounts(int(applications), int(reports))
TARGET_LABELS = {"user": "メンバー", "message": "投稿", "channel": "チャンネル", "poll": "アンケート",
                 "question": "説明会の質問", "stamp": "スタンプ"}


def _target_names(session: Session, entries: list[AuditLog]) -> dict[tuple[str, int | None], str]:
    """What each audit entry acted on, by name: one query per kind of target."""
    wanted: dict[str, set[int]] = {}
    for a in entries:
        if a.target_id:
            wanted.setdefault(a.target_type, set()).add(a.target_id)
    names: dict[tuple[str, int | None], str] = {}
    if ids := wanted.get("user"):
        for uid, name in session.exec(select(User.id, User.name).where(col(User.id).in_(ids))).all():
            names[("user", uid)] = name
    if ids := wanted.get("channel"):
        for cid, name in session.exec(select(Channel.id, Channel.name).where(col(Channel.id).in_(ids))).all():
            names[("channel", cid)] = f"#{name}"
    if ids := wanted.get("message"):
        for mid, body in session.exec(select(Message.id, Message.body).where(col(Message.id).in_(ids))).all():
            names[("message", mid)] = f"投稿「{markup.plain_text(body, 30)}」"
    if ids := wanted.get("poll"):
        for pid, question in session.exec(select(Poll.id, Poll.question).where(col(Poll.id).in_(ids))).all():
            names[("poll", pid)] = f"アンケート「{markup.plain_text(question, 30)}」"
    if ids := wanted.get("question"):
        for qid, body in session.exec(select(BriefingQuestion.id, BriefingQuestion.body)
                                      .where(col(BriefingQuestion.id).in_(ids))).all():
            names[("question", qid)] = f"質問「{markup.plain_text(body, 30)}」"
    for a in entries:
        if a.target_id and (a.target_type, a.target_id) not in names:
            names[(a.target_type, a.target_id)] = TARGET_LABELS.get(a.target_type, a.target_type)
    return names
