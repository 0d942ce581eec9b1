"""A message, its stamps, the composer: the pieces of a channel page."""

from __future__ import annotations

import reflex as rx

from kyoso.components.attachments import attach_zone, attachment_list
from kyoso.components.polls import poll_card
from kyoso.components.ui import tid
from kyoso.services.messages import DELETED_TEXT, HIDDEN_TEXT, MessageView, StampView
from kyoso.services.moderation import REPORT_REASONS
from kyoso.states.channel import DRAFT_MAX, ChannelState
from kyoso.states.session import SessionState
from kyoso.styles import MUTED


def _stamp(message: rx.Var[MessageView], s: rx.Var[StampView]) -> rx.Component:
    mine = ChannelState.my_stamps.contains(message.id.to_string() + ":" + s.stamp)
    return rx.tooltip(
        rx.el.button(
            rx.text(s.stamp, as_="span", size="1"),
            rx.text(s.count, as_="span", size="1", weight="bold",
                    custom_attrs=tid("stamp-count")),
            type="button",
            on_click=ChannelState.toggle_stamp(message.id, s.stamp),
            aria_pressed=rx.cond(mine, "true", "false"),
            aria_label=s.stamp + " " + s.count.to_string() + "人: " + s.who,
            custom_attrs=tid("stamp", **{"data-stamp": s.stamp,
                                         "data-mine": rx.cond(mine, "true", "false")}),
            style={
                "display": "inline-flex", "gap": "0.35em", "align_items": "center",
                "padding": "0 0.5em", "height": "24px", "border_radius": "12px",
                "cursor": "pointer",
                "border": rx.cond(mine, "1px solid var(--accent-8)", "1px solid var(--gray-a6)"),
                "background": rx.cond(mine, "var(--accent-a3)", "var(--gray-a2)"),
                "color": "var(--gray-12)",
            },
        ),
        content=s.who,
        key=s.stamp,
    )


def stamp_palette(message_id: rx.Var[int]) -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.icon_button(rx.icon("smile_plus", size=15), variant="ghost", size="1",
                           color_scheme="gray", aria_label="スタンプを押す",
                           custom_attrs=tid("stamp-add")),
        ),
        rx.popover.content(
            # Typing filters the stamps (custom ones included) in the browser (kyoso_live.js).
            rx.el.input(type="search", placeholder="スタンプを検索", aria_label="スタンプを検索",
                        auto_complete="off", custom_attrs={"data-stamp-filter": "true",
                                                           "data-testid": "stamp-search"},
                        style={"width": "100%", "height": "30px", "padding": "0 0.5em", "margin_bottom": "0.4em",
                               "border": "1px solid var(--gray-a7)", "border_radius": "6px",
                               "background": "var(--color-surface)", "color": "var(--gray-12)",
                               "font_size": "16px"}),
            rx.flex(
                rx.foreach(
                    ChannelState.palette,
                    lambda label: rx.popover.close(
                        rx.button(
                            label, size="1", variant="soft", color_scheme="gray",
                            on_click=ChannelState.toggle_stamp(message_id, label),
                            custom_attrs=tid("stamp-choice", **{"data-stamp": label}),
                        ),
                    ),
                ),
                wrap="wrap", gap="1", max_width="300px",
            ),
            aria_label="スタンプ一覧",
        ),
    )


def stamps_row(message: rx.Var[MessageView]) -> rx.Component:
    return rx.cond(
        message.stamps.length() > 0,
        rx.flex(rx.foreach(message.stamps, lambda s: _stamp(message, s)), wrap="wrap", gap="1",
                margin_top="0.25em"),
    )


def _body(message: rx.Var[MessageView]) -> rx.Component:
    return rx.cond(
        message.deleted,
        rx.text(DELETED_TEXT, size="2", color=MUTED, style={"font_style": "italic"},
                custom_attrs=tid("message-body")),
        rx.cond(
            message.hidden,
            rx.text(HIDDEN_TEXT, size="2", color=MUTED, style={"font_style": "italic"},
                    custom_attrs=tid("message-body")),
            rx.box(
                rx.html(message.body_html),
                rx.cond(message.edited, rx.text("（編集済み）", as_="span", size="1", color=MUTED)),
                class_name="kyoso-md",
                custom_attrs=tid("message-body"),
                style={"font_size": "0.95em"},
            ),
        ),
    )


