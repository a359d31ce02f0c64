"""Accepting an invitation to a clinic's staff (app/services/invitations.py): the person
chooses a password and the account is made. Open to everyone: the link's token is the proof.

A link that cannot be used answers one way, whatever the reason (expired, revoked, accepted,
or the address has an account by now, at any clinic): the page says nothing about accounts.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.deps import ClockDep, DbDep, SettingsDep
from app.errors import AppError
from app.security import new_token, sign, verify
from app.services import accounts, invitations

from .deps import render

router = APIRouter()

# The form's own form token, tied to a cookie nonce, as on the set-password form.
FORM_COOKIE: Final = "backaudit_invitation"
FORM_PURPOSE: Final = "staff-invitation"
EXPIRED: Final = "The form had expired. Please try again."


def _unusable(request: Request) -> HTMLResponse:
    return render(request, "staff/invitation_invalid.html", None, status_code=status.HTTP_410_GONE)


def _form(
    request: Request,
    settings: SettingsDep,
    offer: invitations.Offer,
    *,
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    nonce = new_token(16)
    response = render(
        request, "staff/set_password.html", None, status_code=status_code, email=offer.email,
        offer=offer, errors=errors, form_token=sign(settings.secret_key, FORM_PURPOSE, nonce),
    )  # fmt: skip
    response.set_cookie(
        FORM_COOKIE,
        nonce,
        httponly=True,
        samesite="lax",
        path=invitations.PATH,
        secure=not settings.is_development,
    )
    return response


@router.get("/invitation/{token}", response_class=HTMLResponse)
async def invitation_form(
    request: Request, token: str, db: DbDep, settings: SettingsDep, clock: ClockDep
) -> HTMLResponse:
    offer = await db.run(invitations.usable, token, now=clock())
    if offer is None:
        return _unusable(request)
    return _form(request, settings, offer, errors={})


@router.post("/invitation/{token}", response_class=HTMLResponse)
async def accept_invitation(
    request: Request,
    token: str,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
    form_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    nonce = request.cookies.get(FORM_COOKIE, "")
    if not nonce or not verify(settings.secret_key, FORM_PURPOSE, nonce, form_token):
        raise AppError(status.HTTP_403_FORBIDDEN, EXPIRED)
    offer = await db.run(invitations.usable, token, now=clock())
    if offer is None:
        return _unusable(request)
    errors: dict[str, str] = {}
    if problem := accounts.password_problem(password):
        errors["password"] = problem
    elif password != confirm:
        errors["confirm"] = "The passwords do not match"
    if errors:
        return _form(
            request,
            settings,
            offer,
            errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    # Argon2 in a worker thread: tens of milliseconds that must not hold up the event loop.
    password_hash = await run_in_threadpool(accounts.hash_password, password)
    user = await db.run(
        invitations.accept, token, password=password, password_hash=password_hash, now=clock()
    )
    if user is None:  # taken meanwhile: by another try, or by an account made elsewhere
        return _unusable(request)
    # Post/redirect/get: the sign-in page says the password is set.
    response = RedirectResponse("/staff/login?password_set=1", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(FORM_COOKIE, path=invitations.PATH)
    return response
