"""/verify, /password/forgot and /password/reset: the pages a mail links to."""

from __future__ import annotations

import reflex as rx

from kyoso import routes
from kyoso.components.layout import public_page
from kyoso.components.ui import card, field, form_error, notice, tid
from kyoso.states.account import ForgotState, ResetState, VerifyState
from kyoso.styles import MUTED


def _to_login() -> rx.Component:
    return rx.link("ログイン画面へ", href=routes.LOGIN, underline="always", size="2")


def _resend_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("確認メールをもう一度送るには、申し込んだメールアドレスを入力してください。",
                    size="2", color=MUTED),
            field("メールアドレス", rx.input(
                name="email", id="verify-email", type="email", auto_complete="email", width="100%",
                required=True, custom_attrs=tid("verify-email"),
            ), html_for="verify-email"),
            rx.button("確認メールを送り直す", type="submit", custom_attrs=tid("verify-resend")),
            spacing="2", width="100%",
        ),
        on_submit=VerifyState.resend,
        reset_on_submit=False,
        width="100%",
    )


def verify_page() -> rx.Component:
    return public_page(
        card(
            rx.vstack(
                rx.heading("メールアドレスの確認", size="5", as_="h1"),
                rx.cond(
                    VerifyState.loading,
                    rx.text("確認しています…", size="2", color=MUTED),
                    rx.cond(
                        VerifyState.confirmed_name != "",
                        rx.vstack(
                            rx.callout(
                                VerifyState.confirmed_name + "さん、メールアドレスを確認しました。"
                                "申し込みは運営の審査に進みました。承認されるとログインできます"
                                "（通常、数営業日かかります）。",
                                icon="check", color_scheme="green", size="1", role="status", width="100%",
                                custom_attrs=tid("verify-done"),
                            ),
                            _to_login(),
                            spacing="3", width="100%",
                        ),
                        rx.vstack(
                            form_error(VerifyState.error),
                            notice(VerifyState.resent),
                            _resend_form(),
                            _to_login(),
                            spacing="3", width="100%",
                        ),
                    ),
                ),
                spacing="3", width="100%",
            ),
        ),
    )


def forgot_page() -> rx.Component:
    return public_page(
        card(
            rx.vstack(
                rx.heading("パスワードの再設定", size="5", as_="h1"),
                rx.cond(
                    ForgotState.sent != "",
                    rx.vstack(
                        rx.callout(ForgotState.sent, icon="mail", color_scheme="green", size="1",
                                   role="status", width="100%", custom_attrs=tid("forgot-done")),
                        _to_login(),
                        spacing="3", width="100%",
                    ),
                    rx.form(
                        rx.vstack(
                            rx.text("登録したメールアドレスを入力してください。パスワードを設定し直すためのリンクを"
                                    "メールでお送りします（30分有効）。", size="2", color=MUTED),
                            form_error(ForgotState.error),
                            field("メールアドレス", rx.input(
                                name="email", id="forgot-email", type="email", auto_complete="username",
                                placeholder="taro@city.example.lg.jp", width="100%", required=True,
                                custom_attrs=tid("forgot-email"),
                            ), html_for="forgot-email"),
                            rx.button("再設定のリンクを送る", type="submit", width="100%", size="3",
                                      custom_attrs=tid("forgot-submit")),
                            _to_login(),
                            spacing="3", width="100%",
                        ),
                        on_submit=ForgotState.submit,
                        reset_on_submit=False,
                        width="100%",
                    ),
                ),
                spacing="3", width="100%",
            ),
        ),
    )


def reset_page() -> rx.Component:
    return public_page(
        card(
            rx.vstack(
                rx.heading("新しいパスワードの設定", size="5", as_="h1"),
                form_error(ResetState.error),
                rx.cond(
                    ResetState.valid,
                    rx.form(
                        rx.vstack(
                            rx.text(ResetState.name, "さんの新しいパスワードを入力してください（このリンクは ",
                                    ResetState.expires, " まで有効です）。設定すると、すべての端末でログアウトします。",
                                    size="2", color=MUTED),
                            field("新しいパスワード", rx.input(
                                name="password", id="reset-password", type="password",
                                auto_complete="new-password", width="100%", required=True,
                                custom_attrs=tid("reset-password"),
                            ), hint="10文字以上", html_for="reset-password"),
                            rx.button("パスワードを設定する", type="submit", width="100%", size="3",
                                      custom_attrs=tid("reset-submit")),
                            spacing="3", width="100%",
                        ),
                        on_submit=ResetState.submit,
                        reset_on_submit=False,
                        width="100%",
                    ),
                    rx.link("パスワードの再設定をもう一度申し込む", href=routes.PASSWORD_FORGOT,
                            underline="always", size="2"),
                ),
                _to_login(),
                spacing="3", width="100%",
            ),
        ),
    )
