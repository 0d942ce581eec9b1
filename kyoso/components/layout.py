"""The app shell: header, sidebar of channels, main column.

On a phone-width window the sidebar turns into a drawer opened from the header.
"""

from __future__ import annotations

import reflex as rx

from kyoso import routes
from kyoso.components.notify import notify_bridge
from kyoso.components.ui import tid
from kyoso.components.search import header_search
from kyoso.realtime.bridge import live_bridge
from kyoso.services.channels import SidebarChannel
from kyoso.states.session import SessionState
from kyoso.states.sidebar import SidebarState
from kyoso.styles import PHONE, SIDEBAR_ACTIVE, SIDEBAR_BG, SIDEBAR_FG, SIDEBAR_MUTED


class ShellState(rx.State):
    nav_open: bool = False

    @rx.event
    def toggle_nav(self):
        self.nav_open = not self.nav_open

    @rx.event
    def close_nav(self):
        self.nav_open = False


def _nav_link(label: str, href: str, icon: str, badge: rx.Component | None = None) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), rx.spacer(), badge or rx.fragment(),
                  align="center", spacing="2", width="100%"),
        href=href,
        color=SIDEBAR_FG,
        underline="none",
        padding="0.3em 0.75em",
        border_radius="6px",
        _hover={"background": SIDEBAR_ACTIVE},
        on_click=ShellState.close_nav,
        width="100%",
    )


# Read by screen readers, not shown.
_VISUALLY_HIDDEN = {"position": "absolute", "width": "1px", "height": "1px", "overflow": "hidden",
                    "clip": "rect(0 0 0 0)", "white_space": "nowrap"}


def _staff_badge() -> rx.Component:
    """Applications waiting for review and reported posts, on the 運営 menu."""
    waiting = SidebarState.staff_applications + SidebarState.staff_reports
    text = "審査待ち" + SidebarState.staff_applications.to_string() + "件・通報" + \
        SidebarState.staff_reports.to_string() + "件"
    return rx.cond(
        waiting > 0,
        rx.badge(waiting, rx.el.span("（" + text + "）", style=_VISUALLY_HIDDEN), color_scheme="amber",
                 variant="solid", size="1", title=text,
                 custom_attrs=tid("staff-count", **{"data-applications": SidebarState.staff_applications,
                                                    "data-reports": SidebarState.staff_reports})),
    )


def sidebar(*sections: rx.Component) -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            _nav_link("ホーム", routes.HOME, "house"),
            _nav_link("チャンネル一覧", routes.CHANNELS, "hash"),
            _nav_link("受信箱", routes.INBOX, "inbox", rx.cond(
                SidebarState.inbox_unread > 0,
                rx.badge(SidebarState.inbox_unread, color_scheme="red", variant="solid", size="1",
                         high_contrast=True,
                         custom_attrs=tid("inbox-count")),
            )),
            _nav_link("説明会", routes.BRIEFINGS, "presentation"),
            _nav_link("未回答の質問", routes.QUESTIONS, "circle_help"),
            _nav_link("検索", routes.SEARCH, "search"),
            rx.cond(SessionState.me.is_staff, _nav_link("運営", routes.ADMIN, "shield", _staff_badge())),
            sidebar_heading("参加中のチャンネル"),
            rx.foreach(SidebarState.channels, _channel_link),
            rx.cond(
                SidebarState.channels.length() == 0,
                rx.text("チャンネル一覧から、気になるテーマに参加してみましょう。", size="1",
                        color=SIDEBAR_MUTED, padding="0 0.75em"),
            ),
            *sections,
            spacing="1",
            width="100%",
            padding="0.75em 0.5em",
        ),
        aria_label="メインメニュー",
        style={
            "background": SIDEBAR_BG,
            "color": SIDEBAR_FG,
            "width": "240px",
            "flex_shrink": "0",
            "overflow_y": "auto",
            PHONE: {
                "position": "fixed",
                "top": "48px",
                "bottom": "0",
                "left": "0",
                "z_index": "50",
                "width": "80vw",
                "max_width": "300px",
                "display": rx.cond(ShellState.nav_open, "block", "none"),
                "box_shadow": "0 0 24px rgba(0,0,0,0.3)",
            },
        },
    )


