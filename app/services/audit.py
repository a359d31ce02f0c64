"""The audit log: who viewed, exported or changed what, and when. Never answers or labels."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, col, func, select

from app.models import AuditEvent


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
