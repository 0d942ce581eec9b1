"""団体 from an e-mail domain: --org-map, the built-in map, else 未設定."""

from __future__ import annotations

import pytest

from kyoso.services.slack_import.people import (
    OrgMapError,
    builtin_domains,
    display_name,
    org_for_email,
    parse_org_map,
    romaji,
)


@pytest.mark.parametrize("email, code", [
    ("a@pref.osaka.lg.jp", "270008"),
    ("a@metro.tokyo.lg.jp", "130001"),
    ("a@city.sapporo.lg.jp", "011002"),
    ("a@section.city.chiyoda.lg.jp", "131016"),  # a subdomain
    ("A@City.Kitakyushu.LG.JP", "401005"),
    ("a@town.tobetsu.hokkaido.lg.jp", "013030"),
    ("a@soumu.go.jp", "G00016"),
    ("a@rinya.maff.go.jp", "G00032"),  # the longer domain wins over maff.go.jp
    ("a@gmail.com", None),
    ("a@lg.jp", None),
])
def test_builtin_domains(email: str, code: str | None) -> None:
    assert org_for_email(email, {}, builtin_domains()) == code


def test_the_org_map_comes_first() -> None:
    override = parse_org_map("email_domain,code\n# 大阪市の外郭団体\nexample.or.jp,271004\ncity.sapporo.lg.jp,１３１０１６\n")
    assert override == {"example.or.jp": "271004", "city.sapporo.lg.jp": "131016"}
    assert org_for_email("a@x.example.or.jp", override, builtin_domains()) == "271004"
    assert org_for_email("a@city.sapporo.lg.jp", override, builtin_domains()) == "131016"


def test_a_bad_org_map_line_is_named() -> None:
    with pytest.raises(OrgMapError) as err:
        parse_org_map("example.or.jp,271004\nonly-a-domain\n")
    assert err.value.line == 2 and "2行目" in err.value.message


@pytest.mark.parametrize("kana, text", [("さっぽろ", "sapporo"), ("おおさか", "osaka"), ("きたきゅうしゅう", "kitakyushu"),
                                        ("はちおうじ", "hachioji"), ("とうべつ", "tobetsu"), ("ちよだ", "chiyoda")])
def test_romaji(kana: str, text: str) -> None:
    assert romaji(kana) == text


def test_display_name_prefers_the_real_name() -> None:
    assert display_name({"name": "taro", "profile": {"real_name": "山田 太郎", "display_name": "やまだ"}}) == "山田 太郎"
    assert display_name({"name": "taro", "profile": {"real_name": "", "display_name": "やまだ"}}) == "やまだ"
    assert display_name({"name": "taro"}) == "taro"
    assert display_name({}) == "名前なし"
