"""The connection notice, in Japanese (replaces Reflex's English overlay)."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors


def connection_notice() -> rx.Component:
    """Shown while the page has lost its connection to the server; inputs wait
    (kyoso_live.js reads data-kyoso-offline) until it is back."""
    return rx.cond(
        has_connection_errors,
        rx.box(
            rx.icon("wifi_off", size=16),
            rx.text("サーバーとの接続が切れています。再接続しています…", size="2"),
            role="status",
            custom_attrs={"data-testid": "connection-lost", "data-kyoso-offline": "true"},
            style={"position": "fixed", "bottom": "12px", "left": "50%", "transform": "translateX(-50%)",
                   "z_index": "9999", "display": "flex", "gap": "0.5em", "align_items": "center",
                   "padding": "0.4em 1em", "border_radius": "8px", "background": "var(--red-9)",
                   "color": "white", "box_shadow": "0 2px 10px rgba(0,0,0,0.3)", "max_width": "90vw"},
        ),
    )
