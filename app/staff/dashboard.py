"""The clinic's submissions: the queue, its CSV exports, one submission, review and release.

Any staff member works the queue; intake links are links.py, and admins' pages admin.py.
Every read and change of a submission is written to the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import i18n
from app.clock import Clock
from app.deps import ClockDep, DbDep, RegistryDep, SettingsDep
from app.display import (
    LevelLook,
    dropped_titles,
    level_look,
    plan_blocks,
    trend_chart,
)
from app.errors import AppError
from app.presentation.answers import answers_by_section
from app.services import (
    alert_settings,
    checkin_trend,
    clinics,
    exports,
    filters,
    queue,
    queue_pages,
)
from app.services import release as release_service
from app.services.questionnaires import Registry

from .deps import CsrfProtected, CurrentStaff, render

router = APIRouter()


async def read_filters(
    registry: RegistryDep,
    level: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 (FastAPI copies it)
    date_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    reviewed: Annotated[str | None, Query(max_length=10)] = None,
    search: Annotated[str | None, Query(alias="q", max_length=200)] = None,
) -> filters.FilterInput:
    """The queue's filters from the query string: the page and its CSV export read the same."""
    known = [lv.code for lv in registry.levels]
    return filters.read_filters(known, level, date_from, date_to, reviewed, search)


FiltersDep = Annotated[filters.FilterInput, Depends(read_filters)]
# Excel reads a CSV as UTF-8 only after a byte-order mark ("Zoë" otherwise shows as "ZoÃ«");
# "?bom=no" leaves it out, for programs that would keep it as part of the first heading.
BomDep = Annotated[str, Query(max_length=3, pattern="^(yes|no)$")]


