"""Follow-up check-ins of a self-care assessment: asked at 2, 4 and 8 weeks (and on demand).

A check-in re-screens the warning signs, asks about pain and function (PEG) and how each
exercise block went, and moves the plan on. Its questionnaire (``follows`` the assessment's)
reads the context this service gives it: the blocks of the current plan, the weeks since the
start, the PEG baseline and the first answer about cancer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.clock import Clock, system_clock
from app.engine import AnswerError, Evaluation, Questionnaire, build_result, progress_plan
from app.engine import evaluate as engine_evaluate
from app.models import Assessment, Checkin, utcnow

from . import alerts
from .assessments import IdempotencyConflictError, hold, request_hash
from .questionnaires import Registry, UnknownQuestionnaireError

DUE_WEEKS: Final = (2, 4, 8)  # after a self-care result
_INSERT = insert(Checkin)


class CheckinNotPossibleError(Exception):
    """Check-ins follow a self-care result with a plan, of a questionnaire that has them."""


@dataclass(frozen=True, slots=True)
class RecordedCheckin:
    id: uuid.UUID
    assessment_id: uuid.UUID
    created_at: datetime
    result: dict[str, Any] = field(repr=False)
    replayed: bool = False


def questionnaire_for(registry: Registry, assessment: Assessment) -> Questionnaire:
    """The check-in that follows up this assessment's questionnaire; CheckinNotPossibleError
    if the assessment cannot have one (not self-care, no plan, or no follow-up defined)."""
    follow_up = registry.follow_up(assessment.questionnaire_id)
    if follow_up is None:
        raise CheckinNotPossibleError("this questionnaire has no check-in")
    try:
        own = registry.exact(assessment.questionnaire_id, assessment.questionnaire_version)
    except UnknownQuestionnaireError:
        raise CheckinNotPossibleError("this assessment's questionnaire is not loaded") from None
    if assessment.triage_level != own.self_care_level or not assessment.result.get("plan"):
        raise CheckinNotPossibleError("check-ins follow a result with an exercise plan")
    return follow_up


def list_checkins(session: Session, assessment_id: uuid.UUID) -> list[Checkin]:
    return list(
        session.exec(
            select(Checkin)
            .where(Checkin.assessment_id == assessment_id)
            .order_by(col(Checkin.created_at), col(Checkin.id))
        ).all()
    )


def get_checkin(session: Session, assessment_id: uuid.UUID, checkin_id: str) -> Checkin | None:
    """This assessment's check-in with that id (None for another's, or for no such id)."""
    try:
        key = uuid.UUID(checkin_id)
    except ValueError:
        return None
    return session.exec(
        select(Checkin).where(Checkin.assessment_id == assessment_id, Checkin.id == key)
    ).first()


def current_plan(assessment: Assessment, checkins: Sequence[Checkin]) -> dict[str, Any]:
    """The plan as the last check-in that made one left it; else the assessment's own."""
    for checkin in reversed(checkins):
        plan = checkin.result.get("plan")
        if plan:
            return dict(plan)
    return dict(assessment.result["plan"])