def _channel_link(c: rx.Var[SidebarChannel]) -> rx.Component:
    unread = c.unread > 0
    return rx.link(
        rx.hstack(
            rx.icon(rx.cond(c.kind == "announcement", "megaphone", "hash"), size=14),
            rx.text(c.name, size="2", weight=rx.cond(unread, "bold", "regular"),
                    style={"overflow": "hidden", "text_overflow": "ellipsis", "white_space": "nowrap"}),
            rx.spacer(),
            rx.cond(unread, rx.badge(c.unread, color_scheme="red", variant="solid", size="1",
                                     high_contrast=True,
                                     custom_attrs=tid("unread-count"))),
            align="center", spacing="2", width="100%",
        ),
        href="/c/" + c.slug,
        color=rx.cond(unread, "white", SIDEBAR_MUTED),
        underline="none",
        padding="0.2em 0.75em",
        border_radius="6px",
        _hover={"background": SIDEBAR_ACTIVE, "color": "white"},
        on_click=ShellState.close_nav,
        width="100%",
        key=c.id,
        custom_attrs=tid("channel-link", **{"data-slug": c.slug}),
    )


def sidebar_heading(text: str) -> rx.Component:
    return rx.text(
        text, size="1", weight="bold", color=SIDEBAR_MUTED, padding="1em 0.75em 0.2em",
        style={"letter_spacing": "0.05em"},
    )


def header(search_box: rx.Component | None = None) -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.icon_button(
                rx.icon("menu", size=18),
                variant="ghost",
                color_scheme="gray",
                on_click=ShellState.toggle_nav,
                aria_label="メニューを開く",
                display="none",
                style={PHONE: {"display": "inline-flex"}, "color": "white"},
            ),
            rx.link(
                rx.hstack(
                    rx.text("共創", weight="bold", size="4"),
                    rx.text("kyoso", size="1", color=SIDEBAR_MUTED, style={PHONE: {"display": "none"}}),
                    align="baseline",
                    spacing="2",
                ),
                href=routes.HOME,
                color="white",
                underline="none",
            ),
            rx.spacer(),
            search_box or rx.fragment(),
            rx.cond(
                SessionState.logged_in,
                rx.menu.root(
                    rx.menu.trigger(
                        rx.button(
                            rx.icon("circle_user", size=16),
                            rx.text(SessionState.me.name, size="2",
                                    style={PHONE: {"display": "none"}}),
                            variant="ghost",
                            style={"color": "white"},
                            # On a phone the name is hidden: the button still needs one.
                            aria_label=SessionState.me.name + " アカウントメニュー",
                            custom_attrs=tid("user-menu"),
                        ),
                    ),
                    rx.menu.content(
                        rx.menu.item(
                            rx.vstack(
                                rx.text(SessionState.me.name, weight="bold", size="2"),
                                rx.text(SessionState.me.org_name, " ", SessionState.me.department,
                                        size="1", color="var(--gray-11)"),
                                spacing="0",
                            ),
                            on_click=rx.redirect("/u/" + SessionState.me.id.to_string()),
                        ),
                        rx.menu.separator(),
                        rx.menu.item("プロフィール", on_click=rx.redirect("/u/" + SessionState.me.id.to_string())),
                        rx.menu.item("通知の設定", on_click=rx.redirect(routes.SETTINGS),
                                     custom_attrs=tid("menu-settings")),
                        rx.menu.item("ログアウト", on_click=SessionState.logout,
                                     custom_attrs=tid("logout")),
                        rx.menu.item("すべての端末からログアウト", on_click=SessionState.logout_everywhere,
                                     color="red"),
                    ),
                ),
            ),
            align="center",
            spacing="3",
            width="100%",
            height="48px",
            padding_x="1em",
        ),
        style={
            "background": SIDEBAR_BG,
            "color": "white",
            "border_bottom": "1px solid rgba(255,255,255,0.08)",
            "flex_shrink": "0",
        },
    )


