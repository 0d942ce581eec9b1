"""/u/[user_id]: a member's profile; one's own can be edited."""

from __future__ import annotations

import reflex as rx

from kyoso.components.layout import shell
from kyoso.components.ui import card, empty_state, field, form_error, notice, tid
from kyoso.states.profile import ProfileState
from kyoso.styles import MUTED


def _view() -> rx.Component:
    p = ProfileState.profile
    return card(
        rx.vstack(
            rx.hstack(
                rx.heading(p.name, size="5", as_="h1"),
                rx.badge(p.role_label, variant="soft", high_contrast=True),
                align="center", spacing="3", wrap="wrap",
            ),
            rx.text(p.org_name, " ", p.department, size="2"),
            rx.text("参加: ", p.joined, size="1", color=MUTED),
            rx.divider(),
            rx.text("自己紹介", weight="bold", size="2"),
            rx.cond(p.bio != "", rx.text(p.bio, size="2", white_space="pre-wrap"),
                    rx.text("まだ書かれていません。", size="2", color=MUTED)),
            rx.text("関心のあるテーマ", weight="bold", size="2"),
            rx.cond(p.interests != "", rx.text(p.interests, size="2"),
                    rx.text("まだ書かれていません。", size="2", color=MUTED)),
            rx.cond(p.is_self, rx.button("プロフィールを編集", variant="soft",
                                         on_click=ProfileState.start_edit, margin_top="0.5em")),
            spacing="2",
            width="100%",
        ),
        custom_attrs=tid("profile"),
    )


def _edit() -> rx.Component:
    p = ProfileState.profile
    return card(
        rx.form(
            rx.vstack(
                rx.heading("プロフィールの編集", size="4", as_="h1"),
                form_error(ProfileState.error),
                field("氏名", rx.input(name="name", id="profile-name", default_value=p.name,
                                     width="100%"), html_for="profile-name"),
                field("部課名", rx.input(name="department", id="profile-department",
                                      default_value=p.department, width="100%"),
                      html_for="profile-department"),
                field("自己紹介", rx.text_area(name="bio", id="profile-bio", default_value=p.bio, rows="5",
                                          width="100%"), html_for="profile-bio"),
                field("関心のあるテーマ", rx.input(name="interests", id="profile-interests",
                                            default_value=p.interests,
                                            placeholder="例: 自治体システム標準化、窓口DX", width="100%"),
                      html_for="profile-interests"),
                rx.hstack(
                    rx.button("保存", type="submit"),
                    rx.button("キャンセル", type="button", variant="soft", color_scheme="gray",
                              on_click=ProfileState.cancel_edit),
                ),
                spacing="3", width="100%",
            ),
            on_submit=ProfileState.save,
            reset_on_submit=False,
        ),
    )


def _password() -> rx.Component:
    return card(
        rx.form(
            rx.vstack(
                rx.heading("パスワードの変更", size="3", as_="h2"),
                field("現在のパスワード", rx.input(name="current_password", type="password",
                                           id="current-password", auto_complete="current-password",
                                           width="100%"), html_for="current-password"),
                field("新しいパスワード（10文字以上）", rx.input(name="new_password", type="password",
                                                  id="new-password", auto_complete="new-password",
                                                  width="100%"), html_for="new-password"),
                rx.text("変更すると、ほかの端末でのログインはすべて終了します。", size="1", color=MUTED),
                rx.button("変更する", type="submit", variant="soft"),
                spacing="2", width="100%",
            ),
            on_submit=ProfileState.change_password,
            reset_on_submit=True,
        ),
    )


def profile_page() -> rx.Component:
    return shell(
        rx.vstack(
            notice(ProfileState.notice),
            rx.cond(
                ProfileState.not_found,
                empty_state("メンバーが見つかりません", "URLをご確認ください。", "user_x"),
                rx.cond(
                    ProfileState.profile,
                    rx.fragment(
                        rx.cond(ProfileState.editing, _edit(), _view()),
                        rx.cond(ProfileState.profile.is_self & ~ProfileState.editing,
                                rx.vstack(form_error(ProfileState.error), _password(), width="100%")),
                    ),
                    rx.spinner(),
                ),
            ),
            spacing="3",
            max_width="720px",
            width="100%",
        ),
    )
