"""FHIR in: an assessment or a check-in sent as a FHIR R4 QuestionnaireResponse.

Endpoints of their own (``POST /assessments/fhir``, ``POST /assessments/{id}/checkins/fhir``)
rather than a second media type on the JSON ones: each has one body schema in the OpenAPI
document, and the JSON endpoints stay exactly as they were. The response is read into answers
(app/services/fhir/response_in.py), and from there it is the JSON endpoints' own path: the same
key rules, rate limits, Idempotency-Key rules, errors and audit. The answer is the JSON
record, with the stored result's FHIR RiskAssessment.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Response, status
from pydantic import ConfigDict, Field

from app.deps import ClockDep, DbDep, RegistryDep, SettingsDep
from app.engine import Questionnaire
from app.errors import AppError
from app.services import assessments as assessment_service
from app.services import fhir
from app.services.fhir.checkin import checkin_bundle
from app.services.questionnaires import Registry

from . import presenters
from .access import ASSESSMENT_ERRORS
from .assessments import questionnaire_for_body, record_headers, store_answers
from .auth import ApiClientDep
from .checkins import checkin_headers, store_checkin
from .errors import ApiRoute, field_problem
from .examples import (
    EXAMPLE_CHECKIN,
    EXAMPLE_QUESTIONNAIRE_RESPONSE,
    EXAMPLE_RECORD,
    EXAMPLE_RISK_ASSESSMENT,
)
from .idempotency import idempotency_key_header
from .responses import (
    ERRORS,
    FHIR_JSON,
    NOT_JSON,
    client_version,
    fhir_schema,
    health_data_response,
    questionnaire_or_error,
)
from .schemas.assessments import AssessmentRecord
from .schemas.checkins import CheckinRecord
from .schemas.problems import ErrorResponse

router = APIRouter(route_class=ApiRoute)

_RISK_ASSESSMENT: Final[Any] = Field(
    description="The FHIR R4 RiskAssessment of what was stored, as its FHIR Bundle (`…/fhir`)"
    " has it: the triage level and each reason, with their clinical texts.",
)


class AssessmentFromFhir(AssessmentRecord):
    """A stored assessment that was sent as a QuestionnaireResponse."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**EXAMPLE_RECORD, "risk_assessment": EXAMPLE_RISK_ASSESSMENT}]
        }
    )

    risk_assessment: dict[str, Any] = _RISK_ASSESSMENT


