"""説明会: the list, a briefing's live room, and the presenter view for a projector."""

from __future__ import annotations

import reflex as rx

from kyoso.components.attachments import attach_zone, attachment_list
from kyoso.components.layout import shell
from kyoso.realtime.bridge import live_bridge
from kyoso.components.polls import poll_card
from kyoso.components.ui import card, empty_state, field, form_error, notice, page_title, tid
from kyoso.services.briefing_room import BriefingQuestionView
from kyoso.services.briefings import BriefingView
from kyoso.states.briefings import BriefingListState as L
from kyoso.states.briefings import BriefingState as B
from kyoso.states.session import SessionState
from kyoso.styles import MUTED

# -- the list ---------------------------------------------------------------


def _row(b: rx.Var[BriefingView]) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.link(b.title, href="/briefings/" + b.id.to_string(), weight="bold",
                        custom_attrs=tid("briefing-link")),
                rx.text(b.when, " ・ ", rx.cond(b.place != "", b.place, "オンライン"), size="2"),
                rx.text("主催: ", b.organiser, "（", b.organiser_org, "） ・ 申込 ", b.registered, "人",
                        rx.cond(b.capacity > 0, " / 定員 " + b.capacity.to_string() + "人", ""),
                        size="1", color=MUTED),
                spacing="1", flex="1",
            ),
            rx.cond(b.live, rx.badge("開催中", color_scheme="red", variant="solid", high_contrast=True)),
            align="center", width="100%",
        ),
        padding="0.75em 0.25em", border_bottom="1px solid var(--gray-a4)", width="100%",
    )


def _create_form() -> rx.Component:
    return card(
        rx.form(
            rx.vstack(
                rx.heading("説明会を作る", size="3", as_="h2"),
                form_error(L.error),
                field("タイトル", rx.input(name="title", id="b-title", width="100%"), html_for="b-title"),
                field("説明", rx.text_area(name="description", id="b-desc", rows="3", width="100%"),
                      html_for="b-desc"),
                rx.hstack(
                    field("開始（日本時間）", rx.input(name="starts_at", id="b-start", type="datetime-local"),
                          html_for="b-start"),
                    field("終了（日本時間）", rx.input(name="ends_at", id="b-end", type="datetime-local"),
                          html_for="b-end"),
                    field("定員（0は制限なし）", rx.input(name="capacity", id="b-cap", type="number", min=0,
                                                  default_value="0", width="8em"), html_for="b-cap"),
                    wrap="wrap", spacing="4",
                ),
                field("オンラインURL", rx.input(name="online_url", id="b-url", width="100%",
                                              placeholder="https://"), html_for="b-url"),
                field("会場", rx.input(name="place", id="b-place", width="100%"), html_for="b-place"),
                field("資料（任意）", attach_zone("briefing")),
                field("まとめを投稿するチャンネル", rx.el.select(
                    rx.el.option("（なし）", value=""),
                    rx.foreach(L.channels, lambda c: rx.el.option(c[1], value=c[0])),
                    name="channel_id", id="b-channel", style={"padding": "0.3em"}), html_for="b-channel"),
                rx.hstack(rx.button("作成", type="submit"),
                          rx.button("やめる", type="button", variant="soft", color_scheme="gray",
                                    on_click=L.toggle_create)),
                spacing="2", width="100%",
            ),
            on_submit=L.create, reset_on_submit=False,
        ),
    )


def briefings_page() -> rx.Component:
    return shell(
        page_title("説明会", rx.cond(SessionState.me.can_announce,
                                   rx.button(rx.icon("plus", size=14), "説明会を作る", size="2",
                                             on_click=L.toggle_create))),
        rx.cond(L.creating, _create_form()),
        rx.heading("これからの説明会", size="3", as_="h2"),
        rx.cond(L.upcoming.length() > 0, rx.box(rx.foreach(L.upcoming, _row), width="100%"),
                empty_state("予定されている説明会はありません", "", "calendar")),
        rx.heading("終了した説明会", size="3", as_="h2", margin_top="1em"),
        rx.cond(L.past.length() > 0, rx.box(rx.foreach(L.past, _row), width="100%"),
                rx.text("まだありません。", size="2", color=MUTED)),
    )


# -- the room ---------------------------------------------------------------


