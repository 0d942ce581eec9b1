"""/: the home page: お知らせ and my channels."""

from __future__ import annotations

import reflex as rx

from kyoso import routes
from kyoso.components.announcements import announcement_card, publish_form
from kyoso.components.layout import shell
from kyoso.components.ui import empty_state, notice, page_title, tid
from kyoso.services.channels import SidebarChannel
from kyoso.states.home import HomeState
from kyoso.states.session import SessionState
from kyoso.states.sidebar import SidebarState
from kyoso.styles import MUTED


def _my_channel(c: rx.Var[SidebarChannel]) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon(rx.cond(c.kind == "announcement", "megaphone", "hash"), size=16),
            rx.text(c.name, weight=rx.cond(c.unread > 0, "bold", "regular")),
            rx.spacer(),
            rx.cond(c.unread > 0, rx.badge(c.unread.to_string() + "件の新着", color_scheme="red",
                                           high_contrast=True)),
            align="center", width="100%",
        ),
        href="/c/" + c.slug,
        underline="none",
        color="var(--gray-12)",
        padding="0.5em 0.75em",
        border_bottom="1px solid var(--gray-a4)",
        _hover={"background": "var(--gray-a2)"},
        width="100%",
        key=c.id,
    )


def home_page() -> rx.Component:
    return shell(
        page_title(
            rx.text("ようこそ、", SessionState.me.name, "さん"),
            rx.cond(SessionState.me.can_announce & ~HomeState.composing,
                    rx.button(rx.icon("megaphone", size=14), "お知らせを出す", size="2",
                              on_click=HomeState.toggle_compose, custom_attrs=tid("announcement-new"))),
        ),
        notice(HomeState.notice),
        rx.cond(HomeState.composing, publish_form()),
        rx.heading("お知らせ", size="3", as_="h2", margin_top="0.5em"),
        rx.cond(
            HomeState.announcements.length() > 0,
            rx.vstack(rx.foreach(HomeState.announcements, announcement_card), spacing="2", width="100%",
                      custom_attrs=tid("announcement-feed")),
            empty_state("お知らせはまだありません", "政策のお知らせやリリース、説明会の案内がここに届きます。", "megaphone"),
        ),
        rx.heading("参加中のチャンネル", size="3", as_="h2", margin_top="1em"),
        rx.cond(
            SidebarState.channels.length() > 0,
            rx.box(rx.foreach(SidebarState.channels, _my_channel), width="100%",
                   custom_attrs=tid("home-channels")),
            empty_state("まだどのチャンネルにも参加していません",
                        rx.link("チャンネル一覧からさがす", href=routes.CHANNELS), "hash"),
        ),
        rx.text("スタンプを押すだけ、のぞいてみるだけでも大歓迎です。", size="1", color=MUTED, margin_top="1em"),
    )
