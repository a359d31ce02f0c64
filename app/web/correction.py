"""Correcting a stored emergency result ("I answered by mistake"): the page that asks, and
beginning the correction (the form, under /result/{result_token}/change, does the rest)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.deps import (
    DbDep,
    RegistryDep,
)
from app.errors import AppError
from app.services import (
    corrections,
)

from .entry import (
    CorrectionClosedPageError,
    correction_cookie,
    correction_rules,
)
from .pages import DRAFT_COOKIE_AGE, CheckedForm, redirect, render, set_cookie
from .result import AssessmentDep, clinic_of

router = APIRouter()


# Not /change: that path is the correction's own form (its start page).
@router.get("/result/{token}/mistake", response_class=HTMLResponse, include_in_schema=False)
async def confirm_correction(
    request: Request, token: str, assessment: AssessmentDep, db: DbDep
) -> Response:
    """ "I answered by mistake", asked first: nothing changes until they say yes. Too late, or
    once the clinic has it: the page that says why (as the POST would)."""
    result_url = f"/result/{token}"
    closed = await db.run(corrections.why_not_correctable, assessment, correction_rules(request))
    clinic = await clinic_of(db, assessment)
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
