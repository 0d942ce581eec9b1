"""The directory of 団体: local governments and national agencies.

The list is generated into ``kyoso/data/organisations.csv`` by
``scripts/gen_organisations.py`` and copied into the ``organisation`` table by
``sync_organisations`` (run by ``kyoso db upgrade``), so that results can be
split by prefecture and region in SQL.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sqlmodel import Session, select

from kyoso.models import Organisation, OrgKind
from kyoso.orgdata import OrgRecord, is_valid_local_code, load_organisations, normalise_code
from kyoso.services.errors import InvalidInput


@dataclass(frozen=True)
class OrgOption:
    """One 団体 as the sign-up picker shows it."""

    code: str
    label: str
    kana: str
    is_agency: bool


def sync_organisations(session: Session) -> int:
    """Insert or update every 団体 from the generated file. Returns the count."""
    existing = {o.code: o for o in session.exec(select(Organisation)).all()}
    for rec in load_organisations():
        row = existing.get(rec.code)
        values = dict(
            kind=rec.kind, name=rec.name, kana=rec.kana, prefecture_code=rec.prefecture_code,
            prefecture=rec.prefecture, region=rec.region,
        )
        if row is None:
            session.add(Organisation(code=rec.code, **values))
        else:
            for k, v in values.items():
                if getattr(row, k) != v:
                    setattr(row, k, v)
    session.flush()
    return len(load_organisations())


# 団体 rows come from the generated file only (``sync_organisations`` at
# upgrade): never changed by the app, so their names are read once per process
# (every page load shows the member's 団体: one statement less each).
_NAMES: dict[str, str] = {}


def display_name(session: Session, code: str) -> str:
    """The 団体's name as people say it (``Organisation.display_name``); the
    code itself for a code the directory lacks."""
    name = _NAMES.get(code)
    if name is None:
        org = session.get(Organisation, code)
        if org is None:
            return code
        name = _NAMES[code] = org.display_name
    return name


def _label(rec: OrgRecord) -> str:
    if rec.kind in ("prefecture", "agency"):
        return rec.name
    return f"{rec.prefecture} {rec.name}"


def _fold(text: str) -> str:
    """Fold width and kana so that ｶﾞﾊﾞﾒﾝﾄ, ガバメント and がばめんと compare equal."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text).replace(" ", "")


@lru_cache(maxsize=1)
def _index() -> list[tuple[OrgRecord, str, str]]:
    return [(r, _fold(r.name + r.kana), _fold(r.prefecture + r.name)) for r in load_organisations()]


def search_organisations(query: str, *, kind: str | None = None, limit: int = 20) -> list[OrgOption]:
    """Find 団体 by name, reading (kana) or code.

    ``kind`` is "local" or "agency" to restrict the list to what an e-mail
    address may choose.
    """
    q = _fold(query)
    code_q = normalise_code(query)
    if not q:
        return []
    hits: list[tuple[int, OrgRecord]] = []
    for rec, folded, with_pref in _index():
        if kind == "local" and rec.is_agency or kind == "agency" and not rec.is_agency:
            continue
        if rec.code == code_q:
            rank = 0
        elif rec.code.startswith(code_q) and code_q.isdigit():
            rank = 3
        elif folded.startswith(q) or _fold(rec.name).startswith(q):
            rank = 1
        elif q in folded or q in with_pref:
            rank = 2
        else:
            continue
        hits.append((rank, rec))
    hits.sort(key=lambda h: (h[0], h[1].kind != "prefecture", h[1].code))
    return [OrgOption(r.code, _label(r), r.kana, r.is_agency) for _, r in hits[:limit]]



def check_org_code(session: Session, code: str) -> Organisation:
    """Validate a 団体コード as typed and return the 団体."""
    norm = normalise_code(code or "")
    if not norm:
        raise InvalidInput("団体を選んでください。", field="org")
    if norm.isdigit():
        if len(norm) != 6:
            raise InvalidInput(
                "団体コードは6桁の数字で入力してください（例: 東京都千代田区 131016）。", field="org"
            )
        if not is_valid_local_code(norm):
            raise InvalidInput(
                f"団体コード {norm} は検査数字が合いません。入力に誤りがないかご確認ください。",
                field="org",
            )
    org = session.get(Organisation, norm)
    if org is None or org.kind == OrgKind.unset:
        raise InvalidInput(f"団体コード {norm} に当たる団体が見つかりません。", field="org")
    return org


def prefecture_options(session: Session) -> list[tuple[str, str]]:
    """(prefecture code, name) of the 47 prefectures, in code order: a filter's choices."""
    return [(code, name) for code, name in session.exec(
        select(Organisation.prefecture_code, Organisation.name)
        .where(Organisation.kind == "prefecture").order_by(Organisation.prefecture_code)).all()]
