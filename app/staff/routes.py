"""Clinic staff pages (mounted at /staff).

Everything but signing in sits behind ``require_staff``, applied once to the protected router,
so a new route cannot be left open by mistake (a test enumerates them all). The pages that set
up a person's own second factor need only a session (``require_signed_in``): someone who must
have a second factor and has none reaches them, and nothing else.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from . import (
    admin,
    alerts,
    auth_routes,
    dashboard,
    invitation_routes,
    links,
    reports,
    second_factor_routes,
)
from .deps import require_signed_in, require_staff

router = APIRouter(include_in_schema=False)
router.include_router(auth_routes.router)
router.include_router(invitation_routes.router)
router.include_router(second_factor_routes.router, dependencies=[Depends(require_signed_in)])

protected = APIRouter(dependencies=[Depends(require_staff)])
protected.include_router(dashboard.router)
protected.include_router(links.router)
protected.include_router(admin.router)
protected.include_router(alerts.router)
protected.include_router(reports.router)
router.include_router(protected)
