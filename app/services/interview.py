"""The interview: one person's way through a questionnaire's pages, for every door.

Which page comes next, when to tell someone to see a doctor, when an emergency sign stops the
interview, saving the answers as a draft, and finishing it into a stored assessment. The web
form and clinic intake links use all of it; the API's ``next`` uses the same rules on answers
it is sent whole. All branching comes from the engine's Evaluation; this module only reads it.

Nothing here commits: the request's session does, once (app/deps.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from sqlmodel import Session, col, select

from app.engine import AnswerError, Evaluation, Level, Page, Question, Questionnaire, evaluate
from app.engine import triage_level as engine_triage_level
from app.models import Alert, Assessment, Clinic, Draft, IntakeLink
from app.services import assessments, drafts, intake
from app.services.assessments import AlreadyReplacedError, Recorded
from app.services.questionnaires import Registry, UnknownQuestionnaireError


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


def usable_answers(q: Questionnaire, stored: Mapping[str, Any]) -> dict[str, Any]:
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
    # A stopped interview (being corrected) goes no further than the page that stopped it.
    required = stop_page(evaluation) if evaluation.stopped else evaluation.next_page
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


def stop_page(evaluation: Evaluation) -> Page | None:
    """The page whose answers stopped the interview (the one with the emergency answer), or
    None when it has not stopped: the answers of each page in turn, until they stop it."""
    if not evaluation.stopped:
        return None
    q = evaluation.questionnaire
    so_far: dict[str, Any] = {}
    for page in q.pages:
        if not evaluation.page_is_visible(page):
            continue
        given = {
            x.id: evaluation.answers[x.id] for x in page.questions if x.id in evaluation.answers
        }
        if not given:
            continue
        so_far.update(given)
        if evaluate(q, so_far).stopped:
            return page
    return None


def progress(evaluation: Evaluation, page: Page) -> dict[str, int]:
    """How far through the questions ``page`` is. A stopped interview (a correction, back at its
    emergency answer) has nothing left to ask, which would read 100%: count it as it was before
    that page was answered, which is where the person is."""
    if not evaluation.stopped:
        return evaluation.progress()
    on_page = {x.id for x in page.questions}
    before = {k: v for k, v in evaluation.answers.items() if k not in on_page}
    return evaluate(evaluation.questionnaire, before).progress()


def last_visible_page(evaluation: Evaluation) -> Page:
    pages = evaluation.questionnaire.pages
    return next((p for p in reversed(pages) if evaluation.page_is_visible(p)), pages[-1])


def section_title(q: Questionnaire, page: Page) -> str:
    return next(s.title for s in q.sections if s.id == page.section_id)


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
        if first is not None and _index(after.questionnaire, page) < _index(
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
    given, the app's clock's from the routes."""
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
        raise CorrectionClosedError(_why_replace_failed(session, origin.corrects)) from None
    if draft is not None:
        drafts.delete_draft(session, draft)
    return recorded


# -- Correcting a stored result ------------------------------------------------------------------


ClosedReason = Literal["not_offered", "replaced", "expired", "reviewed", "alerted"]
"""Why a result may not be corrected: not an emergency result of the person's own page (none
was offered), replaced already (another tab), too late (the window), or the clinic has it:
staff reviewed it, or an alert for it exists (queued counts: it may be on its way)."""


class CorrectionClosedError(Exception):
    """The result may not be corrected (any more). Nothing is stored."""

    def __init__(self, reason: ClosedReason = "not_offered", clinic: Clinic | None = None) -> None:
        super().__init__(reason)
        self.reason: ClosedReason = reason
        self.clinic = clinic  # whom to contact instead


# How long after an emergency result the person may still say "I answered by mistake" and
# correct it. A clinical safety control (hazard H51, docs/clinical-safety/hazard-log.md), so
# fixed here with its hazard, not a setting a deployment could change past its review.
CORRECTION_WINDOW: Final = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class CorrectionRules:
    """When a correction is allowed: ``now`` (the app's clock) within ``window`` of the first
    result of its line (so correcting a correction does not stretch it)."""

    now: datetime
    window: timedelta = CORRECTION_WINDOW


