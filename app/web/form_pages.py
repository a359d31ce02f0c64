"""The form's question page as it is drawn, its addresses, and changing an answer from
"check your answers" (the row to return to, the level the answers had then)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from app.engine import Page, Questionnaire
from app.errors import AppError
from app.services import interview as flow
from app.services import (
    interview_navigation,
)

from . import present, shown
from .entry import (
    Entry,
)
from .forms import PageInput
from .pages import render


def base_context(entry: Entry, **context: Any) -> dict[str, Any]:
    return {"entry": entry, "clinic_name": entry.clinic_name, "clinic": entry.clinic, **context}


@dataclass(frozen=True, slots=True)
class Change:
    """Changing an answer from "check your answers": the row to return to, and the triage
    level the answers had then (so that the page can say when a change altered it)."""

    row: str | None = None  # a question id
    was: str | None = None  # a level code

    def query(self) -> str:
        params = {"change": "1", "row": self.row, "was": self.was}
        return urlencode({k: v for k, v in params.items() if v is not None})

    def check_url(self, entry: Entry) -> str:
        url = entry.url("check")
        if self.row is None:
            return url
        back = urlencode({k: v for k, v in (("row", self.row), ("was", self.was)) if v})
        return f"{url}?{back}#row-{self.row}"


def change_of(q: Questionnaire, values: Mapping[str, str]) -> Change | None:
    """Change mode, from a query or a form: None when not changing. A row or level this
    questionnaire does not have is left out (a link from an older page: nothing to return to)."""
    if values.get("change") != "1":
        return None
    row, was = values.get("row"), values.get("was")
    return Change(row if row in q.question_by_id else None, was if was in q.level_by_code else None)


def question_url(entry: Entry, page: Page, *, changing: Change | None = None) -> str:
    url = entry.url("questions", page.id)
    return f"{url}?{changing.query()}" if changing else url


def page_or_404(interview: flow.Interview, page_id: str) -> Page:
    page = interview_navigation.find_page(interview.questionnaire, page_id)
    if page is None:
        raise AppError(404)
    return page


def resume_page_url(entry: Entry, interview: flow.Interview) -> str:
    """Where someone who asked for a page they cannot have yet should go instead."""
    evaluation = interview.evaluation
    page = evaluation.next_page
    if interview.draft is not None and evaluation.stopped:
        # A correction: the page with the emergency answer.
        page = interview_navigation.stop_page(evaluation)
    if page is not None:
        return question_url(entry, page)
    if interview.draft is not None and interview.evaluation.complete:
        return entry.url("check")
    return entry.start_url


def render_question_page(
    request: Request,
    entry: Entry,
    interview: flow.Interview,
    page: Page,
    page_input: PageInput | None,
    units: dict[str, Any],
    *,
    changing: Change | None,
) -> Response:
    evaluation = interview.evaluation
    words = shown.shown(request.app.state.registry, interview.questionnaire)
    questions = shown.questions(words, evaluation.visible_on(page))
    base_url = entry.url("questions", page.id)
    fields = present.field_views(
        questions,
        answers=evaluation.answers,
        page_input=page_input,
        units=units,
        base_url=base_url,
        query=request.query_params,
        text_lang=shown.text_lang(words),
    )
    previous = interview_navigation.previous_page(evaluation, page)
    if changing:
        back_url = changing.check_url(entry)
    elif previous is not None:
        back_url = question_url(entry, previous)
    else:
        back_url = entry.start_url
    single = len(questions) == 1
    in_words = shown.page(words, page)
    heading = questions[0].text if single else in_words.title
    told = flow.doctor_level(evaluation)
    return render(
        request,
        "web/question.html",
        base_context(
            entry,
            page=in_words,
            fields=fields,
            errors=page_input.errors if page_input else [],
            single=single,
            heading=heading,
            title=heading,
            section_title=interview_navigation.section_title(words, page),
            progress=interview_navigation.progress(evaluation, page),
            action=base_url,
            changing=changing,
            correcting=entry.corrects is not None,
            back_url=back_url,
            doctor_level=shown.level(words, told) if told else None,
            text_lang=shown.text_lang(words),
        ),
        status_code=400 if page_input and page_input.errors else 200,
    )
