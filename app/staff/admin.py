"""Clinic admins: staff accounts, the clinic's API keys, and the audit log."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app import i18n
from app.deps import ClockDep, DbDep, RegistryDep, SettingsDep, take_rate
from app.display import level_look
from app.errors import AppError
from app.models import AuditEvent
from app.services import (
    admin_pages,
    api_keys,
    clinic_admin,
    clinics,
    invitations,
    mail,
    rate_limits,
    second_factor,
)
from app.services.accounts import ROLES, AccountError
from app.services.questionnaires import Registry

from .deps import AdminStaff, CsrfProtected, render

router = APIRouter()


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status.HTTP_303_SEE_OTHER)


# -- staff accounts ------------------------------------------------------------------------------


@router.get("/members", response_class=HTMLResponse)
async def members(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    clock: ClockDep,
    revoked: Annotated[str, Query(max_length=5)] = "",
) -> HTMLResponse:
    found = await db.run(admin_pages.members, clinic_id=staff.clinic.id, now=clock())
    return render(
        request,
        "staff/members.html",
        staff,
        people=found.people,
        roles=ROLES,
        invited=found.invited,
        revoked=revoked == "1",
        needs_second_factor=partial(second_factor.required, clinic=staff.clinic),
    )


@router.get("/members/new", response_class=HTMLResponse)
def invite_form(request: Request, staff: AdminStaff) -> HTMLResponse:
    return render(request, "staff/member_new.html", staff, roles=ROLES, errors={}, values={})


@router.post("/members/new", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def invite(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    # Inviting says nothing about other clinics' accounts (app/services/invitations.py); the
    # limit still bounds how many invitations a clinic makes, and sends by e-mail.
    limit = rate_limits.Limit(settings.limits.staff_invites_per_hour, timedelta(hours=1))
    bucket = rate_limits.staff_invite_bucket(staff.clinic.id)
    wait = await take_rate(request, db, {bucket: limit})
    if wait is not None:
        minutes = -(-int(wait.total_seconds()) // 60) or 1
        page = render(
            request,
            "staff/member_new.html",
            staff,
            roles=ROLES,
            errors={
                "email": "This clinic has tried to add many staff members in the last hour."
                f" Try again in {minutes} minute{'s' if minutes > 1 else ''}"
            },
            values={"email": email, "role": role},
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        page.headers["Retry-After"] = rate_limits.retry_after(wait)
        return page
    try:
        # Committed before any e-mail goes: no mail server is waited for with the database
        # held (on SQLite, its one writer), and a link that is sent works.
        invited = await db.run_committed(
            clinic_admin.invite_member, staff.actor, email=email, role=role, now=clock()
        )
    except AccountError as error:
        field = "role" if "Role" in str(error) else "email"
        return render(
            request,
            "staff/member_new.html",
            staff,
            roles=ROLES,
            errors={field: str(error)},
            values={"email": email, "role": role},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    invitation = invited.invitation
    if not mail.configured(settings):
        # The admin passes the link on, and could open it themselves (README: Security).
        link = invitations.link(settings.public_url, invited.token)
        return render(request, "staff/member_created.html", staff, invitation=invitation, link=link)
    sent = await run_in_threadpool(
        invitations.send_by_email, settings, invited, clinic_name=staff.clinic.name, now=clock()
    )
    if not sent:
        # Nobody has the link: the invitation goes, and the admin is asked to try again.
        await db.run(
            clinic_admin.revoke_invitation,
            staff.actor,
            str(invitation.id),
            now=clock(),
            why="e-mail not sent",
        )
        return render(
            request,
            "staff/member_created.html",
            staff,
            invitation=invitation,
            not_sent=True,
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return render(request, "staff/member_created.html", staff, invitation=invitation, sent=True)


@router.post("/members/invitations/{invitation_id}/revoke", dependencies=[CsrfProtected])
async def revoke_invitation(
    invitation_id: str, staff: AdminStaff, db: DbDep, clock: ClockDep
) -> Response:
    outcome = await db.run(clinic_admin.revoke_invitation, staff.actor, invitation_id, now=clock())
    return _answer(outcome, "/staff/members?revoked=1")


def _answer(outcome: clinic_admin.Outcome, back: str) -> Response:
    """Back to the page after a change; 404 for what is not the clinic's; 400 saying why not."""
    if isinstance(outcome, clinic_admin.NotFound):
        raise AppError(status.HTTP_404_NOT_FOUND)
    if isinstance(outcome, clinic_admin.Refused):
        raise AppError(status.HTTP_400_BAD_REQUEST, outcome.message)
    return _back(back)


