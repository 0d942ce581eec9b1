"""The pages of issue 15 through their handlers: /verify, /password/forgot,
/password/reset, /settings, /admin/mail, the 運営 counts and the review hint.
Every bad link or input shows a Japanese message and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import AuthSession, MailSetting, MailToken, Outbox, Report, Role, User, UserStatus
from kyoso.services import account_mail, accounts
from kyoso.services.mail import links
from kyoso.services.security import verify_password
from kyoso.states.account import ForgotState, ResetState, VerifyState
from kyoso.states.admin import AdminState
from kyoso.states.admin_mail import AdminMailState
from kyoso.states.auth import LoginState, SignupState
from kyoso.states.settings import SettingsState
from kyoso.states.sidebar import SidebarState
from tests.utils.factories import CHIYODA, PASSWORD, SAPPORO, make_channel, make_user, post
from tests.utils.mail import last_link, mails_to, token_of

EMAIL = "hanako@city.chiyoda.lg.jp"
NEW_PASSWORD = "new password 2026"


def apply(session: Session, email: str = EMAIL, org: str = CHIYODA) -> User:
    user = accounts.do_signup(session, accounts.SignupInput(
        email=email, name="共創 花子", org_code=org, department="情報政策課", password=PASSWORD,
        accepted_rules=True))
    session.commit()
    return user


def status_of(session: Session, email: str) -> str:
    session.expire_all()
    status = session.exec(select(User.status).where(User.email == email)).one()
    session.rollback()  # let go of SQLite's read snapshot before the next handler writes
    return status


# ---------------------------------------------------------------------------
# /verify
# ---------------------------------------------------------------------------


async def test_the_confirmation_link_sends_the_application_to_review(session: Session, states) -> None:
    apply(session)
    token = token_of(last_link(session, EMAIL, "/verify"))
    session.rollback()
    page = states(VerifyState, "", "/verify", query={"token": token})
    await page.open_verify()
    assert page.error == "" and page.confirmed_name == "共創 花子" and not page.loading
    assert status_of(session, EMAIL) == UserStatus.pending

    # Opened again: used, said plainly, nothing changes.
    again = states(VerifyState, "", "/verify", query={"token": token})
    await again.open_verify()
    assert again.confirmed_name == "" and again.error == links.USED[links.VERIFY]
    assert status_of(session, EMAIL) == UserStatus.pending


async def test_a_forged_or_expired_confirmation_link_changes_nothing(session: Session, states) -> None:
    apply(session)
    forged = states(VerifyState, "", "/verify", query={"token": "not-a-real-token"})
    await forged.open_verify()
    assert forged.error == links.FORGED and forged.confirmed_name == ""
    token = token_of(last_link(session, EMAIL, "/verify"))
    session.execute(sa.update(MailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    expired = states(VerifyState, "", "/verify", query={"token": token})
    await expired.open_verify()
    assert expired.error == links.EXPIRED[links.VERIFY]
    assert status_of(session, EMAIL) == UserStatus.unconfirmed

    # Send it again from the page: a new mail, the same answer for any address.
    await expired.resend({"email": EMAIL})
    assert "確認メールをもう一度お送りしました" in expired.resent and expired.error == ""
    assert len(mails_to(session, EMAIL, "verify")) == 2
    session.rollback()
    await expired.resend({"email": "nobody@city.chiyoda.lg.jp"})
    assert expired.resent.startswith("確認が済んでいない申請があれば")
    assert mails_to(session, "nobody@city.chiyoda.lg.jp") == []
    session.rollback()


async def test_verify_without_a_token_only_offers_to_resend(session: Session, states) -> None:
    page = states(VerifyState, "", "/verify")
    await page.open_verify()
    assert page.error == "" and page.confirmed_name == "" and not page.loading


# ---------------------------------------------------------------------------
# /password/forgot and /password/reset
# ---------------------------------------------------------------------------


async def test_forgot_answers_the_same_for_known_and_unknown_addresses(session: Session, states) -> None:
    member = make_user(session, email="member@city.example.lg.jp")
    known = states(ForgotState, "", "/password/forgot")
    await known.submit({"email": "Member@city.example.lg.jp"})
    unknown = states(ForgotState, "", "/password/forgot")
    await unknown.submit({"email": "nobody@city.example.lg.jp"})
    assert known.sent == unknown.sent != "" and known.error == unknown.error == ""
    assert len(mails_to(session, member.email, "reset")) == 1
    assert mails_to(session, "nobody@city.example.lg.jp") == []
    session.rollback()

    bad = states(ForgotState, "", "/password/forgot")
    await bad.submit({"email": "no-at-sign"})
    assert bad.sent == "" and bad.error == "メールアドレスを入力してください。" and bad.error_field == "email"


async def test_a_reset_link_sets_the_password_and_ends_every_session(session: Session, states, token_of) -> None:
    member = make_user(session, email="member@city.example.lg.jp")
    old_token = token_of(member)
    name, member_id = member.name, member.id
    session.rollback()
    asked = states(ForgotState, "", "/password/forgot")
    await asked.submit({"email": "member@city.example.lg.jp"})
    reset_token = last_link(session, "member@city.example.lg.jp", "/password/reset").split("token=")[1]
    session.rollback()

    page = states(ResetState, "", "/password/reset", query={"token": reset_token})
    await page.open_reset()
    assert page.valid and page.name == name and page.expires and page.error == ""

    # Too short: refused, the link still works.
    assert await page.submit({"password": "short"}) is None
    assert "10文字以上" in page.error and page.error_field == "password"
    redirect = await page.submit({"password": NEW_PASSWORD})
    assert "/login?reset=done" in str(redirect) and page.error == ""

    session.expire_all()
    user = session.get(User, member_id)
    assert user is not None and verify_password(NEW_PASSWORD, user.password_hash)
    assert session.exec(select(AuthSession).where(AuthSession.user_id == member_id)).all() == []
    assert accounts.user_for_token(session, old_token) is None
    session.rollback()

    # Used once: the link says so, and a second try changes nothing.
    again = states(ResetState, "", "/password/reset", query={"token": reset_token})
    await again.open_reset()
    assert not again.valid and again.error == links.USED[links.RESET]
    assert await again.submit({"password": "another password 1"}) is None
    assert again.error == links.USED[links.RESET]
    session.expire_all()
    assert verify_password(NEW_PASSWORD, session.get(User, member_id).password_hash)  # type: ignore[union-attr]
    session.rollback()

    login = states(LoginState, "", "/login", query={"reset": "done"})
    login.open_login()
    assert "新しいパスワードでログイン" in login.notice


async def test_a_forged_reset_link_is_refused(session: Session, states) -> None:
    page = states(ResetState, "", "/password/reset", query={"token": "forged"})
    await page.open_reset()
    assert not page.valid and page.error == links.FORGED
    assert await page.submit({"password": NEW_PASSWORD}) is None and page.error == links.FORGED


# ---------------------------------------------------------------------------
# /settings
# ---------------------------------------------------------------------------


async def test_settings_show_every_kind_and_save_unchecked_boxes_as_off(session: Session, states,
                                                                        token_of) -> None:
    member = make_user(session)
    page = states(SettingsState, token_of(member), "/settings")
    assert await page.open_settings() is None
    keys = [item.key for item in page.mail]
    assert {"mention", "reply", "digest", "announcement"} <= set(keys)
    assert {i.key: i.enabled for i in page.mail}["digest"] is False

    # The form sends only the checked boxes.
    form = {key: "on" for key in keys if key not in ("mention", "reply")}
    await page.save(form)
    assert page.error == "" and page.notice == "メールの設定を保存しました。"
    saved = {i.key: i.enabled for i in page.mail}
    assert saved["mention"] is False and saved["reply"] is False and saved["digest"] is True
    session.expire_all()
    row = session.get(MailSetting, member.id)
    assert row is not None and row.mention is False and row.digest is True
    session.rollback()


async def test_settings_need_a_login(session: Session, states) -> None:
    page = states(SettingsState, "expired", "/settings")
    assert "/login" in str(await page.open_settings())


# ---------------------------------------------------------------------------
# /admin/mail and /admin
# ---------------------------------------------------------------------------


async def test_the_outbox_page_lists_mail_with_its_links_for_staff_only(session: Session, states,
                                                                       token_of) -> None:
    staff = make_user(session, role=Role.moderator)
    member = make_user(session)
    apply(session)
    page = states(AdminMailState, token_of(staff), "/admin/mail")
    assert await page.open_mail() is None
    [item] = [i for i in page.items if i.to == EMAIL]
    assert item.kind_label == "アドレスの確認" and item.status_label.startswith("保留")
    assert len(item.links) == 1 and "/verify?token=" in item.links[0]
    assert page.held >= 1 and any(s.startswith("保留") for s in page.summary)

    await page.search({"to": "nobody@example.lg.jp"})
    assert page.items == []
    await page.set_status("sent")
    assert page.items == [] and page.error == ""
    # Without SMTP nothing can be sent again: said plainly, nothing changes.
    await page.release_held()
    assert "SMTP" in page.error
    session.expire_all()
    assert session.exec(select(Outbox.status)).all() == ["held"]
    session.rollback()

    other = states(AdminMailState, token_of(member), "/admin/mail")
    redirect = await other.open_mail()
    assert redirect is not None and other.items == []


async def test_the_review_shows_whether_the_address_fits_and_staff_send_reset_links(
        session: Session, states, token_of) -> None:
    staff = make_user(session, role=Role.moderator)
    member = make_user(session)
    fits = apply(session, "taro@city.sapporo.lg.jp", SAPPORO).id
    odd = apply(session, "jiro@town.example.lg.jp", SAPPORO).id
    for address in ("taro@city.sapporo.lg.jp", "jiro@town.example.lg.jp"):
        account_mail.confirm_email(session, token_of_link(session, address))
    session.commit()
    member_id, member_email, staff_token = member.id, member.email, token_of(staff)
    session.rollback()
    page = states(AdminState, staff_token, "/admin")
    await page.open_admin()
    assert page.email_fit == {str(fits): "一致", str(odd): "要確認"}

    sidebar = await page.get_state(SidebarState)
    assert sidebar.staff_applications == 2 and sidebar.staff_reports == 0

    await page.send_reset_link(member_id)
    assert page.error == "" and "再設定" in page.notice
    assert len(mails_to(session, member_email, "reset")) == 1
    session.rollback()
    await page.send_reset_link(fits)  # not an active member yet
    assert page.error == "利用中のメンバーにだけ、再設定のリンクを送れます。"


def token_of_link(session: Session, address: str) -> str:
    return token_of(last_link(session, address, "/verify"))


async def test_the_staff_badge_counts_reported_posts_once(session: Session, states, token_of) -> None:
    staff = make_user(session, role=Role.moderator)
    a, b = make_user(session), make_user(session)
    channel = make_channel(session)
    message = post(session, a, channel, "通報される投稿")
    for reporter in (a, b):
        session.add(Report(message_id=message.id, reporter_id=reporter.id, reason="スパム・宣伝",
                           status="open", created_at=utcnow()))
    session.commit()
    page = states(SettingsState, token_of(staff), "/settings")
    await page.open_settings()
    sidebar = await page.get_state(SidebarState)
    assert (sidebar.staff_applications, sidebar.staff_reports) == (0, 1)

    plain = states(SettingsState, token_of(a), "/settings", sid="sid-2")
    await plain.open_settings()
    assert (await plain.get_state(SidebarState)).staff_reports == 0


async def test_a_line_break_in_a_signed_up_name_is_refused_and_mails_nothing(session: Session, states) -> None:
    page = states(SignupState, "", "/signup")
    await page.submit({"email": EMAIL, "name": "共創 花子\r\nBcc: evil@example.com", "org": CHIYODA,
                       "department": "情報政策課", "password": PASSWORD, "rules": "on"})
    assert page.error == "氏名に改行は使えません。1行で入力してください。" and not page.done
    assert page.error_field == "name"
    assert mails_to(session, EMAIL, "verify") == []
    session.rollback()
