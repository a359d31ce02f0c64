"""Follow-up check-ins of a stored assessment: same keys and rules as reading it."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Query, Response, status

from app import codec
from app.clock import Clock
from app.config import CheckinLimits
from app.deps import ClockDep, DbDep, RegistryDep, SettingsDep
from app.engine import BASE_LANGUAGE, AnswerError
from app.errors import AppError
from app.models import Assessment
from app.services import api_access, checkin_dates, interview
from app.services.api_access import StoredCheckin
from app.services.api_keys import Caller
from app.services.checkins import CheckinLimitError, CheckinNotPossibleError, RecordedCheckin
from app.services.idempotency import IdempotencyConflictError
from app.services.questionnaires import Registry

from . import presenters
from .access import ASSESSMENT_ERRORS, NOT_FOUND
from .auth import ApiClientDep
from .errors import ApiRoute, answer_problems, field_problem
from .examples import CHECKIN_ANSWERS, EXAMPLE_CHECKIN
from .idempotency import idempotency_key_header
from .responses import (
    FHIR_JSON,
    NO_STORE,
    NOT_JSON,
    FhirResponse,
    LanguageDep,
    fhir_schema,
    health_data_response,
    language_headers,
    too_many_answers,
)
from .schemas.checkins import CheckinCreate, CheckinList, CheckinRecord
from .schemas.interview import NextStep
from .schemas.problems import ErrorResponse

router = APIRouter(route_class=ApiRoute)

PAGE_SIZE: Final = 20  # check-ins in a page of the list, unless the client asks for fewer
# Each carries its plan and trend (25-36 kB): a page stays under a megabyte (it was 3.6 MB for
# 120 check-ins, all at once).
MAX_PAGE_SIZE: Final = 25

_BODY_EXAMPLES = {"checkin": {"summary": "A check-in", "value": {"answers": CHECKIN_ANSWERS}}}


def limit_reached(exc: CheckinLimitError, now: datetime) -> AppError:
    """A 429 that says when the next check-in is possible, and how long to wait."""
    when = exc.next_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    wait = max(1, math.ceil((exc.next_at - now).total_seconds()))
    return AppError(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"This assessment has had {exc.per_day} check-ins in the last 24 hours, the most"
        f" allowed; the next is possible from {when}. Nothing was stored.",
        [field_problem("assessment_id", "checkin_limit", f"next check-in possible from {when}")],
        headers={"Retry-After": str(wait)},
    )


@router.post(
    "/assessments/{assessment_id}/checkins",
    response_model=CheckinRecord,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {
            "model": CheckinRecord,
            "description": "A retry with the same Idempotency-Key (this key's), or the same"
            " answers as a check-in of the last CHECKIN_DUPLICATE_MINUTES: that check-in, with"
            " `Idempotency-Replayed: true`. Nothing new is stored or alerted.",
            "content": {"application/json": {"example": EXAMPLE_CHECKIN}},
        },
        201: {
            "description": "Stored.",
            "content": {"application/json": {"example": EXAMPLE_CHECKIN}},
        },
        **ASSESSMENT_ERRORS,
        **NOT_JSON,
        409: {
            "model": ErrorResponse,
            "description": "The assessment has no exercise plan to follow up, or the"
            " Idempotency-Key was used with a different body.",
        },
        403: {
            "model": ErrorResponse,
            "description": "A clinic key without the `checkins:write` scope (it may read only).",
        },
        422: {
            "model": ErrorResponse,
            "description": "Every problem with the answers, by id (ids that are not questions"
            " are counted in one problem about `answers`, not repeated).",
        },
        429: {
            "model": ErrorResponse,
            "description": "The assessment had CHECKINS_PER_DAY check-ins (default 3) in the"
            " last 24 hours: `Retry-After` (seconds) and the message say when the next is"
            " possible.",
        },
    },
    tags=["checkins"],
    summary="Store a follow-up check-in of an assessment",
    description="For an assessment with an exercise plan (self-care, or a programme a"
    " clinician released after review). Re-screens the warning signs (any red flag gives its"
    " level, as in the assessment), then moves each block of the plan up, down, the same or"
    " paused (at see-a-doctor only pauses apply; after an urgent sign there is no plan). The"
    " result's `plan` is the plan from then on. A key of no clinic stores check-ins of its own"
    " assessments; a clinic key needs the `checkins:write` scope.",
)
async def create_checkin(
    assessment_id: str,
    client: ApiClientDep,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    body: Annotated[CheckinCreate, Body(openapi_examples=_BODY_EXAMPLES)],
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, idempotency_key_header()],
    language: LanguageDep,
) -> Response:
    stored = await store_checkin(
        db, registry, client, assessment_id, body.answers,
        idempotency_key=idempotency_key, clock=clock, limits=settings.limits.checkins,
        language=language,
    )  # fmt: skip
    assessment, recorded, in_language = stored.assessment, stored.recorded, stored.in_language
    return health_data_response(
        presenters.checkin_record(recorded, registry, in_language),
        status.HTTP_200_OK if recorded.replayed else status.HTTP_201_CREATED,
        headers={**checkin_headers(assessment, recorded), **language_headers(in_language[1])},
    )


async def store_checkin(
    db: DbDep,
    registry: Registry,
    client: Caller,
    assessment_id: str,
    answers: dict[str, Any],
    *,
    idempotency_key: str | None,
    clock: Clock,
    limits: CheckinLimits,
    questionnaire_id: str | None = None,
    language: str = BASE_LANGUAGE,
    read_back: bool = False,
) -> StoredCheckin:
    """Store an API client's check-in (api_access.store_checkin), with the API's errors: what
    JSON answers and a QuestionnaireResponse (app/api/fhir_in.py, which names the check-in's
    questionnaire in ``questionnaire_id`` and builds its answer from the stored row:
    ``read_back``) share."""
    try:
        stored = await db.run(
            api_access.store_checkin, client, registry, assessment_id, answers,
            idempotency_key=idempotency_key, clock=clock, limits=limits,
            questionnaire_id=questionnaire_id, language=language, read_back=read_back,
        )  # fmt: skip
    except CheckinLimitError as exc:
        raise limit_reached(exc, clock()) from None
    except CheckinNotPossibleError as exc:
        raise not_possible(exc) from None
    except api_access.ScopeMissingError:
        raise AppError(
            status.HTTP_403_FORBIDDEN,
            "This API key reads the clinic's submissions but may not store check-ins: an admin"
            " can make a key with the checkins:write scope.",
            [field_problem("Authorization", "scope_missing", "needs the checkins:write scope")],
        ) from None
    except api_access.NotThisCheckinError:
        raise AppError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "This assessment's check-in is another questionnaire; nothing was stored.",
            [
                field_problem(
                    "questionnaire", "not_this_checkin", "is not this assessment's check-in"
                )
            ],
        ) from None
    except api_access.TooManyAnswersError as exc:
        raise too_many_answers(exc.questions) from None
    except AnswerError as exc:
        raise AppError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "The answers cannot produce a result; nothing was stored.",
            answer_problems(exc.problems),
        ) from None
    except IdempotencyConflictError:
        raise AppError(
            status.HTTP_409_CONFLICT,
            "This Idempotency-Key was already used for a different request.",
            [field_problem("Idempotency-Key", "reused", "was used with a different body")],
        ) from None
    if stored is None:
        raise AppError(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return stored


def not_possible(exc: CheckinNotPossibleError) -> AppError:
    """A 409: the assessment has no plan for check-ins to follow up."""
    return AppError(
        status.HTTP_409_CONFLICT,
        f"This assessment cannot have check-ins: {exc}.",
        [field_problem("assessment_id", "no_plan", str(exc))],
    )


def checkin_headers(assessment: Assessment, recorded: RecordedCheckin) -> dict[str, str]:
    headers = {"Location": f"/api/v1/assessments/{assessment.id}/checkins"}
    if recorded.replayed:
        headers["Idempotency-Replayed"] = "true"
    return headers


@router.get(
    "/assessments/{assessment_id}/checkins",
    response_model=CheckinList,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "checkins": [EXAMPLE_CHECKIN],
                        "next_due": "2026-12-22T09:30:00Z",
                        "total": 21,
                        "next": "/api/v1/assessments/0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11"
                        "/checkins?offset=20&limit=20",
                    }
                }
            }
        },
        **ASSESSMENT_ERRORS,
    },
    tags=["checkins"],
    summary="An assessment's check-ins, oldest first, a page at a time, and when the next is due",
    description=f"`limit` check-ins (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE}) from"
    ' `offset`; `next` (and a `Link: <...>; rel="next"` header) is the next page\'s address,'
    " null on the last page; `total` counts them all.",
)
async def list_checkins(
    assessment_id: str,
    client: ApiClientDep,
    db: DbDep,
    registry: RegistryDep,
    language: LanguageDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    read = await db.run(
        api_access.read_checkins,
        client,
        registry,
        assessment_id,
        language=language,
        offset=offset,
        limit=limit,
    )
    if read is None:
        raise AppError(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    assessment, found, total = read.assessment, read.checkins, read.total
    # One language for the page when every check-in could be given in it.
    used = {lang for _, lang in read.in_language}
    due = checkin_dates.next_due(assessment, total)
    following = None
    headers = {}
    if offset + len(found) < total:
        following = (
            f"/api/v1/assessments/{assessment.id}/checkins"
            f"?offset={offset + len(found)}&limit={limit}"
        )
        headers["Link"] = f'<{following}>; rel="next"'
    return health_data_response(
        {
            "checkins": [
                presenters.checkin_record(c, registry, made)
                for c, made in zip(found, read.in_language, strict=True)
            ],
            "next_due": None if due is None else due.isoformat().replace("+00:00", "Z"),
            "total": total,
            "next": following,
        },
        headers={
            **headers,
            **(language_headers(used.pop()) if len(used) == 1 else language_headers(language)),
        },
    )


@router.get(
    "/assessments/{assessment_id}/checkins/{checkin_id}/fhir",
    responses={
        200: {
            "description": "A FHIR R4 Bundle: the check-in's QuestionnaireResponse, a"
            " RiskAssessment for its triage, and Observations for pain (LOINC 72514-3) and the"
            " PEG items and score.",
            "content": {
                FHIR_JSON: {
                    "schema": fhir_schema("Bundle"),
                    "example": {
                        "resourceType": "Bundle",
                        "type": "collection",
                        "entry": [
                            {"resource": {"resourceType": "QuestionnaireResponse"}},
                            {"resource": {"resourceType": "RiskAssessment"}},
                            {"resource": {"resourceType": "Observation"}},
                        ],
                    },
                }
            },
        },
        **ASSESSMENT_ERRORS,
    },
    response_class=FhirResponse,
    tags=["checkins", "fhir"],
    summary="A check-in as FHIR R4",
)
async def get_checkin_fhir(
    assessment_id: str,
    checkin_id: str,
    client: ApiClientDep,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    read = await db.run(
        api_access.export_checkin,
        client,
        registry,
        assessment_id,
        checkin_id,
        base_url=settings.public_url,
    )
    if read.assessment is None:
        raise AppError(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    if read.checkin is None:
        raise AppError(status.HTTP_404_NOT_FOUND, "There is no such check-in.")
    if read.bundle is None:
        raise AppError(status.HTTP_404_NOT_FOUND, "This check-in's questionnaire is not loaded.")
    return FhirResponse(codec.dumps(read.bundle), headers=NO_STORE)


@router.post(
    "/assessments/{assessment_id}/checkins/next",
    response_model=NextStep,
    responses={
        200: {"content": {"application/json": {"example": {"complete": False, "page": "…"}}}},
        **ASSESSMENT_ERRORS,
        **NOT_JSON,
        409: {"model": ErrorResponse, "description": "No plan to follow."},
    },
    tags=["checkins"],
    summary="Drive a check-in one page at a time (stores nothing)",
    description="As `POST /questionnaires/{id}/next`, for a check-in of this assessment: the"
    " pages shown depend on its current plan. Once complete, `result` is what storing it"
    " would give (plan, changes and trend included).",
)
async def next_checkin_page(
    assessment_id: str,
    client: ApiClientDep,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    body: Annotated[CheckinCreate, Body(openapi_examples=_BODY_EXAMPLES)],
    language: LanguageDep,
) -> Response:
    try:
        step = await db.run(
            api_access.next_checkin_step,
            client,
            registry,
            assessment_id,
            body.answers,
            clock=clock,
            language=language,
        )
    except api_access.TooManyAnswersError as exc:
        raise too_many_answers(exc.questions) from None
    except CheckinNotPossibleError as exc:
        raise not_possible(exc) from None
    if step is None:
        raise AppError(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    evaluation, result = step.evaluation, step.result
    finished = evaluation if evaluation.stopped or evaluation.complete else None
    page = presenters.next_step(interview.Standing(evaluation, finished), registry)
    page["problems"] = answer_problems(evaluation.problems)
    if result is not None:
        page["result"] = result
    return health_data_response(page, headers=language_headers(evaluation.questionnaire.language))
