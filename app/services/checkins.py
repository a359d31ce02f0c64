"""Follow-up check-ins of a self-care assessment (or of one whose programme a clinician
released): asked at 2, 4 and 8 weeks from the start of the plan (and on demand).

A check-in re-screens the warning signs, asks about pain and function (PEG) and how each
exercise block went, and moves the plan on. Its questionnaire (``follows`` the assessment's)
reads the context this service gives it: the blocks of the current plan, the weeks since the
plan began, the baselines (PEG and pain), the last check-in's global change, and the first
assessment's answers about age, cancer, pregnancy and bone health.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from app.clock import Clock, system_clock
from app.config import CheckinLimits
from app.engine import AnswerError, Evaluation, Questionnaire, build_result, progress_plan
from app.engine import evaluate as engine_evaluate
from app.models import Assessment, Checkin, utcnow

from . import alerts
from .assessments import hold
from .idempotency import KeyedRequest, insert_once, request_hash, stored_before
from .questionnaires import Registry, UnknownQuestionnaireError

DUE_WEEKS: Final = (2, 4, 8)  # after a self-care result
LIMIT_PERIOD: Final = timedelta(days=1)  # CHECKINS_PER_DAY counts any 24 hours
_INSERT = insert(Checkin)


class CheckinNotPossibleError(Exception):
    """Check-ins follow a self-care result with a plan, of a questionnaire that has them."""


class CheckinLimitError(Exception):
    """The assessment had its CHECKINS_PER_DAY check-ins in the last 24 hours."""

    def __init__(self, per_day: int, next_at: datetime) -> None:
        self.per_day = per_day
        self.next_at = next_at  # when the oldest of them is a day old
        super().__init__(f"at most {per_day} check-ins a day")


@dataclass(frozen=True, slots=True)
class RecordedCheckin:
    id: uuid.UUID
    assessment_id: uuid.UUID
    created_at: datetime
    result: dict[str, Any] = field(repr=False)
    replayed: bool = False  # an earlier check-in: the same Idempotency-Key, or the same answers


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
    if not has_programme(assessment, own):
        raise CheckinNotPossibleError("check-ins follow a result with an exercise plan")
    return follow_up


def has_programme(assessment: Assessment, q: Questionnaire) -> bool:
    """A plan to follow: a self-care result's, or a released one's once its plan is made."""
    level = q.level_by_code.get(assessment.triage_level)
    allowed = assessment.triage_level == q.self_care_level or (
        level is not None and level.releasable and assessment.released_at is not None
    )
    return allowed and bool(assessment.result.get("plan"))


def plan_started(assessment: Assessment) -> datetime:
    """When the programme began: the result, or the clinician's release."""
    return assessment.released_at or assessment.created_at


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
    """What the check-in questionnaire reads besides the person's answers."""
    plan = current_plan(assessment, checkins)
    start = assessment.answers
    previous = checkins[-1].answers.get("global_change") if checkins else None
    return {
        "plan_blocks": [
            b["code"]
            for b in plan["blocks"]
            if not b.get("paused") and b.get("start_step") is not None
        ],
        "weeks_since_start": (now - plan_started(assessment)) / timedelta(weeks=1),
        "baseline_peg": baseline_peg(assessment, checkins, answers)[0],
        "baseline_pain": start.get("pain_intensity"),
        "previous_global_change": previous,
        "cancer_history": start.get("cancer_history"),
        "age": start.get("age"),
        "pregnant_at_start": start.get("pregnant"),
        "osteoporosis_or_steroids": start.get("osteoporosis_or_steroids"),
    }


def baseline_peg(
    assessment: Assessment, checkins: Sequence[Checkin], answers: Mapping[str, Any] | None = None
) -> tuple[float | None, bool]:
    """The PEG at the start, and whether it is provisional.

    From 2.1.0 the audit asks all three items. An older assessment asked only the pain item:
    the first check-in's enjoyment and activity (this one, if it is the first) stand in, which
    staff pages mark as provisional. A check-in that stopped at a warning sign before they were
    asked does not count as the first: the first that answered them stands in.
    """
    start = assessment.answers
    own = _mean(start, ("pain_intensity", "peg_enjoyment", "peg_activity"))
    if own is not None:
        return own, False
    given = [*(c.answers for c in checkins), answers or {}]
    first = next((a for a in given if _mean(a, ("peg_enjoyment", "peg_activity")) is not None), {})
    stand_in = {**first, "pain_intensity": start.get("pain_intensity")}
    return _mean(stand_in, ("pain_intensity", "peg_enjoyment", "peg_activity")), True


