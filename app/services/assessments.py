"""Recording and reading assessments. Every channel (web, intake, api) stores through
``record``, with the Evaluation its request already made."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, or_, select

from app import codec
from app.engine import AnswerError, Evaluation, build_result
from app.models import Assessment, utcnow
from app.security import hash_token, new_token
from app.services import alerts, audit, fhir
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
    result: dict[str, Any] = field(repr=False)
    result_token: str | None = field(repr=False)
    """web and intake: the secret of the person's result link. Only its hash is stored, so
    this is the one chance to use it."""
    replayed: bool = False
    """A retry with an Idempotency-Key already used for this request: the record stored then."""


class IdempotencyConflictError(Exception):
    """The Idempotency-Key was already used by this client for a different request."""


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
) -> Recorded:
    """Store an evaluated assessment, in the session's transaction (the request commits). The
    one way an assessment is written, for every channel.

    An emergency or urgent submission for a clinic queues the clinic's alerts too
    (app/services/alerts.py), so every channel alerts alike.

    Raises AnswerError (nothing is stored) when an answer is invalid, or when answers are
    missing and ``allow_incomplete`` is false. ``allow_incomplete`` is for a person who was told
    to see a doctor and chose not to finish the lifestyle questions: the triage is still final,
    because every safety question has been answered by then; no plan is ever made for it.

    With an ``idempotency_key`` (API clients), ``given`` is the request's answers as sent: a
    retry of the same request returns the first record (``replayed``), and a different request
    with the same key raises IdempotencyConflictError. Race-safe: two requests with the same
    key can both find no earlier record; the unique constraint on (api_client_id,
    idempotency_key) lets one insert, and the other answers with the winner's record; it rolls
    its transaction back to read it, so a caller with a key must not have written anything else
    in the session (the API writes nothing else).
    """
    q = evaluation.questionnaire
    fingerprint = None
    if idempotency_key is not None:
        assert api_client_id is not None, "idempotency keys belong to an API client"
        fingerprint = request_hash(q.id, given if given is not None else evaluation.answers)
        earlier = find_by_idempotency_key(
            session, api_client_id=api_client_id, idempotency_key=idempotency_key
        )
        if earlier is not None:
            return _replay(earlier, fingerprint)
    if evaluation.problems or (not evaluation.complete and not allow_incomplete):
        raise AnswerError(evaluation.required_problems())
    result = build_result(evaluation)
    level = result["triage"]["level"]
    token = new_token() if channel in ("web", "intake") else None
    now = utcnow()
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
        "request_hash": fingerprint,
        "created_at": now,
        "updated_at": now,
        "reviewed_at": None,
        "reviewed_by_id": None,
    }
    try:
        # Core INSERT, no ORM flush: that cost a fifth of an API request, and this runs for
        # every submission.
        session.connection().execute(_INSERT, row)
    except IntegrityError:
        if idempotency_key is None or api_client_id is None or fingerprint is None:
            raise
        # Nothing else was written in this request: the loser's transaction only read.
        session.rollback()
        winner = find_by_idempotency_key(
            session, api_client_id=api_client_id, idempotency_key=idempotency_key
        )
        if winner is None:
            raise
        return _replay(winner, fingerprint)
    if clinic_id is not None and q.level_by_code[level].urgent:
        # In this transaction: stored together with the submission, or not at all.
        alerts.queue(session, clinic_id=clinic_id, assessment_id=row["id"], now=now)
    return Recorded(
        id=row["id"], channel=channel, created_at=now, result=result, result_token=token
    )


def _replay(earlier: Assessment, fingerprint: str) -> Recorded:
    if earlier.request_hash != fingerprint:
        raise IdempotencyConflictError
    return Recorded(
        id=earlier.id,
        channel=earlier.channel,  # type: ignore[arg-type]
        created_at=earlier.created_at,
        result=earlier.result,
        result_token=None,
        replayed=True,
    )


_INSERT = insert(Assessment)


def fhir_bundle_json(registry: Registry, assessment: Assessment, *, base_url: str) -> bytes:
    """A stored assessment as a FHIR R4 Bundle, in JSON: for the API and the staff pages alike.
    UnknownQuestionnaireError if its definition is no longer loaded."""
    q = registry.get(assessment.questionnaire_id)
    return codec.dumps(fhir.assessment_bundle(assessment, q, base_url=base_url))


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
