"""Follow-up check-ins of a self-care assessment (or of one whose programme a clinician
released): asked at 2, 4 and 8 weeks from the start of the plan (and on demand).

A check-in re-screens the warning signs, asks about pain and function (PEG) and how each
exercise block went, and moves the plan on. Its questionnaire (``follows`` the assessment's)
reads the context this service gives it: the blocks of the current plan, the weeks since the
plan began, the baselines (PEG and pain), the last check-in's global change, and the first
assessment's answers about age, cancer, pregnancy and bone health. Which answers and derived
values those are, and which ones the trend shows, the check-in's YAML says (``from`` in its
``context``, and ``trend``): no question id is named here.

Here: whether an assessment can have check-ins, their context, evaluating and recording one.
When they are due is in checkin_dates.py; the trend and its baselines in checkin_trend.py;
reading the stored ones in checkin_history.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import insert
from sqlmodel import Session, select

from app.clock import Clock, system_clock
from app.config import CheckinLimits
from app.engine import (
    AnswerError,
    CheckinResult,
    Evaluation,
    Plan,
    PlanChange,
    Questionnaire,
    build_result,
    progress_plan,
)
from app.engine import evaluate as engine_evaluate
from app.models import Assessment, Checkin

from . import alerts, audit
from .assessments import hold
from .checkin_dates import plan_started
from .checkin_history import checkins_so_far
from .checkin_trend import start_values_for, trend
from .idempotency import KeyedRequest, insert_once, request_hash, stored_before
from .questionnaires import Registry, UnknownQuestionnaireError

LIMIT_PERIOD: Final = timedelta(days=1)  # CHECKINS_PER_DAY counts any 24 hours
# The context values this service works out itself (the YAML's others say where they are from).
PLAN_BLOCKS: Final = "plan_blocks"
WEEKS_SINCE_START: Final = "weeks_since_start"
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
    result: CheckinResult = field(repr=False)
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


def current_plan(assessment: Assessment, checkins: Sequence[Checkin]) -> Plan:
    """The plan as the last check-in that made one left it; else the assessment's own (which
    ``questionnaire_for`` checked is there)."""
    for checkin in reversed(checkins):
        plan = checkin.result.get("plan")
        if plan:
            return plan.copy()
    plan = assessment.result["plan"]
    assert plan is not None, "a check-in follows a result with a plan"
    return plan.copy()


def context_for(
    registry: Registry,
    assessment: Assessment,
    checkins: list[Checkin],
    answers: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """What the check-in questionnaire reads besides the person's answers."""
    return _context(
        questionnaire_for(registry, assessment), registry, assessment, checkins, answers, now
    )


def _context(
    q: Questionnaire,
    registry: Registry,
    assessment: Assessment,
    checkins: list[Checkin],
    answers: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    plan = current_plan(assessment, checkins)
    known = {
        PLAN_BLOCKS: [
            b["code"]
            for b in plan["blocks"]
            if not b.get("paused") and b.get("start_step") is not None
        ],
        WEEKS_SINCE_START: (now - plan_started(assessment)) / timedelta(weeks=1),
    }
    start, _ = start_values_for(q, registry, assessment, checkins, answers)
    out: dict[str, Any] = {}
    for value in q.context.values():
        if value.source is None:
            out[value.id] = known.get(value.id)
        elif value.source[0] == "previous_checkin":
            out[value.id] = checkins[-1].answers.get(value.source[1]) if checkins else None
        else:
            out[value.id] = start[value.id]
    return out


def start_values(
    registry: Registry,
    assessment: Assessment,
    checkins: Sequence[Checkin],
    answers: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], bool]:
    """The context values read from the assessment (by context id), and whether one of them
    is provisional (a stand-in)."""
    q = questionnaire_for(registry, assessment)
    return start_values_for(q, registry, assessment, checkins, answers)


def days_on_step(assessment: Assessment, plan: Plan, now: datetime) -> dict[str, float]:
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
    now: datetime,
) -> Evaluation:
    """The one evaluation of a check-in request: the use case makes it (the API's route, the
    person's pages' checkin_pages.send_page), and ``record_checkin`` stores it. ``now``: the
    app's clock, as storing it reads it (weeks since the plan started, days since each step)."""
    q = questionnaire_for(registry, assessment)
    context = _context(q, registry, assessment, checkins, answers, now)
    return engine_evaluate(q, answers, context)


def checkin_result(
    registry: Registry,
    evaluation: Evaluation,
    assessment: Assessment,
    checkins: list[Checkin],
    now: datetime,
    plan_texts: Callable[[Plan], Plan] | None = None,
) -> CheckinResult:
    """The result contract of a check-in, plus the plan from now on, what changed in it and
    why, and the trend of pain and PEG.

    At self-care the plan moves on. At a level that is not urgent (see a doctor) nothing moves
    up and only pauses apply: the person stops what made the pain worse. At an urgent level
    there is no plan: the exercises stop until the person is checked. ``plan_texts`` gives the
    current plan's texts in the evaluation's language."""
    result = build_result(evaluation)
    q = evaluation.questionnaire
    level = q.level_by_code[result["triage"]["level"]]
    plan = None
    changes: list[PlanChange] = []
    if evaluation.complete and not level.urgent:
        current = current_plan(assessment, checkins)
        if plan_texts is not None:  # another language's (app/services/result_language.py)
            current = plan_texts(current)
        plan, changes = progress_plan(evaluation, current, days_on_step(assessment, current, now))
        moved = {c["block"] for c in changes if c["to_step"] not in (None, c["from_step"])}
        for block in plan["blocks"]:
            if block["code"] in moved:
                block["changed_at"] = now.isoformat()
    return {
        **result,
        "plan": plan,
        "changes": changes,
        "trend": trend(registry, assessment, checkins, evaluation, now),
    }


