"""Clinic admins: where emergency and urgent submissions are announced, and how that went."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.deps import DbDep, RegistryDep, SettingsDep
from app.display import level_look
from app.errors import AppError
from app.services import alert_history, alert_settings, clinic_admin

from .deps import AdminStaff, CsrfProtected, render

router = APIRouter()


async def _page(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    registry: RegistryDep,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    lines = await db.run(alert_history.recent_alerts, clinic_id=staff.clinic.id)
    return render(
        request,
        "staff/alerts.html",
        staff,
        lines=lines,
        look=lambda code: level_look(registry.level(code), code),
        errors=errors or {},
        values=values or {},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK,
    )


@router.get("/alerts", response_class=HTMLResponse)
async def alerts_page(
    request: Request, staff: AdminStaff, db: DbDep, registry: RegistryDep
) -> HTMLResponse:
    return await _page(request, staff, db, registry)


@router.post("/alerts/email", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def set_email(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    registry: RegistryDep,
    alert_email: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    if problem := alert_settings.email_problem(alert_email):
        return await _page(
            request,
            staff,
            db,
            registry,
            errors={"alert_email": problem},
            values={"alert_email": alert_email},
        )
    await db.run(clinic_admin.set_alert_email, staff.actor, staff.clinic, alert_email)
    return RedirectResponse("/staff/alerts", status.HTTP_303_SEE_OTHER)


@router.post("/alerts/webhook", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def set_webhook(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
    webhook_url: Annotated[str, Form(max_length=2100)] = "",
) -> Response:
    allow_http, allowed = settings.is_development, settings.alerts.webhook_networks
    problem = alert_settings.webhook_url_problem(
        webhook_url, allow_http=allow_http, allowed_networks=allowed
    ) or await run_in_threadpool(  # DNS: never on the event loop
        alert_settings.webhook_host_problem, webhook_url, allowed_networks=allowed
    )
    if problem:
        return await _page(
            request,
            staff,
            db,
            registry,
            errors={"webhook_url": problem},
            values={"webhook_url": webhook_url},
        )
    secret = await db.run(
        clinic_admin.set_webhook,
        staff.actor,
        staff.clinic,
        webhook_url,
        allow_http=allow_http,
        allowed_networks=allowed,
    )
    if secret is None:
        return RedirectResponse("/staff/alerts", status.HTTP_303_SEE_OTHER)
    return _secret_page(request, staff, secret)


@router.post("/alerts/webhook/secret", response_class=HTMLResponse, dependencies=[CsrfProtected])
async def new_secret(request: Request, staff: AdminStaff, db: DbDep) -> Response:
    if staff.clinic.webhook_url is None:
        raise AppError(status.HTTP_400_BAD_REQUEST, "Set the webhook address first")
    secret = await db.run(clinic_admin.rotate_webhook_secret, staff.actor, staff.clinic)
    return _secret_page(request, staff, secret)


def _secret_page(request: Request, staff: AdminStaff, secret: str) -> HTMLResponse:
    context: dict[str, Any] = {"secret": secret, "url": staff.clinic.webhook_url}
    return render(request, "staff/webhook_secret.html", staff, **context)
