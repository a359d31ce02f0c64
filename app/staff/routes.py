"""Clinic staff pages (mounted at /staff).

Everything but signing in sits behind ``require_staff``, applied once to the protected router,
so a new route cannot be left open by mistake (a test enumerates them all).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from . import admin, alerts, auth_routes, dashboard, reports
from .deps import require_staff

router = APIRouter(include_in_schema=False)
router.include_router(auth_routes.router)

protected = APIRouter(dependencies=[Depends(require_staff)])
protected.include_router(dashboard.router)
protected.include_router(admin.router)
protected.include_router(alerts.router)
protected.include_router(reports.router)
router.include_router(protected)
