"""A clinic's recent alerts, for its Alerts page: each with what its last attempt said."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from app.models import Alert, AlertAttempt, Assessment, Checkin
from app.services.alerts import NO_WEBHOOK_NOW, WEBHOOK_DELIVERED, WEBHOOK_NOT_DELIVERED


@dataclass(frozen=True, slots=True)
class AlertLine:
    alert: Alert
    level: str
    last_detail: str | None


def recent_alerts(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    assessment_id: uuid.UUID | None = None,
    limit: int = 50,
) -> list[AlertLine]:
    """The clinic's newest alerts (or one submission's), with what the last attempt said."""
    query = (
        select(Alert, func.coalesce(col(Checkin.triage_level), col(Assessment.triage_level)))
        .join(Assessment, col(Assessment.id) == col(Alert.assessment_id))
        .outerjoin(Checkin, col(Checkin.id) == col(Alert.checkin_id))
        .where(Alert.clinic_id == clinic_id)
    )
    if assessment_id is not None:
        query = query.where(Alert.assessment_id == assessment_id)
    rows = session.exec(
        query.order_by(col(Alert.created_at).desc(), col(Alert.kind)).limit(limit)
    ).all()
    last: dict[uuid.UUID, str] = {}
    if rows:
        attempts = session.exec(
            select(AlertAttempt.alert_id, AlertAttempt.ok, AlertAttempt.detail)
            .where(col(AlertAttempt.alert_id).in_([alert.id for alert, _ in rows]))
            .order_by(col(AlertAttempt.attempted_at))
        ).all()
        kinds = {alert.id: alert.kind for alert, _ in rows}
        last = {
            alert_id: shown_detail(kinds[alert_id], ok, detail) for alert_id, ok, detail in attempts
        }
    return [AlertLine(alert, level, last.get(alert.id)) for alert, level in rows]


def shown_detail(kind: str, ok: bool, detail: str) -> str:
    """An attempt's detail as the staff pages show it. A webhook attempt stored before they
    were kept generic ("HTTP 403", "Connection refused") is shown as the generic words."""
    if kind != "webhook" or detail in (WEBHOOK_DELIVERED, WEBHOOK_NOT_DELIVERED, NO_WEBHOOK_NOW):
        return detail
    return WEBHOOK_DELIVERED if ok else WEBHOOK_NOT_DELIVERED
