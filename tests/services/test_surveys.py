"""意見募集: questions of each kind, changing answers, deadline, results by affiliation."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import Session

from kyoso.db import utcnow
from kyoso.models import Role
from kyoso.services import export, surveys
from kyoso.services.errors import InvalidInput, NotAllowed
from tests.utils.factories import KOCHI, OSAKA, SOUMU, make_channel, make_user

Q = surveys.QuestionInput


def make_survey(session: Session, author, **over):  # type: ignore[no-untyped-def]
    data = dict(title="標準化の進捗調査", description="ご協力ください", questions=[
        Q("single", "移行の状況は？", ["完了", "作業中", "未着手"]),
        Q("multiple", "課題は？", ["予算", "人手", "ベンダー"]),
        Q("scale", "国の支援は十分ですか？"),
        Q("text", "ご意見をどうぞ", required=False),
    ])
    data.update(over)
    survey = surveys.create_survey(session, author, make_channel(session).id or 0,
                                      surveys.SurveyInput(**data))  # type: ignore[arg-type]
    session.commit()
    return survey


def test_answer_change_and_results_by_affiliation(session: Session) -> None:
    author = make_user(session, role=Role.national)
    survey = make_survey(session, author)
    q = [x.id for x in surveys.view(session, author, survey.id or 0).questions]
    osaka, kochi, soumu = (make_user(session, org=OSAKA), make_user(session, org=KOCHI),
                           make_user(session, org=SOUMU, role=Role.national))
    surveys.respond(session, osaka, survey.id or 0, {q[0]: [1], q[1]: [0, 1], q[2]: 2, q[3]: "予算が足りないのが現状です"})
    surveys.respond(session, kochi, survey.id or 0, {q[0]: [2], q[1]: [1], q[2]: 4, q[3]: ""})
    surveys.respond(session, soumu, survey.id or 0, {q[0]: [0], q[1]: [2], q[2]: 5})
    surveys.respond(session, osaka, survey.id or 0, {q[0]: [0], q[1]: [1], q[2]: 3, q[3]: "人手も足りません"})
    results = surveys.results(session, author, survey.id or 0)
    assert [(c.label, c.count) for c in results[0].choices] == [("完了", 2), ("作業中", 0), ("未着手", 1)]
    assert [c.count for c in results[1].choices] == [0, 2, 1]
    assert results[2].average == "4.00" and results[2].answered == 3
    assert [(t.org_name, t.text) for t in results[3].texts] == [("大阪府大阪市", "人手も足りません")]
    groups = {g[0]: g[1] for g in results[2].by_group}
    assert groups == {"都道府県": "1", "市区町村": "1", "国": "1"}
    assert surveys.view(session, author, survey.id or 0).responses == 3
    filtered = surveys.results(session, author, survey.id or 0, text_filter="人手")
    assert len(filtered[3].texts) == 1
    assert surveys.results(session, author, survey.id or 0, text_filter="存在しない")[3].texts == []


def test_validation_of_answers(session: Session) -> None:
    author = make_user(session, role=Role.national)
    survey = make_survey(session, author)
    q = [x.id for x in surveys.view(session, author, survey.id or 0).questions]
    member = make_user(session)
    with pytest.raises(InvalidInput):  # two picks on a single-choice question
        surveys.respond(session, member, survey.id or 0, {q[0]: [0, 1], q[1]: [0], q[2]: 3})
    with pytest.raises(InvalidInput):  # a required question left out
        surveys.respond(session, member, survey.id or 0, {q[1]: [0], q[2]: 3})
    with pytest.raises(InvalidInput):  # out of scale
        surveys.respond(session, member, survey.id or 0, {q[0]: [0], q[1]: [0], q[2]: 9})
    with pytest.raises(InvalidInput):  # no such choice
        surveys.respond(session, member, survey.id or 0, {q[0]: [7], q[1]: [0], q[2]: 3})


def test_deadline_closes_and_hides_results_until_then(session: Session) -> None:
    author = make_user(session, role=Role.national)
    survey = make_survey(session, author, deadline=utcnow() + timedelta(hours=1))
    member = make_user(session)
    with pytest.raises(NotAllowed):
        surveys.results(session, member, survey.id or 0)
    assert surveys.view(session, member, survey.id or 0).responses == 0
    survey.deadline = utcnow() - timedelta(seconds=1)
    session.add(survey)
    q = [x.id for x in surveys.view(session, author, survey.id or 0).questions]
    with pytest.raises(NotAllowed):
        surveys.respond(session, member, survey.id or 0, {q[0]: [0], q[1]: [0], q[2]: 3})
    assert surveys.results(session, member, survey.id or 0)  # public after the deadline


def test_creation_rules(session: Session) -> None:
    author = make_user(session)
    with pytest.raises(InvalidInput):
        make_survey(session, author, questions=[Q("single", "選択肢がひとつ", ["A"])])
    with pytest.raises(InvalidInput):
        make_survey(session, author, questions=[Q("text", "   ")])
    with pytest.raises(InvalidInput):
        make_survey(session, author, questions=[Q("bogus", "種類が変")])


def test_export_anonymous_has_no_names_and_neutralises_formulas(session: Session) -> None:
    author = make_user(session, role=Role.national)
    survey = make_survey(session, author, anonymous=True)
    q = [x.id for x in surveys.view(session, author, survey.id or 0).questions]
    member = make_user(session, name="回答者の名前", org=OSAKA)
    surveys.respond(session, member, survey.id or 0, {q[0]: [1], q[1]: [0], q[2]: 2, q[3]: "=HYPERLINK(1)"})
    with pytest.raises(NotAllowed):
        surveys.export_rows(session, member, survey.id or 0)
    header, rows = surveys.export_rows(session, author, survey.id or 0)
    text = export.to_csv(header, rows).decode("utf-8-sig")
    # Anonymous: the 区分 only, never the 団体 (issue 14: a small 団体's one respondent).
    assert "回答者の名前" not in text and "大阪府大阪市" not in text and "市区町村" in text
    table = list(csv.reader(io.StringIO(text)))
    assert table[1][-1] == "'=HYPERLINK(1)" and table[1][2] == "作業中"


def test_a_free_text_answer_is_capped_so_a_whole_answer_set_fits_one_message(session: Session) -> None:
    author, member = make_user(session, role=Role.national), make_user(session)
    survey = make_survey(session, author, questions=[Q("text", f"意見{i}") for i in range(surveys.MAX_QUESTIONS)])
    q = [x.id for x in surveys.view(session, author, survey.id or 0).questions]
    full = {qid: "あ" * surveys.MAX_ANSWER for qid in q}  # the largest answer set (tests/ops/test_worker.py)
    surveys.respond(session, member, survey.id or 0, full)
    with pytest.raises(InvalidInput) as err:
        surveys.respond(session, member, survey.id or 0, {**full, q[3]: "あ" * (surveys.MAX_ANSWER + 1)})
    assert err.value.message == "「意見3」は2,000文字以内で入力してください（いま2,001文字です）。"
