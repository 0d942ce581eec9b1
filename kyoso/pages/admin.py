"""/admin: 運営's review queue."""

from __future__ import annotations

import reflex as rx

from kyoso import routes

from kyoso.components.layout import shell
from kyoso.components.ui import SEARCH_MAX, card, empty_state, form_error, notice, page_title, tid
from kyoso.services.accounts import ROLE_LABELS, ApplicantView, DecisionView
from kyoso.services.moderation import MemberRow, ReportView
from kyoso.states.admin import AdminState
from kyoso.states.session import SessionState
from kyoso.styles import MUTED

ROLE_CHOICES = [(str(code.value if hasattr(code, "value") else code), label) for code, label in ROLE_LABELS.items()]


def _fit(fit: rx.Var[str]) -> rx.Component:
    """Whether the address's domain names the chosen 団体: a hint, not a rule."""
    return rx.cond(
        fit == "一致",
        rx.badge("ドメイン: 一致", color_scheme="green", variant="soft", high_contrast=True,
                 title="メールのドメインが選ばれた団体と一致します", custom_attrs=tid("email-fit")),
        rx.badge("ドメイン: 要確認", color_scheme="amber", variant="soft", high_contrast=True,
                 title="メールのドメインから団体を確かめられませんでした。所属を確認してください",
                 custom_attrs=tid("email-fit")),
    )


def _applicant(a: ApplicantView) -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(
                rx.text(a.name, weight="bold"),
                rx.text(a.org_name, size="2"),
                rx.badge(a.org_code, variant="soft", color_scheme="gray", high_contrast=True),
                wrap="wrap", align="baseline", spacing="2",
            ),
            rx.hstack(
                rx.text(a.department, " ・ ", a.email, size="2", color=MUTED),
                _fit(AdminState.email_fit[a.id.to_string()]),
                wrap="wrap", align="center", spacing="2",
            ),
            rx.text("申込日時: ", a.applied_at, size="1", color=MUTED),
            rx.cond(
                AdminState.reject_id == a.id,
                rx.vstack(
                    rx.text_area(
                        value=AdminState.reject_reason, on_change=AdminState.set_reject_reason,
                        placeholder="申請者に伝える却下の理由（例: 所属が確認できませんでした）",
                        width="100%", custom_attrs=tid("review-reason"),
                    ),
                    rx.hstack(
                        rx.button("却下する", color_scheme="red", on_click=AdminState.reject,
                                  custom_attrs=tid("review-reject-confirm")),
                        rx.button("やめる", variant="soft", color_scheme="gray",
                                  on_click=AdminState.cancel_reject),
                    ),
                    width="100%",
                ),
                rx.hstack(
                    rx.button("承認", on_click=AdminState.approve(a.id),
                              custom_attrs=tid("review-approve", **{"data-applicant": a.email})),
                    rx.button("却下…", variant="soft", color_scheme="red",
                              on_click=AdminState.start_reject(a.id),
                              custom_attrs=tid("review-reject", **{"data-applicant": a.email})),
                ),
            ),
            spacing="2",
            width="100%",
        ),
        custom_attrs=tid("review-item"),
    )


def _decision(d: DecisionView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(d.at),
        rx.table.cell(d.applicant),
        rx.table.cell(rx.badge(d.decision, color_scheme=rx.cond(d.decision == "承認", "green", "red"), high_contrast=True)),
        rx.table.cell(d.reviewer),
        rx.table.cell(d.reason),
    )