def why_not_correctable(
    session: Session, assessment: Assessment, rules: CorrectionRules
) -> ClosedReason | None:
    """None when the person may still correct this result: an emergency result (a mis-tapped
    "yes" ended their interview at once, with no "check your answers" page), from their own
    result page (web and intake), the newest of its line, within the window, and before the
    clinic has it (no record of the line reviewed, no alert for any). An emergency that staff
    may already be acting on is never taken back; the person is told to contact them."""
    if (
        assessment.channel not in ("web", "intake")
        or assessment.triage_rank != 0
        or assessment.result_token_hash is None
    ):
        return "not_offered"
    if assessment.replaced_by_id is not None:
        return "replaced"
    line = assessments.line_of(session, assessment) or [assessment]
    if any(each.reviewed_at is not None for each in line):
        return "reviewed"
    alerted = session.exec(
        select(Alert.id).where(col(Alert.assessment_id).in_([each.id for each in line])).limit(1)
    ).first()
    if alerted is not None:
        return "alerted"
    if rules.now - line[0].created_at > rules.window:
        return "expired"
    return None


def _why_replace_failed(session: Session, old_id: uuid.UUID) -> ClosedReason:
    """The write path refused to replace ``old_id``: replaced, reviewed or alerted meanwhile."""
    old = session.exec(
        select(Assessment)
        .where(col(Assessment.id) == old_id)
        .execution_options(populate_existing=True)
    ).first()
    if old is None or old.replaced_by_id is not None:
        return "replaced"
    return "reviewed" if old.reviewed_at is not None else "alerted"


@dataclass(frozen=True, slots=True)
class Correction:
    """A stored result being corrected, and how it came (its intake link and clinic)."""

    assessment: Assessment
    link: IntakeLink | None
    clinic: Clinic | None

    @property
    def channel(self) -> Literal["web", "intake"]:
        return "intake" if self.assessment.channel == "intake" else "web"


def find_correction(
    session: Session, result_token: str, rules: CorrectionRules
) -> Correction | None:
    """The result behind ``result_token`` (the newest, if it was corrected before) to correct,
    None for no such result; CorrectionClosedError (why, and the clinic to contact) when it
    may not be corrected."""
    assessment = assessments.get_by_result_token(session, result_token)
    if assessment is None:
        return None
    clinic = session.get(Clinic, assessment.clinic_id) if assessment.clinic_id else None
    reason = why_not_correctable(session, assessment, rules)
    if reason is not None:
        raise CorrectionClosedError(reason, clinic)
    link = session.get(IntakeLink, assessment.intake_link_id) if assessment.intake_link_id else None
    return Correction(assessment, link, clinic)


@dataclass(frozen=True, slots=True)
class Begun:
    """A correction started: its draft's token (for the cookie) and the page to open."""

    assessment_id: uuid.UUID
    draft_token: str
    page: Page


def start_correction(
    session: Session, registry: Registry, result_token: str, rules: CorrectionRules
) -> Begun | None:
    """A new draft with the stored answers, to change and finish again; the page with the
    answer that stopped the interview comes first. None for no such result;
    CorrectionClosedError when it may not be corrected."""
    found = find_correction(session, result_token, rules)
    if found is None:
        return None
    stored = found.assessment
    try:
        q = registry.get(stored.questionnaire_id)
    except UnknownQuestionnaireError:
        raise CorrectionClosedError("not_offered", found.clinic) from None
    answers = usable_answers(q, stored.answers)
    draft, token = drafts.start_draft(
        session,
        questionnaire_id=q.id,
        channel=found.channel,
        intake_link_id=stored.intake_link_id,
    )
    drafts.save_answers(session, draft, answers)
    evaluation = evaluate(q, answers)
    page = stop_page(evaluation) or evaluation.next_page or q.pages[0]
    return Begun(stored.id, token, page)


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
    grouped: list[tuple[str, list[AnswerRow]]] = []
    for section in q.sections:
        rows = [
            AnswerRow(question, page_of[question.id], answers[question.id])
            for question in questions
            if question.section_id == section.id and question.id in answers
        ]
        if rows:
            grouped.append((section.title, rows))
    return grouped
