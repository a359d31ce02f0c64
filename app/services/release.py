"""A clinician releases the exercise programme after reviewing a submission (questionnaire 2.1).

Some reasons to see a doctor first are ones a clinician may clear (pregnancy, osteoporosis, a
stable spine condition, sciatica). Clinic staff can then release the programme on a submission
whose level is ``releasable`` in its definition (see a doctor; never an urgent level):

1. ``release`` records who and when (and an audit event); the stored result gains
   ``release``. Level and reasons stay as they were.
2. The "before you exercise" questions were not asked (they are only asked at self care), so
   the person answers them at their private link: ``answer`` stores each page's answers on the
   same record, and once every question is answered the result is made again with the
   record's own version and the ``released`` context, so it has a plan (step gating applies).
3. Check-ins then start, due 2, 4 and 8 weeks after the release (services.checkins).

Only a complete submission can be released: then the only questions left are the "before you
exercise" ones, which no triage rule reads, so the level cannot change on the way.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.engine import (
    RELEASED,
    AnswerError,
    Evaluation,
    Questionnaire,
    Release,
    build_result,
    evaluate,
)
from app.models import Assessment, StaffUser

from . import audit
from .assessments import hold
from .questionnaires import Registry, UnknownQuestionnaireError


class ReleaseNotPossibleError(Exception):
    """Why this submission's programme cannot be released (a sentence for staff)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def why_not_releasable(registry: Registry, assessment: Assessment) -> str | None:
    """None when staff may release the programme on this submission; else why not."""
    try:
        q = registry.exact(assessment.questionnaire_id, assessment.questionnaire_version)
    except UnknownQuestionnaireError:
        return "This submission's questionnaire version is no longer loaded."
    if not any(level.releasable for level in q.levels):
        # Stored by a version without release after review (before 2.1.0): its "before you
        # exercise" questions cannot be asked after a release.
        return (
            f"This submission was made with questionnaire version {q.version}, which has no"
            " release after review."
        )
    level = q.level_by_code.get(assessment.triage_level)
    if level is None or not level.releasable:
        return "Only a submission whose advice is to book an appointment can be released."
    if assessment.released_at is not None:
        return "The programme was released already."
    if assessment.replaced_by_id is not None:
        return "The person corrected this submission: see the newer one."
    if not assessment.complete:
        return "The person stopped before the end of the questions."
    return None


def release(
    session: Session,
    registry: Registry,
    assessment: Assessment,
    *,
    by: StaffUser,
    now: datetime,
) -> None:
    """Release the programme; ReleaseNotPossibleError says why not. The caller checked that
    the submission is the staff member's clinic's."""
    # The row first, then read it again: two staff releasing at once are one after the other,
    # and the second is told it was released already (one release, one audit event).
    hold(session, assessment.id)
    session.refresh(assessment)
    reason = why_not_releasable(registry, assessment)
    if reason is not None:
        raise ReleaseNotPossibleError(reason)
    assessment.released_at = now
    assessment.released_by_id = by.id
    assessment.updated_at = now
    # A new dict: the stored result is only written when the attribute changes.
    assessment.result = {**assessment.result, "release": release_of(by, now)}
    session.add(assessment)
    assert assessment.clinic_id is not None  # staff see only their clinic's submissions
    audit.record(
        session,
        clinic_id=assessment.clinic_id,
        actor_id=by.id,
        action="assessment.released",
        target_type="assessment",
        target_id=assessment.id,
    )
    session.flush()


def release_of(by: StaffUser, at: datetime) -> Release:
    """The result's ``release``: who released the programme, and when."""
    return {"by": by.email, "at": at.isoformat().replace("+00:00", "Z")}


def questionnaire_of(registry: Registry, assessment: Assessment) -> Questionnaire:
    return registry.exact(assessment.questionnaire_id, assessment.questionnaire_version)


def evaluation(
    registry: Registry, assessment: Assessment, more: Mapping[str, Any] | None = None
) -> Evaluation:
    """The record's answers (and ``more``), as its own version reads them after a release."""
    answers = {**assessment.answers, **(more or {})}
    return evaluate(questionnaire_of(registry, assessment), answers, {RELEASED: True})


def awaits_answers(assessment: Assessment) -> bool:
    """Released, and the "before you exercise" questions are still to be answered."""
    return assessment.released_at is not None and not assessment.result.get("plan")


def answer(
    session: Session,
    registry: Registry,
    assessment_id: uuid.UUID,
    answers: Mapping[str, Any],
    *,
    now: datetime,
) -> Evaluation:
    """Store answers to the questions asked after a release; once every one is answered, the
    result with its plan. AnswerError for a problem (nothing is stored)."""
    assessment = session.get_one(Assessment, assessment_id, with_for_update=True)
    if not awaits_answers(assessment):
        raise ReleaseNotPossibleError("There are no questions to answer.")
    after = evaluation(registry, assessment, answers)
    if after.problems:
        raise AnswerError(list(after.problems))
    assessment.answers = dict(after.answers)
    assessment.updated_at = now
    if after.complete:
        result = build_result(after)
        # Never on the way: the questions left are ones no triage rule reads.
        assert result["triage"]["level"] == assessment.triage_level, "release changed the level"
        result["release"] = assessment.result.get("release")
        assessment.result = result
    session.add(assessment)
    session.flush()
    return after
