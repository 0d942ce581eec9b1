"""Search pieces: the box in the header, one hit, one question in a list."""

from __future__ import annotations

import reflex as rx

from kyoso.components.ui import tid
from kyoso.services.questions import QuestionView
from kyoso.services.search import SearchHit
from kyoso.states.search import SearchState
from kyoso.styles import MUTED, PHONE


def header_search() -> rx.Component:
    """The search box in the header of every members' page (but /search itself)."""
    return rx.form(
        rx.hstack(
            rx.el.input(
                name="q", type="search", placeholder="メッセージを検索", aria_label="メッセージを検索",
                enter_key_hint="search", auto_complete="off",
                # Typed text waits for the connection rather than being lost to it.
                disabled=~rx.State.is_hydrated,
                custom_attrs=tid("search-input"),
                style={"flex": "1", "min_width": "0", "height": "30px", "padding": "0 0.6em",
                       "border": "1px solid rgba(255,255,255,0.25)", "border_radius": "6px",
                       "background": "rgba(255,255,255,0.12)", "color": "white", "font_size": "14px",
                       "::placeholder": {"color": "#c9d1e3"}},
            ),
            rx.icon_button(rx.icon("search", size=16), type="submit", variant="ghost", size="2",
                           aria_label="検索", custom_attrs=tid("search-submit"), style={"color": "white"}),
            spacing="1", align="center", width="100%",
        ),
        role="search",
        on_submit=SearchState.go,
        reset_on_submit=True,
        # Grows three times as fast as the header's spacer: on a phone most of
        # the free width goes to the box.
        style={"flex": "3 1 0", "min_width": "0", "max_width": "360px", PHONE: {"max_width": "none"}},
    )


def question_badges(resolved: rx.Var[bool], is_question: rx.Var[bool], is_answer: rx.Var[bool]) -> rx.Component:
    return rx.fragment(
        rx.cond(is_question & ~resolved, rx.badge("質問", color_scheme="amber", size="1", high_contrast=True)),
        rx.cond(resolved & ~is_answer, rx.badge("解決済み", color_scheme="green", size="1", high_contrast=True,
                                                custom_attrs=tid("resolved-badge"))),
        rx.cond(is_answer, rx.badge("回答", color_scheme="green", size="1", high_contrast=True)),
    )


def search_hit(h: rx.Var[SearchHit]) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(
                rx.badge(h.kind_label, variant="soft", color_scheme="gray", size="1", high_contrast=True),
                rx.text("#", h.channel_name, size="1", weight="bold", color="var(--gray-12)"),
                question_badges(h.resolved, h.is_question, h.is_answer),
                align="center", spacing="2", wrap="wrap",
            ),
            rx.cond(h.title != "", rx.hstack(
                rx.icon("paperclip", size=14), rx.text(h.title, size="2", weight="bold"),
                spacing="1", align="center", custom_attrs=tid("search-file-name"))),
            rx.box(rx.html(h.snippet_html), class_name="kyoso-snippet"),
            rx.hstack(
                rx.text(h.author_name, size="1", weight="medium", color="var(--gray-12)"),
                rx.text(h.org_name, size="1", color=MUTED),
                rx.el.time(h.time, title=h.time_full, style={"font_size": "0.75em", "color": "var(--gray-11)"}),
                spacing="2", wrap="wrap", align="baseline",
            ),
            spacing="1", width="100%",
        ),
        href=h.link,
        underline="none",
        color="var(--gray-12)",
        custom_attrs=tid("search-result", **{"data-message-id": h.ref_id, "data-kind": h.kind}),
        style={"display": "block", "padding": "0.65em 0.75em", "border_bottom": "1px solid var(--gray-a4)",
               "_hover": {"background": "var(--gray-a2)"}},
    )


def question_item(q: rx.Var[QuestionView]) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(
                rx.badge("質問", color_scheme="amber", size="1", high_contrast=True),
                rx.text("#", q.channel_name, size="1", weight="bold", color="var(--gray-12)"),
                rx.spacer(),
                rx.text(rx.cond(q.reply_count > 0, q.reply_count.to_string() + "件の返信", "返信はまだありません"),
                        size="1", color=rx.cond(q.reply_count > 0, "var(--accent-11)", MUTED),
                        white_space="nowrap"),
                align="center", spacing="2", width="100%",
            ),
            rx.text(q.excerpt, size="2", style={"overflow_wrap": "anywhere"}),
            rx.hstack(
                rx.text(q.author_name, size="1", weight="medium"),
                rx.text(q.org_name, size="1", color=MUTED),
                rx.el.time(q.time, title=q.time_full, style={"font_size": "0.75em", "color": "var(--gray-11)"}),
                spacing="2", wrap="wrap", align="baseline",
            ),
            spacing="1", width="100%",
        ),
        href=q.link,
        underline="none",
        color="var(--gray-12)",
        custom_attrs=tid("open-question", **{"data-message-id": q.id}),
        style={"display": "block", "padding": "0.65em 0.75em", "border_bottom": "1px solid var(--gray-a4)",
               "_hover": {"background": "var(--gray-a2)"}},
    )
