"""/surveys/[id]: answer a 意見募集 and read its results; the creation form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso import routes
from kyoso.services import channels, export, surveys
from kyoso.states.polls import parse_deadline
from kyoso.states.session import SessionState

MAX_FORM_QUESTIONS = surveys.MAX_QUESTIONS


def survey_input(form: dict[str, Any], count: int) -> surveys.SurveyInput:
    questions = [
        surveys.QuestionInput(
            kind=str(form.get(f"q{i}_kind", "single")), prompt=str(form.get(f"q{i}_prompt", "")),
            choices=str(form.get(f"q{i}_choices", "")).splitlines(),
            required=not bool(form.get(f"q{i}_optional")),
        )
        for i in range(count)
    ]
    return surveys.SurveyInput(
        title=str(form.get("title", "")), description=str(form.get("description", "")),
        questions=questions, deadline=parse_deadline(str(form.get("deadline", ""))),
        anonymous=bool(form.get("anonymous")),
    )


def survey_answers(view: surveys.SurveyView, form: dict[str, Any]) -> dict[int, object]:
    """The answer form's fields, by question id."""
    answers: dict[int, object] = {}
    for q in view.questions:
        key = f"q{q.id}"
        if q.kind == "multiple":
            answers[q.id] = [int(k.rsplit("_", 1)[1]) for k, v in form.items()
                             if k.startswith(f"{key}_") and k.rsplit("_", 1)[1].isdecimal() and v]
        elif q.kind == "single":
            value = str(form.get(key, ""))
            answers[q.id] = [int(value)] if value.isdecimal() else []
        else:
            answers[q.id] = str(form.get(key, ""))
    return answers


class SurveyFormState(SessionState):
    """The 意見募集 creation form on a channel page."""

    open: bool = False
    questions: int = 1
    error: str = ""

    @rx.event
    def open_form(self):
        self.open = True
        self.questions = 1
        self.error = ""

    @rx.event
    def close_form(self):
        self.open = False

    @rx.event
    def add_question(self):
        self.questions = min(self.questions + 1, MAX_FORM_QUESTIONS)

    @rx.event
    async def create(self, form: dict):
        """A 意見募集 posted in the channel this page shows."""
        slug, count = self._route_param("slug"), self.questions

        def change(session: Any, user: Any) -> int:
            channel = channels.get_channel_by_slug(session, slug)
            return surveys.create_survey(session, user, channel.id or 0, survey_input(form, count)).id or 0

        def created(survey_id: int) -> Any:
            self.open = False
            return rx.redirect(routes.survey(survey_id))

        return await self._change(change, then=created)


class SurveyState(SessionState):
    survey: surveys.SurveyView | None = None
    answers: dict[str, str] = {}
    results: list[surveys.QuestionResult] = []
    regions: list[list[str]] = []
    can_see_results: bool = False
    can_manage: bool = False
    channel_slug: str = ""
    text_filter: str = ""
    error: str = ""
    notice: str = ""

    def _id(self) -> int:
        return self._route_int("id")

    def _load(self, session: Any, user: Any) -> None:
        s = surveys.get_survey(session, self._id())
        self.survey = surveys.view(session, user, self._id())
        self.answers = surveys.my_answers(session, user, self._id())
        self.can_see_results = surveys.can_see_results(session, user, s)
        self.can_manage = user.is_staff or user.id == s.author_id
        self.channel_slug = channels.get_channel(session, s.channel_id).slug
        if self.can_see_results:
            self.results = surveys.results(session, user, self._id(), text_filter=self.text_filter)
            self.regions = surveys.respondents_by_region(session, self._id())
        else:
            self.results, self.regions = [], []

    async def _reload(self, _: Any = None) -> Any:
        return await self._read(self._load)

    @rx.event
    async def open_survey(self):
        self.notice = ""
        self.text_filter = ""
        self.survey = None
        return await self._open(self._load)

    @rx.event
    async def submit(self, form: dict):
        if self.survey is None:
            return None
        answers = survey_answers(self.survey, form)
        return await self._change(surveys.respond, self._id(), answers,
                                  notice="回答を送信しました。締め切りまでは何度でも変更できます。",
                                  then=self._reload)

    @rx.event
    async def filter_texts(self, value: str):
        self.text_filter = str(value)[:50]
        return await self._reload()

    @rx.event
    async def set_closed(self, closed: bool):
        return await self._change(surveys.set_closed, self._id(), bool(closed), then=self._reload)

    @rx.event
    async def download_csv(self):
        return await self._read(surveys.export_rows, self._id(), then=lambda table: rx.download(
            data=export.to_csv(*table), filename=f"survey-{self._id()}.csv"))
