"""/questions: unresolved questions (未回答の質問), across channels or in one."""

from __future__ import annotations

import reflex as rx

from kyoso.components.layout import shell
from kyoso.components.search import question_item
from kyoso.components.ui import empty_state, form_error, page_title, tid
from kyoso.states.questions import QuestionsState
from kyoso.styles import MUTED


def _channel_select() -> rx.Component:
    return rx.el.select(
        rx.el.option("すべてのチャンネル（" + QuestionsState.total.to_string() + "）", value=""),
        rx.foreach(QuestionsState.counts,
                   lambda c: rx.el.option(c.name + "（" + c.count.to_string() + "）", value=c.slug)),
        rx.cond(
            QuestionsState.channel_unlisted,
            rx.el.option(QuestionsState.channel_name + "（0）", value=QuestionsState.channel),
        ),
        value=QuestionsState.channel,
        on_change=QuestionsState.choose_channel,
        aria_label="チャンネルで絞り込む",
        custom_attrs=tid("questions-channel"),
        style={"height": "32px", "padding": "0 0.4em", "border": "1px solid var(--gray-a7)",
               "border_radius": "6px", "background": "var(--color-surface)", "color": "var(--gray-12)",
               "font_size": "14px", "max_width": "100%"},
    )


def questions_page() -> rx.Component:
    return shell(
        page_title("未回答の質問"),
        rx.text("回答がまだ選ばれていない質問です。知っていることがあれば、気軽に返信してみましょう。",
                size="2", color=MUTED),
        rx.box(_channel_select(), padding_y="0.75em"),
        form_error(QuestionsState.error),
        rx.cond(
            QuestionsState.items.length() > 0,
            rx.box(
                rx.foreach(QuestionsState.items, question_item),
                rx.cond(QuestionsState.more,
                        rx.center(rx.button("さらに表示", variant="soft", on_click=QuestionsState.load_more),
                                  padding="1em")),
                width="100%",
            ),
            empty_state("未回答の質問はありません",
                        "スレッドを始めた人が「質問にする」を押すと、回答が選ばれるまでここに並びます。",
                        "circle_check"),
        ),
    )