def channel_switcher() -> rx.Component:
    """Ctrl+K (⌘K): jump to one of my channels by typing part of its name.
    Opened by kyoso_live.js (a click on its hidden trigger); the filter runs in
    the browser (data-switch-name), Enter opens the first match."""
    return rx.dialog.root(
        rx.dialog.trigger(rx.el.button(type="button", id="kyoso-switcher-open", hidden=True,
                                       tab_index=-1, aria_hidden="true")),
        rx.dialog.content(
            rx.dialog.title("チャンネルへ移動", size="3"),
            rx.dialog.description("名前の一部を入力して Enter。↑↓で選べます。", size="1", color="var(--gray-11)"),
            rx.el.input(id="kyoso-switcher-input", type="search", placeholder="チャンネル名で絞り込む",
                        aria_label="チャンネル名で絞り込む", auto_complete="off",
                        custom_attrs={"data-testid": "channel-switcher-input"},
                        style={"width": "100%", "height": "36px", "padding": "0 0.6em", "margin": "0.6em 0",
                               "border": "1px solid var(--gray-a7)", "border_radius": "6px",
                               "background": "var(--color-surface)", "color": "var(--gray-12)",
                               "font_size": "16px"}),
            rx.box(
                rx.foreach(SidebarState.channels, lambda c: rx.dialog.close(rx.link(
                    rx.hstack(rx.icon(rx.cond(c.kind == "announcement", "megaphone", "hash"), size=14),
                              rx.text(c.name, size="2"), rx.spacer(),
                              rx.cond(c.unread > 0, rx.badge(c.unread, color_scheme="red", size="1",
                                                             high_contrast=True)),
                              align="center", width="100%"),
                    href="/c/" + c.slug, underline="none", color="var(--gray-12)",
                    padding="0.35em 0.5em", border_radius="6px", display="block",
                    _hover={"background": "var(--accent-a3)"}, _focus={"background": "var(--accent-a3)"},
                    key=c.id,
                    custom_attrs={"data-switch-name": c.name + " " + c.slug, "data-testid": "switcher-item"},
                ))),
                rx.dialog.close(rx.link("すべてのチャンネル（一覧）", href=routes.CHANNELS, size="2",
                                        padding="0.35em 0.5em", display="block",
                                        custom_attrs={"data-switch-name": "チャンネル一覧 channels"})),
                max_height="50vh", overflow_y="auto", id="kyoso-switcher-list",
            ),
            custom_attrs={"data-testid": "channel-switcher"},
            max_width="440px",
        ),
    )


def help_dialog() -> rx.Component:
    """? : the keyboard shortcuts."""
    keys = [("Ctrl+K（⌘K）", "チャンネルへ移動"), ("Esc", "スレッドやダイアログを閉じる"),
            ("↑（空の入力欄で）", "自分の最後の投稿を編集"), ("Ctrl+Enter", "送信・保存"), ("?", "このヘルプ")]
    return rx.dialog.root(
        rx.dialog.trigger(rx.el.button(type="button", id="kyoso-help-open", hidden=True, tab_index=-1,
                                       aria_hidden="true")),
        rx.dialog.content(
            rx.dialog.title("キーボード操作", size="3"),
            rx.el.dl(
                *[rx.fragment(rx.el.dt(rx.el.kbd(k), style={"font_weight": "600"}),
                              rx.el.dd(v, style={"margin": "0 0 0.5em 0"})) for k, v in keys],
                style={"margin": "0.6em 0"},
            ),
            rx.dialog.close(rx.button("閉じる", size="2", variant="soft")),
            custom_attrs={"data-testid": "help-dialog"},
            max_width="420px",
        ),
    )


def shell(*content: rx.Component, sidebar_sections: tuple[rx.Component, ...] = (),
          search_box: rx.Component | None = None, aside: rx.Component | None = None,
          main_padding: str = "1em 1.25em") -> rx.Component:
    """A members' page: header (with the search box unless ``search_box`` is
    given), sidebar, main column and an optional side panel."""
    return rx.box(
        rx.el.a("本文へ移動", href="#main", class_name="skip-link"),
        live_bridge(),
        notify_bridge(),
        channel_switcher(),
        help_dialog(),
        header(header_search() if search_box is None else search_box),
        rx.hstack(
            sidebar(*sidebar_sections),
            rx.el.main(
                *content,
                id="main",
                tab_index=-1,
                style={
                    "flex": "1",
                    "min_width": "0",
                    "overflow_y": "auto",
                    "padding": main_padding,
                    "height": "100%",
                    "display": "flex",
                    "flex_direction": "column",
                },
            ),
            aside or rx.fragment(),
            spacing="0",
            align="stretch",
            style={"flex": "1", "min_height": "0"},
        ),
        style={"display": "flex", "flex_direction": "column", "height": "100dvh"},
    )


def public_page(*content: rx.Component) -> rx.Component:
    """Login and sign-up: a single centred column, no sidebar."""
    return rx.box(
        rx.el.main(
            rx.vstack(
                rx.hstack(
                    rx.text("共創", weight="bold", size="6"),
                    rx.text("kyoso — デジタル改革共創プラットフォーム", size="2", color="var(--gray-11)"),
                    align="baseline",
                    spacing="3",
                ),
                *content,
                width="100%",
                max_width="560px",
                spacing="4",
                padding="2em 1em",
            ),
            id="main",
            style={"display": "flex", "justify_content": "center"},
        ),
        min_height="100dvh",
        background="var(--gray-2)",
    )
