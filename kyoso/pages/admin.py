"""/admin: 運営's review queue."""

from __future__ import annotations

import reflex as rx

from kyoso.components.layout import shell
from kyoso.components.ui import card, empty_state, form_error, notice, page_title, tid
from kyoso.states.admin import AdminState, Applicant, Decision
from kyoso.styles import MUTED


def _applicant(a: Applicant) -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(
                rx.text(a.name, weight="bold"),
                rx.text(a.org_name, size="2"),
                rx.badge(a.org_code, variant="soft", color_scheme="gray", high_contrast=True),
                wrap="wrap", align="baseline", spacing="2",
            ),
            rx.text(a.department, " ・ ", a.email, size="2", color=MUTED),
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


def _decision(d: Decision) -> rx.Component:
    return rx.table.row(
        rx.table.cell(d.at),
        rx.table.cell(d.applicant),
        rx.table.cell(rx.badge(d.decision, color_scheme=rx.cond(d.decision == "承認", "green", "red"), high_contrast=True)),
        rx.table.cell(d.reviewer),
        rx.table.cell(d.reason),
    )


def admin_page() -> rx.Component:
    return shell(
        page_title("運営"),
        form_error(AdminState.error),
        notice(AdminState.notice),
        rx.heading("参加申込の審査", size="3", as_="h2", margin_top="0.5em"),
        rx.cond(
            AdminState.applicants.length() > 0,
            rx.vstack(rx.foreach(AdminState.applicants, _applicant), width="100%", spacing="2"),
            empty_state("審査待ちの申込はありません", "新しい申込が届くとここに表示されます。", "user_check"),
        ),
        rx.heading("審査の記録", size="3", as_="h2", margin_top="1.5em"),
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
                overflow_x="auto", width="100%",
            ),
            rx.text("まだ審査の記録はありません。", size="2", color=MUTED),
        ),
    )
