"""Who a Slack user becomes: an existing member (same e-mail address, any
case), or an *unclaimed* member shown by name and 団体 who cannot log in.

The 団体 of an unclaimed member comes from the e-mail domain: ``--org-map``
(``email_domain,code`` lines) first, then a built-in map of the domains that
can be known (go.jp agencies; ``pref.<name>.lg.jp``, ``city.<name>.lg.jp``,
``town.<name>.<pref>.lg.jp``... made from the readings of the directory of
団体), otherwise 未設定. A subdomain matches its parent's entry.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from functools import lru_cache

from kyoso.orgdata import PREFECTURES, load_organisations, normalise_code

# go.jp domains of the agencies in the directory (kyoso/data/organisations.csv).
AGENCY_DOMAINS: dict[str, str] = {
    "digital.go.jp": "G00001", "cas.go.jp": "G00002", "clb.go.jp": "G00003", "jinji.go.jp": "G00004",
    "cao.go.jp": "G00005", "kunaicho.go.jp": "G00006", "jftc.go.jp": "G00007", "npsc.go.jp": "G00008",
    "npa.go.jp": "G00009", "ppc.go.jp": "G00010", "jcrc.go.jp": "G00011", "fsa.go.jp": "G00012",
    "caa.go.jp": "G00013", "cfa.go.jp": "G00014", "reconstruction.go.jp": "G00015", "soumu.go.jp": "G00016",
    "fdma.go.jp": "G00018", "moj.go.jp": "G00019", "isa.go.jp": "G00021", "psia.go.jp": "G00022",
    "mofa.go.jp": "G00023", "mof.go.jp": "G00024", "nta.go.jp": "G00025", "mext.go.jp": "G00026",
    "bunka.go.jp": "G00028", "mhlw.go.jp": "G00029", "maff.go.jp": "G00031", "rinya.maff.go.jp": "G00032",
    "jfa.maff.go.jp": "G00033", "meti.go.jp": "G00034", "enecho.meti.go.jp": "G00035", "jpo.go.jp": "G00036",
    "chusho.meti.go.jp": "G00037", "mlit.go.jp": "G00038", "jma.go.jp": "G00040", "kaiho.mlit.go.jp": "G00042",
    "env.go.jp": "G00043", "nra.go.jp": "G00044", "mod.go.jp": "G00045", "jbaudit.go.jp": "G00047",
}

# Prefectures in the order of PREFECTURES (01 北海道 ... 47 沖縄県), as their domains spell them.
_PREF_ROMAJI = (
    "hokkaido aomori iwate miyagi akita yamagata fukushima ibaraki tochigi gunma saitama chiba tokyo "
    "kanagawa niigata toyama ishikawa fukui yamanashi nagano gifu shizuoka aichi mie shiga kyoto osaka "
    "hyogo nara wakayama tottori shimane okayama hiroshima yamaguchi tokushima kagawa ehime kochi "
    "fukuoka saga nagasaki kumamoto oita miyazaki kagoshima okinawa"
).split()

_KANA = {
    "きゃ": "kya", "きゅ": "kyu", "きょ": "kyo", "しゃ": "sha", "しゅ": "shu", "しょ": "sho", "ちゃ": "cha",
    "ちゅ": "chu", "ちょ": "cho", "にゃ": "nya", "にゅ": "nyu", "にょ": "nyo", "ひゃ": "hya", "ひゅ": "hyu",
    "ひょ": "hyo", "みゃ": "mya", "みゅ": "myu", "みょ": "myo", "りゃ": "rya", "りゅ": "ryu", "りょ": "ryo",
    "ぎゃ": "gya", "ぎゅ": "gyu", "ぎょ": "gyo", "じゃ": "ja", "じゅ": "ju", "じょ": "jo", "びゃ": "bya",
    "びゅ": "byu", "びょ": "byo", "ぴゃ": "pya", "ぴゅ": "pyu", "ぴょ": "pyo",
}
_KANA1 = dict(zip(
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
    "がぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽ",
    ("a i u e o ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he ho "
     "ma mi mu me mo ya yu yo ra ri ru re ro wa o n ga gi gu ge go za ji zu ze zo da ji zu de do "
     "ba bi bu be bo pa pi pu pe po").split()))
_SUFFIX = {"city": ("し",), "designated_city": ("し",), "special_ward": ("く",),
           "town": ("ちょう", "まち"), "village": ("そん", "むら")}
_PREFIX = {"city": "city", "designated_city": "city", "special_ward": "city", "town": "town", "village": "vill"}


def romaji(kana: str) -> str:
    """Hepburn as municipal domains write it: long vowels short (おおさか → osaka)."""
    out: list[str] = []
    i = 0
    double = False
    while i < len(kana):
        pair, ch = kana[i:i + 2], kana[i]
        if ch == "っ":
            double = True
            i += 1
            continue
        syl = _KANA.get(pair)
        if syl:
            i += 2
        else:
            syl = _KANA1.get(ch, "")
            i += 1
        if double and syl:
            syl = ("t" if syl.startswith("ch") else syl[0]) + syl
            double = False
        out.append(syl)
    text = "".join(out)
    return re.sub(r"(?<=[ou])u|(?<=o)o|(?<=u)u", "", text)


@lru_cache(maxsize=1)
def builtin_domains() -> dict[str, str]:
    """E-mail domain → 団体コード, for the domains that can be known."""
    out = dict(AGENCY_DOMAINS)
    pref_code = {num: code for code, num in ((r.code, r.prefecture_code) for r in load_organisations()
                                             if r.kind == "prefecture")}
    pref_name = dict(zip((p[0] for p in PREFECTURES), _PREF_ROMAJI))
    for num, name in pref_name.items():
        if num in pref_code:
            out[f"{'metro' if name == 'tokyo' else 'pref'}.{name}.lg.jp"] = pref_code[num]
    candidates: list[tuple[str, str, str]] = []
    for rec in load_organisations():
        if rec.kind not in _PREFIX:
            continue
        kana = rec.kana
        for suffix in _SUFFIX[rec.kind]:
            if kana.endswith(suffix) and len(kana) > len(suffix):
                kana = kana[: -len(suffix)]
                break
        name = romaji(kana)
        if not name:
            continue
        candidates.append((f"{_PREFIX[rec.kind]}.{name}", pref_name.get(rec.prefecture_code, ""), rec.code))
    short = Counter(c[0] for c in candidates)
    for base, pref, code in candidates:
        if pref:
            out[f"{base}.{pref}.lg.jp"] = code
        if short[base] == 1:
            out[f"{base}.lg.jp"] = code
    return out


class OrgMapError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def parse_org_map(text: str) -> dict[str, str]:
    """``email_domain,code`` lines (a header line and ``#`` comments allowed)."""
    out: dict[str, str] = {}
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip() or row[0].strip().startswith("#"):
            continue
        if len(row) < 2:
            raise OrgMapError(n, f"{n}行目: 「メールドメイン,団体コード」の形で書いてください。")
        domain, code = row[0].strip().lower().lstrip("@."), normalise_code(row[1])
        if n == 1 and not re.search(r"\d", code):
            continue  # a header
        out[domain] = code
    return out


def org_for_email(email: str, override: dict[str, str], builtin: dict[str, str]) -> str | None:
    """The 団体コード for an address, or None when it cannot be known."""
    domain = email.rsplit("@", 1)[-1].lower() if "@" in email else ""
    labels = domain.split(".")
    for table in (override, builtin):
        for i in range(len(labels) - 1):
            code = table.get(".".join(labels[i:]))
            if code:
                return code
    return None


def display_name(user: dict) -> str:
    """The name a Slack user is shown by: real name, else display name, else handle."""
    profile = user.get("profile") or {}
    for name in (profile.get("real_name"), user.get("real_name"), profile.get("display_name"),
                 user.get("name")):
        if isinstance(name, str) and name.strip():
            return re.sub(r"[\[\]\n\r\t]", "", name).strip()[:50] or "名前なし"
    return "名前なし"