def _question(q: rx.Var[BriefingQuestionView], *, large: bool = False) -> rx.Component:
    voted = B.my_votes.contains(q.id)
    return rx.hstack(
        rx.el.button(
            rx.icon("thumbs_up", size=16 if not large else 22),
            rx.text(q.votes, weight="bold", custom_attrs=tid("question-votes"), size="2" if not large else "5"),
            type="button",
            on_click=B.upvote(q.id),
            aria_pressed=rx.cond(voted, "true", "false"),
            aria_label=q.votes.to_string() + " 票: この質問に投票する",
            custom_attrs=tid("question-upvote"),
            disabled=large,
            style={"display": "flex", "flex_direction": "column", "align_items": "center", "gap": "2px",
                   "min_width": "48px", "padding": "0.3em", "border_radius": "6px", "cursor": "pointer",
                   "border": rx.cond(voted, "1px solid var(--accent-8)", "1px solid var(--gray-a6)"),
                   "background": rx.cond(voted, "var(--accent-a3)", "var(--color-panel-solid)"),
                   "color": "var(--gray-12)"},
        ),
        rx.vstack(
            rx.text(q.body, size="3" if not large else "6", style={"white_space": "pre-wrap"}),
            rx.hstack(
                rx.text(q.author, size="1", color=MUTED),
                rx.cond(q.answered, rx.badge("回答済み", color_scheme="green", high_contrast=True)),
                spacing="2", align="center",
            ),
            rx.cond(q.answer != "", rx.box(
                rx.text("回答", size="1", weight="bold", color="var(--green-11)"),
                rx.text(q.answer, size="2" if not large else "4", style={"white_space": "pre-wrap"}),
                padding="0.3em 0.6em", border_left="3px solid var(--green-8)", background="var(--green-a2)",
                border_radius="4px", width="100%", custom_attrs=tid("question-answer"),
            )),
            rx.cond(
                B.can_manage,
                rx.vstack(
                    rx.form(
                        rx.hstack(
                            rx.input(name="answer", placeholder="回答を書く（書かずに回答済みにもできます）",
                                     aria_label="この質問への回答", size="1", flex="1", min_width="0",
                                     custom_attrs=tid("question-answer-input")),
                            rx.button("回答する", type="submit", size="1",
                                      custom_attrs=tid("question-answer-submit")),
                            width="100%", spacing="2", align="center",
                        ),
                        on_submit=lambda form: B.answer_question(q.id, form),
                        reset_on_submit=True, width="100%",
                    ),
                    rx.hstack(
                        rx.button(rx.cond(q.answered, "未回答に戻す", "回答済みにする"), size="1", variant="soft",
                                  on_click=B.mark_answered(q.id, ~q.answered),
                                  custom_attrs=tid("question-answered")),
                        rx.button("非表示", size="1", variant="ghost", color_scheme="red",
                                  on_click=B.hide_question(q.id), custom_attrs=tid("question-hide")),
                        spacing="2",
                    ),
                    spacing="1", width="100%",
                ),
            ) if not large else rx.fragment(),
            spacing="1", flex="1", min_width="0",
        ),
        # Keyed by id: a reorder moves the row, its handlers and focus with it.
        key=q.id,
        custom_attrs=tid("question", **{"data-question-id": q.id, "data-flip-id": q.id}),
        align="start", spacing="3", width="100%",
        padding="0.6em 0", border_bottom="1px solid var(--gray-a4)",
        opacity=rx.cond(q.answered, "0.7", "1"),
        # 新着順: newest first by CSS order, whatever order the live list comes in.
        order=rx.cond(B.question_order == "new", (-q.id).to_string(), "0") if not large else "0",
    )


def _order_switch() -> rx.Component:
    return rx.segmented_control.root(
        rx.segmented_control.item("人気順", value="popular", custom_attrs=tid("question-order-popular")),
        rx.segmented_control.item("新着順", value="new", custom_attrs=tid("question-order-new")),
        value=B.question_order,
        on_change=B.set_question_order,
        size="1",
        aria_label="質問の並び順",
        custom_attrs=tid("question-order"),
    )


def question_list(*rows: rx.Component) -> rx.Component:
    """The live question list: rows keyed by id, animated when they reorder
    (data-kyoso-flip), and held still while a finger or the mouse is pressed
    on it (data-kyoso-hold: the live update waits until the press ends)."""
    return rx.box(
        *rows,
        width="100%",
        custom_attrs={"data-testid": "question-list", "data-kyoso-flip": "true",
                      "data-kyoso-hold": "questions questions_rev"},
        style={"display": "flex", "flex_direction": "column"},
    )


