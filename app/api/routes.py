"""JSON API v1 for other apps (mounted at /api/v1).

Questionnaires and the page-by-page interview (``next``) are open to anyone; storing and reading
assessments needs an API key. Routes are thin: the engine and the services do the work, and the
route decides the status code and commits.

The routes are ``async def`` (see app/api/deps.py: no thread-pool hop per dependency), and
database work goes through ``run_db``: inline for SQLite, on asyncio for PostgreSQL. The two
statements nearly every request needs, the API-key lookup and storing a new assessment, are
done for all concurrent requests together (app/api/batches.py).

Hot paths answer with a ready-made JSON ``Response``: the result is the engine's own object, so
running it through the response model again would only cost time. The models still document
every response in the OpenAPI document, and the tests check real responses against them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Header, Request, Response, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.engine import AnswerError, Questionnaire
from app.models import Assessment
from app.services import assessments as assessment_service
from app.services import fhir
from app.services.api_keys import Caller
from app.services.assessments import Recorded
from app.services.questionnaires import Registry, UnknownQuestionnaireError

from . import presenters
from .auth import ApiClientDep
from .batches import BatchesDep
from .deps import (
    ApiSession,
    RegistryDep,
    SessionDep,
    SettingsDep,
    open_session,
    run_db,
)
from .encoding import dumps
from .errors import ApiError, field_problem, problem_dicts
from .openapi import api_openapi
from .schemas import (
    EXAMPLE_ANSWERS,
    EXAMPLE_RECORD,
    SAFETY_ALL_NO,
    AssessmentCreate,
    AssessmentRecord,
    ErrorResponse,
    NextRequest,
    NextStep,
    QuestionnaireDefinition,
    QuestionnaireList,
)

router = APIRouter()

FHIR_JSON: Final = "application/fhir+json"


class FhirResponse(Response):
    media_type = FHIR_JSON


def fhir_schema(resource_type: str) -> dict[str, Any]:
    """FHIR resources are described by FHIR's own schema; here only the resource type."""
    return {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "const": resource_type}},
        "externalDocs": {"url": f"https://hl7.org/fhir/R4/{resource_type.lower()}.html"},
    }


# Printable ASCII without spaces, like the keys clients generate (UUIDs, ULIDs, random tokens).
IDEMPOTENCY_KEY: Final = re.compile(r"^[\x21-\x7e]{1,200}$")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No API key, or a key that is not valid."},
    # Every endpoint that needs a key uses the database (app/web/errors.py answers this).
    503: {
        "model": ErrorResponse,
        "description": "The database cannot be reached just now. Try again after `Retry-After`"
        " seconds; with the same Idempotency-Key a retry never stores twice.",
        "headers": {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
        },
    },
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such questionnaire."}
}
_NOT_JSON: dict[int | str, dict[str, Any]] = {
    415: {
        "model": ErrorResponse,
        "description": "The body was not sent as JSON (`Content-Type: application/json`).",
    }
}


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(dumps(content), status_code, headers=headers, media_type="application/json")


def _questionnaire(registry: Registry, questionnaire_id: str) -> Questionnaire:
    try:
        return registry.get(questionnaire_id)
    except UnknownQuestionnaireError:
        raise ApiError(
            status.HTTP_404_NOT_FOUND,
            f"There is no questionnaire {questionnaire_id!r}.",
            [field_problem("questionnaire", "unknown_questionnaire", "no such questionnaire")],
        ) from None


# -- questionnaires ------------------------------------------------------------------------------


@router.get(
    "/questionnaires",
    response_model=QuestionnaireList,
    tags=["questionnaires"],
    summary="List the questionnaires",
)
async def list_questionnaires(registry: RegistryDep) -> Response:
    return json_response(
        {
            "default": registry.default_id,
            "questionnaires": [presenters.summary(q) for q in registry.all()],
        }
    )


@router.get(
    "/questionnaires/{questionnaire_id}",
    response_model=QuestionnaireDefinition,
    responses=_NOT_FOUND,
    tags=["questionnaires"],
    summary="A questionnaire's whole definition",
    description="Sections, pages and questions (type, options, range, unit, and the conditions"
    " that show them, as written), derived values, triage levels and rules, and the version."
    " Question ids and codes are a public contract: they are added to, never renamed.",
)
async def get_questionnaire(questionnaire_id: str, registry: RegistryDep) -> Response:
    return json_response(presenters.definition(_questionnaire(registry, questionnaire_id)))


