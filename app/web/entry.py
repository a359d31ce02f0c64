"""How someone came to the form: the open self-assessment (web), or a clinic's intake link.

The form's pages and routes are the same for both; an Entry carries the differences: the URL
prefix, the channel a submission is recorded with, the clinic's name to show, and how the
person's draft is found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from sqlmodel import Session

from app.deps import Db
from app.errors import AppError
from app.models import Clinic, Draft, IntakeLink
from app.services import drafts, intake
from app.services.interview import Origin

WEB_DRAFT_COOKIE = "ba_draft"


class LinkGonePageError(AppError):
    """An intake link that exists but can no longer be used; shown as a 410 page."""

    def __init__(self, reason: str, clinic: Clinic | None) -> None:
        super().__init__(410, f"This link has {reason}")
        self.reason = reason
        self.clinic = clinic  # whom to contact instead, with their details


@dataclass(frozen=True, slots=True)
class Entry:
    channel: Literal["web", "intake"]
    prefix: str  # "" for the web form, "/intake/<token>" for a link
    link: IntakeLink | None = None
    clinic: Clinic | None = None

    @property
    def start_url(self) -> str:
        return self.prefix or "/"

    def url(self, *parts: str) -> str:
        return "/".join((self.prefix, *parts))

    @property
    def origin(self) -> Origin:
        return Origin(self.channel, self.link)

    @property
    def clinic_name(self) -> str | None:
        return self.clinic.name if self.clinic else None

    @property
    def cookie_name(self) -> str:
        """The cookie holding the draft token; one per reusable link, so drafts do not mix."""
        if self.link is None:
            return WEB_DRAFT_COOKIE
        return f"ba_intake_{self.link.id.hex[:16]}"

    @property
    def draft_follows_link(self) -> bool:
        """A single-use link is one patient's: the link itself finds the draft, on any device."""
        return self.link is not None and self.link.single_use

    def find_draft(self, session: Session, request: Request) -> Draft | None:
        if self.link is not None and self.link.single_use:
            return drafts.find_for_link(session, self.link.id)
        return drafts.find_by_token(
            session,
            request.cookies.get(self.cookie_name),
            intake_link_id=self.origin.intake_link_id,
        )


async def entry_for(request: Request, db: Db) -> Entry:
    """The entry of this request: an intake link when the path has a token, else the web form."""
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
    return Entry(channel="intake", prefix=f"/intake/{token}", link=link, clinic=clinic)
