"""The queue's use cases read and write only the staff member's clinic's rows: another clinic's
submission is not found, and nothing (no mark, no review, no audit event) is written for it;
the clinic's own is read or changed with its audit event, in the same call."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlmodel import Session, col, select

from app.clock import system_clock
from app.models import AuditEvent, Clinic, StaffUser, SubmissionSeen, utcnow
from app.services import accounts, clinics, queue_pages
from app.services.filters import Filters
from app.services.questionnaires import Registry
from tests.fixtures import record_assessment
from tests.staff.test_dashboard import submit
from tests.staff.test_release import SEE_DOCTOR


@pytest.fixture
def clinician(db: Session, clinic: Clinic) -> StaffUser:
    made, _ = accounts.create_user(
        db, clinic_id=clinic.id, email="amy@riverside.example", role="clinician", password="p" * 12
    )
    db.commit()
    return made


def events(db: Session) -> list[tuple[str, str | None]]:
    return [
        (e.action, e.target_id)
        for e in db.exec(select(AuditEvent).order_by(col(AuditEvent.created_at))).all()
    ]


def test_another_clinic_s_submission_is_not_found_and_nothing_is_written(
    db: Session, registry: Registry, clinician: StaffUser
) -> None:
    theirs = submit(db, clinics.create_clinic(db, name="Hilltop GP"))
    key = str(theirs.id)

    assert queue_pages.open_submission(db, clinician, key, flagging=registry.flag_codes) is None
    assert queue_pages.review(db, clinician, key, True, clock=system_clock) is None
    released = queue_pages.release_programme(
        db, registry, clinician, key, confirmed=True, now=utcnow()
    )
    assert released is None
    assert queue_pages.export_fhir(db, registry, clinician, key, base_url="https://x") is None
    db.commit()
    assert events(db) == []
    assert db.exec(select(SubmissionSeen)).all() == []
    db.refresh(theirs)
    assert theirs.reviewed_at is None


def test_the_clinic_s_own_are_read_and_changed_with_their_audit_events(
    db: Session, registry: Registry, clinic: Clinic, clinician: StaffUser
) -> None:
    ours = submit(db, clinic)
    key = str(ours.id)
    page = queue_pages.open_queue(
        db,
        clinician,
        filters=Filters(),
        page=1,
        urgent=registry.urgent_codes,
        urgent_levels=[],
        flagging=registry.flag_codes,
        zone=UTC,
    )
    opened = queue_pages.open_submission(db, clinician, key, flagging=registry.flag_codes)
    unchanged = queue_pages.review(
        db, clinician, key, None, clock=system_clock
    )  # the form said neither
    reviewed = queue_pages.review(db, clinician, key, True, clock=system_clock)
    db.commit()

    assert [row.assessment.id for row in page.rows] == [ours.id]
    assert opened is not None
    assert opened.submission.assessment.id == ours.id
    assert unchanged is not None
    assert reviewed is not None
    assert events(db) == [
        ("queue.viewed", None),
        ("assessment.viewed", key),
        ("assessment.reviewed", key),
    ]


def test_a_release_not_confirmed_changes_nothing(
    db: Session, registry: Registry, clinic: Clinic, clinician: StaffUser
) -> None:
    recorded = record_assessment(
        db, registry.default, SEE_DOCTOR, channel="intake", clinic_id=clinic.id
    )
    db.commit()
    found = queue_pages.release_programme(
        db, registry, clinician, str(recorded.id), confirmed=False, now=utcnow()
    )
    db.commit()
    assert found is not None
    assert found.released_at is None
    assert events(db) == []
