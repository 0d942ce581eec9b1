"""Finding members: mention autocomplete by name or 団体."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.models import Organisation, User, UserStatus

_AT_END = re.compile(r"(?:^|[\s　(（])@([^\s@\[\]　]{1,20})$")


@dataclass
class PersonOption:
    id: int
    name: str
    org_name: str


def mention_query(text: str) -> str | None:
    """The letters after a trailing "@", or None when the draft does not end in one."""
    m = _AT_END.search(text or "")
    return unicodedata.normalize("NFKC", m.group(1)) if m else None


def insert_mention(text: str, name: str) -> str:
    m = _AT_END.search(text or "")
    if not m:
        return f"{text}@[{name}] "
    start = m.start(1) - 1  # the "@"
    return f"{text[:start]}@[{name}] "


def suggest(session: Session, viewer: User, query: str, *, limit: int = 8) -> list[PersonOption]:
    q = f"%{query}%"
    rows = session.exec(
        select(User, Organisation)
        .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(User.status == UserStatus.active, User.id != viewer.id,
               sa.or_(col(User.name).ilike(q), col(Organisation.name).ilike(q),
                      col(Organisation.kana).ilike(q), col(User.department).ilike(q)))
        .order_by(User.name)
        .limit(limit)
    ).all()
    return [PersonOption(u.id or 0, u.name, o.display_name) for u, o in rows]
