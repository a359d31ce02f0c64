"""What every staff page depends on: who is signed in, their clinic, and the CSRF check.

The staff router applies ``require_staff`` to every protected route at once, so no route can
forget it; ``AdminStaff`` narrows to admins; ``CsrfProtected`` goes on every POST. Only the
pages that set up the second factor take the lesser ``SignedInStaff`` (signed in, but perhaps
still without the second factor they must have).
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Annotated, Any, Final
from urllib.parse import quote

from babel import Locale, UnknownLocaleError
from fastapi import Depends, Request, status
from fastapi.responses import HTMLResponse

from app import i18n
from app.deps import ClockDep, DbDep
from app.errors import AppError
from app.services import clinics, second_factor, staff_sessions
from app.services.staff_sessions import SignedIn
from app.templating import templates

SESSION_COOKIE: Final = "backaudit_staff"
SECOND_FACTOR_PATH: Final = "/staff/second-factor"

StaffContext = SignedIn


async def require_signed_in(request: Request, db: DbDep, clock: ClockDep) -> StaffContext:
    """A session that is neither past its 12 hours nor idle for 30 minutes; its last-seen time
    is written at most once a minute (in a transaction of its own, before the route writes
    anything: an export's use case off the loop must be the request's first write)."""
    now = clock()
    staff = await db.run(staff_sessions.signed_in, request.cookies.get(SESSION_COOKIE), now=now)
    if staff is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise AppError(
            status.HTTP_303_SEE_OTHER,
            "Please sign in",
            headers={"Location": f"/staff/login?next={quote(target, safe='')}"},
        )
    if staff_sessions.seen_long_ago(staff.session, now):
        await db.run_committed(staff_sessions.mark_seen, staff.session, now)
    request.state.staff = staff
    return staff


SignedInStaff = Annotated[StaffContext, Depends(require_signed_in)]


async def require_staff(staff: SignedInStaff) -> StaffContext:
    """Signed in, and with a second factor if they must have one: until it is set up, every
    other staff page leads to the page that sets it up."""
    if second_factor.must_enrol(staff.user, staff.clinic):
        raise AppError(
            status.HTTP_303_SEE_OTHER,
            "Set up a second factor first",
            headers={"Location": SECOND_FACTOR_PATH},
        )
    return staff


CurrentStaff = Annotated[StaffContext, Depends(require_staff)]


async def require_admin(staff: CurrentStaff) -> StaffContext:
    if staff.user.role != "admin":
        raise AppError(status.HTTP_403_FORBIDDEN, "Only clinic admins can do this")
    return staff


AdminStaff = Annotated[StaffContext, Depends(require_admin)]


async def check_csrf(request: Request, staff: SignedInStaff) -> None:
    form = await request.form()  # Starlette caches it: the route can read it again
    given = form.get("csrf_token")
    if not isinstance(given, str) or not hmac.compare_digest(given, staff.session.csrf_token):
        raise AppError(status.HTTP_403_FORBIDDEN, "The form had expired. Please try again.")


CsrfProtected = Depends(check_csrf)


def waiting_time(since: datetime, now: datetime) -> str:
    """How long something has waited, as a queue shows it: "4 min", "2 h 15 min", "3 days"."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days = hours // 24
    return "1 day" if days == 1 else f"{days} days"


# A phone number as people type it ("+44 7700 900123", "01632 960-001", "(0)20 7946 0000"):
# 8 to 15 digits (E.164's most), and nothing but spaces, dots, dashes and brackets between.
_PHONE: Final = re.compile(r"\+?[\d\s().\-]+")


def phone_href(text: str | None) -> str | None:
    """A tel: link for a phone number (tap to call on a phone); None for anything else, such
    as a booking reference or an e-mail address."""
    text = (text or "").strip()
    digits = re.sub(r"\D", "", text)
    if not _PHONE.fullmatch(text) or not 8 <= len(digits) <= 15:
        return None
    return "tel:" + ("+" if text.startswith("+") else "") + digits


def local_time(moment: datetime, style: str = "minute", *, zone: tzinfo) -> str:
    """A time as staff read it, in their clinic's time zone, with the zone's abbreviation:
    "31 Mar 2026 14:05 BST". ``style``: minute, second, day, or long ("31 March 2026, 14:05
    BST")."""
    local = moment.astimezone(zone)
    formats = {
        "minute": "%d %b %Y %H:%M %Z",
        "second": "%d %b %Y %H:%M:%S %Z",
        "day": "%d %b %Y",
        "long": "%-d %B %Y, %H:%M %Z",
    }
    return local.strftime(formats[style])


def language_in_english(code: str) -> str:
    """A person's language, named for staff (whose pages stay English): "Polish"."""
    if code == i18n.PSEUDO_LANGUAGE:
        return "Pseudo-locale (en-XA, for tests)"
    try:
        return Locale.parse(code, sep="-").get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code


def render(
    request: Request,
    template: str,
    staff: StaffContext | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A staff page: never cached (health data), with the signed-in context."""
    zone = clinics.zone_of(staff.clinic) if staff else UTC
    response = templates.TemplateResponse(
        request,
        template,
        {
            "staff": staff,
            "csrf_token": staff.session.csrf_token if staff else "",
            "local_time": partial(local_time, zone=zone),
            "phone_href": phone_href,
            "waiting_time": waiting_time,
            "language_in_english": language_in_english,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
