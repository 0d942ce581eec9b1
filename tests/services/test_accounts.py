"""Sign-up, review, login and sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import AuthSession, Membership, ReviewDecision, Role, User, UserStatus
from kyoso.services import accounts, channels
from kyoso.services.errors import InvalidInput, NotAllowed, RateLimited
from kyoso.services.security import hash_password, pwd_context
from tests.utils.factories import CHIYODA, DIGITAL, PASSWORD, make_channel, make_user
from tests.utils.mail import confirm_signup


def signup(session: Session, *, confirm: bool = True, **over: object) -> User:
    """Apply, and (unless ``confirm=False``) open the link mailed to the address."""
    data = dict(email="hanako@city.chiyoda.lg.jp", name="共創 花子", org_code=CHIYODA,
                department="情報政策課", password=PASSWORD, accepted_rules=True)
    data.update(over)
    user = accounts.do_signup(session, accounts.SignupInput(**data))  # type: ignore[arg-type]
    session.commit()
    if confirm:
        confirm_signup(session, user.email)
        session.refresh(user)
    return user


def test_signup_creates_a_pending_member(session: Session) -> None:
    user = signup(session)
    assert user.status == UserStatus.pending
    assert user.role == Role.member
    assert user.password_hash.startswith("$argon2")
    assert user.email == "hanako@city.chiyoda.lg.jp"


@pytest.mark.parametrize("email", ["a@city.chiyoda.lg.jp", "b@lg.jp", "c@digital.go.jp", "D@Pref.Kochi.LG.JP"])
def test_allowed_domains_include_subdomains(email: str) -> None:
    assert accounts.is_allowed_email(email.lower())


@pytest.mark.parametrize("email", ["a@gmail.com", "a@lg.jp.example.com", "a@notlg.jp", "a@go.jp.evil.org"])
def test_other_domains_are_refused(session: Session, email: str) -> None:
    with pytest.raises(InvalidInput) as err:
        signup(session, email=email)
    assert err.value.field == "email"
    assert "登録できません" in err.value.message or "形式" in err.value.message


def test_allow_list_is_configurable(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from kyoso.settings import get_settings

    monkeypatch.setenv("KYOSO_ALLOWED_EMAIL_DOMAINS", "lg.jp, example.org")
    get_settings.cache_clear()
    assert accounts.is_allowed_email("x@example.org")
    assert not accounts.is_allowed_email("x@digital.go.jp")
    get_settings.cache_clear()


def test_local_address_cannot_pick_an_agency(session: Session) -> None:
    with pytest.raises(InvalidInput) as err:
        signup(session, org_code=DIGITAL)
    assert err.value.field == "org"
    assert "国の機関" in err.value.message


def test_agency_address_cannot_pick_a_local_government(session: Session) -> None:
    with pytest.raises(InvalidInput) as err:
        signup(session, email="taro@digital.go.jp", org_code=CHIYODA)
    assert err.value.field == "org"


def test_agency_address_signs_up_as_national_staff(session: Session) -> None:
    user = signup(session, email="taro@digital.go.jp", org_code=DIGITAL)
    assert user.role == Role.national


def test_bad_check_digit_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput) as err:
        signup(session, org_code="131017")  # 千代田区 is 131016
    assert "検査数字" in err.value.message


def test_full_width_code_is_accepted(session: Session) -> None:
    assert signup(session, org_code="１３１０１６").org_code == CHIYODA


def test_duplicate_email_is_refused_whatever_the_case(session: Session) -> None:
    signup(session)
    with pytest.raises(InvalidInput) as err:
        signup(session, email="Hanako@City.Chiyoda.LG.JP")
    assert "すでに登録" in err.value.message
    assert len(session.exec(select(User)).all()) == 1


def test_rules_must_be_accepted(session: Session) -> None:
    with pytest.raises(InvalidInput) as err:
        signup(session, accepted_rules=False)
    assert err.value.field == "rules"


def test_short_password_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput):
        signup(session, password="short")


def test_pending_user_cannot_log_in(session: Session) -> None:
    signup(session)
    with pytest.raises(NotAllowed) as err:
        accounts.authenticate(session, "hanako@city.chiyoda.lg.jp", PASSWORD)
    assert "承認待ち" in err.value.message


def test_pending_status_is_not_told_without_the_password(session: Session) -> None:
    signup(session)
    with pytest.raises(InvalidInput) as err:
        accounts.authenticate(session, "hanako@city.chiyoda.lg.jp", "wrong password!")
    assert err.value.message == accounts.LOGIN_FAILED


def test_review_approve_lets_the_user_in_and_is_recorded(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    applicant = signup(session)
    accounts.do_review(session, moderator, applicant.id or 0, approve=True)
    session.commit()
    user = accounts.authenticate(session, applicant.email, PASSWORD)
    assert user.id == applicant.id
    decision = session.exec(select(ReviewDecision)).one()
    assert (decision.reviewer_id, decision.decision) == (moderator.id, "approve")
    assert decision.created_at is not None and decision.created_at.tzinfo is not None


def test_rejected_user_sees_the_reason_and_cannot_log_in(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    applicant = signup(session)
    accounts.do_review(session, moderator, applicant.id or 0, approve=False,
                       reason="所属が確認できませんでした")
    session.commit()
    with pytest.raises(NotAllowed) as err:
        accounts.authenticate(session, applicant.email, PASSWORD)
    assert "所属が確認できませんでした" in err.value.message


def test_rejection_needs_a_reason(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    applicant = signup(session)
    with pytest.raises(InvalidInput):
        accounts.do_review(session, moderator, applicant.id or 0, approve=False, reason="  ")


def test_members_cannot_review(session: Session) -> None:
    member = make_user(session)
    applicant = signup(session)
    with pytest.raises(NotAllowed):
        accounts.do_review(session, member, applicant.id or 0, approve=True)
    with pytest.raises(NotAllowed):
        accounts.list_pending(session, member)
    session.refresh(applicant)
    assert applicant.status == UserStatus.pending


def test_a_decision_cannot_be_made_twice(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    applicant = signup(session)
    accounts.do_review(session, moderator, applicant.id or 0, approve=True)
    with pytest.raises(InvalidInput):
        accounts.do_review(session, moderator, applicant.id or 0, approve=False, reason="x")


def test_wrong_password_and_unknown_email_read_the_same(session: Session) -> None:
    make_user(session, email="known@city.example.lg.jp")
    with pytest.raises(InvalidInput) as a:
        accounts.authenticate(session, "known@city.example.lg.jp", "not the password")
    with pytest.raises(InvalidInput) as b:
        accounts.authenticate(session, "nobody@city.example.lg.jp", "not the password")
    assert a.value.message == b.value.message == accounts.LOGIN_FAILED


def test_repeated_failures_lock_the_address_for_a_while(session: Session) -> None:
    make_user(session, email="known@city.example.lg.jp")
    for _ in range(5):
        with pytest.raises(InvalidInput):
            accounts.authenticate(session, "known@city.example.lg.jp", "nope nope nope")
    # Even the right password is refused until the window has passed.
    with pytest.raises(RateLimited):
        accounts.authenticate(session, "known@city.example.lg.jp", PASSWORD)


def test_outdated_hash_is_upgraded_on_login(session: Session) -> None:
    user = make_user(session)
    user.password_hash = pwd_context.handler("pbkdf2_sha256").hash(PASSWORD)
    session.add(user)
    session.commit()
    accounts.authenticate(session, user.email, PASSWORD)
    session.commit()
    session.refresh(user)
    assert user.password_hash.startswith("$argon2")


def test_session_token_is_stored_hashed_and_resolves(session: Session) -> None:
    user = make_user(session)
    token = accounts.create_session(session, user)
    session.commit()
    stored = session.exec(select(AuthSession)).one()
    assert stored.token_hash != token and token not in stored.token_hash
    assert accounts.user_for_token(session, token).id == user.id  # type: ignore[union-attr]
    assert accounts.user_for_token(session, token + "x") is None


def test_expired_session_does_not_resolve(session: Session) -> None:
    user = make_user(session)
    token = accounts.create_session(session, user)
    stored = session.exec(select(AuthSession)).one()
    stored.expires_at = utcnow() - timedelta(seconds=1)
    session.add(stored)
    session.commit()
    assert accounts.user_for_token(session, token) is None


def test_password_change_ends_other_sessions(session: Session) -> None:
    user = make_user(session)
    other = accounts.create_session(session, user)
    mine = accounts.create_session(session, user)
    fresh = accounts.change_password(session, user, PASSWORD, "a brand new password", keep_token=mine)
    session.commit()
    assert accounts.user_for_token(session, other) is None
    assert accounts.user_for_token(session, mine) is None
    assert fresh and accounts.user_for_token(session, fresh).id == user.id  # type: ignore[union-attr]


def test_log_out_everywhere(session: Session) -> None:
    user = make_user(session)
    tokens = [accounts.create_session(session, user) for _ in range(3)]
    accounts.end_all_sessions(session, user)
    session.commit()
    assert all(accounts.user_for_token(session, t) is None for t in tokens)


def test_suspended_user_session_stops_working(session: Session) -> None:
    user = make_user(session)
    token = accounts.create_session(session, user)
    user.status = UserStatus.suspended
    session.add(user)
    session.commit()
    assert accounts.user_for_token(session, token) is None


def test_profile_of_another_member_has_no_email(session: Session) -> None:
    viewer = make_user(session)
    other = make_user(session, name="佐藤 一郎")
    profile = accounts.get_profile(session, viewer, other.id or 0)
    assert profile.name == "佐藤 一郎"
    assert "@" not in repr(profile)
    assert not profile.is_self


def test_hashing_uses_argon2() -> None:
    assert hash_password("abcdefghijk").startswith("$argon2id$")


@pytest.mark.parametrize("name", ["山田\r\nBcc: all@example.lg.jp", "山田\n花子", "山田\u2028花子"])
def test_a_name_with_a_line_break_is_refused(session: Session, name: str) -> None:
    """A name goes into mail headers (To:) and every page: a line break in it
    is refused with a message, not joined up silently."""
    with pytest.raises(InvalidInput, match="改行は使えません"):
        accounts.create_user(session, email="newline@city.example.lg.jp", password=PASSWORD, name=name,
                             org_code=CHIYODA)
    user = make_user(session)
    with pytest.raises(InvalidInput, match="改行は使えません"):
        accounts.update_profile(session, user, name=name, department="", bio="", interests="")
def test_new_members_join_the_default_channels(session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    oshirase = make_channel(session, announcement=True)
    topic = make_channel(session)
    assert oshirase.join_by_default and not topic.join_by_default
    channels.update_channel(session, admin, topic.id or 0, name=topic.name, description="",
                            allow_replies=True, join_by_default=True)
    newcomer = make_user(session)
    for channel in (oshirase, topic):
        assert session.get(Membership, (channel.id, newcomer.id)) is not None
        session.refresh(channel)
        assert channel.member_count == 1


def test_an_approved_applicant_is_in_oshirase_but_a_rejected_one_is_not(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    oshirase = make_channel(session, announcement=True)
    applicant = signup(session)
    assert session.get(Membership, (oshirase.id, applicant.id)) is None
    accounts.do_review(session, moderator, applicant.id or 0, approve=True)
    assert session.get(Membership, (oshirase.id, applicant.id)) is not None
