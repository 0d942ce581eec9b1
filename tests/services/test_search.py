"""Japanese full-text search over a generated corpus, on SQLite (FTS5) and on
PostgreSQL (tsvector): every query length, width and kana variants, AND and
phrases, every filter, and removal after a delete or a hide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from kyoso.models import Channel, Message, Role, SearchDoc, User, UserStatus
from kyoso.services import messages, questions, search
from kyoso.services.search import engine
from kyoso.services.search.tokens import parse_query
from kyoso.services.errors import InvalidInput, NotAllowed
from tests.utils.factories import KOCHI, OSAKA, SAPPORO, make_channel, make_user, post

# (key, channel, author, text). Each author posts fewer than the rate limit.
CORPUS = [
    ("cloud", "cloud", "sapporo", "ガバメントクラウドの運用経費について教えてください"),
    ("cloud_half", "cloud", "osaka", "ｶﾞﾊﾞﾒﾝﾄｸﾗｳﾄﾞ移行の計画を立てています"),
    ("cloud_hira", "cloud", "kochi", "がばめんとくらうど、とひらがなで書く人もいます"),
    ("lgwan_net", "cloud", "osaka", "LGWAN 接続の回線を見直しました"),
    ("lgwan_only", "cloud", "kochi", "ＬＧＷＡＮとインターネットの分離について"),
    ("net_only", "cloud", "kochi", "接続テストは来週の予定です"),
    ("window", "window", "sapporo", "書かない窓口を導入しました"),
    ("window_apart", "window", "osaka", "窓口で申請書を書かない運用を始めました"),
    ("std_end", "window", "kochi", "標準化"),
    ("std_mid", "window", "sapporo", "標準準拠システムへの移行"),
    ("town", "window", "national", "小布施町の事例を紹介します"),
    ("ai", "window", "national", "生成AIで議事録を要約しています。APIの連携も検討中"),
    ("html", "window", "sapporo", "<b>タグ</b>の入った投稿 LGWAN"),
]


@dataclass
class Corpus:
    users: dict[str, User]
    channels: dict[str, Channel]
    msgs: dict[str, Message]

    def key_of(self, message_id: int) -> str:
        return next(k for k, m in self.msgs.items() if m.id == message_id)


@pytest.fixture
def corpus(session: Session) -> Corpus:
    users = {
        "sapporo": make_user(session, org=SAPPORO),
        "osaka": make_user(session, org=OSAKA),
        "kochi": make_user(session, org=KOCHI),
        "national": make_user(session, role=Role.national),
    }
    chans = {"cloud": make_channel(session, slug="cloud"), "window": make_channel(session, slug="window")}
    msgs = {key: post(session, users[who], chans[ch], text) for key, ch, who, text in CORPUS}
    return Corpus(users, chans, msgs)


def in_index(session: Session, query: str) -> int:
    """Raw matches in the full-text index, before hits are checked for visibility."""
    table = SearchDoc.__table__  # type: ignore[attr-defined]
    return len(engine.match_ids(session, parse_query(query), table, [], before_id=None, limit=1000))


def found(session: Session, corpus: Corpus, query: str, **filters: object) -> set[str]:
    f = search.make_filters(session, **filters) if filters else None  # type: ignore[arg-type]
    page = search.search(session, corpus.users["sapporo"], query, f, limit=100)
    return {corpus.key_of(h.ref_id) for h in page.hits}


# -- query lengths -----------------------------------------------------------


def test_one_character_queries_find_the_character_anywhere_in_a_run(session: Session, corpus: Corpus) -> None:
    assert found(session, corpus, "化") == {"std_end"}  # the last character of a run
    assert found(session, corpus, "町") == {"town"}  # inside a run
    assert found(session, corpus, "標") == {"std_end", "std_mid"}  # the first
    assert found(session, corpus, "窓") == {"window", "window_apart"}


def test_two_character_queries(session: Session, corpus: Corpus) -> None:
    assert found(session, corpus, "窓口") == {"window", "window_apart"}
    assert found(session, corpus, "接続") == {"lgwan_net", "net_only"}
    assert found(session, corpus, "ai") == {"ai"}


def test_many_character_queries_match_the_whole_string_only(session: Session, corpus: Corpus) -> None:
    assert found(session, corpus, "標準化") == {"std_end"}
    assert found(session, corpus, "ガバメントクラウド移行") == {"cloud_half"}
    assert found(session, corpus, "運用経費について教えて") == {"cloud"}
    assert found(session, corpus, "クラウド窓口") == set()


def test_width_and_kana_variants_match(session: Session, corpus: Corpus) -> None:
    everyone = {"cloud", "cloud_half", "cloud_hira"}
    assert found(session, corpus, "ガバメントクラウド") == everyone
    assert found(session, corpus, "ｶﾞﾊﾞﾒﾝﾄ") == everyone
    assert found(session, corpus, "がばめんと") == everyone
    assert found(session, corpus, "lgwan") == found(session, corpus, "ＬＧＷＡＮ") == {
        "lgwan_net", "lgwan_only", "html"}


def test_ascii_words_match_by_prefix(session: Session, corpus: Corpus) -> None:
    assert found(session, corpus, "LGW") == {"lgwan_net", "lgwan_only", "html"}
    assert found(session, corpus, "gwan") == set()


def test_spaces_mean_and(session: Session, corpus: Corpus) -> None:
    assert found(session, corpus, "LGWAN 接続") == {"lgwan_net"}
    assert found(session, corpus, "LGWAN　接続") == {"lgwan_net"}  # a full-width space
    assert found(session, corpus, "書かない 窓口") == {"window", "window_apart"}


def test_quotes_mean_a_phrase(session: Session, corpus: Corpus) -> None:
    assert found(session, corpus, '"書かない窓口"') == {"window"}
    assert found(session, corpus, "「書かない窓口」") == {"window"}
    assert found(session, corpus, '"LGWAN 接続"') == {"lgwan_net"}
    assert found(session, corpus, '"接続 LGWAN"') == set()


def test_queries_that_are_only_symbols_or_operators_find_nothing_and_do_not_fail(
        session: Session, corpus: Corpus) -> None:
    for q in ["。、！", '"', "*", "NEAR(a b)", "a OR b", "-", "'", "\\", "((("]:
        search.search(session, corpus.users["sapporo"], q)
    assert found(session, corpus, "") == set()


# -- filters -----------------------------------------------------------------


def test_filter_by_channel(session: Session, corpus: Corpus) -> None:
    assert found(session, corpus, "LGWAN", channel="window") == {"html"}
    assert found(session, corpus, "LGWAN", channel="cloud") == {"lgwan_net", "lgwan_only"}


def test_filter_by_the_authors_organisation_by_name_or_code(session: Session, corpus: Corpus) -> None:
    assert found(session, corpus, "ガバメント", org="札幌市") == {"cloud"}
    assert found(session, corpus, "ガバメント", org="北海道札幌市") == {"cloud"}
    assert found(session, corpus, "ガバメント", org=OSAKA) == {"cloud_half"}
    with pytest.raises(InvalidInput):
        search.make_filters(session, org="存在しない市")


def test_filter_by_the_authors_prefecture(session: Session, corpus: Corpus) -> None:
    assert found(session, corpus, "接続", prefecture="39") == {"net_only"}  # 高知県
    assert found(session, corpus, "接続", prefecture="27") == {"lgwan_net"}  # 大阪府
    with pytest.raises(InvalidInput):
        search.make_filters(session, prefecture="99")


def test_filter_by_date_range_in_japan_time(session: Session, corpus: Corpus) -> None:
    # 2026-04-01 00:30 JST is still 2026-03-31 in UTC.
    m = corpus.msgs["cloud_half"]
    m.created_at = datetime(2026, 3, 31, 15, 30, tzinfo=timezone.utc)
    session.add(m)
    search.sync_message(session, m)
    session.commit()
    assert found(session, corpus, "ガバメント", date_from="2026-04-01", date_to="2026-04-01") == {"cloud_half"}
    assert found(session, corpus, "ガバメント", date_to="2026-03-31") == set()
    assert "cloud_half" not in found(session, corpus, "ガバメント", date_from="2026-04-02")
    with pytest.raises(InvalidInput):
        search.make_filters(session, date_from="2026-05-01", date_to="2026-04-01")
    with pytest.raises(InvalidInput):
        search.make_filters(session, date_from="4月1日")


def test_filter_resolved_questions_only(session: Session, corpus: Corpus) -> None:
    asker, helper = corpus.users["sapporo"], corpus.users["osaka"]
    thread = corpus.msgs["cloud"]
    questions.mark_question(session, asker, thread.id or 0)
    answer = post(session, helper, corpus.channels["cloud"], "ガバメントクラウドの経費は共同利用で下がります",
                  parent=thread)
    session.commit()
    assert found(session, corpus, "ガバメント", resolved_only=True) == set()
    questions.choose_answer(session, asker, answer.id or 0)
    session.commit()
    page = search.search(session, asker, "ガバメント", search.make_filters(session, resolved_only=True))
    assert {h.ref_id for h in page.hits} == {thread.id, answer.id}
    by_id = {h.ref_id: h for h in page.hits}
    assert by_id[thread.id].resolved and not by_id[thread.id].is_answer
    assert by_id[answer.id].is_answer and by_id[answer.id].is_reply


def test_filters_alone_list_items_newest_first(session: Session, corpus: Corpus) -> None:
    page = search.search(session, corpus.users["sapporo"], "", search.make_filters(session, channel="cloud"),
                         limit=3)
    assert [corpus.key_of(h.ref_id) for h in page.hits] == ["net_only", "lgwan_only", "lgwan_net"]
    assert page.more


def test_results_do_not_depend_on_the_first_pass_window(session: Session, corpus: Corpus,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL reads the newest documents first, then the older ones through
    the index (or the channel): a tiny window must give the same hits."""
    queries = ["窓口", "ガバメントクラウド", "LGWAN 接続", "標", "の"]
    wide = {q: found(session, corpus, q) for q in queries}
    wide_channel = found(session, corpus, "LGWAN", channel="cloud")
    monkeypatch.setattr(engine, "RECENT_WINDOW", 2)
    assert {q: found(session, corpus, q) for q in queries} == wide
    assert found(session, corpus, "LGWAN", channel="cloud") == wide_channel
    page = search.search(session, corpus.users["sapporo"], "の", limit=4)
    assert len(page.hits) == 4 and page.more


