"""The person's check-ins, at their result's private link: a few short pages, then what changed.

The pages are the check-in questionnaire's, shown as its branching says (the blocks of the
current plan; nothing after a warning sign). Nothing is stored until the last page: each page
carries the answers of the pages before it as hidden fields, so leaving half-way leaves
nothing behind, and every answer is checked again on the server when the check-in is sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app import i18n
from app.deps import ClockDep, DbDep, RegistryDep, settings_of
from app.display import help_now, level_look, trend_chart
from app.engine import Evaluation, Page, Question, Questionnaire
from app.errors import AppError
from app.i18n import format_day, gettext
from app.services import checkin_calendar, checkin_pages
from app.services.checkins import CheckinLimitError

from . import present, shown
from .forms import FieldError, PageInput, read_page
from .pages import CheckedForm, redirect, render
from .result import AssessmentDep, page_language, show_in_its_language

router = APIRouter()

PAGE_FIELD: Final = "page"  # the page whose questions were just answered
BACK: Final = "back"  # the value of the "go" button that goes one page back
PERSON_ZONE: Final = ZoneInfo("Europe/London")  # the times a person is shown
V = TypeVar("V", bound=checkin_pages.Visit)


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


def _arrived(request: Request, outcome: V | None) -> V:
    """A 404 for a token that is no result's; else the page in the result's language."""
    if outcome is None:
        raise AppError(404)
    show_in_its_language(request, outcome.assessment)
    return outcome


@router.get("/result/{token}/checkin", response_class=HTMLResponse, include_in_schema=False)
async def checkin_form(
    request: Request, token: str, db: DbDep, registry: RegistryDep, clock: ClockDep
) -> Response:
    outcome = await db.run(checkin_pages.open_checkin, registry, token, now=clock())
    match _arrived(request, outcome):
        case checkin_pages.NotPossible(assessment=assessment):
            # A bookmark or the see-a-doctor page's link, before there is a plan to check in
            # on: say when check-ins start, not "page not found".
            return render(
                request,
                "web/checkin_not_yet.html",
                {"result_url": f"/result/{token}", "released": assessment.released_at is not None},
            )
        case checkin_pages.FirstPage(evaluation=evaluation, page=first, early_until=early_until):
            return _page(
                request, token, evaluation, first, None, carried=[], early_until=early_until
            )
    raise AssertionError("every outcome is shown above")


def _reader(form: Mapping[str, Sequence[str]]) -> Callable[[Sequence[Question], str], PageInput]:
    """The form read for the check-in's questions, its messages in the page's language."""

    def read(questions: Sequence[Question], language: str) -> PageInput:
        with i18n.language(language):
            return read_page(questions, form)

    return read


@router.post("/result/{token}/checkin", include_in_schema=False)
async def send_checkin(
    request: Request,
    token: str,
    form: CheckedForm,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
) -> Response:
    outcome = await db.run(
        checkin_pages.send_page,
        registry,
        token,
        _reader(form),
        page_id=(form.get(PAGE_FIELD) or [""])[0],
        back=(form.get("go") or [""])[0] == BACK,
        page_language=page_language(request),
        now=clock(),
        clock=clock,
        limits=settings_of(request).limits.checkins,
    )
    match _arrived(request, outcome):
        case checkin_pages.NotPossible():
            raise AppError(404)
        case checkin_pages.NoSuchPage():
            raise AppError(400, gettext("This page of the check-in does not exist: start it again"))
        case checkin_pages.ShowPage(evaluation=evaluation, page=page, sent=sent):
            carried = _carried(evaluation.questionnaire, page, form)
            return _page(
                request, token, evaluation, page, None, carried=carried, answers=sent.answers
            )
        case checkin_pages.ShowProblems(evaluation=evaluation, page=page, sent=sent, wrong=wrong):
            errors = [e for e in sent.errors if e.question_id in wrong]
            return _problems(
                request, token, form, evaluation, page, PageInput(errors=errors, raw=sent.raw)
            )
        case checkin_pages.MissingAnswers(
            evaluation=evaluation, page=page, sent=sent, problems=problems
        ):
            by_id = {x.id: x for x in page.questions}
            errors = [
                FieldError(
                    p.question, p.question, gettext("Answer this question"), _summary(by_id, p)
                )
                for p in problems
                if p.question in by_id
            ]
            return _problems(
                request, token, form, evaluation, page, PageInput(errors=errors, raw=sent.raw)
            )
        case checkin_pages.LimitReached(limit=limit):
            return _limit_page(request, token, limit, clock())
        case checkin_pages.Recorded(checkin=recorded):
            return redirect(f"/result/{token}/checkins/{recorded.id}")
    raise AssertionError("every outcome is shown above")


def _problems(
    request: Request,
    token: str,
    form: Mapping[str, Sequence[str]],
    evaluation: Evaluation,
    page: Page,
    page_input: PageInput,
) -> Response:
    """A page again, with its problems."""
    carried = _carried(evaluation.questionnaire, page, form)
    return _page(request, token, evaluation, page, page_input, carried=carried, status_code=422)


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
    request: Request, token: str, checkin_id: str, db: DbDep, registry: RegistryDep
) -> Response:
    outcome = await db.run(
        checkin_pages.show_checkin,
        registry,
        token,
        checkin_id,
        page_language=page_language(request),
    )
    if not isinstance(view := _arrived(request, outcome), checkin_pages.CheckinShown):
        raise AppError(404)
    checkin, result = view.checkin, view.result
    level = registry.level(checkin.triage_level, checkin.questionnaire_id)
    return render(
        request,
        "web/checkin_result.html",
        {
            "result": result,
            "text_lang": None if view.in_page_language else "en-GB",
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
            "next_due": view.next_due,
            "early": view.early,
            "early_due": view.early_due,
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
