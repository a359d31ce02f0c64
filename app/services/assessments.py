"""Recording and reading assessments. Every channel (web, intake, api) comes through here."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert
from sqlmodel import Session, col, or_, select

from app.engine import AnswerError, Questionnaire, build_result, evaluate
from app.models import Assessment, utcnow
from app.security import hash_token, new_token
from app.services import audit

Channel = Literal["web", "intake", "api"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """A just-stored assessment: what its callers answer with. (Not an ORM object: building and
    attaching one cost a twentieth of an API request. To change the record, load it.)"""

    id: uuid.UUID
    channel: Channel
    created_at: datetime
    # Out of the repr: a traceback or error report that prints locals must not carry them.
    result: dict[str, Any] = field(repr=False)
    result_token: str | None = field(repr=False)
    """web and intake: the secret of the person's result link. Only its hash is stored, so
    this is the one chance to use it."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """An evaluated assessment, ready to store: its row and what its caller answers with."""

    row: dict[str, Any] = field(repr=False)
    recorded: Recorded


def prepare_assessment(
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    *,
    channel: Channel,
    api_client_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
    intake_link_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    allow_incomplete: bool = False,
) -> Prepared:
    """Evaluate an assessment and build its row, without storing it (see record_assessment).

    Raises AnswerError when an answer is invalid, or when answers are missing and
    ``allow_incomplete`` is false. ``allow_incomplete`` is for a person who was told to see a
    doctor and chose not to finish the lifestyle questions: the triage is still final, because
    every safety question has been answered by then; no plan is ever made for such a record.
    """
    evaluation = evaluate(questionnaire, answers)
    if evaluation.problems or (not evaluation.complete and not allow_incomplete):
        raise AnswerError(evaluation.required_problems())
    result = build_result(evaluation)
    level = result["triage"]["level"]
    token = new_token() if channel in ("web", "intake") else None
    now = utcnow()
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "questionnaire_id": questionnaire.id,
        "questionnaire_version": questionnaire.version,
        "answers": evaluation.answers,
        "result": result,
        "triage_level": level,
        "triage_rank": questionnaire.level_by_code[level].rank,
        "complete": evaluation.complete,
        "channel": channel,
        "api_client_id": api_client_id,
        "clinic_id": clinic_id,
        "intake_link_id": intake_link_id,
        "result_token_hash": hash_token(token) if token else None,
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "created_at": now,
        "updated_at": now,
        "reviewed_at": None,
        "reviewed_by_id": None,
    }
    recorded = Recorded(
        id=row["id"], channel=channel, created_at=now, result=result, result_token=token
    )
    return Prepared(row=row, recorded=recorded)


def record_assessment(
    session: Session,
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    *,
    channel: Channel,
    api_client_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
    intake_link_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    allow_incomplete: bool = False,
) -> Recorded:
    """Evaluate and store an assessment (in the session's transaction: the caller commits).

    Raises AnswerError (nothing is stored) as prepare_assessment does."""
    prepared = prepare_assessment(
        questionnaire,
        answers,
        channel=channel,
        api_client_id=api_client_id,
        clinic_id=clinic_id,
        intake_link_id=intake_link_id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        allow_incomplete=allow_incomplete,
    )
    insert_assessments(session, [prepared.row])
    return prepared.recorded


def insert_assessments(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert prepared rows on the session's connection, in its transaction (the caller commits).

    One INSERT statement for all the rows: with RETURNING, SQLAlchemy sends many rows as one
    multi-row INSERT ("insertmanyvalues"; up to 1,000 rows, far more than the API batches), so
    it is all or nothing even where each statement commits on its own (app/api/batches.py).
    And no ORM flush, which cost a fifth of an API request: this runs for every submission."""
    session.connection().execute(_INSERT, list(rows))


_INSERT = insert(Assessment).returning(col(Assessment.id))


def get_by_result_token(session: Session, token: str) -> Assessment | None:
    return session.exec(
        select(Assessment).where(Assessment.result_token_hash == hash_token(token))
    ).first()


def remove_result_link(session: Session, assessment: Assessment) -> None:
    """The person's private result page stops working; the record stays with its clinic, and
    the clinic's audit log says so."""
    assessment.result_token_hash = None
    assessment.updated_at = utcnow()
    session.add(assessment)
    if assessment.clinic_id is not None:
        audit.record(
            session, clinic_id=assessment.clinic_id, actor_id=None,
            action="assessment.patient_link_removed", target_type="assessment",
            target_id=assessment.id,
        )  # fmt: skip
    session.flush()


def delete_assessment(session: Session, assessment: Assessment) -> None:
    """Really remove it (not a soft delete): a person asked for their data to go."""
    session.delete(assessment)
    session.flush()


# -- API channel: idempotent creation and per-client reading -------------------------------------


def request_hash(questionnaire_id: str, answers: Mapping[str, Any]) -> str:
    """A fingerprint of what was asked for, to tell a retry from a different request that
    reuses an Idempotency-Key (key order and spacing do not matter)."""
    canonical = json.dumps(
        {"questionnaire": questionnaire_id, "answers": answers},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_by_idempotency_key(
    session: Session, *, api_client_id: uuid.UUID, idempotency_key: str
) -> Assessment | None:
    return session.exec(
        select(Assessment).where(
            Assessment.api_client_id == api_client_id,
            Assessment.idempotency_key == idempotency_key,
        )
    ).first()


def get_for_api_client(
    session: Session,
    *,
    assessment_id: str,
    api_client_id: uuid.UUID,
    clinic_id: uuid.UUID | None,
) -> Assessment | None:
    """The assessment if this API client may read it: its own, or (for a clinic's client) any
    of the clinic's, intake submissions included. None otherwise, and for a malformed id."""
    try:
        wanted = uuid.UUID(assessment_id)
    except ValueError:
        return None
    owner = Assessment.api_client_id == api_client_id
    visible = owner if clinic_id is None else or_(owner, Assessment.clinic_id == clinic_id)
    return session.exec(select(Assessment).where(Assessment.id == wanted, visible)).first()