def _edit_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text_area(name="body", default_value=ChannelState.edit_text, rows="4", width="100%",
                         id="edit-composer", custom_attrs={"data-ctrl-enter": "true",
                                                           "data-testid": "edit-input"},
                         aria_label="メッセージを編集"),
            rx.hstack(
                rx.button("保存", type="submit", size="1", custom_attrs=tid("edit-save")),
                rx.button("キャンセル", type="button", size="1", variant="soft", color_scheme="gray",
                          on_click=ChannelState.cancel_edit),
                rx.text("Ctrl+Enterで保存", size="1", color=MUTED),
                align="center",
            ),
            width="100%", spacing="1",
        ),
        on_submit=ChannelState.save_edit,
        reset_on_submit=False,
        width="100%",
    )


def _question_actions(message: rx.Var[MessageView], in_thread: bool) -> rx.Component:
    """質問にする (the thread's author) and 回答に選ぶ (the asker or 運営, on replies)."""
    me = SessionState.me
    mark_question = rx.cond(
        (message.parent_id == 0) & (message.author_id == me.id),
        rx.icon_button(
            rx.icon("circle_help", size=15), variant="ghost", size="1",
            color_scheme=rx.cond(message.is_question, "amber", "gray"),
            aria_label=rx.cond(message.is_question, "質問の印を外す", "質問にする"),
            title=rx.cond(message.is_question, "質問の印を外す", "質問にする"),
            aria_pressed=rx.cond(message.is_question, "true", "false"),
            on_click=ChannelState.mark_question(message.id, ~message.is_question),
            custom_attrs=tid("mark-question"),
        ),
    )
    if not in_thread:
        return mark_question
    parent = ChannelState.thread_parent.to(MessageView)
    may_choose = (message.parent_id != 0) & parent.is_question & (
        (parent.author_id == me.id) | me.is_staff)
    return rx.fragment(
        mark_question,
        rx.cond(
            may_choose,
            rx.cond(
                message.is_answer,
                rx.icon_button(rx.icon("circle_check", size=15), variant="ghost", size="1", color_scheme="green",
                               aria_label="回答の選択を取り消す", title="回答の選択を取り消す", aria_pressed="true",
                               on_click=ChannelState.clear_answer, custom_attrs=tid("mark-answer")),
                rx.icon_button(rx.icon("circle_check", size=15), variant="ghost", size="1", color_scheme="gray",
                               aria_label="この返信を回答に選ぶ", title="この返信を回答に選ぶ", aria_pressed="false",
                               on_click=ChannelState.choose_answer(message.id), custom_attrs=tid("mark-answer")),
            ),
        ),
    )


def _actions(message: rx.Var[MessageView], in_thread: bool) -> rx.Component:
    mine = message.author_id == SessionState.me.id
    return rx.hstack(
        stamp_palette(message.id),
        _question_actions(message, in_thread),
        rx.cond(
            (message.parent_id == 0) & ~ChannelState.channel.archived,
            rx.icon_button(rx.icon("message_square_reply", size=15), variant="ghost", size="1",
                           color_scheme="gray", aria_label="スレッドで返信",
                           on_click=ChannelState.open_thread(message.id),
                           custom_attrs=tid("reply-open")),
        ) if not in_thread else rx.fragment(),
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(rx.icon("ellipsis", size=15), variant="ghost", size="1",
                               color_scheme="gray", aria_label="その他の操作",
                               custom_attrs=tid("message-menu")),
            ),
            rx.menu.content(
                rx.cond(mine, rx.menu.item("編集", on_click=ChannelState.start_edit(message.id),
                                           custom_attrs=tid("message-edit"))),
                rx.cond(mine, rx.menu.item("削除", color="red", on_click=ChannelState.delete(message.id),
                                           custom_attrs=tid("message-delete"))),
                rx.cond(SessionState.me.is_staff,
                        rx.menu.item("非表示にする（運営）", color="red",
                                     on_click=ChannelState.hide(message.id),
                                     custom_attrs=tid("message-hide"))),
                rx.cond(~mine, rx.menu.item("通報する", on_click=ChannelState.start_report(message.id),
                                            custom_attrs=tid("message-report"))),
            ),
        ),
        spacing="1",
        class_name="kyoso-msg-actions",
        style={"position": "absolute", "top": "-12px", "right": "8px", "background": "var(--color-panel-solid)",
               "border": "1px solid var(--gray-a5)", "border_radius": "6px", "padding": "1px 2px",
               "opacity": "0", "transition": "opacity 0.1s"},
    )


def follows(messages: rx.Var[list[MessageView]], message: rx.Var[MessageView], i: rx.Var[int]) -> rx.Var:
    """True when ``message`` continues the previous one's author within five
    minutes: it is shown without name and avatar, grouped under it."""
    prev = messages[i - 1].to(MessageView)
    return rx.cond(
        i > 0,
        (prev.author_id == message.author_id) & (message.at - prev.at < 300) & ~prev.deleted & ~prev.hidden
        & ~message.deleted & ~message.hidden & (prev.reply_count == 0)
        & (ChannelState.first_unread_id != message.id),
        False,
    )