def _report(r: rx.Var[ReportView]) -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(
                rx.badge(r.count.to_string() + "件の通報", color_scheme="red", high_contrast=True),
                rx.cond(r.hidden, rx.badge("非表示中", color_scheme="gray", high_contrast=True)),
                rx.text(r.at, size="1", color=MUTED), spacing="2", align="center",
            ),
            rx.text(r.excerpt, size="2", style={"white_space": "pre-wrap"}),
            rx.text("投稿者: ", r.author, " ・ 理由: ", r.reason, "（", r.reporter, "）", size="1", color=MUTED),
            rx.hstack(
                rx.link("投稿を開く", href=r.link, size="2"),
                rx.button("非表示にする", size="1", color_scheme="red",
                          on_click=AdminState.close_reports(r.message_id, True),
                          custom_attrs=tid("report-hide")),
                rx.button("問題なし（却下）", size="1", variant="soft", color_scheme="gray",
                          on_click=AdminState.close_reports(r.message_id, False),
                          custom_attrs=tid("report-dismiss")),
                spacing="3", align="center",
            ),
            spacing="1", width="100%",
        ),
        custom_attrs=tid("report-item"),
    )


def _member(m: rx.Var[MemberRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(m.name, href=m.link)),
        rx.table.cell(m.org_name),
        rx.table.cell(rx.cond(
            AdminState.is_admin & (m.id != SessionState.me.id),
            # Admins change roles here (audited); others see the role.
            rx.el.select(
                *[rx.el.option(label, value=code) for code, label in ROLE_CHOICES],
                value=m.role_code,
                on_change=lambda role: AdminState.set_role(m.id, role),
                aria_label=m.name + "さんの役割",
                custom_attrs=tid("member-role", **{"data-user-id": m.id}),
                style={"padding": "0.2em", "max_width": "9em"},
            ),
            m.role,
        ), white_space="nowrap"),
        rx.table.cell(rx.cond(m.status == "suspended", rx.badge("利用停止中", color_scheme="red", high_contrast=True),
                              "有効")),
        rx.table.cell(rx.hstack(
            rx.cond(
                m.status == "suspended",
                rx.button("利用再開", size="1", variant="soft", on_click=AdminState.set_suspended(m.id, False)),
                rx.button("利用停止", size="1", variant="soft", color_scheme="red",
                          on_click=AdminState.set_suspended(m.id, True), custom_attrs=tid("member-suspend")),
            ),
            rx.cond(m.status == "active",
                    rx.button("再設定リンクを送る", size="1", variant="soft", color_scheme="gray",
                              on_click=AdminState.send_reset_link(m.id), custom_attrs=tid("member-reset-link"))),
            spacing="2",
        )),
    )


def _signups() -> rx.Component:
    return rx.vstack(
        rx.cond(
            AdminState.applicants.length() > 0,
            rx.vstack(rx.foreach(AdminState.applicants, _applicant), width="100%", spacing="2"),
            empty_state("審査待ちの申込はありません", "新しい申込が届くとここに表示されます。", "user_check"),
        ),
        rx.heading("審査の記録", size="3", as_="h2", margin_top="1em"),
        rx.cond(
            AdminState.decisions.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("日時"),
                        rx.table.column_header_cell("申請者"),
                        rx.table.column_header_cell("結果"),
                        rx.table.column_header_cell("審査者"),
                        rx.table.column_header_cell("理由"),
                    )),
                    rx.table.body(rx.foreach(AdminState.decisions, _decision)),
                    size="1", width="100%",
                ),
                overflow_x="auto", width="100%", custom_attrs={"data-scroll-x": "true"},
                tab_index=0, role="region", aria_label="表（横にスクロールできます）",
            ),
            rx.text("まだ審査の記録はありません。", size="2", color=MUTED),
        ),
        width="100%",
    )


def _reports() -> rx.Component:
    return rx.cond(
        AdminState.reports.length() > 0,
        rx.vstack(rx.foreach(AdminState.reports, _report), width="100%", spacing="2"),
        empty_state("対応待ちの通報はありません", "メンバーが投稿を通報すると、ここに表示されます。", "flag"),
    )