# -- the index follows changes -------------------------------------------------


def test_a_deleted_message_is_no_longer_found(session: Session, corpus: Corpus) -> None:
    assert in_index(session, "LGWAN 接続") == 1
    messages.delete_message(session, corpus.users["osaka"], corpus.msgs["lgwan_net"].id or 0)
    session.commit()
    assert found(session, corpus, "接続") == {"net_only"}
    assert found(session, corpus, "LGWAN") == {"lgwan_only", "html"}
    assert in_index(session, "LGWAN 接続") == 0


def test_a_hidden_message_is_no_longer_found_and_returns_when_restored(session: Session, corpus: Corpus) -> None:
    moderator = make_user(session, role=Role.moderator)
    messages.hide_message(session, moderator, corpus.msgs["window"].id or 0, "テスト")
    session.commit()
    assert found(session, corpus, "窓口") == {"window_apart"}
    assert in_index(session, "書かない窓口") == 0
    messages.restore_message(session, moderator, corpus.msgs["window"].id or 0)
    session.commit()
    assert found(session, corpus, "窓口") == {"window", "window_apart"}


def test_an_edit_replaces_the_old_words(session: Session, corpus: Corpus) -> None:
    messages.edit_message(session, corpus.users["kochi"], corpus.msgs["net_only"].id or 0, "疎通確認は来週です")
    session.commit()
    assert found(session, corpus, "接続") == {"lgwan_net"}
    assert found(session, corpus, "疎通確認") == {"net_only"}
    # Editing twice keeps the index consistent (the old tokens are removed exactly).
    messages.edit_message(session, corpus.users["kochi"], corpus.msgs["net_only"].id or 0, "接続は来週です")
    session.commit()
    assert found(session, corpus, "疎通") == set()
    assert in_index(session, "疎通") == 0
    assert found(session, corpus, "接続") == {"lgwan_net", "net_only"}