class CheckinFromFhir(CheckinRecord):
    """A stored check-in that was sent as a QuestionnaireResponse."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**EXAMPLE_CHECKIN, "risk_assessment": EXAMPLE_RISK_ASSESSMENT}]
        }
    )

    risk_assessment: dict[str, Any] = _RISK_ASSESSMENT


_REQUEST_BODY: Final = {
    "description": "A FHIR R4 QuestionnaireResponse (`Content-Type: application/fhir+json`;"
    " `application/json` is read too) whose `questionnaire` is the canonical `url|version` of"
    " the Questionnaire (`GET /questionnaires/{id}/fhir`). Items are nested as in the"
    " Questionnaire (section and page groups); items not answered are left out.",
    "schema": fhir_schema("QuestionnaireResponse"),
    "examples": {
        "emergency": {
            "summary": "An early stop: an emergency sign",
            "value": EXAMPLE_QUESTIONNAIRE_RESPONSE,
        }
    },
}
_QR_ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_JSON,
    422: {
        "model": ErrorResponse,
        "description": "Not a QuestionnaireResponse to one of our Questionnaires, or one that"
        " does not fit it: each problem names the item by its linkId in `question` (an item"
        " in the wrong group, an answer of the wrong type, a code that is no option), then"
        " the same answer problems as the JSON endpoint (required, out of range). Nothing is"
        " stored.",
    },
}


def _answers(
    registry: Registry,
    resource: dict[str, Any],
    *,
    base_url: str,
    today: date,
    check_in: bool,
) -> tuple[Questionnaire, dict[str, Any], bool]:
    """The questionnaire a response names, its answers, and whether it named the version."""
    try:
        questionnaire_id, version = fhir.named_questionnaire(resource, base_url=base_url)
        q = questionnaire_or_error(
            registry,
            questionnaire_id,
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "; nothing was stored.",
        )
        if not check_in:
            q = questionnaire_for_body(registry, q.id)
        elif q.follows is None:
            raise AppError(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"{q.id!r} is not a check-in: send it to /assessments/fhir; nothing was stored.",
                [field_problem("questionnaire", "not_a_checkin", "is not a check-in")],
            )
        if check_in and version not in (None, q.version):
            # As JSON check-ins: only the current version (no older one may be pinned).
            raise AppError(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"Check-ins use {q.id} {q.version}; nothing was stored.",
                [field_problem("questionnaire", "version_not_accepted", f"must be {q.version}")],
            )
        if version is not None and not check_in:
            q = client_version(registry, q.id, version, today=today)
        answers = fhir.read_answers(resource, fhir.questionnaire_resource(q, base_url=base_url), q)
    except fhir.ResponseNotReadableError as exc:
        raise AppError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "The QuestionnaireResponse does not fit its Questionnaire; nothing was stored.",
            exc.problems,
        ) from None
    return q, answers, version is not None


@router.post(
    "/assessments/fhir",
    response_model=AssessmentFromFhir,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": {"required": True, "content": {FHIR_JSON: _REQUEST_BODY}}},
    responses={
        200: {
            "model": AssessmentFromFhir,
            "description": "A retry with the same Idempotency-Key and the same answers: the"
            " record stored the first time (header `Idempotency-Replayed: true`).",
        },
        201: {"description": "Stored. `Location` is the record's address."},
        400: {"model": ErrorResponse, "description": "The body is not valid JSON."},
        **ERRORS,
        409: {
            "model": ErrorResponse,
            "description": "The Idempotency-Key was already used with a different request.",
        },
        **_QR_ERRORS,
    },
    tags=["assessments", "fhir"],
    summary="Assess a QuestionnaireResponse and store it",
    description="FHIR in: the same as `POST /assessments`, with the answers given as a FHIR R4"
    " QuestionnaireResponse to `low-back-audit` (the current version, or an older one while"
    " it is accepted: the version in `questionnaire`'s `url|version` pins it). The answer is"
    " the stored record, with `risk_assessment`, its FHIR RiskAssessment. Idempotency-Key,"
    " keys, rate limits and audit as for JSON answers (the same answers are the same request,"
    " whichever way they were sent).",
)
async def create_assessment_from_fhir(
    client: ApiClientDep,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    settings: SettingsDep,
    body: Annotated[dict[str, Any], Body(media_type=FHIR_JSON, include_in_schema=False)],
    idempotency_key: Annotated[str | None, idempotency_key_header()],
) -> Response:
    q, answers, pinned = _answers(
        registry, body, base_url=settings.public_url, today=clock().date(), check_in=False
    )
    recorded = await store_answers(
        db, client, clock, q, answers, idempotency_key=idempotency_key, pinned=pinned
    )
    record = presenters.record(recorded, registry)
    record["risk_assessment"] = await db.run(
        assessment_service.fhir_risk_assessment, registry, recorded.id, base_url=settings.public_url
    )
    return health_data_response(
        record,
        status.HTTP_200_OK if recorded.replayed else status.HTTP_201_CREATED,
        headers=record_headers(recorded),
    )


@router.post(
    "/assessments/{assessment_id}/checkins/fhir",
    response_model=CheckinFromFhir,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": {"required": True, "content": {FHIR_JSON: _REQUEST_BODY}}},
    responses={
        200: {
            "model": CheckinFromFhir,
            "description": "A retry (the same Idempotency-Key, or the same answers as a"
            " check-in of the last CHECKIN_DUPLICATE_MINUTES): that check-in, with"
            " `Idempotency-Replayed: true`.",
        },
        201: {"description": "Stored."},
        **ASSESSMENT_ERRORS,
        403: {
            "model": ErrorResponse,
            "description": "A clinic key without the `checkins:write` scope (it may read only).",
        },
        409: {
            "model": ErrorResponse,
            "description": "The assessment has no exercise plan to follow up, or the"
            " Idempotency-Key was used with a different request.",
        },
        **_QR_ERRORS,
        429: {
            "model": ErrorResponse,
            "description": "CHECKINS_PER_DAY check-ins in the last 24 hours (`Retry-After`).",
        },
    },
    tags=["checkins", "fhir"],
    summary="Store a check-in sent as a QuestionnaireResponse",
    description="FHIR in: the same as `POST /assessments/{id}/checkins`, with the answers given"
    " as a FHIR R4 QuestionnaireResponse to `low-back-checkin` (its current version). The"
    " answer is the stored check-in, with `risk_assessment`, its FHIR RiskAssessment.",
)
async def create_checkin_from_fhir(
    assessment_id: str,
    client: ApiClientDep,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    settings: SettingsDep,
    body: Annotated[dict[str, Any], Body(media_type=FHIR_JSON, include_in_schema=False)],
    idempotency_key: Annotated[str | None, idempotency_key_header()],
) -> Response:
    q, answers, _ = _answers(
        registry, body, base_url=settings.public_url, today=clock().date(), check_in=True
    )
    stored = await store_checkin(
        db, registry, client, assessment_id, answers, idempotency_key=idempotency_key,
        clock=clock, limits=settings.limits.checkins, questionnaire_id=q.id, read_back=True,
    )  # fmt: skip
    assessment, recorded, checkin = stored.assessment, stored.recorded, stored.row
    assert checkin is not None  # just stored, or the one replayed
    stored_q = registry.exact(checkin.questionnaire_id, checkin.questionnaire_version)
    bundle = checkin_bundle(checkin, assessment, stored_q, base_url=settings.public_url)
    record = {
        **presenters.checkin_record(recorded, registry),
        "risk_assessment": fhir.bundle_resource(bundle, "RiskAssessment"),
    }
    return health_data_response(
        record,
        status.HTTP_200_OK if recorded.replayed else status.HTTP_201_CREATED,
        headers=checkin_headers(assessment, recorded),
    )
