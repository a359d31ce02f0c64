"""Error pages for people (404, 410 for an intake link that is gone, 403 for a failed form
check). Paths under /api keep FastAPI's JSON answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from .entry import LinkGonePageError
from .pages import CsrfError, render

TITLES = {
    400: "Sorry, there is a problem with that request",
    403: "Sorry, you cannot do that",
    404: "Page not found",
    405: "Sorry, you cannot do that",
}


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


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, page_error)
    app.add_exception_handler(LinkGonePageError, link_gone)
    app.add_exception_handler(CsrfError, csrf_failed)