@router.post("/members/{user_id}/role", dependencies=[CsrfProtected])
async def change_role(
    user_id: str,
    staff: AdminStaff,
    db: DbDep,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    outcome = await db.run(clinic_admin.change_role, staff.actor, user_id, role)
    return _answer(outcome, "/staff/members")


@router.post("/members/{user_id}/disable", dependencies=[CsrfProtected])
async def disable_member(user_id: str, staff: AdminStaff, db: DbDep) -> Response:
    outcome = await db.run(clinic_admin.disable_member, staff.actor, user_id)
    return _answer(outcome, "/staff/members")


@router.post("/members/{user_id}/second-factor/reset", dependencies=[CsrfProtected])
async def reset_second_factor(user_id: str, staff: AdminStaff, db: DbDep) -> Response:
    """A member who lost their phone and their recovery codes (clinic_admin.py)."""
    outcome = await db.run(clinic_admin.reset_second_factor, staff.actor, user_id)
    return _answer(outcome, "/staff/members")


# -- clinic details -------------------------------------------------------------------------------


@router.get("/clinic", response_class=HTMLResponse)
def clinic_details_form(
    request: Request, staff: AdminStaff, saved: Annotated[str, Query(max_length=5)] = ""
) -> HTMLResponse:
    return _details_page(request, staff, clinics.ClinicDetails.of(staff.clinic), {}, saved=saved)


def _intake_languages(request: Request) -> list[tuple[str, str]]:
    """The languages an admin may choose for the intake links: those the app offers now (a
    draft one only where drafts are offered), each as its code and its name in itself."""
    offered: tuple[i18n.Language, ...] = request.app.state.languages
    return [(language.code, language.name) for language in offered]


def _details_page(
    request: Request,
    staff: AdminStaff,
    values: clinics.ClinicDetails,
    errors: dict[str, str],
    *,
    saved: str = "",
) -> HTMLResponse:
    return render(
        request,
        "staff/clinic.html",
        staff,
        title="Clinic details",
        values=values,
        errors=errors,
        saved=saved,
        intake_languages=_intake_languages(request),
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if errors else 200,
    )


@router.post("/clinic", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def save_clinic_details(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    phone: Annotated[str, Form(max_length=100)] = "",
    contact_email: Annotated[str, Form(max_length=400)] = "",
    address: Annotated[str, Form(max_length=1000)] = "",
    time_zone: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    details = clinics.ClinicDetails(phone, contact_email, address, time_zone)
    if errors := clinics.details_problems(details):
        return _details_page(request, staff, details, errors)
    await db.run(clinic_admin.save_details, staff.actor, staff.clinic, details)
    return _back("/staff/clinic?saved=1")


@router.post("/clinic/second-factor", dependencies=[CsrfProtected])
async def save_second_factor_rule(
    staff: AdminStaff, db: DbDep, clinicians: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """Whether clinicians must sign in with a second factor too (admins always must)."""
    required = clinicians == "yes"
    await db.run(clinic_admin.set_second_factor_rule, staff.actor, staff.clinic, required)
    return _back("/staff/clinic?saved=2fa")


@router.post("/clinic/language", dependencies=[CsrfProtected])
async def save_intake_language(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    language: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The language the clinic's intake links open in ("": the person's browser decides)."""
    offered = [code for code, _ in _intake_languages(request)]
    outcome = await db.run(
        clinic_admin.set_intake_language, staff.actor, staff.clinic, language or None, offered
    )
    if isinstance(outcome, clinic_admin.Refused):
        values = clinics.ClinicDetails.of(staff.clinic)
        return _details_page(request, staff, values, {"language": outcome.message})
    return _back("/staff/clinic?saved=lang")


# -- API keys -------------------------------------------------------------------------------------


@router.get("/api-keys", response_class=HTMLResponse)
async def keys(request: Request, staff: AdminStaff, db: DbDep) -> HTMLResponse:
    clients = await db.run(api_keys.list_clinic_api_keys, clinic_id=staff.clinic.id)
    return render(request, "staff/api_keys.html", staff, clients=clients, errors={})


@router.post("/api-keys", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def create_key(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    name: Annotated[str, Form(max_length=200)] = "",
    checkins_write: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if problem := api_keys.name_problem(name):
        clients = await db.run(api_keys.list_clinic_api_keys, clinic_id=staff.clinic.id)
        return render(
            request,
            "staff/api_keys.html",
            staff,
            clients=clients,
            errors={"name": problem},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    scopes = [api_keys.CHECKINS_WRITE] if checkins_write == "yes" else []
    client, key = await db.run(clinic_admin.create_api_key, staff.actor, name=name, scopes=scopes)
    return render(request, "staff/api_key_created.html", staff, client=client, key=key)


@router.post("/api-keys/{key_id}/revoke", dependencies=[CsrfProtected])
async def revoke_key(key_id: str, staff: AdminStaff, db: DbDep) -> Response:
    outcome = await db.run(clinic_admin.revoke_api_key, staff.actor, key_id)
    return _answer(outcome, "/staff/api-keys")


# -- audit log ------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
async def audit_log(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    registry: RegistryDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    log = await db.run(admin_pages.audit_log, clinic_id=staff.clinic.id, page=page)
    return render(
        request, "staff/audit.html", staff, events=log.events, people=log.people, page=page,
        pages=max(1, -(-log.total // 50)), total=log.total,
        item=lambda event: event_item(registry, event),
    )  # fmt: skip


# What each export's (or the queue page's) rows are; the filters choose submissions, and a
# check-in export has the check-ins of those.
LISTED: Final = {
    "export.csv": "submissions",
    "export.checkins_csv": "check-ins",
    "queue.viewed": "the queue",
}


def event_item(registry: Registry, event: AuditEvent) -> str:
    """The Item column: what an event was about. An export's or the queue's filters in words
    (never None) and how many rows it had; a record's id, and the check-ins it touched."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    parts = []
    if event.action in LISTED or "filters" in detail:
        parts.append(export_filters(registry, detail.get("filters"), LISTED.get(event.action)))
        if isinstance(detail.get("rows"), int):
            rows = detail["rows"]
            parts.append(f"{rows} row{'' if rows == 1 else 's'}")
    elif event.target_id:
        parts.append(f"{event.target_type or ''} {event.target_id}".strip())
    for key, name in (("assessment_ids", "submissions"), ("checkin_ids", "check-ins")):
        ids = detail.get(key)
        if isinstance(ids, list) and ids:
            parts.append(f"{name} {', '.join(str(each) for each in ids)}")
    return "; ".join(parts)


def export_filters(registry: Registry, filters: Any, listed: str | None = None) -> str:
    """A CSV export's filters (as app.services.filters.Filters.describe() stored them), in
    words: "Submissions: Emergency or Urgent; submitted from 01 Mar 2026; not reviewed".
    ``listed``: what the rows were (submissions, check-ins, the queue)."""
    listed = listed or "submissions"
    if not isinstance(filters, dict):
        return listed.capitalize()  # an event from before exports kept their filters
    parts = []
    levels = [
        level_look(registry.level(str(code)), str(code)).label
        for code in filters.get("levels") or ()
    ]
    if levels:
        parts.append(" or ".join(levels))
    start, end = _day(filters.get("from")), _day(filters.get("to"))
    if start and end:
        parts.append(f"submitted from {start} to {end}")
    elif start:
        parts.append(f"submitted from {start}")
    elif end:
        parts.append(f"submitted up to {end}")
    reviewed = {"no": "not reviewed", "yes": "reviewed"}.get(filters.get("reviewed") or "all")
    if reviewed:
        parts.append(reviewed)
    if filters.get("search"):
        parts.append("matching a search")  # what was searched for is not kept
    if listed == "the queue":
        return "The queue: " + "; ".join(parts) if parts else "The queue: all submissions"
    if listed == "check-ins":
        # The filters choose submissions; the rows are their check-ins.
        return (
            "Check-ins of submissions: " + "; ".join(parts)
            if parts
            else "Check-ins of all submissions"
        )
    return "Submissions: " + "; ".join(parts) if parts else "All submissions"


def _day(value: Any) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)).strftime("%d %b %Y")
    except ValueError:
        return str(value)
