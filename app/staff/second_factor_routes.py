"""A staff member's own second factor: setting it up (a QR code, or the secret typed in, then a
first code), new recovery codes, and a new authenticator app. Open to anyone signed in, also
to someone who must set one up and has not yet (every other staff page sends them here).
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.deps import ClockDep, DbDep, SettingsDep
from app.services import second_factor

from .deps import SECOND_FACTOR_PATH, CsrfProtected, SignedInStaff, StaffContext, render

router = APIRouter()

WRONG_CODE = "The code is not right. Check that the app's entry is the one you just added."


def _setup_page(
    request: Request,
    staff: StaffContext,
    secret: str,
    *,
    error: str | None = None,
) -> HTMLResponse:
    uri = second_factor.provisioning_uri(secret, staff.user.email)
    # Made here, as the intake links' QR codes are: inline SVG, nothing loaded from elsewhere.
    qr = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, omitsize=True, title=None, svgclass="qr__svg", lineclass=None
    )
    must = second_factor.must_enrol(staff.user, staff.clinic)
    return render(
        request, "staff/second_factor_setup.html", staff, title="Set up a second factor",
        qr=qr, secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        must=must, hide_nav_links=must, errors={"code": error} if error else {},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if error else 200,
    )  # fmt: skip


def _codes_page(request: Request, staff: StaffContext, codes: list[str]) -> HTMLResponse:
    """The recovery codes, this once: only their hashes are kept."""
    return render(
        request, "staff/recovery_codes.html", staff, title="Save your recovery codes", codes=codes
    )


@router.get(SECOND_FACTOR_PATH.removeprefix("/staff"), response_class=HTMLResponse)
async def second_factor_page(
    request: Request,
    staff: SignedInStaff,
    db: DbDep,
    settings: SettingsDep,
    recovery_used: Annotated[str, Query(max_length=5)] = "",
) -> HTMLResponse:
    if not second_factor.enrolled(staff.user):
        secret = await db.run(
            second_factor.begin_enrolment, staff.user, secret_key=settings.secret_key
        )
        return _setup_page(request, staff, secret)
    left = await db.run(second_factor.recovery_codes_left, staff.user)
    return render(
        request,
        "staff/second_factor.html",
        staff,
        title="Second factor",
        codes_left=left,
        recovery_used=recovery_used == "1",
        required=second_factor.required(staff.user, staff.clinic),
    )


@router.post(
    SECOND_FACTOR_PATH.removeprefix("/staff"),
    response_class=HTMLResponse,
    dependencies=[CsrfProtected],
)
async def enrol(
    request: Request,
    staff: SignedInStaff,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if second_factor.enrolled(staff.user):
        return RedirectResponse(SECOND_FACTOR_PATH, status.HTTP_303_SEE_OTHER)
    outcome = await db.run(
        second_factor.enrol_with_code,
        staff.user,
        code,
        secret_key=settings.secret_key,
        now=clock(),
    )
    if isinstance(outcome, second_factor.WrongCode):
        error = "Enter the 6-digit code your app shows" if not code.strip() else WRONG_CODE
        return _setup_page(request, staff, outcome.secret, error=error)
    return _codes_page(request, staff, outcome.recovery_codes)


@router.post(
    f"{SECOND_FACTOR_PATH.removeprefix('/staff')}/recovery-codes",
    response_class=HTMLResponse,
    dependencies=[CsrfProtected],
)
async def new_recovery_codes(
    request: Request, staff: SignedInStaff, db: DbDep, clock: ClockDep
) -> Response:
    if not second_factor.enrolled(staff.user):
        return RedirectResponse(SECOND_FACTOR_PATH, status.HTTP_303_SEE_OTHER)
    codes = await db.run(second_factor.renew_recovery_codes, staff.user, now=clock())
    return _codes_page(request, staff, codes)


@router.post(f"{SECOND_FACTOR_PATH.removeprefix('/staff')}/replace", dependencies=[CsrfProtected])
async def replace(staff: SignedInStaff, db: DbDep) -> Response:
    """A new phone or app: the old secret and recovery codes stop working now, the person's
    other sessions end (this one goes on), and the setting-up page follows."""
    if second_factor.enrolled(staff.user):
        await db.run(second_factor.replace_own, staff.user, keep_session_id=staff.session.id)
    return RedirectResponse(SECOND_FACTOR_PATH, status.HTTP_303_SEE_OTHER)