def record_person_checkin(
    session: Session,
    /,
    registry: Registry,
    assessment: Assessment,
    answers: Mapping[str, Any],
    **options: Any,
) -> RecordedCheckin:
    """A check-in the person sent from their private link (``record_checkin``'s ``options``),
    and the clinic's audit event for it, in the one call of the request: a check-in never lands
    without it. The same answers again are audited as a read."""
    recorded = record_checkin(session, registry, assessment, answers, **options)
    audit.record_health_data(
        session,
        assessment.clinic_id,
        assessment.id,
        "checkin.replayed" if recorded.replayed else "checkin.created",
        who=audit.BY_PERSON,
        checkin_ids=[recorded.id],
    )
    return recorded


def record_checkin(
    session: Session,
    registry: Registry,
    assessment: Assessment,
    answers: Mapping[str, Any],
    *,
    evaluation: Evaluation | None = None,
    channel: str,
    api_client_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    clock: Clock = system_clock,
    limits: CheckinLimits = CheckinLimits(),  # noqa: B008 - frozen, so one shared is fine
    language: str = "en",
) -> RecordedCheckin:
    """Store a check-in: ``evaluation`` is the request's (``evaluate_checkin``; ``answers`` as
    sent), evaluated here only when not given, or when another check-in came in between
    (it changes the plan and baselines it reads). AnswerError if the answers are not a complete
    one, IdempotencyConflictError if the key was used with other answers, CheckinLimitError
    beyond ``limits.per_day`` in 24 hours (never for one that finds a warning sign). The same
    answers as a check-in of the last ``limits.duplicate_window`` return that one
    (``replayed``), stored and alerted once.

    Its time is ``now`` if given, else ``clock``'s (the routes give their app's clock), read
    once the submission's row is held: a review marked while this waited for it comes first.
    Holding the row also makes the count and the duplicate check exact under concurrency.
    ``language``: the one the person used (app/i18n.py), kept for staff to see."""
    # First, so that a review marked meanwhile is either before this check-in or counts it.
    hold(session, assessment.id)
    now = now or clock()
    checkins = checkins_so_far(session, assessment.id)
    q = questionnaire_for(registry, assessment)
    context = _context(q, registry, assessment, checkins, answers, now)
    # Stored in English, the base language, whatever the language the person read it in.
    if (
        evaluation is None
        or evaluation.questionnaire.language != q.language
        or _read_another(evaluation, context)
    ):
        evaluation = engine_evaluate(q, answers, context)
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
    result = checkin_result(registry, evaluation, assessment, checkins, now)
    level = q.level_by_code[result["triage"]["level"]]
    if not level.urgent:
        # A check-in that finds a warning sign is stored whatever the day's count: turned away,
        # an app's user would not be told to get help, nor the clinic alerted. Its alerts
        # coalesce, and the API's rate limits bound a loop of them.
        _within_limit(checkins, limits.per_day, now)
    checkin_id = uuid.uuid4()
    row = {
        "id": checkin_id,
        "assessment_id": assessment.id,
        "questionnaire_id": q.id,
        "questionnaire_version": q.version,
        "answers": dict(evaluation.answers),
        "result": result,
        "triage_level": level.code,
        "triage_rank": level.rank,
        "channel": channel,
        "api_client_id": api_client_id,
        "idempotency_key": idempotency_key,
        "request_hash": None if keyed is None else keyed.fingerprint,
        "created_at": now,
        "language": language,
    }
    # Core INSERT, as assessments are stored: building an ORM object cost a tenth of it. If
    # another request with the same key won the race, this one had only read.
    winner = insert_once(session, keyed, lambda: session.connection().execute(_INSERT, row))
    if winner is not None:
        return _replayed(winner)
    if assessment.clinic_id is not None and level.urgent:
        # A warning sign at a check-in reaches the clinic as a submission's would, stored
        # together with the check-in or not at all; an alert still waiting covers it.
        alerts.queue_for_checkin(
            session,
            clinic_id=assessment.clinic_id,
            assessment_id=assessment.id,
            checkin_id=checkin_id,
            rank=level.rank,
            now=now,
        )
    return RecordedCheckin(checkin_id, assessment.id, now, result)


def _read_another(evaluation: Evaluation, context: Mapping[str, Any]) -> bool:
    """Whether the caller's evaluation read another context than the check-ins stored now give
    (one came in meanwhile). The weeks are the request's: a moment's wait changes nothing."""
    given = dict(evaluation.context)
    return any(
        given.get(key) != value for key, value in context.items() if key != WEEKS_SINCE_START
    )


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
