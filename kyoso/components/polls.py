"""A poll as it appears in a message or a 説明会 room, and the form that makes one."""

from __future__ import annotations

import reflex as rx

from kyoso.components.ui import field, form_error, tid
from kyoso.services.polls import OTHER_MAX, OptionView, PollView, TallyView
from kyoso.states.polls import PollState
from kyoso.states.session import SessionState
from kyoso.styles import MUTED


def _option(poll: rx.Var[PollView], tally: rx.Var[TallyView], visible: rx.Var[bool],
            mine: rx.Var[list[int]], o: rx.Var[OptionView], large: bool) -> rx.Component:
    chosen = mine.contains(o.index)
    count = rx.cond(visible, tally.counts[o.index], 0)
    pct = rx.cond(visible, tally.percents[o.index], 0)
    return rx.box(
        rx.el.button(
            rx.box(
                width=pct.to_string() + "%",
                style={"position": "absolute", "inset": "0 auto 0 0",
                       "background": rx.cond(chosen, "var(--accent-a5)", "var(--gray-a4)"),
                       "border_radius": "6px", "transition": "width 0.3s"},
            ),
            rx.hstack(
                rx.icon(rx.cond(chosen, rx.cond(poll.multiple, "square_check", "circle_check"),
                                rx.cond(poll.multiple, "square", "circle")), size=16,
                        color=rx.cond(chosen, "var(--accent-11)", "var(--gray-10)")),
                rx.text(o.label, size="5" if large else "2", weight=rx.cond(chosen, "bold", "regular")),
                rx.spacer(),
                rx.cond(
                    visible,
                    rx.text(count.to_string() + "票 ", pct.to_string() + "%", size="5" if large else "1",
                            weight="medium", custom_attrs=tid("poll-option-count"),
                            style={"font_variant_numeric": "tabular-nums", "white_space": "nowrap"}),
                ),
                align="center", spacing="2", width="100%",
                style={"position": "relative"},
            ),
            type="button",
            disabled=poll.closed,
            on_click=PollState.choose(poll.id, o.index),
            aria_pressed=rx.cond(chosen, "true", "false"),
            custom_attrs=tid("poll-option", **{"data-option-index": o.index,
                                               "data-chosen": rx.cond(chosen, "true", "false")}),
            style={"position": "relative", "display": "block", "width": "100%", "text_align": "left",
                   "padding": "0.8em 0.9em" if large else "0.4em 0.6em", "border_radius": "6px",
                   "border": rx.cond(chosen, "1px solid var(--accent-8)", "1px solid var(--gray-a6)"),
                   "background": "var(--color-panel-solid)", "cursor": rx.cond(poll.closed, "default", "pointer"),
                   "overflow": "hidden", "color": "var(--gray-12)"},
        ),
        rx.cond(
            o.is_other & ~poll.closed,
            rx.hstack(
                rx.input(placeholder="その他の内容", size="1", width="100%", max_length=OTHER_MAX,
                         on_change=lambda v: PollState.set_other_draft(poll.id, v),
                         aria_label="その他の内容"),
                rx.button("送信", size="1", variant="soft", on_click=PollState.send_other(poll.id, o.index)),
                margin_top="0.25em", width="100%",
            ),
        ),
        width="100%",
    )


