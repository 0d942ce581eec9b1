"""/settings: my mail settings, and desktop notifications in this browser."""

from __future__ import annotations

import reflex as rx

from kyoso.components.layout import shell
from kyoso.components.ui import card, form_error, notice, page_title, tid
from kyoso.services.mail.prefs import MailSettingItem
from kyoso.states.settings import SettingsState
from kyoso.styles import MUTED


def _setting(item: rx.Var[MailSettingItem]) -> rx.Component:
    box_id = "setting-" + item.key
    return rx.el.label(
        rx.el.input(
            type="checkbox", name=item.key, id=box_id, default_checked=item.enabled,
            # A new value from the server mounts a new box (default_checked applies on mount).
            key=item.key + rx.cond(item.enabled, "-on", "-off"),
            custom_attrs=tid("setting-checkbox", **{"data-setting": item.key}),
            style={"width": "18px", "height": "18px", "margin": "0.2em 0 0", "flex_shrink": "0"},
        ),
        rx.vstack(
            rx.text(item.label, size="2", weight="medium"),
            rx.text(item.description, size="1", color=MUTED),
            spacing="0",
        ),
        html_for=box_id,
        style={"display": "flex", "gap": "0.6em", "align_items": "flex-start", "cursor": "pointer",
               "padding": "0.5em 0", "border_bottom": "1px solid var(--gray-a4)"},
    )


def _desktop() -> rx.Component:
    """Asked for on a click only (assets/kyoso_notify.js handles the button)."""
    return card(
        rx.vstack(
            rx.heading("デスクトップ通知（このブラウザ）", size="3", as_="h2"),
            rx.text("このタブを開いたまま別の作業をしているときに、新しい通知をデスクトップに表示します。"
                    "通知の内容は kyoso のサーバーからだけ届きます。", size="2", color=MUTED),
            rx.hstack(
                rx.button("デスクトップ通知を有効にする", type="button", variant="soft",
                          custom_attrs={"data-kyoso-notify-ask": "", "data-testid": "desktop-notify"}),
                rx.button("無効にする", type="button", variant="ghost", color_scheme="gray",
                          custom_attrs={"data-kyoso-notify-off": ""}),
                align="center", spacing="3",
            ),
            rx.text("", size="1", color=MUTED, role="status",
                    custom_attrs={"data-kyoso-notify-status": ""}),
            spacing="2", width="100%",
        ),
    )


def settings_page() -> rx.Component:
    return shell(
        page_title("通知の設定"),
        form_error(SettingsState.error),
        notice(SettingsState.notice),
        card(
            rx.form(
                rx.vstack(
                    rx.heading("メールで受け取るもの", size="3", as_="h2"),
                    rx.text("メールの末尾にある「配信停止」のリンクからも、その種類だけを止められます。",
                            size="2", color=MUTED),
                    rx.box(rx.foreach(SettingsState.mail, _setting), width="100%"),
                    rx.button("保存する", type="submit", custom_attrs=tid("settings-save")),
                    spacing="2", width="100%",
                ),
                on_submit=SettingsState.save,
                reset_on_submit=False,
                width="100%",
            ),
        ),
        rx.box(height="1em"),
        _desktop(),
    )
