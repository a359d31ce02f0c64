"""The pages that say who is behind the check and what happens to people's answers: about
this check, privacy notice, cookies, accessibility statement, contact. Linked from every
page's footer (templates/shared/_trust_links.html), for patients and clinic staff alike."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.deps import RegistryDep, SettingsDep
from app.i18n import LANG_COOKIE, N_, current_language, gettext
from app.services import about
from app.services.drafts import DRAFT_LIFETIME
from app.services.sign_in_tokens import DEVICE_LIFETIME, PENDING_LIFETIME
from app.services.staff_sessions import SESSION_IDLE_TIMEOUT, SESSION_LIFETIME

from .entry import WEB_DRAFT_COOKIE
from .pages import CSRF_COOKIE, render

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Cookie:
    """A cookie as the cookies page lists it: ``purpose`` and ``lasts`` are marked for
    translation (N_) and shown in the reader's language, with ``TIMES`` put in."""

    name: str
    purpose: str
    lasts: str

    def shown(self) -> Cookie:
        return Cookie(self.name, gettext(self.purpose), gettext(self.lasts) % TIMES)


DRAFT_DAYS = DRAFT_LIFETIME.days
SESSION_HOURS = int(SESSION_LIFETIME.total_seconds() // 3600)
IDLE_MINUTES = int(SESSION_IDLE_TIMEOUT.total_seconds() // 60)
PENDING_MINUTES = int(PENDING_LIFETIME.total_seconds() // 60)
DEVICE_DAYS = DEVICE_LIFETIME.days
TIMES = {
    "days": DRAFT_DAYS,
    "hours": SESSION_HOURS,
    "idle_minutes": IDLE_MINUTES,
    "pending_minutes": PENDING_MINUTES,
    "device_days": DEVICE_DAYS,
}

# Every cookie the site sets, by its real name (tests/web/test_trust_pages.py checks each
# *_COOKIE in the code is here). All are strictly necessary: none tracks anyone.
PATIENT_COOKIES = (
    Cookie(
        CSRF_COOKIE,
        N_(
            "Checks that the answers you send come from this site's own pages, and not from another"
            " website pretending to be you."
        ),
        N_("Until you close your browser."),
    ),
    Cookie(
        WEB_DRAFT_COOKIE,
        N_(
            "Remembers which answers are yours while you answer, so that you can close the page and"
            " come back. Your answers are kept on our server, not in the cookie."
        ),
        N_("%(days)s days, or until you finish the questions."),
    ),
    Cookie(
        "ba_intake_…",
        N_(
            "Does the same job when a clinic has sent you a link that many people use. The end of"
            " the name is different for each link."
        ),
        N_("%(days)s days, or until you finish the questions."),
    ),
    Cookie(
        LANG_COOKIE,
        N_("Remembers the language you chose for these pages, if you chose one."),
        N_("A year, or until you choose another language."),
    ),
)
STAFF_COOKIES = (
    Cookie(
        "backaudit_login",
        N_("Checks that the sign-in form you send is this site's own."),
        N_("Until you sign in or close your browser."),
    ),
    Cookie(
        "backaudit_sign_in",
        N_(
            "Remembers, between your password and the code from your phone, that the password was"
            " right."
        ),
        N_("%(pending_minutes)s minutes, or until you enter the code."),
    ),
    Cookie(
        "backaudit_staff",
        N_("Keeps you signed in."),
        N_(
            "Until you sign out or close your browser, %(hours)s hours at most, and"
            " %(idle_minutes)s minutes if you do not use the staff pages."
        ),
    ),
    Cookie(
        "backaudit_device",
        N_(
            "Remembers that this browser has signed in to your account before, so that someone"
            " else's wrong passwords do not make you wait to sign in here."
        ),
        N_("%(device_days)s days from your last sign-in, or until you clear your cookies."),
    ),
    Cookie(
        "backaudit_set_password",
        N_("Checks that the form to set your password is this site's own."),
        N_("Until you close your browser."),
    ),
    Cookie(
        "backaudit_invitation",
        N_("Checks that the form to accept an invitation to a clinic's staff is this site's own."),
        N_("Until you close your browser."),
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
    # Its title in the page's language, where the questionnaire is offered in it.
    questionnaire = registry.get(registry.default_id, language=current_language().code)
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
        request,
        "cookies",
        settings,
        patient_cookies=[c.shown() for c in PATIENT_COOKIES],
        staff_cookies=[c.shown() for c in STAFF_COOKIES],
    )


@router.get("/accessibility", response_class=HTMLResponse, include_in_schema=False)
async def accessibility(request: Request, settings: SettingsDep) -> Response:
    return _page(request, "accessibility", settings)


@router.get("/contact", response_class=HTMLResponse, include_in_schema=False)
async def contact(request: Request, settings: SettingsDep) -> Response:
    return _page(request, "contact", settings)