def avatar(message: rx.Var[MessageView]) -> rx.Component:
    """The author's initial on a colour of their own (decorative: the name is beside it)."""
    return rx.box(
        message.author_name[:1],
        aria_hidden="true",
        class_name="kyoso-avatar",
        style={"background": "hsl(" + ((message.author_id * 47) % 360).to_string() + " 45% 30%)"},
    )


def message_item(message: rx.Var[MessageView], *, in_thread: bool = False,
                 grouped: rx.Var[bool] | bool = False) -> rx.Component:
    gone = message.deleted | message.hidden
    return rx.box(
        rx.cond(
            (ChannelState.first_unread_id == message.id) & (not in_thread),
            rx.hstack(
                rx.divider(color_scheme="red"),
                rx.text("ここから未読", size="1", color="var(--red-11)", white_space="nowrap",
                        weight="bold"),
                rx.divider(color_scheme="red"),
                align="center", width="100%", custom_attrs=tid("unread-divider"),
            ),
        ) if not in_thread else rx.fragment(),
        rx.box(
            rx.cond(~gone & ~grouped, avatar(message)),
            rx.cond(
                ~gone & ~grouped,
                rx.hstack(
                    rx.link(message.author_name, href="/u/" + message.author_id.to_string(),
                            weight="bold", size="2", color="var(--gray-12)", underline="hover"),
                    rx.text(message.org_name, size="1", color=MUTED),
                    rx.text(message.department, size="1", color=MUTED),
                    rx.el.time(message.time, title=message.time_full,
                               style={"font_size": "0.75em", "color": "var(--gray-11)"}),
                    rx.cond(message.is_question & ~message.resolved,
                            rx.badge("質問", color_scheme="amber", size="1", high_contrast=True)),
                    rx.cond(message.resolved & (message.parent_id == 0),
                            rx.badge("解決済み", color_scheme="green", size="1",
                                     custom_attrs=tid("resolved-badge"), high_contrast=True)),
                    rx.cond(message.is_answer,
                            rx.badge("回答", color_scheme="green", size="1", high_contrast=True)),
                    align="baseline", spacing="2", wrap="wrap",
                ),
            ),
            rx.cond(
                # A thread's first message is edited in the channel list, not
                # in the thread panel where it shows again.
                (ChannelState.editing_id == message.id) & (message.parent_id != 0)
                if in_thread else ChannelState.editing_id == message.id,
                _edit_form(),
                _body(message),
            ),
            rx.cond(~gone & (message.attachments.length() > 0), attachment_list(message.attachments)),
            rx.cond(~gone & (message.poll_id > 0), poll_card(message.poll_id)),
            rx.cond(~gone & (message.survey_id > 0), rx.link(
                rx.button(rx.icon("clipboard_list", size=14), "意見募集に回答する・結果を見る", size="2",
                          variant="soft"),
                href="/surveys/" + message.survey_id.to_string(), custom_attrs=tid("survey-link"))),
            rx.cond(~gone, stamps_row(message)),
            rx.cond(
                (message.reply_count > 0) & (not in_thread),
                rx.el.button(
                    rx.hstack(
                        rx.text(message.reply_count.to_string() + "件の返信", size="1",
                                weight="bold", color="var(--accent-11)"),
                        rx.text(message.repliers, size="1", color=MUTED),
                        spacing="2", align="center",
                    ),
                    type="button",
                    on_click=ChannelState.open_thread(message.id),
                    custom_attrs=tid("reply-count"),
                    style={"background": "none", "border": "none", "padding": "0.2em 0",
                           "cursor": "pointer"},
                ),
            ) if not in_thread else rx.fragment(),
            rx.cond(~gone & ~ChannelState.channel.archived, _actions(message, in_thread)),
            # ↑ in an empty composer edits my last post (kyoso_live.js clicks this).
            rx.cond(~gone & (message.author_id == SessionState.me.id),
                    rx.el.button(type="button", hidden=True, tab_index=-1, aria_hidden="true",
                                 on_click=ChannelState.start_edit(message.id),
                                 custom_attrs={"data-edit-mine": "true"})),
            position="relative",
            padding=rx.cond(grouped, "0.05em 0.75em 0.3em 3.25em", "0.4em 0.75em 0.4em 3.25em"),
            border_radius="6px",
            background=rx.cond(ChannelState.focus_id == message.id, "var(--amber-a3)", "transparent"),
            _hover={"background": "var(--gray-a2)", "& .kyoso-msg-actions": {"opacity": "1"}},
            _focus_within={"& .kyoso-msg-actions": {"opacity": "1"}},
        ),
        # Keyed by the message's id: a live insert or a history load above
        # never hands this row's handlers or focus to another message.
        key=message.id,
        custom_attrs=tid("message", **{"data-message-id": message.id}),
        width="100%",
    )


