"""The result page and its PDF: what the person was told, the follow-up (check-ins, the
clinic), and the same as a document to keep or take to a doctor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app import display, i18n
from app.config import Settings
from app.deps import (
    ClockDep,
    Db,
    DbDep,
    RegistryDep,
    SettingsDep,
)
from app.errors import AppError
from app.i18n import gettext
from app.models import Assessment, Checkin, Clinic
from app.services import (
    assessments,
    checkin_dates,
    checkin_trend,
    checkins,
    pdf,
    result_link,
    result_pdfs,
)
from app.services.questionnaires import Registry, UnknownQuestionnaireError

from . import contact, keep, present
from .entry import correction_rules, prefer_language, preferred_language
from .pages import page_html, render

router = APIRouter()


# A PDF takes a few seconds to make: when all the PDF workers are busy, try again after this.
PDF_RETRY_AFTER_SECONDS = 10


async def get_assessment(request: Request, token: str, db: DbDep) -> Assessment:
    assessment = await db.run(assessments.get_by_result_token, token)
    if assessment is None:
        raise AppError(404)
    show_in_its_language(request, assessment)
    return assessment


def show_in_its_language(request: Request, assessment: Assessment) -> None:
    """A result's pages (and its PDF, its calendar) open in the language it was made in: the
    e-mailed link or the PDF's QR code on another device too. English, which older results
    all say, leaves it to the browser."""
    if assessment.language != i18n.BASE_LANGUAGE:
        prefer_language(request, assessment.language)


AssessmentDep = Annotated[Assessment, Depends(get_assessment)]


def page_language(request: Request) -> Callable[[str], str]:
    """The language a result's page will be in, given the one the result was made in (what
    ``show_in_its_language`` chooses): for a use case that words or stores something in it
    within the call that finds the result."""
    current = i18n.current_language().code

    def of(made_in: str) -> str:
        if made_in == i18n.BASE_LANGUAGE:
            return current
        return preferred_language(request, made_in) or current

    return of


def _result_view(
    registry: Registry, settings: Settings, token: str, record: result_link.ResultRecord
) -> dict[str, Any]:
    """What the result page and its PDF both show."""
    return present.result_view(
        record.assessment,
        registry,
        settings,
        token=token,
        sent_to=record.clinic.name if record.clinic else None,
        checkins=record.checkins,
    )


@router.get("/result/{token}", response_class=HTMLResponse, include_in_schema=False)
async def result_page(
    request: Request,
    token: str,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    given = request.query_params.get("contact") == "given"
    sent = request.query_params.get("kept") == "sent"
    page = await db.run(
        result_link.open_page,
        token,
        correction_rules(request),
        page_language(request),
        contact_sent=sent,
    )
    if page is None:
        raise AppError(404)
    assessment, clinic, earlier = page.assessment, page.clinic, page.replaced
    show_in_its_language(request, assessment)
    view = _result_view(registry, settings, token, page)
    found = registry.level(assessment.result["triage"]["level"], assessment.questionnaire_id)
    return render(
        request,
        "web/result.html",
        {
            **view,
            **_follow_up(token, assessment, page.checkins, registry, clock()),
            **contact.contact_context(
                registry, assessment, token, asks=page.asks_contact, given=given
            ),
            **keep.keep_context(registry, assessment, token, contact=page.contact, sent=sent),
            "clinic": clinic,
            "reference": assessment.reference,
            "urgent": found is not None and found.urgent,
            "created_at": assessment.created_at,
            "change_url": f"/result/{token}/mistake" if page.correction_closed is None else None,
            # A correction says which result it replaced, and when that was.
            "replaces_from": present.moment(earlier.created_at, clinic) if earlier else None,
            "replaces_title": earlier.result["triage"]["title"] if earlier else None,
        },
    )


@router.get("/result/{token}/pdf", include_in_schema=False)
async def result_pdf(
    request: Request,
    token: str,
    db: DbDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    """The result page as a PDF to keep or give a doctor: laid out by its print stylesheet.
    Made once per version of the page and kept (app/services/result_pdfs.py)."""
    record = await db.run(result_link.open_record, token, page_language(request))
    if record is None:
        raise AppError(404)
    assessment = record.assessment
    show_in_its_language(request, assessment)
    view = _result_view(registry, settings, token, record)
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


async def clinic_of(db: Db, assessment: Assessment) -> Clinic | None:
    return await db.run(result_link.clinic_of, assessment)
