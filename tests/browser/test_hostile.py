"""The hostile client: an ordinary member fires every event handler of the app
directly over the websocket, with forged arguments, and must be refused with
nothing changed in the database; nothing it is sent may carry what it must not
see. A new event handler without a case here fails `test_every_handler_has_a_case`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import socketio
import sqlalchemy as sa
from sqlmodel import col, select

from kyoso.db import utcnow
from kyoso.files_route import COOKIE as FILES_COOKIE
from kyoso.models import (
    AnnouncementChannel,
    Attachment,
    Channel,
    FileBlob,
    MailToken,
    Message,
    Notification,
    Outbox,
    Role,
    SurveyQuestion,
    User,
    UserStatus,
)
from kyoso.services import accounts, announcements, briefing_room, briefings, channels, messages, polls, surveys
from kyoso.services.mail import links, prefs
from kyoso.services.security import hash_password, hash_token
from kyoso.services.timefmt import JST
from tests.browser.conftest import App
from tests.utils.files import make_image, make_pdf
from tests.utils.mail import confirm_signup
from tests.utils.reflex_client import ReflexClient, state_name

pytestmark = pytest.mark.browser

# Tables whose rows legitimately change as a side effect of any request
# (rate-limit counters, login sessions of the test itself).
VOLATILE = {"ratehit", "authsession", "alembic_version"}


def fingerprint(app: App) -> dict[str, str]:
    path = sa.engine.make_url(app.db_url).database
    con = sqlite3.connect(path)
    try:
        # Virtual tables (the FTS5 index) cannot be scanned; their shadow tables can.
        tables = [r[0] for r in con.execute(
            "select name from sqlite_master where type='table' and sql not like 'CREATE VIRTUAL%'")]
        out = {}
        for t in tables:
            if t in VOLATILE or t.startswith("sqlite_"):
                continue
            rows = con.execute(f'select * from "{t}"').fetchall()
            out[t] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
        return out
    finally:
        con.close()


@dataclass
class World:
    """What the hostile member aims at."""

    app: App
    mallory: User
    alice: User
    alice_token: str
    pending: User
    alice_message: int
    alice_thread_in_oshirase: int
    announcement_channel: str
    archived_channel: str
    archived_channel_id: int
    closed_poll: int
    hidden_poll: int
    hidden_voter: str
    briefing: int
    alice_question: int
    alice_notification: int
    survey: int
    hidden_message_text: str
    sent: list[str] = field(default_factory=list)  # every update any hostile client received


def _setup(app: App) -> World:
    with app.session() as s:
        def user(email: str, name: str, org: str, role: str = Role.member) -> User:
            return accounts.create_user(s, email=email, password="hostile-password-1", name=name,
                                        org_code=org, role=role)

        mallory = user("mallory@city.chiyoda.lg.jp", "悪意 真理", "131016")
        alice = user("alice.secret@city.sapporo.lg.jp", "被害 有栖", "011002")
        voter = user("hidden.voter@city.osaka.lg.jp", "匿名投票者ひみつ", "271004")
        national = s.exec(select(User).where(User.email == "sato.kenji@digital.go.jp")).one()
        pending = accounts.do_signup(s, accounts.SignupInput(
            "pending.applicant@city.naha.lg.jp", "審査待ち申請者", "472018", "課",
            "pending-password-1", True))
        confirm_signup(s, pending.email)  # in the review queue
        zatsudan = s.exec(select(Channel).where(Channel.slug == "zatsudan")).one()
        oshirase = s.exec(select(Channel).where(Channel.slug == "oshirase")).one()
        archived = channels.create_channel_unchecked(s, slug="hostile-archived", name="アーカイブ済み")
        archived.archived_at = utcnow()
        msg = messages.post_message(s, alice, zatsudan.id or 0, "有栖のメッセージ")
        notice = s.exec(select(Message).where(Message.channel_id == oshirase.id,
                                              Message.parent_id.is_(None))).first()  # type: ignore[union-attr]
        closed = polls.create_poll(s, alice, zatsudan.id or 0, polls.PollInput("締め切り済み", ["A", "B"]))
        closed.closed_at = utcnow()
        hidden = polls.create_poll(s, alice, zatsudan.id or 0, polls.PollInput(
            "結果非公開の無記名アンケート", ["はい", "いいえ"], anonymous=True, visibility="after_close"))
        s.flush()
        polls.vote(s, voter, hidden.id or 0, [1])
        start = (utcnow() + timedelta(days=4)).astimezone(JST)
        briefing = briefings.create_briefing(s, national, briefings.BriefingInput(
            "敵対テスト用説明会", "", start, start + timedelta(hours=1), channel_id=zatsudan.id))
        question = briefing_room.ask(s, alice, briefing.id or 0, "有栖の質問")
        note = Notification(user_id=alice.id, kind="mention", text="有栖への通知", link="/")  # type: ignore[arg-type]
        s.add(note)
        survey = surveys.create_survey(s, alice, zatsudan.id or 0, surveys.SurveyInput(
            "有栖の意見募集", "", [surveys.QuestionInput("text", "ご意見は？")],
            deadline=utcnow() + timedelta(days=3)))
        s.flush()
        q_id = surveys.view(s, alice, survey.id or 0).questions[0].id
        surveys.respond(s, voter, survey.id or 0, {q_id: "締め切り前の秘密の意見"})
        moderator = s.exec(select(User).where(User.email == "moderator@digital.go.jp")).one()
        hidden_msg = messages.post_message(s, alice, zatsudan.id or 0, "非表示になった秘密投稿です")
        messages.hide_message(s, moderator, hidden_msg.id or 0)
        s.flush()
        world = World(
            app=app, mallory=mallory, alice=alice, alice_token=accounts.create_session(s, alice),
            pending=pending, alice_message=msg.id or 0,
            alice_thread_in_oshirase=notice.id if notice else 0,  # type: ignore[arg-type]
            announcement_channel="oshirase", archived_channel="hostile-archived",
            archived_channel_id=archived.id or 0, closed_poll=closed.id or 0, hidden_poll=hidden.id or 0,
            hidden_voter="匿名投票者ひみつ", briefing=briefing.id or 0, alice_question=question.id or 0,
            alice_notification=note.id or 0, survey=survey.id or 0,
            hidden_message_text="非表示になった秘密投稿",
        )
        # Replies are closed in #oshirase for this test.
        oshirase.allow_replies = False
        s.add(oshirase)
        # The server's clock mails a notification still unread after
        # KYOSO_NOTIFY_DELAY_SECONDS (tasks.py): mark every one made so far as
        # looked at, so that no mail is queued in the middle of a case.
        s.flush()
        cursor = prefs.state_row(s, "notify")
        cursor.number = s.exec(select(sa.func.max(Notification.id))).one() or 0  # type: ignore[call-overload]
        s.add(cursor)
        return world


@pytest.fixture(scope="module")
def world(app: App) -> World:
    return _setup(app)


def handler(cls: type, name: str) -> str:
    return f"{state_name(cls)}.{name}"


async def mallory(world: World, path: str = "/", token: str | None = None) -> ReflexClient:
    if token is None:
        with world.app.session() as s:
            token = accounts.create_session(s, s.get(User, world.mallory.id))  # type: ignore[arg-type]
    client = ReflexClient(world.app.url, session_token=token)
    await client.connect(path)
    return client


async def refused(world: World, cls: type, name: str, payload: dict[str, Any], *, path: str = "/",
                  before: list[tuple[str, dict[str, Any]]] = ()) -> ReflexClient:  # type: ignore[assignment]
    """Fire the handler as Mallory; the database must not change."""
    snapshot = fingerprint(world.app)
    client = await mallory(world, path)
    for prior, prior_payload in before:
        await client.fire(prior, prior_payload)
    await client.fire(handler(cls, name), payload)
    after = fingerprint(world.app)
    changed = [t for t in snapshot if snapshot[t] != after.get(t)]
    world.sent.append(client.text())
    await client.close()
    assert changed == [], f"{cls.__name__}.{name} changed {changed}"
    return client


# --------------------------------------------------------------------------
# The cases: one per event handler (several attempts where it matters)
# --------------------------------------------------------------------------

Case = Callable[[World], Awaitable[None]]
CASES: dict[str, Case] = {}


def case(*names: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        for n in names:
            CASES[n] = fn
        return fn
    return register


def _states() -> dict[str, type]:
    from kyoso.components.layout import ShellState
    from kyoso.states.account import ForgotState, ResetState, VerifyState
    from kyoso.states.admin import AdminState
    from kyoso.states.admin_mail import AdminMailState
    from kyoso.states.attachments import AttachmentState
    from kyoso.states.auth import LoginState, SignupState
    from kyoso.states.briefings import BriefingListState, BriefingState
    from kyoso.states.channel import ChannelState
    from kyoso.states.directory import DirectoryState
    from kyoso.states.home import HomeState
    from kyoso.states.inbox import InboxState
    from kyoso.states.not_found import NotFoundState
    from kyoso.states.poll_results import PollResultsState
    from kyoso.states.polls import PollState
    from kyoso.states.profile import ProfileState
    from kyoso.states.questions import QuestionsState
    from kyoso.states.search import SearchState
    from kyoso.states.session import SessionState
    from kyoso.states.settings import SettingsState
    from kyoso.states.sidebar import SidebarState
    from kyoso.states.surveys import SurveyFormState, SurveyState

    return {c.__name__: c for c in (ShellState, AdminState, LoginState, SignupState, BriefingListState,
                                    BriefingState, ChannelState, DirectoryState, HomeState, InboxState,
                                    PollResultsState, PollState, ProfileState, SessionState, SidebarState,
                                    QuestionsState, SearchState, SurveyFormState, SurveyState,
                                    VerifyState, ForgotState, ResetState, SettingsState, AdminMailState,
                                    AttachmentState, NotFoundState)}


S = _states()


@case(*[f"{n}.setvar" for n in S])
async def _setvar(w: World) -> None:
    # The generic setter reaches only explicit set_* handlers (auto setters are off).
    attempts = (("me", {"id": w.alice.id, "is_staff": True}), ("token", w.alice_token),
                ("channel", {"id": 1}), ("closed", True), ("archived", True), ("suspended", True))
    for cls in S.values():
        setvar = handler(cls, "setvar")
        first, *rest = attempts
        await refused(w, cls, "setvar", {"var_name": first[0], "value": first[1]}, path="/admin",
                      before=[(setvar, {"var_name": v, "value": x}) for v, x in rest])
        client = await mallory(w, "/admin")
        assert client.var(S["SessionState"], "me")["is_staff"] is False  # type: ignore[index]
        await client.close()


@case("SidebarState.load_sidebar", "ShellState.toggle_nav", "ShellState.close_nav")
async def _harmless_loads(w: World) -> None:
    await refused(w, S["SidebarState"], "load_sidebar", {})
    await refused(w, S["ShellState"], "toggle_nav", {})
    await refused(w, S["ShellState"], "close_nav", {})


@case("SessionState.logout", "SessionState.logout_everywhere")
async def _logout(w: World) -> None:
    """Logging out (everywhere) ends only Mallory's sessions, never Alice's."""
    for name in ("logout", "logout_everywhere"):
        client = await mallory(w)
        await client.fire(handler(S["SessionState"], name), {"user_id": w.alice.id})
        await client.close()
        with w.app.session() as s:
            assert accounts.user_for_token(s, w.alice_token) is not None


@case("SessionState.forged_tokens")
async def _forged_tokens(w: World) -> None:
    """Random, ended and pending-account tokens get nothing and change nothing."""
    with w.app.session() as s:
        ended = accounts.create_session(s, s.get(User, w.mallory.id))  # type: ignore[arg-type]
        accounts.end_session(s, ended)
        pending_token = accounts.create_session(s, s.get(User, w.pending.id))  # type: ignore[arg-type]
    from kyoso.states.channel import ChannelState

    for token in ("x" * 43, ended, pending_token, ""):
        client = await mallory(w, "/c/zatsudan", token=token)
        snapshot = fingerprint(w.app)
        await client.fire(handler(ChannelState, "post"), {"form": {"body": "偽のトークンで投稿"}})
        assert fingerprint(w.app) == snapshot
        assert client.var(ChannelState, "messages") in (None, [])
        w.sent.append(client.text())
        await client.close()


@case("LoginState.open_login", "LoginState.submit")
async def _login(w: World) -> None:
    await refused(w, S["LoginState"], "open_login", {}, path="/login")
    await refused(w, S["LoginState"], "submit", {"form": {"email": w.alice.email, "password": "guess"}},
                  path="/login")
    await refused(w, S["LoginState"], "submit", {"form": {"email": w.pending.email,
                                                          "password": "pending-password-1"}}, path="/login")


@case("SignupState.open_signup", "SignupState.email_changed", "SignupState.search_org",
      "SignupState.choose_org", "SignupState.submit")
async def _signup(w: World) -> None:
    sig = S["SignupState"]
    await refused(w, sig, "open_signup", {}, path="/signup")
    await refused(w, sig, "email_changed", {"value": "x" * 10000}, path="/signup")
    await refused(w, sig, "search_org", {"value": "千代田" * 100}, path="/signup")
    await refused(w, sig, "choose_org", {"code": "999999"}, path="/signup")
    form = {"email": w.alice.email, "name": "なりすまし", "org": "011002", "department": "課",
            "password": "another-password", "rules": "on"}
    await refused(w, sig, "submit", {"form": form}, path="/signup")  # duplicate address
    await refused(w, sig, "submit", {"form": {**form, "email": "x@evil.example.com"}}, path="/signup")
    await refused(w, sig, "submit", {"form": {**form, "email": "y@city.x.lg.jp", "org": "G00001"}},
                  path="/signup")


@case(*[f"AdminState.{n}" for n in ("open_admin", "approve", "start_reject", "cancel_reject",
                                    "set_reject_reason", "reject", "set_tab", "close_reports",
                                    "search_members", "set_suspended", "add_stamp", "remove_stamp",
                                    "set_role", "send_reset_link")])
async def _admin(w: World) -> None:
    adm = S["AdminState"]
    await refused(w, adm, "open_admin", {}, path="/admin")
    await refused(w, adm, "approve", {"applicant_id": w.pending.id}, path="/admin")
    await refused(w, adm, "reject", {}, path="/admin",
                  before=[(handler(adm, "start_reject"), {"applicant_id": w.pending.id}),
                          (handler(adm, "set_reject_reason"), {"value": "却下"})])
    await refused(w, adm, "cancel_reject", {}, path="/admin")
    await refused(w, adm, "set_tab", {"tab": "audit"}, path="/admin")
    await refused(w, adm, "close_reports", {"message_id": w.alice_message, "hide": True}, path="/admin")
    await refused(w, adm, "search_members", {"value": ""}, path="/admin")
    await refused(w, adm, "set_suspended", {"user_id": w.alice.id, "suspended": True}, path="/admin")
    await refused(w, adm, "add_stamp", {"form": {"label": "勝手なスタンプ"}}, path="/admin")
    await refused(w, adm, "remove_stamp", {"label": "了解"}, path="/admin")
    await refused(w, adm, "set_role", {"user_id": w.alice.id, "role": "admin"}, path="/admin")
    await refused(w, adm, "send_reset_link", {"user_id": w.alice.id}, path="/admin")  # no mail, no token


@case("NotFoundState.open_not_found")
async def _not_found(w: World) -> None:
    await refused(w, S["NotFoundState"], "open_not_found", {}, path="/no-such-page")


@case(*[f"ProfileState.{n}" for n in ("open_profile", "start_edit", "cancel_edit", "save",
                                      "change_password")])
async def _profile(w: World) -> None:
    pro = S["ProfileState"]
    await refused(w, pro, "open_profile", {}, path=f"/u/{w.pending.id}")
    await refused(w, pro, "open_profile", {}, path=f"/u/{w.alice.id}")
    await refused(w, pro, "start_edit", {}, path=f"/u/{w.alice.id}")
    await refused(w, pro, "cancel_edit", {}, path=f"/u/{w.alice.id}")
    await refused(w, pro, "save", {"form": {"name": "x" * 500, "department": "d", "bio": "", "interests": ""}})
    await refused(w, pro, "change_password", {"form": {"current_password": "guess",
                                                        "new_password": "new-password-123"}})


@case(*[f"ChannelState.{n}" for n in (
    "open_channel", "load_older", "open_thread", "close_thread", "post", "reply", "start_edit",
    "cancel_edit", "save_edit", "delete", "hide", "toggle_stamp", "join", "leave", "mark_read",
    "draft_changed", "choose_mention", "start_report", "cancel_report", "submit_report")])
async def _channel(w: World) -> None:
    ch = S["ChannelState"]
    z = "/c/zatsudan"
    await refused(w, ch, "open_channel", {}, path="/c/no-such-channel")
    await refused(w, ch, "load_older", {}, path=z)
    await refused(w, ch, "open_thread", {"parent_id": 99999999}, path=z)
    await refused(w, ch, "close_thread", {}, path=z)
    await refused(w, ch, "post", {"form": {"body": "お知らせを勝手に"}}, path=f"/c/{w.announcement_channel}")
    await refused(w, ch, "post", {"form": {"body": "アーカイブに投稿"}}, path=f"/c/{w.archived_channel}")
    await refused(w, ch, "post", {"form": {"body": "あ" * 5000}}, path=z)
    await refused(w, ch, "reply", {"form": {"body": "返信不可のスレッドへ"}}, path=f"/c/{w.announcement_channel}",
                  before=[(handler(ch, "open_thread"), {"parent_id": w.alice_thread_in_oshirase})])
    await refused(w, ch, "start_edit", {"message_id": w.alice_message}, path=z)
    await refused(w, ch, "cancel_edit", {}, path=z)
    await refused(w, ch, "save_edit", {"form": {"body": "書き換え"}}, path=z,
                  before=[(handler(ch, "start_edit"), {"message_id": w.alice_message})])
    await refused(w, ch, "delete", {"message_id": w.alice_message}, path=z)
    await refused(w, ch, "hide", {"message_id": w.alice_message}, path=z)
    await refused(w, ch, "toggle_stamp", {"message_id": w.alice_message, "stamp": "<script>"}, path=z)
    await refused(w, ch, "toggle_stamp", {"message_id": 99999999, "stamp": "了解"}, path=z)
    await refused(w, ch, "join", {}, path=f"/c/{w.archived_channel}")
    await refused(w, ch, "leave", {}, path=z)
    await refused(w, ch, "mark_read", {}, path=z)
    await refused(w, ch, "draft_changed", {"target": "composer", "text": "@被害"}, path=z)
    await refused(w, ch, "choose_mention", {"user_id": str(w.alice.id)}, path=z)
    await refused(w, ch, "start_report", {"message_id": w.alice_message}, path=z)
    await refused(w, ch, "cancel_report", {}, path=z)
    await refused(w, ch, "submit_report", {"form": {"category": "その他", "detail": "x" * 3000}}, path=z,
                  before=[(handler(ch, "start_report"), {"message_id": w.alice_message})])


@case("ChannelState.toggle_channel_edit", "ChannelState.save_channel")
async def _channel_settings(w: World) -> None:
    ch = S["ChannelState"]
    await refused(w, ch, "toggle_channel_edit", {}, path="/c/zatsudan")
    await refused(w, ch, "save_channel", {"form": {"name": "乗っ取り", "description": ""}}, path="/c/zatsudan")


@case("ChannelState.set_ask_question", "ChannelState.mark_question", "ChannelState.choose_answer",
      "ChannelState.clear_answer")
async def _questions_in_channel(w: World) -> None:
    ch = S["ChannelState"]
    z = "/c/zatsudan"
    await refused(w, ch, "set_ask_question", {"value": True}, path=z)
    await refused(w, ch, "mark_question", {"message_id": w.alice_message, "question": True}, path=z)
    await refused(w, ch, "choose_answer", {"reply_id": w.alice_message}, path=z)
    await refused(w, ch, "clear_answer", {}, path=z,
                  before=[(handler(ch, "open_thread"), {"parent_id": w.alice_message})])


@case("SearchState.open_search", "SearchState.submit", "SearchState.go", "SearchState.load_more")
async def _search(w: World) -> None:
    s = S["SearchState"]
    await refused(w, s, "open_search", {}, path="/search?q=秘密")
    await refused(w, s, "open_search", {}, path="/search?q=%22%27%29%3B--&channel=..%2F..&org=%25")
    await refused(w, s, "submit", {"form": {"q": "秘密" * 200, "channel": "<x>", "from": "bad"}},
                  path="/search")
    await refused(w, s, "go", {"form": {"q": "秘密"}}, path="/search")
    await refused(w, s, "load_more", {}, path="/search?q=秘密")


@case("QuestionsState.open_questions", "QuestionsState.choose_channel", "QuestionsState.load_more")
async def _question_lists(w: World) -> None:
    q = S["QuestionsState"]
    await refused(w, q, "open_questions", {}, path="/questions?channel=no-such")
    await refused(w, q, "choose_channel", {"slug": "javascript:alert(1)"}, path="/questions")
    await refused(w, q, "load_more", {}, path="/questions")


@case("SurveyFormState.open_form", "SurveyFormState.close_form", "SurveyFormState.add_question",
      "SurveyFormState.create")
async def _survey_form(w: World) -> None:
    f = S["SurveyFormState"]
    for name in ("open_form", "close_form", "add_question"):
        await refused(w, f, name, {}, path="/c/zatsudan")
    await refused(w, f, "create", {"form": {"title": "勝手な意見募集", "q0_kind": "text", "q0_prompt": "?"}},
                  path=f"/c/{w.announcement_channel}")


@case("SurveyState.open_survey", "SurveyState.submit", "SurveyState.filter_texts", "SurveyState.set_closed",
      "SurveyState.download_csv")
async def _survey(w: World) -> None:
    sv = S["SurveyState"]
    path = f"/surveys/{w.survey}"
    await refused(w, sv, "open_survey", {}, path=path)
    await refused(w, sv, "submit", {"form": {"q999": "x"}}, path="/surveys/99999999")
    await refused(w, sv, "filter_texts", {"value": "秘密"}, path=path)
    await refused(w, sv, "set_closed", {"closed": True}, path=path)
    client = await refused(w, sv, "download_csv", {}, path=path)
    assert "_download" not in client.text()


@case(*[f"DirectoryState.{n}" for n in ("open_directory", "search", "toggle_archived", "toggle_create",
                                        "create", "join", "set_archived")])
async def _directory(w: World) -> None:
    d = S["DirectoryState"]
    await refused(w, d, "open_directory", {}, path="/channels")
    await refused(w, d, "search", {"value": "%' OR 1=1 --"}, path="/channels")
    await refused(w, d, "toggle_archived", {}, path="/channels")
    await refused(w, d, "toggle_create", {}, path="/channels")
    await refused(w, d, "create", {"form": {"slug": "mallory", "name": "乗っ取り", "description": ""}},
                  path="/channels")
    await refused(w, d, "join", {"channel_id": w.archived_channel_id}, path="/channels")
    await refused(w, d, "set_archived", {"channel_id": 1, "archived": True}, path="/channels")


@case("InboxState.open_inbox", "InboxState.mark_all_read", "InboxState.open_item")
async def _inbox(w: World) -> None:
    i = S["InboxState"]
    await refused(w, i, "open_inbox", {}, path="/inbox")
    await refused(w, i, "mark_all_read", {}, path="/inbox")
    client = await refused(w, i, "open_item", {"notification_id": w.alice_notification,
                                               "link": "javascript:alert(1)"}, path="/inbox")
    assert "_redirect" not in client.text()
    assert "有栖への通知" not in client.text()


@case(*[f"PollState.{n}" for n in ("choose", "set_other_draft", "send_other", "set_closed", "open_form",
                                   "close_form", "add_option", "remove_option", "create")])
async def _polls(w: World) -> None:
    p = S["PollState"]
    z = "/c/zatsudan"
    await refused(w, p, "choose", {"poll_id": w.closed_poll, "index": 0}, path=z)
    await refused(w, p, "choose", {"poll_id": 99999999, "index": 0}, path=z)
    await refused(w, p, "choose", {"poll_id": w.hidden_poll, "index": 7}, path=z)
    await refused(w, p, "set_other_draft", {"poll_id": w.hidden_poll, "text": "x"}, path=z)
    await refused(w, p, "send_other", {"poll_id": w.closed_poll, "index": 0}, path=z)
    await refused(w, p, "set_closed", {"poll_id": w.hidden_poll, "closed": True}, path=z)
    for name in ("open_form", "close_form", "add_option", "remove_option"):
        await refused(w, p, name, {}, path=z)
    await refused(w, p, "create", {"form": {"question": "勝手なお知らせアンケート", "option_0": "A",
                                            "option_1": "B"}}, path=f"/c/{w.announcement_channel}")


@case("PollResultsState.open_results", "PollResultsState.download_csv", "PollResultsState.download_chart")
async def _poll_results(w: World) -> None:
    r = S["PollResultsState"]
    path = f"/polls/{w.hidden_poll}"
    await refused(w, r, "open_results", {}, path=path)
    for name in ("download_csv", "download_chart"):
        client = await refused(w, r, name, {}, path=path)
        assert "_download" not in client.text()


@case("HomeState.open_home", "HomeState.mark_read", "HomeState.toggle_compose", "HomeState.publish",
      "HomeState.set_pinned")
async def _home(w: World) -> None:
    h = S["HomeState"]
    await refused(w, h, "set_pinned", {"announcement_id": 1, "pinned": True})
    await refused(w, h, "open_home", {})
    await refused(w, h, "mark_read", {"announcement_id": 99999999})
    await refused(w, h, "toggle_compose", {})
    await refused(w, h, "publish", {"form": {"title": "偽のお知らせ", "body": "本文", "category": "policy",
                                             "importance": "high", "ch_1": "on"}})


@case("BriefingListState.open_list", "BriefingListState.toggle_create", "BriefingListState.create")
async def _briefing_list(w: World) -> None:
    b = S["BriefingListState"]
    start = (utcnow() + timedelta(days=1)).astimezone(JST)
    await refused(w, b, "open_list", {}, path="/briefings")
    await refused(w, b, "toggle_create", {}, path="/briefings")
    await refused(w, b, "create", {"form": {"title": "偽の説明会", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                                            "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}},
                  path="/briefings")


@case(*[f"BriefingState.{n}" for n in ("open_room", "register", "cancel", "download_ics", "submit_question",
                                       "upvote", "mark_answered", "hide_question", "show_poll",
                                       "toggle_poll_form", "add_poll_option", "create_poll", "archive",
                                       "answer_question", "set_question_order")])
async def _briefing(w: World) -> None:
    b = S["BriefingState"]
    room = f"/briefings/{w.briefing}"
    await refused(w, b, "open_room", {}, path="/briefings/99999999")
    await refused(w, b, "register", {}, path="/briefings/99999999")
    await refused(w, b, "cancel", {}, path=room)
    await refused(w, b, "download_ics", {}, path="/briefings/99999999")
    await refused(w, b, "submit_question", {"form": {"body": "   "}}, path=room)
    await refused(w, b, "upvote", {"question_id": 99999999}, path=room)
    await refused(w, b, "mark_answered", {"question_id": w.alice_question, "answered": True}, path=room)
    await refused(w, b, "hide_question", {"question_id": w.alice_question}, path=room)
    await refused(w, b, "show_poll", {"poll_id": w.hidden_poll}, path=room)
    await refused(w, b, "toggle_poll_form", {}, path=room)
    await refused(w, b, "add_poll_option", {}, path=room)
    await refused(w, b, "create_poll", {"form": {"question": "乗っ取り", "option_0": "A", "option_1": "B"}},
                  path=room)
    await refused(w, b, "archive", {}, path=room)
    await refused(w, b, "answer_question", {"question_id": w.alice_question, "form": {"answer": "偽の回答"}},
                  path=room)
    await refused(w, b, "set_question_order", {"order": "new"}, path=room)


# -- Mail pages (issue 15) ---------------------------------------------------


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {t for t in before.keys() | after.keys() if before.get(t) != after.get(t)}


def _applicant(w: World, email: str) -> int:
    """A fresh application whose address is not confirmed yet."""
    with w.app.session() as s:
        return accounts.do_signup(s, accounts.SignupInput(
            email, "未確認の申請者", "472018", "課", "unconfirmed-password-1", True)).id or 0


def _link(w: World, user_id: int, purpose: str, *, expired: bool = False, used: bool = False) -> str:
    """A real one-time link token for the user, expired or used up if asked."""
    with w.app.session() as s:
        token = links.issue(s, s.get(User, user_id), purpose)  # type: ignore[arg-type]
        row = s.exec(select(MailToken).where(MailToken.token_hash == hash_token(token))).one()
        if expired:
            row.expires_at = utcnow() - timedelta(minutes=1)
        if used:
            row.used_at = utcnow()
        s.add(row)
        return token


@case("VerifyState.open_verify", "VerifyState.resend")
async def _verify(w: World) -> None:
    """Forged, expired and wrong-purpose links confirm nobody; asking again for
    an address that has no unconfirmed application sends nothing."""
    v = S["VerifyState"]
    applicant = _applicant(w, "unconfirmed.verify@city.naha.lg.jp")
    expired = _link(w, applicant, links.VERIFY, expired=True)
    wrong_purpose = _link(w, applicant, links.RESET)  # a reset link is no confirmation
    for token in ("x" * 43, expired, wrong_purpose, expired + "x", "x" * 500, ""):
        client = await refused(w, v, "open_verify", {}, path=f"/verify?token={token}")
        assert client.var(v, "confirmed_name") in (None, "")
    for email in (w.alice.email, w.pending.email, "nobody.verify@city.chiyoda.lg.jp"):
        await refused(w, v, "resend", {"form": {"email": email}}, path="/verify")
    with w.app.session() as s:
        assert s.get(User, applicant).status == UserStatus.unconfirmed  # type: ignore[union-attr]


# Asking for a reset link for any address is what /password/forgot is for: it
# queues one mail *to that address* (never to whoever asked) with a one-time
# token, so `outbox` and `mail_token` may change, and nothing else (the member,
# her password, her sessions). What must not differ is the answer: the same
# words whether or not the address is registered.
MAIL_QUEUED = {"outbox", "mail_token"}


@case("ForgotState.open_forgot", "ForgotState.submit")
async def _forgot(w: World) -> None:
    f = S["ForgotState"]
    await refused(w, f, "open_forgot", {}, path="/password/forgot")
    await refused(w, f, "submit", {"form": {"email": "no-at-sign"}}, path="/password/forgot")
    answers = {}
    for email in (w.alice.email, "nobody.forgot@city.chiyoda.lg.jp"):
        with w.app.session() as s:
            last = s.exec(select(sa.func.max(Outbox.id))).one() or 0  # type: ignore[call-overload]
        before = fingerprint(w.app)
        client = await mallory(w, "/password/forgot")
        await client.fire(handler(f, "submit"), {"form": {"email": f"  {email.upper()} "}})
        answers[email] = (client.var(f, "sent"), client.var(f, "error") or "")
        w.sent.append(client.text())
        await client.close()
        assert _changed(before, fingerprint(w.app)) <= MAIL_QUEUED, email
        with w.app.session() as s:
            queued = s.exec(select(Outbox).where(col(Outbox.id) > last)).all()
            assert [(m.kind, m.to_addr, m.user_id) for m in queued] == (
                [("reset", w.alice.email, w.alice.id)] if email == w.alice.email else [])
    assert answers[w.alice.email][0] and answers[w.alice.email] == answers["nobody.forgot@city.chiyoda.lg.jp"]


@case("ResetState.open_reset", "ResetState.submit")
async def _reset(w: World) -> None:
    """No link but Alice's own, fresh and unused, sets her password."""
    r = S["ResetState"]
    applicant = _applicant(w, "unconfirmed.reset@city.naha.lg.jp")
    tokens = ("x" * 43, _link(w, w.alice.id or 0, links.RESET, used=True),
              _link(w, w.alice.id or 0, links.RESET, expired=True),
              _link(w, applicant, links.VERIFY),  # a confirmation link is no reset link
              "x" * 500, "")
    for token in tokens:
        path = f"/password/reset?token={token}"
        client = await refused(w, r, "open_reset", {}, path=path)
        assert client.var(r, "valid") is not True
        client = await refused(w, r, "submit", {"form": {"password": "mallory-owns-alice-1"}}, path=path)
        assert "_redirect" not in client.text()
    with w.app.session() as s:
        assert accounts.user_for_token(s, w.alice_token) is not None  # her sessions did not end