def report_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("投稿を通報する"),
            rx.dialog.description("運営が内容を確認します。通報したことは投稿者には知らされません。", size="2"),
            rx.form(
                rx.vstack(
                    rx.cond(ChannelState.report_error != "",
                            rx.callout(ChannelState.report_error, color_scheme="red", high_contrast=True, size="1", role="alert",
                                       custom_attrs=tid("form-error"))),
                    rx.el.label("理由", html_for="report-category", style={"font_weight": "600"}),
                    rx.el.select(*[rx.el.option(r, value=r) for r in REPORT_REASONS], name="category",
                                 id="report-category", style={"padding": "0.3em"}),
                    rx.el.label("詳しく（任意）", html_for="report-detail", style={"font_weight": "600"}),
                    rx.text_area(name="detail", id="report-detail", rows="3", width="100%"),
                    rx.hstack(
                        rx.button("通報する", type="submit", color_scheme="red",
                                  custom_attrs=tid("report-submit")),
                        rx.button("やめる", type="button", variant="soft", color_scheme="gray",
                                  on_click=ChannelState.cancel_report),
                    ),
                    spacing="2", width="100%",
                ),
                on_submit=ChannelState.submit_report, reset_on_submit=False,
            ),
        ),
        open=ChannelState.report_id > 0,
        on_open_change=lambda _o: ChannelState.cancel_report,
    )


def composer(*, form_id: str, input_id: str, on_submit: rx.EventHandler, placeholder: rx.Var | str,
             input_testid: str, send_testid: str, disabled: rx.Var | bool = False,
             attach_slot: str = "", draft_key: rx.Var | str = "") -> rx.Component:
    """``attach_slot`` names the composer's pending files (AttachmentState);
    ``draft_key`` names where the draft is kept in the browser (kyoso_live.js);
    the box waits for the connection (``State.is_hydrated``) before it takes text."""
    waiting = ~rx.State.is_hydrated
    disabled = waiting if disabled is False else (waiting | disabled)
    return rx.form(
        rx.vstack(
            rx.cond(
                (ChannelState.mention_options.length() > 0) & (ChannelState.mention_target == input_id),
                rx.box(
                    rx.foreach(
                        ChannelState.mention_options,
                        lambda p: rx.el.button(
                            rx.text(p["name"], weight="bold", size="2", as_="span"),
                            rx.text(" ", p["org"], size="1", color=MUTED, as_="span"),
                            type="button",
                            on_click=ChannelState.choose_mention(p["id"]),
                            custom_attrs=tid("mention-option"),
                            style={"display": "block", "width": "100%", "text_align": "left",
                                   "padding": "0.3em 0.6em", "border": "none",
                                   "background": "transparent", "cursor": "pointer",
                                   "_hover": {"background": "var(--accent-a3)"}},
                        ),
                    ),
                    role="listbox", aria_label="メンションの候補",
                    border="1px solid var(--gray-a6)", border_radius="6px", width="100%",
                    background="var(--color-panel-solid)",
                ),
            ),
            rx.text_area(
                name="body", id=input_id, placeholder=placeholder, rows="3", width="100%",
                disabled=disabled,
                # Only what the server keeps (DRAFT_MAX) is sent: a huge paste
                # must not become a websocket message over KYOSO_WS_MAX_BYTES.
                on_change=lambda v: ChannelState.draft_changed(input_id, v.to(str)[:DRAFT_MAX]).debounce(300),
                custom_attrs={"data-ctrl-enter": "true", "data-testid": input_testid, "data-draft-key": draft_key},
                aria_label=placeholder if isinstance(placeholder, str) else "メッセージ",
                style={"resize": "vertical"},
            ),
            attach_zone(attach_slot) if attach_slot else rx.fragment(),
            rx.hstack(
                rx.text("Ctrl+Enterで送信 ・ **太字** _斜体_ > 引用 `コード` ・ @で呼びかけ",
                        size="1", color=MUTED, style={"overflow": "hidden", "text_overflow": "ellipsis",
                                                      "white_space": "nowrap"}),
                rx.spacer(),
                rx.button(rx.icon("send", size=14), "送信", type="submit", size="2", disabled=disabled,
                          custom_attrs=tid(send_testid)),
                width="100%", align="center",
            ),
            spacing="1",
            width="100%",
        ),
        id=form_id,
        on_submit=on_submit,
        reset_on_submit=False,
        width="100%",
    )
