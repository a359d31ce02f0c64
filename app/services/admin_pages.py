"""What a clinic admin's pages read, each in one call (one trip to the database's thread on
PostgreSQL): the clinic's members with its open invitations, and a page of its audit log with
the members' addresses. (What admins change is clinic_admin.py.) Every query takes the
clinic's id: an admin sees their own clinic's only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.models import AuditEvent, StaffInvitation, StaffUser
from app.services import accounts, audit, invitations


@dataclass(frozen=True, slots=True)
class Members:
    people: list[StaffUser]
    invited: list[StaffInvitation]  # those that can still be accepted


def members(session: Session, *, clinic_id: uuid.UUID, now: datetime) -> Members:
    return Members(
        accounts.list_staff(session, clinic_id=clinic_id),
        invitations.pending(session, clinic_id=clinic_id, now=now),
    )


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditEvent]  # newest first
    total: int
    people: dict[uuid.UUID, str]  # a member's id to their e-mail address


def audit_log(session: Session, *, clinic_id: uuid.UUID, page: int) -> AuditPage:
    events, total = audit.list_events(session, clinic_id=clinic_id, page=page)
    people = {u.id: u.email for u in accounts.list_staff(session, clinic_id=clinic_id)}
    return AuditPage(events, total, people)