def context_for(
    assessment: Assessment,
    checkins: list[Checkin],
    answers: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """What the check-in questionnaire reads besides the person's answers.

    The PEG baseline: the first assessment's average pain stands in for PEG's pain item (the
    audit asks no other PEG item); enjoyment and activity come from the first check-in (this
    one, if it is the first), the nearest thing to a baseline there is.
    """
    plan = current_plan(assessment, checkins)
    first = checkins[0].answers if checkins else answers
    pain = assessment.answers.get("pain_intensity")
    items = [pain, first.get("peg_enjoyment"), first.get("peg_activity")]
    numbers = [float(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)]
    baseline = sum(numbers) / 3 if len(numbers) == 3 else None
    return {
        "plan_blocks": [
            b["code"]
            for b in plan["blocks"]
            if not b.get("paused") and b.get("start_step") is not None
        ],
        "weeks_since_start": (now - assessment.created_at) / timedelta(weeks=1),
        "baseline_peg": baseline,
        "cancer_history": assessment.answers.get("cancer_history"),
    }


def evaluate_checkin(
    registry: Registry,
    assessment: Assessment,
    checkins: list[Checkin],
    answers: Mapping[str, Any],
    now: datetime | None = None,
) -> Evaluation:
    q = questionnaire_for(registry, assessment)
    return engine_evaluate(q, answers, context_for(assessment, checkins, answers, now or utcnow()))


def checkin_result(
    evaluation: Evaluation, assessment: Assessment, checkins: list[Checkin], now: datetime
) -> dict[str, Any]:
    """The result contract of a check-in, plus the plan from now on, what changed in it and
    why, and the trend of pain and PEG. No plan unless the programme still fits."""
    result = build_result(evaluation)
    q = evaluation.questionnaire
    plan = None
    changes: list[dict[str, Any]] = []
    if evaluation.complete and result["triage"]["level"] == q.self_care_level:
        plan, changes = progress_plan(evaluation, current_plan(assessment, checkins))
    result["plan"] = plan
    result["changes"] = changes
    result["trend"] = trend(assessment, checkins, evaluation.answers, now)
    return result


def record_checkin(
    session: Session,
    registry: Registry,
    assessment: Assessment,
    answers: Mapping[str, Any],
    *,
    channel: str,
    api_client_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    clock: Clock = system_clock,
) -> RecordedCheckin:
    """Evaluate and store a check-in; AnswerError if the answers are not a complete one,
    IdempotencyConflictError if the key was used with other answers.

    Its time is ``now`` if given, else ``clock``'s (the routes give their app's clock), read
    once the submission's row is held: a review marked while this waited for it comes first."""
    # First, so that a review marked meanwhile is either before this check-in or counts it.
    hold(session, assessment.id)
    now = now or clock()
    checkins = list_checkins(session, assessment.id)
    evaluation = evaluate_checkin(registry, assessment, checkins, answers, now)
    fingerprint = request_hash(evaluation.questionnaire.id, answers)
    if idempotency_key is not None:
        earlier = _by_key(session, assessment.id, idempotency_key)
        if earlier is not None:
            return _replay(earlier, fingerprint)
    if not evaluation.complete:
        raise AnswerError(evaluation.required_problems())
    result = checkin_result(evaluation, assessment, checkins, now)
    q = evaluation.questionnaire
    row = {
        "id": uuid.uuid4(),
        "assessment_id": assessment.id,
        "questionnaire_id": q.id,
        "questionnaire_version": q.version,
        "answers": dict(evaluation.answers),
        "result": result,
        "triage_level": result["triage"]["level"],
        "triage_rank": q.level_by_code[result["triage"]["level"]].rank,
        "channel": channel,
        "api_client_id": api_client_id,
        "idempotency_key": idempotency_key,
        "request_hash": fingerprint if idempotency_key is not None else None,
        "created_at": now,
    }
    try:
        # Core INSERT, as assessments are stored: building an ORM object cost a tenth of it.
        session.connection().execute(_INSERT, row)
    except IntegrityError:
        if idempotency_key is None:
            raise
        # Another request with the same key won the race; this one had only read.
        session.rollback()
        earlier = _by_key(session, assessment.id, idempotency_key)
        if earlier is None:
            raise
        return _replay(earlier, fingerprint)
    if assessment.clinic_id is not None and q.level_by_code[row["triage_level"]].urgent:
        # A warning sign at a check-in reaches the clinic as a submission's would, stored
        # together with the check-in or not at all.
        alerts.queue(
            session,
            clinic_id=assessment.clinic_id,
            assessment_id=assessment.id,
            checkin_id=row["id"],
            now=now,
        )
    return RecordedCheckin(row["id"], assessment.id, now, result)


def _by_key(session: Session, assessment_id: uuid.UUID, key: str) -> Checkin | None:
    return session.exec(
        select(Checkin).where(
            Checkin.assessment_id == assessment_id, Checkin.idempotency_key == key
        )
    ).first()


def _replay(earlier: Checkin, fingerprint: str) -> RecordedCheckin:
    if earlier.request_hash != fingerprint:
        raise IdempotencyConflictError
    return RecordedCheckin(
        earlier.id, earlier.assessment_id, earlier.created_at, earlier.result, replayed=True
    )


def trend(
    assessment: Assessment,
    checkins: list[Checkin],
    answers: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Pain (0-10) and PEG (0-10) over time: the start, each check-in, and this one."""
    points = [
        {
            "at": assessment.created_at.isoformat(),
            "pain": assessment.answers.get("pain_intensity"),
            "peg": None,
        }
    ]
    given = [(c.created_at, c.answers) for c in checkins]
    if answers is not None and now is not None:
        given.append((now, dict(answers)))
    for at, values in given:
        items = [values.get(k) for k in ("peg_pain", "peg_enjoyment", "peg_activity")]
        numbers = [v for v in items if isinstance(v, int) and not isinstance(v, bool)]
        peg = round(sum(numbers) / 3, 1) if len(numbers) == 3 else None
        points.append({"at": at.isoformat(), "pain": values.get("pain_now"), "peg": peg})
    return points


def next_due(assessment: Assessment, checkins: list[Checkin]) -> datetime | None:
    """When the next check-in is due: 2, 4 and 8 weeks after the result, one per check-in."""
    if len(checkins) >= len(DUE_WEEKS):
        return None
    return assessment.created_at + timedelta(weeks=DUE_WEEKS[len(checkins)])


def delete_checkins(session: Session, assessment_id: uuid.UUID) -> None:
    """With their assessment: a person who deletes their result deletes its follow-ups."""
    for checkin in list_checkins(session, assessment_id):
        session.delete(checkin)
    session.flush()
