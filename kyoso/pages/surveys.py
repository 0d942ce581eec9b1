"""/surveys/[id]: answer a 意見募集; results by affiliation; the creation form."""

from __future__ import annotations

import reflex as rx

from kyoso.components.layout import shell
from kyoso.components.ui import SEARCH_MAX, card, field, form_error, notice, page_title, tid
from kyoso.services.surveys import KINDS, SCALE_LABELS, QuestionResult, QuestionView
from kyoso.states.surveys import SurveyFormState as F
from kyoso.states.surveys import SurveyState as S
from kyoso.styles import MUTED


def _answer_field(q: rx.Var[QuestionView]) -> rx.Component:
    key = "q" + q.id.to_string()
    mine = S.answers.get(key, "").to(str)
    closed = S.survey.closed
    return rx.box(
        rx.el.fieldset(
            rx.el.legend(rx.text(q.prompt, weight="bold", as_="span"),
                         rx.cond(q.required, rx.text(" *", as_="span", color="var(--red-11)",
                                                     aria_label="必須"), ""),
                         rx.text("（", q.kind_label, "）", size="1", color=MUTED, as_="span")),
            rx.match(
                q.kind,
                ("single", rx.vstack(rx.foreach(q.choices, lambda c, i: rx.el.label(
                    rx.el.input(type="radio", name=key, value=i.to_string(), disabled=closed,
                                default_checked=mine == i.to_string()), " ", c,
                    style={"display": "block"})), spacing="1")),
                ("multiple", rx.vstack(rx.foreach(q.choices, lambda c, i: rx.el.label(
                    rx.el.input(type="checkbox", name=key + "_" + i.to_string(), disabled=closed,
                                default_checked=mine.split(",").contains(i.to_string())), " ", c,
                    style={"display": "block"})), spacing="1")),
                ("scale", rx.hstack(*[rx.el.label(
                    rx.el.input(type="radio", name=key, value=str(v), disabled=closed,
                                default_checked=mine == str(v)), " ", label,
                    style={"margin_right": "1em", "white_space": "nowrap"})
                    for v, label in enumerate(SCALE_LABELS, start=1)], wrap="wrap")),
                rx.text_area(name=key, default_value=mine, rows="3", width="100%", disabled=closed,
                             aria_label=q.prompt),
            ),
            style={"border": "none", "padding": "0", "margin": "0"},
        ),
        padding="0.75em 0", border_bottom="1px solid var(--gray-a4)", width="100%",
        custom_attrs=tid("survey-question"),
    )


def _result(r: rx.Var[QuestionResult]) -> rx.Component:
    return card(
        rx.text(r.prompt, weight="bold"),
        rx.text(r.answered, "件の回答", rx.cond(r.average != "", " ・ 平均 " + r.average, ""), size="1", color=MUTED),
        rx.cond(r.choices.length() > 0, rx.vstack(rx.foreach(r.choices, lambda c: rx.box(
            rx.hstack(rx.text(c.label, size="2"), rx.spacer(),
                      rx.text(c.count, "件（", c.percent, "%）", size="2"), width="100%"),
            rx.box(rx.box(width=c.percent.to_string() + "%", height="100%", background="var(--accent-9)",
                          border_radius="3px"),
                   height="10px", background="var(--gray-a3)", border_radius="3px"),
            width="100%")), width="100%", spacing="1", margin_top="0.4em")),
        rx.hstack(rx.foreach(r.by_group, lambda g: rx.text(g[0], ": ", g[1], "件 ", g[2], size="1",
                                                           color=MUTED)),
                  spacing="4", wrap="wrap", margin_top="0.4em"),
        rx.cond(r.texts.length() > 0, rx.box(rx.foreach(r.texts, lambda t: rx.box(
            rx.text(t.text, size="2", white_space="pre-wrap"),
            rx.text(t.org_name, "（", t.group, "）", size="1", color=MUTED),
            padding="0.4em 0", border_bottom="1px solid var(--gray-a4)", custom_attrs=tid("survey-text"))),
            margin_top="0.4em")),
    )


