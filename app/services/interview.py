"""The interview: one person's way through a questionnaire's pages, for every door.

Which page comes next, when to tell someone to see a doctor, when an emergency sign stops the
interview, saving the answers as a draft, and finishing it into a stored assessment. The web
form and clinic intake links use all of it; the API's ``next`` uses the same rules on answers
it is sent whole. All branching comes from the engine's Evaluation; this module only reads it.

Here: resuming, what the answers so far tell (the level, an emergency stop), answering a page
and finishing. The pages' order is in interview_navigation.py, correcting a stored result in
corrections.py.

Nothing here commits: the request's session does, once (app/deps.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session

from app.engine import AnswerError, Evaluation, Level, Page, Question, Questionnaire, evaluate
from app.engine import triage_level as engine_triage_level
from app.models import Draft, IntakeLink
from app.services import assessments, audit, drafts, intake
from app.services.assessments import AlreadyReplacedError, Recorded
from app.services.questionnaires import Registry, UnknownQuestionnaireError

from .corrections import CorrectionClosedError, why_replace_failed
from .drafts import usable_answers
from .interview_navigation import following_page, page_index, stop_page


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
class Origin:
    """How the person came: the open form (web) or a clinic's intake link; and, when they are
    correcting a stored result (a mis-tapped emergency answer), which record it replaces."""

    channel: Literal["web", "intake"]
    link: IntakeLink | None = None
    corrects: uuid.UUID | None = None
    language: str = "en"  # the page's (app/i18n.py): stored with the record

    @property
    def clinic_id(self) -> uuid.UUID | None:
        return self.link.clinic_id if self.link else None

    @property
    def intake_link_id(self) -> uuid.UUID | None:
        return self.link.id if self.link else None


def resume(registry: Registry, draft: Draft | None) -> Interview:
    """The interview of a draft (or a new one), on the definition the draft was started with."""
    q = registry.default
    if draft is not None:
        try:
            q = registry.get(draft.questionnaire_id)
        except UnknownQuestionnaireError:
            draft = None  # a definition that was removed: start again
    stored = draft.answers if draft is not None else {}
    return Interview(q, draft, evaluate(q, usable_answers(q, stored)))


# -- Triage so far --------------------------------------------------------------------------------


def triage_so_far(evaluation: Evaluation) -> Level:
    q = evaluation.questionnaire
    return q.level_by_code[engine_triage_level(q, evaluation.context)]


def reasons_so_far(evaluation: Evaluation, shown: Questionnaire | None = None) -> list[str]:
    """The messages of the rules that point to a doctor, on the answers so far; in ``shown``'s
    words (a translation of the evaluated questionnaire) when given."""
    q = evaluation.questionnaire
    words = {rule.code: rule.message for rule in (shown or q).rules}
    return [
        words.get(rule.code, rule.message)
        for rule in q.rules_by_urgency
        if rule.level != q.self_care_level and rule.when.holds(evaluation.context)
    ]


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


def emergency_stop(evaluation: Evaluation, given: Mapping[str, Any]) -> Evaluation | None:
    """The evaluation to finish with when the answers ``given`` (which ``evaluation`` is of)
    give an emergency sign, else None.

    The emergency advice never waits: not for other questions on the page, not for a typo in
    another answer. An answer with a problem never counts, so leaving it out gives the same
    triage; the evaluation returned has no problems."""
    if not evaluation.stopped:
        return None
    if not evaluation.problems:
        return evaluation
    wrong = {p.question for p in evaluation.problems}
    answers = {k: v for k, v in given.items() if k not in wrong}
    finished = evaluate(evaluation.questionnaire, answers)
    return finished if finished.stopped and not finished.problems else None


@dataclass(frozen=True, slots=True)
class Standing:
    """Where an interview sent whole (the API's ``next``) stands."""

    evaluation: Evaluation
    finished: Evaluation | None  # what the result is made of: an emergency stop, or complete

    @property
    def next_page(self) -> Page | None:
        return None if self.finished is not None else self.evaluation.next_page


def standing(q: Questionnaire, answers: Mapping[str, Any]) -> Standing:
    evaluation = evaluate(q, answers)
    if evaluation.stopped:
        return Standing(evaluation, emergency_stop(evaluation, answers) or evaluation)
    return Standing(evaluation, evaluation if evaluation.complete else None)


# -- Writing --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShowErrors:
    """The form found problems in the page's answers, and no emergency sign overrides them:
    nothing is stored, and the page comes back with its messages."""


@dataclass(frozen=True, slots=True)
class Finished:
    """An emergency sign ended the interview: it is recorded."""

    recorded: Recorded


@dataclass(frozen=True, slots=True)
class GoTo:
    """The answers are kept in the draft; on to ``next_page``."""

    next_page: Page | None  # None: every page is answered (check the answers)
    tell_doctor: Level | None = None  # newly pointed to a doctor: say so before going on
    new_draft_token: str | None = None  # a new draft's token, for the cookie


PageOutcome = ShowErrors | Finished | GoTo


def answer_page(
    session: Session,
    origin: Origin,
    interview: Interview,
    page: Page,
    answers: Mapping[str, Any],
    cleared: Iterable[str],
    *,
    form_has_errors: bool,
    changing: bool,
    now: datetime | None = None,
) -> PageOutcome:
    """Put a page's answers in (and its cleared ones out) and decide, once, what that leads
    to. An emergency sign ends the interview, whatever else the form says: it is recorded at
    once (at ``now``, as ``finish_with``). Otherwise the answers are kept (branching drops
    answers to questions that are now hidden) and the next page chosen."""
    given = dict(interview.answers)
    for question_id in cleared:
        given.pop(question_id, None)
    given.update(answers)
    after = evaluate(interview.questionnaire, given)
    stop = emergency_stop(after, given)
    if stop is not None and interview.evaluation.stopped:
        # Correcting a stored emergency result: a page before the one with the emergency
        # answer is not that answer confirmed. On to it, to change it or to confirm it.
        first = stop_page(stop)
        if first is not None and page_index(after.questionnaire, page) < page_index(
            after.questionnaire, first
        ):
            stop = None
    # An emergency answer ends the interview whatever else the form says; otherwise (an
    # earlier page of a correction too) a mistake comes back with its error.
    if form_has_errors and stop is None:
        return ShowErrors()
    if stop is not None:
        return Finished(finish_with(session, origin, interview.draft, stop, now=now))
    if after.problems:  # the form checked every field: this would be a bug, so store nothing
        raise AnswerError(list(after.problems))

    draft, new_token = interview.draft, None
    if draft is None:
        draft, new_token = drafts.start_draft(
            session,
            questionnaire_id=interview.questionnaire.id,
            channel=origin.channel,
            intake_link_id=origin.intake_link_id,
        )
    drafts.save_answers(session, draft, after.answers)

    target = after.next_page if changing else following_page(after, page)
    tell = None
    if target is not None:
        newly = doctor_level(after)
        before = doctor_level(interview.evaluation)
        if newly is not None and (before is None or newly.rank < before.rank):
            tell = newly
    return GoTo(target, tell_doctor=tell, new_draft_token=new_token)


def finish(
    session: Session,
    origin: Origin,
    interview: Interview,
    *,
    early: bool,
    now: datetime | None = None,
) -> Recorded | None:
    """Record the interview (at ``now``, as ``finish_with``); None when it cannot finish yet
    (not complete, or stopping early without a reason to see a doctor)."""
    evaluation = interview.evaluation
    if interview.draft is None:
        return None
    if not evaluation.complete and not (early and doctor_level(evaluation) is not None):
        return None
    return finish_with(session, origin, interview.draft, evaluation, now=now)


def finish_with(
    session: Session,
    origin: Origin,
    draft: Draft | None,
    evaluation: Evaluation,
    *,
    now: datetime | None = None,
) -> Recorded:
    """Store the evaluation (assessments.record) at ``now``: the system clock's time when not
    given, the app's clock's from the routes; and its audit event."""
    if origin.link is not None and origin.corrects is None:
        # First: a single-use link that another submission used meanwhile stops this one here
        # (intake.LinkGoneError), before anything is written. (A correction's link was used
        # by the record it replaces.)
        intake.mark_used(session, origin.link, now=now)
    try:
        recorded = assessments.record(
            session,
            evaluation,
            channel=origin.channel,
            clinic_id=origin.clinic_id,
            intake_link_id=origin.intake_link_id,
            allow_incomplete=True,  # only complete, stopped, or told to see a doctor get here
            replaces=origin.corrects,
            now=now,
            language=origin.language,
        )
    except AlreadyReplacedError:
        assert origin.corrects is not None  # only a correction replaces
        raise CorrectionClosedError(why_replace_failed(session, origin.corrects)) from None
    if draft is not None:
        drafts.delete_draft(session, draft)
    # An intake submission is the clinic's record from now on: its audit log says the patient
    # wrote it, in the call that stores it, whichever page ended the form (an emergency "yes"
    # ends it at once). A correction's link to the one it replaces is logged as it is made.
    audit.record_health_data(
        session, origin.clinic_id, recorded.id, "assessment.created", who=audit.BY_PERSON
    )
    return recorded


# -- Answers in question order --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerRow:
    question: Question
    page: Page
    value: Any


def answer_rows(
    q: Questionnaire, answers: Mapping[str, Any], shown: list[Question] | None = None
) -> list[tuple[str, list[AnswerRow]]]:
    """The answers by section, in question order: the interview's visible questions when
    ``shown`` is given, else every question of the definition that has an answer (a stored
    record is shown as it was stored, never evaluated again)."""
    page_of = {question.id: page for page in q.pages for question in page.questions}
    questions = shown if shown is not None else [qq for p in q.pages for qq in p.questions]
    by_section: dict[str, list[AnswerRow]] = {}
    for question in questions:
        if question.id in answers:
            row = AnswerRow(question, page_of[question.id], answers[question.id])
            by_section.setdefault(question.section_id, []).append(row)
    return [
        (section.title, by_section[section.id])
        for section in q.sections
        if section.id in by_section
    ]