# -- the queue ------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def submissions(
    request: Request,
    staff: CurrentStaff,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    given: FiltersDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    queue_page = await db.run(
        queue_pages.open_queue,
        staff.user,
        filters=given.filters,
        page=page,
        urgent=registry.urgent_codes,
        urgent_levels=[level.code for level in registry.levels if level.urgent],
        flagging=registry.flag_codes,
        zone=clinics.zone_of(staff.clinic),
    )
    query = urlencode(given.filters.query_string())
    return render(
        request,
        "staff/dashboard.html",
        staff,
        # The count leads the tab's title, so a new urgent case shows in a tab in the background.
        title=f"({queue_page.urgent_waiting} urgent) Submissions"
        if queue_page.urgent_waiting
        else "Submissions",
        now=clock(),
        by_level=queue_page.by_level,
        alerts_missing=not alert_settings.has_route(staff.clinic),
        urgent_levels=registry.urgent_codes,
        level_action=_level_action(registry),
        rows=queue_page.rows,
        flagged=queue_page.flagged,
        total=queue_page.total,
        page=page,
        pages=max(1, -(-queue_page.total // queue.PER_PAGE)),
        filters=given.filters,
        errors=given.errors,
        values=given.values,
        date_hint=filters.DATE_HINT,
        levels=registry.levels,
        level_look=_level_look(registry),
        query=query,
        export_url="/staff/export.csv" + (f"?{query}" if query else ""),
        checkins_export_url="/staff/export-checkins.csv" + (f"?{query}" if query else ""),
        urgent_waiting=queue_page.urgent_waiting,
        status_code=status.HTTP_400_BAD_REQUEST if given.errors else 200,
    )


@router.get("/export.csv")
async def export_csv(
    staff: CurrentStaff,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    given: FiltersDep,
    bom: BomDep = "yes",
) -> Response:
    if given.errors:
        raise AppError(status.HTTP_400_BAD_REQUEST, "; ".join(given.errors.values()))
    # Up to exports.EXPORT_LIMIT records, each decompressed: seconds, away from the event loop
    # (and committed there with its audit event).
    lines = await db.run_off_loop(
        queue_pages.export_submissions,
        staff.user,
        filters=given.filters,
        urgent=registry.urgent_codes,
        flagging=registry.flag_codes,
        shape=_export_shape(registry, staff),
    )
    return _csv_download(lines, "submissions", staff, clock, bom=bom == "yes")


@router.get("/export-checkins.csv")
async def export_checkins_csv(
    staff: CurrentStaff,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    given: FiltersDep,
    bom: BomDep = "yes",
) -> Response:
    """One row per check-in of the submissions the filters choose."""
    if given.errors:
        raise AppError(status.HTTP_400_BAD_REQUEST, "; ".join(given.errors.values()))
    follow_up = registry.follow_up(registry.default_id)
    lines = await db.run_off_loop(
        queue_pages.export_checkins,
        staff.user,
        filters=given.filters,
        flagging=registry.flag_codes,
        shape=_export_shape(registry, staff, follow_up.id if follow_up else None),
    )
    return _csv_download(lines, "check-ins", staff, clock, bom=bom == "yes")


@router.get("/export-dictionary.csv")
def export_dictionary(
    staff: CurrentStaff, registry: RegistryDep, clock: ClockDep, bom: BomDep = "yes"
) -> Response:
    """What each column of the submissions export holds (no patient data: not audited)."""
    lines = exports.dictionary_rows(exports.CSV_COLUMNS, _export_shape(registry, staff))
    return _csv_download(list(lines), "submissions-columns", staff, clock, bom=bom == "yes")


@router.get("/export-checkins-dictionary.csv")
def export_checkins_dictionary(
    staff: CurrentStaff, registry: RegistryDep, clock: ClockDep, bom: BomDep = "yes"
) -> Response:
    """What each column of the check-ins export holds."""
    follow_up = registry.follow_up(registry.default_id)
    shape = _export_shape(registry, staff, follow_up.id if follow_up else None)
    lines = exports.dictionary_rows(exports.CHECKIN_CSV_COLUMNS, shape)
    return _csv_download(list(lines), "check-ins-columns", staff, clock, bom=bom == "yes")


def _csv_download(
    lines: list[str], what: str, staff: CurrentStaff, clock: Clock, *, bom: bool
) -> Response:
    """An export as a file named for what it holds and the clinic's date today (the app's
    clock's, which times what it holds)."""
    day = clock().astimezone(clinics.zone_of(staff.clinic))
    return Response(
        ("\ufeff" if bom else "") + "".join(lines),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="backaudit-{what}-{day:%Y-%m-%d}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _export_shape(
    registry: Registry, staff: CurrentStaff, questionnaire_id: str | None = None
) -> exports.ExportShape:
    """The CSV's answer columns are the current questionnaire's questions, in order."""
    current = registry.get(questionnaire_id) if questionnaire_id else registry.default
    look = _level_look(registry)
    return exports.ExportShape(
        questions=[question for page in current.pages for question in page.questions],
        level_label=lambda code: look(code).label,
        zone=clinics.zone_of(staff.clinic),
    )


# -- one submission ---------------------------------------------------------------------------------


@router.get("/assessments/{assessment_id}", response_class=HTMLResponse)
async def submission(
    assessment_id: str,
    request: Request,
    staff: CurrentStaff,
    db: DbDep,
    registry: RegistryDep,
    as_seen: Annotated[str, Query(max_length=3)] = "",
) -> HTMLResponse:
    opened = await db.run(
        queue_pages.open_submission, staff.user, assessment_id, flagging=registry.flag_codes
    )
    if opened is None:
        raise AppError(status.HTTP_404_NOT_FOUND)
    found, followed = opened.submission, opened.checkins
    a = found.assessment
    # On request, the answers as the patient saw them: a view of the stored ids in their
    # language's words (its definition and catalog), not a copy; the rest stays English.
    seen_in = None
    if as_seen == "yes" and i18n.has_catalog(a.language):
        seen_in = i18n.LANGUAGES.get(a.language)
    focus, optional = plan_blocks(a.result.get("plan"))
    q = registry.for_record(a.questionnaire_id, a.questionnaire_version)
    return render(
        request, "staff/submission.html", staff,
        checkins=followed,
        chart=trend_chart(checkin_trend.trend(registry, a, followed), clinics.zone_of(staff.clinic)),
        flag=opened.flag,
        flag_levels=registry.flag_codes, urgent_levels=registry.urgent_codes,
        title="Submission", s=found, a=a, result=a.result, alerted=opened.alerts,
        answers=answers_by_section(
            registry, a.questionnaire_id, a.questionnaire_version, a.answers,
            reasons=[reason["code"] for reason in a.result["triage"]["reasons"]],
            unknown_title="Answers", language=seen_in.code if seen_in else None,
        ),
        as_seen=seen_in,
        focus_blocks=focus, optional_blocks=optional,
        dropped=dropped_titles(a.result.get("plan"), q.exercise_blocks),
        level_look=_level_look(registry, a.questionnaire_id),
        release_blocked=release_service.why_not_releasable(registry, a),
        releasable=_releasable(q, a.triage_level),
    )  # fmt: skip


def _releasable(q: Any, level: str) -> bool:
    found = q.level_by_code.get(level)
    return bool(found and found.releasable)


def _level_look(registry: Registry, questionnaire_id: str | None = None) -> Any:
    """For the templates: a level code (as stored) to how it shows."""

    def look(code: str) -> LevelLook:
        return level_look(registry.level(code, questionnaire_id), code)

    return look


def _level_action(registry: Registry) -> Any:
    """For the queue: what the clinic should do at a level, its action's first sentence
    ("Contact the patient now."), so an emergency row reads apart from an urgent one."""

    def action(code: str) -> str:
        level = registry.level(code)
        text = level.action if level is not None else None
        return (text or "").split(". ", 1)[0].rstrip(".") + "." if text else ""

    return action


@router.post("/assessments/{assessment_id}/review", dependencies=[CsrfProtected])
async def review(
    assessment_id: str,
    staff: CurrentStaff,
    db: DbDep,
    clock: ClockDep,
    reviewed: Annotated[str, Form()] = "",
) -> Response:
    # Only the form's two values: a typo or "maybe" must not mark a case as seen. (No
    # max_length: a long value gets this answer too, not a default 422 that repeats it.)
    mark = {"yes": True, "no": False}.get(reviewed)
    # A review covers the check-ins this person's page showed them (kept on the server): one
    # that came while the page was open has not been read, and is not marked as seen.
    try:
        a = await db.run(queue_pages.review, staff.user, assessment_id, mark, clock=clock)
    except queue.NewCheckinError:
        raise AppError(
            status.HTTP_409_CONFLICT,
            "A check-in came after you opened this submission. Open it again, read the "
            "new check-in, then mark the submission as reviewed.",
        ) from None
    if a is None:
        raise AppError(status.HTTP_404_NOT_FOUND)
    if mark is None:
        raise AppError(
            status.HTTP_400_BAD_REQUEST,
            "Mark the submission as reviewed (yes) or as not reviewed (no)",
        )
    return RedirectResponse(f"/staff/assessments/{a.id}", status.HTTP_303_SEE_OTHER)


@router.post("/assessments/{assessment_id}/release", dependencies=[CsrfProtected])
async def release_programme(
    assessment_id: str,
    staff: CurrentStaff,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Release the exercise programme after review (a see-a-doctor submission only)."""
    try:
        a = await db.run(
            queue_pages.release_programme,
            registry,
            staff.user,
            assessment_id,
            confirmed=confirm == "yes",
            now=clock(),
        )
    except release_service.ReleaseNotPossibleError as exc:
        raise AppError(status.HTTP_409_CONFLICT, exc.message) from None
    if a is None:
        raise AppError(status.HTTP_404_NOT_FOUND)
    if confirm != "yes":
        raise AppError(
            status.HTTP_400_BAD_REQUEST,
            "Tick the box to confirm that you have reviewed the person and the programme suits them",
        )
    return RedirectResponse(f"/staff/assessments/{a.id}#release", status.HTTP_303_SEE_OTHER)


@router.get("/assessments/{assessment_id}/fhir")
async def export_fhir(
    assessment_id: str,
    staff: CurrentStaff,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    exported = await db.run(
        queue_pages.export_fhir, registry, staff.user, assessment_id, base_url=settings.public_url
    )
    if exported is None or exported.bundle is None:
        raise AppError(status.HTTP_404_NOT_FOUND)
    return Response(
        exported.bundle,
        media_type="application/fhir+json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="assessment-{exported.assessment_id}.fhir.json"'
            ),
            "Cache-Control": "no-store",
        },
    )
