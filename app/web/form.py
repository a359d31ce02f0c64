"""The self-assessment form: its pages, "check your answers", and finishing into a stored
assessment.

The form's routes are written once and mounted three times: at / for anyone, under
/intake/{token} for a clinic's link, and under /result/{result_token}/change for correcting a
stored emergency result. The Entry (app/web/entry.py) carries the differences.
Routes are thin: the interview service (app/services/interview.py) walks the engine's pages and
stores, forms.py reads the fields, and the request's session commits once (app/deps.py), so
nothing is half-stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app import display
from app.answer_text import answer_text
from app.deps import (
    ClockDep,
    Db,
    DbDep,
    RegistryDep,
    SettingsDep,
    client_ip,
    settings_of,
    take_rate,
)
from app.errors import AppError
from app.i18n import gettext, ngettext
from app.services import (
    assessments,
    corrections,
    intake,
    interview_navigation,
    rate_limits,
)
from app.services import interview as flow

from . import shown
from .entry import (
    CorrectionClosedPageError,
    Entry,
    LinkGonePageError,
    entry_for,
)
from .form_pages import (
    Change,
    base_context,
    change_of,
    page_or_404,
    question_url,
    render_question_page,
    resume_page_url,
)
from .forms import read_page, units_for
from .pages import DRAFT_COOKIE_AGE, CheckedForm, redirect, render, set_cookie

router = APIRouter()


async def get_entry(request: Request, db: DbDep) -> Entry:
    return await entry_for(request, db)


EntryDep = Annotated[Entry, Depends(get_entry)]


async def get_interview(
    request: Request, db: DbDep, registry: RegistryDep, entry: EntryDep
) -> flow.Interview:
    return flow.resume(registry, await db.run(entry.find_draft, request))


InterviewDep = Annotated[flow.Interview, Depends(get_interview)]

# The form lives at each prefix; entry_for tells them apart by the path's parameters.
FORM_PREFIXES = ("", "/intake/{token}", "/result/{result_token}/change")


def form_route(path: str, method: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        for prefix in FORM_PREFIXES:
            router.add_api_route(
                (prefix + path) or "/",
                endpoint,
                methods=[method],
                response_class=HTMLResponse,
                include_in_schema=False,
            )
        return endpoint

    return register


@form_route("", "GET")
async def start(request: Request, entry: EntryDep, interview: InterviewDep) -> Response:
    if entry.corrects is not None:
        return redirect(resume_page_url(entry, interview))
    resume_url = None
    if interview.draft is not None and interview.evaluation.answers:
        resume_url = resume_page_url(entry, interview)
        # Told to speak to a doctor today before they left: that comes first again, with its
        # call button, not a question page with the reminder below the Continue button.
        told = flow.doctor_level(interview.evaluation)
        next_page = interview.evaluation.next_page
        if told is not None and told.urgent and next_page is not None:
            resume_url = f"{entry.url('advice')}?next={next_page.id}"
    first = interview.questionnaire.pages[0]
    return render(
        request,
        "web/start.html",
        base_context(
            entry,
            questionnaire=interview.questionnaire,
            start_url=question_url(entry, first),
            resume_url=resume_url,
        ),
    )


@form_route("/questions/{page_id}", "GET")
async def question_page(
    request: Request, page_id: str, entry: EntryDep, interview: InterviewDep
) -> Response:
    page = page_or_404(interview, page_id)
    evaluation = interview.evaluation
    if not interview_navigation.may_show(evaluation, page):
        return redirect(resume_page_url(entry, interview))
    units = {
        q.id: units_for(q, request.query_params) for q in evaluation.visible_on(page) if q.widget
    }
    changing = change_of(interview.questionnaire, request.query_params)
    return render_question_page(request, entry, interview, page, None, units, changing=changing)


@form_route("/questions/{page_id}", "POST")
async def answer_question_page(
    request: Request,
    page_id: str,
    form: CheckedForm,
    db: DbDep,
    entry: EntryDep,
    interview: InterviewDep,
    clock: ClockDep,
) -> Response:
    page = page_or_404(interview, page_id)
    if not interview_navigation.may_show(interview.evaluation, page):
        return redirect(resume_page_url(entry, interview))
    # The page's own words (its language's), for the messages that name a question.
    words = shown.shown(request.app.state.registry, interview.questionnaire)
    page_input = read_page(shown.questions(words, interview.evaluation.visible_on(page)), form)
    changing = change_of(interview.questionnaire, {k: v[0] for k, v in form.items() if v})
    with _cannot_store(entry):
        outcome = await db.run(
            flow.answer_page,
            entry.origin,
            interview,
            page,
            page_input.answers,
            page_input.cleared,
            form_has_errors=bool(page_input.errors),
            changing=changing is not None,
            now=clock(),
        )
    match outcome:
        case flow.ShowErrors():
            return render_question_page(
                request, entry, interview, page, page_input, page_input.units, changing=changing
            )
        case flow.Finished(recorded=recorded):
            return _finished(request, entry, recorded)
        case flow.GoTo(new_draft_token=new_draft_token):
            response = redirect(_after_page(entry, outcome, changing=changing))
            if new_draft_token:
                set_cookie(
                    response,
                    request,
                    entry.cookie_name,
                    new_draft_token,
                    max_age=DRAFT_COOKIE_AGE,
                )
            return response


def _after_page(entry: Entry, go_to: flow.GoTo, *, changing: Change | None) -> str:
    target = go_to.next_page
    if target is None:
        return changing.check_url(entry) if changing else entry.url("check")
    if go_to.tell_doctor is not None:
        # Tell them now, and let them choose to stop or go on.
        return f"{entry.url('advice')}?next={target.id}" + (
            f"&{changing.query()}" if changing else ""
        )
    return question_url(entry, target, changing=changing)


@form_route("/advice", "GET")
async def advice(
    request: Request, entry: EntryDep, interview: InterviewDep, settings: SettingsDep
) -> Response:
    """Told to see a doctor: they may stop here, or finish the questions for the appointment.
    Urgent: the call button first, as on the urgent result."""
    level = flow.doctor_level(interview.evaluation)
    next_page = interview_navigation.find_page(
        interview.questionnaire, request.query_params.get("next", "")
    )
    if level is None or next_page is None:
        return redirect(resume_page_url(entry, interview))
    words = shown.shown(request.app.state.registry, interview.questionnaire)
    level = shown.level(words, level)
    changing = change_of(interview.questionnaire, request.query_params)
    # Back: the page just answered, the last one before the page that comes next.
    answered = interview_navigation.previous_page(interview.evaluation, next_page)
    return render(
        request,
        "web/advice.html",
        base_context(
            entry,
            level=level,
            look=display.level_look(level),
            help_now=display.help_now(settings.help_lines, most_urgent=False, urgent=level.urgent),
            reasons=flow.reasons_so_far(interview.evaluation, words),
            text_lang=shown.text_lang(words),
            continue_url=question_url(entry, next_page, changing=changing),
            back_url=question_url(entry, answered, changing=changing) if answered else None,
            title=level.title,
        ),
    )


@form_route("/stop", "POST")
async def stop_early(
    request: Request,
    form: CheckedForm,
    db: DbDep,
    entry: EntryDep,
    interview: InterviewDep,
    clock: ClockDep,
) -> Response:
    return await _finish(request, db, entry, interview, early=True, now=clock())


@form_route("/check", "GET")
async def check_answers(request: Request, entry: EntryDep, interview: InterviewDep) -> Response:
    evaluation = interview.evaluation
    if interview.draft is None or not evaluation.complete or evaluation.stopped:
        # (Stopped: a correction still has its emergency answer; that page comes first.)
        return redirect(resume_page_url(entry, interview))
    q = interview.questionnaire
    words = shown.shown(request.app.state.registry, q)
    level = shown.level(words, flow.triage_so_far(evaluation))
    # Back from changing an answer: its row has the focus, and says if the change altered
    # what we advise (the level the answers had when "Change" was chosen came with it).
    returned = change_of(q, {**request.query_params, "change": "1"})
    changed_level = (
        level if returned and returned.was is not None and returned.was != level.code else None
    )
    rows = [
        (
            title,
            [
                {
                    "question": row.question,
                    "lines": answer_text(row.question, row.value),
                    "change_url": question_url(
                        entry, row.page, changing=Change(row.question.id, level.code)
                    ),
                    "focus": returned is not None and returned.row == row.question.id,
                }
                for row in section_rows
            ],
        )
        for title, section_rows in flow.answer_rows(
            words, evaluation.answers, shown.questions(words, evaluation.visible)
        )
    ]
    back = interview_navigation.last_visible_page(evaluation)
    return render(
        request,
        "web/check.html",
        base_context(
            entry,
            sections=rows,
            changed_level=changed_level,
            back_url=question_url(entry, back),
            title=gettext("Check your answers"),
        ),
    )


@form_route("/check", "POST")
async def submit_answers(
    request: Request,
    form: CheckedForm,
    db: DbDep,
    entry: EntryDep,
    interview: InterviewDep,
    clock: ClockDep,
) -> Response:
    return await _finish(request, db, entry, interview, early=False, now=clock())


async def _finish(
    request: Request,
    db: Db,
    entry: Entry,
    interview: flow.Interview,
    *,
    early: bool,
    now: datetime,
) -> Response:
    await _limit_submissions(request, db)
    with _cannot_store(entry):
        recorded = await db.run(flow.finish, entry.origin, interview, early=early, now=now)
    if recorded is None:
        return redirect(resume_page_url(entry, interview))
    return _finished(request, entry, recorded)


async def _limit_submissions(request: Request, db: Db) -> None:
    """Submissions (the form's, an intake link's, a correction's) count against the client's
    address; past the limit nothing is stored and the draft stays, to be sent later."""
    per_hour = settings_of(request).limits.submissions_per_hour
    bucket = rate_limits.submission_address_bucket(client_ip(request))
    wait = await take_rate(request, db, {bucket: rate_limits.Limit(per_hour, timedelta(hours=1))})
    if wait is not None:
        minutes = -(-int(wait.total_seconds()) // 60) or 1
        raise AppError(
            429,
            ngettext(
                "Too many answers have been sent from this internet connection in the last"
                " hour. Your answers are kept: try again in %(num)d minute",
                "Too many answers have been sent from this internet connection in the last"
                " hour. Your answers are kept: try again in %(num)d minutes",
                minutes,
            )
            % {"num": minutes},
            headers={"Retry-After": rate_limits.retry_after(wait)},
        )


# -- Helpers ----------------------------------------------------------------------------------------


@contextmanager
def _cannot_store(entry: Entry) -> Iterator[None]:
    """A single-use link another submission used while this person answered: the page that
    says so (with whom to contact, and when to call 999). A correction of a result that was
    corrected meanwhile (another tab): its result page, which shows the newest. Either way
    this submission stores nothing."""
    try:
        yield
    except intake.LinkGoneError as gone:
        raise LinkGonePageError(gone.reason, entry.clinic) from None
    except corrections.CorrectionClosedError as closed:
        raise CorrectionClosedPageError(entry.start_url, closed.reason, entry.clinic) from None


def _finished(request: Request, entry: Entry, recorded: assessments.Recorded) -> Response:
    response = redirect(f"/result/{recorded.result_token}")
    if not entry.draft_follows_link:
        response.delete_cookie(entry.cookie_name, path="/")
    return response
