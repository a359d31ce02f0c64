"""Deleting a result: the person's own choice, confirmed, and the page that says it is gone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.deps import (
    DbDep,
)
from app.services import (
    assessments,
)

from .pages import CheckedForm, redirect, render
from .result import AssessmentDep, clinic_of

router = APIRouter()


@router.get("/result/{token}/delete", response_class=HTMLResponse, include_in_schema=False)
async def confirm_delete(
    request: Request, token: str, assessment: AssessmentDep, db: DbDep
) -> Response:
    clinic = await clinic_of(db, assessment)
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
