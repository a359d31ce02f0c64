"""The patient pages: the self-assessment form, clinic intake links, and the result page.

The form's routes are written once and mounted twice: at / for anyone, and under
/intake/{token} for a clinic's link. The Entry (app/web/entry.py) carries the differences.
Routes are thin: the interview service (app/services/interview.py) walks the engine's pages and
stores, forms.py reads the fields, and the request's session commits once (app/deps.py), so
nothing is half-stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app import display
from app.deps import Db, DbDep, RegistryDep, SettingsDep
from app.engine import Page
from app.errors import AppError
from app.models import Assessment, Clinic
from app.services import assessments, intake, pdf
from app.services import interview as flow

from . import present
from .entry import Entry, LinkGonePageError, entry_for
from .forms import PageInput, read_page, units_for
from .pages import DRAFT_COOKIE_AGE, CheckedForm, page_html, redirect, render, set_cookie

router = APIRouter()


async def get_entry(request: Request, db: DbDep) -> Entry:
    return await entry_for(request, db)


EntryDep = Annotated[Entry, Depends(get_entry)]


async def get_interview(
    request: Request, db: DbDep, registry: RegistryDep, entry: EntryDep
) -> flow.Interview:
    return flow.resume(registry, await db.run(entry.find_draft, request))


InterviewDep = Annotated[flow.Interview, Depends(get_interview)]

# The form lives at both prefixes; entry_for tells them apart by the {token} in the path.
FORM_PREFIXES = ("", "/intake/{token}")


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


def base_context(entry: Entry, **context: Any) -> dict[str, Any]:
    return {"entry": entry, "clinic_name": entry.clinic_name, **context}


# -- The form ---------------------------------------------------------------------------------------


@form_route("", "GET")
async def start(request: Request, entry: EntryDep, interview: InterviewDep) -> Response:
    resume_url = None
    if interview.draft is not None and interview.evaluation.answers:
        resume_url = _resume_url(entry, interview)
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
    page = _page_or_404(interview, page_id)
    evaluation = interview.evaluation
    if not flow.may_show(evaluation, page):
        return redirect(_resume_url(entry, interview))
    units = {
        q.id: units_for(q, request.query_params) for q in evaluation.visible_on(page) if q.widget
    }
    changing = request.query_params.get("change") == "1"
    return _render_page(request, entry, interview, page, None, units, changing=changing)


@form_route("/questions/{page_id}", "POST")
async def answer_question_page(
    request: Request,
    page_id: str,
    form: CheckedForm,
    db: DbDep,
    entry: EntryDep,
    interview: InterviewDep,
) -> Response:
    page = _page_or_404(interview, page_id)
    if not flow.may_show(interview.evaluation, page):
        return redirect(_resume_url(entry, interview))
    page_input = read_page(interview.evaluation.visible_on(page), form)
    changing = _changing(form.get("change"))
    after = flow.with_page(interview, page_input.answers, page_input.cleared)
    if page_input.errors and after.emergency is None:
        # Nothing is stored; the page comes back with the messages.
        return _render_page(
            request, entry, interview, page, page_input, page_input.units, changing=changing
        )
    with _link_used_meanwhile(entry):
        answered = await db.run(
            flow.answer_page, entry.origin, interview, page, after, changing=changing
        )
    if answered.recorded is not None:
        return _finished(request, entry, answered.recorded)
    response = redirect(_after_page(entry, answered, changing=changing))
    if answered.new_draft_token:
        set_cookie(
            response, request, entry.cookie_name, answered.new_draft_token,
            max_age=DRAFT_COOKIE_AGE,
        )  # fmt: skip
    return response


def _after_page(entry: Entry, answered: flow.Answered, *, changing: bool) -> str:
    target = answered.next_page
    if target is None:
        return entry.url("check")
    if answered.tell_doctor is not None:
        # Tell them now, and let them choose to stop or go on.
        return f"{entry.url('advice')}?next={target.id}" + ("&change=1" if changing else "")
    return question_url(entry, target, changing=changing)


@form_route("/advice", "GET")
async def advice(request: Request, entry: EntryDep, interview: InterviewDep) -> Response:
    """Told to see a doctor: they may stop here, or finish the questions for the appointment."""
    level = flow.doctor_level(interview.evaluation)
    next_page = flow.find_page(interview.questionnaire, request.query_params.get("next", ""))
    if level is None or next_page is None:
        return redirect(_resume_url(entry, interview))
    changing = _changing([request.query_params.get("change", "")])
    return render(
        request,
        "web/advice.html",
        base_context(
            entry,
            level=level,
            look=display.level_look(level),
            reasons=flow.reasons_so_far(interview.evaluation),
            continue_url=question_url(entry, next_page, changing=changing),
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
) -> Response:
    return await _finish(request, db, entry, interview, early=True)


@form_route("/check", "GET")
async def check_answers(request: Request, entry: EntryDep, interview: InterviewDep) -> Response:
    evaluation = interview.evaluation
    if interview.draft is None or not evaluation.complete:
        return redirect(_resume_url(entry, interview))
    rows = [
        (
            title,
            [
                {
                    "question": row.question,
                    "lines": display.answer_text(row.question, row.value),
                    "change_url": question_url(entry, row.page, changing=True),
                }
                for row in section_rows
            ],
        )
        for title, section_rows in flow.answer_rows(
            interview.questionnaire, evaluation.answers, list(evaluation.visible)
        )
    ]
    back = flow.last_visible_page(evaluation)
    return render(
        request,
        "web/check.html",
        base_context(
            entry,
            sections=rows,
            back_url=question_url(entry, back),
            title="Check your answers",
        ),
    )


@form_route("/check", "POST")
async def submit_answers(
    request: Request,
    form: CheckedForm,
    db: DbDep,
    entry: EntryDep,
    interview: InterviewDep,
) -> Response:
    return await _finish(request, db, entry, interview, early=False)


async def _finish(
    request: Request, db: Db, entry: Entry, interview: flow.Interview, *, early: bool
) -> Response:
    with _link_used_meanwhile(entry):
        recorded = await db.run(flow.finish, entry.origin, interview, early=early)
    if recorded is None:
        return redirect(_resume_url(entry, interview))
    return _finished(request, entry, recorded)


# -- The result -------------------------------------------------------------------------------------


async def get_assessment(token: str, db: DbDep) -> Assessment:
    assessment = await db.run(assessments.get_by_result_token, token)
    if assessment is None:
        raise AppError(404)
    return assessment


AssessmentDep = Annotated[Assessment, Depends(get_assessment)]


@router.get("/result/{token}", response_class=HTMLResponse, include_in_schema=False)
async def result_page(
    request: Request,
    token: str,
    assessment: AssessmentDep,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    clinic = await _clinic_of(db, assessment)
    view = present.result_view(
        assessment, registry, settings, token=token, sent_to=clinic.name if clinic else None
    )
    return render(request, "web/result.html", view)


@router.get("/result/{token}/pdf", include_in_schema=False)
async def result_pdf(
    request: Request,
    token: str,
    assessment: AssessmentDep,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    """The result page as a PDF to keep or give a doctor: laid out by its print stylesheet."""
    clinic = await _clinic_of(db, assessment)
    view = present.result_view(
        assessment, registry, settings, token=token, sent_to=clinic.name if clinic else None
    )
    html = page_html("web/result.html", {**view, "pdf": True, "static_url": pdf.static_file_url})
    try:
        document = await run_in_threadpool(pdf.make_pdf, html)
    except pdf.PdfUnavailableError:
        return render(
            request,
            "web/pdf_unavailable.html",
            {"result_url": f"/result/{token}"},
            status_code=503,
        )
    made_on = assessment.created_at.strftime("%Y-%m-%d")
    return Response(
        document,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="back-pain-result-{made_on}.pdf"',
        },
    )


@router.get("/result/{token}/delete", response_class=HTMLResponse, include_in_schema=False)
async def confirm_delete(
    request: Request, token: str, assessment: AssessmentDep, db: DbDep
) -> Response:
    clinic = await _clinic_of(db, assessment)
    return render(
        request,
        "web/delete.html",
        {
            "result_url": f"/result/{token}",
            "delete_url": f"/result/{token}/delete",
            "clinic_name": clinic.name if clinic else None,
        },
    )


@router.post("/result/{token}/delete", include_in_schema=False)
async def delete_result(form: CheckedForm, assessment: AssessmentDep, db: DbDep) -> Response:
    if assessment.clinic_id is not None:
        # A clinic's submission is part of the patient's care record there (it may be an
        # emergency nobody has read yet): the person's own page goes, the clinic's copy stays.
        await db.run(assessments.remove_result_link, assessment)
        return redirect("/deleted?kept=clinic")
    await db.run(assessments.delete_assessment, assessment)
    return redirect("/deleted")


@router.get("/deleted", response_class=HTMLResponse, include_in_schema=False)
async def deleted(request: Request) -> Response:
    return render(
        request, "web/deleted.html", {"clinic_kept": request.query_params.get("kept") == "clinic"}
    )


# -- Helpers ----------------------------------------------------------------------------------------


async def _clinic_of(db: Db, assessment: Assessment) -> Clinic | None:
    if assessment.clinic_id is None:
        return None
    return await db.run(Session.get, Clinic, assessment.clinic_id)


@contextmanager
def _link_used_meanwhile(entry: Entry) -> Iterator[None]:
    """A single-use link another submission used while this person answered: the page that
    says so (with whom to contact, and when to call 999); this submission stores nothing."""
    try:
        yield
    except intake.LinkGoneError as gone:
        raise LinkGonePageError(gone.reason, entry.clinic_name) from None


def question_url(entry: Entry, page: Page, *, changing: bool = False) -> str:
    url = entry.url("questions", page.id)
    return f"{url}?change=1" if changing else url


def _page_or_404(interview: flow.Interview, page_id: str) -> Page:
    page = flow.find_page(interview.questionnaire, page_id)
    if page is None:
        raise AppError(404)
    return page


def _changing(values: Sequence[str] | None) -> bool:
    return values is not None and list(values[:1]) == ["1"]


def _resume_url(entry: Entry, interview: flow.Interview) -> str:
    """Where someone who asked for a page they cannot have yet should go instead."""
    page = interview.evaluation.next_page
    if page is not None:
        return question_url(entry, page)
    if interview.draft is not None and interview.evaluation.complete:
        return entry.url("check")
    return entry.start_url


def _finished(request: Request, entry: Entry, recorded: assessments.Recorded) -> Response:
    response = redirect(f"/result/{recorded.result_token}")
    if not entry.draft_follows_link:
        response.delete_cookie(entry.cookie_name, path="/")
    return response


def _render_page(
    request: Request,
    entry: Entry,
    interview: flow.Interview,
    page: Page,
    page_input: PageInput | None,
    units: dict[str, Any],
    *,
    changing: bool,
) -> Response:
    evaluation = interview.evaluation
    questions = evaluation.visible_on(page)
    base_url = entry.url("questions", page.id)
    fields = present.field_views(
        questions,
        answers=evaluation.answers,
        page_input=page_input,
        units=units,
        base_url=base_url,
        query=request.query_params,
    )
    previous = flow.previous_page(evaluation, page)
    if changing:
        back_url = entry.url("check")
    elif previous is not None:
        back_url = question_url(entry, previous)
    else:
        back_url = entry.start_url
    single = len(questions) == 1
    heading = questions[0].text if single else page.title
    return render(
        request,
        "web/question.html",
        base_context(
            entry,
            page=page,
            fields=fields,
            errors=page_input.errors if page_input else [],
            single=single,
            heading=heading,
            title=heading,
            section_title=flow.section_title(interview.questionnaire, page),
            progress=evaluation.progress(),
            action=base_url,
            changing=changing,
            back_url=back_url,
            doctor_level=flow.doctor_level(evaluation),
        ),
        status_code=400 if page_input and page_input.errors else 200,
    )
