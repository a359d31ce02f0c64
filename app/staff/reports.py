"""Clinic admins: the rule report (how often each triage rule fired, month by month)."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.deps import ClockDep, DbDep, RegistryDep
from app.services import clinics, rule_report

from .deps import AdminStaff, render

router = APIRouter()

# What the page can show: the last N calendar months (this one included), or everything.
PERIODS: Final = (
    ("3", "The last 3 months"),
    ("6", "The last 6 months"),
    ("12", "The last 12 months"),
    ("all", "All months"),
)
DEFAULT_PERIOD: Final = "12"


@router.get("/rules", response_class=HTMLResponse)
async def rules(
    request: Request,
    staff: AdminStaff,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    period: Annotated[str, Query(max_length=20)] = DEFAULT_PERIOD,
) -> HTMLResponse:
    if period not in dict(PERIODS):
        period = DEFAULT_PERIOD
    zone = clinics.zone_of(staff.clinic)
    today = clock().astimezone(zone).date()  # the app's clock, which times the submissions
    since = None if period == "all" else rule_report.months_back(today, int(period))
    # Every result of the period decompressed: away from the event loop.
    report = await db.run_long_read(
        rule_report.rule_report, registry, clinic_id=staff.clinic.id, since=since, zone=zone
    )
    return render(
        request, "staff/rule_report.html", staff, title="Rule report", report=report,
        period=period, periods=PERIODS, since=since, month_name=rule_report.month_name,
        newest_first=rule_report.newest_first, default_id=registry.default_id,
    )  # fmt: skip
