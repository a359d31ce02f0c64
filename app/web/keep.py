"""Keep your result: "send me this link" on the result page, and the unsubscribe link of the
e-mails it leads to (app/services/keep.py). The unsubscribe page needs no sign-in: its link
is signed, and the form on it (not the GET, which mail scanners follow) forgets the address.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from app import i18n
from app.deps import DbDep, RegistryDep, settings_of, take_rate
from app.errors import AppError
from app.i18n import gettext
from app.models import Assessment, ResultContact
from app.services import assessments, keep, rate_limits
from app.services.questionnaires import Registry

from .pages import CheckedForm, redirect, render

router = APIRouter()

# A result's link e-mails in an hour: enough to fix a typo, too few to mail strangers with.
LINK_EMAILS_PER_HOUR: Final = 3


def keep_context(
    registry: Registry,
    assessment: Assessment,
    token: str,
    *,
    contact: ResultContact | None = None,
    sent: bool = False,
) -> dict[str, Any]:
    """What the result page's "send me this link" form needs. The stored address (``contact``)
    is read only just after sending (``sent``), the one time the page speaks of it: not on
    every view."""
    return {
        "keep": {
            "url": f"/result/{token}/keep",
            "offer_reminders": keep.has_programme(registry, assessment),
            "sent": sent and contact is not None,
            "reminders": contact is not None and contact.reminders,
            "reminders_ticked": False,
            "email": "",
            "errors": {},
        }
    }


@router.post("/result/{token}/keep", include_in_schema=False)
async def send_link(
    request: Request, token: str, form: CheckedForm, db: DbDep, registry: RegistryDep
) -> Response:
    assessment = await db.run(assessments.get_by_result_token, token)
    if assessment is None:
        raise AppError(404)
    email = (form.get("email") or [""])[0]
    reminders = (form.get("reminders") or [""])[0] == "yes"
    bucket = rate_limits.result_email_bucket(assessment.id)
    limit = rate_limits.Limit(LINK_EMAILS_PER_HOUR, timedelta(hours=1))
    if (wait := await take_rate(request, db, {bucket: limit})) is not None:
        raise AppError(
            429,
            gettext(
                "Your link has been sent several times in the last hour. Look in your junk mail,"
                " or try again later"
            ),
            headers={"Retry-After": rate_limits.retry_after(wait)},
        )
    settings = settings_of(request)
    try:
        await db.run(
            keep.ask, assessment, token=token, email=email, reminders=reminders,
            registry=registry, secret_key=settings.secret_key, now=request.app.state.clock(),
            language=i18n.current_language().code,
        )  # fmt: skip
    except ValueError as problem:
        context = keep_context(registry, assessment, token)
        context["keep"].update(
            email=email, reminders_ticked=reminders, errors={"email": str(problem)}
        )
        return render(
            request, "web/keep.html", {**context, "result_url": f"/result/{token}"}, status_code=400
        )
    return redirect(f"/result/{token}?kept=sent#keep-title")


@router.get("/result/{token}/keep", include_in_schema=False)
async def keep_form_again(token: str) -> Response:
    """The form lives on the result page (a reload of a refused post lands here)."""
    return redirect(f"/result/{token}#keep-title")


@router.get("/reminders/stop/{token}", include_in_schema=False)
async def confirm_unsubscribe(request: Request, token: str, db: DbDep) -> Response:
    found = await db.run(keep.find_unsubscribing, token, settings_of(request).secret_key)
    return render(
        request,
        "web/unsubscribe.html",
        {"found": found is not None, "done": False, "action": f"/reminders/stop/{token}"},
    )


@router.post("/reminders/stop/{token}", include_in_schema=False)
async def unsubscribe(request: Request, token: str, form: CheckedForm, db: DbDep) -> Response:
    await db.run(keep.unsubscribe, token, settings_of(request).secret_key)
    return redirect("/reminders/stopped")


@router.get("/reminders/stopped", include_in_schema=False)
async def unsubscribed(request: Request) -> Response:
    return render(request, "web/unsubscribe.html", {"found": True, "done": True, "action": ""})
