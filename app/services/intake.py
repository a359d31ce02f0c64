"""Clinic intake links: creating them, and resolving a token a patient opened."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, func, select

from app.i18n import gettext
from app.models import Assessment, Clinic, IntakeLink, StaffUser, utcnow
from app.security import hash_token, new_token
from app.services import audit
from app.services.text import control_character_problem


class LinkNotFoundError(LookupError):
    """No link has this token (answer 404)."""


class LinkGoneError(Exception):
    """The link exists but can no longer be used (answer 410). ``reason``: expired, revoked, used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def create_link(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    label: str | None,
    single_use: bool,
    valid_for: timedelta,
    created_by_id: uuid.UUID | None,
) -> tuple[IntakeLink, str]:
    """Returns the link and its token (shown once; only the hash is stored)."""
    if problem := label_problem(label):
        raise ValueError(problem)
    token = new_token(24)  # 192 bits
    link = IntakeLink(
        clinic_id=clinic_id,
        token_hash=hash_token(token),
        label=(label or "").strip() or None,
        single_use=single_use,
        expires_at=utcnow() + valid_for,
        created_by_id=created_by_id,
    )
    session.add(link)
    session.flush()
    return link, token


def label_problem(label: str | None) -> str | None:
    """Why ``label`` cannot be a link's patient reference, for people; None if it can."""
    return control_character_problem((label or "").strip())


def link_state(link: IntakeLink) -> str:
    """active, revoked, used or expired: what a patient opening the link now would find."""
    if link.revoked_at is not None:
        return "revoked"
    if link.single_use and link.used_at is not None:
        return "used"
    if link.expires_at <= utcnow():
        return "expired"
    return "active"


def resolve_link(session: Session, token: str) -> tuple[IntakeLink, Clinic]:
    """The usable link for ``token`` and its clinic, or LinkNotFoundError / LinkGoneError."""
    link = session.exec(
        select(IntakeLink).where(IntakeLink.token_hash == hash_token(token))
    ).first()
    if link is None:
        raise LinkNotFoundError(token)
    state = link_state(link)
    if state != "active":
        raise LinkGoneError(state)
    clinic = session.get(Clinic, link.clinic_id)
    assert clinic is not None  # foreign key
    return link, clinic


