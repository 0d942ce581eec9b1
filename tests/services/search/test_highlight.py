"""Snippets: the match marked where it was written, nothing else becomes HTML."""

from __future__ import annotations

from kyoso.services.search.highlight import snippet_html
from kyoso.services.search.tokens import parse_query


def marks(q: str):  # type: ignore[no-untyped-def]
    return parse_query(q).marks


def test_a_half_width_match_is_marked_as_written() -> None:
    assert snippet_html("次はｶﾞﾊﾞﾒﾝﾄクラウド", marks("ガバメント")) == "次は<mark>ｶﾞﾊﾞﾒﾝﾄ</mark>クラウド"


def test_another_long_vowel_spelling_is_marked_as_written() -> None:
    assert snippet_html("新しいサーバーへ移行", marks("サーバ")) == "新しい<mark>サーバー</mark>へ移行"
    assert snippet_html("インタフェース仕様", marks("インターフェース")) == "<mark>インタフェース</mark>仕様"


def test_markup_in_the_text_is_escaped_before_marking() -> None:
    html = snippet_html('<img src=x onerror="alert(1)"> LGWAN', marks("lgwan img"))
    assert "<img" not in html
    assert html == '&lt;<mark>img</mark> src=x onerror=&quot;alert(1)&quot;&gt; <mark>LGWAN</mark>'


def test_a_query_cannot_inject_markup() -> None:
    assert "<script" not in snippet_html("script の話", marks("<script>"))


def test_words_match_at_word_starts_only() -> None:
    assert snippet_html("rapid API", marks("api")) == "rapid <mark>API</mark>"


def test_a_long_text_is_cut_around_the_first_match() -> None:
    text = "あ" * 200 + "標準化" + "い" * 200
    html = snippet_html(text, marks("標準化"))
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>標準化</mark>" in html
    assert len(html) < 200
