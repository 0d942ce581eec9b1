"""Each member's mail settings, and the one-click unsubscribe link in each mail.

A member without a ``mail_setting`` row has the defaults: mentions, replies,
answers, questions, reminders and 重要なお知らせ on; the daily digest off.

An unsubscribe link carries the member, the one setting it turns off and an
HMAC of both under a secret kept in ``mail_state`` (made by the migration):
it needs no login, cannot be forged, and changes only that one setting.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from kyoso.db import utcnow
from kyoso.models import MailSetting, MailState, User
from kyoso.services.errors import InvalidInput
from kyoso.settings import get_settings

# key -> (label, what it sends, default)
SETTINGS: dict[str, tuple[str, str, bool]] = {
    "mention": ("メンション", "誰かがあなたをメンションしたとき", True),
    "reply": ("スレッドへの返信", "あなたが始めた・返信したスレッドに返信があったとき", True),
    "answer": ("質問の解決", "あなたの質問に回答が選ばれたとき", True),
    "question": ("説明会への質問", "あなたが主催する説明会に質問が届いたとき", True),
    "reminder": ("説明会のリマインダー", "申し込んだ説明会の前日と1時間前（予定表ファイル付き）", True),
    "announcement": ("重要なお知らせ", "運営・国が「重要」として出したお知らせ", True),
    "digest": ("毎日のダイジェスト", "参加しているチャンネルの新しいスレッドを毎朝まとめて", False),
}
DEFAULTS = {key: default for key, (_, _, default) in SETTINGS.items()}

LINK_SECRET = "link_secret"
UNSUBSCRIBE_BAD = "この配信停止のリンクは正しくありません。メールに書かれたリンクを、途中で切れないようにそのまま開いてください。"


@dataclass
class MailSettingItem:
    key: str  # the page's data-setting
    label: str
    description: str
    enabled: bool


def _row(session: Session, user_id: int) -> MailSetting | None:
    return session.get(MailSetting, user_id)


def values(session: Session, user_id: int) -> dict[str, bool]:
    row = _row(session, user_id)
    if row is None:
        return dict(DEFAULTS)
    return {key: bool(getattr(row, key)) for key in SETTINGS}


def wants(session: Session, user_id: int, setting: str) -> bool:
    return values(session, user_id).get(setting, True)


def get_mail_settings(session: Session, user: User) -> list[MailSettingItem]:
    """My mail settings, in the order the settings page shows them."""
    current = values(session, user.id or 0)
    return [MailSettingItem(key, label, desc, current[key]) for key, (label, desc, _) in SETTINGS.items()]


def set_mail_settings(session: Session, user: User, new: dict[str, bool]) -> list[MailSettingItem]:
    """Save my mail settings; keys not given keep their value."""
    unknown = set(new) - set(SETTINGS)
    if unknown:
        raise InvalidInput("メールの設定項目が正しくありません。画面を更新してください。")
    row = _row(session, user.id or 0) or MailSetting(user_id=user.id or 0, **DEFAULTS)
    for key, enabled in new.items():
        setattr(row, key, bool(enabled))
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return get_mail_settings(session, user)


# ---------------------------------------------------------------------------
# One-click unsubscribe
# ---------------------------------------------------------------------------


def state_row(session: Session, name: str) -> MailState:
    """A row of mail_state, made when missing (a database emptied by tests)."""
    row = session.get(MailState, name)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = MailState(name=name, value=secrets.token_hex(32) if name == LINK_SECRET else "")
            session.add(row)
    except sa.exc.IntegrityError:  # another worker made it first
        row = session.get(MailState, name)
    assert row is not None
    return row


def link_secret(session: Session) -> str:
    return state_row(session, LINK_SECRET).value


def _signature(secret: str, user_id: int, setting: str) -> str:
    return hmac.new(secret.encode(), f"unsubscribe:{user_id}:{setting}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def unsubscribe_token(secret: str, user_id: int, setting: str) -> str:
    return f"{user_id}.{setting}.{_signature(secret, user_id, setting)}"


def unsubscribe_url(secret: str, user_id: int, setting: str) -> str:
    base = get_settings().base_url.rstrip("/")
    return f"{base}/unsubscribe?token={unsubscribe_token(secret, user_id, setting)}"


@dataclass
class Unsubscribed:
    setting: str
    label: str


def unsubscribe(session: Session, token: str) -> Unsubscribed:
    """Turn off the one setting a mail's unsubscribe link names; no login.
    Doing it twice is harmless. A forged or damaged link changes nothing."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in SETTINGS:
        raise InvalidInput(UNSUBSCRIBE_BAD)
    user_id, setting, signature = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(signature, _signature(link_secret(session), user_id, setting)):
        raise InvalidInput(UNSUBSCRIBE_BAD)
    if session.get(User, user_id) is None:
        raise InvalidInput(UNSUBSCRIBE_BAD)
    row = _row(session, user_id) or MailSetting(user_id=user_id, **DEFAULTS)
    setattr(row, setting, False)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return Unsubscribed(setting, SETTINGS[setting][0])