def mark_used(session: Session, link: IntakeLink, *, now: datetime | None = None) -> None:
    """Called when a submission through the link is stored, first, in the same transaction.

    A single-use link is used once, as the database decides: of two submissions racing for it
    (two tabs, a double tap) one changes the row and the other gets LinkGoneError("used"), and
    its transaction stores nothing. ``now``: the submission's time (the system clock's when
    not given)."""
    now = now or utcnow()
    if not link.single_use:
        if link.used_at is None:  # when it was first used: shown to staff
            link.used_at = now
            session.add(link)
            session.flush()
        return
    claimed = session.connection().execute(
        update(IntakeLink)
        .where(col(IntakeLink.id) == link.id, col(IntakeLink.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise LinkGoneError("used")
    set_committed_value(link, "used_at", now)  # the row says so already


def clinic_of_token(session: Session, token: str) -> Clinic | None:
    """The clinic that made the link with this token, whatever state the link is in: a patient
    whose link has expired or been used is told whom to contact."""
    link = session.exec(
        select(IntakeLink).where(IntakeLink.token_hash == hash_token(token))
    ).first()
    return None if link is None else session.get(Clinic, link.clinic_id)


# -- who sent it: a reusable link's patient ---------------------------------------------------------

CONTACT_MAX: Final = 200


def asks_for_contact(session: Session, assessment: Assessment) -> bool:
    """Whether the person's result page asks for their name and contact: their submission came
    through a reusable ("poster") link, which says nothing about who they are, and they have
    not given them yet. (A single-use link is one patient's: the clinic knows whom it sent.)"""
    if assessment.channel != "intake" or assessment.intake_link_id is None:
        return False
    if assessment.patient_name is not None:
        return False
    link = session.get(IntakeLink, assessment.intake_link_id)
    return link is not None and not link.single_use


def contact_problems(name: str, contact: str) -> dict[str, str]:
    """A message per field that cannot be stored, for the person; empty when both can."""
    problems: dict[str, str] = {}
    for field, text, missing in (
        ("patient_name", name, gettext("Enter your name")),
        ("patient_contact", contact, gettext("Enter a phone number or your booking reference")),
    ):
        text = text.strip()
        if not text:
            problems[field] = missing
        elif len(text) > CONTACT_MAX:
            problems[field] = gettext("This must be %(most)s characters or fewer") % {
                "most": CONTACT_MAX
            }
        elif control_character_problem(text):
            problems[field] = gettext("Remove tabs, line breaks and other special characters")
    return problems


def give_contact(session: Session, assessment: Assessment, *, name: str, contact: str) -> None:
    """Keep the name and contact a reusable link's patient gave with their submission (shown to
    the clinic's staff only; never logged, and not in the audit entry)."""
    if problems := contact_problems(name, contact):
        raise ValueError("; ".join(problems.values()))
    assessment.patient_name = name.strip()
    assessment.patient_contact = contact.strip()
    assessment.updated_at = utcnow()
    session.add(assessment)
    if assessment.clinic_id is not None:
        audit.record(
            session,
            clinic_id=assessment.clinic_id,
            actor_id=None,
            action="assessment.contact_given",
            target_type="assessment",
            target_id=assessment.id,
        )
    session.flush()


# -- for staff ------------------------------------------------------------------------------------

VALID_FOR_DAYS: Final = (1, 3, 7, 14, 30, 90)


@dataclass(frozen=True, slots=True)
class LinkRow:
    link: IntakeLink
    submissions: int
    created_by: str | None  # e-mail

    @property
    def status(self) -> str:
        return link_state(self.link)


def list_links(session: Session, *, clinic_id: uuid.UUID, limit: int = 200) -> list[LinkRow]:
    """The clinic's links, newest first, with how many submissions came through each."""
    counts = (
        select(Assessment.intake_link_id, func.count().label("n"))
        .where(col(Assessment.clinic_id) == clinic_id)
        .group_by(col(Assessment.intake_link_id))
        .subquery()
    )
    rows = session.exec(
        select(IntakeLink, counts.c.n, StaffUser.email)
        .outerjoin(counts, counts.c.intake_link_id == col(IntakeLink.id))
        .outerjoin(StaffUser, col(StaffUser.id) == col(IntakeLink.created_by_id))
        .where(col(IntakeLink.clinic_id) == clinic_id)
        .order_by(col(IntakeLink.created_at).desc())
        .limit(limit)
    ).all()
    return [LinkRow(link, int(n or 0), email) for link, n, email in rows]


def get_clinic_link(session: Session, *, clinic_id: uuid.UUID, link_id: str) -> IntakeLink | None:
    """The clinic's link with this id, or None (also for another clinic's link)."""
    try:
        key = uuid.UUID(link_id)
    except ValueError:
        return None
    link = session.get(IntakeLink, key)
    return link if link is not None and link.clinic_id == clinic_id else None


def revoke_link(session: Session, link: IntakeLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.add(link)
        session.flush()


# -- staff's changes, each with its audit event (audit.Actor) --------------------------------------


def create_link_for_clinic(
    session: Session, by: audit.Actor, *, label: str | None, single_use: bool, valid_for: timedelta
) -> tuple[IntakeLink, str]:
    """A new link of the staff member's clinic, and its token (shown once)."""
    link, token = create_link(
        session,
        clinic_id=by.clinic_id,
        label=label,
        single_use=single_use,
        valid_for=valid_for,
        created_by_id=by.user_id,
    )
    audit.record_by(
        session,
        by,
        "link.created",
        target_type="intake_link",
        target_id=link.id,
        detail={"single_use": link.single_use, "days": valid_for.days},
    )
    return link, token


def create_link_by_operator(
    session: Session, clinic: Clinic, *, label: str | None, single_use: bool, valid_for: timedelta
) -> tuple[IntakeLink, str]:
    """A new link of ``clinic`` made from the command line (no staff member: the audit event
    says so), and its token (shown once). ValueError for a patient reference that cannot be."""
    link, token = create_link(
        session,
        clinic_id=clinic.id,
        label=label,
        single_use=single_use,
        valid_for=valid_for,
        created_by_id=None,
    )
    audit.record(
        session,
        clinic_id=clinic.id,
        actor_id=None,
        action="link.created",
        target_type="intake_link",
        target_id=link.id,
        detail={"single_use": link.single_use, "days": valid_for.days, "by": "command line"},
    )
    return link, token


def revoke_clinic_link(session: Session, by: audit.Actor, link_id: str) -> IntakeLink | None:
    """The clinic's link, revoked; None if the clinic has no such link."""
    link = get_clinic_link(session, clinic_id=by.clinic_id, link_id=link_id)
    if link is not None:
        revoke_link(session, link)
        audit.record_by(session, by, "link.revoked", target_type="intake_link", target_id=link.id)
    return link