@case("SettingsState.open_settings", "SettingsState.save")
async def _settings(w: World) -> None:
    """Saving changes Mallory's own mail settings, never Alice's."""
    st = S["SettingsState"]
    with w.app.session() as s:
        prefs.set_mail_settings(s, s.get(User, w.alice.id), {"mention": True, "reply": True})  # type: ignore[arg-type]
        alice_before = prefs.values(s, w.alice.id or 0)
    await refused(w, st, "open_settings", {}, path="/settings")
    before = fingerprint(w.app)
    client = await mallory(w, "/settings")
    # An unchecked box is not in the form: every kind but mention goes off (the
    # digest too, which the clock would otherwise mail in the middle of a case).
    await client.fire(handler(st, "save"), {"form": {"user_id": w.alice.id, "user": w.alice.email,
                                                     "mention": "on", "bogus": "on"}})
    w.sent.append(client.text())
    await client.close()
    assert _changed(before, fingerprint(w.app)) == {"mail_setting"}
    with w.app.session() as s:
        assert prefs.values(s, w.alice.id or 0) == alice_before
        mine = prefs.values(s, w.mallory.id or 0)
        assert mine["mention"] is True and mine["reply"] is False and mine["digest"] is False


@case(*[f"AdminMailState.{n}" for n in ("open_mail", "set_status", "search", "requeue", "release_held")])
async def _admin_mail(w: World) -> None:
    """A member is refused every /admin/mail handler, by role (not because no
    SMTP server is set), and is sent no mail of the outbox."""
    m = S["AdminMailState"]
    with w.app.session() as s:  # the reset mail _forgot queued for Alice
        held = s.exec(select(Outbox.id).where(Outbox.to_addr == w.alice.email)).first()
    assert held
    client = await refused(w, m, "open_mail", {}, path="/admin/mail?status=held")
    assert client.var(m, "items") in (None, []) and client.var(m, "held") in (None, 0)
    for name, payload in (("set_status", {"value": "held"}), ("set_status", {"value": "'; --"}),
                          # (the filter box shows what was typed; the query matches it lower-cased)
                          ("search", {"form": {"to": w.alice.email.upper()}}), ("requeue", {"outbox_id": held}),
                          ("requeue", {"outbox_id": 99999999}), ("release_held", {})):
        client = await refused(w, m, name, payload, path="/admin/mail")
        assert client.var(m, "items") in (None, []) and client.var(m, "summary") in (None, [])
        if name in ("requeue", "release_held"):
            assert client.var(m, "error") == "この操作は運営だけが行えます。", name


