"""/search: Japanese full-text search over messages, with filters."""

from __future__ import annotations

import reflex as rx

from kyoso.components.layout import shell
from kyoso.components.search import search_hit
from kyoso.components.ui import empty_state, form_error, page_title, tid
from kyoso.states.search import SearchState
from kyoso.styles import MUTED

_SELECT = {"height": "32px", "padding": "0 0.4em", "border": "1px solid var(--gray-a7)", "border_radius": "6px",
           "background": "var(--color-surface)", "color": "var(--gray-12)", "font_size": "14px",
           "max_width": "100%"}


def _labelled(label: str, control: rx.Component, html_for: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=html_for, style={"font_size": "0.8em", "color": "var(--gray-11)"}),
        control,
        spacing="0",
    )


def _filters() -> rx.Component:
    return rx.flex(
        _labelled("チャンネル", rx.el.select(
            rx.el.option("すべて", value=""),
            rx.foreach(SearchState.channel_options, lambda c: rx.el.option(c["name"], value=c["slug"])),
            name="channel", id="search-channel", default_value=SearchState.channel, style=_SELECT,
            custom_attrs=tid("search-channel")), "search-channel"),
        _labelled("団体（名前またはコード）", rx.el.input(
            name="org", id="search-org", default_value=SearchState.org, placeholder="例: 札幌市",
            style={**_SELECT, "width": "11em"}, custom_attrs=tid("search-org")), "search-org"),
        _labelled("都道府県", rx.el.select(
            rx.el.option("すべて", value=""),
            rx.foreach(SearchState.prefecture_options, lambda p: rx.el.option(p["name"], value=p["code"])),
            name="pref", id="search-pref", default_value=SearchState.prefecture, style=_SELECT,
            custom_attrs=tid("search-prefecture")), "search-pref"),
        _labelled("期間", rx.hstack(
            rx.el.input(type="date", name="from", id="search-from", default_value=SearchState.date_from,
                        aria_label="開始日", style=_SELECT, custom_attrs=tid("search-from")),
            rx.text("〜", size="2"),
            rx.el.input(type="date", name="to", default_value=SearchState.date_to, aria_label="終了日",
                        style=_SELECT, custom_attrs=tid("search-to")),
            spacing="1", align="center",
        ), "search-from"),
        rx.el.label(
            rx.el.input(type="checkbox", name="resolved", default_checked=SearchState.resolved_only,
                        custom_attrs=tid("search-resolved")),
            rx.text("解決済みの質問だけ", size="2"),
            style={"display": "flex", "gap": "0.4em", "align_items": "center", "height": "32px",
                   "align_self": "flex-end"},
        ),
        rx.el.label(
            rx.el.input(type="checkbox", name="files", default_checked=SearchState.files_only,
                        custom_attrs=tid("search-files-only")),
            rx.text("ファイルのみ", size="2"),
            style={"display": "flex", "gap": "0.4em", "align_items": "center", "height": "32px",
                   "align_self": "flex-end"},
        ),
        wrap="wrap", align="end", width="100%", style={"gap": "0.75em 1.25em"},
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.input(
                    name="q", default_value=SearchState.query, type="search", size="3",
                    placeholder="例: ガバメントクラウド、LGWAN 接続、\"書かない窓口\"",
                    aria_label="検索する言葉", auto_focus=True, enter_key_hint="search",
                    disabled=~rx.State.is_hydrated,
                    custom_attrs=tid("search-input"), style={"flex": "1", "min_width": "0"},
                ),
                rx.button(rx.icon("search", size=16), "検索", type="submit", size="3",
                          custom_attrs=tid("search-submit")),
                width="100%", spacing="2",
            ),
            rx.el.details(
                rx.el.summary("絞り込み", style={"cursor": "pointer", "font_size": "0.9em",
                                                "color": "var(--accent-11)"}),
                rx.box(_filters(), padding_top="0.5em"),
                open=SearchState.filtered,
                style={"width": "100%"},
            ),
            spacing="2", width="100%",
        ),
        key=SearchState.form_key,
        on_submit=SearchState.submit,
        reset_on_submit=False,
        role="search",
        width="100%",
    )


_TIPS = ("1文字から検索できます。スペースで区切るとすべてを含む投稿、\"…\" や「…」で囲むとその語句どおりの投稿を"
         "探します。全角・半角、カタカナ・ひらがなの違いは区別しません。")


def _results() -> rx.Component:
    return rx.cond(
        SearchState.hits.length() > 0,
        rx.box(
            rx.text(rx.cond(SearchState.more, SearchState.hits.length().to_string() + "件以上",
                            SearchState.hits.length().to_string() + "件"),
                    "（新しい順）", size="1", color=MUTED, padding="0.25em 0.75em",
                    custom_attrs=tid("search-count")),
            rx.box(rx.foreach(SearchState.hits, search_hit), width="100%"),
            rx.cond(
                SearchState.more,
                rx.center(rx.button(rx.cond(SearchState.loading_more, "読み込み中…", "さらに表示"),
                                    variant="soft", on_click=SearchState.load_more,
                                    disabled=SearchState.loading_more, custom_attrs=tid("search-more")),
                          padding="1em"),
            ),
            width="100%",
        ),
        rx.cond(
            SearchState.searched & (SearchState.error == ""),
            empty_state("見つかりませんでした", "別の言葉や、短い言葉で試してみてください。" + _TIPS, "search_x"),
            rx.cond(SearchState.error == "", empty_state("チャンネルの投稿を検索します", _TIPS, "search")),
        ),
    )


def search_page() -> rx.Component:
    return shell(
        page_title("検索"),
        _form(),
        form_error(SearchState.error),
        rx.box(_results(), width="100%", padding_top="0.5em"),
        search_box=rx.fragment(),
    )