def test_a_hit_that_is_no_longer_visible_is_never_shown(session: Session, corpus: Corpus) -> None:
    """Even if the index missed a change (a direct UPDATE), hits are checked."""
    m = corpus.msgs["town"]
    session.execute(sa.update(Message).where(Message.id == m.id).values(hidden_at=datetime.now(timezone.utc)))
    session.commit()
    assert found(session, corpus, "小布施") == set()


def test_rebuild_gives_the_same_results(session: Session, corpus: Corpus) -> None:
    before = {q: found(session, corpus, q) for q in ["化", "窓口", "ガバメントクラウド", "LGWAN 接続"]}
    assert search.rebuild(session) == len(CORPUS)
    session.commit()
    assert {q: found(session, corpus, q) for q in before} == before
    # And the rebuilt index still removes exactly.
    messages.delete_message(session, corpus.users["kochi"], corpus.msgs["std_end"].id or 0)
    session.commit()
    assert found(session, corpus, "化") == set()
    assert in_index(session, "化") == 0


# -- hits ----------------------------------------------------------------------


def test_a_hit_links_to_the_message_in_its_thread(session: Session, corpus: Corpus) -> None:
    thread = corpus.msgs["ai"]
    reply = post(session, corpus.users["kochi"], corpus.channels["window"], "議事録の要約はAPI経由ですか", parent=thread)
    hits = {h.ref_id: h for h in search.search(session, corpus.users["osaka"], "議事録").hits}
    assert hits[thread.id].link == f"/c/window?thread={thread.id}&m={thread.id}"  # type: ignore[index]
    assert hits[reply.id].link == f"/c/window?thread={thread.id}&m={reply.id}"  # type: ignore[index]
    assert hits[reply.id].is_reply and hits[reply.id].kind_label == "返信"  # type: ignore[index]
    assert hits[reply.id].channel_name == corpus.channels["window"].name  # type: ignore[index]
    assert hits[thread.id].org_name == "デジタル庁"  # type: ignore[index]