def _manager_tools() -> rx.Component:
    return card(
        rx.heading("主催者メニュー", size="3", as_="h2"),
        rx.hstack(
            rx.button("アンケートを作って表示", size="1", on_click=B.toggle_poll_form,
                      custom_attrs=tid("briefing-poll-new")),
            rx.link("発表者ビューを開く", href="/briefings/" + B.briefing.id.to_string() + "/present",
                    size="2", is_external=False, custom_attrs=tid("briefing-present")),
            rx.cond(~B.briefing.archived & (B.briefing.channel_id > 0),
                    rx.button("まとめをチャンネルに投稿", size="1", variant="soft", on_click=B.archive,
                              custom_attrs=tid("briefing-archive"))),
            wrap="wrap", spacing="3", align="center", margin_y="0.5em",
        ),
        rx.cond(
            B.poll_form_open,
            rx.form(
                rx.vstack(
                    field("質問", rx.input(name="question", id="bp-question", width="100%",
                                          custom_attrs=tid("poll-question")), html_for="bp-question"),
                    rx.foreach(rx.Var.range(B.poll_form_options), lambda i: rx.input(
                        name="option_" + i.to_string(), placeholder="選択肢 " + (i + 1).to_string(),
                        aria_label="選択肢 " + (i + 1).to_string(), width="100%",
                        custom_attrs=tid("poll-option-input"))),
                    rx.hstack(
                        rx.button("選択肢を追加", type="button", size="1", variant="soft",
                                  on_click=B.add_poll_option, custom_attrs=tid("poll-add-option")),
                        rx.el.label(rx.el.input(type="checkbox", name="multiple"), " 複数選択",
                                    style={"font_size": "0.9em"}),
                        align="center", spacing="3",
                    ),
                    rx.button("表示する", type="submit", custom_attrs=tid("poll-submit")),
                    width="100%", spacing="2",
                ),
                on_submit=B.create_poll, reset_on_submit=True,
            ),
        ),
        rx.cond(
            B.room_polls.length() > 0,
            rx.vstack(
                rx.text("表示するアンケート", size="2", weight="bold"),
                rx.foreach(B.room_polls, lambda p: rx.hstack(
                    rx.text(p[1], size="2", flex="1"),
                    rx.cond(B.live_poll_id.to_string() == p[0], rx.badge("表示中", color_scheme="green",
                                                                        high_contrast=True),
                            rx.button("表示", size="1", variant="soft", on_click=B.show_poll(p[0].to(int)))),
                    width="100%", align="center")),
                rx.cond(B.live_poll_id > 0, rx.button("アンケートを隠す", size="1", variant="ghost",
                                                     on_click=B.show_poll(0))),
                width="100%", spacing="1",
            ),
        ),
    )


