"""Recording and reading assessments. Every channel (web, intake, api) stores through
``record``, with the Evaluation its request already made."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import CTE, bindparam, delete, exists, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, or_, select

from app import codec
from app.engine import BASE_LANGUAGE, AnswerError, Evaluation, Result, build_result
from app.models import Alert, Assessment, Checkin, ResultContact, SubmissionSeen, utcnow
from app.security import hash_token, new_token
from app.services import alerts, audit, fhir, result_pdfs
from app.services.idempotency import KeyedRequest, insert_once, request_hash, stored_before
from app.services.questionnaires import Registry

Channel = Literal["web", "intake", "api"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """A just-stored assessment: what its callers answer with. (Not an ORM object: building and
    attaching one cost a twentieth of an API request. To change the record, load it.)"""

    id: uuid.UUID
    channel: Channel
    created_at: datetime
    # Out of the repr: a traceback or error report that prints locals must not carry them.
    result: Result = field(repr=False)
    result_token: str | None = field(repr=False)
    """web and intake: the secret of the person's result link. Only its hash is stored, so
    this is the one chance to use it."""
    replayed: bool = False
    """A retry with an Idempotency-Key already used for this request: the record stored then."""


class AlreadyReplacedError(Exception):
    """The record a correction would replace was replaced already (or is gone), or the clinic
    has it now (reviewed, or an alert for it exists)."""


def record(
    session: Session,
    evaluation: Evaluation,
    *,
    channel: Channel,
    api_client_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
    intake_link_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    given: Mapping[str, Any] | None = None,
    allow_incomplete: bool = False,
    replaces: uuid.UUID | None = None,
    now: datetime | None = None,
    language: str = "en",
) -> Recorded:
    """Store an evaluated assessment, in the session's transaction (the request commits): the
    one way an assessment is written, for every channel. An emergency or urgent submission for
    a clinic queues the clinic's alerts too (app/services/alerts.py): every channel alerts alike.

    Raises AnswerError (nothing is stored) when an answer is invalid, or when answers are
    missing and ``allow_incomplete`` is false. ``allow_incomplete`` is for a person who was told
    to see a doctor and chose not to finish the lifestyle questions: the triage is still final,
    because every safety question has been answered by then; no plan is ever made for it.

    With an ``idempotency_key`` (API clients), ``given`` is the request's answers as sent: a
    retry of the same request returns the first record (``replayed``), and a different request
    with the same key raises IdempotencyConflictError (app/services/idempotency.py, which also
    settles two requests racing with one key: the unique constraint on (api_client_id,
    idempotency_key) decides). A caller with a key must not have written anything else in the
    session (the API writes nothing else).

    ``replaces``: the record this one corrects (a person who mis-tapped an emergency answer).
    It is kept, for the audit trail, with ``replaced_by_id`` pointing here; its result link
    leads here; a clinic's audit log says so. AlreadyReplacedError when another correction
    replaced it first (the database decides, as for a single-use link): the caller's
    transaction must then store nothing.

    ``now``: when it is stored (its created_at, and when its alerts are first due); the system
    clock's time when not given (the routes give their app's clock's). Stored in English (a
    language is a view: result_language.py), else ValueError. ``language``: the one the person
    used (app/i18n.py), kept for their e-mails and for staff.
    """
    q = evaluation.questionnaire
    if q.language != BASE_LANGUAGE:
        raise ValueError(f"{q.id} in {q.language}: store the English questionnaire's result")
    keyed = None
    if idempotency_key is not None:
        assert api_client_id is not None, "idempotency keys belong to an API client"
        keyed = _keyed(
            api_client_id,
            idempotency_key,
            request_hash(q.id, given if given is not None else evaluation.answers),
        )
        if (earlier := stored_before(session, keyed)) is not None:
            return _replayed(earlier)
    if evaluation.problems or (not evaluation.complete and not allow_incomplete):
        raise AnswerError(evaluation.required_problems())
    result = build_result(evaluation)
    level = result["triage"]["level"]
    token = new_token() if channel in ("web", "intake") else None
    now = now or utcnow()
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "questionnaire_id": q.id,
        "questionnaire_version": q.version,
        "answers": evaluation.answers,
        "result": result,
        "triage_level": level,
        "triage_rank": q.level_by_code[level].rank,
        "complete": evaluation.complete,
        "channel": channel,
        "api_client_id": api_client_id,
        "clinic_id": clinic_id,
        "intake_link_id": intake_link_id,
        "result_token_hash": hash_token(token) if token else None,
        "idempotency_key": idempotency_key,
        "request_hash": None if keyed is None else keyed.fingerprint,
        "created_at": now,
        "updated_at": now,
        "reviewed_at": None,
        "reviewed_by_id": None,
        "language": language,
    }

    def insert() -> None:
        if channel == "intake" and clinic_id is not None:
            _insert_with_reference(session, row)
        else:
            # Core INSERT, no ORM flush: that cost a fifth of an API request, and this runs
            # for every submission.
            session.connection().execute(_INSERT, row)

    # Nothing else was written in this request: a loser of the race on its key only read.
    if (winner := insert_once(session, keyed, insert)) is not None:
        return _replayed(winner)
    if replaces is not None:
        _replace(session, replaces, row["id"], now)
    if clinic_id is not None and q.level_by_code[level].urgent:
        # In this transaction: stored together with the submission, or not at all.
        alerts.queue(session, clinic_id=clinic_id, assessment_id=row["id"], now=now)
    return Recorded(
        id=row["id"], channel=channel, created_at=now, result=result, result_token=token
    )


def _replace(session: Session, old_id: uuid.UUID, new_id: uuid.UUID, now: datetime) -> None:
    replaced = session.connection().execute(
        update(Assessment)
        .where(
            col(Assessment.id) == old_id,
            col(Assessment.replaced_by_id).is_(None),
            # Decided here, by the row, as a review or an alert may have come since the
            # correction was checked: the clinic may be acting on it.
            col(Assessment.reviewed_at).is_(None),
            ~exists().where(col(Alert.assessment_id) == old_id),
        )
        .values(replaced_by_id=new_id, updated_at=now)
    )
    if replaced.rowcount != 1:
        raise AlreadyReplacedError
    old = session.get(Assessment, old_id)
    assert old is not None  # just updated
    # The row says so already; a copy this session loaded before must too.
    set_committed_value(old, "replaced_by_id", new_id)
    set_committed_value(old, "updated_at", now)
    if old.clinic_id is not None:
        audit.record(
            session,
            clinic_id=old.clinic_id,
            actor_id=None,
            action="assessment.replaced",
            target_type="assessment",
            target_id=old_id,
            detail={"replaced_by": str(new_id)},
        )


def _keyed(api_client_id: uuid.UUID, key: str, fingerprint: str) -> KeyedRequest[Assessment]:
    return KeyedRequest(
        key,
        fingerprint,
        # Looked up when called, so a test can make the first look-up miss (a lost race).
        lambda session: find_by_idempotency_key(
            session, api_client_id=api_client_id, idempotency_key=key
        ),
    )


def _replayed(earlier: Assessment) -> Recorded:
    return Recorded(
        id=earlier.id,
        channel=earlier.channel,  # type: ignore[arg-type]
        created_at=earlier.created_at,
        result=earlier.result,
        result_token=None,
        replayed=True,
    )


_INSERT = insert(Assessment)

# A clinic intake submission's reference, for the person to quote: no vowels (no words), and
# none of 0/O, 1/I/L, 2/Z, 5/S, 8/B, which are misread when spoken or handwritten.
REFERENCE_ALPHABET: Final = "CDFGHJKMNPQRTVWXY34679"
REFERENCE_LENGTH: Final = 6  # 22**6: 113 million per clinic
REFERENCE_ATTEMPTS: Final = 5


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def normalise_reference(text: str) -> str:
    """A reference as someone may type or read it out ("k7m 4qx", "K7M-4QX"): upper case, with
    spaces and dashes dropped."""
    return "".join(c for c in text.upper() if c not in " -")


def _insert_with_reference(session: Session, row: dict[str, Any]) -> None:
    """Insert an intake submission with a reference unique within its clinic. Two submissions
    can draw the same one; the unique constraint decides, and the loser draws again inside a
    savepoint (on PostgreSQL a failed statement would otherwise end the transaction)."""
    _begin_on_sqlite(session)
    for attempt in range(REFERENCE_ATTEMPTS):
        row["reference"] = new_reference()
        try:
            with session.begin_nested():
                session.connection().execute(_INSERT, row)
            return
        except IntegrityError:
            if attempt == REFERENCE_ATTEMPTS - 1:
                raise


def _begin_on_sqlite(session: Session) -> None:
    """Python's sqlite3 opens a transaction before an INSERT, but not before a SAVEPOINT: a
    savepoint outside one starts its own, and its RELEASE commits it, so a request that failed
    later would still have stored the submission. Open the transaction first."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN")


