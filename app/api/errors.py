"""One error shape for the whole API: ``{"detail": "...", "problems": [...]}``.

Each problem names what it is about: ``question`` (an answer, by question id) or ``field`` (a
part of the request: a body field, a header, or ``body`` itself), with a machine-readable
``code`` and a message. Values that were sent are never echoed back or logged.
"""

from __future__ import annotations

import email.message
from collections.abc import Iterable, Sequence
from typing import Any, Final

from fastapi import Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.status import (
    HTTP_400_BAD_REQUEST,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_422_UNPROCESSABLE_CONTENT,
)

from app.engine import AnswerProblem

from app.codec import dumps

API_PREFIX: Final = "/api/"
# pydantic's error types, in the words our problems use.
_CODES: Final = {
    "missing": "required",
    "json_invalid": "invalid_json",
    "extra_forbidden": "unknown_field",
    "dict_type": "wrong_type",
    "model_attributes_type": "wrong_type",
    "string_type": "wrong_type",
    "string_too_long": "too_long",
}


def problem_dicts(problems: Iterable[AnswerProblem]) -> list[dict[str, str]]:
    return [p.as_dict() for p in problems]


def field_problem(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


class ApiError(Exception):
    """Raised by API routes; answered as JSON in the API's error shape."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        problems: Sequence[dict[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.problems = list(problems)
        self.headers = headers


def error_response(
    status_code: int,
    detail: str,
    problems: Sequence[dict[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    body = dumps({"detail": detail, "problems": list(problems)})
    return Response(body, status_code, headers=headers, media_type="application/json")


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.detail, exc.problems, exc.headers)


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own 422s (a body that is not the right shape), in the API's error shape.
    Other parts of the site keep FastAPI's default."""
    assert isinstance(exc, RequestValidationError)
    if not request.url.path.startswith(API_PREFIX):
        return await request_validation_exception_handler(request, exc)
    errors: list[dict[str, Any]] = list(exc.errors())
    if _sent_a_body_that_is_not_json(request, errors):
        return error_response(
            HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "The request body must be sent as JSON, with the header"
            " `Content-Type: application/json`.",
            [field_problem("Content-Type", "unsupported_media_type", "must be application/json")],
        )
    problems = [_problem(error) for error in errors]
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(HTTP_400_BAD_REQUEST, "The request body is not valid JSON.", problems)
    return error_response(
        HTTP_422_UNPROCESSABLE_CONTENT, "The request does not have the expected shape.", problems
    )


def is_json_media_type(content_type: str | None) -> bool:
    """application/json or application/...+json, parameters allowed: what FastAPI reads as JSON."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _sent_a_body_that_is_not_json(request: Request, errors: list[dict[str, Any]]) -> bool:
    """FastAPI parses a body as JSON only when the Content-Type says so; any other body (even
    valid JSON sent as text/plain, or with no Content-Type) reaches validation as bytes and fails
    as "not a valid dictionary", which would point at the wrong thing. A missing body is left to
    the usual "required" problem."""
    if is_json_media_type(request.headers.get("content-type")):
        return False
    return any(
        error.get("loc", ())[:1] == ("body",) and error.get("type") != "missing" for error in errors
    )


def _problem(error: dict[str, Any]) -> dict[str, str]:
    loc = [str(part) for part in error.get("loc", ())]
    where = loc[0] if loc else "body"
    path = loc[1:]
    if where == "header" and path:
        field = "-".join(word.capitalize() for word in path[0].split("-"))
    elif path:
        field = ".".join(path)
    else:
        field = where
    kind = str(error.get("type", "invalid"))
    message = str(error.get("msg", "is not valid"))
    if kind == "json_invalid":
        message = "is not valid JSON"
        field = "body"
    return field_problem(field, _CODES.get(kind, kind), message)
