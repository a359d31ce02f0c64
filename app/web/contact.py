"""A reusable ("poster") link's patient gives their name and a phone number or booking
reference, after their result: the clinic cannot otherwise reach them.

Asked on the result page, never before it: an emergency's advice is shown at once, and the
submission (with its alert to the clinic) is already stored when the question is asked. For an
emergency or urgent result the form says the clinic needs the details; staff see whether they
were given.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from app.deps import DbDep, RegistryDep
from app.errors import AppError
from app.i18n import gettext
from app.models import Assessment, Clinic
from app.services import assessments, intake
from app.services.questionnaires import Registry

from .pages import CheckedForm, redirect, render

router = APIRouter()


def contact_context(
    registry: Registry, assessment: Assessment, token: str, *, asks: bool, given: bool = False
) -> dict[str, Any]:
    """What the result page needs to ask for (or thank for) the person's contact details;
    ``asks``: intake.asks_for_contact, read with the rest of the page."""
    return {
        "ask_contact": asks,
        "contact_given": given and assessment.patient_name is not None,
        "contact_needed": _needed(registry, assessment),
        "contact_url": f"/result/{token}/contact",
        "contact_errors": {},
        "contact_values": {"patient_name": "", "patient_contact": ""},
    }


def _needed(registry: Registry, assessment: Assessment) -> bool:
    """An emergency or urgent result: the clinic must be able to reach the person."""
    level = registry.level(assessment.triage_level, assessment.questionnaire_id)
    return assessment.triage_rank == 0 or (level is not None and level.urgent)


@router.post("/result/{token}/contact", include_in_schema=False)
async def give_contact(
    request: Request, token: str, form: CheckedForm, db: DbDep, registry: RegistryDep
) -> Response:
    assessment = await db.run(assessments.get_by_result_token, token)
    if assessment is None:
        raise AppError(404)
    result_url = f"/result/{token}"
    if not await db.run(intake.asks_for_contact, assessment):
        return redirect(result_url)  # given already, or not a reusable link's submission
    name = (form.get("patient_name") or [""])[0]
    contact = (form.get("patient_contact") or [""])[0]
    if problems := intake.contact_problems(name, contact):
        clinic = await db.run(Session.get, Clinic, assessment.clinic_id)
        return render(
            request,
            "web/contact.html",
            {
                **contact_context(registry, assessment, token, asks=True),
                "contact_errors": problems,
                "contact_values": {"patient_name": name, "patient_contact": contact},
                "sent_to": clinic.name if clinic else gettext("the clinic"),
                "clinic_name": clinic.name if clinic else None,
                "clinic": clinic,
                "most_urgent": assessment.triage_rank == 0,
                "result_url": result_url,
                "errors": problems,
            },
            status_code=400,
        )
    await db.run(intake.give_contact, assessment, name=name, contact=contact)
    return redirect(f"{result_url}?contact=given#contact-thanks")


@router.get("/result/{token}/contact", include_in_schema=False)
async def contact_form_again(token: str) -> Response:
    """The form lives on the result page (a reload of a refused post lands here)."""
    return redirect(f"/result/{token}#contact-title")