def fhir_bundle_json(registry: Registry, assessment: Assessment, *, base_url: str) -> bytes:
    """A stored assessment as a FHIR R4 Bundle, in JSON: for the API and the staff pages alike.
    UnknownQuestionnaireError if its definition is no longer loaded."""
    q = registry.exact(assessment.questionnaire_id, assessment.questionnaire_version)
    return codec.dumps(fhir.assessment_bundle(assessment, q, base_url=base_url))


def fhir_risk_assessment(
    session: Session, registry: Registry, assessment_id: uuid.UUID, *, base_url: str
) -> dict[str, Any]:
    """A just-stored assessment's RiskAssessment, as its FHIR Bundle has it: what FHIR in
    answers with."""
    assessment = session.get_one(Assessment, assessment_id)
    q = registry.exact(assessment.questionnaire_id, assessment.questionnaire_version)
    return fhir.bundle_resource(
        fhir.assessment_bundle(assessment, q, base_url=base_url), "RiskAssessment"
    )


# Built once (the result page runs them on every view): building a statement and its cache
# key cost SQLAlchemy more than running it on an indexed column.
_BY_TOKEN: Final = select(Assessment).where(col(Assessment.result_token_hash) == bindparam("h"))
_REPLACED: Final = select(Assessment).where(col(Assessment.replaced_by_id) == bindparam("id"))


