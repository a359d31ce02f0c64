"""What the API's routes share: JSON and FHIR responses, and the error responses that the
OpenAPI document lists for them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Final

from fastapi import Depends, Request, Response, status

from app import codec
from app.deps import registry_of
from app.engine import BASE_LANGUAGE, Questionnaire
from app.errors import AppError
from app.services.questionnaires import (
    Registry,
    UnknownQuestionnaireError,
    VersionNotAcceptedError,
)

from .errors import field_problem
from .schemas.problems import ErrorResponse

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


ERRORS: dict[int | str, dict[str, Any]] = {
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
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such questionnaire."}
}
NOT_JSON: dict[int | str, dict[str, Any]] = {
    415: {
        "model": ErrorResponse,
        "description": "The body was not sent as JSON (`Content-Type: application/json`).",
    }
}


# On every response that carries answers or results: no cache (a browser's, a proxy's) keeps
# health data.
NO_STORE: Final = {"Cache-Control": "no-store"}


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        codec.dumps(content), status_code, headers=headers, media_type="application/json"
    )


def health_data_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """JSON with answers or results in it: never cached."""
    return json_response(content, status_code, {**NO_STORE, **(headers or {})})


async def requested_language(request: Request) -> str:
    """The offered language the request's ``Accept-Language`` prefers (English when none):
    the texts of questionnaires and results are sent in it where a translation exists, and the
    response names the language it used (``language``, ``Content-Language``). Read from the
    request, not declared as a parameter: the API document changes only by that field."""
    return registry_of(request).negotiate(request.headers.get("accept-language"))


LanguageDep = Annotated[str, Depends(requested_language)]


def language_headers(language: str = BASE_LANGUAGE) -> dict[str, str]:
    """The language of a response's texts; caches keep one per Accept-Language."""
    return {"Content-Language": language, "Vary": "Accept-Language"}


def questionnaire_or_404(
    registry: Registry, questionnaire_id: str, language: str | None = None
) -> Questionnaire:
    """For a questionnaire named in the path (in ``language`` where it has a translation into
    it): 404 when there is none."""
    return questionnaire_or_error(
        registry, questionnaire_id, status.HTTP_404_NOT_FOUND, ".", language
    )


def questionnaire_or_error(
    registry: Registry,
    questionnaire_id: str,
    status_code: int,
    then: str,
    language: str | None = None,
) -> Questionnaire:
    try:
        return registry.get(questionnaire_id, language)
    except UnknownQuestionnaireError:
        raise AppError(
            status_code,
            f"There is no questionnaire {questionnaire_id!r}{then}",
            [field_problem("questionnaire", "unknown_questionnaire", "no such questionnaire")],
        ) from None


def client_version(
    registry: Registry,
    questionnaire_id: str,
    version: str,
    *,
    today: date,
    language: str | None = None,
) -> Questionnaire:
    """The version an API client pinned, or a 422 naming the current version."""
    try:
        return registry.for_client(questionnaire_id, version, today, language)
    except VersionNotAcceptedError as exc:
        raise AppError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{exc.message}; nothing was stored.",
            [field_problem("questionnaire_version", "version_not_accepted", exc.message)],
        ) from None


def refuse_more_answers_than_questions(q: Questionnaire, answers: Mapping[str, Any]) -> None:
    """More answers than the questionnaire has questions cannot be a real interview; refused
    before the engine lists a problem for each one (a list as long as the body)."""
    if len(answers) > len(q.questions):
        raise too_many_answers(len(q.questions))


def too_many_answers(questions: int) -> AppError:
    """The 422 for more answers than the questionnaire has ``questions``."""
    return AppError(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        f"There are more answers than the questionnaire has questions ({questions}).",
        [field_problem("answers", "too_many", "has more entries than there are questions")],
    )