def poll_card(poll_id: rx.Var, *, large: bool = False, controls: bool = True) -> rx.Component:
    """A poll; ``controls=False`` (a projector) shows no 締め切る and no links."""
    key = poll_id.to_string()
    poll = PollState.polls[key].to(PollView)
    tally = PollState.tallies[key].to(TallyView)
    visible = PollState.tallies.contains(key)
    mine = PollState.my_votes.get(key, []).to(list[int])
    is_owner = (poll.author_id == SessionState.me.id) | SessionState.me.is_staff
    return rx.cond(
        PollState.polls.contains(key),
        rx.box(
            rx.hstack(
                rx.icon("chart_bar", size=16),
                rx.text(poll.question, weight="bold", size="6" if large else "2"),
                rx.cond(poll.closed, rx.badge("締め切り", color_scheme="gray", high_contrast=True)),
                align="center", spacing="2", wrap="wrap",
            ),
            rx.text(
                rx.cond(poll.multiple, "複数選択（" + poll.max_choices.to_string() + "つまで）", "ひとつ選択"),
                " ・ ", rx.cond(poll.anonymous, "無記名", "記名"),
                " ・ 結果: ", poll.visibility_label,
                rx.cond(poll.deadline != "", " ・ 締め切り " + poll.deadline, ""),
                size="1", color=MUTED,
            ),
            rx.vstack(
                rx.foreach(poll.options, lambda o: _option(poll, tally, visible, mine, o, large)),
                spacing="1", width="100%", margin_y="0.4em",
            ),
            rx.hstack(
                rx.cond(
                    visible,
                    rx.text(tally.voters.to_string() + "人が回答", size="1", color=MUTED,
                            custom_attrs=tid("poll-total")),
                    rx.text(rx.cond(poll.visibility == "after_vote", "回答すると結果が見られます",
                                    rx.cond(poll.visibility == "after_close", "結果は締め切り後に公開されます",
                                            "結果は作成者と運営だけが見られます")),
                            size="1", color=MUTED),
                ),
                rx.spacer(),
                rx.link("詳しい結果", href="/polls/" + key, size="1",
                        custom_attrs=tid("poll-results-link")) if controls else rx.fragment(),
                rx.cond(
                    is_owner,
                    rx.cond(
                        poll.closed,
                        rx.button("再開", size="1", variant="soft", on_click=PollState.set_closed(poll.id, False),
                                  custom_attrs=tid("poll-reopen")),
                        rx.button("締め切る", size="1", variant="soft", color_scheme="gray",
                                  on_click=PollState.set_closed(poll.id, True),
                                  custom_attrs=tid("poll-close")),
                    ),
                ) if controls else rx.fragment(),
                align="center", width="100%", wrap="wrap",
            ),
            rx.cond((PollState.error != "") & (PollState.error_poll == poll.id),
                    rx.text(PollState.error, size="1", color="var(--red-11)", role="alert",
                            custom_attrs=tid("form-error"))),
            custom_attrs=tid("poll", **{"data-poll-id": poll.id}),
            border="1px solid var(--gray-a6)", border_radius="8px", padding="0.75em",
            margin_top="0.4em", background="var(--gray-a2)", max_width="640px" if not large else "100%",
        ),
    )


def poll_form(on_submit: rx.EventHandler) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("アンケートを作る"),
            rx.form(
                rx.vstack(
                    form_error(PollState.form_error),
                    field("質問", rx.input(name="question", id="poll-question", width="100%",
                                          placeholder="例: 標準準拠システムへの移行時期は？",
                                          custom_attrs=tid("poll-question")), html_for="poll-question"),
                    rx.text("選択肢", weight="bold", size="2"),
                    rx.foreach(
                        rx.Var.range(PollState.form_options),
                        lambda i: rx.input(name="option_" + i.to_string(), width="100%",
                                           placeholder="選択肢 " + (i + 1).to_string(),
                                           aria_label="選択肢 " + (i + 1).to_string(),
                                           custom_attrs=tid("poll-option-input")),
                    ),
                    rx.hstack(
                        rx.button(rx.icon("plus", size=14), "選択肢を追加", type="button", size="1",
                                  variant="soft", on_click=PollState.add_option,
                                  custom_attrs=tid("poll-add-option")),
                        rx.button("最後の選択肢を削除", type="button", size="1", variant="ghost",
                                  color_scheme="gray", on_click=PollState.remove_option),
                    ),
                    rx.el.label(rx.el.input(type="checkbox", name="allow_other"), " 「その他」（自由記述）を加える",
                                style={"font_size": "0.9em"}),
                    rx.el.label(rx.el.input(type="checkbox", name="multiple"), " 複数選択できる",
                                style={"font_size": "0.9em"}),
                    field("複数選択のとき、選べる数の上限（空欄なら制限なし）",
                          rx.input(name="max_choices", id="poll-max", type="number", min=1, width="8em"),
                          html_for="poll-max"),
                    rx.el.label(rx.el.input(type="checkbox", name="named"), " 記名式にする（誰がどれを選んだかを結果に表示）",
                                style={"font_size": "0.9em"}),
                    field("結果の公開", rx.el.select(
                        rx.el.option("いつでも見られる", value="always"),
                        rx.el.option("回答した人だけ見られる", value="after_vote"),
                        rx.el.option("締め切り後に公開", value="after_close"),
                        rx.el.option("作成者と運営だけ", value="owner"),
                        name="visibility", id="poll-visibility",
                        style={"padding": "0.3em", "border_radius": "4px"},
                    ), html_for="poll-visibility"),
                    field("締め切り（任意・日本時間）", rx.input(name="deadline", id="poll-deadline",
                                                      type="datetime-local", width="16em"),
                          html_for="poll-deadline"),
                    rx.hstack(
                        rx.button("投稿する", type="submit", custom_attrs=tid("poll-submit")),
                        rx.dialog.close(rx.button("やめる", type="button", variant="soft", color_scheme="gray",
                                                  on_click=PollState.close_form)),
                    ),
                    spacing="2", width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
            max_width="560px",
        ),
        open=PollState.form_open,
        on_open_change=lambda _open: PollState.close_form,
    )
