"""Unclaimed members: never active, claimed by signing up with their
address, or linked to an existing member by 運営."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from kyoso.models import UNSET_ORG_CODE, AuditLog, Membership, Message, Role, Stamp, User, UserStatus
from kyoso.services import account_mail, accounts, channels, people, topics
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.organisations import check_org_code
from kyoso.services.slack_import.claims import link_unclaimed
from tests.services.slack_import.conftest import do_import
from tests.utils.factories import OSAKA, PASSWORD, make_user
from tests.utils.mail import last_link, token_of


@pytest.fixture
def hanako(session: Session, db_url: str, export_dir: Path) -> User:
    """U02 of the standard export, unclaimed."""
    do_import(db_url, export_dir)
    session.expire_all()
    user = session.exec(select(User).where(User.email == "hanako@pref.osaka.lg.jp")).one()
    assert user.status == UserStatus.unclaimed
    return user


def _signup(session: Session, email: str) -> User:
    user = accounts.do_signup(session, accounts.SignupInput(
        email=email, name="佐藤 花子（新）", org_code="270008", department="スマートシティ推進課",
        password=PASSWORD, accepted_rules=True))
    session.commit()
    return user


def _confirm(session: Session, email: str) -> None:
    """The applicant opens the link mailed to the address (it proves the address)."""
    account_mail.confirm_email(session, token_of(last_link(session, email.lower(), "/verify")))
    session.commit()


def test_an_unclaimed_member_cannot_log_in_or_act(session: Session, hanako: User) -> None:
    for password in ("", PASSWORD, "x" * 12):
        with pytest.raises(InvalidInput) as err:
            accounts.authenticate(session, hanako.email, password)
        assert err.value.message == accounts.LOGIN_FAILED
    with pytest.raises(NotAllowed):
        channels.require_active(hanako)
    assert not topics.allowed(session, hanako, "all")
    viewer = make_user(session)
    assert hanako.id not in {p.id for p in people.suggest(session, viewer, "花子")}
    # Shown by name and 団体, as in the history.
    profile = accounts.get_profile(session, viewer, hanako.id or 0)
    assert (profile.name, profile.org_name) == ("佐藤 花子", "大阪府")


def test_signing_up_with_the_address_claims_the_history(session: Session, hanako: User) -> None:
    authored = session.exec(select(Message.id).where(Message.author_id == hanako.id)).all()
    stamps = session.exec(select(Stamp.id).where(Stamp.user_id == hanako.id)).all()
    assert authored and stamps
    applicant = _signup(session, "Hanako@Pref.Osaka.LG.JP")
    assert applicant.id == hanako.id
    assert (applicant.status, applicant.name, applicant.department) == (
        UserStatus.unconfirmed, "佐藤 花子(新)", "スマートシティ推進課")  # NFKC, as every sign-up
    _confirm(session, "hanako@pref.osaka.lg.jp")
    session.refresh(applicant)
    assert applicant.status == UserStatus.pending
    staff = make_user(session, role=Role.moderator)
    accounts.do_review(session, staff, applicant.id or 0, approve=True)
    session.commit()
    user = accounts.authenticate(session, "hanako@pref.osaka.lg.jp", PASSWORD)
    assert user.id == hanako.id and user.status == UserStatus.active
    assert session.exec(select(Message.id).where(Message.author_id == user.id)).all() == authored
    assert session.exec(select(Stamp.id).where(Stamp.user_id == user.id)).all() == stamps
    assert channels.get_channel_by_slug(session, "general").id in {
        c.id for c in channels.my_channels(session, user)}


def test_an_active_address_is_still_refused_at_sign_up(session: Session) -> None:
    make_user(session, email="taken@city.osaka.lg.jp", org=OSAKA)
    with pytest.raises(InvalidInput) as err:
        _signup(session, "taken@city.osaka.lg.jp")
    assert "すでに登録されています" in err.value.message


def test_staff_link_an_unclaimed_member_to_a_member(session: Session, hanako: User) -> None:
    member = make_user(session, email="h.sato@city.osaka.lg.jp", name="佐藤花子", org=OSAKA)
    staff = make_user(session, role=Role.moderator)
    authored = set(session.exec(select(Message.id).where(Message.author_id == hanako.id)).all())
    stamped = set(session.exec(select(Stamp.message_id, Stamp.stamp).where(Stamp.user_id == hanako.id)).all())
    # The member already pressed one of the same stamps: it stays once.
    mid, stamp = sorted(stamped)[0]
    session.add(Stamp(message_id=mid, user_id=member.id, stamp=stamp))  # type: ignore[arg-type]
    session.commit()
    hanako_id = hanako.id
    linked = link_unclaimed(session, staff, hanako_id or 0, "H.Sato@city.osaka.lg.jp")
    session.commit()
    assert linked.id == member.id
    assert session.get(User, hanako_id) is None
    assert authored <= set(session.exec(select(Message.id).where(Message.author_id == member.id)).all())
    assert set(session.exec(select(Stamp.message_id, Stamp.stamp).where(Stamp.user_id == member.id)).all()) == stamped
    assert session.exec(select(Membership).where(Membership.user_id == member.id)).all()
    general = channels.get_channel_by_slug(session, "general")
    session.refresh(general)
    assert general.member_count == 1  # no matched member in this test's import; now 花子
    log = session.exec(select(AuditLog).where(AuditLog.action == "user.link")).one()
    assert log.actor_id == staff.id and log.target_id == member.id and "佐藤 花子" in log.detail


def test_only_staff_link_and_only_to_a_registered_member(session: Session, hanako: User) -> None:
    member = make_user(session)
    with pytest.raises(NotAllowed):
        link_unclaimed(session, member, hanako.id or 0, member.email)
    staff = make_user(session, role=Role.moderator)
    other = session.exec(select(User).where(User.email == "ichiro@example.com")).one()
    with pytest.raises(InvalidInput):
        link_unclaimed(session, staff, hanako.id or 0, other.email)
    with pytest.raises(NotFound):
        link_unclaimed(session, staff, member.id or 0, staff.email)  # not unclaimed
    with pytest.raises(NotFound):
        link_unclaimed(session, staff, hanako.id or 0, "nobody@city.osaka.lg.jp")


def test_the_unset_organisation_is_never_offered(session: Session) -> None:
    with pytest.raises(InvalidInput):
        check_org_code(session, UNSET_ORG_CODE)


def test_a_rejected_claim_gives_the_history_back(session: Session, hanako: User) -> None:
    """Sign-up does not prove the address: until 運営 approve, the claim is only
    an application, and a refused one leaves the member as imported."""
    authored = session.exec(select(Message.id).where(Message.author_id == hanako.id)).all()
    applicant = _signup(session, "hanako@pref.osaka.lg.jp")
    _confirm(session, "hanako@pref.osaka.lg.jp")
    staff = make_user(session, role=Role.moderator)
    accounts.do_review(session, staff, applicant.id or 0, approve=False, reason="所属を確認できませんでした")
    session.commit()
    session.refresh(applicant)
    assert (applicant.status, applicant.name, applicant.org_code, applicant.department, applicant.password_hash) == (
        UserStatus.unclaimed, "佐藤 花子", "270008", "", "")
    assert session.exec(select(Message.id).where(Message.author_id == hanako.id)).all() == authored
    with pytest.raises(InvalidInput):
        accounts.authenticate(session, "hanako@pref.osaka.lg.jp", PASSWORD)
    # It can be claimed again.
    assert _signup(session, "hanako@pref.osaka.lg.jp").id == hanako.id
