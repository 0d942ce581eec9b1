"""Accounts: sign-up with review by 運営, login sessions, profiles.

Nobody gets in who is not government staff: the e-mail domain must be on the
allow list, the 団体 must match the kind of address (lg.jp → a local government,
go.jp → a national agency), and 運営 approve every application.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import utcnow
from kyoso.models import (
    AuditLog,
    AuthSession,
    MailToken,
    LoginDevice,
    Channel,
    Membership,
    Message,
    Organisation,
    ReviewDecision,
    Role,
    SlackImportUser,
    User,
    UserStatus,
)
from kyoso.services import events, ratelimit
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound, RateLimited
from kyoso.services.mail import links as mail_links
from kyoso.services.events import ChannelChanged, record
from kyoso.services.organisations import check_org_code
from kyoso.services.security import hash_password, hash_token, new_token, verify_password
from kyoso.services.text import clean_line, clean_name, clean_text
from kyoso.services.timefmt import jst_date, jst_datetime
from kyoso.settings import get_settings

PASSWORD_MIN = 10
PASSWORD_MAX = 128
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")

LOGIN_FAILED = "メールアドレスまたはパスワードが正しくありません。"
LOGIN_LOCKED = (
    "ログインの失敗が続いたため、しばらくログインできません。"
    "15分ほど待ってから、もう一度お試しください。"
)

# The 参加ルール every member accepts at sign-up (product.md).
RULES: tuple[str, ...] = (
    "投稿は個人としての意見であり、所属組織の公式見解ではありません。公式な回答は正式な経路で行います。",
    "互いの立場を尊重します。返信を「いいえ」「違います」から始めないようにしましょう。",
    "知見を共有できるよう、ダイレクトメッセージではなくチャンネルで話しましょう。",
    "所属や役職にかかわらず前向きに投稿します。「お世話になっております」などの定型の挨拶は省きましょう。",
    "他の人の投稿やアイデアを外部のSNS等に転載しません。誹謗中傷やスパムは禁止です。",
    "長期間利用のないアカウントは削除されることがあります。",
)


# ---------------------------------------------------------------------------
# E-mail addresses
# ---------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return clean_line(email, label="メールアドレス", max_len=254, nfkc=True).lower()


def email_domain_kind(email: str) -> str | None:
    """'local' for an lg.jp address, 'agency' for go.jp, None for other domains."""
    domain = email.rsplit("@", 1)[-1]
    if domain == "lg.jp" or domain.endswith(".lg.jp"):
        return "local"
    if domain == "go.jp" or domain.endswith(".go.jp"):
        return "agency"
    return None


def is_allowed_email(email: str, allowed: tuple[str, ...] | None = None) -> bool:
    allowed = get_settings().allowed_email_domains if allowed is None else allowed
    domain = email.rsplit("@", 1)[-1]
    return any(domain == d or domain.endswith("." + d) for d in allowed)


def check_email(email: str) -> str:
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise InvalidInput(
            "メールアドレスの形式が正しくありません（例: taro@city.example.lg.jp）。", field="email"
        )
    if not is_allowed_email(email):
        domains = "、".join(get_settings().allowed_email_domains)
        raise InvalidInput(
            f"このメールアドレスでは登録できません。所属団体のメールアドレス（{domains}）をお使いください。",
            field="email",
        )
    return email


def check_password_strength(password: str) -> str:
    password = password or ""
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"パスワードは{PASSWORD_MIN}文字以上で入力してください。", field="password")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"パスワードは{PASSWORD_MAX}文字以内で入力してください。", field="password")
    return password


def check_org_for_email(org: Organisation, email: str) -> None:
    kind = email_domain_kind(email)
    if kind == "local" and org.is_agency:
        raise InvalidInput(
            "lg.jp のメールアドレスでは国の機関は選べません。所属する自治体を選んでください。", field="org"
        )
    if kind == "agency" and not org.is_agency:
        raise InvalidInput(
            "go.jp のメールアドレスでは自治体は選べません。所属する府省庁を選んでください。", field="org"
        )


# ---------------------------------------------------------------------------
# Sign-up and review
# ---------------------------------------------------------------------------


@dataclass
class SignupInput:
    email: str
    name: str
    org_code: str
    department: str
    password: str
    accepted_rules: bool


def do_signup(session: Session, data: SignupInput, *, client_key: str = "") -> User:
    """Record an application. The account stays pending until 運営 approve it."""
    email = check_email(data.email)
    name = clean_name(data.name)
    org = check_org_code(session, data.org_code)
    check_org_for_email(org, email)
    department = clean_line(data.department, label="部課名", max_len=100)
    password = check_password_strength(data.password)
    if not data.accepted_rules:
        raise InvalidInput("参加ルールを読み、同意するにチェックを入れてください。", field="rules")
    if client_key:
        ratelimit.check(
            session, [f"signup:{client_key}"], limit=10, within=timedelta(hours=1),
            message="短時間に多くの申請がありました。1時間ほど待ってから、もう一度お試しください。",
        )
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None and user.status != UserStatus.unclaimed and not _replaceable(session, user):
        raise InvalidInput(
            "このメールアドレスはすでに登録されています。ログインするか、運営にお問い合わせください。",
            field="email",
        )
    # An imported member with this address (services/slack_import) becomes the
    # application, keeping its id: once confirmed and approved, its history and
    # stamps are the applicant's (a rejected application gives them back: do_review).
    user = user or User(email=email)
    user.name, user.org_code, user.department = name, org.code, department
    user.role = Role.national if org.is_agency else Role.member
    # In review only once the address has confirmed the link mailed to it.
    user.status, user.password_hash = UserStatus.unconfirmed, hash_password(password)
    user.created_at = utcnow()
    session.add(user)
    if client_key:
        ratelimit.hit(session, f"signup:{client_key}")
    try:
        session.flush()
    except sa.exc.IntegrityError:  # a concurrent sign-up with the same address
        session.rollback()
        raise InvalidInput("このメールアドレスはすでに登録されています。", field="email") from None
    mail_links.queue_confirmation(session, user, org.display_name)
    return user


def _replaceable(session: Session, user: User) -> bool:
    """An application whose address never confirmed, and whose link has
    expired, may be made again (a typo, or someone else's address)."""
    if user.status != UserStatus.unconfirmed:
        return False
    live = session.exec(select(MailToken.id).where(
        MailToken.user_id == user.id, MailToken.purpose == mail_links.VERIFY,
        col(MailToken.used_at).is_(None), MailToken.expires_at > utcnow())).first()
    return live is None


def require_staff(user: User | None) -> User:
    if user is None or user.status != UserStatus.active or not user.is_staff:
        raise NotAllowed("この操作は運営だけが行えます。")
    return user


def list_pending(session: Session, reviewer: User) -> list[tuple[User, Organisation]]:
    require_staff(reviewer)
    stmt = (
        select(User, Organisation)
        .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(User.status == UserStatus.pending)
        .order_by(User.created_at, User.id)  # type: ignore[arg-type]
    )
    return list(session.exec(stmt).all())


def do_review(session: Session, reviewer: User, applicant_id: int, *, approve: bool,
              reason: str = "") -> User:
    """Approve or reject a pending application; the decision is recorded."""
    require_staff(reviewer)
    applicant = session.get(User, applicant_id)
    if applicant is None:
        raise NotFound("申請が見つかりません。")
    if applicant.status != UserStatus.pending:
        raise InvalidInput("この申請はすでに審査済みです。画面を更新してください。")
    reason = clean_text(reason, label="理由", max_len=1000, required=not approve)
    now = utcnow()
    applicant.status = UserStatus.active if approve else UserStatus.rejected
    applicant.rejection_reason = "" if approve else reason
    applicant.reviewed_at = now
    imported = None if approve else session.exec(
        select(SlackImportUser).where(SlackImportUser.user_id == applicant.id)).first()
    if imported is not None:
        # The application had claimed an imported member: refused, the history
        # goes back to that member, unclaimed, as imported.
        applicant.status, applicant.password_hash = UserStatus.unclaimed, ""
        applicant.name, applicant.org_code = imported.name, imported.org_code
        applicant.department = imported.department
        end_all_sessions(session, applicant)
    session.add(ReviewDecision(
        applicant_id=applicant.id, reviewer_id=reviewer.id,  # type: ignore[arg-type]
        decision="approve" if approve else "reject", reason=reason, created_at=now,
    ))
    session.add(AuditLog(
        actor_id=reviewer.id, action="signup.approve" if approve else "signup.reject",
        target_type="user", target_id=applicant.id, detail=reason, created_at=now,
    ))
    session.flush()
    if approve:
        join_default_channels(session, applicant)
    return applicant


def join_default_channels(session: Session, user: User) -> list[int]:
    """A new active member joins every channel marked ``join_by_default``
    (お知らせ among them), reading from now on. Written here rather than with
    ``channels.join`` because channels imports this module."""
    channel_ids = [cid for cid in session.exec(select(Channel.id).where(
        col(Channel.join_by_default).is_(True), col(Channel.archived_at).is_(None))).all()]
    joined = []
    for cid in channel_ids:
        if session.get(Membership, (cid, user.id)) is not None:
            continue
        latest = session.exec(select(sa.func.max(Message.id)).where(
            Message.channel_id == cid, col(Message.parent_id).is_(None))).one() or 0
        session.add(Membership(channel_id=cid, user_id=user.id, last_read_id=int(latest)))  # type: ignore[arg-type]
        joined.append(cid)
    if joined:
        session.flush()
        for cid in joined:
            session.execute(sa.update(Channel).where(Channel.id == cid).values(
                member_count=select(sa.func.count()).select_from(Membership)
                .where(Membership.channel_id == cid).scalar_subquery()))
            record(session, ChannelChanged(cid))
    return joined


def review_history(session: Session, reviewer: User, *, limit: int = 50) -> list[ReviewDecision]:
    require_staff(reviewer)
    stmt = select(ReviewDecision).order_by(ReviewDecision.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
    return list(session.exec(stmt).all())



@dataclass
class ApplicantView:
    """A sign-up waiting for review, as 運営 sees it."""

    id: int = 0
    name: str = ""
    email: str = ""
    org_name: str = ""
    org_code: str = ""
    department: str = ""
    applied_at: str = ""


@dataclass
class DecisionView:
    applicant: str = ""
    reviewer: str = ""
    decision: str = ""
    reason: str = ""
    at: str = ""


def applicants(session: Session, reviewer: User) -> list[ApplicantView]:
    return [ApplicantView(u.id or 0, u.name, u.email, o.display_name, o.code, u.department,
                          jst_datetime(u.created_at))
            for u, o in list_pending(session, reviewer)]


def decisions(session: Session, reviewer: User, *, limit: int = 30) -> list[DecisionView]:
    rows = review_history(session, reviewer, limit=limit)
    ids = {d.applicant_id for d in rows} | {d.reviewer_id for d in rows}
    names = dict(session.exec(select(User.id, User.name).where(col(User.id).in_(ids))).all()) if ids else {}
    return [DecisionView(names.get(d.applicant_id, "?"), names.get(d.reviewer_id, "?"),
                         "承認" if d.decision == "approve" else "却下", d.reason, jst_datetime(d.created_at))
            for d in rows]

def create_user(session: Session, *, email: str, password: str, name: str, org_code: str,
                department: str = "", role: str = Role.member) -> User:
    """An active account without review (the ``kyoso user add`` command, demo data)."""
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise InvalidInput("メールアドレスの形式が正しくありません。", field="email")
    org = check_org_code(session, org_code)
    if role not in set(Role):
        raise InvalidInput(f"役割は {', '.join(Role)} のいずれかです。", field="role")
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise InvalidInput("このメールアドレスはすでに登録されています。", field="email")
    user = User(
        email=email, name=clean_name(name), org_code=org.code,
        department=clean_line(department, label="部課名", max_len=100, required=False),
        role=role, status=UserStatus.active, password_hash=hash_password(check_password_strength(password)),
        reviewed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    join_default_channels(session, user)
    return user


# ---------------------------------------------------------------------------
# Login sessions
# ---------------------------------------------------------------------------


# Login throttling (OWASP's "Blocking Brute Force Attacks" and device
# cookies). Counting failures per account and refusing the account for a while
# lets anyone lock its owner out: six wrong passwords for someone else's
# address, renewed every window. So failures are counted where they were
# made, never only per account:
#   - a browser that logged in to the account before presents its device
#     token: only that browser's own failures count against it;
#   - any other browser: failures per account *from its client address*
#     (``login_max_failures``), per address over all accounts (generous: one
#     LGWAN gateway may carry a whole 自治体), and per account from all unknown
#     browsers together (``login_max_failures_per_account``: slows guessing
#     from many addresses; the owner's known browsers are not affected).
# A refused attempt costs what a real one costs (a dummy hash check).


@dataclass
class LoginResult:
    user: User
    device: str  # the browser's device token (new, or the one it presented)


def _device_user(session: Session, device: str) -> int | None:
    if not device or len(device) > 100:
        return None
    return session.exec(select(LoginDevice.user_id).where(
        LoginDevice.token_hash == hash_token(device))).first()


def _login_keys(email: str, client_key: str, device: str | None) -> list[tuple[str, int]]:
    """(rate key, limit) that a failure counts against and that refuse an attempt."""
    settings = get_settings()
    if device:
        return [(f"login:device:{hash_token(device)}", settings.login_max_failures)]
    address = client_key or "-"
    keys = [(f"login:email-addr:{email}|{address}", settings.login_max_failures),
            (f"login:addr:{address}", settings.login_max_failures_per_address)]
    if settings.login_max_failures_per_account > 0:
        keys.append((f"login:email-untrusted:{email}", settings.login_max_failures_per_account))
    return keys


def log_in(session: Session, email: str, password: str, *, client_key: str = "",
           device: str = "") -> LoginResult:
    """Check an e-mail address and password; a browser that logged in to this
    account before (its ``device`` token) is throttled on its own failures only.

    Unknown addresses are verified against a dummy hash, so the time taken does
    not reveal whether an account exists. The status of an application is only
    told to someone who knows its password.
    """
    settings = get_settings()
    email = (email or "").strip().lower()[:254]
    window = timedelta(minutes=settings.login_failure_window_minutes)
    user = session.exec(select(User).where(User.email == email)).first()
    trusted = device if user is not None and _device_user(session, device) == user.id else None
    keys = _login_keys(email, client_key, trusted)
    if any(ratelimit.count(session, key, within=window) >= limit for key, limit in keys):
        verify_password(password or "", None)  # same cost as a real attempt
        raise RateLimited(LOGIN_LOCKED)
    ok, new_hash = verify_password(password or "", user.password_hash if user else None)
    if user is None or not ok:
        for key, _ in keys:
            ratelimit.hit(session, key)
        session.commit()  # the failure counts even though we raise
        raise InvalidInput(LOGIN_FAILED, field="password")
    ratelimit.clear(session, keys[0][0])
    if new_hash:
        user.password_hash = new_hash
    if user.status == UserStatus.unclaimed:  # no password: never reached, but never let in
        raise InvalidInput(LOGIN_FAILED, field="password")
    if user.status == UserStatus.unconfirmed:
        raise NotAllowed("メールアドレスの確認が済んでいません。申請したアドレスに届いたメールのリンクを開いてください。")
    if user.status == UserStatus.pending:
        raise NotAllowed("アカウントは運営の承認待ちです。承認まで数日かかることがあります。")
    if user.status == UserStatus.rejected:
        reason = f"理由: {user.rejection_reason}" if user.rejection_reason else ""
        raise NotAllowed(f"この申請は承認されませんでした。{reason}")
    if user.status == UserStatus.suspended:
        raise NotAllowed("このアカウントは利用停止中です。運営にお問い合わせください。")
    now = utcnow()
    user.last_login_at = now
    if trusted:
        session.execute(sa.update(LoginDevice).where(LoginDevice.token_hash == hash_token(trusted))
                        .values(last_used_at=now))
        return LoginResult(user, trusted)
    fresh = new_token()
    session.add(LoginDevice(token_hash=hash_token(fresh), user_id=user.id, created_at=now,  # type: ignore[arg-type]
                            last_used_at=now))
    return LoginResult(user, fresh)


def authenticate(session: Session, email: str, password: str, *, client_key: str = "",
                 device: str = "") -> User:
    """``log_in`` without the device token: the user."""
    return log_in(session, email, password, client_key=client_key, device=device).user


def create_session(session: Session, user: User) -> str:
    """Start a session and return its token; only its hash is stored."""
    token = new_token()
    now = utcnow()
    session.add(AuthSession(
        token_hash=hash_token(token), user_id=user.id,  # type: ignore[arg-type]
        created_at=now, last_seen_at=now,
        expires_at=now + timedelta(days=get_settings().session_days),
        session_epoch=user.session_epoch,
    ))
    session.flush()
    return token


# token hash -> (user id, session epoch, expiry, checked at): every event of a
# page checks its token, so the session row is read at most once per
# SESSION_CACHE_SECONDS per process. The user row itself is read every time,
# so a suspension or "log out everywhere" (which bump status or epoch) takes
# effect at once; only deleting one session row can take that long to be seen.
SESSION_CACHE_SECONDS = 10.0
_session_cache: dict[str, tuple[int, int, datetime, float]] = {}
_AUTH_T = AuthSession.__table__  # type: ignore[attr-defined]
# Every page load's first event misses the cache: the session row and its
# member in one statement, built once.
_USER_BY_SESSION_HASH = (
    select(User, AuthSession.session_epoch, AuthSession.expires_at)
    .join(AuthSession, AuthSession.user_id == User.id)  # type: ignore[arg-type]
    .where(AuthSession.token_hash == sa.bindparam("p_hash")))
# Every event's token check reads the member: built once (``Session.get``
# builds and keys its query on each call: 110 against 77 us on SQLite).
_USER_BY_ID = select(User).where(User.id == sa.bindparam("p_user"))


def user_for_token(session: Session, token: str | None) -> User | None:
    """The active user a session token belongs to, or None."""
    if not token or len(token) > 100:
        return None
    digest = hash_token(token)
    now = utcnow()
    cached = _session_cache.get(digest)
    if cached is not None and time.monotonic() - cached[3] < SESSION_CACHE_SECONDS:
        user_id, epoch, expires_at = cached[0], cached[1], cached[2]
        user = session.exec(_USER_BY_ID, params={"p_user": user_id}).first()
    else:
        row = session.execute(_USER_BY_SESSION_HASH, {"p_hash": digest}).first()
        if row is None:
            _session_cache.pop(digest, None)
            return None
        user, epoch, expires_at = row
        user_id = user.id
        if len(_session_cache) > 50_000:
            _session_cache.clear()
        _session_cache[digest] = (user_id, epoch, expires_at, time.monotonic())
    if user is None or expires_at <= now or epoch != user.session_epoch:
        return None
    if user.status != UserStatus.active:
        return None
    return user


def end_session(session: Session, token: str) -> None:
    """Log out: this session stops working and its open tabs leave every live room."""
    digest = hash_token(token)
    _session_cache.pop(digest, None)
    user_id = session.exec(select(AuthSession.user_id).where(AuthSession.token_hash == digest)).first()
    session.exec(sa.delete(AuthSession).where(AuthSession.token_hash == digest))  # type: ignore[call-overload]
    if user_id is not None:
        events.record(session, events.SessionsEnded(user_id, token_hash=digest))


def end_all_sessions(session: Session, user: User, *, keep_token: str = "") -> None:
    """Log out everywhere: every session of the user stops working, and every
    open tab leaves its live rooms (but the one of ``keep_token``)."""
    user.session_epoch += 1
    session.exec(sa.delete(AuthSession).where(AuthSession.user_id == user.id))  # type: ignore[call-overload]
    session.add(user)
    events.record(session, events.SessionsEnded(user.id or 0, keep_hash=hash_token(keep_token) if keep_token else ""))


def change_password(session: Session, user: User, current: str, new: str, *,
                    keep_token: str | None = None) -> str | None:
    """Change the password; every other session ends. Returns a fresh token for
    the session that made the change when ``keep_token`` is given."""
    ok, _ = verify_password(current or "", user.password_hash)
    if not ok:
        raise InvalidInput("現在のパスワードが正しくありません。", field="current_password")
    user.password_hash = hash_password(check_password_strength(new))
    end_all_sessions(session, user, keep_token=keep_token or "")
    session.flush()
    return create_session(session, user) if keep_token is not None else None


DEVICE_DAYS = 365  # a browser unused for this long is a stranger again


def purge_expired_sessions(session: Session) -> None:
    session.exec(sa.delete(AuthSession).where(AuthSession.expires_at < utcnow()))  # type: ignore[call-overload]
    session.exec(sa.delete(LoginDevice).where(  # type: ignore[call-overload]
        LoginDevice.last_used_at < utcnow() - timedelta(days=DEVICE_DAYS)))


# ---------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------


@dataclass
class ProfileView:
    """What one member may see of another. No e-mail address, no hash."""

    id: int
    name: str
    org_name: str
    prefecture: str
    department: str
    role: str
    role_label: str
    bio: str
    interests: str
    joined: str
    is_self: bool


ROLE_LABELS = {
    Role.member: "自治体職員",
    Role.national: "国の職員",
    Role.moderator: "運営",
    Role.admin: "運営（管理者）",
}


def get_profile(session: Session, viewer: User, user_id: int) -> ProfileView:
    row = session.exec(
        select(User, Organisation)
        .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(User.id == user_id)
    ).first()
    # An imported member not yet claimed is shown by name and 団体, as in the history.
    if row is None or (row[0].status not in (UserStatus.active, UserStatus.unclaimed)
                       and not viewer.is_staff):
        raise NotFound("このメンバーは見つかりませんでした。")
    user, org = row
    return ProfileView(
        id=user.id, name=user.name, org_name=org.display_name,  # type: ignore[arg-type]
        prefecture=org.prefecture, department=user.department, role=user.role,
        role_label=ROLE_LABELS.get(Role(user.role), user.role), bio=user.bio,
        interests=user.interests, joined=jst_date(user.created_at), is_self=user.id == viewer.id,
    )


def update_profile(session: Session, user: User, *, name: str, department: str, bio: str,
                   interests: str) -> User:
    user.name = clean_name(name)
    user.department = clean_line(department, label="部課名", max_len=100)
    user.bio = clean_text(bio, label="自己紹介", max_len=1000, required=False)
    user.interests = clean_line(interests, label="関心のあるテーマ", max_len=300, required=False)
    session.add(user)
    session.flush()
    return user
