"""An お知らせ card and the form that publishes one."""

from __future__ import annotations

import reflex as rx

from kyoso.components.attachments import attach_zone, attachment_list
from kyoso.components.ui import card, field, form_error, tid
from kyoso.services.announcements import CATEGORIES, AnnouncementView
from kyoso.states.home import HomeState
from kyoso.states.session import SessionState
from kyoso.styles import MUTED


def announcement_card(a: rx.Var[AnnouncementView]) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.cond(a.unread, rx.box(width="8px", height="8px", border_radius="4px",
                                     background="var(--accent-9)", flex_shrink="0",
                                     aria_label="未読", role="img")),
            rx.cond(a.important, rx.badge("重要", color_scheme="red", variant="solid", high_contrast=True)),
            rx.badge(a.category_label, high_contrast=True, variant="soft"),
            rx.text(a.title, weight="bold", size="3"),
            align="center", spacing="2", wrap="wrap",
        ),
        rx.text(a.author, "（", a.author_org, "） ・ ", rx.el.time(a.time, title=a.time_full), " ・ ",
                a.channels.join("、"), size="1", color=MUTED),
        rx.box(rx.html(a.body_html), class_name="kyoso-md", margin_top="0.3em",
               style={"max_height": "9em", "overflow": "hidden", "font_size": "0.95em"}),
        rx.cond(a.attachments.length() > 0, attachment_list(a.attachments)),
        rx.hstack(
            rx.link("チャンネルで見る", href=a.link, size="1"),
            rx.cond(a.unread, rx.button("既読にする", size="1", variant="ghost",
                                        on_click=HomeState.mark_read(a.id),
                                        custom_attrs=tid("announcement-read"))),
            rx.cond(SessionState.me.can_announce,
                    rx.button(rx.cond(a.pinned, "ピン留めを外す", "チャンネルにピン留め"), size="1", variant="ghost",
                              on_click=HomeState.set_pinned(a.id, ~a.pinned),
                              custom_attrs=tid("announcement-pin"))),
            spacing="3", align="center", margin_top="0.3em",
        ),
        key=a.id,
        custom_attrs=tid("announcement", **{"data-announcement-id": a.id,
                                            "data-unread": rx.cond(a.unread, "true", "false")}),
        padding="0.75em 1em",
        border="1px solid var(--gray-a5)",
        border_left=rx.cond(a.important, "4px solid var(--red-9)", "4px solid var(--accent-8)"),
        border_radius="6px",
        background=rx.cond(a.unread, "var(--accent-a2)", "var(--color-panel-solid)"),
        width="100%",
    )


def publish_form() -> rx.Component:
    return card(
        rx.form(
            rx.vstack(
                rx.heading("お知らせを出す", size="3", as_="h2"),
                form_error(HomeState.error),
                field("タイトル", rx.input(name="title", id="ann-title", width="100%",
                                         custom_attrs=tid("announcement-title")), html_for="ann-title"),
                field("本文", rx.text_area(name="body", id="ann-body", rows="5", width="100%",
                                         custom_attrs=tid("announcement-body")), html_for="ann-body"),
                attach_zone("announcement"),
                rx.hstack(
                    field("分類", rx.el.select(
                        *[rx.el.option(label, value=key) for key, label in CATEGORIES.items()],
                        name="category", id="ann-category", style={"padding": "0.3em"}),
                        html_for="ann-category"),
                    field("重要度", rx.el.select(
                        rx.el.option("通常", value="normal"), rx.el.option("重要（全員に表示）", value="high"),
                        name="importance", id="ann-importance", style={"padding": "0.3em"}),
                        html_for="ann-importance"),
                    field("掲載期限（任意）", rx.input(name="expires_at", id="ann-expires",
                                                 type="datetime-local"), html_for="ann-expires"),
                    spacing="4", wrap="wrap", width="100%",
                ),
                rx.text("出すチャンネル", weight="bold", size="2"),
                rx.flex(
                    rx.foreach(HomeState.channels, lambda c: rx.el.label(
                        rx.el.input(type="checkbox", name="ch_" + c[0], default_checked=c[2] == "1"), " ", c[1],
                        style={"font_size": "0.9em", "margin_right": "1em", "white_space": "nowrap"})),
                    wrap="wrap", gap="1",
                ),
                rx.hstack(
                    rx.button("お知らせを出す", type="submit", custom_attrs=tid("announcement-submit")),
                    rx.button("やめる", type="button", variant="soft", color_scheme="gray",
                              on_click=HomeState.toggle_compose),
                ),
                spacing="2", width="100%",
            ),
            on_submit=HomeState.publish,
            reset_on_submit=False,
        ),
    )
