"""Account flows that go through the member's mailbox: confirming the address
of an application, and resetting a forgotten password.

The pages: /verify?token= (``confirm_email``), /password/forgot
(``request_password_reset``), /password/reset?token= (``check_reset_link``,
then ``reset_password``), /admin (``send_reset_link``, ``email_fit``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import AuditLog, Organisation, User, UserStatus
from kyoso.services import accounts, ratelimit
from kyoso.services.errors import InvalidInput, NotFound
from kyoso.services.mail import links
from kyoso.services.security import hash_password
from kyoso.services.timefmt import jst_short

RESEND_LIMIT = 3  # confirmation mails sent again per address per hour
RESET_LIMIT = 3  # reset mails per address per hour
CLIENT_LIMIT = 20  # reset or resend requests per client address per hour
TOO_MANY = "短時間に何度も申し込まれました。1時間ほど待ってから、もう一度お試しください。"

RESET_ACCEPTED = (
    "入力されたアドレスが登録されていれば、パスワード再設定用のリンクをお送りしました。"
    "30分以内にメールのリンクを開いてください。届かない場合は、アドレスを確かめてもう一度お試しください。"
)
RESEND_ACCEPTED = (
    "確認が済んでいない申請があれば、確認メールをもう一度お送りしました。"
    "24時間以内にメールのリンクを開いてください。"
)


# ---------------------------------------------------------------------------
# Confirming the address of an application
# ---------------------------------------------------------------------------


def confirm_email(session: Session, token: str) -> User:
    """The link in the confirmation mail: the application goes to review
    (``pending``). An expired, used or forged link raises InvalidInput and
    changes nothing."""
    row = links.find(session, token, links.VERIFY)
    user = session.get(User, row.user_id)
    if user is None or user.status != UserStatus.unconfirmed:
        raise InvalidInput(links.USED[links.VERIFY])
    links.consume(session, token, links.VERIFY)
    user.status = UserStatus.pending
    session.add(user)
    session.flush()
    return user


def resend_confirmation(session: Session, email: str, *, client_key: str = "") -> str:
    """Send the confirmation mail again. The answer is the same whether or not
    the address has an unconfirmed application; at most RESEND_LIMIT mails
    per address per hour."""
    email = (email or "").strip().lower()[:254]
    _limit(session, f"verify-resend:{email}", RESEND_LIMIT, client_key)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None and user.status == UserStatus.unconfirmed:
        org = session.get(Organisation, user.org_code)
        links.queue_confirmation(session, user, org.display_name if org else user.org_code)
    return RESEND_ACCEPTED


def _limit(session: Session, key: str, limit: int, client_key: str) -> None:
    keys = [key] + ([f"mail-client:{client_key}"] if client_key else [])
    ratelimit.check(session, keys[:1], limit=limit, within=timedelta(hours=1), message=TOO_MANY)
    if client_key:
        ratelimit.check(session, keys[1:], limit=CLIENT_LIMIT, within=timedelta(hours=1), message=TOO_MANY)
    for k in keys:
        ratelimit.hit(session, k)


# ---------------------------------------------------------------------------
# Does the address fit the chosen 団体? (a hint for the reviewer)
# ---------------------------------------------------------------------------

# National agencies' own mail domains (public knowledge); a subdomain fits too.
AGENCY_DOMAINS: dict[str, tuple[str, ...]] = {
    "デジタル庁": ("digital.go.jp",), "内閣官房": ("cas.go.jp",), "内閣法制局": ("clb.go.jp",),
    "人事院": ("jinji.go.jp",), "内閣府": ("cao.go.jp",), "宮内庁": ("kunaicho.go.jp",),
    "公正取引委員会": ("jftc.go.jp",), "警察庁": ("npa.go.jp",), "個人情報保護委員会": ("ppc.go.jp",),
    "金融庁": ("fsa.go.jp",), "消費者庁": ("caa.go.jp",), "こども家庭庁": ("cfa.go.jp",),
    "復興庁": ("reconstruction.go.jp",), "総務省": ("soumu.go.jp",), "消防庁": ("fdma.go.jp",),
    "法務省": ("moj.go.jp",), "出入国在留管理庁": ("moj.go.jp",), "公安調査庁": ("moj.go.jp",),
    "外務省": ("mofa.go.jp",), "財務省": ("mof.go.jp",), "国税庁": ("nta.go.jp",),
    "文部科学省": ("mext.go.jp",), "スポーツ庁": ("mext.go.jp",), "文化庁": ("bunka.go.jp", "mext.go.jp"),
    "厚生労働省": ("mhlw.go.jp",), "農林水産省": ("maff.go.jp",), "林野庁": ("maff.go.jp",),
    "水産庁": ("maff.go.jp",), "経済産業省": ("meti.go.jp",), "資源エネルギー庁": ("meti.go.jp",),
    "特許庁": ("jpo.go.jp",), "中小企業庁": ("meti.go.jp",), "国土交通省": ("mlit.go.jp",),
    "観光庁": ("mlit.go.jp",), "気象庁": ("jma.go.jp",), "海上保安庁": ("jcg.go.jp",),
    "環境省": ("env.go.jp",), "原子力規制委員会": ("nra.go.jp",), "防衛省": ("mod.go.jp",),
}

FIT, CHECK = "一致", "要確認"

# Hepburn as used in Japanese domain names (sapporo, chiyoda, shibuya, ...).
_KANA = {
    "きゃ": "kya", "きゅ": "kyu", "きょ": "kyo", "しゃ": "sha", "しゅ": "shu", "しょ": "sho",
    "ちゃ": "cha", "ちゅ": "chu", "ちょ": "cho", "にゃ": "nya", "にゅ": "nyu", "にょ": "nyo",
    "ひゃ": "hya", "ひゅ": "hyu", "ひょ": "hyo", "みゃ": "mya", "みゅ": "myu", "みょ": "myo",
    "りゃ": "rya", "りゅ": "ryu", "りょ": "ryo", "ぎゃ": "gya", "ぎゅ": "gyu", "ぎょ": "gyo",
    "じゃ": "ja", "じゅ": "ju", "じょ": "jo", "びゃ": "bya", "びゅ": "byu", "びょ": "byo",
    "ぴゃ": "pya", "ぴゅ": "pyu", "ぴょ": "pyo",
    "あ": "a", "い": "i", "う": "u", "え": "e", "お": "o", "か": "ka", "き": "ki", "く": "ku",
    "け": "ke", "こ": "ko", "さ": "sa", "し": "shi", "す": "su", "せ": "se", "そ": "so",
    "た": "ta", "ち": "chi", "つ": "tsu", "て": "te", "と": "to", "な": "na", "に": "ni",
    "ぬ": "nu", "ね": "ne", "の": "no", "は": "ha", "ひ": "hi", "ふ": "fu", "へ": "he",
    "ほ": "ho", "ま": "ma", "み": "mi", "む": "mu", "め": "me", "も": "mo", "や": "ya",
    "ゆ": "yu", "よ": "yo", "ら": "ra", "り": "ri", "る": "ru", "れ": "re", "ろ": "ro",
    "わ": "wa", "を": "o", "ん": "n", "が": "ga", "ぎ": "gi", "ぐ": "gu", "げ": "ge",
    "ご": "go", "ざ": "za", "じ": "ji", "ず": "zu", "ぜ": "ze", "ぞ": "zo", "だ": "da",
    "ぢ": "ji", "づ": "zu", "で": "de", "ど": "do", "ば": "ba", "び": "bi", "ぶ": "bu",
    "べ": "be", "ぼ": "bo", "ぱ": "pa", "ぴ": "pi", "ぷ": "pu", "ぺ": "pe", "ぽ": "po",
}
# The kind's word at the end of a reading: 札幌市 さっぽろし → さっぽろ.
_SUFFIXES = {
    "prefecture": ("けん", "ふ", "と"), "designated_city": ("し",), "city": ("し",),
    "special_ward": ("く",), "town": ("まち", "ちょう"), "village": ("むら", "そん"),
}


def romaji(kana: str) -> str:
    out, i = [], 0
    while i < len(kana):
        if kana[i] == "っ" and i + 1 < len(kana):
            nxt = _KANA.get(kana[i + 1:i + 3]) or _KANA.get(kana[i + 1], "")
            out.append(("t" if nxt.startswith("ch") else nxt[:1]))
            i += 1
            continue
        two = _KANA.get(kana[i:i + 2])
        if two:
            out.append(two)
            i += 2
            continue
        out.append(_KANA.get(kana[i], ""))
        i += 1
    return "".join(out)


def _spellings(kana: str) -> set[str]:
    """How a reading may be spelt in a domain: with and without long vowels."""
    base = romaji(kana)
    variants = {base, base.replace("ou", "o").replace("uu", "u").replace("oo", "o"),
                base.replace("ou", "oh"), re.sub(r"n(?=[bmp])", "m", base)}
    return {v for v in variants if v}


def _stem(org: Organisation) -> str:
    kana = org.kana
    if org.kind == "prefecture" and org.name == "北海道":
        return "ほっかいどう"
    for suffix in _SUFFIXES.get(org.kind, ()):
        if kana.endswith(suffix) and len(kana) > len(suffix) + 1:
            return kana[: -len(suffix)]
    return kana


def email_fit(org: Organisation, email: str) -> str:
    """「一致」 when the address's domain names the chosen 団体
    (city.sapporo.lg.jp ↔ 札幌市, soumu.go.jp ↔ 総務省), else 「要確認」."""
    domain = (email or "").rsplit("@", 1)[-1].lower()
    if org.is_agency:
        known = AGENCY_DOMAINS.get(org.name, ())
        return FIT if any(domain == d or domain.endswith("." + d) for d in known) else CHECK
    labels = set(re.split(r"[.-]", domain))
    names = _spellings(_stem(org))
    if labels & names:
        return FIT
    return CHECK


@dataclass
class ApplicationView:
    """An application in the review queue, with the reviewer's hint."""

    id: int
    name: str
    email: str
    org_name: str
    department: str
    applied: str
    email_fit: str  # 一致 | 要確認