@router.get(
    "/questionnaires/{questionnaire_id}/fhir",
    responses={
        200: {
            "description": "A FHIR R4 Questionnaire resource.",
            "content": {
                FHIR_JSON: {
                    "schema": fhir_schema("Questionnaire"),
                    "example": {
                        "resourceType": "Questionnaire",
                        "id": "low-back-audit",
                        "url": "http://127.0.0.1:8000/api/v1/questionnaires/low-back-audit",
                        "version": "1.0.0",
                        "status": "active",
                        "item": [
                            {
                                "linkId": "section-safety",
                                "type": "group",
                                "text": "Safety check",
                                "item": ["…"],
                            }
                        ],
                    },
                }
            },
        },
        **_NOT_FOUND,
    },
    response_class=FhirResponse,
    tags=["questionnaires", "fhir"],
    summary="A questionnaire as a FHIR R4 Questionnaire",
    description="Sections and pages are groups. Branching that FHIR can express is given as"
    " enableWhen; conditions it cannot express (the triage so far, derived values) are given"
    " as written in the extension `urn:backaudit:fhir:extension:enable-condition`.",
)
async def get_questionnaire_fhir(
    questionnaire_id: str, registry: RegistryDep, settings: SettingsDep
) -> Response:
    q = _questionnaire(registry, questionnaire_id)
    resource = fhir.questionnaire_resource(q, base_url=settings.public_url)
    return FhirResponse(dumps(resource))


@router.post(
    "/questionnaires/{questionnaire_id}/next",
    response_model=NextStep,
    responses={
        400: {"model": ErrorResponse, "description": "The body is not valid JSON."},
        **_NOT_FOUND,
        **_NOT_JSON,
        422: {"model": ErrorResponse, "description": "The body is not an object of answers."},
    },
    tags=["interview"],
    summary="The next page of questions, for the answers so far",
    description="Stateless: send every answer given so far, get the next page to show."
    " Partial answers are normal here, so the answer is 200 even when an answer has a problem:"
    " problems (unknown question ids, values of the wrong type or out of range) are listed in"
    " `problems`, and the page that holds the first one is the next page, so the person can"
    " correct it. When an emergency sign is given, the interview stops at once: `complete` is"
    " true, there is no next page, and `result` holds the emergency advice (even if another"
    " answer has a problem: the emergency advice never waits). Nothing is stored. No key"
    " needed.",
)
async def next_page(
    questionnaire_id: str,
    registry: RegistryDep,
    body: Annotated[
        NextRequest,
        Body(
            openapi_examples={
                "start": {"summary": "Starting: no answers yet", "value": {"answers": {}}},
                "partway": {
                    "summary": "Part way through the safety check",
                    "value": {
                        "answers": {
                            "saddle_numbness": False,
                            "bladder_change": False,
                            "bowel_change": False,
                        }
                    },
                },
                "emergency": {
                    "summary": "An emergency sign: the interview stops",
                    "value": {"answers": {"saddle_numbness": True}},
                },
                "problem": {
                    "summary": "An answer with a problem",
                    "value": {"answers": {**SAFETY_ALL_NO, "age": 300}},
                },
            }
        ),
    ],
) -> Response:
    q = _questionnaire(registry, questionnaire_id)
    return json_response(presenters.next_step(q, body.answers))


# -- assessments ---------------------------------------------------------------------------------


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
        **_ERRORS,
        409: {
            "model": ErrorResponse,
            "description": "The Idempotency-Key was already used with a different body.",
        },
        **_NOT_JSON,
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
    request: Request,
    client: ApiClientDep,
    batches: BatchesDep,
    registry: RegistryDep,
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
        Header(
            description="Any unique string up to 200 printable characters (a UUID is good)."
            " Retrying with the same key and body never stores twice.",
            examples=["5f2b6c1e-8d4a-4e8e-9a51-0c7f3e6d2b90"],
        ),
    ] = None,
) -> Response:
    q = (
        registry.default
        if body.questionnaire is None
        else _questionnaire_for_body(registry, body.questionnaire)
    )
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ApiError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "The Idempotency-Key header is not valid.",
            [field_problem("Idempotency-Key", "invalid", "must be 1 to 200 printable characters")],
        )
    if idempotency_key is not None:
        # Looked up, stored and raced for on a session of its own. (None is opened for the
        # common case without a key: opening one cost about 8% of a request.)
        async with open_session(request) as session:
            return await run_db(session, _store, q, body.answers, client, idempotency_key)
    try:
        prepared = assessment_service.prepare_assessment(
            q, body.answers, channel="api", api_client_id=client.id, clinic_id=client.clinic_id
        )
    except AnswerError as exc:
        raise _answers_error(exc) from None
    # Stored together with other requests' new assessments (app/api/batches.py).
    return _created(await batches.store(prepared))


