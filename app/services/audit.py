"""The audit log: who viewed, exported or changed what, and when. Never answers or labels."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlmodel import Session, col, func, select

from app.models import AuditEvent, StaffUser


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in staff member, as the audit log names who did something: the event goes in
    their clinic's log. Services that act for one take it and write the event themselves, in
    the same call and transaction as the action, so no action lands without its event."""

    clinic_id: uuid.UUID
    user_id: uuid.UUID

    @classmethod
    def of(cls, user: StaffUser) -> Actor:
        return cls(user.clinic_id, user.id)


def record_by(
    session: Session,
    actor: Actor,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    return record(
        session,
        clinic_id=actor.clinic_id,
        actor_id=actor.user_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
    )


def record(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    action: str,
    target_type: str | None = None,
    target_id: str | uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        clinic_id=clinic_id,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        detail=detail or {},
    )
    session.add(event)
    session.flush()
    return event


# Who, besides a signed-in staff member (actor_id), read or wrote a record: an API key
# ({"api_key": name, "api_key_id": id}) or the person at their result's private link.
BY_PERSON: Final[dict[str, Any]] = {"by": "person"}


def by_api_key(name: str, key_id: uuid.UUID) -> dict[str, Any]:
    return {"api_key": name, "api_key_id": str(key_id)}


def record_health_data(
    session: Session,
    clinic_id: uuid.UUID | None,
    assessment_id: uuid.UUID,
    action: str,
    *,
    actor_id: uuid.UUID | None = None,
    who: dict[str, Any] | None = None,
    checkin_ids: Iterable[uuid.UUID | str] = (),
    detail: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """A read or write of one submission's health data, with the ids it touched (the
    submission, and its check-ins in ``checkin_ids``), in its clinic's log. A record with no
    clinic (the public web form, a key of no clinic) has no log to go to: None."""
    if clinic_id is None:
        return None
    extra = {**(who or {}), **(detail or {})}
    ids = [str(each) for each in checkin_ids]
    if ids:
        extra["checkin_ids"] = ids
    return record(
        session,
        clinic_id=clinic_id,
        actor_id=actor_id,
        action=action,
        target_type="assessment",
        target_id=assessment_id,
        detail=extra,
    )


def list_events(
    session: Session, *, clinic_id: uuid.UUID, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEvent], int]:
    """One page of the clinic's events, newest first, and the total count."""
    total = session.exec(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.clinic_id == clinic_id)
    ).one()
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.clinic_id == clinic_id)
        .order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(events), int(total)
