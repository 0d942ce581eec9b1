"""/inbox."""

from __future__ import annotations

import reflex as rx

from kyoso.components.layout import shell
from kyoso.components.ui import empty_state, page_title, tid
from kyoso.services.notifications import InboxItem
from kyoso.states.inbox import InboxState
from kyoso.styles import MUTED


def _item(n: rx.Var[InboxItem]) -> rx.Component:
    return rx.el.button(
        rx.hstack(
            rx.cond(n.unread, rx.box(width="8px", height="8px", border_radius="4px",
                                     background="var(--accent-9)", flex_shrink="0"),
                    rx.box(width="8px", flex_shrink="0")),
            rx.badge(n.kind_label, variant="soft", size="1", high_contrast=True),
            rx.text(n.text, size="2", weight=rx.cond(n.unread, "bold", "regular"), flex="1",
                    text_align="left"),
            rx.text(n.time, size="1", color=MUTED, white_space="nowrap"),
            align="center", spacing="2", width="100%",
        ),
        type="button",
        on_click=InboxState.open_item(n.id, n.link),
        key=n.id,
        custom_attrs=tid("inbox-item"),
        style={"display": "block", "width": "100%", "padding": "0.6em 0.5em", "border": "none",
               "border_bottom": "1px solid var(--gray-a4)", "background": "transparent",
               "cursor": "pointer", "_hover": {"background": "var(--gray-a2)"}},
    )


def inbox_page() -> rx.Component:
    return shell(
        page_title("受信箱", rx.button("すべて既読にする", size="1", variant="soft",
                                     on_click=InboxState.mark_all_read)),
        rx.cond(
            InboxState.items.length() > 0,
            rx.box(rx.foreach(InboxState.items, _item), width="100%"),
            empty_state("受信箱は空です", "メンションされたときや、あなたのスレッドに返信があったときにお知らせします。", "inbox"),
        ),
    )
