"""Error pages for people (404, 410 for an intake link that is gone, 403 for a failed form
check, 503 while the database cannot be reached). Paths under /api keep JSON answers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.api.errors import error_response

from .entry import LinkGonePageError
from .pages import CsrfError, render

TITLES = {
    400: "Sorry, there is a problem with that request",
    403: "Sorry, you cannot do that",
    404: "Page not found",
    405: "Sorry, you cannot do that",
    503: "Sorry, the service is not working just now",
}
RETRY_AFTER_SECONDS = "30"


async def page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api"):
        return await http_exception_handler(request, exc)
    response = render(
        request,
        "error.html",
        {
            "status": exc.status_code,
            "title": TITLES.get(exc.status_code, "Sorry, there is a problem"),
        },
        status_code=exc.status_code,
    )
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def link_gone(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LinkGonePageError)
    return render(
        request,
        "web/link_gone.html",
        {"reason": exc.reason, "clinic_name": exc.clinic_name},
        status_code=410,
    )


async def csrf_failed(request: Request, exc: Exception) -> Response:
    return render(request, "web/form_expired.html", {}, status_code=403)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database cannot be reached, is locked for too long, or has no free connection: a
    503 that says to try again, not a bare 500. Logged by class only: never a statement."""
    cause = getattr(exc, "orig", None) or exc
    logging.getLogger("backaudit").error(
        "database unavailable: %s.%s", type(cause).__module__, type(cause).__name__
    )
    headers = {"Retry-After": RETRY_AFTER_SECONDS}
    if request.url.path.startswith("/api"):
        return error_response(
            503,
            "The database cannot be reached just now. Try again shortly; with the same"
            " Idempotency-Key a retry never stores twice.",
            headers=headers,
        )
    response = render(request, "error.html", {"status": 503, "title": TITLES[503]}, status_code=503)
    response.headers.update(headers)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, page_error)
    app.add_exception_handler(LinkGonePageError, link_gone)
    app.add_exception_handler(CsrfError, csrf_failed)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(PoolTimeoutError, database_unavailable)
