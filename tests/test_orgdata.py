"""Tests for the organisation directory (kyoso/orgdata.py and its CSV)."""

from __future__ import annotations

import collections
import csv
import dataclasses
import re

import pytest

from kyoso import orgdata
from kyoso.orgdata import (
    PREFECTURES,
    REGIONS,
    OrgRecord,
    check_digit,
    find_organisation,
    is_valid_local_code,
    load_organisations,
    normalise_code,
)

MUNICIPAL_KINDS = ("designated_city", "city", "special_ward", "town", "village")


@pytest.fixture(scope="module")
def orgs() -> list[OrgRecord]:
    return load_organisations()


@pytest.fixture(scope="module")
def by_code(orgs: list[OrgRecord]) -> dict[str, OrgRecord]:
    return {o.code: o for o in orgs}


@pytest.fixture(scope="module")
def kinds(orgs: list[OrgRecord]) -> collections.Counter[str]:
    return collections.Counter(o.kind for o in orgs)


# --- counts ---------------------------------------------------------------


def test_prefecture_count(kinds):
    assert kinds["prefecture"] == 47


def test_municipality_count(kinds):
    assert sum(kinds[k] for k in MUNICIPAL_KINDS) == 1741


def test_designated_city_count(kinds):
    assert kinds["designated_city"] == 20


def test_special_ward_count(kinds):
    assert kinds["special_ward"] == 23


def test_city_count_includes_designated(kinds):
    assert kinds["city"] + kinds["designated_city"] == 792


def test_town_count(kinds):
    assert kinds["town"] == 743


def test_village_count(kinds):
    assert kinds["village"] == 183


def test_agency_count(kinds):
    assert kinds["agency"] >= 30


def test_only_known_kinds(kinds):
    assert set(kinds) <= set(orgdata.KINDS)


# --- codes ----------------------------------------------------------------


def test_codes_unique(orgs):
    codes = [o.code for o in orgs]
    assert len(codes) == len(set(codes))


def test_sorted_by_code(orgs):
    codes = [o.code for o in orgs]
    assert codes == sorted(codes)


def test_every_local_code_has_right_check_digit(orgs):
    bad = [o.code for o in orgs if not o.is_agency and not is_valid_local_code(o.code)]
    assert bad == []


def test_agency_codes_use_own_scheme(orgs):
    agencies = [o for o in orgs if o.is_agency]
    assert agencies, "no agencies loaded"
    for o in agencies:
        assert re.fullmatch(r"G\d{5}", o.code), o
        assert (o.prefecture_code, o.prefecture, o.region) == ("", "", "国"), o


def test_prefecture_codes_end_in_000(orgs):
    for o in orgs:
        if o.kind == "prefecture":
            assert o.code[2:5] == "000" and o.code[:2] == o.prefecture_code, o
        elif not o.is_agency:
            assert o.code[2:5] != "000" and o.code[:2] == o.prefecture_code, o


@pytest.mark.parametrize(
    ("code", "name", "kana", "kind"),
    [
        ("130001", "東京都", "とうきょうと", "prefecture"),
        ("010006", "北海道", "ほっかいどう", "prefecture"),
        ("011002", "札幌市", "さっぽろし", "designated_city"),
        ("131016", "千代田区", "ちよだく", "special_ward"),
        ("141003", "横浜市", "よこはまし", "designated_city"),
        ("271004", "大阪市", "おおさかし", "designated_city"),
        ("221309", "浜松市", "はままつし", "designated_city"),
        ("401005", "北九州市", "きたきゅうしゅうし", "designated_city"),
        ("013030", "当別町", "とうべつちょう", "town"),
        ("103446", "榛東村", "しんとうむら", "village"),  # 北群馬郡 (キタグンマグン)
        ("284815", "上郡町", "かみごおりちょう", "town"),  # 赤穂郡上郡町
        ("343021", "府中町", "ふちゅうちょう", "town"),
        ("133817", "三宅村", "みやけむら", "village"),  # Japan Post: 三宅島三宅村
        ("132012", "八王子市", "はちおうじし", "city"),
        ("G00001", "デジタル庁", "でじたるちょう", "agency"),
        ("G00016", "総務省", "そうむしょう", "agency"),
    ],
)
def test_known_records(by_code, code, name, kana, kind):
    rec = by_code[code]
    assert (rec.name, rec.kana, rec.kind) == (name, kana, kind)


def test_all_designated_cities(by_code):
    expected = {
        "011002": "札幌市", "041009": "仙台市", "111007": "さいたま市", "121002": "千葉市",
        "141003": "横浜市", "141305": "川崎市", "141500": "相模原市", "151009": "新潟市",
        "221007": "静岡市", "221309": "浜松市", "231002": "名古屋市", "261009": "京都市",
        "271004": "大阪市", "271403": "堺市", "281000": "神戸市", "331007": "岡山市",
        "341002": "広島市", "401005": "北九州市", "401307": "福岡市", "431001": "熊本市",
    }
    actual = {c: o.name for c, o in by_code.items() if o.kind == "designated_city"}
    assert actual == expected


def test_required_agencies_present(orgs):
    names = {o.name for o in orgs if o.is_agency}
    required = {
        "デジタル庁", "総務省", "内閣官房", "内閣府", "厚生労働省", "文部科学省", "経済産業省",
        "国土交通省", "農林水産省", "環境省", "財務省", "法務省", "外務省", "防衛省", "復興庁",
        "こども家庭庁", "警察庁", "金融庁", "消費者庁", "個人情報保護委員会", "公正取引委員会",
        "国税庁", "特許庁", "気象庁", "観光庁", "文化庁", "スポーツ庁", "林野庁", "水産庁",
        "中小企業庁", "資源エネルギー庁", "海上保安庁", "消防庁", "宮内庁", "会計検査院", "人事院",
        "出入国在留管理庁", "公安調査庁", "原子力規制委員会",
    }
    assert required - names == set()


