"""/c/[slug]: a channel, with its thread panel beside it."""

from __future__ import annotations

import reflex as rx

from kyoso import routes
from kyoso.components.layout import shell
from kyoso.components.messages import composer, follows, message_item, report_dialog
from kyoso.components.polls import poll_form
from kyoso.pages.surveys import survey_form
from kyoso.states.polls import PollState
from kyoso.states.surveys import SurveyFormState
from kyoso.components.ui import empty_state, form_error, notice, tid
from kyoso.services.messages import MessageView
from kyoso.states.channel import ChannelState
from kyoso.states.session import SessionState
from kyoso.styles import MUTED, PHONE


def _header() -> rx.Component:
    c = ChannelState.channel
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.icon(rx.cond(c.kind == "announcement", "megaphone", "hash"), size=18),
                rx.heading(c.name, size="4", as_="h1"),
                rx.cond(c.archived, rx.badge("アーカイブ済み", color_scheme="gray", high_contrast=True)),
                rx.cond(c.kind == "announcement", rx.badge("お知らせ", color_scheme="amber", high_contrast=True)),
                align="center", spacing="2", wrap="wrap",
            ),
            rx.text(c.description, size="1", color=MUTED,
                    style={"overflow": "hidden", "text_overflow": "ellipsis",
                           "display": "-webkit-box", "-webkit-line-clamp": "2",
                           "-webkit-box-orient": "vertical"}),
            spacing="0", min_width="0", flex="1",
        ),
        rx.hstack(
            rx.link(rx.icon("circle_help", size=16), href=routes.QUESTIONS + "?channel=" + c.slug,
                    title="このチャンネルの未回答の質問", aria_label="このチャンネルの未回答の質問",
                    color="var(--gray-11)", custom_attrs=tid("channel-questions")),
            rx.text(c.member_count.to_string() + "人", size="1", color=MUTED, white_space="nowrap",
                    custom_attrs=tid("member-count")),
            rx.cond(SessionState.me.is_staff,
                    rx.icon_button(rx.icon("settings", size=14), size="1", variant="ghost", color_scheme="gray",
                                   on_click=ChannelState.toggle_channel_edit, aria_label="チャンネルを編集",
                                   custom_attrs=tid("channel-edit"))),
            rx.cond(
                ChannelState.joined,
                rx.button("退出", size="1", variant="soft", color_scheme="gray",
                          on_click=ChannelState.leave, custom_attrs=tid("channel-leave")),
                rx.cond(~c.archived,
                        rx.button("参加する", size="1", on_click=ChannelState.join,
                                  custom_attrs=tid("channel-join"))),
            ),
            align="center", spacing="2",
        ),
        width="100%", align="center", padding_bottom="0.5em",
        border_bottom="1px solid var(--gray-a5)",
    )


def _channel_settings() -> rx.Component:
    c = ChannelState.channel
    return rx.cond(
        ChannelState.editing_channel,
        rx.form(
            rx.vstack(
                form_error(ChannelState.channel_error),
                rx.el.label("チャンネル名", html_for="ch-name", style={"font_weight": "600", "font_size": "0.9em"}),
                rx.input(name="name", id="ch-name", default_value=c.name, width="100%"),
                rx.el.label("説明", html_for="ch-desc", style={"font_weight": "600", "font_size": "0.9em"}),
                rx.text_area(name="description", id="ch-desc", default_value=c.description, rows="2", width="100%"),
                rx.el.label(rx.el.input(type="checkbox", name="no_replies", default_checked=~c.allow_replies),
                            " お知らせチャンネルで返信を受け付けない", style={"font_size": "0.9em"}),
                rx.el.label(rx.el.input(type="checkbox", name="join_by_default", default_checked=c.join_by_default,
                                        custom_attrs=tid("channel-default")),
                            " 新しく参加したメンバーを自動でこのチャンネルに参加させる", style={"font_size": "0.9em"}),
                rx.hstack(rx.button("保存", type="submit", size="1", custom_attrs=tid("channel-save")),
                          rx.button("やめる", type="button", size="1", variant="soft", color_scheme="gray",
                                    on_click=ChannelState.toggle_channel_edit)),
                spacing="1", width="100%",
            ),
            on_submit=ChannelState.save_channel, reset_on_submit=False, width="100%",
        ),
    )


def _pinned() -> rx.Component:
    return rx.cond(
        ChannelState.pinned.length() > 0,
        rx.box(
            rx.foreach(ChannelState.pinned, lambda a: rx.hstack(
                rx.icon("pin", size=14),
                rx.link(a.title, href=a.link, size="2", weight="medium"),
                rx.text(a.category_label, size="1", color=MUTED),
                align="center", spacing="2")),
            padding="0.4em 0.75em", margin_top="0.4em", border_radius="6px",
            background="var(--amber-a3)", custom_attrs=tid("pinned"),
        ),
    )


