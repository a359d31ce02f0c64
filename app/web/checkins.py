"""The person's check-ins, at their result's private link: a short form, then what changed.

One page of questions rather than the interview's page-by-page walk: a check-in is short (the
warning signs, pain, and two questions per block), and every answer is checked on the server.
A warning sign still gives its advice at once (an emergency result leads with it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.deps import DbDep, RegistryDep, settings_of
from app.display import trend_chart
from app.engine import AnswerError, Question
from app.errors import AppError
from app.models import Assessment
from app.services import checkins as checkin_service
from app.services.checkins import CheckinNotPossibleError

from . import present
from .forms import FieldError, PageInput, read_page
from .pages import CheckedForm, redirect, render
from .routes import AssessmentDep

router = APIRouter()


def _questions(registry: RegistryDep, assessment: Assessment, checkins: list[Any]) -> list[Any]:
    """Every question the check-in may ask this person, by page: the warning signs, pain and
    PEG, and the blocks of their current plan (a warning sign makes the rest ignored)."""
    try:
        q = checkin_service.questionnaire_for(registry, assessment)
    except CheckinNotPossibleError:
        raise AppError(404) from None
    context = checkin_service.context_for(assessment, checkins, {}, datetime.now().astimezone())
    plan_blocks = set(context["plan_blocks"])
    pages = []
    for page in q.pages:
        block = page.id if page.id in plan_blocks else None
        if page.section_id == "exercises" and block is None:
            continue
        pages.append((page, list(page.questions)))
    return pages


@router.get("/result/{token}/checkin", response_class=HTMLResponse, include_in_schema=False)
async def checkin_form(
    request: Request, token: str, assessment: AssessmentDep, db: DbDep, registry: RegistryDep
) -> Response:
    found = await db.run(checkin_service.list_checkins, assessment.id)
    return _form(request, token, _questions(registry, assessment, found), None)


@router.post("/result/{token}/checkin", include_in_schema=False)
async def send_checkin(
    request: Request,
    token: str,
    form: CheckedForm,
    assessment: AssessmentDep,
    db: DbDep,
    registry: RegistryDep,
) -> Response:
    found = await db.run(checkin_service.list_checkins, assessment.id)
    pages = _questions(registry, assessment, found)
    asked: list[Question] = [question for _, questions in pages for question in questions]
    page_input = read_page(asked, form)
    # Only what this check-in asks counts: after a warning sign, the rest is not needed.
    shown = {
        q.id
        for q in checkin_service.evaluate_checkin(
            registry, assessment, found, page_input.answers
        ).visible
    }
    page_input.errors = [e for e in page_input.errors if e.question_id in shown]
    page_input.answers = {k: v for k, v in page_input.answers.items() if k in shown}
    if not page_input.errors:
        try:
            recorded = await db.run(
                checkin_service.record_checkin,
                registry,
                assessment,
                page_input.answers,
                channel="intake" if assessment.clinic_id else "web",
            )
        except AnswerError as exc:
            by_id = {q.id: q for q in asked}
            page_input.errors = [
                FieldError(p.question, p.question, "Answer this question", _summary(by_id, p))
                for p in exc.problems
            ]
        else:
            return redirect(f"/result/{token}/checkins/{recorded.id}")
    return _form(request, token, pages, page_input, status_code=422)


def _summary(by_id: dict[str, Question], problem: Any) -> str:
    question = by_id.get(problem.question)
    return f"{question.text if question else problem.question} – answer this question"


def _form(
    request: Request,
    token: str,
    pages: list[Any],
    page_input: PageInput | None,
    *,
    status_code: int = 200,
) -> Response:
    answers = page_input.answers if page_input else {}
    groups = [
        (
            page,
            present.field_views(
                questions,
                answers=answers,
                page_input=page_input,
                units={},
                base_url=f"/result/{token}/checkin",
                query=request.query_params,
            ),
        )
        for page, questions in pages
    ]
    return render(
        request,
        "web/checkin.html",
        {
            "groups": groups,
            "errors": page_input.errors if page_input else [],
            "action": f"/result/{token}/checkin",
            "result_url": f"/result/{token}",
        },
        status_code=status_code,
    )


@router.get(
    "/result/{token}/checkins/{checkin_id}", response_class=HTMLResponse, include_in_schema=False
)
async def checkin_result(
    request: Request, token: str, checkin_id: str, assessment: AssessmentDep, db: DbDep
) -> Response:
    found = await db.run(checkin_service.list_checkins, assessment.id)
    checkin = next((c for c in found if str(c.id) == checkin_id), None)
    if checkin is None:
        raise AppError(404)
    result = checkin.result
    due = checkin_service.next_due(assessment, found)
    return render(
        request,
        "web/checkin_result.html",
        {
            "result": result,
            "level": result["triage"]["level"],
            "chart": trend_chart(result.get("trend", [])),
            "next_due": due,
            "result_url": f"/result/{token}",
            "checkin_url": f"/result/{token}/checkin",
        },
    )


@router.get("/result/{token}/checkins.ics", include_in_schema=False)
async def reminders(request: Request, token: str, assessment: AssessmentDep) -> Response:
    """Calendar reminders for the check-ins at 2, 4 and 8 weeks: no account or e-mail needed.
    The link in them is the person's private one, so the file is sent to them only."""
    base = settings_of(request).public_url.rstrip("/")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//backaudit//check-ins//EN"]
    for weeks in checkin_service.DUE_WEEKS:
        day = assessment.created_at + timedelta(weeks=weeks)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{assessment.id}-week-{weeks}@backaudit",
            f"DTSTAMP:{assessment.created_at:%Y%m%dT%H%M%SZ}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"SUMMARY:Back pain check-in ({weeks} weeks)",
            f"DESCRIPTION:Time for your {weeks}-week back pain check-in: {base}/result/{token}/checkin",
            f"URL:{base}/result/{token}/checkin",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    response = Response("\r\n".join(lines) + "\r\n", media_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="back-check-ins.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response
