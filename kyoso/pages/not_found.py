"""The 404 page: in Japanese, inside the shell, with ways back."""

from __future__ import annotations

import reflex as rx

from kyoso import routes
from kyoso.components.layout import shell
from kyoso.components.ui import empty_state, tid


def not_found_page() -> rx.Component:
    return shell(
        empty_state(
            "ページが見つかりません",
            rx.vstack(
                rx.text("アドレスが間違っているか、ページが削除された可能性があります。", size="2"),
                rx.hstack(
                    rx.link("ホームへ戻る", href=routes.HOME, custom_attrs=tid("not-found-home")),
                    rx.link("チャンネル一覧", href=routes.CHANNELS),
                    rx.link("検索する", href=routes.SEARCH),
                    spacing="4", wrap="wrap", justify="center",
                ),
                align="center", spacing="3",
            ),
            "search_x",
        ),
    )