# -- Attachments (issue 17) ---------------------------------------------------

HIDDEN_FILE = "非表示投稿の秘密資料.pdf"
HIDDEN_FILE_WORD = "ヌペホ秘匿添付語"
PENDING_FILE = "有栖の送信前ファイル.png"


async def upload(w: World, client: ReflexClient, slot: str, files: list[tuple[str, bytes, str]]) -> str:
    """As a composer's drop zone sends files: POST /_upload for this socket's client."""
    async with httpx.AsyncClient(base_url=w.app.url, timeout=120) as http:
        response = await http.post(
            "/_upload", headers={"Reflex-Client-Token": client.client_token,
                                 "Reflex-Event-Handler": handler(S["AttachmentState"], "upload")},
            data={"__reflex_event_args": json.dumps({"slot": slot})},
            files=[("files", f) for f in files])
    await client.settle()
    # Newline-delimited JSON: one list, as the socket's updates are kept.
    try:
        return json.dumps([json.loads(line) for line in response.text.splitlines() if line.strip()],
                          ensure_ascii=False)
    except json.JSONDecodeError:
        return json.dumps(response.text, ensure_ascii=False)


async def still(w: World, client: ReflexClient, cls: type, name: str, payload: dict[str, Any]) -> None:
    """Like ``refused``, on a client that has prepared something (uploads) first."""
    snapshot = fingerprint(w.app)
    await client.fire(handler(cls, name), payload)
    assert _changed(snapshot, fingerprint(w.app)) == set(), f"{cls.__name__}.{name}"


