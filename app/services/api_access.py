"""What an API key reads and stores of the assessments and their check-ins, each with the
clinic's audit event in the same call (one trip to the database's thread on PostgreSQL), so
nothing is read or stored through the API without its event. Which assessments a key may
read is ``readable``'s: its own, or any of its clinic's."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam
from sqlmodel import Session, col, or_, select

from app.clock import Clock
from app.config import CheckinLimits
from app.engine import CheckinResult, Evaluation
from app.models import Assessment, Checkin
from app.services import assessments, audit, checkin_history, checkins, result_language
from app.services.api_keys import Caller
from app.services.checkins import RecordedCheckin
from app.services.fhir.checkin import checkin_bundle
from app.services.questionnaires import Registry, UnknownQuestionnaireError


def read_assessment(
    session: Session, caller: Caller, assessment_id: str, *, action: str
) -> Assessment | None:
    """The assessment ``caller`` may read, its read (``action``) in its clinic's audit log with
    the key's name, as staff reads are; None if there is none it may read."""
    assessment = readable(session, caller, assessment_id)
    if assessment is not None:
        _audit(session, caller, assessment, action)
    return assessment


def readable(session: Session, caller: Caller, assessment_id: str) -> Assessment | None:
    """The assessment if this API client may read it: its own, or (for a clinic's client) any
    of the clinic's, intake submissions included. None otherwise, and for a malformed id."""
    try:
        wanted = uuid.UUID(assessment_id)
    except ValueError:
        return None
    if caller.clinic_id is None:
        return session.exec(_OF_CLIENT, params={"id": wanted, "client": caller.id}).first()
    params = {"id": wanted, "client": caller.id, "clinic": caller.clinic_id}
    return session.exec(_OF_CLIENT_OR_CLINIC, params=params).first()


# Built once, as the result page's lookups (every keyed read and check-in runs one).
_OWNER: Final = col(Assessment.api_client_id) == bindparam("client")
_OF_CLIENT: Final = select(Assessment).where(col(Assessment.id) == bindparam("id"), _OWNER)
_OF_CLIENT_OR_CLINIC: Final = select(Assessment).where(
    col(Assessment.id) == bindparam("id"),
    or_(_OWNER, col(Assessment.clinic_id) == bindparam("clinic")),
)


def _audit(
    session: Session,
    caller: Caller,
    assessment: Assessment,
    action: str,
    checkin_ids: Iterable[uuid.UUID] = (),
) -> None:
    """What this key read or wrote of a clinic's submission, in the clinic's audit log."""
    audit.record_health_data(
        session,
        assessment.clinic_id,
        assessment.id,
        action,
        who=audit.by_api_key(caller.name, caller.id),
        checkin_ids=checkin_ids,
    )


@dataclass(frozen=True, slots=True)
class CheckinsRead:
    """A page of an assessment's check-ins, oldest first."""

    assessment: Assessment
    checkins: list[Checkin]
    total: int  # how many it has in all
    in_language: list[tuple[CheckinResult, str]]  # each one's result, and the language it is in


def read_checkins(
    session: Session,
    caller: Caller,
    registry: Registry,
    assessment_id: str,
    *,
    language: str,
    offset: int,
    limit: int,
) -> CheckinsRead | None:
    """A page of the check-ins of the assessment ``caller`` may read, in ``language`` where
    they can be (result_language.checkin_results), audited with their ids; None if there is
    no such assessment it may read."""
    assessment = readable(session, caller, assessment_id)
    if assessment is None:
        return None
    found, total = checkin_history.checkin_page(session, assessment.id, offset=offset, limit=limit)
    in_language = result_language.checkin_results(session, registry, assessment, found, language)
    _audit(session, caller, assessment, "checkins.viewed", [c.id for c in found])
    return CheckinsRead(assessment, found, total, in_language)


@dataclass(frozen=True, slots=True)
class CheckinRead:
    assessment: Assessment | None  # None: no such assessment the key may read
    checkin: Checkin | None  # None: the assessment has no such check-in
    bundle: dict[str, Any] | None = None  # None: no check-in, or its definition is not loaded


def export_checkin(
    session: Session,
    caller: Caller,
    registry: Registry,
    assessment_id: str,
    checkin_id: str,
    *,
    base_url: str,
) -> CheckinRead:
    """One check-in of an assessment ``caller`` may read, as its FHIR Bundle, audited as an
    export once the Bundle is made: an export refused (no such check-in, its definition not
    loaded) leaves no event, and SQLite's write lock is not held while the Bundle is built."""
    assessment = readable(session, caller, assessment_id)
    if assessment is None:
        return CheckinRead(None, None)
    checkin = checkin_history.get_checkin(session, assessment.id, checkin_id)
    if checkin is None:
        return CheckinRead(assessment, None)
    try:
        q = registry.exact(checkin.questionnaire_id, checkin.questionnaire_version)
    except UnknownQuestionnaireError:
        return CheckinRead(assessment, checkin)
    bundle = checkin_bundle(checkin, assessment, q, base_url=base_url)
    _audit(session, caller, assessment, "export.fhir", [checkin.id])
    return CheckinRead(assessment, checkin, bundle)


class ScopeMissingError(Exception):
    """A clinic's key without the ``checkins:write`` scope: it reads the clinic's submissions
    but may not store check-ins."""


class NotThisCheckinError(Exception):
    """The check-in a QuestionnaireResponse names is not this assessment's."""