def _mean(values: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    items = [values.get(k) for k in keys]
    numbers = [float(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)]
    return sum(numbers) / len(keys) if len(numbers) == len(keys) else None


def days_on_step(
    assessment: Assessment, plan: Mapping[str, Any], now: datetime
) -> dict[str, float]:
    """Per block, the days since its step last changed (a check-in stamps ``changed_at`` on a
    block it moves), or since the plan began."""
    start = plan_started(assessment)
    out: dict[str, float] = {}
    for block in plan["blocks"]:
        changed = block.get("changed_at")
        since = datetime.fromisoformat(changed) if isinstance(changed, str) else start
        out[block["code"]] = (now - since) / timedelta(days=1)
    return out


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
    why, and the trend of pain and PEG.

    At self-care the plan moves on. At a level that is not urgent (see a doctor) nothing moves
    up and only pauses apply: the person stops what made the pain worse. At an urgent level
    there is no plan: the exercises stop until the person is checked."""
    result = build_result(evaluation)
    q = evaluation.questionnaire
    level = q.level_by_code[result["triage"]["level"]]
    plan = None
    changes: list[dict[str, Any]] = []
    if evaluation.complete and not level.urgent:
        current = current_plan(assessment, checkins)
        plan, changes = progress_plan(evaluation, current, days_on_step(assessment, current, now))
        moved = {c["block"] for c in changes if c["to_step"] not in (None, c["from_step"])}
        for block in plan["blocks"]:
            if block["code"] in moved:
                block["changed_at"] = now.isoformat()
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
    limits: CheckinLimits = CheckinLimits(),  # noqa: B008 - frozen, so one shared is fine
) -> RecordedCheckin:
    """Evaluate and store a check-in; AnswerError if the answers are not a complete one,
    IdempotencyConflictError if the key was used with other answers, CheckinLimitError
    beyond ``limits.per_day`` in 24 hours (never for one that finds a warning sign). The same
    answers as a check-in of the last ``limits.duplicate_window`` return that one
    (``replayed``), stored and alerted once.

    Its time is ``now`` if given, else ``clock``'s (the routes give their app's clock), read
    once the submission's row is held: a review marked while this waited for it comes first.
    Holding the row also makes the count and the duplicate check exact under concurrency."""
    # First, so that a review marked meanwhile is either before this check-in or counts it.
    hold(session, assessment.id)
    now = now or clock()
    checkins = list_checkins(session, assessment.id)
    evaluation = evaluate_checkin(registry, assessment, checkins, answers, now)
    keyed = None
    if idempotency_key is not None:
        keyed = _keyed(
            assessment.id,
            api_client_id,
            idempotency_key,
            request_hash(evaluation.questionnaire.id, answers),
        )
        if (earlier := stored_before(session, keyed)) is not None:
            return _replayed(earlier)
    if not evaluation.complete:
        raise AnswerError(evaluation.required_problems())
    if (
        same := _same_answers(checkins, evaluation.answers, now - limits.duplicate_window)
    ) is not None:
        # A double tap, a resent form, a client's loop: the person checked in once.
        return RecordedCheckin(same.id, same.assessment_id, same.created_at, same.result, True)
    result = checkin_result(evaluation, assessment, checkins, now)
    q = evaluation.questionnaire
    if not q.level_by_code[result["triage"]["level"]].urgent:
        # A check-in that finds a warning sign is stored whatever the day's count: turned away,
        # an app's user would not be told to get help, nor the clinic alerted. Its alerts
        # coalesce, and the API's rate limits bound a loop of them.
        _within_limit(checkins, limits.per_day, now)
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
        "request_hash": None if keyed is None else keyed.fingerprint,
        "created_at": now,
    }
    # Core INSERT, as assessments are stored: building an ORM object cost a tenth of it. If
    # another request with the same key won the race, this one had only read.
    winner = insert_once(session, keyed, lambda: session.connection().execute(_INSERT, row))
    if winner is not None:
        return _replayed(winner)
    if assessment.clinic_id is not None and q.level_by_code[row["triage_level"]].urgent:
        # A warning sign at a check-in reaches the clinic as a submission's would, stored
        # together with the check-in or not at all; an alert still waiting covers it.
        alerts.queue_for_checkin(
            session,
            clinic_id=assessment.clinic_id,
            assessment_id=assessment.id,
            checkin_id=row["id"],
            rank=row["triage_rank"],
            now=now,
        )
    return RecordedCheckin(row["id"], assessment.id, now, result)


def _same_answers(
    checkins: Sequence[Checkin], answers: Mapping[str, Any], since: datetime
) -> Checkin | None:
    """The newest check-in since ``since`` with exactly these (checked) answers."""
    wanted = dict(answers)
    for checkin in reversed(checkins):
        if checkin.created_at < since:
            return None
        if checkin.answers == wanted:
            return checkin
    return None


def _within_limit(checkins: Sequence[Checkin], per_day: int, now: datetime) -> None:
    """CheckinLimitError when the last 24 hours already hold ``per_day`` check-ins: the
    plan moves on weekly, so more say nothing new, and a loop must not fill the clinic's
    queue or the list."""
    recent = [c.created_at for c in checkins if c.created_at > now - LIMIT_PERIOD]
    if len(recent) >= per_day:
        # The next is possible once enough of them are a day old.
        raise CheckinLimitError(per_day, recent[len(recent) - per_day] + LIMIT_PERIOD)


def _keyed(
    assessment_id: uuid.UUID, api_client_id: uuid.UUID | None, key: str, fingerprint: str
) -> KeyedRequest[Checkin]:
    # The caller's own key only: another app's same key is another request.
    query = select(Checkin).where(
        Checkin.assessment_id == assessment_id,
        Checkin.api_client_id == api_client_id,
        Checkin.idempotency_key == key,
    )
    return KeyedRequest(key, fingerprint, lambda session: session.exec(query).first())


def _replayed(earlier: Checkin) -> RecordedCheckin:
    return RecordedCheckin(
        earlier.id, earlier.assessment_id, earlier.created_at, earlier.result, replayed=True
    )


def trend(
    assessment: Assessment,
    checkins: list[Checkin],
    answers: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Pain and PEG (0-10) over time, like with like: the start, each check-in, and this one.

    ``pain`` is the weekly average (the audit's pain_intensity, then each check-in's
    peg_pain), ``pain_now`` the pain on the day (check-ins only), ``peg`` the PEG score (from
    the baseline at the start; ``provisional`` when the first check-in stood in for it)."""
    base, provisional = baseline_peg(assessment, checkins, answers)
    start: dict[str, Any] = {
        "at": assessment.created_at.isoformat(),
        "pain": assessment.answers.get("pain_intensity"),
        "pain_now": None,
        "peg": None if base is None else round(base, 1),
    }
    if provisional and base is not None:
        start["provisional"] = True
    points = [start]
    given = [(c.created_at, c.answers) for c in checkins]
    if answers is not None and now is not None:
        given.append((now, dict(answers)))
    for at, values in given:
        peg = _mean(values, ("peg_pain", "peg_enjoyment", "peg_activity"))
        points.append(
            {
                "at": at.isoformat(),
                "pain": values.get("peg_pain"),
                "pain_now": values.get("pain_now"),
                "peg": None if peg is None else round(peg, 1),
            }
        )
    return points


def next_due(assessment: Assessment, checkins: Sequence[Checkin] | int) -> datetime | None:
    """When the next check-in is due: 2, 4 and 8 weeks after the plan began (the result, or a
    clinician's release), one per check-in (given, or how many there are)."""
    done = checkins if isinstance(checkins, int) else len(checkins)
    if done >= len(DUE_WEEKS):
        return None
    return plan_started(assessment) + timedelta(weeks=DUE_WEEKS[done])


def checkin_page(
    session: Session, assessment_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[list[Checkin], int]:
    """One page of an assessment's check-ins, oldest first, and how many it has in all."""
    total = session.exec(
        select(func.count()).select_from(Checkin).where(Checkin.assessment_id == assessment_id)
    ).one()
    page = session.exec(
        select(Checkin)
        .where(Checkin.assessment_id == assessment_id)
        .order_by(col(Checkin.created_at), col(Checkin.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(page), int(total)


def delete_checkins(session: Session, assessment_id: uuid.UUID) -> None:
    """With their assessment: a person who deletes their result deletes its follow-ups."""
    for checkin in list_checkins(session, assessment_id):
        session.delete(checkin)
    session.flush()