def get_by_result_token(session: Session, token: str) -> Assessment | None:
    """The record a result link shows: its own, or the newest one that corrected it (the
    recursive query over the line of corrections only for the few records corrected)."""
    found = session.exec(_BY_TOKEN, params={"h": hash_token(token)}).first()
    if found is None or found.replaced_by_id is None:
        return found
    return newest(session, found)


def newest(session: Session, assessment: Assessment) -> Assessment:
    """The record that replaced ``assessment`` (and so on), or itself when never replaced."""
    line = _line_cte(col(Assessment.id) == assessment.id, forward=True)
    return _newest_in(session, line) or assessment


def line_of(session: Session, assessment: Assessment) -> list[Assessment]:
    """The whole line ``assessment`` is part of: the records it replaced, itself, and those that
    replaced it; oldest first. One query (two recursive parts), however long."""
    start = col(Assessment.id) == assessment.id
    back = _line_cte(start, forward=False, name="line_back")
    ahead = _line_cte(start, forward=True, name="line_ahead")
    return list(
        session.exec(
            select(Assessment)
            .where(
                or_(
                    col(Assessment.id).in_(select(back.c.id)),
                    col(Assessment.id).in_(select(ahead.c.id)),
                )
            )
            .order_by(col(Assessment.created_at), col(Assessment.id))
        )
    )


def replaced_record(session: Session, assessment: Assessment) -> Assessment | None:
    """The record ``assessment`` replaced directly (a correction's earlier result), if any."""
    return session.exec(_REPLACED, params={"id": assessment.id}).first()


def _line_cte(start: ColumnElement[bool], *, forward: bool, name: str = "line") -> CTE:
    """The ids of the record(s) matching ``start`` and of every record after it in its line
    of corrections (``forward``: the one that replaced it, and so on) or before it. Recursive,
    as SQLite and PostgreSQL both run it. UNION, not UNION ALL: an id already found adds no
    row, so even a line the app could not have made (a loop) ends."""
    line = select(col(Assessment.id).label("id")).where(start).cte(name, recursive=True)
    step = aliased(Assessment, name=f"{name}_step")
    following: Any
    if forward:
        following = (
            select(col(step.replaced_by_id))
            .join(line, col(step.id) == line.c.id)
            .where(col(step.replaced_by_id).is_not(None))
        )
    else:
        following = select(col(step.id)).join(line, col(step.replaced_by_id) == line.c.id)
    return line.union(following)


