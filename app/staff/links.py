"""The clinic's intake links: the list, a new link (with its QR code), and revoking one.

Any staff member sends links. Every link made or revoked is written to the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import segno
from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.deps import DbDep, SettingsDep
from app.errors import AppError
from app.services import intake

from .deps import CsrfProtected, CurrentStaff, render

router = APIRouter()


@router.get("/links", response_class=HTMLResponse)
async def links(
    request: Request,
    staff: CurrentStaff,
    db: DbDep,
    revoked: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    rows = await db.run(intake.list_links, clinic_id=staff.clinic.id)
    # After a revoke: say it is done, naming the link (only one of this clinic's).
    done = next((row.link for row in rows if str(row.link.id) == revoked), None)
    return render(request, "staff/links.html", staff, title="Intake links", rows=rows, revoked=done)


@router.get("/links/new", response_class=HTMLResponse)
def new_link_form(request: Request, staff: CurrentStaff) -> HTMLResponse:
    return render(
        request,
        "staff/link_new.html",
        staff,
        title="New intake link",
        errors={},
        values={"valid_for": "14", "use": "single"},
        choices=intake.VALID_FOR_DAYS,
    )


@router.post("/links/new", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def create_link(
    request: Request,
    staff: CurrentStaff,
    db: DbDep,
    settings: SettingsDep,
    label: Annotated[str, Form(max_length=200)] = "",
    use: Annotated[str, Form(max_length=10)] = "",
    valid_for: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    errors: dict[str, str] = {}
    if problem := intake.label_problem(label):
        errors["label"] = problem
    if use not in ("single", "reusable"):
        errors["use"] = "Choose whether the link can be used once or many times"
    days = int(valid_for) if valid_for.isdigit() else 0
    if days not in intake.VALID_FOR_DAYS:
        errors["valid_for"] = "Choose how long the link works"
    if errors:
        return render(
            request,
            "staff/link_new.html",
            staff,
            title="New intake link",
            errors=errors,
            values={"label": label, "use": use, "valid_for": valid_for},
            choices=intake.VALID_FOR_DAYS,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    link, token = await db.run(
        intake.create_link_for_clinic,
        staff.actor,
        label=label,
        single_use=use == "single",
        valid_for=timedelta(days=days),
    )
    url = f"{settings.public_url.rstrip('/')}/intake/{token}"
    qr = segno.make(url, error="m").svg_inline(
        scale=4, border=2, omitsize=True, title=None, svgclass="qr__svg", lineclass=None
    )
    return render(
        request,
        "staff/link_created.html",
        staff,
        title="Intake link created",
        link=link,
        url=url,
        qr=qr,
    )


@router.get("/links/{link_id}/revoke", response_class=HTMLResponse)
async def confirm_revoke(
    link_id: str, request: Request, staff: CurrentStaff, db: DbDep
) -> Response:
    """Revoking cannot be undone: the button asks first, on a page of its own (no script)."""
    link = await db.run(intake.get_clinic_link, clinic_id=staff.clinic.id, link_id=link_id)
    if link is None:
        raise AppError(status.HTTP_404_NOT_FOUND)
    if intake.link_state(link) != "active":
        return RedirectResponse("/staff/links", status.HTTP_303_SEE_OTHER)
    return render(request, "staff/link_revoke.html", staff, title="Revoke this link?", link=link)


@router.post("/links/{link_id}/revoke", dependencies=[CsrfProtected])
async def revoke_link(link_id: str, staff: CurrentStaff, db: DbDep) -> Response:
    link = await db.run(intake.revoke_clinic_link, staff.actor, link_id)
    if link is None:
        raise AppError(status.HTTP_404_NOT_FOUND)
    return RedirectResponse(f"/staff/links?revoked={link.id}", status.HTTP_303_SEE_OTHER)