def test_snippets_mark_the_match_and_escape_the_text(session: Session, corpus: Corpus) -> None:
    hit = search.search(session, corpus.users["osaka"], "ＬＧＷＡＮ タグ").hits[0]
    assert hit.snippet_html == "&lt;b&gt;<mark>タグ</mark>&lt;/b&gt;の入った投稿 <mark>LGWAN</mark>"
    half = search.search(session, corpus.users["osaka"], "ガバメント 移行").hits[0]
    assert half.snippet_html == "<mark>ｶﾞﾊﾞﾒﾝﾄ</mark>ｸﾗｳﾄﾞ<mark>移行</mark>の計画を立てています"


def test_pages_follow_on_without_repeats(session: Session, corpus: Corpus) -> None:
    user = corpus.users["sapporo"]
    first = search.search(session, user, "の", limit=3)
    assert first.more and len(first.hits) == 3
    second = search.search(session, user, "の", before_id=first.next_before, limit=3)
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    assert max(h.id for h in second.hits) < min(h.id for h in first.hits)


def test_only_active_members_search(session: Session, corpus: Corpus) -> None:
    user = corpus.users["kochi"]
    user.status = UserStatus.suspended
    session.add(user)
    session.commit()
    with pytest.raises(NotAllowed):
        search.search(session, user, "窓口")


# -- similar questions ---------------------------------------------------------


def test_similar_threads_while_writing_a_question(session: Session, corpus: Corpus) -> None:
    asker = corpus.users["kochi"]
    extra = post(session, corpus.users["osaka"], corpus.channels["cloud"],
                 "ガバメントクラウドの運用経費、回線費用の按分はどうしていますか")
    reply = post(session, asker, corpus.channels["cloud"], "ガバメントクラウドの運用経費の返信", parent=extra)
    draft = "ガバメントクラウドの運用経費の見込みはどう立てていますか？"
    similar = search.similar_threads(session, asker, draft)
    ids = [s.id for s in similar]
    assert ids[:2] == sorted([corpus.msgs["cloud"].id, extra.id], reverse=True) or set(ids[:2]) == {
        corpus.msgs["cloud"].id, extra.id}
    assert reply.id not in ids  # threads, not replies
    assert corpus.msgs["window"].id not in ids
    assert len(similar) <= 5
    assert similar[0].link.startswith("/c/cloud?thread=")
    assert search.similar_threads(session, asker, "短い") == []
    assert search.similar_threads(session, asker, "書かない窓口の研修はどうしましたか")[0].id == corpus.msgs["window"].id


def test_a_reply_in_a_hidden_thread_is_not_found(session: Session, corpus: Corpus) -> None:
    """What hangs on a hidden message hides with it (issue 14)."""
    moderator = make_user(session, role=Role.moderator)
    reply = post(session, corpus.users["osaka"], corpus.channels["window"], "スレッド内の返信ことば",
                 parent=corpus.msgs["window"])
    corpus.msgs["reply"] = reply
    assert found(session, corpus, "返信ことば") == {"reply"}
    messages.hide_message(session, moderator, corpus.msgs["window"].id or 0, "テスト")
    session.commit()
    assert found(session, corpus, "返信ことば") == set()