def _files_of(w: World, uploader: int) -> list[Attachment]:
    with w.app.session() as s:
        return list(s.exec(select(Attachment).where(Attachment.uploader_id == uploader)
                           .order_by(col(Attachment.id))).all())


async def _alice_files(w: World) -> tuple[int, int]:
    """Alice posts a PDF that 運営 then hide, and keeps a PNG unsent: (hidden, pending)."""
    alice = ReflexClient(w.app.url, session_token=w.alice_token)
    await alice.connect("/c/zatsudan")
    await upload(w, alice, "composer", [(HIDDEN_FILE, make_pdf([f"{HIDDEN_FILE_WORD}の内容"]), "application/pdf")])
    await alice.fire(handler(S["ChannelState"], "post"), {"form": {"body": "添付付きで、後で非表示になる投稿"}})
    await upload(w, alice, "composer", [(PENDING_FILE, make_image("PNG", (40, 30)), "image/png")])
    await alice.close()
    sent, pending = _files_of(w, w.alice.id or 0)[-2:]
    assert sent.message_id and pending.message_id is None
    with w.app.session() as s:
        moderator = s.exec(select(User).where(User.email == "moderator@digital.go.jp")).one()
        messages.hide_message(s, moderator, sent.message_id)
    for _ in range(180):  # the server extracts the PDF's text on its clock (tasks.py)
        with w.app.session() as s:
            # "working": a round has claimed it and its child is reading it.
            if s.get(FileBlob, sent.blob_id).text_status not in ("pending", "working"):  # type: ignore[union-attr]
                break
        await asyncio.sleep(1)
    with w.app.session() as s:
        assert s.get(FileBlob, sent.blob_id).text_status == "done"  # type: ignore[union-attr]
    return sent.id or 0, pending.id or 0