def new_posts_pill() -> rx.Component:
    """「新しい投稿 N件」: shown by kyoso_live.js when posts arrive below a
    reader who has scrolled up; a click jumps down."""
    return rx.el.button(type="button", hidden=True, class_name="kyoso-pill",
                        custom_attrs={"data-kyoso-pill": "true", "data-testid": "new-posts-pill"})


def _messages() -> rx.Component:
    return rx.box(
        rx.cond(
            ChannelState.has_older,
            rx.center(
                rx.button(
                    rx.cond(ChannelState.loading_older, "読み込み中…", "以前のメッセージを読み込む"),
                    size="1", variant="ghost", on_click=ChannelState.load_older,
                    disabled=ChannelState.loading_older,
                    custom_attrs={"data-load-older": "true", "data-testid": "load-older"},
                ),
                padding="0.5em",
            ),
        ),
        rx.cond(
            ChannelState.messages.length() > 0,
            rx.foreach(ChannelState.messages,
                       lambda m, i: message_item(m, grouped=follows(ChannelState.messages, m, i))),
            empty_state("まだ投稿がありません", "最初の投稿をしてみましょう。質問や事例の共有を歓迎します。",
                        "message_square"),
        ),
        new_posts_pill(),
        # A post arriving while a finger or the mouse is down on the list waits
        # until the press ends: at the bottom it would scroll the row pressed
        # (返信, a stamp) out from under the pointer and the click would be lost.
        custom_attrs={"data-kyoso-pin": "true", "data-scroll-to": ChannelState.focus_id,
                      "data-kyoso-hold": "messages", "data-testid": "message-list"},
        role="log",
        aria_live="polite",
        aria_label="メッセージ",
        style={"flex": "1", "overflow_y": "auto", "min_height": "0", "padding": "0.5em 0"},
    )


def _similar() -> rx.Component:
    """Past threads like the question being written (up to five)."""
    return rx.cond(
        ChannelState.similar.length() > 0,
        rx.box(
            rx.text("似ている過去のスレッド（同じ質問が解決済みかもしれません）", size="1", weight="bold",
                    color=MUTED),
            rx.foreach(
                ChannelState.similar,
                lambda t: rx.link(
                    rx.hstack(
                        rx.cond(t.resolved,
                                rx.badge("解決済み", color_scheme="green", size="1", high_contrast=True),
                                rx.cond(t.is_question,
                                        rx.badge("質問", color_scheme="amber", size="1", high_contrast=True))),
                        rx.text(t.excerpt, size="1", style={"overflow": "hidden", "text_overflow": "ellipsis",
                                                            "white_space": "nowrap"}, flex="1", min_width="0"),
                        rx.text("#", t.channel_name, size="1", color=MUTED, white_space="nowrap"),
                        align="center", spacing="2", width="100%",
                    ),
                    href=t.link, underline="none", color="var(--gray-12)", display="block",
                    padding="0.2em 0", custom_attrs=tid("similar-thread", **{"data-message-id": t.id}),
                ),
            ),
            role="region", aria_label="似ている過去のスレッド", aria_live="polite",
            border="1px solid var(--amber-a6)", background="var(--amber-a2)", border_radius="6px",
            padding="0.4em 0.6em", margin_bottom="0.4em", width="100%",
            custom_attrs=tid("similar-threads"),
        ),
    )


def _ask_toggle() -> rx.Component:
    return rx.el.label(
        # Uncontrolled (a click shows at once, whatever the round trip); the key
        # changes after a post, which unticks it.
        rx.el.input(type="checkbox", default_checked=ChannelState.ask_question,
                    key="ask-" + ChannelState.ask_key.to_string(),
                    on_change=ChannelState.set_ask_question, custom_attrs=tid("composer-question")),
        rx.text("質問として投稿する（回答を選ぶと解決済みになります）", size="1"),
        style={"display": "flex", "gap": "0.4em", "align_items": "center", "padding": "0 0 0.3em 0.1em",
               "cursor": "pointer", "width": "fit-content"},
    )


