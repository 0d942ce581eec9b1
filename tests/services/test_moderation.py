"""Reports, the moderators' queue, suspension, the audit log, rate limits."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from kyoso import routes
from kyoso.models import AuditLog, Role, UserStatus
from kyoso.services import accounts, messages, moderation
from kyoso.services.errors import InvalidInput, NotAllowed, RateLimited
from tests.utils.factories import make_channel, make_user, post


def test_report_queue_hide_and_audit(session: Session) -> None:
    author, a, b = make_user(session), make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    admin = make_user(session, role=Role.admin)
    channel = make_channel(session)
    message = post(session, author, channel, "不適切な投稿")
    moderation.report(session, a, message.id or 0, "誹謗中傷")
    moderation.report(session, b, message.id or 0, "スパム")
    with pytest.raises(InvalidInput):
        moderation.report(session, a, message.id or 0, "もう一度")
    with pytest.raises(NotAllowed):
        moderation.queue(session, a)
    queue = moderation.queue(session, moderator)
    assert len(queue) == 1 and queue[0].count == 2 and queue[0].message_id == message.id
    assert queue[0].link == f"/c/{channel.slug}?thread={message.id}&m={message.id}"  # opens in its thread
    reply = post(session, a, channel, "返信も通報", parent=message)
    moderation.report(session, b, reply.id or 0, "スパム")
    assert moderation.queue(session, moderator)[1].link == f"/c/{channel.slug}?thread={message.id}&m={reply.id}"
    moderation.close_reports(session, moderator, reply.id or 0, hide=False)
    assert [m.link for m in moderation.find_members(session, moderator, author.name)] == [routes.profile(author.id or 0)]
    moderation.close_reports(session, moderator, message.id or 0, hide=True)
    assert moderation.queue(session, moderator) == []
    assert messages.view(session, message.id or 0).hidden  # type: ignore[union-attr]
    actions = [e.action for e in moderation.audit_log(session, admin)]
    assert "通報を対応済みに" in actions and "投稿を非表示" in actions
    with pytest.raises(NotAllowed):
        moderation.audit_log(session, moderator)


def test_dismissed_report_leaves_the_post(session: Session) -> None:
    author, reporter = make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    message = post(session, author, make_channel(session), "普通の投稿")
    moderation.report(session, reporter, message.id or 0, "その他")
    moderation.close_reports(session, moderator, message.id or 0, hide=False)
    assert not messages.view(session, message.id or 0).hidden  # type: ignore[union-attr]
    assert session.exec(select(AuditLog).where(AuditLog.action == "report.dismiss")).one()


def test_suspension_ends_sessions_and_blocks_login(session: Session) -> None:
    member = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    token = accounts.create_session(session, member)
    with pytest.raises(NotAllowed):
        moderation.set_suspended(session, make_user(session), member.id or 0, True)
    moderation.set_suspended(session, moderator, member.id or 0, True, "ルール違反")
    session.commit()
    assert accounts.user_for_token(session, token) is None
    with pytest.raises(NotAllowed) as err:
        accounts.authenticate(session, member.email, "correct horse battery")
    assert "利用停止" in err.value.message
    moderation.set_suspended(session, moderator, member.id or 0, False)
    assert session.get(type(member), member.id).status == UserStatus.active  # type: ignore[union-attr]


def test_moderator_cannot_suspend_an_admin_or_themself(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    admin = make_user(session, role=Role.admin)
    with pytest.raises(NotAllowed):
        moderation.set_suspended(session, moderator, admin.id or 0, True)
    with pytest.raises(InvalidInput):
        moderation.set_suspended(session, moderator, moderator.id or 0, True)


def test_only_admins_change_roles(session: Session) -> None:
    member = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    admin = make_user(session, role=Role.admin)
    with pytest.raises(NotAllowed):
        moderation.set_role(session, moderator, member.id or 0, Role.admin)
    moderation.set_role(session, admin, member.id or 0, Role.moderator)
    assert member.role == Role.moderator


def test_posting_is_rate_limited_with_a_clear_message(session: Session) -> None:
    author = make_user(session)
    channel = make_channel(session)
    for i in range(30):
        messages.post_message(session, author, channel.id or 0, f"連投 {i}")
    with pytest.raises(RateLimited) as err:
        messages.post_message(session, author, channel.id or 0, "もう一つ")
    assert "少し待ってから" in err.value.message


def test_signups_are_rate_limited_per_address(session: Session) -> None:
    for i in range(10):
        accounts.do_signup(session, accounts.SignupInput(
            f"p{i}@city.chiyoda.lg.jp", "申込 太郎", "131016", "課", "correct horse battery", True),
            client_key="10.0.0.1")
    with pytest.raises(RateLimited):
        accounts.do_signup(session, accounts.SignupInput(
            "p99@city.chiyoda.lg.jp", "申込 太郎", "131016", "課", "correct horse battery", True),
            client_key="10.0.0.1")
    # Another address is not affected.
    accounts.do_signup(session, accounts.SignupInput(
        "p98@city.chiyoda.lg.jp", "申込 太郎", "131016", "課", "correct horse battery", True),
        client_key="10.0.0.2")


def test_role_change_is_audited_with_names_and_not_on_oneself(session: Session) -> None:
    member = make_user(session, name="鈴木 花子")
    admin = make_user(session, role=Role.admin)
    moderation.set_role(session, admin, member.id or 0, Role.national)
    entry = moderation.audit_log(session, admin)[0]
    assert entry.target == "鈴木 花子"
    assert entry.action == "役割を変更"
    assert entry.detail == "自治体職員 → 国の職員"
    with pytest.raises(InvalidInput):
        moderation.set_role(session, admin, admin.id or 0, Role.member)


def test_audit_log_names_posts_and_channels(session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    author = make_user(session)
    channel = make_channel(session)
    message = post(session, author, channel, "非表示にする投稿です")
    messages.hide_message(session, admin, message.id or 0)
    targets = [e.target for e in moderation.audit_log(session, admin)]
    assert "投稿「非表示にする投稿です」" in targets
    assert not any("#" in t and t.split("#")[-1].isdigit() for t in targets)