@case(*[f"AttachmentState.{n}" for n in ("upload", "upload_progress", "rejected", "remove")])
async def _attachments(w: World) -> None:
    """No file reaches someone else's post or a place Mallory may not post,
    nothing past the limits is kept, and a hidden post's file (or Alice's
    unsent one) is neither sent, found nor downloaded."""
    att, ch, z = S["AttachmentState"], S["ChannelState"], "/c/zatsudan"
    hidden, alice_pending = await _alice_files(w)
    alice_files = [a.model_dump() for a in _files_of(w, w.alice.id or 0)]
    png = make_image("PNG", (20, 20))

    # Harmless handlers, and taking back someone else's file.
    await refused(w, att, "upload_progress", {"slot": "composer", "progress": {"progress": "NaN"}}, path=z)
    await refused(w, att, "rejected", {"slot": "x" * 5000, "files": [{"name": "x" * 5000}]}, path=z)
    for target in (alice_pending, hidden, 99999999):
        await refused(w, att, "remove", {"attachment_id": target}, path=z)
    client = await refused(w, att, "setvar", {"var_name": "pending", "value": [
        {"slot": "composer", "id": alice_pending, "name": "横取り"}]}, path=z)
    assert alice_pending not in [p.get("id") for p in client.var(att, "pending") or []]

    mal = await mallory(w, z)
    # Files that must not be kept: a type that could run, one over the size limit.
    for files in ([("図.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                    "image/svg+xml")],
                  [("大きすぎる.pdf", b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024), "application/pdf")]):
        snapshot = fingerprint(w.app)
        w.sent.append(await upload(w, mal, "../../etc", files))
        assert _changed(snapshot, fingerprint(w.app)) == set(), files[0][0]
    # Eleven files kept (her own, unsent) are refused together on one post.
    w.sent.append(await upload(w, mal, "composer", [(f"{i}.png", png, "image/png") for i in range(11)]))
    assert len(_files_of(w, w.mallory.id or 0)) == 11
    await still(w, mal, ch, "post", {"form": {"body": "添付が多すぎる投稿"}})
    assert "10 ファイルまで" in (mal.var(ch, "error") or "")
    # A file waiting in each other composer goes nowhere she may not post.
    await mal.navigate(f"/c/{w.announcement_channel}")
    await mal.fire(handler(ch, "open_thread"), {"parent_id": w.alice_thread_in_oshirase})
    for slot in ("thread", "announcement", "briefing"):
        w.sent.append(await upload(w, mal, slot, [(f"{slot}.png", png, "image/png")]))
    await still(w, mal, ch, "reply", {"form": {"body": "返信不可のスレッドへ添付"}})
    await still(w, mal, S["HomeState"], "publish", {"form": {"title": "添付付きの偽のお知らせ", "body": "本文",
                                                            "category": "policy", "ch_1": "on"}})
    start = (utcnow() + timedelta(days=1)).astimezone(JST)
    await still(w, mal, S["BriefingListState"], "create", {"form": {
        "title": "添付付きの偽の説明会", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}})
    w.sent.append(mal.text())
    await mal.close()
    mine = _files_of(w, w.mallory.id or 0)
    assert len(mine) == 14 and all(not (a.message_id or a.announcement_id or a.briefing_id) for a in mine)
    assert [a.model_dump() for a in _files_of(w, w.alice.id or 0)] == alice_files  # nothing of Alice's moved or was copied

    # Neither file is downloaded; the cookie itself works (her own file is).
    with w.app.session() as s:
        token = accounts.create_session(s, s.get(User, w.mallory.id))  # type: ignore[arg-type]
    async with httpx.AsyncClient(base_url=w.app.url, cookies={FILES_COOKIE: token}, timeout=30) as http:
        for target in (hidden, alice_pending, 99999999):
            for path in (f"/files/{target}", f"/files/{target}/preview"):
                r = await http.get(path)
                assert r.status_code == 404 and HIDDEN_FILE_WORD not in r.text, path
        assert (await http.get(f"/files/{mine[0].id}")).status_code == 200

    # Nor seen in the channel, nor found by 「ファイルのみ」 search (whose box
    # shows the words Mallory typed: only the hits count).
    channel = await refused(w, ch, "open_channel", {}, path=z)
    search = await refused(w, S["SearchState"], "open_search", {}, path=f"/search?q={HIDDEN_FILE_WORD}&files=1")
    assert search.var(S["SearchState"], "searched") is True
    hits = json.dumps(search.var(S["SearchState"], "hits"), ensure_ascii=False)
    for text in (channel.text(), hits):
        for secret in (HIDDEN_FILE, HIDDEN_FILE_WORD, PENDING_FILE, f"/files/{hidden}", f"/files/{alice_pending}"):
            assert secret not in text, secret


# --------------------------------------------------------------------------


def _find_tallies(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value] if {"poll_id", "counts"} <= value.keys() else []
        return found + [t for v in value.values() for t in _find_tallies(v)]
    if isinstance(value, list):
        return [t for v in value for t in _find_tallies(v)]
    return []


def all_handlers() -> set[str]:
    out = set()
    for name, cls in S.items():
        for handler_name in cls.event_handlers:
            owner = next((b for b in cls.__mro__ if handler_name in b.__dict__), cls)
            if handler_name == "setvar" or owner is cls:
                out.add(f"{name}.{handler_name}")
    return out


def test_every_handler_has_a_case() -> None:
    from reflex.state import State

    import kyoso.kyoso  # noqa: F401 - every page, so every state, is registered

    def walk(c: type) -> list[type]:
        return [s for sub in c.get_substates() for s in (sub, *walk(sub))]  # type: ignore[attr-defined]

    ours = {c.__name__ for c in walk(State) if c.__module__.startswith("kyoso")}
    assert ours == set(S), f"states missing from the hostile suite: {ours ^ set(S)}"
    missing = sorted(all_handlers() - set(CASES))
    assert missing == [], f"event handlers without a hostile case: {missing}"


async def test_hostile_member_is_refused_everywhere(world: World) -> None:
    seen: set[int] = set()
    for name, fn in CASES.items():
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        await fn(world)
    # Nothing any hostile client was sent carries what a member must not see.
    everything = "\n".join(world.sent)
    assert len(world.sent) > 100
    for secret in (world.alice.email, world.pending.email, world.pending.name, world.hidden_voter,
                   "password_hash", "$argon2", "有栖への通知", "締め切り前の秘密の意見",
                   world.hidden_message_text, HIDDEN_FILE, PENDING_FILE):
        assert secret not in everything, secret
    # The tally of the poll whose results are hidden until close was never sent
    # (a TallyView is a dict with "poll_id" and "counts").
    tallies = [t for text in world.sent for t in _find_tallies(json.loads(text))]
    assert tallies, "the hostile client should have been sent some tallies (public polls)"
    assert [t for t in tallies if t["poll_id"] == world.hidden_poll] == []
    # Nothing happened to the targets.
    with world.app.session() as s:
        alice = s.get(User, world.alice.id)
        assert alice and alice.status == UserStatus.active
        assert s.get(User, world.pending.id).status == UserStatus.pending  # type: ignore[union-attr]
        m = s.get(Message, world.alice_message)
        assert m and m.body == "有栖のメッセージ" and m.deleted_at is None and m.hidden_at is None


# --------------------------------------------------------------------------
# Privacy at the edges (issue 14): one case per class, each failing on 4f0adca
# --------------------------------------------------------------------------


def _member(w: World, email: str, name: str, org: str = "131016", role: str = Role.member) -> tuple[int, str]:
    """A new member of the app and a session token for them."""
    with w.app.session() as s:
        user = accounts.create_user(s, email=email, password="hostile-password-1", name=name, org_code=org,
                                    role=role)
        return user.id or 0, accounts.create_session(s, user)


def _staff_token(w: World, email: str) -> str:
    with w.app.session() as s:
        return accounts.create_session(s, s.exec(select(User).where(User.email == email)).one())


async def _settled(*clients: ReflexClient, seconds: float = 1.0) -> None:
    await asyncio.sleep(seconds)
    for c in clients:
        await c.settle()


async def test_a_hidden_survey_cannot_be_opened_answered_or_read(world: World) -> None:
    """Class 1: what hangs on a hidden message is hidden with it."""
    with world.app.session() as s:
        alice = s.get(User, world.alice.id)
        zatsudan = s.exec(select(Channel).where(Channel.slug == "zatsudan")).one()
        survey = surveys.create_survey(s, alice, zatsudan.id or 0, surveys.SurveyInput(
            "非表示にされた意見募集", "", [surveys.QuestionInput("text", "隠された質問")],
            deadline=utcnow() + timedelta(days=3)))
        s.flush()
        moderator = s.exec(select(User).where(User.email == "moderator@digital.go.jp")).one()
        messages.hide_message(s, moderator, survey.message_id or 0)
        survey_id, q_id = survey.id or 0, s.exec(select(SurveyQuestion.id).where(
            SurveyQuestion.survey_id == survey.id)).one()
    sv = S["SurveyState"]
    client = await refused(world, sv, "open_survey", {}, path=f"/surveys/{survey_id}")
    assert "隠された質問" not in client.text() and "非表示にされた意見募集" not in client.text()
    await refused(world, sv, "submit", {"form": {f"q{q_id}": "隠れて回答"}}, path=f"/surveys/{survey_id}",
                  before=[(handler(sv, "open_survey"), {})])


async def test_the_briefing_archive_posts_no_hidden_results(world: World) -> None:
    """Class 2: the archive thread shows only results every reader may see."""
    with world.app.session() as s:
        national = s.exec(select(User).where(User.email == "sato.kenji@digital.go.jp")).one()
        zatsudan = s.exec(select(Channel).where(Channel.slug == "zatsudan")).one()
        start = (utcnow() - timedelta(minutes=10)).astimezone(JST)
        briefing = briefings.create_briefing(s, national, briefings.BriefingInput(
            "結果非公開の説明会", "", start, start + timedelta(hours=1), channel_id=zatsudan.id))
        poll = polls.create_briefing_poll(s, national, briefing.id or 0, polls.PollInput(
            "主催者だけが見る質問", ["内緒はい", "内緒いいえ"], visibility="owner"))
        briefing_room.set_live_poll(s, national, briefing.id or 0, poll.id)
        voter = s.exec(select(User).where(User.email == "hidden.voter@city.osaka.lg.jp")).one()
        polls.vote(s, voter, poll.id or 0, [0])
        briefing_room.archive(s, national, briefing.id or 0)
        s.flush()
        archived = briefing.archived_message_id
    client = await mallory(world, "/c/zatsudan")
    await client.fire(handler(S["ChannelState"], "open_thread"), {"parent_id": archived})
    text = client.text()
    world.sent.append(text)
    await client.close()
    assert "主催者だけが見る質問" in text  # the thread itself is there
    assert "内緒はい: 1票" not in text


async def test_failures_for_another_account_lock_out_neither_it_nor_the_gateway(world: World) -> None:
    """Class 3: six wrong passwords for Alice's address, from the address
    everyone here shares (one LGWAN gateway), lock out neither a colleague
    behind it nor Alice in the browser she logged in with before."""
    _member(world, "bystander@city.chiyoda.lg.jp", "同じ庁舎の職員")
    login = S["LoginState"]
    alice_browser = ReflexClient(world.app.url)
    await alice_browser.connect("/login")
    with world.app.session() as s:  # Alice's own password, for this test
        alice = s.get(User, world.alice.id)
        alice.password_hash = hash_password("alice-password-1")  # type: ignore[union-attr]
        s.add(alice)
    await alice_browser.fire(handler(login, "submit"), {"form": {"email": world.alice.email,
                                                                 "password": "alice-password-1"}})
    device = alice_browser.var(login, "device")
    await alice_browser.close()
    for _ in range(6):
        client = ReflexClient(world.app.url)
        await client.connect("/login")
        await client.fire(handler(login, "submit"), {"form": {"email": world.alice.email, "password": "guess-123"}})
        await client.close()
    colleague = ReflexClient(world.app.url)
    await colleague.connect("/login")
    await colleague.fire(handler(login, "submit"), {"form": {"email": "bystander@city.chiyoda.lg.jp",
                                                             "password": "hostile-password-1"}})
    colleague_token = colleague.var(S["SessionState"], "token")
    colleague_error = colleague.var(login, "error")
    await colleague.close()
    assert colleague_token, f"a colleague behind the same gateway was locked out: {colleague_error}"
    again = _DeviceClient(world.app.url, device=device or "")
    await again.connect("/login")
    await again.fire(handler(login, "submit"), {"form": {"email": world.alice.email, "password": "alice-password-1"}})
    alice_token = again.var(S["SessionState"], "token")
    alice_error = again.var(login, "error")
    await again.close()
    assert device and alice_token, f"Alice was locked out of her own browser: {alice_error}"


class _DeviceClient(ReflexClient):
    """A browser that keeps its device token in localStorage."""

    def __init__(self, base_url: str, *, device: str) -> None:
        super().__init__(base_url)
        self.device = device

    def _storage(self) -> dict[str, Any]:
        return {**super()._storage(), f"{state_name(S['LoginState'])}.device_rx_state_": self.device}


async def test_a_suspended_and_a_logged_out_socket_receive_nothing_new(world: World) -> None:
    """Class 4: live rooms are left at once, not on the next page load."""
    _, carol_token = _member(world, "carol@city.chiyoda.lg.jp", "ログアウトする人")
    dave_id, dave_token = _member(world, "dave@city.chiyoda.lg.jp", "停止される人")
    tab_one, tab_two = (ReflexClient(world.app.url, session_token=carol_token) for _ in range(2))
    dave = ReflexClient(world.app.url, session_token=dave_token)
    for c in (tab_one, tab_two, dave):
        await c.connect("/c/zatsudan")
    await tab_one.fire(handler(S["SessionState"], "logout"), {})
    staff = ReflexClient(world.app.url, session_token=_staff_token(world, "moderator@digital.go.jp"))
    await staff.connect("/admin")
    await staff.fire(handler(S["AdminState"], "set_suspended"), {"user_id": dave_id, "suspended": True})
    await _settled(tab_one, tab_two, dave)
    seen = [len(c.updates) for c in (tab_one, tab_two, dave)]
    alice = ReflexClient(world.app.url, session_token=world.alice_token)
    await alice.connect("/c/zatsudan")
    await alice.fire(handler(S["ChannelState"], "post"), {"form": {"body": "停止と退出の後の新しい投稿"}})
    await _settled(tab_one, tab_two, dave, seconds=1.5)
    late = {name: json.dumps(c.updates[n:], ensure_ascii=False)
            for name, c, n in zip(("logged-out tab", "other tab", "suspended"), (tab_one, tab_two, dave), seen)}
    for c in (tab_one, tab_two, dave, staff, alice):
        await c.close()
    for name, text in late.items():
        assert "停止と退出の後の新しい投稿" not in text, f"the {name} still receives posts"


async def test_a_withdrawn_vote_stops_the_live_tallies(world: World) -> None:
    """Class 4 (votes): on a 回答した人だけ poll, vote then withdraw: no tally arrives after."""
    with world.app.session() as s:
        zatsudan = s.exec(select(Channel).where(Channel.slug == "zatsudan")).one()
        poll = polls.create_poll(s, s.get(User, world.alice.id), zatsudan.id or 0, polls.PollInput(
            "回答者だけの集計", ["甲", "乙"], visibility="after_vote"))
        s.flush()
        poll_id = poll.id or 0
    p = S["PollState"]
    client = await mallory(world, "/c/zatsudan")
    await client.fire(handler(p, "choose"), {"poll_id": poll_id, "index": 0})
    await client.fire(handler(p, "choose"), {"poll_id": poll_id, "index": 0})  # withdrawn
    await _settled(client)
    seen = len(client.updates)
    alice = ReflexClient(world.app.url, session_token=world.alice_token)
    await alice.connect("/c/zatsudan")
    await alice.fire(handler(p, "choose"), {"poll_id": poll_id, "index": 1})
    await _settled(client, seconds=1.5)
    late = [t for u in client.updates[seen:] for t in _find_tallies(u) if t["poll_id"] == poll_id]
    await client.close()
    await alice.close()
    assert late == [], "the withdrawn voter still receives the tallies"


async def test_an_unshown_briefing_poll_cannot_be_voted_or_read(world: World) -> None:
    """Class 6: a 説明会's poll reaches the room only once the organiser shows it."""
    with world.app.session() as s:
        national = s.exec(select(User).where(User.email == "sato.kenji@digital.go.jp")).one()
        poll = polls.create_briefing_poll(s, national, world.briefing, polls.PollInput(
            "まだ見せていない質問", ["未公開A", "未公開B"]))
        s.flush()
        poll_id = poll.id or 0
    room = f"/briefings/{world.briefing}"
    await refused(world, S["PollState"], "choose", {"poll_id": poll_id, "index": 0}, path=room)
    client = await refused(world, S["PollResultsState"], "open_results", {}, path=f"/polls/{poll_id}")
    assert "まだ見せていない質問" not in client.text()


async def test_a_client_without_a_session_stores_nothing(world: World) -> None:
    """Class 7: a draft sent before any token check is not kept (nor sent
    back); one larger than a websocket message may be (KYOSO_WS_MAX_BYTES)
    closes its own socket and nothing else."""
    client = ReflexClient(world.app.url)
    await client.connect("/c/zatsudan")
    draft = "保存されない下書き" * 4_000  # 216 KB even as python-socketio escapes it: under the cap
    await client.fire(handler(S["PollState"], "set_other_draft"), {"poll_id": world.hidden_poll, "text": draft})
    await client.fire(handler(S["ChannelState"], "draft_changed"), {"target": "x" * 50, "text": draft})
    assert client.sio.connected
    text = client.text()
    big = "保存されない下書き" * 20_000  # ~1 MB
    with contextlib.suppress(socketio.exceptions.SocketIOError):
        await client.fire(handler(S["ChannelState"], "draft_changed"), {"target": "y", "text": big})
    for _ in range(100):
        if not client.sio.connected:
            break
        await asyncio.sleep(0.1)
    assert not client.sio.connected
    text += client.text()
    await client.close()
    assert "保存されない下書き" not in text
    other = ReflexClient(world.app.url)  # the server goes on serving
    await other.connect("/c/zatsudan")
    assert other.hydrated()
    await other.close()


async def test_hidden_posts_keep_no_author_nor_excerpt_and_editable_tells_nothing(world: World) -> None:
    """The also-suspected list: a hidden post's author id, a notification's
    excerpt of a hidden post, and whether anybody voted on a hidden-results poll."""
    with world.app.session() as s:
        alice = s.get(User, world.alice.id)
        zatsudan = s.exec(select(Channel).where(Channel.slug == "zatsudan")).one()
        mention = messages.post_message(s, alice, zatsudan.id or 0, "マロリーへの言及、後で非表示")
        messages.post_message(s, alice, zatsudan.id or 0, "返信があるので跡が残る", parent_id=mention.id)
        s.add(Notification(user_id=world.mallory.id, kind="mention", message_id=mention.id,  # type: ignore[arg-type]
                           channel_id=zatsudan.id, text="マロリーへの言及、後で非表示", link="/c/zatsudan"))
        moderator = s.exec(select(User).where(User.email == "moderator@digital.go.jp")).one()
        messages.hide_message(s, moderator, mention.id or 0)
        unvoted = polls.create_poll(s, alice, zatsudan.id or 0, polls.PollInput(
            "まだ誰も答えていない", ["A", "B"], visibility="owner"))
        s.flush()
        unvoted_id = unvoted.id or 0
    inbox = await mallory(world, "/inbox")
    assert "後で非表示" not in inbox.text()
    await inbox.close()
    channel = await mallory(world, "/c/zatsudan")
    hidden = [m for m in channel.var(S["ChannelState"], "messages") or [] if m.get("hidden")]
    views = channel.var(S["PollState"], "polls") or {}
    await channel.close()
    assert hidden and all(m["author_id"] == 0 for m in hidden)
    assert views[str(unvoted_id)]["editable"] is False


async def test_an_anonymous_breakdown_hides_small_cells(world: World) -> None:
    """Class 5: one voter from a small 団体 is not shown by where they work."""
    with world.app.session() as s:
        zatsudan = s.exec(select(Channel).where(Channel.slug == "zatsudan")).one()
        poll = polls.create_poll(s, s.get(User, world.alice.id), zatsudan.id or 0, polls.PollInput(
            "匿名の内訳", ["賛成", "反対"], anonymous=True, allow_other=True))
        s.flush()
        lone = accounts.create_user(s, email="lone@pref.kochi.lg.jp", password="hostile-password-1",
                                    name="高知県のひとり", org_code="390003")
        polls.vote(s, lone, poll.id or 0, [2], other_text="ひとりだけの事情")
        poll_id = poll.id or 0
    client = await mallory(world, f"/polls/{poll_id}")
    results = client.var(S["PollResultsState"], "results") or {}
    await client.close()
    prefs = {r["label"]: r["voters"] for r in results.get("splits_by_prefecture", [])}
    assert prefs.get("高知県", 0) == 0
    assert all("高知県" not in label for label, _ in results.get("other_texts", []))


async def test_a_withdrawn_announcement_leaves_every_home_feed(world: World) -> None:
    """An お知らせ whose channel message 運営 hid is in no home feed, and its
    read mark is refused."""
    with world.app.session() as s:
        national = s.exec(select(User).where(User.email == "sato.kenji@digital.go.jp")).one()
        oshirase = s.exec(select(Channel).where(Channel.slug == "oshirase")).one()
        notice = announcements.publish(s, national, announcements.AnnouncementInput(
            "撤回されるお知らせ", "撤回される本文", "policy", [oshirase.id or 0], importance="high"))
        s.flush()
        message_id = s.exec(select(AnnouncementChannel.message_id).where(
            AnnouncementChannel.announcement_id == notice.id)).one()
        moderator = s.exec(select(User).where(User.email == "moderator@digital.go.jp")).one()
        messages.hide_message(s, moderator, message_id or 0)
        notice_id = notice.id or 0
    home = await mallory(world, "/")
    feed = home.var(S["HomeState"], "announcements")
    text = home.text()
    await home.close()
    assert feed is not None and notice_id not in [a["id"] for a in feed]
    assert "撤回される" not in text
    await refused(world, S["HomeState"], "mark_read", {"announcement_id": notice_id})
