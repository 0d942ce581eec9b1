"""/channels: the channel directory."""

from __future__ import annotations

import reflex as rx

from kyoso.components.layout import shell
from kyoso.components.ui import SEARCH_MAX, card, empty_state, field, form_error, page_title, tid
from kyoso.services.channels import DirectoryEntry
from kyoso.states.directory import DirectoryState
from kyoso.states.session import SessionState
from kyoso.styles import MUTED


def _entry(e: rx.Var[DirectoryEntry]) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.icon(rx.cond(e.kind == "announcement", "megaphone", "hash"), size=16),
                    rx.link(e.name, href="/c/" + e.slug, weight="bold",
                            custom_attrs=tid("directory-link", **{"data-slug": e.slug})),
                    rx.cond(e.joined, rx.badge("参加中", color_scheme="green", size="1", high_contrast=True)),
                    rx.cond(e.archived, rx.badge("アーカイブ済み", color_scheme="gray", size="1", high_contrast=True)),
                    align="center", spacing="2", wrap="wrap",
                ),
                rx.text(e.description, size="2", color=MUTED),
                rx.text(e.member_count.to_string() + "人が参加 ・ 最新の投稿: " + e.last_activity,
                        size="1", color=MUTED),
                spacing="1", flex="1", min_width="0",
            ),
            rx.cond(
                ~e.joined & ~e.archived,
                rx.button("参加", size="1", variant="soft", on_click=DirectoryState.join(e.id)),
            ),
            rx.cond(
                SessionState.me.is_staff,
                rx.button(rx.cond(e.archived, "アーカイブ解除", "アーカイブ"), size="1", variant="ghost",
                          color_scheme="gray", on_click=DirectoryState.set_archived(e.id, ~e.archived)),
            ),
            align="center", width="100%", spacing="3",
        ),
        padding="0.75em 0.25em",
        border_bottom="1px solid var(--gray-a4)",
        custom_attrs=tid("directory-entry"),
    )


def _create_form() -> rx.Component:
    return card(
        rx.form(
            rx.vstack(
                rx.heading("チャンネルを作る", size="3", as_="h2"),
                form_error(DirectoryState.error),
                field("チャンネル名", rx.input(name="name", placeholder="例: 自治体システム標準化", width="100%")),
                field("チャンネルID（URLになります）", rx.input(name="slug", placeholder="例: hyojunka", width="100%"),
                      hint="半角英小文字・数字・ハイフン"),
                field("説明", rx.text_area(name="description", rows="2", width="100%")),
                rx.el.label(rx.el.input(type="checkbox", name="announcement"), " お知らせチャンネル（国の職員と運営だけが新規投稿できる）",
                            style={"font_size": "0.9em"}),
                rx.el.label(rx.el.input(type="checkbox", name="no_replies"), " お知らせチャンネルで返信を受け付けない",
                            style={"font_size": "0.9em"}),
                rx.hstack(rx.button("作成", type="submit"),
                          rx.button("やめる", type="button", variant="soft", color_scheme="gray",
                                    on_click=DirectoryState.toggle_create)),
                spacing="2", width="100%",
            ),
            on_submit=DirectoryState.create,
            reset_on_submit=False,
        ),
        margin_bottom="1em",
    )


def directory_page() -> rx.Component:
    return shell(
        page_title(
            "チャンネル一覧",
            rx.cond(SessionState.me.is_staff,
                    rx.button(rx.icon("plus", size=14), "チャンネルを作る", size="2",
                              on_click=DirectoryState.toggle_create,
                              custom_attrs=tid("channel-create"))),
        ),
        rx.cond(DirectoryState.creating, _create_form()),
        rx.hstack(
            rx.input(placeholder="チャンネルを検索", value=DirectoryState.query, max_length=SEARCH_MAX,
                     on_change=DirectoryState.search.debounce(250), width="100%", max_width="420px",
                     aria_label="チャンネルを検索", custom_attrs=tid("directory-search")),
            rx.el.label(
                rx.el.input(type="checkbox", checked=DirectoryState.show_archived,
                            on_change=DirectoryState.toggle_archived, id="show-archived"),
                rx.text("アーカイブも表示", size="2"),
                style={"display": "flex", "gap": "0.4em", "align_items": "center"},
            ),
            align="center", spacing="3", wrap="wrap", width="100%",
        ),
        rx.cond(~DirectoryState.creating, form_error(DirectoryState.error)),
        rx.text("参加しなくても、どのチャンネルも読めます。気になるテーマをのぞいてみるだけでも大歓迎です。",
                size="1", color=MUTED, padding_y="0.5em"),
        rx.cond(
            DirectoryState.entries.length() > 0,
            rx.box(rx.foreach(DirectoryState.entries, _entry), width="100%"),
            empty_state("該当するチャンネルはありません", "別のことばで検索してみてください。", "search"),
        ),
    )