def _composer() -> rx.Component:
    c = ChannelState.channel
    return rx.box(
        form_error(ChannelState.error),
        rx.cond(ChannelState.can_post, rx.fragment(_similar(), _ask_toggle())),
        rx.cond(
            ChannelState.can_post,
            rx.vstack(
                composer(form_id="composer-form", input_id="composer", on_submit=ChannelState.post,
                         placeholder="#" + c.name + " に投稿", input_testid="composer-input",
                         send_testid="composer-send", attach_slot="composer", draft_key="c:" + c.slug),
                rx.hstack(
                    rx.button(rx.icon("chart_bar", size=14), "アンケートを作る", size="1", variant="soft",
                              on_click=PollState.open_form, custom_attrs=tid("poll-create")),
                    rx.button(rx.icon("clipboard_list", size=14), "意見募集を作る", size="1", variant="soft",
                              on_click=SurveyFormState.open_form, custom_attrs=tid("survey-create")),
                    spacing="2",
                ),
                poll_form(PollState.create),
                survey_form(),
                spacing="1", width="100%",
            ),
            rx.text(
                rx.cond(c.archived, "このチャンネルはアーカイブされています。閲覧のみできます。",
                        "このお知らせチャンネルに新しく投稿できるのは国の職員と運営です。スレッドへの返信はできます。"),
                size="2", color=MUTED, padding="0.5em",
            ),
        ),
        padding_top="0.5em",
        border_top="1px solid var(--gray-a5)",
    )


def _answer_hint() -> rx.Component:
    """To the asker (and 運営) of an unresolved question: how to resolve it."""
    parent = ChannelState.thread_parent.to(MessageView)
    return rx.cond(
        ChannelState.thread_parent & parent.is_question & ~parent.resolved
        & ((parent.author_id == SessionState.me.id) | SessionState.me.is_staff)
        & (ChannelState.thread_replies.length() > 0),
        rx.text("役に立った返信の ✓（回答に選ぶ）を押すと、この質問は解決済みになります。", size="1", color=MUTED,
                padding="0.25em 0"),
    )


def thread_panel() -> rx.Component:
    return rx.cond(
        ChannelState.thread_open_id > 0,
        rx.el.aside(
            rx.hstack(
                rx.heading("スレッド", size="3", as_="h2"),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray",
                               on_click=ChannelState.close_thread, aria_label="スレッドを閉じる",
                               custom_attrs=tid("thread-close")),
                width="100%", align="center",
            ),
            rx.box(
                rx.cond(ChannelState.thread_parent,
                        message_item(ChannelState.thread_parent.to(MessageView), in_thread=True)),
                rx.hstack(
                    rx.text(ChannelState.thread_replies.length().to_string() + "件の返信", size="1",
                            color=MUTED, white_space="nowrap"),
                    rx.divider(),
                    align="center", width="100%", padding="0.25em 0",
                ),
                rx.foreach(ChannelState.thread_replies, lambda m, i: message_item(
                    m, in_thread=True, grouped=follows(ChannelState.thread_replies, m, i))),
                new_posts_pill(),
                custom_attrs={"data-kyoso-pin": "true", "data-scroll-to": ChannelState.focus_id,
                              "data-kyoso-hold": "thread_parent thread_replies"},
                style={"flex": "1", "overflow_y": "auto", "min_height": "0"},
            ),
            _answer_hint(),
            form_error(ChannelState.thread_error),
            rx.cond(
                ChannelState.can_reply,
                composer(form_id="thread-form", input_id="thread-composer", on_submit=ChannelState.reply,
                         placeholder="スレッドに返信", input_testid="thread-input",
                         send_testid="thread-send", attach_slot="thread",
                         draft_key="c:" + ChannelState.channel.slug + ":thread:"
                         + ChannelState.thread_open_id.to_string()),
                rx.text("このスレッドには返信できません。", size="2", color=MUTED),
            ),
            aria_label="スレッド",
            custom_attrs=tid("thread-panel", **{"data-kyoso-sheet": "true"}),
            style={
                "width": "420px", "flex_shrink": "0", "border_left": "1px solid var(--gray-a5)",
                "display": "flex", "flex_direction": "column", "padding": "0.75em 1em",
                "background": "var(--color-background)", "height": "100%",
                # On a phone: a full-screen sheet over the header, its composer
                # (and 送信) on screen at the bottom.
                PHONE: {"position": "fixed", "inset": "0", "width": "100%", "height": "auto",
                        "z_index": "60", "border_left": "none", "padding": "0.5em 0.75em"},
            },
        ),
    )


def channel_page() -> rx.Component:
    return shell(
        rx.cond(
            ChannelState.not_found,
            empty_state("チャンネルが見つかりません", rx.link("チャンネル一覧へ", href=routes.CHANNELS),
                        "search_x"),
            rx.fragment(_header(), _channel_settings(), _pinned(), notice(ChannelState.notice), _messages(),
                        _composer(), report_dialog()),
        ),
        aside=thread_panel(),
        main_padding="0.75em 1em",
    )
