"""Anonymity that survives breakdowns (issue 14): anonymous polls and surveys
hide every cell under the threshold (k = 3 by default, a setting) and never
label free text by 団体."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from kyoso.db import utcnow
from kyoso.models import Role
from kyoso.services import poll_results, polls, surveys
from kyoso.settings import get_settings
from tests.utils.factories import CHIYODA, KOCHI, OSAKA, make_channel, make_poll, make_user


def _vote(session: Session, poll_id: int, org: str, n: int, choice: int = 0, other: str | None = None) -> None:
    for _ in range(n):
        polls.vote(session, make_user(session, org=org), poll_id, [choice], other_text=other)


def test_small_cells_of_an_anonymous_poll_are_hidden(session: Session) -> None:
    author = make_user(session, role=Role.national)
    poll = make_poll(session, author, make_channel(session), anonymous=True, allow_other=True)
    _vote(session, poll.id or 0, CHIYODA, 3, 0)   # 東京都 / 市区町村: 3 voters, shown
    _vote(session, poll.id or 0, KOCHI, 1, 3, other="高知県庁だけの事情")  # 高知県 alone: hidden
    r = poll_results.affiliation_results(session, author, poll.id or 0)
    groups = {row.label: (row.voters, row.counts, row.hidden) for row in r.splits_by_group}
    assert groups["市区町村"] == (3, [3, 0, 0, 0], False)
    assert groups["都道府県（3人未満のため非表示）"] == (0, [0, 0, 0, 0], True)
    prefs = {row.label: row.voters for row in r.splits_by_prefecture}
    assert prefs["東京都"] == 3 and prefs["高知県（3人未満のため非表示）"] == 0
    assert {t.name: t.voters for t in r.tiles}["高知県"] == 0
    assert r.other_texts == [("匿名の回答", "高知県庁だけの事情")]
    # The export of an anonymous poll is the same breakdown.
    _, _, rows = poll_results.ballots_for_export(session, author, poll.id or 0)
    assert ["区分: 都道府県（3人未満のため非表示）", "0", "0", "0", "0", "0"] in rows


def test_the_threshold_is_a_setting(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    author = make_user(session, role=Role.national)
    poll = make_poll(session, author, make_channel(session), anonymous=True)
    _vote(session, poll.id or 0, OSAKA, 3)
    monkeypatch.setenv("KYOSO_ANONYMITY_THRESHOLD", "5")
    get_settings.cache_clear()
    try:
        r = poll_results.affiliation_results(session, author, poll.id or 0)
        assert [row.hidden for row in r.splits_by_group if row.label.startswith("市区町村")] == [True]
    finally:
        monkeypatch.delenv("KYOSO_ANONYMITY_THRESHOLD")
        get_settings.cache_clear()


def test_a_named_poll_shows_every_cell(session: Session) -> None:
    author = make_user(session, role=Role.national)
    poll = make_poll(session, author, make_channel(session), anonymous=False)
    _vote(session, poll.id or 0, KOCHI, 1)
    r = poll_results.affiliation_results(session, author, poll.id or 0)
    assert {row.label: row.voters for row in r.splits_by_group}["都道府県"] == 1


def test_an_anonymous_survey_hides_small_groups_and_the_団体_of_its_texts(session: Session) -> None:
    author = make_user(session, role=Role.national)
    channel = make_channel(session)
    survey = surveys.create_survey(session, author, channel.id or 0, surveys.SurveyInput(
        "匿名の意見募集", "", [surveys.QuestionInput("scale", "満足度"), surveys.QuestionInput("text", "ご意見")],
        deadline=utcnow() + timedelta(days=2), anonymous=True))
    scale_q, text_q = (q.id for q in surveys.view(session, author, survey.id or 0).questions)
    for org, n in ((CHIYODA, 3), (KOCHI, 1)):
        for _ in range(n):
            surveys.respond(session, make_user(session, org=org), survey.id or 0,
                            {scale_q: 4, text_q: f"{org}からの意見"})
    results = surveys.results(session, author, survey.id or 0)
    groups = {g[0]: g[1:] for g in results[0].by_group}
    assert groups["市区町村"] == ["3", "平均 4.00"] and groups["都道府県"] == ["3人未満", "—"]
    texts = results[1].texts
    assert {t.org_name for t in texts} == {"匿名の回答"} and all(t.prefecture == "" for t in texts)
    # A filter by 団体 name finds nothing: it would tell whose text is whose.
    assert surveys.results(session, author, survey.id or 0, text_filter="高知県")[1].texts == []
    regions = dict(surveys.respondents_by_region(session, survey.id or 0))
    assert regions["関東"] == "3" and regions["四国"] == "3人未満"