def review_queue(session: Session, reviewer: User) -> list[ApplicationView]:
    """``accounts.list_pending`` (confirmed applications only) with the hint."""
    return [
        ApplicationView(u.id or 0, u.name, u.email, o.display_name, u.department, jst_short(u.created_at),
                        email_fit(o, u.email))
        for u, o in accounts.list_pending(session, reviewer)
    ]


# ---------------------------------------------------------------------------
# Password reset
# ---------------------------------------------------------------------------


def request_password_reset(session: Session, email: str, *, client_key: str = "") -> str:
    """パスワードをお忘れの方: a reset link by mail to an active member. The
    answer (returned) is the same whether or not the address is registered;
    at most RESET_LIMIT per address and CLIENT_LIMIT per client an hour."""
    email = (email or "").strip().lower()[:254]
    if "@" not in email:
        raise InvalidInput("メールアドレスを入力してください。", field="email")
    _limit(session, f"reset:{email}", RESET_LIMIT, client_key)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None and user.status == UserStatus.active:
        links.queue_reset(session, user)
    return RESET_ACCEPTED


@dataclass
class ResetLink:
    name: str
    expires: str


def check_reset_link(session: Session, token: str) -> ResetLink:
    """For /password/reset on load: whether the link can still be used."""
    row = links.find(session, token, links.RESET)
    user = session.get(User, row.user_id)
    if user is None or user.status != UserStatus.active:
        raise InvalidInput(links.FORGED)
    return ResetLink(user.name, jst_short(row.expires_at))


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password from a reset link: the link is used up and every
    session of the member ends (they log in again with the new password)."""
    row = links.find(session, token, links.RESET)
    user = session.get(User, row.user_id)
    if user is None or user.status != UserStatus.active:
        raise InvalidInput(links.FORGED)
    password = accounts.check_password_strength(new_password)
    links.consume(session, token, links.RESET)
    user.password_hash = hash_password(password)
    accounts.end_all_sessions(session, user)
    ratelimit.clear(session, f"login:email:{user.email}")
    session.flush()
    return user


def send_reset_link(session: Session, staff: User, user_id: int) -> None:
    """運営 send a member a reset link (from /admin); recorded in the audit log."""
    accounts.require_staff(staff)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("このメンバーは見つかりませんでした。")
    if user.status != UserStatus.active:
        raise InvalidInput("利用中のメンバーにだけ、再設定のリンクを送れます。")
    links.queue_reset(session, user, by_staff=True)
    session.add(AuditLog(actor_id=staff.id, action="password.reset_link", target_type="user",
                         target_id=user.id, created_at=utcnow()))
    session.flush()
