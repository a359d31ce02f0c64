"""Storing and reading assessments: needs an API key (app/api/auth.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status

from app.clock import Clock
from app.deps import ClockDep, DbDep, RegistryDep, SettingsDep
from app.engine import AnswerError, Questionnaire, evaluate
from app.errors import AppError
from app.services import api_access, result_language
from app.services import assessments as assessment_service
from app.services.api_keys import Caller
from app.services.assessments import Recorded
from app.services.idempotency import IdempotencyConflictError
from app.services.questionnaires import Registry, UnknownQuestionnaireError

from . import presenters
from .access import ASSESSMENT_ERRORS, read_assessment
from .auth import ApiClientDep
from .errors import ApiRoute, field_problem, problem_dicts
from .examples import EXAMPLE_ANSWERS, EXAMPLE_RECORD, SAFETY_ALL_NO
from .idempotency import idempotency_key_header
from .responses import (
    ERRORS,
    FHIR_JSON,
    NO_STORE,
    NOT_JSON,
    FhirResponse,
    LanguageDep,
    client_version,
    fhir_schema,
    health_data_response,
    language_headers,
    questionnaire_or_error,
    refuse_more_answers_than_questions,
)
from .schemas.assessments import AssessmentCreate, AssessmentRecord
from .schemas.problems import ErrorResponse

router = APIRouter(route_class=ApiRoute)


@router.post(
    "/assessments",
    response_model=AssessmentRecord,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {
            "model": AssessmentRecord,
            "description": "A retry with the same Idempotency-Key and the same body: the record"
            " stored the first time (header `Idempotency-Replayed: true`).",
        },
        201: {"description": "Stored. `Location` is the record's address."},
        400: {"model": ErrorResponse, "description": "The body is not valid JSON."},
        **ERRORS,
        409: {
            "model": ErrorResponse,
            "description": "The Idempotency-Key was already used with a different body.",
        },
        **NOT_JSON,
        422: {
            "model": ErrorResponse,
            "description": "Answers missing, unknown, out of range or of the wrong type (every"
            " problem is listed, by question id), or a body of the wrong shape. Nothing is"
            " stored.",
        },
    },
    tags=["assessments"],
    summary="Assess a complete set of answers and store it",
    description="Send every answer (an early stop needs only the safety answers that gave the"
    " emergency sign). Answers to questions that branching hides are ignored and listed in"
    " `result.ignored_answers`. With an `Idempotency-Key` header, a retry of the same request"
    " returns the first record (200, same id) instead of storing a second one.",
)
async def create_assessment(
    client: ApiClientDep,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    language: LanguageDep,
    body: Annotated[
        AssessmentCreate,
        Body(
            openapi_examples={
                "self_care": {
                    "summary": "A complete set of answers",
                    "value": {"answers": EXAMPLE_ANSWERS},
                },
                "emergency": {
                    "summary": "An early stop: an emergency sign",
                    "value": {
                        "questionnaire": "low-back-audit",
                        "answers": {**SAFETY_ALL_NO, "saddle_numbness": True},
                    },
                },
            }
        ),
    ],
    idempotency_key: Annotated[
        str | None,
        idempotency_key_header(
            description="Any unique string up to 200 printable characters (a UUID is good)."
            " Retrying with the same key and body never stores twice.",
            examples=["5f2b6c1e-8d4a-4e8e-9a51-0c7f3e6d2b90"],
        ),
    ],
) -> Response:
    q = (
        registry.default
        if body.questionnaire is None
        else questionnaire_for_body(registry, body.questionnaire)
    )
    if body.questionnaire_version is not None:
        q = client_version(registry, q.id, body.questionnaire_version, today=clock().date())
    recorded = await store_answers(
        db,
        client,
        clock,
        q,
        body.answers,
        idempotency_key=idempotency_key,
        pinned=body.questionnaire_version is not None,
        language=language,
    )
    # Stored in English, the base language (staff read it); sent in the language asked for.
    result, used = result_language.assessment_result(
        registry, recorded.result, body.answers, language
    )
    return health_data_response(
        presenters.record(recorded, registry, result, used),
        status.HTTP_200_OK if recorded.replayed else status.HTTP_201_CREATED,
        headers={**record_headers(recorded), **language_headers(used)},
    )


async def store_answers(
    db: DbDep,
    client: Caller,
    clock: Clock,
    q: Questionnaire,
    answers: dict[str, Any],
    *,
    idempotency_key: str | None,
    pinned: bool,
    language: str = "en",
) -> Recorded:
    """Assess and store an API client's answers, and audit it: what JSON answers and a
    QuestionnaireResponse (app/api/fhir_in.py) share, errors and idempotency included.
    ``pinned``: the client named the version. ``language``: the one the client asked for
    (Accept-Language), kept with the record so that staff see it."""
    refuse_more_answers_than_questions(q, answers)
    try:
        recorded = await db.run(
            api_access.record_assessment,
            client,
            evaluate(q, answers),
            idempotency_key=idempotency_key,
            # A pinned version is part of the request: the same key with another pin is
            # another request (409), not a replay of the first.
            given=answers
            if not pinned
            else {"answers": answers, "questionnaire_version": q.version},
            now=clock(),
            language=language,
        )
    except AnswerError as exc:
        raise AppError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "The answers cannot produce a result; nothing was stored.",
            problem_dicts(exc.problems),
        ) from None
    except IdempotencyConflictError:
        raise AppError(
            status.HTTP_409_CONFLICT,
            "This Idempotency-Key was already used for a different request. Use a new key for"
            " new answers.",
            [field_problem("Idempotency-Key", "reused", "was used with a different body")],
        ) from None
    return recorded


def record_headers(recorded: Recorded) -> dict[str, str]:
    headers = {"Location": f"/api/v1/assessments/{recorded.id}"}
    if recorded.replayed:
        headers["Idempotency-Replayed"] = "true"
    return headers


def questionnaire_for_body(registry: Registry, questionnaire_id: str) -> Questionnaire:
    """For a questionnaire named in the body: 422, the request cannot be carried out."""
    q = questionnaire_or_error(
        registry, questionnaire_id, status.HTTP_422_UNPROCESSABLE_CONTENT, "; nothing was stored."
    )
    if q.follows is not None:
        # A check-in is about an assessment: its answers alone cannot be a result.
        raise AppError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{q.id!r} follows up an assessment: send it to /assessments/{{id}}/checkins;"
            " nothing was stored.",
            [field_problem("questionnaire", "follow_up", "send to /assessments/{id}/checkins")],
        )
    return q


@router.get(
    "/assessments/{assessment_id}",
    response_model=AssessmentRecord,
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE_RECORD}}},
        **ASSESSMENT_ERRORS,
    },
    tags=["assessments"],
    summary="A stored assessment",
    description="Readable by the API client that stored it, and by any API client of the same"
    " clinic (which also reads the clinic's intake submissions). Any other id answers 404.",
)
async def get_assessment(
    assessment_id: str,
    client: ApiClientDep,
    db: DbDep,
    registry: RegistryDep,
    language: LanguageDep,
) -> Response:
    assessment = await read_assessment(assessment_id, client, db, action="assessment.viewed")
    result, used = result_language.assessment_result(
        registry,
        assessment.result,
        assessment.answers,
        language,
        released=assessment.released_at is not None,
    )
    return health_data_response(
        presenters.record(assessment, registry, result, used), headers=language_headers(used)
    )


@router.get(
    "/assessments/{assessment_id}/fhir",
    responses={
        200: {
            "description": "A FHIR R4 Bundle (type collection): the QuestionnaireResponse, a"
            " RiskAssessment for the triage and its reasons, and one Observation per likely"
            " contributor.",
            "content": {
                FHIR_JSON: {
                    "schema": fhir_schema("Bundle"),
                    "example": {
                        "resourceType": "Bundle",
                        "type": "collection",
                        "entry": [
                            {
                                "fullUrl": "urn:uuid:…",
                                "resource": {"resourceType": "QuestionnaireResponse"},
                            },
                            {
                                "fullUrl": "urn:uuid:…",
                                "resource": {"resourceType": "RiskAssessment"},
                            },
                            {"fullUrl": "urn:uuid:…", "resource": {"resourceType": "Observation"}},
                        ],
                    },
                }
            },
        },
        **ASSESSMENT_ERRORS,
    },
    response_class=FhirResponse,
    tags=["assessments", "fhir"],
    summary="A stored assessment as FHIR R4",
)
async def get_assessment_fhir(
    assessment_id: str,
    client: ApiClientDep,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    assessment = await read_assessment(assessment_id, client, db, action="export.fhir")
    try:
        bundle = assessment_service.fhir_bundle_json(
            registry, assessment, base_url=settings.public_url
        )
    except UnknownQuestionnaireError:
        raise AppError(
            status.HTTP_404_NOT_FOUND,
            "This assessment's questionnaire is no longer available, so it cannot be exported.",
        ) from None
    return FhirResponse(bundle, headers=NO_STORE)
