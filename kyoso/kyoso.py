"""The Reflex entry point: builds the app and registers the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from kyoso import routes
from kyoso.db import read_scope
from kyoso.ops import http as ops_http
from kyoso.ops import metrics, reflex_hooks
from kyoso.pages.account import forgot_page, reset_page, verify_page
from kyoso.files_route import mount_files
from kyoso.components.connection import connection_notice
from kyoso.pages.admin import admin_page
from kyoso.pages.admin_mail import admin_mail_page
from kyoso.pages.auth import login_page, signup_page
from kyoso.pages.briefings import briefing_page, briefings_page, presenter_page
from kyoso.pages.channel import channel_page
from kyoso.pages.directory import directory_page
from kyoso.pages.home import home_page
from kyoso.pages.inbox import inbox_page
from kyoso.pages.not_found import not_found_page
from kyoso.pages.poll_results import poll_results_page
from kyoso.pages.profile import profile_page
from kyoso.pages.surveys import survey_page
from kyoso.pages.questions import questions_page
from kyoso.pages.search import search_page
from kyoso.pages.settings import settings_page
from kyoso.realtime.setup import make_sio, register_realtime
from kyoso.services.mail import outbox
from kyoso.states.account import ForgotState, ResetState, VerifyState
from kyoso.states.admin import AdminState
from kyoso.states.admin_mail import AdminMailState
from kyoso.states.auth import LoginState, SignupState
from kyoso.states.briefings import BriefingListState, BriefingState
from kyoso.states.channel import ChannelState
from kyoso.states.directory import DirectoryState
from kyoso.states.home import HomeState
from kyoso.states.inbox import InboxState
from kyoso.states.not_found import NotFoundState
from kyoso.states.poll_results import PollResultsState
from kyoso.states.profile import ProfileState
from kyoso.states.surveys import SurveyState
from kyoso.states.questions import QuestionsState
from kyoso.states.search import SearchState
from kyoso.states.settings import SettingsState
from kyoso.styles import base_style
from kyoso.tasks import run_periodic_tasks
from kyoso.unsubscribe_route import mount_unsubscribe

TITLE = "共創 kyoso"

class KyosoApp(rx.App):
    """Reflex's app, its event socket reached before anything else
    (``ops/http.SocketFirst``: a connection holds no Starlette layer)."""

    def __call__(self) -> Any:
        return ops_http.socket_first(self)(super().__call__())


app = KyosoApp(
    html_lang="ja",
    stylesheets=["/kyoso.css"],
    style=base_style,
    head_components=[
        rx.el.meta(name="robots", content="noindex"),
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    ],
    sio=make_sio(),
    # /healthz, /readyz, /metrics (kyoso/ops/http.py), matched before Reflex's routes.
    api_transformer=ops_http.routes(),
    # No toast provider (kyoso shows no toasts; its landmark was labelled in English).
    toaster=None,
)
# Reflex's connection overlay speaks English: kyoso's says the same in Japanese.
app.app_wraps[(5, "Overlay")] = lambda stateful: connection_notice() if stateful else None
reflex_hooks.install(app)


def _outbox_depth() -> int:
    with read_scope() as session:
        return outbox.waiting(session)


metrics.track_queue_depth("mail_outbox", _outbox_depth)
register_realtime(app)
app.register_lifespan_task(run_periodic_tasks)
mount_unsubscribe(app)
mount_files(app)


def members_page(component: Callable[[], rx.Component], route: str, title: str,
                 on_load: Any) -> None:
    """A page for logged-in members. Its one on_load handler checks the login,
    loads the shell (me, the sidebar) and the page, in a single event."""
    app.add_page(component, route=route, title=f"{title} | {TITLE}" if title else TITLE,
                 on_load=on_load)


app.add_page(login_page, route=routes.LOGIN, title=f"ログイン | {TITLE}", on_load=LoginState.open_login)
app.add_page(signup_page, route=routes.SIGNUP, title=f"参加申込 | {TITLE}", on_load=SignupState.open_signup)
# Reached from mail, before login (issue 15).
app.add_page(verify_page, route=routes.VERIFY, title=f"メールアドレスの確認 | {TITLE}",
             on_load=VerifyState.open_verify)
app.add_page(forgot_page, route=routes.PASSWORD_FORGOT, title=f"パスワードの再設定 | {TITLE}",
             on_load=ForgotState.open_forgot)
app.add_page(reset_page, route=routes.PASSWORD_RESET, title=f"新しいパスワード | {TITLE}",
             on_load=ResetState.open_reset)
members_page(home_page, routes.HOME, "", HomeState.open_home)
members_page(directory_page, routes.CHANNELS, "チャンネル一覧", DirectoryState.open_directory)
members_page(channel_page, routes.CHANNEL, "チャンネル", ChannelState.open_channel)
members_page(inbox_page, routes.INBOX, "受信箱", InboxState.open_inbox)
members_page(profile_page, routes.PROFILE, "プロフィール", ProfileState.open_profile)
members_page(poll_results_page, routes.POLL, "アンケートの結果", PollResultsState.open_results)
members_page(survey_page, routes.SURVEY, "意見募集", SurveyState.open_survey)
members_page(briefings_page, routes.BRIEFINGS, "説明会", BriefingListState.open_list)
members_page(briefing_page, routes.BRIEFING, "説明会", BriefingState.open_room)
members_page(presenter_page, routes.BRIEFING_PRESENT, "発表者ビュー", BriefingState.open_room)
members_page(admin_page, routes.ADMIN, "運営", AdminState.open_admin)
members_page(search_page, routes.SEARCH, "検索", SearchState.open_search)
members_page(questions_page, routes.QUESTIONS, "未回答の質問", QuestionsState.open_questions)
members_page(settings_page, routes.SETTINGS, "通知の設定", SettingsState.open_settings)
members_page(admin_mail_page, routes.ADMIN_MAIL, "送信メール", AdminMailState.open_mail)
# An address kyoso does not have: Japanese, with the shell and ways back.
members_page(not_found_page, "404", "ページが見つかりません", NotFoundState.open_not_found)
