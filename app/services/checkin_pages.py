"""The person's check-in pages (app/web/checkins.py) as use cases: each request's work is one
call of the request's session (app/deps.py ``Db.run``, one hop to the thread pool on
PostgreSQL), from the result's token to what the page is to show.

Each returns a tagged outcome the route matches on and renders (the words are the door's), or
None for a token that is no result's. Every outcome carries the assessment: its pages open in
the language it was made in, which the door sets once the call is back.

Nothing here commits: the request's session does, once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlmodel import Session

from app.clock import Clock
from app.config import CheckinLimits
from app.engine import AnswerError, AnswerProblem, CheckinResult, Evaluation, Page, Question
from app.models import Assessment, Checkin

from . import (
    assessments,
    checkin_dates,
    checkin_history,
    checkins,
    interview_navigation,
    result_language,
)
from .checkins import CheckinLimitError, CheckinNotPossibleError, RecordedCheckin
from .questionnaires import Registry


class FieldProblem(Protocol):
    @property
    def question_id(self) -> str: ...


class SentForm(Protocol):
    """A check-in's form as the door read it (app/web/forms.py PageInput): its answers, and
    the problems it found, by question."""

    @property
    def answers(self) -> Mapping[str, Any]: ...

    @property
    def errors(self) -> Sequence[FieldProblem]: ...


Sent = TypeVar("Sent", bound=SentForm)


@dataclass(frozen=True, slots=True)
class Visit:
    """What every outcome has: the result the check-in follows up."""

    assessment: Assessment


@dataclass(frozen=True, slots=True)
class NotPossible(Visit):
    """No plan to check in on (yet): not self-care, or not released, or no check-in defined."""


@dataclass(frozen=True, slots=True)
class FirstPage(Visit):
    """The check-in's first page; ``early_until`` its due date when that is still to come."""

    evaluation: Evaluation
    page: Page
    early_until: datetime | None


@dataclass(frozen=True, slots=True)
class NoSuchPage(Visit):
    """The form names a page the check-in does not have (an altered form)."""


@dataclass(frozen=True, slots=True)
class ShowPage(Visit, Generic[Sent]):
    """The next page, or the one before (Back), with every answer sent filled in."""

    evaluation: Evaluation
    page: Page
    sent: Sent


@dataclass(frozen=True, slots=True)
class ShowProblems(Visit, Generic[Sent]):
    """The first page with a problem in its answers, again, with the problems on it
    (``wrong``: the questions whose problems it shows). Nothing is stored."""

    evaluation: Evaluation
    page: Page
    sent: Sent
    wrong: frozenset[str]


@dataclass(frozen=True, slots=True)
class MissingAnswers(Visit, Generic[Sent]):
    """The engine found answers missing that the form did not (an altered form): asked for on
    ``page``. Nothing is stored."""

    evaluation: Evaluation
    page: Page
    sent: Sent
    problems: tuple[AnswerProblem, ...]


@dataclass(frozen=True, slots=True)
class Recorded(Visit):
    """The check-in is stored (or was already: the same answers again), with its audit event."""

    checkin: RecordedCheckin


@dataclass(frozen=True, slots=True)
class LimitReached(Visit):
    """The day's check-ins were sent already; nothing is stored."""

    limit: CheckinLimitError


PageOutcome = (
    NotPossible
    | NoSuchPage
    | ShowPage[Sent]
    | ShowProblems[Sent]
    | MissingAnswers[Sent]
    | Recorded
    | LimitReached
)


@dataclass(frozen=True, slots=True)
class NoSuchCheckin(Visit):
    """No check-in of this result has that id."""


@dataclass(frozen=True, slots=True)
class CheckinShown(Visit):
    """A stored check-in's result, in the page's language where it can be made again exactly
    (``in_page_language``), else the stored English one; and where it stands among the others."""

    checkin: Checkin
    result: CheckinResult
    in_page_language: bool
    next_due: datetime | None
    early: bool  # sent before the one it followed was due
    early_due: datetime | None  # when the check-in it came before was due


def open_checkin(
    session: Session, registry: Registry, token: str, *, now: datetime
) -> FirstPage | NotPossible | None:
    """The first page of a check-in of the result behind ``token``."""
    assessment = assessments.get_by_result_token(session, token)
    if assessment is None:
        return None
    try:
        checkins.questionnaire_for(registry, assessment)
    except CheckinNotPossibleError:
        return NotPossible(assessment)
    found = checkin_history.checkins_so_far(session, assessment.id)
    evaluation = checkins.evaluate_checkin(registry, assessment, found, {}, now)
    first = next(p for p in evaluation.questionnaire.pages if evaluation.page_is_visible(p))
    # Before its due date a check-in is an early one: allowed, and the page says it will not
    # count as the one due (app/services/checkin_dates.py due_on).
    due = checkin_dates.due_on(assessment, [c.created_at for c in found])
    return FirstPage(assessment, evaluation, first, due if due is not None and due > now else None)


