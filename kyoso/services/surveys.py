"""意見募集 (surveys): several questions (single or multiple choice, free text,
a 5-point scale), a deadline, and results split by affiliation with the free
texts listed by 団体."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import (
    Organisation,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    User,
    UserStatus,
)
from kyoso.services import affiliation, messages, visibility
from kyoso.services import channels as channel_rules
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.text import clean_line, clean_text
from kyoso.services.timefmt import jst_datetime

KINDS = {"single": "ひとつ選択", "multiple": "複数選択", "text": "自由記述", "scale": "5段階評価"}
SCALE_LABELS = ["1 そう思わない", "2", "3 どちらともいえない", "4", "5 そう思う"]
MAX_QUESTIONS = 30
# One free-text answer. A whole answer set travels as one websocket message,
# which the server caps (KYOSO_WS_MAX_BYTES, 320 KB): 30 answers of 2,000
# characters (~180 KB of UTF-8) stay well under it.
MAX_ANSWER = 2000


@dataclass
class QuestionInput:
    kind: str
    prompt: str
    choices: list[str] = field(default_factory=list)
    required: bool = True


@dataclass
class SurveyInput:
    title: str
    description: str
    questions: list[QuestionInput]
    deadline: datetime | None = None
    anonymous: bool = False


@dataclass
class QuestionView:
    id: int
    position: int
    kind: str
    kind_label: str
    prompt: str
    choices: list[str]
    required: bool


@dataclass
class SurveyView:
    id: int
    title: str
    description: str
    deadline: str
    closed: bool
    anonymous: bool
    author_id: int
    channel_id: int
    message_id: int
    questions: list[QuestionView]
    responses: int


@dataclass
class ChoiceResult:
    label: str
    count: int
    percent: int


@dataclass
class TextAnswer:
    org_name: str
    prefecture: str
    group: str
    text: str


@dataclass
class QuestionResult:
    id: int
    prompt: str
    kind: str
    answered: int
    choices: list[ChoiceResult]
    average: str
    by_group: list[list[str]]  # [label, answered, average or top choice]
    texts: list[TextAnswer]


def get_survey(session: Session, survey_id: int) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound("意見募集が見つかりません。")
    return survey


def is_closed(survey: Survey) -> bool:
    return visibility.survey_closed(survey)


def get_visible(session: Session, user: User, survey_id: int) -> Survey:
    """The survey, if the member may open it (``visibility.can_view_survey``):
    one hidden or deleted with its message is not found, except by 運営 and its author."""
    survey = get_survey(session, survey_id)
    if not visibility.can_view_survey(session, user, survey):
        raise NotFound("意見募集が見つかりません。")
    return survey


def can_see_results(session: Session, user: User, survey: Survey) -> bool:
    return visibility.can_see_survey_results(session, user, survey)


def _check(data: SurveyInput) -> SurveyInput:
    title = clean_line(data.title, label="タイトル", max_len=200)
    description = clean_text(data.description, label="説明", max_len=4000, required=False)
    questions = []
    for i, q in enumerate(data.questions):
        prompt = clean_line(q.prompt, label=f"質問{i + 1}", max_len=300, required=False)
        if not prompt:
            continue
        if q.kind not in KINDS:
            raise InvalidInput(f"質問{i + 1}の種類を選んでください。")
        choices = [clean_line(c, label="選択肢", max_len=100, required=False) for c in q.choices]
        choices = [c for c in choices if c]
        if q.kind in ("single", "multiple"):
            if len(choices) < 2:
                raise InvalidInput(f"質問{i + 1}「{prompt}」には選択肢を2つ以上入力してください（1行に1つ）。")
            if len(choices) > 20:
                raise InvalidInput(f"質問{i + 1}の選択肢は20個までです。")
        else:
            choices = []
        questions.append(QuestionInput(q.kind, prompt, choices, bool(q.required)))
    if not questions:
        raise InvalidInput("質問を1つ以上入力してください。")
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput(f"質問は{MAX_QUESTIONS}個までです。")
    if data.deadline is not None and data.deadline <= utcnow():
        raise InvalidInput("締め切りは未来の日時にしてください。")
    return SurveyInput(title, description, questions, data.deadline, bool(data.anonymous))


def create_survey(session: Session, user: User, channel_id: int, data: SurveyInput) -> Survey:
    data = _check(data)
    message = messages.post_message(session, user, channel_id, f"📝 意見募集: {data.title}")
    survey = Survey(message_id=message.id, channel_id=channel_id, author_id=user.id,  # type: ignore[arg-type]
                    title=data.title, description=data.description, deadline=data.deadline,
                    anonymous=data.anonymous)
    session.add(survey)
    session.flush()
    for i, q in enumerate(data.questions):
        session.add(SurveyQuestion(survey_id=survey.id, position=i, kind=q.kind, prompt=q.prompt,  # type: ignore[arg-type]
                                   choices="\n".join(q.choices), required=q.required))
    session.flush()
    return survey


def _questions(session: Session, survey_id: int) -> list[SurveyQuestion]:
    return list(session.exec(select(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id)
                             .order_by(SurveyQuestion.position)).all())  # type: ignore[arg-type]


def view(session: Session, user: User, survey_id: int) -> SurveyView:
    channel_rules.require_active(user)
    s = get_visible(session, user, survey_id)
    responses = int(session.exec(select(sa.func.count()).select_from(SurveyResponse)
                                 .where(SurveyResponse.survey_id == survey_id)).one())
    return SurveyView(
        id=s.id or 0, title=s.title, description=s.description,
        deadline=jst_datetime(s.deadline) if s.deadline else "", closed=is_closed(s), anonymous=s.anonymous,
        author_id=s.author_id, channel_id=s.channel_id, message_id=s.message_id or 0,
        questions=[QuestionView(q.id or 0, q.position, q.kind, KINDS[q.kind], q.prompt,
                                [c for c in q.choices.split("\n") if c], q.required)
                   for q in _questions(session, survey_id)],
        responses=responses if can_see_results(session, user, s) else 0,
    )


def respond(session: Session, user: User, survey_id: int, answers: dict[int, object]) -> None:
    """Answer, or change one's answers until the deadline. ``answers`` maps a
    question id to: a list of choice positions, a scale 1-5, or a text."""
    channel_rules.require_active(user)
    survey = get_visible(session, user, survey_id)
    if is_closed(survey):
        raise NotAllowed("この意見募集は締め切られています。")
    rows: list[SurveyAnswer] = []
    for q in _questions(session, survey_id):
        raw = answers.get(q.id or 0)
        label = f"「{q.prompt}」"
        if q.kind in ("single", "multiple"):
            n = len([c for c in q.choices.split("\n") if c])
            picks = sorted({int(p) for p in (raw or [])}) if isinstance(raw, list) else []
            if any(not 0 <= p < n for p in picks):
                raise InvalidInput(f"{label}の選択肢が正しくありません。")
            if q.kind == "single" and len(picks) > 1:
                raise InvalidInput(f"{label}はひとつだけ選んでください。")
            if q.required and not picks:
                raise InvalidInput(f"{label}に回答してください。")
            if picks:
                rows.append(SurveyAnswer(response_id=0, question_id=q.id or 0,
                                         choices=",".join(map(str, picks))))
        elif q.kind == "scale":
            try:
                value = int(raw) if raw not in (None, "") else None  # type: ignore[arg-type]
            except (TypeError, ValueError):
                value = None
            if value is not None and not 1 <= value <= 5:
                raise InvalidInput(f"{label}は1〜5で答えてください。")
            if q.required and value is None:
                raise InvalidInput(f"{label}に回答してください。")
            if value is not None:
                rows.append(SurveyAnswer(response_id=0, question_id=q.id or 0, scale=value))
        else:
            # 「…」は2,000文字以内で入力してください（いま2,345文字です）。
            text = clean_text(raw if isinstance(raw, str) else "", label=label, max_len=MAX_ANSWER,
                              required=q.required)
            if text:
                rows.append(SurveyAnswer(response_id=0, question_id=q.id or 0, text=text))
    response = session.exec(select(SurveyResponse).where(
        SurveyResponse.survey_id == survey_id, SurveyResponse.user_id == user.id)).first()
    now = utcnow()
    if response is None:
        response = SurveyResponse(survey_id=survey_id, user_id=user.id, created_at=now, updated_at=now)  # type: ignore[arg-type]
        session.add(response)
        try:
            with session.begin_nested():
                session.flush()
        except sa.exc.IntegrityError:
            response = session.exec(select(SurveyResponse).where(
                SurveyResponse.survey_id == survey_id, SurveyResponse.user_id == user.id)).one()
    response.updated_at = now
    session.add(response)
    session.execute(sa.delete(SurveyAnswer).where(SurveyAnswer.response_id == response.id))
    for row in rows:
        row.response_id = response.id or 0
        session.add(row)
    session.flush()


def my_answers(session: Session, user: User, survey_id: int) -> dict[str, str]:
    """My current answers as form values: "q<ID>" → value (choices "0,2")."""
    get_visible(session, user, survey_id)
    response = session.exec(select(SurveyResponse).where(
        SurveyResponse.survey_id == survey_id, SurveyResponse.user_id == user.id)).first()
    if response is None:
        return {}
    out = {}
    for a in session.exec(select(SurveyAnswer).where(SurveyAnswer.response_id == response.id)).all():
        out[f"q{a.question_id}"] = a.choices or (str(a.scale) if a.scale is not None else a.text)
    return out


def set_closed(session: Session, user: User, survey_id: int, closed: bool) -> None:
    survey = get_visible(session, user, survey_id)
    if not (user.is_staff or user.id == survey.author_id) or user.status != UserStatus.active:
        raise NotAllowed("締め切れるのは作成者と運営だけです。")
    survey.closed_at = utcnow() if closed else None
    if not closed and survey.deadline is not None and survey.deadline <= utcnow():
        survey.deadline = None
    session.add(survey)


def results(session: Session, user: User, survey_id: int, *, text_filter: str = "") -> list[QuestionResult]:
    survey = get_visible(session, user, survey_id)
    if not can_see_results(session, user, survey):
        raise NotAllowed("結果は締め切り後に公開されます。")
    rows = session.exec(
        select(SurveyAnswer, Organisation)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)  # type: ignore[arg-type]
        .join(User, User.id == SurveyResponse.user_id)  # type: ignore[arg-type]
        .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(SurveyResponse.survey_id == survey_id)
    ).all()
    by_question: dict[int, list[tuple[SurveyAnswer, Organisation]]] = defaultdict(list)
    for a, org in rows:
        by_question[a.question_id].append((a, org))
    needle = (text_filter or "").strip()

    def hide_few(row: list[str]) -> list[str]:
        """k-anonymity: a group of an anonymous survey with too few answers shows no figures."""
        if survey.anonymous and affiliation.too_few(int(row[1])):
            return [row[0], f"{affiliation.threshold()}人未満", "—"]
        return row

    out = []
    for q in _questions(session, survey_id):
        answers = by_question.get(q.id or 0, [])
        labels = [c for c in q.choices.split("\n") if c]
        choices: list[ChoiceResult] = []
        average = ""
        by_group: list[list[str]] = []
        texts: list[TextAnswer] = []
        groups: dict[str, list[tuple[SurveyAnswer, Organisation]]] = defaultdict(list)
        for a, org in answers:
            groups[affiliation.group_label(org)].append((a, org))
        if q.kind in ("single", "multiple"):
            counts: Counter[int] = Counter(int(p) for a, _ in answers for p in a.choices.split(",") if p)
            total = len(answers) or 1
            choices = [ChoiceResult(label, counts[i], round(100 * counts[i] / total)) for i, label in enumerate(labels)]
            for g in affiliation.GROUP_LABELS.values():
                gc: Counter[int] = Counter(int(p) for a, _ in groups.get(g, []) for p in a.choices.split(",") if p)
                top = labels[gc.most_common(1)[0][0]] if gc else "—"
                by_group.append(hide_few([g, str(len(groups.get(g, []))), f"最多: {top}"]))
        elif q.kind == "scale":
            values = [a.scale for a, _ in answers if a.scale is not None]
            dist = Counter(values)
            total = len(values) or 1
            choices = [ChoiceResult(SCALE_LABELS[i - 1], dist[i], round(100 * dist[i] / total)) for i in range(1, 6)]
            average = f"{sum(values) / len(values):.2f}" if values else "—"
            for g in affiliation.GROUP_LABELS.values():
                gv = [a.scale for a, _ in groups.get(g, []) if a.scale is not None]
                by_group.append(hide_few([g, str(len(gv)), f"平均 {sum(gv) / len(gv):.2f}" if gv else "—"]))
        else:
            if survey.anonymous:
                # Free text of an anonymous survey: no 団体, no 都道府県, in no
                # 団体's order, and a filter matches the text only.
                texts = sorted((TextAnswer(affiliation.ANONYMOUS_LABEL, "", "匿名", a.text)
                                for a, _ in answers if a.text and (not needle or needle in a.text)),
                               key=lambda t: t.text)
            else:
                texts = [TextAnswer(org.display_name, org.prefecture, affiliation.group_label(org), a.text)
                         for a, org in sorted(answers, key=lambda x: (x[1].prefecture_code, x[1].code))
                         if a.text and (not needle or needle in a.text or needle in org.display_name
                                        or needle == affiliation.group_label(org))]
            for g in affiliation.GROUP_LABELS.values():
                by_group.append(hide_few([g, str(len(groups.get(g, []))), ""]))
        out.append(QuestionResult(q.id or 0, q.prompt, q.kind, len(answers), choices, average, by_group, texts))
    return out


def respondents_by_region(session: Session, survey_id: int) -> list[list[str]]:
    """Responses per region; for an anonymous survey a region with fewer than
    the anonymity threshold shows only that."""
    survey = get_survey(session, survey_id)
    rows = session.exec(
        select(Organisation.region, sa.func.count())
        .join(User, User.org_code == Organisation.code)  # type: ignore[arg-type]
        .join(SurveyResponse, SurveyResponse.user_id == User.id)  # type: ignore[arg-type]
        .where(SurveyResponse.survey_id == survey_id).group_by(Organisation.region)
    ).all()
    counts = dict(rows)
    few = f"{affiliation.threshold()}人未満"
    return [[r, few if survey.anonymous and affiliation.too_few(counts.get(r, 0)) else str(counts.get(r, 0))]
            for r in affiliation.REGION_LABELS]


def export_rows(session: Session, user: User, survey_id: int) -> tuple[list[str], list[list[str]]]:
    """One row per response: named surveys with the name and 団体, anonymous
    ones with the 区分 only."""
    survey = get_visible(session, user, survey_id)
    if user.status != UserStatus.active or not (user.is_staff or user.id == survey.author_id):
        raise NotAllowed("エクスポートできるのは作成者と運営だけです。")
    questions = _questions(session, survey_id)
    # An anonymous survey's rows say only the 区分: with its 団体, each row
    # (its free texts) would name the one respondent of a small 団体.
    header = (["回答日時"] + (["区分"] if survey.anonymous else ["氏名", "団体", "都道府県", "区分"])
              + [q.prompt for q in questions])
    out = []
    # Every answer of the survey in one query, not one per response.
    answers_by_response: dict[int, dict[int, SurveyAnswer]] = defaultdict(dict)
    for a in session.exec(
            select(SurveyAnswer).join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)  # type: ignore[arg-type]
            .where(SurveyResponse.survey_id == survey_id)).all():
        answers_by_response[a.response_id][a.question_id] = a
    for response, u, org in session.exec(
        select(SurveyResponse, User, Organisation)
        .join(User, User.id == SurveyResponse.user_id)  # type: ignore[arg-type]
        .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(SurveyResponse.survey_id == survey_id).order_by(SurveyResponse.id)  # type: ignore[arg-type]
    ).all():
        answers = answers_by_response.get(response.id or 0, {})
        cells = []
        for q in questions:
            a = answers.get(q.id or 0)
            if a is None:
                cells.append("")
            elif q.kind in ("single", "multiple"):
                labels = [c for c in q.choices.split("\n") if c]
                cells.append("、".join(labels[int(p)] for p in a.choices.split(",") if p))
            elif q.kind == "scale":
                cells.append(str(a.scale or ""))
            else:
                cells.append(a.text)
        who = ([affiliation.group_label(org)] if survey.anonymous
               else [u.name, org.display_name, org.prefecture, affiliation.group_label(org)])
        out.append([jst_datetime(response.updated_at)] + who + cells)
    return header, out