class TooManyAnswersError(Exception):
    """More answers than the check-in has questions: not a real interview, refused before the
    engine lists a problem for each one (a list as long as the body)."""

    def __init__(self, questions: int) -> None:
        self.questions = questions
        super().__init__(f"more answers than the {questions} questions")


@dataclass(frozen=True, slots=True)
class StoredCheckin:
    """What storing an API client's check-in gives back."""

    assessment: Assessment
    recorded: RecordedCheckin
    in_language: tuple[CheckinResult, str]  # its result in the language asked for, and which
    row: Checkin | None  # the stored row, when asked for (``read_back``)


def store_checkin(
    session: Session,
    /,
    caller: Caller,
    registry: Registry,
    assessment_id: str,
    answers: Mapping[str, Any],
    *,
    idempotency_key: str | None,
    clock: Clock,
    limits: CheckinLimits,
    questionnaire_id: str | None = None,
    language: str,
    read_back: bool = False,
) -> StoredCheckin | None:
    """A check-in POST's one transaction: the assessment ``caller`` may read (None if there is
    none), then its scope (ScopeMissingError), the check-in named (``questionnaire_id``, from a
    QuestionnaireResponse: NotThisCheckinError) and the answers' count (TooManyAnswersError);
    then the check-in evaluated once and stored (checkins.record_checkin, with its errors) with
    the clinic's audit event, so that it never lands without it; then its result in
    ``language`` where it can be had in it, and the stored row if ``read_back``."""
    assessment = readable(session, caller, assessment_id)
    if assessment is None:
        return None
    if not caller.may_write_checkins:
        raise ScopeMissingError
    follow_up = registry.follow_up(assessment.questionnaire_id)
    if questionnaire_id is not None and (follow_up is None or follow_up.id != questionnaire_id):
        raise NotThisCheckinError
    _refuse_too_many(registry, assessment, answers)
    recorded = checkins.record_checkin(
        session, registry, assessment, answers, channel="api", api_client_id=caller.id,
        idempotency_key=idempotency_key, clock=clock, limits=limits, language=language,
    )  # fmt: skip
    # A retry reads the stored check-in back: audited as a read, not a second write.
    _audit(
        session,
        caller,
        assessment,
        "checkin.replayed" if recorded.replayed else "checkin.created",
        [recorded.id],
    )
    # Stored in English; worked out again in another language asked for, if exact.
    (in_language,) = result_language.checkin_results(
        session, registry, assessment, [recorded], language
    )
    row = (
        checkin_history.get_checkin(session, assessment.id, str(recorded.id)) if read_back else None
    )
    return StoredCheckin(assessment, recorded, in_language, row)


@dataclass(frozen=True, slots=True)
class CheckinStep:
    """A check-in driven a page at a time, not stored."""

    evaluation: Evaluation  # of the check-in in the language it could be had in
    result: CheckinResult | None  # what storing it would give, once finished


def next_checkin_step(
    session: Session,
    /,
    caller: Caller,
    registry: Registry,
    assessment_id: str,
    answers: Mapping[str, Any],
    *,
    clock: Clock,
    language: str,
) -> CheckinStep | None:
    """The next page of a check-in of the assessment ``caller`` may read (None if there is
    none), in ``language`` where it can be had in it (result_language.checkin_step). It stores
    nothing, but reads the plan and trend the earlier check-ins left: audited as checkin.next,
    with their ids, once the step is worked out, so a refused one (TooManyAnswersError,
    checkins.CheckinNotPossibleError) writes no event. The time is ``clock``'s once the check-ins
    so far are read, as storing it would read it."""
    assessment = readable(session, caller, assessment_id)
    if assessment is None:
        return None
    _refuse_too_many(registry, assessment, answers)
    found = checkin_history.checkins_so_far(session, assessment.id)
    now = clock()
    evaluation = checkins.evaluate_checkin(registry, assessment, found, answers, now)
    evaluation, result = result_language.checkin_step(
        registry, assessment, found, answers, evaluation, now, language
    )
    _audit(session, caller, assessment, "checkin.next", [c.id for c in found])
    return CheckinStep(evaluation, result)


def _refuse_too_many(
    registry: Registry, assessment: Assessment, answers: Mapping[str, Any]
) -> None:
    follow_up = registry.follow_up(assessment.questionnaire_id)
    if follow_up is not None and len(answers) > len(follow_up.questions):
        raise TooManyAnswersError(len(follow_up.questions))


def record_assessment(
    session: Session,
    /,
    caller: Caller,
    evaluation: Evaluation,
    *,
    idempotency_key: str | None,
    given: Mapping[str, Any],
    now: datetime,
    language: str,
) -> assessments.Recorded:
    """Store ``caller``'s evaluated answers (assessments.record, with its errors and its
    meaning of the other arguments), audited in the key's clinic's log; a retry reads the
    stored record back, and is audited as a read, not a second write."""
    recorded = assessments.record(
        session,
        evaluation,
        channel="api",
        api_client_id=caller.id,
        clinic_id=caller.clinic_id,
        idempotency_key=idempotency_key,
        given=given,
        now=now,
        language=language,
    )
    audit.record_health_data(
        session,
        caller.clinic_id,
        recorded.id,
        "assessment.replayed" if recorded.replayed else "assessment.created",
        who=audit.by_api_key(caller.name, caller.id),
    )
    return recorded
