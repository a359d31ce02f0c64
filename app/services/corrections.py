"""Correcting a stored result: a person who mis-tapped an answer (an emergency sign, most
often) may change their answers and finish again, within a window and while no one has acted on
the record; the new record replaces the old one (assessments.record)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlmodel import Session, col, select

from app.engine import Page, evaluate
from app.models import Alert, Assessment, Clinic, IntakeLink
from app.services import assessments, drafts
from app.services.questionnaires import Registry, UnknownQuestionnaireError

from .drafts import usable_answers
from .interview_navigation import stop_page

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


def why_replace_failed(session: Session, old_id: uuid.UUID) -> ClosedReason:
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
