"""The patient pages: the self-assessment form, clinic intake links, and the result page.

The form's routes are written once and mounted three times: at / for anyone, under
/intake/{token} for a clinic's link, and under /result/{result_token}/change for correcting a
stored emergency result. The Entry (app/web/entry.py) carries the differences.
Routes are thin: the interview service (app/services/interview.py) walks the engine's pages and
stores, forms.py reads the fields, and the request's session commits once (app/deps.py), so
nothing is half-stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app import display, i18n
from app.answer_text import answer_text
from app.config import Settings
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
from app.engine import Page, Questionnaire
from app.errors import AppError
from app.i18n import gettext, ngettext
from app.models import Assessment, Checkin, Clinic
from app.services import (
    assessments,
    audit,
    checkin_dates,
    checkin_trend,
    checkins,
    corrections,
    intake,
    interview_navigation,
    pdf,
    rate_limits,
    result_pdfs,
)
from app.services import interview as flow
from app.services.questionnaires import Registry, UnknownQuestionnaireError

from . import contact, keep, present, shown
from .entry import (
    CorrectionClosedPageError,
    Entry,
    LinkGonePageError,
    correction_cookie,
    correction_rules,
    entry_for,
    prefer_language,
)
from .forms import PageInput, read_page, units_for
from .pages import DRAFT_COOKIE_AGE, CheckedForm, page_html, redirect, render, set_cookie

router = APIRouter()
router.include_router(contact.router)
router.include_router(keep.router)

# A PDF takes a few seconds to make: when all the PDF workers are busy, try again after this.
PDF_RETRY_AFTER_SECONDS = 10


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


def base_context(entry: Entry, **context: Any) -> dict[str, Any]:
    return {"entry": entry, "clinic_name": entry.clinic_name, "clinic": entry.clinic, **context}


# -- The form ---------------------------------------------------------------------------------------


@form_route("", "GET")
async def start(request: Request, entry: EntryDep, interview: InterviewDep) -> Response:
    if entry.corrects is not None:
        return redirect(_resume_url(entry, interview))
    resume_url = None
    if interview.draft is not None and interview.evaluation.answers:
        resume_url = _resume_url(entry, interview)
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
    page = _page_or_404(interview, page_id)
    evaluation = interview.evaluation
    if not interview_navigation.may_show(evaluation, page):
        return redirect(_resume_url(entry, interview))
    units = {
        q.id: units_for(q, request.query_params) for q in evaluation.visible_on(page) if q.widget
    }
    changing = _change_of(interview.questionnaire, request.query_params)
    return _render_page(request, entry, interview, page, None, units, changing=changing)


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
    page = _page_or_404(interview, page_id)
    if not interview_navigation.may_show(interview.evaluation, page):
        return redirect(_resume_url(entry, interview))
    # The page's own words (its language's), for the messages that name a question.
    words = shown.shown(request.app.state.registry, interview.questionnaire)
    page_input = read_page(shown.questions(words, interview.evaluation.visible_on(page)), form)
    changing = _change_of(interview.questionnaire, {k: v[0] for k, v in form.items() if v})
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
            return _render_page(
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
        return redirect(_resume_url(entry, interview))
    words = shown.shown(request.app.state.registry, interview.questionnaire)
    level = shown.level(words, level)
    changing = _change_of(interview.questionnaire, request.query_params)
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
        return redirect(_resume_url(entry, interview))
    q = interview.questionnaire
    words = shown.shown(request.app.state.registry, q)
    level = shown.level(words, flow.triage_so_far(evaluation))
    # Back from changing an answer: its row has the focus, and says if the change altered
    # what we advise (the level the answers had when "Change" was chosen came with it).
    returned = _change_of(q, {**request.query_params, "change": "1"})
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
        return redirect(_resume_url(entry, interview))
    # An intake submission is the clinic's record from now on: its audit log says the patient
    # wrote it (a correction's link to the one it replaces is logged as it is made).
    await db.run(
        audit.record_health_data,
        entry.origin.clinic_id,
        recorded.id,
        "assessment.created",
        who=audit.BY_PERSON,
    )
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


# Not /change: that path is the correction's own form (its start page).
@router.get("/result/{token}/mistake", response_class=HTMLResponse, include_in_schema=False)
async def confirm_correction(
    request: Request, token: str, assessment: AssessmentDep, db: DbDep
) -> Response:
    """ "I answered by mistake", asked first: nothing changes until they say yes. Too late, or
    once the clinic has it: the page that says why (as the POST would)."""
    result_url = f"/result/{token}"
    closed = await db.run(corrections.why_not_correctable, assessment, correction_rules(request))
    clinic = await _clinic_of(db, assessment)
    if closed is not None:
        raise CorrectionClosedPageError(result_url, closed, clinic)
    return render(
        request,
        "web/correct_confirm.html",
        {
            "result_url": result_url,
            "change_url": f"{result_url}/change",
            "sent_to": clinic.name if clinic else None,
        },
    )


@router.post("/result/{result_token}/change", include_in_schema=False)
async def begin_correction(
    request: Request, result_token: str, form: CheckedForm, db: DbDep, registry: RegistryDep
) -> Response:
    """ "I answered by mistake": the stored answers in a new draft, from the page with the
    emergency answer. The stored result stays until a new one replaces it. Too late, or once
    the clinic has it: a 409 page saying why and what to do (corrections.why_not_correctable)."""
    result_url = f"/result/{result_token}"
    try:
        begun = await db.run(
            corrections.start_correction, registry, result_token, correction_rules(request)
        )
    except corrections.CorrectionClosedError as closed:
        raise CorrectionClosedPageError(result_url, closed.reason, closed.clinic) from None
    if begun is None:
        raise AppError(404)
    response = redirect(f"{result_url}/change/questions/{begun.page.id}")
    set_cookie(
        response,
        request,
        correction_cookie(begun.assessment_id),
        begun.draft_token,
        max_age=DRAFT_COOKIE_AGE,
    )
    return response


# -- The result -------------------------------------------------------------------------------------


async def get_assessment(request: Request, token: str, db: DbDep) -> Assessment:
    assessment = await db.run(assessments.get_by_result_token, token)
    if assessment is None:
        raise AppError(404)
    # A result's pages (and its PDF, its calendar) open in the language it was made in: the
    # e-mailed link or the PDF's QR code on another device too. English, which older results
    # all say, leaves it to the browser.
    if assessment.language != i18n.BASE_LANGUAGE:
        prefer_language(request, assessment.language)
    return assessment


AssessmentDep = Annotated[Assessment, Depends(get_assessment)]


async def _result_view(
    db: Db, registry: Registry, settings: Settings, token: str, assessment: Assessment
) -> tuple[Clinic | None, list[Checkin], dict[str, Any]]:
    """What the result page and its PDF both show: its clinic, its check-ins and the view."""
    clinic = await _clinic_of(db, assessment)
    found = await db.run(checkins.list_checkins, assessment.id)
    view = present.result_view(
        assessment,
        registry,
        settings,
        token=token,
        sent_to=clinic.name if clinic else None,
        checkins=found,
    )
    return clinic, found, view


@router.get("/result/{token}", response_class=HTMLResponse, include_in_schema=False)
async def result_page(
    request: Request,
    token: str,
    assessment: AssessmentDep,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    clinic, found_checkins, view = await _result_view(db, registry, settings, token, assessment)
    result = assessment.result
    found = registry.level(result["triage"]["level"], assessment.questionnaire_id)
    follow_up = _follow_up(token, assessment, found_checkins, registry, clock())
    asked = await contact.contact_context(
        db, registry, assessment, token, given=request.query_params.get("contact") == "given"
    )
    kept = await keep.keep_context(
        db, registry, assessment, token, sent=request.query_params.get("kept") == "sent"
    )
    closed = await db.run(corrections.why_not_correctable, assessment, correction_rules(request))
    earlier = await db.run(assessments.replaced_record, assessment)
    return render(
        request,
        "web/result.html",
        {
            **view,
            **follow_up,
            **asked,
            **kept,
            "clinic": clinic,
            "reference": assessment.reference,
            "urgent": found is not None and found.urgent,
            "created_at": assessment.created_at,
            "change_url": f"/result/{token}/mistake" if closed is None else None,
            # A correction says which result it replaced, and when that was.
            "replaces_from": present.moment(earlier.created_at, clinic) if earlier else None,
            "replaces_title": earlier.result["triage"]["title"] if earlier else None,
        },
    )


@router.get("/result/{token}/pdf", include_in_schema=False)
async def result_pdf(
    request: Request,
    token: str,
    assessment: AssessmentDep,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    """The result page as a PDF to keep or give a doctor: laid out by its print stylesheet.
    Made once per version of the page and kept (app/services/result_pdfs.py)."""
    _, _, view = await _result_view(db, registry, settings, token, assessment)
    html = page_html(
        "web/result.html",
        # The link and its QR code are on the PDF: the person's own copy, their way back.
        {**view, "pdf": True, "static_url": pdf.static_file_url, "result_qr": qr_svg(view)},
        settings.help_lines,
    )
    key = result_pdfs.page_key(html)
    document = await db.run(result_pdfs.stored, assessment.id, key)
    if document is None:
        renderer: pdf.PdfRenderer = request.app.state.pdf_renderer
        try:
            document = await renderer.render(html, client_gone=request.is_disconnected)
        except (pdf.PdfUnavailableError, pdf.PdfBusyError) as error:
            busy = isinstance(error, pdf.PdfBusyError)
            response = render(
                request,
                "web/pdf_unavailable.html",
                {"result_url": f"/result/{token}", "busy": busy},
                status_code=503,
            )
            if busy:
                response.headers["Retry-After"] = str(PDF_RETRY_AFTER_SECONDS)
            return response
        except pdf.ClientGoneError:
            # Nobody is there to read an answer; 499 ("client closed request") in the log.
            return Response(status_code=499)
        await db.run(result_pdfs.keep, assessment.id, key, document, clock())
    made_on = assessment.created_at.strftime("%Y-%m-%d")
    return Response(
        document,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="back-pain-result-{made_on}.pdf"',
        },
    )


def qr_svg(view: Mapping[str, Any]) -> str:
    """The result link as a QR code, an inline SVG (no request, no script) for the PDF."""
    return str(
        segno.make(view["result_link"], error="m").svg_inline(
            scale=3, title=gettext("QR code of your private result link")
        )
    )


def _follow_up(
    token: str, assessment: Assessment, found: list[Checkin], registry: Registry, now: datetime
) -> dict[str, Any]:
    """For a result with a plan (self-care, or released after review): where to check in, when
    the next is due (a check-in opens on its due date; one before it is an early one, labelled),
    earlier check-ins and the trend of pain and PEG over them."""
    try:
        q = registry.exact(assessment.questionnaire_id, assessment.questionnaire_version)
    except UnknownQuestionnaireError:
        return {}
    if not checkins.has_programme(assessment, q):
        return {}
    due = checkin_dates.due_on(assessment, [c.created_at for c in found])
    early = checkin_dates.early(assessment, found)
    return {
        "checkins_url": f"/result/{token}/checkin",
        "checkins_ics": f"/result/{token}/checkins.ics",
        "next_checkin": due,
        "checkin_open": due is not None and due <= now,
        "past_checkins": [
            {"at": c.created_at, "url": f"/result/{token}/checkins/{c.id}", "early": c.id in early}
            for c in found
        ],
        "trend": display.trend_chart(checkin_trend.trend(registry, assessment, found))
        if found
        else None,
    }


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


@dataclass(frozen=True, slots=True)
class Change:
    """Changing an answer from "check your answers": the row to return to, and the triage
    level the answers had then (so that the page can say when a change altered it)."""

    row: str | None = None  # a question id
    was: str | None = None  # a level code

    def query(self) -> str:
        params = {"change": "1", "row": self.row, "was": self.was}
        return urlencode({k: v for k, v in params.items() if v is not None})

    def check_url(self, entry: Entry) -> str:
        url = entry.url("check")
        if self.row is None:
            return url
        back = urlencode({k: v for k, v in (("row", self.row), ("was", self.was)) if v})
        return f"{url}?{back}#row-{self.row}"


def _change_of(q: Questionnaire, values: Mapping[str, str]) -> Change | None:
    """Change mode, from a query or a form: None when not changing. A row or level this
    questionnaire does not have is left out (a link from an older page: nothing to return to)."""
    if values.get("change") != "1":
        return None
    row, was = values.get("row"), values.get("was")
    return Change(row if row in q.question_by_id else None, was if was in q.level_by_code else None)


def question_url(entry: Entry, page: Page, *, changing: Change | None = None) -> str:
    url = entry.url("questions", page.id)
    return f"{url}?{changing.query()}" if changing else url


def _page_or_404(interview: flow.Interview, page_id: str) -> Page:
    page = interview_navigation.find_page(interview.questionnaire, page_id)
    if page is None:
        raise AppError(404)
    return page


def _resume_url(entry: Entry, interview: flow.Interview) -> str:
    """Where someone who asked for a page they cannot have yet should go instead."""
    evaluation = interview.evaluation
    page = evaluation.next_page
    if interview.draft is not None and evaluation.stopped:
        page = interview_navigation.stop_page(
            evaluation
        )  # a correction: the page with the emergency answer
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
    changing: Change | None,
) -> Response:
    evaluation = interview.evaluation
    words = shown.shown(request.app.state.registry, interview.questionnaire)
    questions = shown.questions(words, evaluation.visible_on(page))
    base_url = entry.url("questions", page.id)
    fields = present.field_views(
        questions,
        answers=evaluation.answers,
        page_input=page_input,
        units=units,
        base_url=base_url,
        query=request.query_params,
        text_lang=shown.text_lang(words),
    )
    previous = interview_navigation.previous_page(evaluation, page)
    if changing:
        back_url = changing.check_url(entry)
    elif previous is not None:
        back_url = question_url(entry, previous)
    else:
        back_url = entry.start_url
    single = len(questions) == 1
    in_words = shown.page(words, page)
    heading = questions[0].text if single else in_words.title
    told = flow.doctor_level(evaluation)
    return render(
        request,
        "web/question.html",
        base_context(
            entry,
            page=in_words,
            fields=fields,
            errors=page_input.errors if page_input else [],
            single=single,
            heading=heading,
            title=heading,
            section_title=interview_navigation.section_title(words, page),
            progress=interview_navigation.progress(evaluation, page),
            action=base_url,
            changing=changing,
            correcting=entry.corrects is not None,
            back_url=back_url,
            doctor_level=shown.level(words, told) if told else None,
            text_lang=shown.text_lang(words),
        ),
        status_code=400 if page_input and page_input.errors else 200,
    )
