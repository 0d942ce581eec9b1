"""Small stateless building blocks shared by the pages."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso.styles import MUTED

# The longest text a search box takes (its query is sent as it is typed: a
# pasted document must not become one websocket message).
SEARCH_MAX = 100


def tid(name: str, **extra: Any) -> dict[str, Any]:
    """custom_attrs carrying a ``data-testid`` (names in shared/docs/ui-contract.md)."""
    return {"data-testid": name, **extra}


def form_error(message: rx.Var[str]) -> rx.Component:
    """A rejected form's message, announced to screen readers. High contrast:
    the soft callout's red text on its tint is only 4.5:1 on white, and axe
    measured it below AA on /settings."""
    return rx.cond(
        message != "",
        rx.callout(
            message, icon="triangle_alert", color_scheme="red", high_contrast=True, role="alert", size="1",
            custom_attrs=tid("form-error"), width="100%",
        ),
    )


def notice(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="check", color_scheme="green", size="1", role="status", width="100%"),
    )


def field(label: str, control: rx.Component, *, hint: str | rx.Component = "",
          html_for: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=html_for, style={"font_weight": "600", "font_size": "0.9em"}),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color=MUTED)) if isinstance(hint, rx.Var) else (
            rx.text(hint, size="1", color=MUTED) if hint else rx.fragment()
        ),
        spacing="1",
        width="100%",
    )


def page_title(text: str | rx.Var, *extra: rx.Component) -> rx.Component:
    """The page's h1; its actions wrap below it on a narrow screen."""
    return rx.hstack(
        rx.heading(text, size="5", as_="h1", style={"overflow_wrap": "anywhere", "min_width": "0"}),
        rx.spacer(),
        *extra,
        align="center",
        width="100%",
        wrap="wrap",
        padding_bottom="0.5em",
    )


def empty_state(title: str, body: str | rx.Component = "", icon: str = "inbox") -> rx.Component:
    return rx.vstack(
        rx.icon(icon, size=28, color="var(--gray-9)"),
        rx.text(title, weight="medium"),
        body if isinstance(body, rx.Component) else rx.text(body, size="2", color=MUTED),
        align="center",
        spacing="2",
        padding="2em 1em",
        width="100%",
        text_align="center",
    )


def card(*children: rx.Component, **props: Any) -> rx.Component:
    return rx.box(
        *children,
        border="1px solid var(--gray-a5)",
        border_radius="8px",
        padding="1em",
        background="var(--color-panel-solid)",
        width="100%",
        # A wide table inside scrolls in its own box instead of widening the page.
        min_width="0",
        **props,
    )
