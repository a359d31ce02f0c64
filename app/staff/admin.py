"""Clinic admins: staff accounts, the clinic's API keys, and the audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.deps import RegistryDep, SessionDep, SettingsDep
from app.display import level_look
from app.errors import AppError
from app.models import StaffUser
from app.services import api_keys, audit
from app.services import auth as auth_service
from app.services.auth import ROLES, AccountError
from app.services.questionnaires import Registry

from .deps import AdminStaff, CsrfProtected, render

router = APIRouter()


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status.HTTP_303_SEE_OTHER)


# -- staff accounts ------------------------------------------------------------------------------


@router.get("/members", response_class=HTMLResponse)
def members(request: Request, staff: AdminStaff, session: SessionDep) -> HTMLResponse:
    people = auth_service.list_staff(session, clinic_id=staff.clinic.id)
    return render(request, "staff/members.html", staff, people=people, roles=ROLES)


@router.get("/members/new", response_class=HTMLResponse)
def invite_form(request: Request, staff: AdminStaff) -> HTMLResponse:
    return render(request, "staff/member_new.html", staff, roles=ROLES, errors={}, values={})


@router.post("/members/new", response_class=HTMLResponse, dependencies=[CsrfProtected])
def invite(
    request: Request,
    staff: AdminStaff,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        user, token = auth_service.create_user(
            session, clinic_id=staff.clinic.id, email=email, role=role
        )
    except AccountError as error:
        field = "role" if "Role" in str(error) else "email"
        return render(
            request, "staff/member_new.html", staff, roles=ROLES,
            errors={field: str(error)}, values={"email": email, "role": role},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )  # fmt: skip
    audit.record(
        session, clinic_id=staff.clinic.id, actor_id=staff.user.id, action="staff.invited",
        target_type="staff_user", target_id=user.id, detail={"role": user.role},
    )  # fmt: skip
    link = f"{settings.public_url.rstrip('/')}/staff/set-password/{token}"
    return render(request, "staff/member_created.html", staff, member=user, link=link)


def _member(staff: AdminStaff, session: SessionDep, user_id: str) -> StaffUser:
    member = auth_service.get_clinic_staff(session, clinic_id=staff.clinic.id, user_id=user_id)
    if member is None:
        raise AppError(status.HTTP_404_NOT_FOUND)
    return member


@router.post("/members/{user_id}/role", dependencies=[CsrfProtected])
def change_role(
    user_id: str, staff: AdminStaff, session: SessionDep,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    member = _member(staff, session, user_id)
    if member.id == staff.user.id:
        raise AppError(status.HTTP_400_BAD_REQUEST, "You cannot change your own role")
    try:
        auth_service.change_role(session, member, role)
    except AccountError as error:
        raise AppError(status.HTTP_400_BAD_REQUEST, str(error)) from None
    audit.record(
        session, clinic_id=staff.clinic.id, actor_id=staff.user.id, action="staff.role_changed",
        target_type="staff_user", target_id=member.id, detail={"role": role},
    )  # fmt: skip
    return _back("/staff/members")


@router.post("/members/{user_id}/disable", dependencies=[CsrfProtected])
def disable_member(user_id: str, staff: AdminStaff, session: SessionDep) -> Response:
    member = _member(staff, session, user_id)
    if member.id == staff.user.id:
        raise AppError(status.HTTP_400_BAD_REQUEST, "You cannot disable your own account")
    auth_service.disable(session, member)
    audit.record(
        session, clinic_id=staff.clinic.id, actor_id=staff.user.id, action="staff.disabled",
        target_type="staff_user", target_id=member.id,
    )  # fmt: skip
    return _back("/staff/members")


# -- API keys -------------------------------------------------------------------------------------


@router.get("/api-keys", response_class=HTMLResponse)
def keys(request: Request, staff: AdminStaff, session: SessionDep) -> HTMLResponse:
    clients = api_keys.list_clinic_api_keys(session=session, clinic_id=staff.clinic.id)
    return render(request, "staff/api_keys.html", staff, clients=clients, errors={})


@router.post("/api-keys", response_class=HTMLResponse, dependencies=[CsrfProtected])
def create_key(
    request: Request, staff: AdminStaff, session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    if not name.strip():
        clients = api_keys.list_clinic_api_keys(session=session, clinic_id=staff.clinic.id)
        return render(
            request, "staff/api_keys.html", staff, clients=clients,
            errors={"name": "Enter a name for the app that will use the key"},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )  # fmt: skip
    client, key = api_keys.create_api_key(session=session, name=name, clinic_id=staff.clinic.id)
    audit.record(
        session, clinic_id=staff.clinic.id, actor_id=staff.user.id, action="api_key.created",
        target_type="api_client", target_id=client.id, detail={"prefix": client.key_prefix},
    )  # fmt: skip
    return render(request, "staff/api_key_created.html", staff, client=client, key=key)


@router.post("/api-keys/{key_id}/revoke", dependencies=[CsrfProtected])
def revoke_key(key_id: str, staff: AdminStaff, session: SessionDep) -> Response:
    client = api_keys.get_clinic_api_key(session=session, clinic_id=staff.clinic.id, key_id=key_id)
    if client is None:
        raise AppError(status.HTTP_404_NOT_FOUND)
    api_keys.revoke_api_key(session=session, prefix_or_id=str(client.id))
    audit.record(
        session, clinic_id=staff.clinic.id, actor_id=staff.user.id, action="api_key.revoked",
        target_type="api_client", target_id=client.id, detail={"prefix": client.key_prefix},
    )  # fmt: skip
    return _back("/staff/api-keys")


# -- audit log ------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request, staff: AdminStaff, session: SessionDep, registry: RegistryDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:  # fmt: skip
    events, total = audit.list_events(session, clinic_id=staff.clinic.id, page=page)
    people = {u.id: u.email for u in auth_service.list_staff(session, clinic_id=staff.clinic.id)}
    return render(
        request, "staff/audit.html", staff, events=events, people=people, page=page,
        pages=max(1, -(-total // 50)), total=total,
        export_filters=lambda filters: export_filters(registry, filters),
    )  # fmt: skip


def export_filters(registry: Registry, filters: Any) -> str:
    """A CSV export's filters (as app.services.dashboard.Filters.describe() stored them), in
    words: "Emergency or Urgent; submitted from 01 Mar 2026; not reviewed"."""
    if not isinstance(filters, dict):
        return "Submissions"
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
    return "Submissions: " + "; ".join(parts) if parts else "All submissions"


def _day(value: Any) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)).strftime("%d %b %Y")
    except ValueError:
        return str(value)
