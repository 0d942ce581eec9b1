"""Folding and tokens: the same for documents and queries, so they meet."""

from __future__ import annotations

from kyoso.services.search.tokens import (
    document_tokens,
    fold,
    fts5_query,
    parse_query,
    tsquery,
    tsvector,
)


def test_width_and_kana_variants_fold_to_the_same_text() -> None:
    assert fold("ｶﾞﾊﾞﾒﾝﾄ") == fold("ガバメント") == fold("がばめんと") == "がばめんと"
    assert fold("ＬＧＷＡＮ") == fold("LGWAN") == "lgwan"
    assert fold("ヴ") == "ゔ"


def test_long_vowel_spellings_fold_to_the_same_text() -> None:
    assert fold("サーバー") == fold("サーバ") == fold("ｻｰﾊﾞｰ") == "さば"
    assert fold("インターフェース") == fold("インタフェース") == "いんたふぇす"
    assert fold("コンピューター") == fold("コンピュータ")
    # Only after a kana: elsewhere the mark is a character of its own.
    assert fold("ー") == "ー" and fold("3ー4") == "3ー4" and fold("漢ー") == "漢ー"


def test_a_kanji_and_kana_run_becomes_bigrams_and_its_last_character() -> None:
    tokens = document_tokens("標準化とLGWAN接続")
    assert tokens.grams == ["標準", "準化", "化と", "lgwan", "接続"]
    assert tokens.tails == ["と", "続"]


def test_a_one_character_run_is_its_own_token() -> None:
    assert document_tokens("LGWAN と API").grams == ["lgwan", "と", "api"]


def test_punctuation_separates_runs() -> None:
    assert document_tokens("ガバメント・クラウド、です。").grams == ["がば", "ばめ", "めん", "んと", "くら", "らう", "うど", "です"]


def test_query_lengths() -> None:
    one = parse_query("標")
    assert [(t.tokens, t.prefix) for t in one.terms] == [(("標",), True)]
    two = parse_query("窓口")
    assert [(t.tokens, t.prefix) for t in two.terms] == [(("窓口",), False)]
    many = parse_query("ｶﾞﾊﾞﾒﾝﾄ")
    assert [t.tokens for t in many.terms] == [("がば", "ばめ", "めん", "んと")]


def test_spaces_are_and_and_quotes_are_a_phrase() -> None:
    assert fts5_query(parse_query("LGWAN　接続")) == '"lgwan" * AND "接続"'
    assert fts5_query(parse_query('"LGWAN 接続"')) == '"lgwan 接続"'
    assert fts5_query(parse_query("「書かない窓口」")) == '"書か かな ない い窓 窓口"'
    assert tsquery(parse_query("LGWAN 接続")) == "'lgwan':* & ('接続')"


def test_operators_and_quotes_in_a_query_are_only_text() -> None:
    q = parse_query('AND OR NOT * ( ) "')
    # Every token is quoted: FTS5 sees no operator.
    assert fts5_query(q) == '"and" * AND "or" * AND "not" *'
    assert "'" not in "".join(t for term in parse_query("it's").terms for t in term.tokens)


def test_a_query_without_letters_is_empty() -> None:
    assert parse_query("。、！？ ・").empty
    assert parse_query("").empty


def test_tsvector_literal_escapes_and_keeps_positions() -> None:
    assert tsvector(document_tokens("窓口 窓口")) == "'窓口':1,2 '口':3,4"
