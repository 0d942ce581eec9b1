"""Sign-up confirmation and password reset by mail (read from the outbox)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import AuditLog, MailToken, Organisation, Outbox, Role, User, UserStatus
from kyoso.services import account_mail, accounts
from kyoso.services.errors import InvalidInput, NotAllowed, RateLimited
from kyoso.services.mail import links
from tests.utils.factories import CHIYODA, DIGITAL, PASSWORD, SAPPORO, SOUMU, make_user
from tests.utils.mail import last_link, mails_to, token_of

EMAIL = "hanako@city.chiyoda.lg.jp"


def apply(session: Session, **over: object) -> User:
    data = dict(email=EMAIL, name="共創 花子", org_code=CHIYODA, department="情報政策課",
                password=PASSWORD, accepted_rules=True)
    data.update(over)
    user = accounts.do_signup(session, accounts.SignupInput(**data))  # type: ignore[arg-type]
    session.commit()
    return user


def verify_token(session: Session, address: str = EMAIL) -> str:
    return token_of(last_link(session, address, "/verify"))


def expire_tokens(session: Session) -> None:
    session.execute(sa.update(MailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()


# ---------------------------------------------------------------------------
# Confirmation at sign-up
# ---------------------------------------------------------------------------


def test_an_application_reaches_review_only_once_confirmed(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    user = apply(session)
    assert user.status == UserStatus.unconfirmed
    [mail] = mails_to(session, EMAIL, "verify")
    assert "共創 花子 様" in mail.body_text and "東京都千代田区" in mail.body_text
    assert "24時間" in mail.body_text and mail.status == "held"
    assert accounts.list_pending(session, moderator) == []
    with pytest.raises(NotAllowed) as err:
        accounts.authenticate(session, EMAIL, PASSWORD)
    assert "メールアドレスの確認" in err.value.message

    account_mail.confirm_email(session, verify_token(session))
    session.commit()
    assert [u.email for u, _ in accounts.list_pending(session, moderator)] == [EMAIL]
    [view] = account_mail.review_queue(session, moderator)
    assert (view.email, view.email_fit) == (EMAIL, "一致")


def test_a_used_expired_or_forged_link_says_why_and_changes_nothing(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    apply(session)
    token = verify_token(session)
    with pytest.raises(InvalidInput) as forged:
        account_mail.confirm_email(session, token[:-2] + "xx")
    assert "無効" in forged.value.message
    with pytest.raises(InvalidInput):
        account_mail.confirm_email(session, "")
    expire_tokens(session)
    with pytest.raises(InvalidInput) as expired:
        account_mail.confirm_email(session, token)
    assert "有効期限（24時間）" in expired.value.message
    session.rollback()
    assert session.exec(select(User).where(User.email == EMAIL)).one().status == UserStatus.unconfirmed
    assert accounts.list_pending(session, moderator) == []

    account_mail.resend_confirmation(session, EMAIL)
    session.commit()
    fresh = verify_token(session)
    assert fresh != token
    account_mail.confirm_email(session, fresh)
    session.commit()
    with pytest.raises(InvalidInput) as reused:
        account_mail.confirm_email(session, fresh)
    assert "すでに使われています" in reused.value.message


def test_a_reset_link_cannot_confirm_an_address(session: Session) -> None:
    user = apply(session)
    token = links.issue(session, user, links.RESET)
    with pytest.raises(InvalidInput):
        account_mail.confirm_email(session, token)


def test_resend_has_a_limit_and_answers_the_same_for_unknown_addresses(session: Session) -> None:
    apply(session)
    known = account_mail.resend_confirmation(session, EMAIL)
    unknown = account_mail.resend_confirmation(session, "nobody@city.chiyoda.lg.jp")
    assert known == unknown
    account_mail.resend_confirmation(session, EMAIL)
    account_mail.resend_confirmation(session, EMAIL)
    with pytest.raises(RateLimited):
        account_mail.resend_confirmation(session, EMAIL)
    session.commit()
    assert len(mails_to(session, EMAIL, "verify")) == 4  # the sign-up's and three more
    assert mails_to(session, "nobody@city.chiyoda.lg.jp") == []


def test_an_unconfirmed_address_can_apply_again_once_its_link_expired(session: Session) -> None:
    apply(session, name="誰か 他人")
    with pytest.raises(InvalidInput):
        apply(session)
    session.rollback()
    expire_tokens(session)
    user = apply(session, name="共創 花子")
    assert user.name == "共創 花子"
    assert session.exec(select(sa.func.count()).select_from(User).where(User.email == EMAIL)).one() == 1


def test_cli_users_are_active_and_get_no_mail(session: Session) -> None:
    user = make_user(session)
    assert user.status == UserStatus.active
    assert session.exec(select(Outbox)).all() == []


@pytest.mark.parametrize("org,email,fit", [
    (SAPPORO, "a@city.sapporo.lg.jp", "一致"),
    (CHIYODA, "a@city.chiyoda.lg.jp", "一致"),
    (CHIYODA, "a@city.sapporo.lg.jp", "要確認"),
    ("390003", "a@pref.kochi.lg.jp", "一致"),  # 高知県
    ("270008", "a@pref.osaka.lg.jp", "一致"),  # 大阪府: おおさか spelt osaka
    (SOUMU, "a@soumu.go.jp", "一致"),
    (DIGITAL, "a@soumu.go.jp", "要確認"),
    (CHIYODA, "a@lg.jp", "要確認"),
])
def test_the_reviewer_sees_whether_the_domain_fits_the_organisation(session: Session, org: str, email: str,
                                                                     fit: str) -> None:
    organisation = session.get(Organisation, org)
    assert organisation is not None
    assert account_mail.email_fit(organisation, email) == fit


# ---------------------------------------------------------------------------
# Password reset
# ---------------------------------------------------------------------------


def test_reset_answers_the_same_for_unknown_addresses_and_mails_only_members(session: Session) -> None:
    member = make_user(session, email="known@city.example.lg.jp")
    a = account_mail.request_password_reset(session, member.email)
    b = account_mail.request_password_reset(session, "nobody@city.example.lg.jp")
    assert a == b
    session.commit()
    assert len(mails_to(session, member.email, "reset")) == 1
    assert mails_to(session, "nobody@city.example.lg.jp") == []
    with pytest.raises(InvalidInput):
        account_mail.request_password_reset(session, "")


def test_reset_is_rate_limited_for_known_and_unknown_alike(session: Session) -> None:
    for address in ("known@city.example.lg.jp", "nobody@city.example.lg.jp"):
        for _ in range(account_mail.RESET_LIMIT):
            account_mail.request_password_reset(session, address)
        with pytest.raises(RateLimited):
            account_mail.request_password_reset(session, address)


def test_a_new_password_ends_every_session(session: Session) -> None:
    member = make_user(session)
    old = accounts.create_session(session, member)
    session.commit()
    account_mail.request_password_reset(session, member.email)
    session.commit()
    token = token_of(last_link(session, member.email, "/password/reset"))
    assert account_mail.check_reset_link(session, token).name == member.name
    with pytest.raises(InvalidInput):  # too short: the link stays usable
        account_mail.reset_password(session, token, "short")
    account_mail.reset_password(session, token, "a brand new password")
    session.commit()
    assert accounts.user_for_token(session, old) is None
    assert accounts.authenticate(session, member.email, "a brand new password").id == member.id
    with pytest.raises(InvalidInput) as reused:
        account_mail.reset_password(session, token, "another new password")
    assert "すでに使われています" in reused.value.message


def test_an_expired_or_forged_reset_link_changes_nothing(session: Session) -> None:
    member = make_user(session)
    account_mail.request_password_reset(session, member.email)
    session.commit()
    token = token_of(last_link(session, member.email, "/password/reset"))
    with pytest.raises(InvalidInput) as forged:
        account_mail.reset_password(session, "forged-token", "a brand new password")
    assert "無効" in forged.value.message
    session.execute(sa.update(MailToken).values(expires_at=utcnow() + timedelta(minutes=30) - timedelta(minutes=31)))
    session.commit()
    with pytest.raises(InvalidInput) as expired:
        account_mail.check_reset_link(session, token)
    assert "30分" in expired.value.message
    with pytest.raises(InvalidInput):
        account_mail.reset_password(session, token, "a brand new password")
    session.rollback()
    assert accounts.authenticate(session, member.email, PASSWORD).id == member.id


def test_staff_can_send_a_member_a_reset_link(session: Session) -> None:
    staff = make_user(session, role=Role.moderator)
    member = make_user(session)
    with pytest.raises(NotAllowed):
        account_mail.send_reset_link(session, member, staff.id or 0)
    account_mail.send_reset_link(session, staff, member.id or 0)
    session.commit()
    [mail] = mails_to(session, member.email, "reset")
    assert "運営があなたのアカウント" in mail.body_text
    assert session.exec(select(AuditLog).where(AuditLog.action == "password.reset_link")).one().target_id == member.id
