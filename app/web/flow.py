"""The form's journey through the engine's pages: which page comes next, when to tell someone to
see a doctor, and saving or finishing the interview.

All branching comes from the engine's Evaluation; this module only reads it. The functions
that write (answer_page, finish) never commit: the route does, so a request stores all of its
changes or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlmodel import Session

from app.engine import AnswerError, Evaluation, Level, Page, Question, Questionnaire, evaluate
from app.engine import triage_level as engine_triage_level
from app.models import Draft
from app.services import assessments, drafts, intake
from app.services.questionnaires import Registry, UnknownQuestionnaireError

from .entry import Entry
from .forms import PageInput


@dataclass(frozen=True, slots=True)
class Interview:
    """Someone's interview as it stands: their draft (if any) and the engine's view of it."""

    questionnaire: Questionnaire
    draft: Draft | None
    evaluation: Evaluation

    @property
    def answers(self) -> dict[str, Any]:
        return self.evaluation.answers


@dataclass(frozen=True, slots=True)
class Step:
    """Where to send the person after they answered a page."""

    location: str
    draft_token: str | None = None  # a new draft's token, for the cookie
    finished: bool = False


def load_interview(
    session: Session, entry: Entry, request: Request, registry: Registry
) -> Interview:
    draft = entry.find_draft(session, request)
    q = registry.default
    if draft is not None:
        try:
            q = registry.get(draft.questionnaire_id)
        except UnknownQuestionnaireError:
            draft = None  # a definition that was removed: start again
    stored = draft.answers if draft is not None else {}
    return Interview(q, draft, evaluate(q, usable_answers(q, stored)))


def usable_answers(q: Questionnaire, stored: dict[str, Any]) -> dict[str, Any]:
    """Stored answers the current definition still accepts (a file may change under a draft)."""
    usable: dict[str, Any] = {}
    for key, value in stored.items():
        question = q.question_by_id.get(key)
        if question is not None and question.check(value)[1] is None:
            usable[key] = value
    return usable


# -- Navigation -----------------------------------------------------------------------------------


def find_page(q: Questionnaire, page_id: str) -> Page | None:
    return next((p for p in q.pages if p.id == page_id), None)


def _index(q: Questionnaire, page: Page) -> int:
    return q.pages.index(page)


def may_show(evaluation: Evaluation, page: Page) -> bool:
    """A page can be shown when branching shows it and no earlier page is still unanswered
    (people move forward through the pages, or back; they cannot skip ahead)."""
    if not evaluation.page_is_visible(page):
        return False
    required = evaluation.next_page
    q = evaluation.questionnaire
    return required is None or _index(q, page) <= _index(q, required)


def previous_page(evaluation: Evaluation, page: Page) -> Page | None:
    q = evaluation.questionnaire
    earlier = q.pages[: _index(q, page)]
    return next((p for p in reversed(earlier) if evaluation.page_is_visible(p)), None)


def following_page(evaluation: Evaluation, page: Page) -> Page | None:
    """The page after ``page`` in order, or an earlier one that still needs an answer."""
    q = evaluation.questionnaire
    later = q.pages[_index(q, page) + 1 :]
    following = next((p for p in later if evaluation.page_is_visible(p)), None)
    required = evaluation.next_page
    if required is not None and (following is None or _index(q, required) < _index(q, following)):
        return required
    return following


def question_url(entry: Entry, page: Page, *, changing: bool = False) -> str:
    url = entry.url("questions", page.id)
    return f"{url}?change=1" if changing else url


def section_title(q: Questionnaire, page: Page) -> str:
    return next(s.title for s in q.sections if s.id == page.section_id)


# -- Triage so far ----------------------------------------------------------------------------------


def triage_so_far(evaluation: Evaluation) -> Level:
    q = evaluation.questionnaire
    return q.level_by_code[engine_triage_level(q, evaluation.context)]


def safety_done(evaluation: Evaluation) -> bool:
    """Every question of the safety screen (the first section) has an answer."""
    safety = evaluation.questionnaire.sections[0].id
    return not any(q.section_id == safety for q in evaluation.missing) and not any(
        q.section_id == safety and q.id not in evaluation.answers for q in evaluation.visible
    )


def doctor_level(evaluation: Evaluation) -> Level | None:
    """The level to tell someone about before they go on: the safety screen is done, it was not
    an emergency (that stops the interview), and the triage so far is not self-care."""
    if evaluation.stopped or evaluation.problems or not safety_done(evaluation):
        return None
    level = triage_so_far(evaluation)
    return None if level.code == evaluation.questionnaire.self_care_level else level


# -- Writing ----------------------------------------------------------------------------------------


def stops_for_emergency(interview: Interview, page_input: PageInput) -> bool:
    """Whether the answers that could be read already give an emergency sign, even though
    other questions on the page are unanswered or wrong: then nothing more is asked, and the
    person goes straight to the emergency advice (a missed radio must never stand in the way)."""
    after = evaluate(interview.questionnaire, _merged(interview, page_input))
    return after.stopped and not after.problems


def _merged(interview: Interview, page_input: PageInput) -> dict[str, Any]:
    answers = dict(interview.answers)
    for question_id in page_input.cleared:
        answers.pop(question_id, None)
    answers.update(page_input.answers)
    return answers


def answer_page(
    session: Session,
    entry: Entry,
    interview: Interview,
    page: Page,
    page_input: PageInput,
    *,
    changing: bool,
) -> Step:
    """Keep a page's answers (branching drops answers to questions that are now hidden) and
    decide where to go next. An emergency sign ends the interview: it is recorded at once."""
    q = interview.questionnaire
    after = evaluate(q, _merged(interview, page_input))
    if after.problems:  # the form checked every field: this would be a bug, so store nothing
        raise AnswerError(list(after.problems))

    if after.stopped:
        token = record(session, entry, interview.draft, after)
        return Step(location=f"/result/{token}", finished=True)

    draft, new_token = interview.draft, None
    if draft is None:
        draft, new_token = drafts.start_draft(
            session,
            questionnaire_id=q.id,
            channel=entry.channel,
            intake_link_id=entry.intake_link_id,
        )
    drafts.save_answers(session, draft, after.answers)

    target = after.next_page if changing else following_page(after, page)
    if target is None:
        return Step(location=entry.url("check"), draft_token=new_token)
    newly = doctor_level(after)
    before = doctor_level(interview.evaluation)
    if newly is not None and (before is None or newly.rank < before.rank):
        # Tell them now, and let them choose to stop or go on.
        location = f"{entry.url('advice')}?next={target.id}" + ("&change=1" if changing else "")
        return Step(location=location, draft_token=new_token)
    return Step(location=question_url(entry, target, changing=changing), draft_token=new_token)


def finish(session: Session, entry: Entry, interview: Interview, *, early: bool) -> str | None:
    """Record the interview and return the result link's token; None when it cannot finish
    yet (not complete, or stopping early without a reason to see a doctor)."""
    evaluation = interview.evaluation
    if interview.draft is None:
        return None
    if not evaluation.complete and not (early and doctor_level(evaluation) is not None):
        return None
    return record(session, entry, interview.draft, evaluation)


def record(session: Session, entry: Entry, draft: Draft | None, evaluation: Evaluation) -> str:
    recorded = assessments.record_assessment(
        session,
        evaluation.questionnaire,
        evaluation.answers,
        channel=entry.channel,
        clinic_id=entry.clinic_id,
        intake_link_id=entry.intake_link_id,
        allow_incomplete=True,  # callers only get here complete, stopped, or told to see a doctor
    )
    if draft is not None:
        drafts.delete_draft(session, draft)
    if entry.link is not None:
        intake.mark_used(session, entry.link)
    assert recorded.result_token is not None  # web and intake records always get a result link
    return recorded.result_token


# -- Check answers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerRow:
    question: Question
    page: Page
    value: Any


def answer_rows(evaluation: Evaluation) -> list[tuple[str, list[AnswerRow]]]:
    """The answers by section, in the order they were asked."""
    q = evaluation.questionnaire
    page_of = {question.id: page for page in q.pages for question in page.questions}
    grouped: list[tuple[str, list[AnswerRow]]] = []
    for section in q.sections:
        rows = [
            AnswerRow(question, page_of[question.id], evaluation.answers[question.id])
            for question in evaluation.visible
            if question.section_id == section.id and question.id in evaluation.answers
        ]
        if rows:
            grouped.append((section.title, rows))
    return grouped
