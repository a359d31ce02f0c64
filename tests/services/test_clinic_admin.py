"""An admin's changes write their own audit events, in the same call: a change lands with its
event, and a refused or unknown one leaves neither."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.models import AuditEvent, Clinic, StaffUser, utcnow
from app.services import accounts, clinic_admin, clinics
from app.services.audit import Actor


@pytest.fixture
def admin(db: Session, clinic: Clinic) -> StaffUser:
    made, _ = accounts.create_user(
        db, clinic_id=clinic.id, email="amy@riverside.example", role="admin", password="p" * 12
    )
    db.commit()
    return made


def events(db: Session) -> list[tuple[str, str | None]]:
    return [(e.action, e.target_id) for e in db.exec(select(AuditEvent)).all()]


def test_a_change_is_stored_with_its_event(db: Session, clinic: Clinic, admin: StaffUser) -> None:
    by = Actor(clinic.id, admin.id)
    member, _ = accounts.create_user(
        db, clinic_id=clinic.id, email="ben@riverside.example", role="clinician"
    )
    invited = clinic_admin.invite_member(
        db, by, email="cy@riverside.example", role="clinician", now=utcnow()
    )
    invitation_id = str(invited.invitation.id)

    outcome = clinic_admin.change_role(db, by, str(member.id), "admin")
    withdrawn = clinic_admin.revoke_invitation(db, by, invitation_id, now=utcnow())
    db.commit()

    assert outcome == withdrawn == clinic_admin.DONE
    assert db.get_one(StaffUser, member.id).role == "admin"
    assert events(db) == [
        ("staff.invited", invitation_id),
        ("staff.role_changed", str(member.id)),
        ("staff.invitation_revoked", invitation_id),
    ]
    assert {e.actor_id for e in db.exec(select(AuditEvent)).all()} == {admin.id}


def test_a_refused_change_and_another_clinic_s_member_leave_no_event(
    db: Session, clinic: Clinic, admin: StaffUser
) -> None:
    other = clinics.create_clinic(db, name="Hillside")
    stranger, _ = accounts.create_user(
        db, clinic_id=other.id, email="cy@hill.example", role="admin"
    )
    by = Actor(clinic.id, admin.id)

    assert clinic_admin.disable_member(db, by, str(admin.id)) == clinic_admin.Refused(
        "You cannot disable your own account"
    )
    assert clinic_admin.disable_member(db, by, str(stranger.id)) == clinic_admin.NOT_FOUND
    assert clinic_admin.revoke_api_key(db, by, "not-a-key") == clinic_admin.NOT_FOUND
    assert clinic_admin.revoke_invitation(db, by, "not-an-id", now=utcnow()) == (
        clinic_admin.NOT_FOUND
    )
    db.commit()

    assert events(db) == []
    assert db.get_one(StaffUser, stranger.id).disabled_at is None
