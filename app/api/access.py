"""Which stored assessments an API key may read, and the clinic's audit of what it read or
wrote: shared by the assessment and check-in routes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import status

from app.deps import Db
from app.errors import AppError
from app.models import Assessment
from app.services import api_access, audit
from app.services import assessments as assessment_service
from app.services.api_keys import Caller

from .responses import ERRORS
from .schemas.problems import ErrorResponse

NOT_FOUND = "There is no such assessment."
# The errors of a route under /assessments/{assessment_id}, for the OpenAPI document.
ASSESSMENT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {
        "model": ErrorResponse,
        "description": "No assessment with this id that this key may read.",
    },
}


async def read_assessment(assessment_id: str, client: Caller, db: Db, *, action: str) -> Assessment:
    """The assessment this client may read, or a 404. A clinic's submission read through the
    API is in that clinic's audit log, with the key's name, as staff reads are."""
    assessment = await db.run(api_access.read_assessment, client, assessment_id, action=action)
    if assessment is None:
        raise AppError(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return assessment


async def readable_assessment(assessment_id: str, client: Caller, db: Db) -> Assessment:
    """The assessment this client may read (not audited: the caller says what it did), or a
    404."""
    assessment = await db.run(
        assessment_service.get_for_api_client,
        assessment_id=assessment_id,
        api_client_id=client.id,
        clinic_id=client.clinic_id,
    )
    if assessment is None:
        raise AppError(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return assessment


async def audit_by_key(
    db: Db,
    client: Caller,
    clinic_id: uuid.UUID | None,
    assessment_id: uuid.UUID,
    action: str,
    *,
    checkin_ids: Iterable[uuid.UUID | str] = (),
) -> None:
    """What this key read or wrote of a clinic's submission, in the clinic's audit log."""
    await db.run(
        audit.record_health_data,
        clinic_id,
        assessment_id,
        action,
        who=audit.by_api_key(client.name, client.id),
        checkin_ids=checkin_ids,
    )
