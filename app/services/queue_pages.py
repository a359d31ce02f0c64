"""What staff do with the clinic's queue, each as one call (one trip to the database's thread
on PostgreSQL): the queue page, opening a submission, reviewing one, releasing its programme,
exporting it as FHIR or the queue as a CSV file. Each writes its own audit event, in the same
call and transaction as the work, so nothing is read or changed without its event.

Every step goes through queue.py's queries with the staff member's clinic: a submission of
another clinic reads as not found (None), and nothing is written for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlmodel import Session

from app.clock import Clock
from app.models import Assessment, Checkin, StaffUser
from app.services import alert_history, audit, checkin_history, exports, queue, release
from app.services import assessments as assessment_service
from app.services.filters import Filters
from app.services.questionnaires import Registry, UnknownQuestionnaireError


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue, and the counts above it."""

    rows: list[queue.Submission]
    total: int
    flagged: dict[uuid.UUID, Checkin]  # a row's check-in not reviewed yet that flags it
    urgent_waiting: int
    by_level: list[tuple[str, int]]


def open_queue(
    session: Session,
    by: StaffUser,
    *,
    filters: Filters,
    page: int,
    urgent: Collection[str],
    urgent_levels: Sequence[str],
    flagging: Collection[str],
    zone: tzinfo,
) -> QueuePage:
    """A page of ``by``'s clinic's queue; what it shows of people (each row's level, reference
    and name, and a flagged check-in's reasons) is audited when it shows any row.
    ``urgent_levels``: the urgent level codes, most urgent first, for the counts by level."""
    clinic_id = by.clinic_id
    rows, total = queue.list_submissions(
        session,
        clinic_id=clinic_id,
        filters=filters,
        page=page,
        urgent=urgent,
        flagging=flagging,
        zone=zone,
    )
    flagged = queue.flagged_checkins(
        session, [row.assessment for row in rows if row.flagged_at is not None], flagging
    )
    if rows:
        audit.record_by(
            session,
            audit.Actor.of(by),
            "queue.viewed",
            target_type="assessment",
            detail={
                "filters": filters.describe(),
                "assessment_ids": [str(row.assessment.id) for row in rows],
                "checkin_ids": [str(c.id) for c in flagged.values()],
            },
        )
    urgent_waiting = queue.count_unreviewed_urgent(
        session, clinic_id=clinic_id, urgent=urgent, flagging=flagging
    )
    by_level = queue.unreviewed_by_level(
        session, clinic_id=clinic_id, levels=urgent_levels, flagging=flagging, zone=zone
    )
    return QueuePage(rows, total, flagged, urgent_waiting, by_level)


@dataclass(frozen=True, slots=True)
class OpenedSubmission:
    """One submission as its page shows it."""

    submission: queue.Submission
    checkins: list[Checkin]
    flag: Checkin | None  # the check-in not reviewed yet that flags it, if any
    alerts: list[alert_history.AlertLine]


def open_submission(
    session: Session, by: StaffUser, assessment_id: str, *, flagging: Collection[str]
) -> OpenedSubmission | None:
    """``by``'s clinic's submission with its check-ins, flag and alerts; None if the clinic has
    none with this id. What the page shows is what a review of theirs will cover (mark_seen),
    and the view is audited with the check-ins it showed."""
    found = queue.get_submission(
        session, clinic_id=by.clinic_id, assessment_id=assessment_id, flagging=flagging
    )
    if found is None:
        return None
    a = found.assessment
    followed = checkin_history.list_checkins(session, a.id)
    queue.mark_seen(session, a.id, by=by, checkins_seen=len(followed))
    checkin_ids = [c.id for c in followed]
    audit.record_health_data(
        session, by.clinic_id, a.id, "assessment.viewed", actor_id=by.id, checkin_ids=checkin_ids
    )
    alerts = alert_history.recent_alerts(session, clinic_id=by.clinic_id, assessment_id=a.id)
    flag = queue.flagged_checkins(session, [a], flagging).get(a.id)
    return OpenedSubmission(found, followed, flag, alerts)