def send_page(
    session: Session,
    registry: Registry,
    token: str,
    read: Callable[[Sequence[Question], str], Sent],
    *,
    page_id: str,
    back: bool,
    page_language: result_language.PageLanguage,
    now: datetime,
    clock: Clock,
    limits: CheckinLimits,
) -> PageOutcome[Sent] | None:
    """A page of the check-in sent (``page_id``; "" for every page at once): the next page,
    the one before (``back``), the page with a problem, or, after the last, the check-in
    recorded. ``read`` is the door's reading of the form, for these questions, its messages in
    the language given. The request's one evaluation (at ``now``) is the one stored, at
    ``clock``'s time once the result's row is held (checkins.record_checkin)."""
    assessment = assessments.get_by_result_token(session, token)
    if assessment is None:
        return None
    found = checkin_history.checkins_so_far(session, assessment.id)
    try:
        q = checkins.questionnaire_for(registry, assessment)
    except CheckinNotPossibleError:
        return NotPossible(assessment)
    # No page named: every page at once (what a client that sends the whole form means).
    current = interview_navigation.find_page(q, page_id) if page_id else q.pages[-1]
    if current is None:
        return NoSuchPage(assessment)
    in_language = page_language(assessment.language)
    upto = list(q.pages[: q.pages.index(current) + 1])
    # Every answer sent, later pages' too (after Back): they fill in the page shown next. Only
    # the pages up to this one are checked and evaluated.
    sent = read([x for page in q.pages for x in page.questions], in_language)
    asked = {x.id for page in upto for x in page.questions}
    answers = {k: v for k, v in sent.answers.items() if k in asked}
    evaluation = checkins.evaluate_checkin(registry, assessment, found, answers, now)
    shown = {x.id for x in evaluation.visible}
    # Only what this check-in asks counts: after a warning sign, the rest is not needed.
    wrong = {
        e.question_id for e in sent.errors if e.question_id in asked and e.question_id in shown
    }
    answers = {k: v for k, v in answers.items() if k in shown}
    visible = [page for page in upto if evaluation.page_is_visible(page)]

    if back:
        before = interview_navigation.previous_page(evaluation, current)
        if before is not None:
            return ShowPage(assessment, evaluation, before, sent)
    if evaluation.stopped:
        # An emergency sign never waits for the other answers: an answer with a problem was
        # not read, so leaving it out gives the same level, and the check-in is sent now.
        wrong = set()
    if wrong:
        # The first page with a problem is shown again (an earlier one only if it was altered),
        # with that page's problems.
        again = next(p for p in visible if any(x.id in wrong for x in p.questions))
        on_page = {x.id for x in again.questions}
        return ShowProblems(assessment, evaluation, again, sent, frozenset(wrong & on_page))
    following = (
        None if evaluation.stopped else interview_navigation.following_page(evaluation, current)
    )
    if following is not None and following not in upto:
        return ShowPage(assessment, evaluation, following, sent)
    try:
        # A clinic's patient writes to the clinic's record: the audit log says so, as "the
        # patient" (no account; the private link is who they are), in the same call.
        recorded = checkins.record_person_checkin(
            session,
            registry,
            assessment,
            answers,
            # This request's one evaluation. The form's answers on hidden pages were dropped
            # above, so none is stored as ignored.
            evaluation=dataclasses.replace(evaluation, ignored=()),
            channel="intake" if assessment.clinic_id else "web",
            clock=clock,
            limits=limits,
            language=in_language,
        )
    except CheckinLimitError as exc:
        return LimitReached(assessment, exc)
    except AnswerError as exc:
        # An earlier page's answer is missing (the form was altered): ask for it there.
        missing = {p.question for p in exc.problems}
        again = next((p for p in visible if any(x.id in missing for x in p.questions)), visible[0])
        return MissingAnswers(assessment, evaluation, again, sent, tuple(exc.problems))
    return Recorded(assessment, recorded)


def show_checkin(
    session: Session,
    registry: Registry,
    token: str,
    checkin_id: str,
    *,
    page_language: result_language.PageLanguage,
) -> CheckinShown | NoSuchCheckin | None:
    """A stored check-in of the result behind ``token``, for its page."""
    assessment = assessments.get_by_result_token(session, token)
    if assessment is None:
        return None
    in_language = page_language(assessment.language)
    found = checkin_history.checkins_shown(session, assessment.id, in_language)
    checkin = next((c for c in found if str(c.id) == checkin_id), None)
    if checkin is None:
        return NoSuchCheckin(assessment)
    # In the page's language: worked out again from the stored answers (the stored result is
    # English), or English where that cannot be done exactly.
    result, used = result_language.one_checkin(
        registry, assessment, found, found.index(checkin), in_language
    )
    before = [
        c.created_at for c in found if (c.created_at, c.id) < (checkin.created_at, checkin.id)
    ]
    return CheckinShown(
        assessment,
        checkin,
        result,
        in_page_language=used == in_language,
        next_due=checkin_dates.due_on(assessment, [c.created_at for c in found]),
        early=checkin.id in checkin_dates.early(assessment, found),
        early_due=checkin_dates.due_on(assessment, before),
    )
