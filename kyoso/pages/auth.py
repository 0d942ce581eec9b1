"""/login and /signup."""

from __future__ import annotations

import reflex as rx

from kyoso import routes
from kyoso.components.layout import public_page
from kyoso.components.ui import SEARCH_MAX, card, field, form_error, notice, tid
from kyoso.states.auth import LoginState, SignupState
from kyoso.styles import MUTED


def login_page() -> rx.Component:
    return public_page(
        card(
            rx.form(
                rx.vstack(
                    rx.heading("ログイン", size="5", as_="h1"),
                    notice(LoginState.notice),
                    form_error(LoginState.error),
                    field("メールアドレス", rx.input(
                        name="email", id="login-email", type="email", auto_complete="username",
                        placeholder="taro@city.example.lg.jp", width="100%", required=True,
                        custom_attrs=tid("login-email"),
                    ), html_for="login-email"),
                    field("パスワード", rx.input(
                        name="password", id="login-password", type="password",
                        auto_complete="current-password", width="100%", required=True,
                        custom_attrs=tid("login-password"),
                    ), html_for="login-password"),
                    rx.button("ログイン", type="submit", width="100%", size="3",
                              custom_attrs=tid("login-submit")),
                    rx.link("パスワードをお忘れの方", href=routes.PASSWORD_FORGOT, underline="always", size="2",
                            custom_attrs=tid("login-forgot")),
                    rx.text(
                        "はじめての方は ",
                        rx.link("参加を申し込む", href=routes.SIGNUP, underline="always"),
                        size="2",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=LoginState.submit,
                reset_on_submit=False,
            ),
        ),
        rx.text(
            "共創プラットフォームは、自治体職員と国の職員が個人として参加し、"
            "政策やシステムについて直接意見を交わす場です。",
            size="2", color=MUTED,
        ),
    )


def _org_picker() -> rx.Component:
    return rx.vstack(
        rx.input(
            name="org", id="signup-org", value=SignupState.org_query, max_length=SEARCH_MAX,
            on_change=SignupState.search_org.debounce(250),
            placeholder="団体名・よみがな・団体コードで検索（例: 千代田区 / ちよだ / 131016）",
            auto_complete="off", width="100%", custom_attrs=tid("signup-org"),
            aria_describedby="signup-org-hint",
        ),
        rx.cond(
            SignupState.org_code != "",
            rx.text("選択中: ", SignupState.org_label, "（", SignupState.org_code, "）",
                    size="1", color="var(--green-11)", id="signup-org-hint"),
            rx.text("一覧から選ぶか、6桁の団体コードを入力してください。",
                    size="1", color=MUTED, id="signup-org-hint"),
        ),
        rx.cond(
            SignupState.org_options.length() > 0,
            rx.box(
                rx.foreach(
                    SignupState.org_options,
                    lambda o: rx.el.button(
                        rx.hstack(
                            rx.text(o.label, size="2"),
                            rx.text(o.kana, size="1", color=MUTED),
                            rx.spacer(),
                            rx.text(o.code, size="1", color=MUTED,
                                    style={"font_variant_numeric": "tabular-nums"}),
                            align="baseline", width="100%", spacing="2",
                        ),
                        type="button",
                        on_click=SignupState.choose_org(o.code),
                        custom_attrs=tid("signup-org-option", **{"data-code": o.code}),
                        style={"display": "block", "width": "100%", "text_align": "left",
                               "padding": "0.35em 0.6em", "border": "none",
                               "background": "transparent", "cursor": "pointer",
                               "_hover": {"background": "var(--accent-a3)"}},
                    ),
                ),
                role="listbox",
                aria_label="団体の候補",
                border="1px solid var(--gray-a6)",
                border_radius="6px",
                max_height="240px",
                overflow_y="auto",
                width="100%",
            ),
        ),
        spacing="1",
        width="100%",
    )


def _rules() -> rx.Component:
    return rx.box(
        rx.heading("参加ルール", size="3", as_="h2", margin_bottom="0.4em"),
        rx.el.ol(
            rx.foreach(SignupState.rules, lambda r: rx.el.li(r, style={"margin_bottom": "0.3em"})),
            style={"padding_left": "1.6em", "margin": "0", "font_size": "0.9em", "list_style": "decimal outside"},
        ),
        padding="0.75em 1em",
        background="var(--gray-a2)",
        border_radius="6px",
        border="1px solid var(--gray-a5)",
        id="signup-rules-text",
    )


def _signup_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("参加申込", size="5", as_="h1"),
            rx.text(
                "自治体職員（lg.jp）または国の職員（go.jp）のメールアドレスで申し込めます。"
                "運営が確認し、承認されるとログインできるようになります。",
                size="2", color=MUTED,
            ),
            form_error(SignupState.error),
            field("メールアドレス", rx.input(
                name="email", id="signup-email", type="email", auto_complete="email", max_length=254,
                placeholder="taro@city.example.lg.jp", width="100%",
                on_change=SignupState.email_changed.debounce(400),
                custom_attrs=tid("signup-email"),
            ), html_for="signup-email"),
            field("氏名", rx.input(
                name="name", id="signup-name", auto_complete="name", placeholder="共創 太郎",
                width="100%", custom_attrs=tid("signup-name"),
            ), html_for="signup-name"),
            field("所属団体", _org_picker(), html_for="signup-org"),
            field("部課名", rx.input(
                name="department", id="signup-department", placeholder="デジタル推進課",
                width="100%", custom_attrs=tid("signup-department"),
            ), html_for="signup-department"),
            field("パスワード", rx.input(
                name="password", id="signup-password", type="password",
                auto_complete="new-password", width="100%", custom_attrs=tid("signup-password"),
            ), hint="10文字以上", html_for="signup-password"),
            _rules(),
            rx.el.label(
                rx.el.input(type="checkbox", name="rules", id="signup-rules",
                            custom_attrs=tid("signup-rules"),
                            style={"width": "18px", "height": "18px", "margin": "0"}),
                rx.text("参加ルールを読み、同意します", size="2"),
                html_for="signup-rules",
                style={"display": "flex", "gap": "0.5em", "align_items": "center",
                       "cursor": "pointer"},
            ),
            rx.button("申し込む", type="submit", size="3", width="100%",
                      custom_attrs=tid("signup-submit")),
            rx.text("すでにアカウントをお持ちの方は ", rx.link("ログイン", href=routes.LOGIN, underline="always"), size="2"),
            spacing="3",
            width="100%",
        ),
        on_submit=SignupState.submit,
        reset_on_submit=False,
    )


def signup_page() -> rx.Component:
    return public_page(
        card(
            rx.cond(
                SignupState.done,
                rx.vstack(
                    rx.heading("申し込みを受け付けました", size="5", as_="h1"),
                    rx.text(
                        SignupState.done_email,
                        " に確認のメールを送りました。メールを開き、24時間以内に本文のリンクを開いてください。"
                        "アドレスを確認できると申し込みが運営の審査に進み、承認されるとログインできます"
                        "（通常、数営業日かかります）。",
                        size="2",
                    ),
                    rx.text(
                        "メールが届かないときは、迷惑メールのフォルダもご確認ください。"
                        "（SMTP サーバーを設定していない体験環境では、メールは送られず、運営の「送信メール」"
                        "（/admin/mail）に表示されます。）",
                        size="1", color=MUTED,
                    ),
                    rx.link("確認メールを送り直す", href=routes.VERIFY, underline="always", size="2"),
                    rx.link("ログイン画面へ", href=routes.LOGIN, underline="always"),
                    spacing="3",
                    custom_attrs=tid("signup-done"),
                ),
                _signup_form(),
            ),
        ),
    )
