"""/surveys/[id]: answer a 意見募集 and read its results; the creation form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kyoso import realtime
from kyoso.services import export, surveys
from kyoso.services.errors import DomainError, NotAuthenticated
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
        from kyoso.states.channel import ChannelState

        self.error = ""
        channel = await self.get_state(ChannelState)
        try:
            data = survey_input(form, self.questions)
            with self._acting() as (session, user):
                survey, events = surveys.create_survey(session, user, channel.channel.id, data)
                sid = survey.id
        except DomainError as exc:
            self.error = exc.message
            return None
        self.open = False
        await realtime.publish(events)
        return rx.redirect(f"/surveys/{sid}")


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

    def _load(self) -> None:
        from kyoso.services import channels

        with self._reading() as (session, user):
            s = surveys.get_survey(session, self._id())
            self.survey = surveys.view(session, user, self._id())
            self.answers = surveys.my_answers(session, user, self._id())
            self.can_see_results = surveys.can_see_results(user, s)
            self.can_manage = user.is_staff or user.id == s.author_id
            self.channel_slug = channels.get_channel(session, s.channel_id).slug
            if self.can_see_results:
                self.results = surveys.results(session, user, self._id(), text_filter=self.text_filter)
                self.regions = surveys.respondents_by_region(session, self._id())
            else:
                self.results, self.regions = [], []

    @rx.event
    async def open_survey(self):
        self.error = ""
        self.notice = ""
        self.text_filter = ""
        if (redirect := await self._load_shell()) is not None:
            return redirect
        try:
            self._load()
        except NotAuthenticated:
            return self._login_redirect()
        except DomainError as exc:
            self.error = exc.message
            self.survey = None
        return None

    @rx.event
    def submit(self, form: dict):
        self.error = ""
        if self.survey is None:
            return
        answers: dict[int, object] = {}
        for q in self.survey.questions:
            key = f"q{q.id}"
            if q.kind == "multiple":
                answers[q.id] = [int(k.rsplit("_", 1)[1]) for k, v in form.items()
                                 if k.startswith(f"{key}_") and v]
            elif q.kind == "single":
                value = str(form.get(key, ""))
                answers[q.id] = [int(value)] if value.isdigit() else []
            else:
                answers[q.id] = str(form.get(key, ""))
        try:
            with self._acting() as (session, user):
                surveys.respond(session, user, self._id(), answers)
            self._load()
        except DomainError as exc:
            self.error = exc.message
            return
        self.notice = "回答を送信しました。締め切りまでは何度でも変更できます。"

    @rx.event
    def filter_texts(self, value: str):
        self.text_filter = str(value)[:50]
        try:
            self._load()
        except DomainError as exc:
            self.error = exc.message

    @rx.event
    def set_closed(self, closed: bool):
        try:
            with self._acting() as (session, user):
                surveys.set_closed(session, user, self._id(), bool(closed))
            self._load()
        except DomainError as exc:
            self.error = exc.message

    @rx.event
    def download_csv(self):
        try:
            with self._reading() as (session, user):
                header, rows = surveys.export_rows(session, user, self._id())
        except DomainError as exc:
            self.error = exc.message
            return None
        return rx.download(data=export.to_csv(header, rows), filename=f"survey-{self._id()}.csv")