def briefing_page() -> rx.Component:
    b = B.briefing
    return shell(
        rx.cond(
            B.not_found,
            empty_state("説明会が見つかりません", rx.link("説明会の一覧へ", href="/briefings"), "calendar_x"),
            rx.cond(b, rx.vstack(
                page_title(b.title, rx.cond(b.live, rx.badge("開催中", color_scheme="red", variant="solid", high_contrast=True))),
                rx.text(b.when, " ・ ", rx.cond(b.place != "", b.place, "オンライン"), " ・ 主催: ", b.organiser,
                        "（", b.organiser_org, "）", size="2"),
                rx.text(b.description, size="2", white_space="pre-wrap"),
                rx.cond(B.materials.length() > 0, attachment_list(B.materials)),
                rx.cond(b.online_url != "", rx.link("オンライン会場を開く", href=b.online_url, is_external=True,
                                                   size="2")),
                rx.hstack(
                    rx.cond(
                        (B.status == "registered") | (B.status == "waitlisted"),
                        rx.hstack(rx.badge(B.status_label, color_scheme="green", high_contrast=True),
                                  rx.button("キャンセル", size="1", variant="soft", color_scheme="gray",
                                            on_click=B.cancel, custom_attrs=tid("briefing-cancel"))),
                        # Not to its organiser, and not once the event is on.
                        rx.cond(b.upcoming & ~b.live & ~B.can_manage,
                                rx.button("申し込む", on_click=B.register,
                                          custom_attrs=tid("briefing-register"))),
                    ),
                    rx.button(rx.icon("calendar_plus", size=14), "カレンダーに追加 (.ics)", size="1", variant="soft",
                              on_click=B.download_ics, custom_attrs=tid("briefing-ics")),
                    rx.text("申込 ", b.registered, "人",
                            rx.cond(b.capacity > 0, " / 定員 " + b.capacity.to_string() + "人", ""),
                            rx.cond(b.waitlisted > 0, " ・ キャンセル待ち " + b.waitlisted.to_string() + "人", ""),
                            " ・ 参加 ", B.attendance, "人", size="1", color=MUTED,
                            custom_attrs=tid("briefing-counts")),
                    wrap="wrap", align="center", spacing="3",
                ),
                form_error(B.error),
                notice(B.notice),
                rx.cond(B.can_manage, _manager_tools()),
                rx.cond(B.live_poll_id > 0, rx.box(
                    rx.heading("いまのアンケート", size="3", as_="h2"),
                    poll_card(B.live_poll_id, large=True),
                    width="100%", custom_attrs=tid("briefing-live-poll"),
                )),
                rx.hstack(rx.heading("質問", size="3", as_="h2"), rx.spacer(), _order_switch(),
                          align="center", width="100%", margin_top="0.5em"),
                rx.form(
                    rx.vstack(
                        rx.text_area(name="body", id="question-input", placeholder="質問を書いてください",
                                     rows="2", width="100%", disabled=~rx.State.is_hydrated,
                                     custom_attrs=tid("question-input", **{
                                         "data-draft-key": "b:" + b.id.to_string()}),
                                     aria_label="質問"),
                        rx.hstack(
                            rx.el.label(rx.el.input(type="checkbox", name="anonymous"), " 匿名で質問する",
                                        style={"font_size": "0.9em"}),
                            rx.spacer(),
                            rx.button("質問する", type="submit", size="2", custom_attrs=tid("question-submit")),
                            width="100%", align="center",
                        ),
                        width="100%", spacing="1",
                    ),
                    on_submit=B.submit_question, reset_on_submit=False, width="100%",
                ),
                rx.cond(
                    B.questions.length() > 0,
                    question_list(rx.foreach(B.questions, lambda q: _question(q))),
                    rx.text("まだ質問はありません。最初の質問をどうぞ。", size="2", color=MUTED),
                ),
                spacing="3", width="100%", max_width="860px",
            ), rx.spinner()),
        ),
    )


def presenter_page() -> rx.Component:
    """For a projector: the live poll's results large, and the top questions."""
    b = B.briefing
    return rx.box(
        live_bridge(),
        rx.cond(b, rx.vstack(
            rx.hstack(rx.heading(b.title, size="7", as_="h1"), rx.spacer(),
                      rx.text("参加 ", B.attendance, "人", size="5", color=MUTED,
                              custom_attrs=tid("presenter-attendance")), width="100%", align="center",
                      wrap="wrap"),
            rx.hstack(
                rx.image(src=B.join_qr, alt="参加用URLのQRコード", width="140px", height="140px",
                         custom_attrs=tid("presenter-qr")),
                rx.vstack(
                    rx.text("スマートフォンから質問・投票に参加できます", size="4"),
                    rx.text(B.join_url, size="6", weight="bold", custom_attrs=tid("presenter-join-url"),
                            style={"overflow_wrap": "anywhere"}),
                    spacing="1", min_width="0",
                ),
                align="center", spacing="4", wrap="wrap",
            ),
            rx.grid(
                rx.box(
                    rx.cond(B.live_poll_id > 0, poll_card(B.live_poll_id, large=True, controls=False),
                            rx.text("アンケートは表示されていません", size="5", color=MUTED)),
                    custom_attrs=tid("presenter-poll"),
                ),
                rx.box(
                    rx.heading("質問（票の多い順）", size="6", as_="h2", margin_bottom="0.5em"),
                    question_list(rx.foreach(B.questions[:8], lambda q: _question(q, large=True))),
                    custom_attrs=tid("presenter-questions"),
                ),
                columns=rx.breakpoints(initial="1", md="2"), spacing="6", width="100%",
            ),
            spacing="5", width="100%", padding=rx.breakpoints(initial="1em", md="2em"),
        ), rx.spinner()),
        custom_attrs=tid("presenter"),
        min_height="100dvh",
        style={"font_size": "1.2em"},
    )
