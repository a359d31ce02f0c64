"""The questionnaires and the page-by-page interview (``next``): open to anyone, no key."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Body, Header, Response

from app import codec
from app.deps import ClockDep, RegistryDep, SettingsDep
from app.services import fhir, interview

from . import presenters
from .errors import ApiRoute
from .examples import SAFETY_ALL_NO
from .responses import (
    FHIR_JSON,
    NOT_FOUND,
    NOT_JSON,
    FhirResponse,
    LanguageDep,
    client_version,
    fhir_schema,
    health_data_response,
    json_response,
    language_headers,
    questionnaire_or_404,
    refuse_more_answers_than_questions,
)
from .schemas.interview import NextRequest, NextStep
from .schemas.problems import ErrorResponse
from .schemas.questionnaires import QuestionnaireDefinition, QuestionnaireList

router = APIRouter(route_class=ApiRoute)


@router.get(
    "/questionnaires",
    response_model=QuestionnaireList,
    tags=["questionnaires"],
    summary="List the questionnaires",
)
async def list_questionnaires(registry: RegistryDep, language: LanguageDep) -> Response:
    found = [registry.get(q.id, language) for q in registry.all()]
    return json_response(
        {
            "default": registry.default_id,
            "questionnaires": [presenters.summary(q) for q in found],
        },
        # Each says its language: one may have a translation that another has not.
        headers=language_headers(language)
        if all(q.language == language for q in found)
        else {"Vary": "Accept-Language"},
    )


@router.get(
    "/questionnaires/{questionnaire_id}",
    response_model=QuestionnaireDefinition,
    responses={
        200: {
            "content": {
                FHIR_JSON: {
                    "schema": fhir_schema("Questionnaire"),
                    "example": {"resourceType": "Questionnaire", "id": "low-back-audit"},
                }
            },
        },
        **NOT_FOUND,
    },
    tags=["questionnaires"],
    summary="A questionnaire's whole definition",
    description="Sections, pages and questions (type, options, range, unit, and the conditions"
    " that show them, as written), derived values, triage levels and rules, and the version."
    " Question ids and codes are a public contract: they are added to, never renamed."
    " This address is also the FHIR Questionnaire's canonical `url`: with"
    " `Accept: application/fhir+json` it answers with the FHIR Questionnaire (as"
    " `/questionnaires/{id}/fhir`).",
)
async def get_questionnaire(
    questionnaire_id: str,
    registry: RegistryDep,
    settings: SettingsDep,
    language: LanguageDep,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    q = questionnaire_or_404(registry, questionnaire_id)
    if wants_fhir(accept):
        # FHIR's own way: English, with every offered translation in each text's extension.
        resource = fhir.questionnaire_resource(
            q, base_url=settings.public_url, translations=registry.translations(q)
        )
        return FhirResponse(codec.dumps(resource), headers=VARY_ACCEPT)
    translated = registry.get(questionnaire_id, language)
    return json_response(
        presenters.definition(translated),
        headers={**language_headers(translated.language), **VARY_ACCEPT},
    )


# One address, two representations (and the texts in several languages): a cache must not give
# one to a client that asked for another.
VARY_ACCEPT: Final = {"Vary": "Accept, Accept-Language"}


def wants_fhir(accept: str | None) -> bool:
    """Whether the Accept header asks for FHIR JSON (``application/fhir+json``, or FHIR's
    ``application/json+fhir`` of DSTU2) before plain JSON: a FHIR client resolving the
    canonical URL sends one of these."""
    if not accept:
        return False
    for media_range in accept.split(","):
        media_type = media_range.split(";")[0].strip().lower()
        if media_type in (FHIR_JSON, "application/json+fhir"):
            return True
        if media_type in ("application/json", "*/*", "application/*"):
            return False
    return False


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
                        "version": "2.0.0",
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
        **NOT_FOUND,
    },
    response_class=FhirResponse,
    tags=["questionnaires", "fhir"],
    summary="A questionnaire as a FHIR R4 Questionnaire",
    description="Sections and pages are groups. Branching that enableWhen can say exactly is"
    " enableWhen; every other condition (the triage so far, derived values, the emergency stop)"
    " is an SDC enableWhenExpression in FHIRPath, with answers, derived values, triage rules and"
    " the triage level as root variables, so an SDC form filler asks what backaudit asks. Values"
    " the app gives (a release, a follow-up's plan) are hidden items in the group `context`.",
)
async def get_questionnaire_fhir(
    questionnaire_id: str, registry: RegistryDep, settings: SettingsDep
) -> Response:
    q = questionnaire_or_404(registry, questionnaire_id)
    resource = fhir.questionnaire_resource(
        q, base_url=settings.public_url, translations=registry.translations(q)
    )
    return FhirResponse(codec.dumps(resource))


@router.post(
    "/questionnaires/{questionnaire_id}/next",
    response_model=NextStep,
    responses={
        400: {"model": ErrorResponse, "description": "The body is not valid JSON."},
        **NOT_FOUND,
        **NOT_JSON,
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
    clock: ClockDep,
    language: LanguageDep,
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
    q = questionnaire_or_404(registry, questionnaire_id, language)
    if body.questionnaire_version is not None:
        q = client_version(
            registry, q.id, body.questionnaire_version, today=clock().date(), language=language
        )
    refuse_more_answers_than_questions(q, body.answers)
    # The translated questionnaire asks and decides exactly as the English one: only its
    # texts differ, so its page and result are the ones to send.
    return health_data_response(
        presenters.next_step(interview.standing(q, body.answers), registry),
        headers=language_headers(q.language),
    )
