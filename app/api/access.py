"""An assessment an API key reads, with the clinic's audit of it (app/services/api_access.py,
one call): shared by the assessment and check-in routes, with its 404."""

from __future__ import annotations

from typing import Any

from fastapi import status

from app.deps import Db
from app.errors import AppError
from app.models import Assessment
from app.services import api_access
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
