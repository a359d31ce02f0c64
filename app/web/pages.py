"""Rendering patient pages, their cookies, and the CSRF check every form post goes through.

CSRF: each visitor gets a random value in an HttpOnly cookie; forms carry an HMAC of it
(app.security.sign) in a hidden field. Another site can make a browser send the cookie, but it
cannot read it, so it cannot make the matching field.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, Request
from starlette.datastructures import FormData as StarletteForm
from starlette.responses import RedirectResponse, Response

from app.config import HelpLines
from app.deps import settings_of
from app.errors import AppError
from app.security import new_token, sign, verify
from app.templating import templates

from .forms import FormData

CSRF_COOKIE: Final = "ba_csrf"
CSRF_FIELD: Final = "csrf_token"
CSRF_PURPOSE: Final = "patient-form"
DRAFT_COOKIE_AGE: Final = 7 * 24 * 3600  # as long as a draft is kept (app/services/drafts.py)


class CsrfError(AppError):
    """A form post without a valid CSRF field; answered with a friendly 403 page."""

    def __init__(self) -> None:
        super().__init__(403, "The form had expired")


def set_cookie(
    response: Response, request: Request, name: str, value: str, *, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings_of(request).environment == "production",
    )


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """A page; with a CSRF field for its forms, and never stored by caches (answers, results)."""
    settings = settings_of(request)
    visitor = request.cookies.get(CSRF_COOKIE)
    fresh = None
    if not visitor:
        visitor = fresh = new_token()
    context.setdefault("csrf_token", sign(settings.secret_key, CSRF_PURPOSE, visitor))
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    if fresh:
        set_cookie(response, request, CSRF_COOKIE, fresh)
    response.headers["Cache-Control"] = "no-store"
    return response


def page_html(template: str, context: dict[str, Any], help_lines: HelpLines) -> str:
    """A page as HTML text, outside a response (for a PDF): no request, no forms; so the help
    lines every page may show are given here; it is in the current language (for a PDF, the
    result page's), without the switcher's links."""
    return templates.get_template(template).render(
        {**context, "help_lines": help_lines, "language_links": []}
    )


def redirect(location: str) -> RedirectResponse:
    """Post/redirect/get: 303, so a reload never sends a form twice."""
    response = RedirectResponse(location, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


async def form_data(request: Request) -> FormData:
    form: StarletteForm = await request.form()
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}


async def checked_form(request: Request, form: Annotated[FormData, Depends(form_data)]) -> FormData:
    """The posted form, once its CSRF field matches the visitor's cookie."""
    visitor = request.cookies.get(CSRF_COOKIE, "")
    sent = (form.get(CSRF_FIELD) or [""])[0]
    if not visitor or not verify(settings_of(request).secret_key, CSRF_PURPOSE, visitor, sent):
        raise CsrfError
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
