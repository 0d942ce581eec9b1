"""/admin/mail: the outbox (運営 only)."""

from __future__ import annotations

import reflex as rx

from kyoso import routes
from kyoso.components.layout import shell
from kyoso.components.ui import card, empty_state, form_error, notice, page_title, tid
from kyoso.services.mail.outbox import OutboxItem
from kyoso.states.admin_mail import STATUS_CHOICES, AdminMailState
from kyoso.styles import MUTED

_STATUS_COLOURS = {"held": "amber", "queued": "blue", "sending": "blue", "sent": "green",
                   "failed": "red", "cancelled": "gray"}


def _status_badge(m: rx.Var[OutboxItem]) -> rx.Component:
    colour = rx.match(m.status, *[(k, v) for k, v in _STATUS_COLOURS.items()], "gray")
    return rx.badge(m.status_label, color_scheme=colour, variant="soft", high_contrast=True)


def _mail(m: rx.Var[OutboxItem]) -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(
                _status_badge(m),
                rx.badge(m.kind_label, variant="outline", color_scheme="gray", high_contrast=True),
                rx.text(m.created, size="1", color=MUTED),
                rx.cond(m.sent != "", rx.text("送信 ", m.sent, size="1", color=MUTED)),
                wrap="wrap", align="center", spacing="2",
            ),
            rx.text(m.subject, weight="bold", size="2"),
            rx.text("宛先: ", m.to_name, " <", m["to"], ">", size="1", color=MUTED),
            rx.cond(m.last_error != "",
                    rx.text("エラー（", m.attempts.to_string(), "回目）: ", m.last_error, size="1",
                            color="var(--red-11)")),
            rx.cond(
                m.links.length() > 0,
                rx.vstack(
                    rx.foreach(m.links, lambda url: rx.link(
                        url, href=url, size="2", underline="always",
                        style={"word_break": "break-all"}, custom_attrs=tid("mail-link"))),
                    spacing="1", width="100%",
                ),
            ),
            rx.el.details(
                rx.el.summary("本文を表示", style={"cursor": "pointer", "font_size": "0.85em"}),
                rx.el.pre(m.body_text, style={"white_space": "pre-wrap", "font_size": "0.85em",
                                              "margin": "0.5em 0 0", "word_break": "break-all"}),
            ),
            rx.cond(
                (m.status == "held") | (m.status == "failed"),
                rx.button("送信し直す", size="1", variant="soft", on_click=AdminMailState.requeue(m.id)),
            ),
            spacing="2", width="100%",
        ),
        custom_attrs=tid("mail-item", **{"data-to": m["to"], "data-mail-id": m.id}),
    )


def _filters() -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(aria_label="状態で絞り込む"),
            rx.select.content(*[rx.select.item(label, value=key or "all") for key, label in STATUS_CHOICES]),
            value=rx.cond(AdminMailState.status == "", "all", AdminMailState.status),
            on_change=AdminMailState.set_status,
        ),
        rx.form(
            rx.hstack(
                rx.input(name="to", placeholder="宛先のメールアドレス", default_value=AdminMailState.to,
                         aria_label="宛先で絞り込む", type="email", width="260px"),
                rx.button("絞り込む", type="submit", variant="soft"),
                spacing="2",
            ),
            on_submit=AdminMailState.search,
            reset_on_submit=False,
        ),
        wrap="wrap", spacing="3", align="center",
    )


def admin_mail_page() -> rx.Component:
    return shell(
        page_title("送信メール", rx.link("運営に戻る", href=routes.ADMIN, size="2")),
        rx.text("kyoso が送るメールの一覧です。SMTP サーバーが設定されていない（KYOSO_SMTP_URL が空の）間、"
                "メールは送られずにここに保留され、本文のリンクはここから開けます。", size="2", color=MUTED),
        rx.hstack(
            rx.foreach(AdminMailState.summary, lambda text: rx.badge(text, variant="soft", color_scheme="gray",
                                                                      high_contrast=True)),
            rx.spacer(),
            rx.cond(AdminMailState.held > 0,
                    rx.button("保留中をすべて送信する", size="1", on_click=AdminMailState.release_held)),
            wrap="wrap", spacing="2", align="center", width="100%", padding_y="0.5em",
        ),
        _filters(),
        form_error(AdminMailState.error),
        notice(AdminMailState.notice),
        rx.cond(
            AdminMailState.items.length() > 0,
            rx.vstack(rx.foreach(AdminMailState.items, _mail), spacing="2", width="100%", padding_top="0.5em"),
            empty_state("メールはありません", "参加申込やパスワードの再設定をすると、ここにメールが表示されます。", "mail"),
        ),
    )