def _answers_error(exc: AnswerError) -> ApiError:
    return ApiError(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        "The answers cannot produce a result; nothing was stored.",
        problem_dicts(exc.problems),
    )


def _created(recorded: Recorded) -> Response:
    return json_response(
        presenters.record(recorded),
        status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/assessments/{recorded.id}"},
    )


def _store(
    session: Session,
    q: Questionnaire,
    answers: dict[str, Any],
    client: Caller,
    idempotency_key: str | None,
) -> Response:
    """With an Idempotency-Key: assess and store in one transaction, or replay an earlier record.

    Race-safe: two requests with the same key can both find no earlier record; the unique
    constraint on (api_client_id, idempotency_key) lets only one insert, and the other rolls
    back and answers with the winner's record."""
    fingerprint = None
    if idempotency_key is not None:
        fingerprint = assessment_service.request_hash(q.id, answers)
        earlier = assessment_service.find_by_idempotency_key(
            session, api_client_id=client.id, idempotency_key=idempotency_key
        )
        if earlier is not None:
            return _replay(earlier, fingerprint)
    try:
        recorded = assessment_service.record_assessment(
            session,
            q,
            answers,
            channel="api",
            api_client_id=client.id,
            clinic_id=client.clinic_id,
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
        )
        session.commit()
    except AnswerError as exc:
        session.rollback()
        raise _answers_error(exc) from None
    except IntegrityError:
        session.rollback()
        if idempotency_key is None or fingerprint is None:
            raise
        winner = assessment_service.find_by_idempotency_key(
            session, api_client_id=client.id, idempotency_key=idempotency_key
        )
        if winner is None:
            raise
        return _replay(winner, fingerprint)
    return _created(recorded)


def _questionnaire_for_body(registry: Registry, questionnaire_id: str) -> Questionnaire:
    try:
        return registry.get(questionnaire_id)
    except UnknownQuestionnaireError:
        raise ApiError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"There is no questionnaire {questionnaire_id!r}; nothing was stored.",
            [field_problem("questionnaire", "unknown_questionnaire", "no such questionnaire")],
        ) from None


def _replay(earlier: Assessment, fingerprint: str) -> Response:
    if earlier.request_hash != fingerprint:
        raise ApiError(
            status.HTTP_409_CONFLICT,
            "This Idempotency-Key was already used for a different request. Use a new key for"
            " new answers.",
            [field_problem("Idempotency-Key", "reused", "was used with a different body")],
        )
    return json_response(
        presenters.record(earlier),
        status.HTTP_200_OK,
        headers={
            "Location": f"/api/v1/assessments/{earlier.id}",
            "Idempotency-Replayed": "true",
        },
    )


_ASSESSMENT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {
        "model": ErrorResponse,
        "description": "No assessment with this id that this key may read.",
    },
}


async def _readable(assessment_id: str, client: Caller, session: ApiSession) -> Assessment:
    assessment = await run_db(
        session,
        assessment_service.get_for_api_client,
        assessment_id=assessment_id,
        api_client_id=client.id,
        clinic_id=client.clinic_id,
    )
    if assessment is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "There is no such assessment.")
    return assessment


@router.get(
    "/assessments/{assessment_id}",
    response_model=AssessmentRecord,
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE_RECORD}}},
        **_ASSESSMENT_ERRORS,
    },
    tags=["assessments"],
    summary="A stored assessment",
    description="Readable by the API client that stored it, and by any API client of the same"
    " clinic (which also reads the clinic's intake submissions). Any other id answers 404.",
)
async def get_assessment(assessment_id: str, client: ApiClientDep, session: SessionDep) -> Response:
    return json_response(presenters.record(await _readable(assessment_id, client, session)))


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
        **_ASSESSMENT_ERRORS,
    },
    response_class=FhirResponse,
    tags=["assessments", "fhir"],
    summary="A stored assessment as FHIR R4",
)
async def get_assessment_fhir(
    assessment_id: str,
    client: ApiClientDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    assessment = await _readable(assessment_id, client, session)
    try:
        q = registry.get(assessment.questionnaire_id)
    except UnknownQuestionnaireError:
        raise ApiError(
            status.HTTP_404_NOT_FOUND,
            "This assessment's questionnaire is no longer available, so it cannot be exported.",
        ) from None
    bundle = fhir.assessment_bundle(assessment, q, base_url=settings.public_url)
    return FhirResponse(dumps(bundle))


# -- the OpenAPI document ------------------------------------------------------------------------


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> Response:
    return json_response(api_openapi(request.app))