def survey_page() -> rx.Component:
    s = S.survey
    return shell(
        form_error(S.error),
        rx.cond(s, rx.vstack(
            page_title(s.title, rx.hstack(
                rx.link("元の投稿へ", href="/c/" + S.channel_slug + "?m=" + s.message_id.to_string(), size="2",
                        white_space="nowrap"),
                rx.cond(S.can_manage, rx.button("CSVをダウンロード", size="1", variant="soft",
                                                on_click=S.download_csv, custom_attrs=tid("survey-export"))),
                rx.cond(S.can_manage, rx.cond(s.closed,
                                              rx.button("再開", size="1", variant="soft", on_click=S.set_closed(False)),
                                              rx.button("締め切る", size="1", variant="soft", color_scheme="gray",
                                                        on_click=S.set_closed(True)))),
                spacing="3", align="center", wrap="wrap", class_name="no-print")),
            rx.text(rx.cond(s.closed, "締め切り済み", rx.cond(s.deadline != "", "締め切り " + s.deadline, "受付中")),
                    " ・ ", rx.cond(s.anonymous, "無記名（団体のみ集計）", "記名"), size="2", color=MUTED),
            rx.cond(s.description != "", rx.text(s.description, size="2", white_space="pre-wrap")),
            notice(S.notice),
            card(rx.form(
                rx.vstack(
                    rx.foreach(s.questions, _answer_field),
                    rx.cond(~s.closed, rx.button("回答を送信", type="submit", custom_attrs=tid("survey-submit"))),
                    width="100%", spacing="2",
                ),
                on_submit=S.submit, reset_on_submit=False,
            )),
            rx.cond(S.can_see_results, rx.vstack(
                rx.heading("結果（回答 ", s.responses, "件）", size="4", as_="h2"),
                rx.hstack(rx.foreach(S.regions, lambda r: rx.text(r[0], " ", r[1], size="1")), spacing="3",
                          wrap="wrap"),
                rx.input(placeholder="自由記述を団体名・キーワード・区分（市区町村 など）で絞り込む", max_length=SEARCH_MAX,
                         value=S.text_filter, on_change=S.filter_texts.debounce(300), max_width="480px",
                         aria_label="自由記述の絞り込み"),
                rx.foreach(S.results, _result),
                width="100%", spacing="2", custom_attrs=tid("survey-results"),
            ), rx.text("結果は締め切り後に公開されます。", size="2", color=MUTED)),
            spacing="3", width="100%", max_width="860px",
        ), rx.spinner()),
    )


def survey_form() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("意見募集を作る"),
            rx.form(
                rx.vstack(
                    form_error(F.error),
                    field("タイトル", rx.input(name="title", id="sv-title", width="100%",
                                             custom_attrs=tid("survey-title")), html_for="sv-title"),
                    field("説明", rx.text_area(name="description", id="sv-desc", rows="2", width="100%"),
                          html_for="sv-desc"),
                    rx.foreach(rx.Var.range(F.questions), lambda i: rx.box(
                        rx.text("質問 ", (i + 1).to_string(), weight="bold", size="2"),
                        rx.hstack(
                            rx.el.select(*[rx.el.option(label, value=k) for k, label in KINDS.items()],
                                         name="q" + i.to_string() + "_kind", aria_label="質問の種類",
                                         style={"padding": "0.3em"}),
                            rx.input(name="q" + i.to_string() + "_prompt", placeholder="質問文", width="100%",
                                     aria_label="質問文", custom_attrs=tid("survey-question-input")),
                            width="100%",
                        ),
                        rx.text_area(name="q" + i.to_string() + "_choices", rows="3", width="100%",
                                     placeholder="選択肢（選択式のとき、1行に1つ）", aria_label="選択肢"),
                        rx.el.label(rx.el.input(type="checkbox", name="q" + i.to_string() + "_optional"),
                                    " 任意回答", style={"font_size": "0.85em"}),
                        padding="0.5em", border="1px solid var(--gray-a5)", border_radius="6px", width="100%",
                    )),
                    rx.button(rx.icon("plus", size=14), "質問を追加", type="button", size="1", variant="soft",
                              on_click=F.add_question),
                    field("締め切り（任意・日本時間）", rx.input(name="deadline", id="sv-deadline",
                                                      type="datetime-local"), html_for="sv-deadline"),
                    rx.el.label(rx.el.input(type="checkbox", name="anonymous"),
                                " 無記名（回答者の名前を出さず、団体だけで集計）", style={"font_size": "0.9em"}),
                    rx.hstack(rx.button("作成して投稿", type="submit", custom_attrs=tid("survey-create-submit")),
                              rx.button("やめる", type="button", variant="soft", color_scheme="gray",
                                        on_click=F.close_form)),
                    spacing="2", width="100%",
                ),
                on_submit=F.create, reset_on_submit=False,
            ),
            max_width="640px",
        ),
        open=F.open,
        on_open_change=lambda _o: F.close_form,
    )
