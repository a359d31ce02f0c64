"""The pages that say who is behind the check and what happens to people's answers: about
this check, privacy notice, cookies, accessibility statement, contact. Linked from every
page's footer (templates/shared/_trust_links.html), for patients and clinic staff alike."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.deps import RegistryDep, SettingsDep
from app.services import about
from app.services.drafts import DRAFT_LIFETIME
from app.services.sign_in_tokens import DEVICE_LIFETIME, PENDING_LIFETIME
from app.services.staff_sessions import SESSION_IDLE_TIMEOUT, SESSION_LIFETIME

from .entry import WEB_DRAFT_COOKIE
from .pages import CSRF_COOKIE, render

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Cookie:
    name: str
    purpose: str
    lasts: str


DRAFT_DAYS = DRAFT_LIFETIME.days
SESSION_HOURS = int(SESSION_LIFETIME.total_seconds() // 3600)
IDLE_MINUTES = int(SESSION_IDLE_TIMEOUT.total_seconds() // 60)
PENDING_MINUTES = int(PENDING_LIFETIME.total_seconds() // 60)
DEVICE_DAYS = DEVICE_LIFETIME.days

# Every cookie the site sets, by its real name (tests/web/test_trust_pages.py checks each
# *_COOKIE in the code is here). All are strictly necessary: none tracks anyone.
PATIENT_COOKIES = (
    Cookie(
        CSRF_COOKIE,
        "Checks that the answers you send come from this site's own pages, and not from another"
        " website pretending to be you.",
        "Until you close your browser.",
    ),
    Cookie(
        WEB_DRAFT_COOKIE,
        "Remembers which answers are yours while you answer, so that you can close the page and"
        " come back. Your answers are kept on our server, not in the cookie.",
        f"{DRAFT_DAYS} days, or until you finish the questions.",
    ),
    Cookie(
        "ba_intake_…",
        "Does the same job when a clinic has sent you a link that many people use. The end of"
        " the name is different for each link.",
        f"{DRAFT_DAYS} days, or until you finish the questions.",
    ),
)
STAFF_COOKIES = (
    Cookie(
        "backaudit_login",
        "Checks that the sign-in form you send is this site's own.",
        "Until you sign in or close your browser.",
    ),
    Cookie(
        "backaudit_sign_in",
        "Remembers, between your password and the code from your phone, that the password was"
        " right.",
        f"{PENDING_MINUTES} minutes, or until you enter the code.",
    ),
    Cookie(
        "backaudit_staff",
        "Keeps you signed in.",
        f"Until you sign out or close your browser, {SESSION_HOURS} hours at most, and"
        f" {IDLE_MINUTES} minutes if you do not use the staff pages.",
    ),
    Cookie(
        "backaudit_device",
        "Remembers that this browser has signed in to your account before, so that someone"
        " else's wrong passwords do not make you wait to sign in here.",
        f"{DEVICE_DAYS} days from your last sign-in, or until you clear your cookies.",
    ),
    Cookie(
        "backaudit_set_password",
        "Checks that the form to set your password is this site's own.",
        "Until you close your browser.",
    ),
    Cookie(
        "backaudit_invitation",
        "Checks that the form to accept an invitation to a clinic's staff is this site's own.",
        "Until you close your browser.",
    ),
)


def _page(request: Request, template: str, settings: SettingsDep, **context: object) -> Response:
    return render(
        request,
        f"web/trust/{template}.html",
        {
            "operator_name": settings.operator.name,
            "contact_email": settings.operator.contact_email,
            "draft_days": DRAFT_DAYS,
            **context,
        },
    )


@router.get("/about", response_class=HTMLResponse, include_in_schema=False)
async def about_page(request: Request, settings: SettingsDep, registry: RegistryDep) -> Response:
    questionnaire = registry.default
    return _page(
        request,
        "about",
        settings,
        questionnaire=questionnaire,
        last_reviewed=about.last_reviewed(settings.questionnaires_dir, questionnaire.version),
    )


@router.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
async def privacy(request: Request, settings: SettingsDep) -> Response:
    return _page(request, "privacy", settings, session_hours=SESSION_HOURS)


@router.get("/cookies", response_class=HTMLResponse, include_in_schema=False)
async def cookies(request: Request, settings: SettingsDep) -> Response:
    return _page(
        request, "cookies", settings, patient_cookies=PATIENT_COOKIES, staff_cookies=STAFF_COOKIES
    )


@router.get("/accessibility", response_class=HTMLResponse, include_in_schema=False)
async def accessibility(request: Request, settings: SettingsDep) -> Response:
    return _page(request, "accessibility", settings)


@router.get("/contact", response_class=HTMLResponse, include_in_schema=False)
async def contact(request: Request, settings: SettingsDep) -> Response:
    return _page(request, "contact", settings)