# --- no designated-city wards, no 郡 prefixes ------------------------------


def test_no_designated_city_wards(orgs, by_code):
    assert "011011" not in by_code  # 札幌市中央区 (01101)
    assert "141011" not in by_code  # 横浜市鶴見区 (14101)
    wards = [o for o in orgs if re.fullmatch(r".+市.+区", o.name)]
    assert wards == []


def test_special_wards_only_in_tokyo(orgs):
    for o in orgs:
        if o.kind == "special_ward":
            assert o.prefecture == "東京都" and o.name.endswith("区"), o
        elif not o.is_agency:
            assert not o.name.endswith("区"), o


def test_name_suffix_matches_kind(orgs):
    suffix = {"designated_city": "市", "city": "市", "town": "町", "village": "村"}
    for o in orgs:
        if o.kind in suffix:
            assert o.name.endswith(suffix[o.kind]), o


def test_town_and_village_names_without_gun(orgs):
    # 郡 may stay only where stripping it would clash within a prefecture.
    with_gun = [o for o in orgs if o.kind in ("town", "village") and re.match(r".+郡.+[町村]$", o.name)]
    counts = collections.Counter((o.prefecture_code, re.sub(r"^.+?郡", "", o.name)) for o in orgs)
    assert [o for o in with_gun if counts[(o.prefecture_code, re.sub(r"^.+?郡", "", o.name))] < 2] == []


def test_names_unique_within_prefecture(orgs):
    counts = collections.Counter((o.prefecture_code, o.name) for o in orgs if not o.is_agency)
    assert [k for k, n in counts.items() if n > 1] == []


# --- kana, prefectures and regions -----------------------------------------


def test_kana_is_hiragana(orgs):
    bad = [o for o in orgs if not re.fullmatch(r"[ぁ-ゖー]+", o.kana)]
    assert bad == []


def test_kana_suffix_matches_name(orgs):
    endings = {"市": ("し",), "区": ("く",), "町": ("まち", "ちょう"), "村": ("むら", "そん")}
    for o in orgs:
        if o.kind in MUNICIPAL_KINDS:
            assert o.kana.endswith(endings[o.name[-1]]), o


def test_regions_constant():
    assert REGIONS == ("北海道", "東北", "関東", "中部", "近畿", "中国", "四国", "九州・沖縄")


def test_prefectures_constant():
    assert len(PREFECTURES) == 47
    assert [p[0] for p in PREFECTURES] == [f"{i:02d}" for i in range(1, 48)]
    assert all(region in REGIONS for _, _, region in PREFECTURES)
    assert PREFECTURES[12] == ("13", "東京都", "関東")
    assert PREFECTURES[23] == ("24", "三重県", "近畿")
    assert PREFECTURES[46] == ("47", "沖縄県", "九州・沖縄")
    assert collections.Counter(r for _, _, r in PREFECTURES) == {
        "北海道": 1, "東北": 6, "関東": 7, "中部": 9, "近畿": 7, "中国": 5, "四国": 4, "九州・沖縄": 8,
    }


def test_every_row_region_matches_its_prefecture(orgs):
    by_pref = {code: (name, region) for code, name, region in PREFECTURES}
    for o in orgs:
        if not o.is_agency:
            assert (o.prefecture, o.region) == by_pref[o.prefecture_code], o


def test_prefecture_rows_match_constant(orgs):
    rows = [(o.prefecture_code, o.name, o.region) for o in orgs if o.kind == "prefecture"]
    assert tuple(rows) == PREFECTURES


# --- CSV file format --------------------------------------------------------


def test_csv_format():
    raw = orgdata.CSV_PATH.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in raw
    with orgdata.CSV_PATH.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["code", "kind", "name", "kana", "prefecture_code", "prefecture", "region"]


# --- functions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code5", "digit"),
    [("13000", "1"), ("01000", "6"), ("01100", "2"), ("13101", "6"), ("14100", "3"), ("14130", "5"),
     ("28100", "0"), ("47000", "7")],
)
def test_check_digit_known_values(code5, digit):
    assert check_digit(code5) == digit


@pytest.mark.parametrize("bad", ["1300", "130000", "13a00", "１３０００", ""])
def test_check_digit_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        check_digit(bad)


@pytest.mark.parametrize("code", ["130001", "010006", "011002", "131016", "431001"])
def test_is_valid_local_code_accepts(code):
    assert is_valid_local_code(code) is True


@pytest.mark.parametrize(
    "code", ["130002", "130000", "011001", "13000", "1300011", "13000a", "G00001", "１３０００１", "", " 130001"]
)
def test_is_valid_local_code_rejects(code):
    assert is_valid_local_code(code) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１３０００１", "130001"),
        (" 130 001 ", "130001"),
        ("１３０\u3000００１", "130001"),
        ("g00001", "G00001"),
        ("ｇ００００１", "G00001"),
        ("G00001", "G00001"),
        (None, ""),
    ],
)
def test_normalise_code(text, expected):
    assert normalise_code(text) == expected


def test_find_organisation():
    rec = find_organisation("１３１０１６")
    assert rec is not None and rec.name == "千代田区"
    assert find_organisation("999999") is None


def test_org_record_is_frozen_and_is_agency(by_code):
    rec = by_code["G00001"]
    assert rec.is_agency is True
    assert by_code["130001"].is_agency is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.name = "x"  # type: ignore[misc]


def test_load_returns_fresh_list(orgs):
    first = load_organisations()
    first.clear()
    assert len(load_organisations()) == len(orgs) > 0
