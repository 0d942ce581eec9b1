"""運営's page: the review queue of sign-ups (moderation joins it later)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from kyoso import realtime
from kyoso.models import Role, User
from kyoso.services import accounts, moderation, stamps
from kyoso.services.errors import DomainError, NotAuthenticated
from kyoso.services.timefmt import jst_datetime
from kyoso.states.session import SessionState


@dataclasses.dataclass
class Applicant:
    id: int = 0
    name: str = ""
    email: str = ""
    org_name: str = ""
    org_code: str = ""
    department: str = ""
    applied_at: str = ""


@dataclasses.dataclass
class Decision:
    applicant: str = ""
    reviewer: str = ""
    decision: str = ""
    reason: str = ""
    at: str = ""


class AdminState(SessionState):
    tab: str = "signups"
    applicants: list[Applicant] = []
    decisions: list[Decision] = []
    reports: list[moderation.ReportView] = []
    members: list[moderation.MemberRow] = []
    member_query: str = ""
    audit: list[moderation.AuditEntry] = []
    custom_stamps: list[str] = []
    is_admin: bool = False
    reject_id: int = 0
    reject_reason: str = ""
    error: str = ""
    notice: str = ""

    def _load(self) -> None:
        with self._reading() as (session, user):
            self.is_admin = user.role == Role.admin
            self.custom_stamps = stamps.custom_labels(session)
            self.reports = moderation.queue(session, user)
            self.members = moderation.find_members(session, user, self.member_query)
            self.audit = moderation.audit_log(session, user, limit=100) if self.is_admin else []
            rows = accounts.list_pending(session, user)
            self.applicants = [
                Applicant(u.id or 0, u.name, u.email, o.display_name, o.code, u.department,
                          jst_datetime(u.created_at))
                for u, o in rows
            ]
            names: dict[int, str] = {}

            def name(uid: int) -> str:
                if uid not in names:
                    other = session.get(User, uid)
                    names[uid] = other.name if other else "?"
                return names[uid]

            self.decisions = [
                Decision(name(d.applicant_id), name(d.reviewer_id),
                         "承認" if d.decision == "approve" else "却下", d.reason,
                         jst_datetime(d.created_at))
                for d in accounts.review_history(session, user, limit=30)
            ]

    @rx.event
    async def open_admin(self):
        self.error = ""
        self.notice = ""
        self.reject_id = 0
        redirect = await self._load_shell()
        if redirect is not None:
            return redirect
        if not self.me.is_staff:
            return rx.redirect("/", replace=True)
        try:
            self._load()
        except NotAuthenticated:
            return self._login_redirect()
        except DomainError as exc:
            self.error = exc.message
        return None

    @rx.event
    def set_tab(self, tab: str):
        self.tab = str(tab)

    @rx.event
    async def close_reports(self, message_id: int, hide: bool):
        self.error = ""
        try:
            with self._acting() as (session, user):
                events = moderation.close_reports(session, user, int(message_id), hide=bool(hide))
            self._load()
        except DomainError as exc:
            self.error = exc.message
            return
        self.notice = "投稿を非表示にしました。" if hide else "通報を却下しました。"
        await realtime.publish(events)

    @rx.event
    def add_stamp(self, form: dict):
        self.error = ""
        try:
            with self._acting() as (session, user):
                label = stamps.add_custom(session, user, str(form.get("label", ""))).label
            self._load()
        except DomainError as exc:
            self.error = exc.message
            return None
        self.notice = f"スタンプ「{label}」を追加しました。"
        return rx.set_value("stamp-label", "")

    @rx.event
    def remove_stamp(self, label: str):
        self.error = ""
        try:
            with self._acting() as (session, user):
                stamps.remove_custom(session, user, str(label))
            self._load()
        except DomainError as exc:
            self.error = exc.message

    @rx.event
    def search_members(self, value: str):
        self.member_query = str(value)[:50]
        try:
            with self._reading() as (session, user):
                self.members = moderation.find_members(session, user, self.member_query)
        except DomainError as exc:
            self.error = exc.message

    @rx.event
    def set_suspended(self, user_id: int, suspended: bool):
        self.error = ""
        try:
            with self._acting() as (session, user):
                moderation.set_suspended(session, user, int(user_id), bool(suspended))
            self._load()
        except DomainError as exc:
            self.error = exc.message
            return
        self.notice = "利用停止にしました。" if suspended else "利用を再開しました。"

    @rx.event
    def approve(self, applicant_id: int):
        self.error = ""
        try:
            with self._acting() as (session, user):
                applicant = accounts.do_review(session, user, int(applicant_id), approve=True)
                self.notice = f"{applicant.name}さんの申請を承認しました。"
            self._load()
        except DomainError as exc:
            self.error = exc.message

    @rx.event
    def start_reject(self, applicant_id: int):
        self.reject_id = int(applicant_id)
        self.reject_reason = ""
        self.error = ""

    @rx.event
    def cancel_reject(self):
        self.reject_id = 0

    @rx.event
    def set_reject_reason(self, value: str):
        self.reject_reason = value

    @rx.event
    def reject(self):
        self.error = ""
        try:
            with self._acting() as (session, user):
                applicant = accounts.do_review(session, user, self.reject_id, approve=False,
                                               reason=self.reject_reason)
                self.notice = f"{applicant.name}さんの申請を却下しました。"
            self.reject_id = 0
            self._load()
        except DomainError as exc:
            self.error = exc.message
