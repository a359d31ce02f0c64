"""One error shape for the whole API: ``{"detail": "...", "problems": [...]}``.

Each problem names what it is about: ``question`` (an answer, by question id) or ``field`` (a
part of the request: a body field, a header, or ``body`` itself), with a machine-readable
``code`` and a message. Values that were sent are never echoed back or logged.
"""

from __future__ import annotations

import email.message
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.status import (
    HTTP_400_BAD_REQUEST,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_422_UNPROCESSABLE_CONTENT,
)
from starlette.types import Receive, Scope, Send

from app.codec import dumps
from app.engine import AnswerProblem
from app.errors import DATABASE_UNAVAILABLE, AppError, DatabaseUnavailableError, log_unavailable

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


def answer_problems(problems: Iterable[AnswerProblem]) -> list[dict[str, str]]:
    """Problems by question id, but ids that are no question at all counted in one problem
    about ``answers``: a response never repeats (or multiplies) the ids a client made up."""
    problems = list(problems)
    unknown = sum(1 for p in problems if p.code == "unknown_question")
    listed = [p.as_dict() for p in problems if p.code != "unknown_question"]
    if unknown:
        what = "id that is not a question" if unknown == 1 else "ids that are not questions"
        listed.append(
            field_problem(
                "answers",
                "unknown_question",
                f"has {unknown} {what} of this questionnaire (its definition lists the ids)",
            )
        )
    return listed


def field_problem(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def error_response(
    status_code: int,
    detail: str,
    problems: Sequence[dict[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = dumps({"detail": detail, "problems": list(problems)})
    return Response(body, status_code, headers=headers, media_type="application/json")


def problem_response(error: AppError) -> Response:
    return error_response(error.status_code, error.message, error.problems, error.headers)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    problems = []
    if exc.status_code == HTTP_400_BAD_REQUEST:
        # FastAPI's own, for a body its JSON reader gave up on (nested too deep, a number too
        # long): the same problem as any other body that is not JSON.
        problems = [field_problem("body", "invalid_json", "is not valid JSON")]
    return error_response(exc.status_code, str(exc.detail), problems, exc.headers)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(request, exc)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    log_unavailable(exc)
    unavailable = DatabaseUnavailableError()
    unavailable.message += " With the same Idempotency-Key a retry never stores twice."
    return problem_response(unavailable)


API_HANDLERS: Final[dict[Any, Callable[[Request, Exception], Awaitable[Response]]]] = {
    AppError: _app_error,
    StarletteHTTPException: _http_error,
    RequestValidationError: _invalid_request,
    **dict.fromkeys(DATABASE_UNAVAILABLE, _database_unavailable),
}


class ApiRoute(APIRoute):
    """The API's routes render the application's errors in the API's shape: the pages' HTML
    handlers never see them. The API's handlers replace the app's for these routes only; the
    error still leaves the route as an exception, so the request's session rolls back
    (app/deps.py), and an error in the commit itself is answered in the same shape."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        handlers, status_handlers = scope.get("starlette.exception_handlers", ({}, {}))
        scope["starlette.exception_handlers"] = ({**handlers, **API_HANDLERS}, status_handlers)
        await super().handle(scope, receive, send)


def validation_problem(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's own 422s (a body that is not the right shape), in the API's error shape."""
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
