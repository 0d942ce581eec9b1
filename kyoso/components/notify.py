"""Unread notifications in the tab title and on the favicon, and optional
desktop notifications (``assets/kyoso_notify.js``). Rendered in the shell."""

from __future__ import annotations

import reflex as rx

from kyoso.states.sidebar import SidebarState


class NotifyBridge(rx.Fragment):
    def add_imports(self) -> dict:
        return {
            "$/public/kyoso_notify.js": [rx.ImportVar(tag="startNotify")],
            "react": [rx.ImportVar(tag="useEffect")],
        }

    def add_hooks(self) -> list[str]:
        return ["useEffect(() => startNotify(), []);"]


def notify_bridge() -> rx.Component:
    return rx.fragment(
        NotifyBridge.create(),
        # The live count the script reads (the sidebar's, kept live by its patches).
        rx.el.span(hidden=True, custom_attrs={"data-kyoso-unread": SidebarState.inbox_unread}),
    )