def _clinic_submission(session: Session, by: StaffUser, assessment_id: str) -> Assessment | None:
    found = queue.get_submission(session, clinic_id=by.clinic_id, assessment_id=assessment_id)
    return found.assessment if found else None


def review(
    session: Session,
    by: StaffUser,
    assessment_id: str,
    reviewed: bool | None,
    *,
    clock: Clock,
) -> Assessment | None:
    """Mark ``by``'s clinic's submission as reviewed (or not) by ``clock`` (the app's, which
    times the check-ins it covers), with its audit event (set_reviewed, and its
    NewCheckinError); None if the clinic has no such submission. ``reviewed`` None (the form
    said neither) changes nothing: the caller says why."""
    assessment = _clinic_submission(session, by, assessment_id)
    if assessment is not None and reviewed is not None:
        queue.set_reviewed(session, assessment, by=by, reviewed=reviewed, clock=clock)
    return assessment


def release_programme(
    session: Session,
    registry: Registry,
    by: StaffUser,
    assessment_id: str,
    *,
    confirmed: bool,
    now: datetime,
) -> Assessment | None:
    """Release the programme of ``by``'s clinic's submission, with its audit event
    (release.release, and its ReleaseNotPossibleError); None if the clinic has no such
    submission. Not ``confirmed`` (the box was not ticked) changes nothing."""
    assessment = _clinic_submission(session, by, assessment_id)
    if assessment is not None and confirmed:
        release.release(session, registry, assessment, by=by, now=now)
    return assessment


@dataclass(frozen=True, slots=True)
class FhirExport:
    assessment_id: uuid.UUID
    bundle: bytes | None  # None: its questionnaire is no longer loaded


def export_fhir(
    session: Session, registry: Registry, by: StaffUser, assessment_id: str, *, base_url: str
) -> FhirExport | None:
    """``by``'s clinic's submission as a FHIR Bundle, audited when it is made; None if the
    clinic has no such submission."""
    assessment = _clinic_submission(session, by, assessment_id)
    if assessment is None:
        return None
    try:
        bundle = assessment_service.fhir_bundle_json(registry, assessment, base_url=base_url)
    except UnknownQuestionnaireError:
        return FhirExport(assessment.id, None)
    audit.record_health_data(session, by.clinic_id, assessment.id, "export.fhir", actor_id=by.id)
    return FhirExport(assessment.id, bundle)


def export_submissions(
    session: Session,
    by: StaffUser,
    *,
    filters: Filters,
    urgent: Collection[str],
    flagging: Collection[str],
    shape: exports.ExportShape,
) -> list[str]:
    """The lines of the CSV file of the submissions ``filters`` choose in ``by``'s clinic
    (exports.csv_export), audited with the filters and the number of rows (not every id: up
    to 50,000)."""
    lines = exports.csv_export(
        session,
        clinic_id=by.clinic_id,
        filters=filters,
        urgent=urgent,
        flagging=flagging,
        shape=shape,
    )
    _audit_export(session, by, "export.csv", "assessment", filters, lines)
    return lines


def export_checkins(
    session: Session,
    by: StaffUser,
    *,
    filters: Filters,
    flagging: Collection[str],
    shape: exports.ExportShape,
) -> list[str]:
    """The lines of the CSV file of the check-ins of the submissions ``filters`` choose in
    ``by``'s clinic (exports.checkin_csv_export), audited as export_submissions is."""
    lines = exports.checkin_csv_export(
        session, clinic_id=by.clinic_id, filters=filters, flagging=flagging, shape=shape
    )
    _audit_export(session, by, "export.checkins_csv", "checkin", filters, lines)
    return lines


def _audit_export(
    session: Session, by: StaffUser, action: str, rows_are: str, filters: Filters, lines: list[str]
) -> None:
    detail = {"filters": filters.describe(), "rows": max(0, len(lines) - 1)}  # less the heading
    audit.record_by(session, audit.Actor.of(by), action, target_type=rows_are, detail=detail)
