"""/polls/[id]: results by affiliation, a tile map of Japan, exports; prints cleanly."""

from __future__ import annotations

import reflex as rx

from kyoso.components.layout import shell
from kyoso.components.ui import card, empty_state, form_error, page_title, tid
from kyoso.services.affiliation import PrefectureCell
from kyoso.services.poll_results import SplitRow
from kyoso.states.poll_results import PollResultsState as S
from kyoso.styles import MUTED


def _bars() -> rx.Component:
    return rx.vstack(
        rx.foreach(
            S.poll.options,
            lambda o: rx.box(
                rx.hstack(
                    rx.text(o.label, size="2", weight="medium"),
                    rx.spacer(),
                    rx.text(S.tally.counts[o.index].to_string() + "票（" + S.tally.percents[o.index].to_string()
                            + "%）", size="2", style={"font_variant_numeric": "tabular-nums"}),
                    width="100%",
                ),
                rx.box(rx.box(width=S.tally.percents[o.index].to_string() + "%", height="100%",
                              background="var(--accent-9)", border_radius="3px"),
                       height="14px", background="var(--gray-a3)", border_radius="3px", width="100%"),
                width="100%",
            ),
        ),
        rx.text("回答者 ", S.tally.voters, "人", size="2", color=MUTED, custom_attrs=tid("poll-total")),
        spacing="2", width="100%",
    )


def _split_table(title: str, rows: rx.Var[list[SplitRow]]) -> rx.Component:
    return rx.box(
        rx.heading(title, size="3", as_="h2", margin_bottom="0.4em"),
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("区分"),
                    rx.table.column_header_cell("回答者"),
                    rx.foreach(S.poll.options, lambda o: rx.table.column_header_cell(o.label)),
                )),
                rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
                    rx.table.row_header_cell(r.label),
                    rx.table.cell(r.voters),
                    rx.foreach(r.counts, lambda c: rx.table.cell(c)),
                    style={"color": rx.cond(r.voters > 0, "var(--gray-12)", "var(--gray-11)")},
                ))),
                size="1", variant="surface",
            ),
            overflow_x="auto", width="100%", custom_attrs={"data-scroll-x": "true"},
            tab_index=0, role="region", aria_label="表（横にスクロールできます）",
        ),
        width="100%",
    )


def _tile(t: rx.Var[PrefectureCell]) -> rx.Component:
    return rx.box(
        rx.text(t.short, size="1", weight="bold"),
        rx.text(t.voters, size="1"),
        title=t.name + ": " + t.voters.to_string() + "人",
        style={
            "grid_row": (t.row + 1).to_string(),
            "grid_column": (t.col + 1).to_string(),
            "background": rx.cond(t.voters > 0, rx.cond(t.voters > 4, "var(--accent-9)", "var(--accent-6)"),
                                  "var(--gray-a3)"),
            "color": rx.cond(t.voters > 4, "white", "var(--gray-12)"),
            "border_radius": "4px", "text_align": "center", "line_height": "1.2",
            "padding": "2px 0", "font_size": "clamp(6.5px, 2vw, 11px)", "letter_spacing": "-0.06em", "min_width": "0",
            "overflow": "hidden", "white_space": "nowrap",
        },
    )


def _coverage() -> rx.Component:
    r = S.results
    return rx.box(
        rx.heading("回答の広がり", size="3", as_="h2", margin_bottom="0.4em"),
        rx.text(r.organisations_answered, "団体が回答 ・ 回答のない都道府県 ",
                r.prefectures_silent.length(), "", size="2"),
        rx.box(
            rx.foreach(r.tiles, _tile),
            # 12 columns that shrink with the screen (a phone shows the whole map).
            style={"display": "grid", "grid_template_columns": "repeat(12, minmax(0, 1fr))",
                   "grid_template_rows": "repeat(12, auto)", "gap": "2px", "max_width": "520px",
                   "width": "100%", "margin": "0.75em 0"},
            role="img", aria_label="都道府県ごとの回答者数の地図",
            custom_attrs=tid("coverage-map"),
        ),
        rx.text("色: 濃いほど回答者が多い（灰色は回答なし）", size="1", color=MUTED),
        rx.cond(r.prefectures_silent.length() > 0,
                rx.text("回答のない都道府県: ", r.prefectures_silent.join("、"), size="1", color=MUTED)),
        width="100%",
    )


def _texts() -> rx.Component:
    r = S.results
    return rx.cond(
        r.other_texts.length() > 0,
        rx.box(
            rx.heading("「その他」の回答", size="3", as_="h2", margin_bottom="0.4em"),
            rx.foreach(r.other_texts, lambda t: rx.box(
                rx.text(t[1], size="2"), rx.text(t[0], size="1", color=MUTED),
                padding="0.4em 0", border_bottom="1px solid var(--gray-a4)")),
            width="100%",
        ),
    )


def _named() -> rx.Component:
    r = S.results
    return rx.cond(
        r.voters_by_option.length() > 0,
        rx.box(
            rx.heading("回答者（記名式）", size="3", as_="h2", margin_bottom="0.4em"),
            rx.foreach(S.poll.options, lambda o: rx.box(
                rx.text(o.label, weight="bold", size="2"),
                rx.text(r.voters_by_option[o.index].join("、"), size="1", color=MUTED),
                padding="0.3em 0")),
            width="100%",
        ),
    )


def poll_results_page() -> rx.Component:
    return shell(
        form_error(S.error),
        rx.cond(
            S.poll,
            rx.vstack(
                page_title(
                    S.poll.question,
                    rx.hstack(
                        rx.cond(S.channel_slug != "", rx.link("元の投稿へ", href="/c/" + S.channel_slug
                                                             + "?m=" + S.message_id.to_string(), size="2")),
                        rx.cond(S.tally, rx.button("グラフ画像 (SVG)", size="1", variant="soft",
                                                   on_click=S.download_chart, custom_attrs=tid("poll-chart"))),
                        rx.cond(S.can_export, rx.button("CSVをダウンロード", size="1", variant="soft",
                                                        on_click=S.download_csv, custom_attrs=tid("poll-export"))),
                        rx.button("印刷", size="1", variant="soft", on_click=rx.call_script("window.print()")),
                        spacing="2", class_name="no-print", wrap="wrap",
                    ),
                ),
                rx.text(rx.cond(S.poll.anonymous, "無記名", "記名"), " ・ ", S.poll.visibility_label,
                        rx.cond(S.poll.closed, " ・ 締め切り済み", " ・ 受付中"), size="2", color=MUTED),
                rx.cond(
                    S.tally,
                    rx.vstack(
                        card(_bars()),
                        card(_split_table("所属の区分別", S.results.splits_by_group)),
                        card(_split_table("地方別", S.results.splits_by_region)),
                        card(_coverage()),
                        card(_split_table("都道府県別", S.results.splits_by_prefecture)),
                        _texts(),
                        _named(),
                        spacing="3", width="100%", min_width="0",
                    ),
                    empty_state("結果はまだ公開されていません", "公開の条件を満たすと、ここに結果が表示されます。", "lock"),
                ),
                spacing="3", width="100%", max_width="960px", min_width="0",
                custom_attrs=tid("poll-results"),
            ),
        ),
    )