def _newest_in(session: Session, line: CTE) -> Assessment | None:
    # The one not replaced; should the line ever loop, the latest of it rather than nothing.
    return session.exec(
        select(Assessment)
        .where(col(Assessment.id).in_(select(line.c.id)))
        .order_by(
            col(Assessment.replaced_by_id).is_(None).desc(), col(Assessment.created_at).desc()
        )
        .limit(1)
    ).first()


_HOLD: Final = (
    update(Assessment)
    .where(col(Assessment.id) == bindparam("held"))
    .values(updated_at=bindparam("now"))
)


def hold(session: Session, assessment_id: uuid.UUID) -> None:
    """Take the submission's row for the rest of this transaction (a write: PostgreSQL's row
    lock, SQLite's write lock). A check-in being recorded and a review being marked both take
    it first, so they happen one after the other: a review's count of the check-ins it covers
    and the time it is marked at cannot straddle a check-in."""
    session.connection().execute(_HOLD, {"held": assessment_id, "now": utcnow()})


def remove_result_link(session: Session, assessment: Assessment) -> None:
    """The person's private result page stops working (the links of the whole line of
    corrections too, which lead to it); the records stay with their clinic, and its audit log
    says so."""
    now = utcnow()
    line = line_of(session, assessment) or [assessment]
    # Their kept PDFs were only for that page: they go with it, and so does the address they
    # gave for their link and reminders (app/services/keep.py).
    result_pdfs.forget(session, [each.id for each in line])
    session.connection().execute(
        delete(ResultContact).where(col(ResultContact.assessment_id).in_([e.id for e in line]))
    )
    linked = [each for each in line if each.result_token_hash]
    if not linked:
        return
    session.connection().execute(
        update(Assessment)
        .where(col(Assessment.id).in_([each.id for each in linked]))
        .values(result_token_hash=None, updated_at=now)
    )
    for each in linked:
        set_committed_value(each, "result_token_hash", None)
        set_committed_value(each, "updated_at", now)
        if each.clinic_id is not None:
            audit.record(
                session,
                clinic_id=each.clinic_id,
                actor_id=None,
                action="assessment.patient_link_removed",
                target_type="assessment",
                target_id=each.id,
            )


def delete_assessment(session: Session, assessment: Assessment) -> None:
    """Really remove it (not a soft delete): a person asked for their data to go. The whole
    line of corrections is theirs too, and goes with it, in one go however long: its check-ins,
    then the links between the records (each points to the one that replaced it), then the
    records. Their kept PDFs go too (result_pdf's foreign key would delete them, but SQLite
    enforces it only where foreign keys are on)."""
    line = line_of(session, assessment) or [assessment]
    ids = [each.id for each in line]
    result_pdfs.forget(session, ids)
    connection = session.connection()
    # The address they gave for their link and reminders (app/services/keep.py) goes too.
    connection.execute(delete(ResultContact).where(col(ResultContact.assessment_id).in_(ids)))
    connection.execute(delete(Checkin).where(col(Checkin.assessment_id).in_(ids)))
    connection.execute(delete(SubmissionSeen).where(col(SubmissionSeen.assessment_id).in_(ids)))
    connection.execute(
        update(Assessment).where(col(Assessment.id).in_(ids)).values(replaced_by_id=None)
    )
    connection.execute(delete(Assessment).where(col(Assessment.id).in_(ids)))
    for each in line:  # gone from the database: this session forgets its copies too
        if each in session:
            session.expunge(each)


# -- API channel: idempotent creation and per-client reading -------------------------------------


def find_by_idempotency_key(
    session: Session, *, api_client_id: uuid.UUID, idempotency_key: str
) -> Assessment | None:
    return session.exec(
        select(Assessment).where(
            Assessment.api_client_id == api_client_id,
            Assessment.idempotency_key == idempotency_key,
        )
    ).first()