def _members() -> rx.Component:
    return rx.vstack(
        rx.input(placeholder="氏名・団体名で検索", value=AdminState.member_query, max_length=SEARCH_MAX,
                 on_change=AdminState.search_members.debounce(300), max_width="360px",
                 aria_label="メンバーを検索"),
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("氏名"), rx.table.column_header_cell("団体"),
                    rx.table.column_header_cell("役割"), rx.table.column_header_cell("状態"),
                    rx.table.column_header_cell("操作"),
                )),
                rx.table.body(rx.foreach(AdminState.members, _member)),
                size="1", width="100%",
            ),
            overflow_x="auto", width="100%", custom_attrs={"data-scroll-x": "true"},
            tab_index=0, role="region", aria_label="表（横にスクロールできます）",
        ),
        width="100%",
    )


def _stamps() -> rx.Component:
    return rx.vstack(
        rx.text("スタンプ一覧に、運営が文字のスタンプを加えられます（20文字まで）。", size="2", color=MUTED),
        rx.form(
            rx.hstack(
                rx.input(name="label", id="stamp-label", placeholder="例: 完全に同意", max_length=20,
                         aria_label="追加するスタンプ", custom_attrs=tid("stamp-custom-input")),
                rx.button("追加", type="submit", size="2", custom_attrs=tid("stamp-custom-add")),
                align="center",
            ),
            on_submit=AdminState.add_stamp, reset_on_submit=False,
        ),
        rx.flex(rx.foreach(AdminState.custom_stamps, lambda label: rx.badge(
            label, " ", rx.el.button("×", type="button", on_click=AdminState.remove_stamp(label),
                                     aria_label="「" + label + "」を削除",
                                     style={"border": "none", "background": "none", "cursor": "pointer"}),
            variant="soft", size="2", high_contrast=True)), wrap="wrap", gap="2"),
        width="100%", spacing="2",
    )


def _audit() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("日時"), rx.table.column_header_cell("実行者"),
                rx.table.column_header_cell("操作"), rx.table.column_header_cell("対象"),
                rx.table.column_header_cell("内容"),
            )),
            rx.table.body(rx.foreach(AdminState.audit, lambda a: rx.table.row(
                rx.table.cell(a.at, white_space="nowrap"), rx.table.cell(a.actor, white_space="nowrap"),
                rx.table.cell(a.action, white_space="nowrap"),
                rx.table.cell(a.target), rx.table.cell(a.detail)))),
            size="1", width="100%",
        ),
        overflow_x="auto", width="100%", custom_attrs=tid("audit-log", **{"data-scroll-x": "true"}), tab_index=0, role="region",
        aria_label="監査ログ（横にスクロールできます）",
    )


def admin_page() -> rx.Component:
    return shell(
        page_title("運営", rx.link("送信メール", href=routes.ADMIN_MAIL, size="2",
                                 custom_attrs=tid("admin-mail-link"))),
        form_error(AdminState.error),
        notice(AdminState.notice),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger(rx.text("参加申込 ", AdminState.applicants.length()), value="signups"),
                rx.tabs.trigger(rx.text("通報 ", AdminState.reports.length()), value="reports",
                                custom_attrs=tid("admin-tab-reports")),
                rx.tabs.trigger("メンバー", value="members"),
                rx.tabs.trigger("スタンプ", value="stamps"),
                rx.cond(AdminState.is_admin, rx.tabs.trigger("監査ログ", value="audit",
                                                             custom_attrs=tid("admin-tab-audit"))),
                # On a phone the tabs wrap onto a second line rather than run off-screen.
                style={"flex_wrap": "wrap", "height": "auto"},
            ),
            rx.tabs.content(_signups(), value="signups", padding_top="1em"),
            rx.tabs.content(_reports(), value="reports", padding_top="1em"),
            rx.tabs.content(_members(), value="members", padding_top="1em"),
            rx.tabs.content(_stamps(), value="stamps", padding_top="1em"),
            rx.tabs.content(_audit(), value="audit", padding_top="1em"),
            value=AdminState.tab,
            on_change=AdminState.set_tab,
            width="100%",
        ),
    )
