"""How someone came to the form: the open self-assessment (web), a clinic's intake link, or
the correction of a stored emergency result (a mis-tapped answer, from its result page).

The form's pages and routes are the same for all; an Entry carries the differences: the URL
prefix, the channel a submission is recorded with, the clinic's name to show, how the
person's draft is found, and which record a correction replaces.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from sqlmodel import Session

from app import i18n
from app.clock import Clock
from app.deps import Db
from app.errors import AppError
from app.models import Clinic, Draft, IntakeLink
from app.services import corrections, drafts, intake
from app.services.interview import Origin

WEB_DRAFT_COOKIE = "ba_draft"


class LinkGonePageError(AppError):
    """An intake link that exists but can no longer be used; shown as a 410 page."""

    def __init__(self, reason: str, clinic: Clinic | None) -> None:
        super().__init__(410, f"This link has {reason}")
        self.reason = reason
        self.clinic = clinic  # whom to contact instead, with their details


class CorrectionClosedPageError(AppError):
    """A result that may not be corrected (any more). Replaced already (another tab), or never
    offered: back to the result page it came from. Too late, or the clinic has it: a 409 page
    that says why and what to do instead."""

    def __init__(
        self, result_url: str, reason: corrections.ClosedReason, clinic: Clinic | None = None
    ) -> None:
        super().__init__(409, "This result cannot be changed")
        self.result_url = result_url
        self.reason = reason
        self.clinic = clinic

    @property
    def back_to_result(self) -> bool:
        return self.reason in ("replaced", "not_offered")


def correction_rules(request: Request) -> corrections.CorrectionRules:
    """The correction window (interview.CORRECTION_WINDOW) at the app's clock's time now."""
    clock: Clock = request.app.state.clock
    return corrections.CorrectionRules(now=clock())


def correction_cookie(assessment_id: uuid.UUID) -> str:
    """The cookie holding a correction's draft token: one per corrected record."""
    return f"ba_fix_{assessment_id.hex[:16]}"


@dataclass(frozen=True, slots=True)
class Entry:
    channel: Literal["web", "intake"]
    prefix: str  # "" for the web form, "/intake/<token>" for a link, "/result/<t>/change"
    link: IntakeLink | None = None
    clinic: Clinic | None = None
    corrects: uuid.UUID | None = None  # the stored record a correction replaces
    result_url: str | None = None  # a correction: the result page it started from

    @property
    def start_url(self) -> str:
        if self.result_url is not None:
            return self.result_url
        return self.prefix or "/"

    def url(self, *parts: str) -> str:
        return "/".join((self.prefix, *parts))

    @property
    def origin(self) -> Origin:
        # The page's language (app/i18n.py), stored with the record: the person's.
        return Origin(
            self.channel,
            self.link,
            corrects=self.corrects,
            language=i18n.current_language().code,
        )

    @property
    def clinic_name(self) -> str | None:
        return self.clinic.name if self.clinic else None

    @property
    def cookie_name(self) -> str:
        """The cookie holding the draft token; one per reusable link, so drafts do not mix."""
        if self.corrects is not None:
            return correction_cookie(self.corrects)
        if self.link is None:
            return WEB_DRAFT_COOKIE
        return f"ba_intake_{self.link.id.hex[:16]}"

    @property
    def draft_follows_link(self) -> bool:
        """A single-use link is one patient's: the link itself finds the draft, on any device.
        (A correction's draft is found by its own cookie.)"""
        return self.corrects is None and self.link is not None and self.link.single_use

    def find_draft(self, session: Session, request: Request) -> Draft | None:
        if self.draft_follows_link and self.link is not None:
            return drafts.find_for_link(session, self.link.id)
        return drafts.find_by_token(
            session,
            request.cookies.get(self.cookie_name),
            intake_link_id=self.origin.intake_link_id,
        )


async def entry_for(request: Request, db: Db) -> Entry:
    """The entry of this request: an intake link when the path has a token, a correction when
    it has a result's token, else the web form."""
    result_token = request.path_params.get("result_token")
    if result_token is not None:
        return await correction_entry(db, result_token, correction_rules(request))
    token = request.path_params.get("token")
    if token is None:
        return Entry(channel="web", prefix="")
    try:
        link, clinic = await db.run(intake.resolve_link, token)
    except intake.LinkNotFoundError:
        raise AppError(404) from None
    except intake.LinkGoneError as gone:
        # A revoked link may have gone to the wrong person: do not say whose it was.
        shown = None if gone.reason == "revoked" else await db.run(intake.clinic_of_token, token)
        raise LinkGonePageError(gone.reason, shown) from None
    # An intake link opens in its clinic's language (an admin's setting): before the browser's
    # Accept-Language, as the clinic knows whom it sends its links to.
    prefer_language(request, clinic.intake_language if clinic is not None else None)
    return Entry(channel="intake", prefix=f"/intake/{token}", link=link, clinic=clinic)


def prefer_language(request: Request, wanted: str | None) -> None:
    """This request's page in ``wanted`` (a default the page learns late: its clinic's, or the
    one a result was made in), unless the person chose one themselves (the switcher, its
    cookie). A language not offered now (a draft where drafts are off) is passed over."""
    if (code := preferred_language(request, wanted)) is not None:
        i18n.use_language(code)


def preferred_language(request: Request, wanted: str | None) -> str | None:
    """``wanted`` if ``prefer_language`` would put the page in it, else None."""
    if wanted is None:
        return None
    offered = [language.code for language in request.app.state.languages]
    chosen = i18n.chosen_by_person(request.url.query, request.headers.get("cookie", ""), offered)
    return wanted if chosen is None and wanted in offered else None


async def correction_entry(db: Db, result_token: str, rules: corrections.CorrectionRules) -> Entry:
    """Correcting the result behind ``result_token``: its channel, link and clinic, whatever
    state the link is in now (the submission went through it). Every page of a correction
    checks again that it is still allowed: the window ends the correction under way too."""
    result_url = f"/result/{result_token}"
    try:
        found = await db.run(corrections.find_correction, result_token, rules)
    except corrections.CorrectionClosedError as closed:
        raise CorrectionClosedPageError(result_url, closed.reason, closed.clinic) from None
    if found is None:
        raise AppError(404)
    return Entry(
        channel=found.channel,
        prefix=f"{result_url}/change",
        link=found.link,
        clinic=found.clinic,
        corrects=found.assessment.id,
        result_url=result_url,
    )
