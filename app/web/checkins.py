"""The person's check-ins, at their result's private link: a few short pages, then what changed.

The pages are the check-in questionnaire's, shown as its branching says (the blocks of the
current plan; nothing after a warning sign). Nothing is stored until the last page: each page
carries the answers of the pages before it as hidden fields, so leaving half-way leaves
nothing behind, and every answer is checked again on the server when the check-in is sent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app import i18n
from app.deps import ClockDep, DbDep, RegistryDep, settings_of
from app.display import help_now, level_look, trend_chart
from app.engine import AnswerError, Evaluation, Page, Question, Questionnaire
from app.errors import AppError
from app.i18n import current_language, format_day, gettext
from app.models import Assessment, Checkin
from app.services import (
    checkin_calendar,
    checkin_dates,
    interview_navigation,
    result_language,
)
from app.services import checkins as checkin_service
from app.services.checkins import CheckinLimitError, CheckinNotPossibleError
from app.services.questionnaires import Registry

from . import present, shown
from .forms import FieldError, PageInput, read_page
from .pages import CheckedForm, redirect, render
from .result import AssessmentDep

router = APIRouter()

PAGE_FIELD: Final = "page"  # the page whose questions were just answered
BACK: Final = "back"  # the value of the "go" button that goes one page back
PERSON_ZONE: Final = ZoneInfo("Europe/London")  # the times a person is shown


def _questionnaire(registry: Registry, assessment: Assessment) -> Questionnaire:
    try:
        return checkin_service.questionnaire_for(registry, assessment)
    except CheckinNotPossibleError:
        raise AppError(404) from None


def _evaluate(
    registry: Registry,
    assessment: Assessment,
    found: list[Checkin],
    answers: Mapping[str, Any],
    now: datetime | None = None,
) -> Evaluation:
    try:
        return checkin_service.evaluate_checkin(registry, assessment, found, answers, now)
    except CheckinNotPossibleError:
        raise AppError(404) from None


def _carried(
    q: Questionnaire, shown: Page, form: Mapping[str, Sequence[str]]
) -> list[tuple[str, str]]:
    """Every answer the browser sent, as it sent it, except those of the page being shown (its
    fields hold them): earlier pages' answers, and later ones' after Back."""
    names = {x.id for page in q.pages if page != shown for x in page.questions}
    return [
        (key, value)
        for key, values in form.items()
        if key in names or key.partition("-")[0] in names
        for value in values
    ]


@router.get("/result/{token}/checkin", response_class=HTMLResponse, include_in_schema=False)
async def checkin_form(
    request: Request,
    token: str,
    assessment: AssessmentDep,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
) -> Response:
    try:
        checkin_service.questionnaire_for(registry, assessment)
    except CheckinNotPossibleError:
        # A bookmark or the see-a-doctor page's link, before there is a plan to check in on:
        # say when check-ins start, not "page not found".
        return render(
            request,
            "web/checkin_not_yet.html",
            {"result_url": f"/result/{token}", "released": assessment.released_at is not None},
        )
    found = await db.run(checkin_service.list_checkins, assessment.id)
    evaluation = _evaluate(registry, assessment, found, {})
    first = next(p for p in evaluation.questionnaire.pages if evaluation.page_is_visible(p))
    # Before its due date a check-in is an early one: allowed, and the page says it will not
    # count as the one due (app/services/checkins.py due_on).
    due = checkin_dates.due_on(assessment, [c.created_at for c in found])
    early_until = due if due is not None and due > clock() else None
    return _page(request, token, evaluation, first, None, carried=[], early_until=early_until)


@router.post("/result/{token}/checkin", include_in_schema=False)
async def send_checkin(
    request: Request,
    token: str,
    form: CheckedForm,
    assessment: AssessmentDep,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
) -> Response:
    found = await db.run(checkin_service.list_checkins, assessment.id)
    q = _questionnaire(registry, assessment)
    # No page named: every page at once (what a client that sends the whole form means).
    sent_page = (form.get(PAGE_FIELD) or [""])[0]
    current = interview_navigation.find_page(q, sent_page) if sent_page else q.pages[-1]
    if current is None:
        raise AppError(400, gettext("This page of the check-in does not exist: start it again"))
    upto = list(q.pages[: q.pages.index(current) + 1])
    # Every answer sent, later pages' too (after Back): they fill in the page shown next. Only
    # the pages up to this one are checked and evaluated.
    sent = read_page([x for page in q.pages for x in page.questions], form)
    asked = {x.id for page in upto for x in page.questions}
    page_input = PageInput(
        answers={k: v for k, v in sent.answers.items() if k in asked},
        errors=[e for e in sent.errors if e.question_id in asked],
        raw=sent.raw,
    )
    evaluation = _evaluate(registry, assessment, found, page_input.answers, clock())
    shown = {x.id for x in evaluation.visible}
    # Only what this check-in asks counts: after a warning sign, the rest is not needed.
    page_input.errors = [e for e in page_input.errors if e.question_id in shown]
    page_input.answers = {k: v for k, v in page_input.answers.items() if k in shown}
    visible = [page for page in upto if evaluation.page_is_visible(page)]

    if (form.get("go") or [""])[0] == BACK:
        before = interview_navigation.previous_page(evaluation, current)
        if before is not None:
            return _page(
                request,
                token,
                evaluation,
                before,
                None,
                carried=_carried(q, before, form),
                answers=sent.answers,
            )
    if evaluation.stopped:
        # An emergency sign never waits for the other answers: an answer with a problem was
        # not read, so leaving it out gives the same level, and the check-in is sent now.
        page_input.errors = []
    if page_input.errors:
        # The first page with a problem is shown again (an earlier one only if it was altered),
        # with that page's problems.
        wrong = {e.question_id for e in page_input.errors}
        again = next(p for p in visible if any(x.id in wrong for x in p.questions))
        on_page = {x.id for x in again.questions}
        page_input.errors = [e for e in page_input.errors if e.question_id in on_page]
        return _page(
            request,
            token,
            evaluation,
            again,
            page_input,
            carried=_carried(q, again, form),
            status_code=422,
        )
    following = (
        None if evaluation.stopped else interview_navigation.following_page(evaluation, current)
    )
    if following is not None and following not in upto:
        return _page(
            request,
            token,
            evaluation,
            following,
            None,
            carried=_carried(q, following, form),
            answers=sent.answers,
        )
    try:
        # A clinic's patient writes to the clinic's record: the audit log says so, as "the
        # patient" (no account; the private link is who they are), in the same call.
        recorded = await db.run(
            checkin_service.record_person_checkin,
            registry,
            assessment,
            page_input.answers,
            # This request's one evaluation. The form's answers on hidden pages were dropped
            # above, so none is stored as ignored.
            evaluation=dataclasses.replace(evaluation, ignored=()),
            channel="intake" if assessment.clinic_id else "web",
            clock=clock,
            limits=settings_of(request).limits.checkins,
            language=i18n.current_language().code,
        )
    except CheckinLimitError as exc:
        return _limit_page(request, token, exc, clock())
    except AnswerError as exc:
        # An earlier page's answer is missing (the form was altered): ask for it there.
        missing = {p.question for p in exc.problems}
        again = next((p for p in visible if any(x.id in missing for x in p.questions)), visible[0])
        by_id = {x.id: x for x in again.questions}
        page_input.errors = [
            FieldError(p.question, p.question, gettext("Answer this question"), _summary(by_id, p))
            for p in exc.problems
            if p.question in by_id
        ]
        return _page(
            request,
            token,
            evaluation,
            again,
            page_input,
            carried=_carried(q, again, form),
            status_code=422,
        )
    return redirect(f"/result/{token}/checkins/{recorded.id}")


def _limit_page(request: Request, token: str, exc: CheckinLimitError, now: datetime) -> Response:
    """A 429 in words: how many a day, when the next is possible, and, since a warning sign
    must never wait for the limit, what to do about one now."""
    wait = max(1, math.ceil((exc.next_at - now).total_seconds()))
    response = render(
        request,
        "web/checkin_limit.html",
        {
            "per_day": exc.per_day,
            # In UK time, as the service's numbers are UK ones (EMERGENCY_NUMBER...).
            "next_at_text": _time_on_day(exc.next_at.astimezone(PERSON_ZONE)),
            "result_url": f"/result/{token}",
        },
        status_code=429,
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _time_on_day(at: datetime) -> str:
    return gettext("%(time)s on %(day)s") % {"time": f"{at:%H:%M}", "day": format_day(at)}


def _summary(by_id: dict[str, Question], problem: Any) -> str:
    question = by_id.get(problem.question)
    return gettext("%(question)s – answer this question") % {
        "question": question.text if question else problem.question
    }


def _page(
    request: Request,
    token: str,
    evaluation: Evaluation,
    page: Page,
    page_input: PageInput | None,
    *,
    carried: list[tuple[str, str]],
    answers: Mapping[str, Any] | None = None,
    status_code: int = 200,
    early_until: datetime | None = None,
) -> Response:
    """One page of the check-in, with the other pages' answers carried along."""
    q = evaluation.questionnaire
    pages = [p for p in q.pages if evaluation.page_is_visible(p)]
    number = pages.index(page) + 1 if page in pages else 1
    later = q.pages[q.pages.index(page) + 1 :]
    last = evaluation.stopped or not any(evaluation.page_is_visible(p) for p in later)
    words = shown.shown(request.app.state.registry, q)
    fields = present.field_views(
        shown.questions(words, page.questions),
        answers=answers if answers is not None else evaluation.answers,
        page_input=page_input,
        units={},
        base_url=f"/result/{token}/checkin",
        query=request.query_params,
        text_lang=shown.text_lang(words),
    )
    return render(
        request,
        "web/checkin.html",
        {
            "page": shown.page(words, page),
            "fields": fields,
            "carried": carried,
            "number": number,
            "count": len(pages),
            "last": last,
            "first": number == 1,
            "early_until": early_until,
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
    request: Request,
    token: str,
    checkin_id: str,
    assessment: AssessmentDep,
    db: DbDep,
    registry: RegistryDep,
) -> Response:
    found = await db.run(checkin_service.list_checkins, assessment.id)
    checkin = next((c for c in found if str(c.id) == checkin_id), None)
    if checkin is None:
        raise AppError(404)
    # In the page's language: worked out again from the stored answers (the stored result is
    # English), or English, marked so, where that cannot be done exactly.
    language = current_language().code
    [(result, used)] = await db.run(
        result_language.checkin_results, registry, assessment, [checkin], language
    )
    due = checkin_dates.due_on(assessment, [c.created_at for c in found])
    before = [
        c.created_at for c in found if (c.created_at, c.id) < (checkin.created_at, checkin.id)
    ]
    early_due = checkin_dates.due_on(assessment, before)
    level = registry.level(checkin.triage_level, checkin.questionnaire_id)
    return render(
        request,
        "web/checkin_result.html",
        {
            "result": result,
            "text_lang": None if used == language else "en-GB",
            "level": result["triage"]["level"],
            # For the safety net (web/_safety_net.html).
            "most_urgent": checkin.triage_rank == 0,
            # A warning sign: the call button straight after the heading, as on a result.
            "help_now": help_now(
                settings_of(request).help_lines,
                most_urgent=checkin.triage_rank == 0,
                urgent=bool(level and level.urgent),
            ),
            "call_style": level_look(level, checkin.triage_level).style,
            "self_care": checkin.triage_level
            == registry.for_record(
                checkin.questionnaire_id, checkin.questionnaire_version
            ).self_care_level,
            "chart": trend_chart(result.get("trend", [])),
            "next_due": due,
            "early": checkin.id in checkin_dates.early(assessment, found),
            "early_due": early_due,
            "result_url": f"/result/{token}",
            "checkin_url": f"/result/{token}/checkin",
        },
    )


@router.get("/result/{token}/checkins.ics", include_in_schema=False)
async def reminders(request: Request, token: str, assessment: AssessmentDep) -> Response:
    """Calendar reminders for the check-ins at 2, 4 and 8 weeks, each with an alarm on its
    morning, in the page's language: no account or e-mail needed."""
    base = settings_of(request).public_url.rstrip("/")
    ics = checkin_calendar.calendar(assessment, checkin_url=f"{base}/result/{token}/checkin")
    response = Response(ics, media_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="back-check-ins.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response
