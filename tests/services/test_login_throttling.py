"""Login throttling that an attacker cannot turn against the owner (OWASP:
failures count where they were made; a browser that logged in before has its own count)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from kyoso.db import utcnow
from kyoso.models import LoginDevice

from kyoso.services import accounts
from kyoso.ops.client_address import resolve
from kyoso.services.errors import InvalidInput, RateLimited
from kyoso.settings import get_settings
from tests.utils.factories import PASSWORD, make_user

ATTACKER, OWNER, GATEWAY = "203.0.113.66", "198.51.100.7", "192.0.2.1"


def _fail(session: Session, email: str, times: int, *, client_key: str, device: str = "") -> None:
    for _ in range(times):
        with pytest.raises((InvalidInput, RateLimited)):
            accounts.log_in(session, email, "wrong password!!", client_key=client_key, device=device)


def test_failures_from_another_address_never_lock_the_owner_out(session: Session) -> None:
    owner = make_user(session)
    _fail(session, owner.email, 20, client_key=ATTACKER)
    # The attacker's address is locked for this account, even with the right password...
    with pytest.raises(RateLimited):
        accounts.log_in(session, owner.email, PASSWORD, client_key=ATTACKER)
    # ...the owner at their own address is not.
    assert accounts.log_in(session, owner.email, PASSWORD, client_key=OWNER).user.id == owner.id


def test_two_accounts_behind_one_gateway(session: Session) -> None:
    """Someone behind the 自治体's gateway failing on a colleague's account locks
    neither the colleague nor anyone else behind the same address."""
    victim, bystander = make_user(session), make_user(session)
    device = accounts.log_in(session, victim.email, PASSWORD, client_key=GATEWAY).device
    _fail(session, victim.email, 10, client_key=GATEWAY)
    assert accounts.log_in(session, bystander.email, PASSWORD, client_key=GATEWAY).user.id == bystander.id
    # The victim's own browser (it logged in before) is never locked out...
    assert accounts.log_in(session, victim.email, PASSWORD, client_key=GATEWAY, device=device).user.id == victim.id
    # ...only a browser new to the account, behind the attacker's own address, waits.
    with pytest.raises(RateLimited):
        accounts.log_in(session, victim.email, PASSWORD, client_key=GATEWAY)


def test_a_browser_that_logged_in_before_counts_only_its_own_failures(session: Session) -> None:
    owner = make_user(session)
    device = accounts.log_in(session, owner.email, PASSWORD, client_key=GATEWAY).device
    assert device
    _fail(session, owner.email, 60, client_key=GATEWAY)  # more than every untrusted limit
    again = accounts.log_in(session, owner.email, PASSWORD, client_key=GATEWAY, device=device)
    assert again.user.id == owner.id and again.device == device
    # Its own failures do count: it is not a way around the limit.
    _fail(session, owner.email, 5, client_key=GATEWAY, device=device)
    with pytest.raises(RateLimited):
        accounts.log_in(session, owner.email, PASSWORD, client_key=GATEWAY, device=device)


def test_another_accounts_device_token_gives_nothing(session: Session) -> None:
    owner, mallory = make_user(session), make_user(session)
    device = accounts.log_in(session, mallory.email, PASSWORD, client_key=ATTACKER).device
    _fail(session, owner.email, 5, client_key=ATTACKER, device=device)
    with pytest.raises(RateLimited):
        accounts.log_in(session, owner.email, PASSWORD, client_key=ATTACKER, device=device)


def test_the_per_address_limit_is_generous_and_configurable(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYOSO_LOGIN_MAX_FAILURES_PER_ADDRESS", "12")
    get_settings.cache_clear()
    try:
        users = [make_user(session) for _ in range(4)]
        for u in users[:3]:
            _fail(session, u.email, 4, client_key=GATEWAY)  # 12 failures at the gateway, 4 per account
        with pytest.raises(RateLimited):
            accounts.log_in(session, users[3].email, PASSWORD, client_key=GATEWAY)
        assert accounts.log_in(session, users[3].email, PASSWORD, client_key=OWNER).user.id == users[3].id
    finally:
        monkeypatch.delenv("KYOSO_LOGIN_MAX_FAILURES_PER_ADDRESS")
        get_settings.cache_clear()
    assert get_settings().login_max_failures_per_address >= 100


def test_guessing_from_many_addresses_is_slowed_for_unknown_browsers(session: Session) -> None:
    owner = make_user(session)
    limit = get_settings().login_max_failures_per_account
    for i in range(limit // 4 + 1):
        _fail(session, owner.email, 4, client_key=f"10.0.{i}.1")
    with pytest.raises(RateLimited):
        accounts.log_in(session, owner.email, PASSWORD, client_key="10.9.9.9")


@pytest.mark.parametrize(("peer", "header", "hops", "expected"), [
    ("10.0.0.5", "203.0.113.9", 0, "10.0.0.5"),                      # header ignored without proxies
    ("10.0.0.5", "203.0.113.9", 1, "203.0.113.9"),                   # one proxy: right-most entry
    ("10.0.0.5", "6.6.6.6, 203.0.113.9", 1, "203.0.113.9"),          # a forged entry on the left is ignored
    ("10.0.0.5", "6.6.6.6, 203.0.113.9, 10.0.0.4", 2, "203.0.113.9"),  # two proxies
    ("10.0.0.5", "203.0.113.9", 2, "10.0.0.5"),                      # fewer entries than proxies: the peer
    ("10.0.0.5", "not-an-address", 1, "10.0.0.5"),
    ("10.0.0.5", None, 1, "10.0.0.5"),
    ("10.0.0.5", " 2001:db8::1 ", 1, "2001:db8::1"),
])
def test_client_address_takes_only_trusted_hops(peer: str, header: str | None, hops: int, expected: str) -> None:
    assert resolve(peer, header, hops) == expected


def test_a_browser_unused_for_a_year_is_a_stranger_again(session: Session) -> None:
    owner = make_user(session)
    device = accounts.log_in(session, owner.email, PASSWORD, client_key=OWNER).device
    session.execute(sa.update(LoginDevice).values(last_used_at=utcnow() - timedelta(days=accounts.DEVICE_DAYS + 1)))
    accounts.purge_expired_sessions(session)
    session.commit()
    assert accounts.log_in(session, owner.email, PASSWORD, client_key=OWNER, device=device).device != device
