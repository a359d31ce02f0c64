"""The pages' way of showing errors: an HTML page for people (404, 410 for an intake link that
is gone, 403 for a failed form check, 503 while the database cannot be reached). The API's
routes render the same errors as JSON themselves (app/api/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.errors import DATABASE_UNAVAILABLE, AppError, DatabaseUnavailableError, log_unavailable
from app.i18n import N_, gettext
from app.services import corrections

from .entry import CorrectionClosedPageError, LinkGonePageError
from .pages import CsrfError, redirect, render

TITLES = {
    400: N_("Sorry, there is a problem with that request"),
    403: N_("Sorry, you cannot do that"),
    404: N_("Page not found"),
    405: N_("Sorry, you cannot do that"),
    413: N_("Sorry, that was more than this site accepts"),
    422: N_("Sorry, there is a problem with that request"),
    429: N_("Sorry, too many answers have been sent from here"),
    503: N_("Sorry, the service is not working just now"),
}


def error_page(
    request: Request,
    status_code: int,
    headers: Mapping[str, str] | None,
    message: str | None = None,
) -> Response:
    """``message``: what to put right, from an AppError (never from what was sent)."""
    response = render(
        request,
        "error.html",
        {
            "status": status_code,
            "title": gettext(TITLES.get(status_code, N_("Sorry, there is a problem"))),
            # A message marked where it was raised (N_) is translated here; one already
            # translated there is not in the catalog, and stays as it is.
            "message": gettext(message).rstrip(".") if message else None,
        },
        status_code=status_code,
    )
    response.headers.update(headers or {})
    return response


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    # A 4xx says what was wrong; the HTTP phrase alone ("Not Found") adds nothing to the title.
    said = exc.message if exc.message != HTTPStatus(exc.status_code).phrase else None
    return error_page(
        request, exc.status_code, exc.headers, said if exc.status_code < 500 else None
    )


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own: no route for the path, or not for the method."""
    assert isinstance(exc, StarletteHTTPException)
    return error_page(request, exc.status_code, exc.headers)


async def invalid_request(request: Request, exc: Exception) -> Response:
    """A form or query that is not of the expected shape (a field too long, a wrong type). Not
    FastAPI's default, which echoes what was sent: a password, or a patient's answer."""
    return error_page(request, 422, None)


async def link_gone(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LinkGonePageError)
    return render(
        request,
        "web/link_gone.html",
        {
            "reason": exc.reason,
            "clinic_name": exc.clinic.name if exc.clinic else None,
            "clinic": exc.clinic,
        },
        status_code=410,
    )


async def correction_closed(request: Request, exc: Exception) -> Response:
    """Changing answers of a result that cannot be changed. Replaced in another tab, or never
    offered: the result page, which shows the newest result. Too late, or the clinic has it:
    a page that says so, and what to do instead."""
    assert isinstance(exc, CorrectionClosedPageError)
    if exc.back_to_result:
        return redirect(exc.result_url)
    return render(
        request,
        "web/correction_closed.html",
        {
            "reason": exc.reason,
            "result_url": exc.result_url,
            "clinic": exc.clinic,
            "clinic_name": exc.clinic.name if exc.clinic else None,
            "window_minutes": corrections.CORRECTION_WINDOW // timedelta(minutes=1),
        },
        status_code=409,
    )


async def csrf_failed(request: Request, exc: Exception) -> Response:
    return render(request, "web/form_expired.html", {}, status_code=403)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """A 503 that says to try again, not a bare 500."""
    log_unavailable(exc)
    return await app_error(request, DatabaseUnavailableError())


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(LinkGonePageError, link_gone)
    app.add_exception_handler(CorrectionClosedPageError, correction_closed)
    app.add_exception_handler(CsrfError, csrf_failed)
    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, database_unavailable)
