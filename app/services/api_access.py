"""What an API key reads and stores of the assessments, each with the clinic's audit event in
the same call (one trip to the database's thread on PostgreSQL), so nothing is read or stored
through the API without its event. Which assessments a key may read is
assessments.get_for_api_client's: its own, or any of its clinic's."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.engine import Evaluation
from app.models import Assessment
from app.services import assessments, audit
from app.services.api_keys import Caller


def read_assessment(
    session: Session, caller: Caller, assessment_id: str, *, action: str
) -> Assessment | None:
    """The assessment ``caller`` may read, its read (``action``) in its clinic's audit log with
    the key's name, as staff reads are; None if there is none it may read."""
    assessment = assessments.get_for_api_client(
        session, assessment_id=assessment_id, api_client_id=caller.id, clinic_id=caller.clinic_id
    )
    if assessment is not None:
        audit.record_health_data(
            session,
            assessment.clinic_id,
            assessment.id,
            action,
            who=audit.by_api_key(caller.name, caller.id),
        )
    return assessment


def record_assessment(
    session: Session, /, caller: Caller, evaluation: Evaluation, **options: Any
) -> assessments.Recorded:
    """Store ``caller``'s evaluated answers (assessments.record, with its errors; ``options``
    its own), audited in the key's clinic's log; a retry reads the stored record back, and is
    audited as a read, not a second write."""
    recorded = assessments.record(
        session,
        evaluation,
        channel="api",
        api_client_id=caller.id,
        clinic_id=caller.clinic_id,
        **options,
    )
    audit.record_health_data(
        session,
        caller.clinic_id,
        recorded.id,
        "assessment.replayed" if recorded.replayed else "assessment.created",
        who=audit.by_api_key(caller.name, caller.id),
    )
    return recorded
