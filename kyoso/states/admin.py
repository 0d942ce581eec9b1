"""運営's page: the review queue of sign-ups, reports, members, stamps, the audit log."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso.models import Role
from kyoso.services import account_mail, accounts, moderation, stamps
from kyoso.states.session import SessionState


class AdminState(SessionState):
    tab: str = "signups"
    applicants: list[accounts.ApplicantView] = []
    email_fit: dict[str, str] = {}  # applicant id -> 一致 | 要確認 (does the address fit the 団体?)
    decisions: list[accounts.DecisionView] = []
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

    def _load(self, session: Any, user: Any) -> None:
        self.is_admin = user.role == Role.admin
        self.custom_stamps = stamps.custom_labels(session)
        self.reports = moderation.queue(session, user)
        self.members = moderation.find_members(session, user, self.member_query)
        self.audit = moderation.audit_log(session, user, limit=100) if self.is_admin else []
        self.applicants = accounts.applicants(session, user)
        self.email_fit = {str(a.id): a.email_fit for a in account_mail.review_queue(session, user)}
        self.decisions = accounts.decisions(session, user, limit=30)

    async def _reload(self, _: Any = None) -> Any:
        return await self._read(self._load, error="")

    @rx.event
    async def open_admin(self):
        self.notice = ""
        self.reject_id = 0
        return await self._open_staff(self._load)

    @rx.event
    def set_tab(self, tab: str):
        self.tab = str(tab)[:20]

    @rx.event
    async def close_reports(self, message_id: int, hide: bool):
        return await self._change(moderation.close_reports, int(message_id), hide=bool(hide),
                                  notice="投稿を非表示にしました。" if hide else "通報を却下しました。",
                                  then=self._reload)

    @rx.event
    async def add_stamp(self, form: dict):
        async def added(label: str) -> Any:
            self.notice = f"スタンプ「{label}」を追加しました。"
            await self._reload()
            return rx.set_value("stamp-label", "")

        return await self._change(
            lambda session, user: stamps.add_custom(session, user, str(form.get("label", ""))).label,
            then=added)

    @rx.event
    async def remove_stamp(self, label: str):
        return await self._change(stamps.remove_custom, str(label), then=self._reload)

    @rx.event
    async def search_members(self, value: str):
        self.member_query = str(value)[:50]
        return await self._read(moderation.find_members, self.member_query,
                                then=lambda rows: setattr(self, "members", rows))

    @rx.event
    async def set_suspended(self, user_id: int, suspended: bool):
        return await self._change(moderation.set_suspended, int(user_id), bool(suspended),
                                  notice="利用停止にしました。" if suspended else "利用を再開しました。",
                                  then=self._reload)

    @rx.event
    async def send_reset_link(self, user_id: int):
        return await self._change(account_mail.send_reset_link, int(user_id),
                                  notice="パスワード再設定のリンクをメールで送りました（30分有効）。")
    async def set_role(self, user_id: int, role: str):
        return await self._change(moderation.set_role, int(user_id), str(role),
                                  notice="役割を変更しました。", then=self._reload)

    @rx.event
    async def approve(self, applicant_id: int):
        return await self._review(int(applicant_id), approve=True)

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
        self.reject_reason = str(value)[:1000]

    @rx.event
    async def reject(self):
        return await self._review(self.reject_id, approve=False, reason=self.reject_reason)

    async def _review(self, applicant_id: int, *, approve: bool, reason: str = "") -> Any:
        async def reviewed(name: str) -> Any:
            self.notice = f"{name}さんの申請を{'承認' if approve else '却下'}しました。"
            self.reject_id = 0
            return await self._reload()

        return await self._change(
            lambda session, user: accounts.do_review(session, user, applicant_id, approve=approve,
                                                     reason=reason).name,
            then=reviewed)
