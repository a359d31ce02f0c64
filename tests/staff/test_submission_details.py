"""What staff see of who sent a submission: the link's patient reference, the reference the
patient was given, and the name and contact a reusable link's patient gave."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from app.models import Assessment, Clinic
from app.services.intake import create_link, give_contact
from tests.engine.support import answers as complete_answers
from tests.engine.support import questionnaire
from tests.fixtures import record_assessment
from tests.staff.conftest import SignedInClient


def poster_submission(db: Session, clinic: Clinic, **changes: object) -> Assessment:
    link, _ = create_link(
        db,
        clinic_id=clinic.id,
        label="Waiting room poster",
        single_use=False,
        valid_for=timedelta(days=30),
        created_by_id=None,
    )
    recorded = record_assessment(
        db,
        questionnaire(),
        complete_answers(**changes),
        channel="intake",
        clinic_id=clinic.id,
        intake_link_id=link.id,
    )
    db.commit()
    return db.get_one(Assessment, recorded.id)


def test_staff_see_the_name_and_contact_a_poster_links_patient_gave(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    a = poster_submission(db, clinic, both_legs=True)
    browser = signed_in(clinic)
    before = browser.get(f"/staff/assessments/{a.id}").text
    assert "<strong>Not given</strong> (reusable link)" in before
    assert f'<span class="reference">{a.reference}</span>' in before

    give_contact(db, a, name="Sam Patel", contact="07700 900123")
    db.commit()
    after = browser.get(f"/staff/assessments/{a.id}").text
    assert "<dd>Sam Patel</dd>" in after
    # A phone number is tap-to-call (the staff pages are used on phones too).
    assert '<dd><a href="tel:07700900123">07700 900123</a></dd>' in after


def test_the_queue_says_when_a_poster_links_patient_gave_no_contact(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    a = poster_submission(db, clinic, both_legs=True)
    browser = signed_in(clinic)
    queue = browser.get("/staff/").text
    assert "<strong>No name or contact given</strong>" in queue
    assert f'<span class="reference">{a.reference}</span>' in queue
    give_contact(db, a, name="Sam Patel", contact="07700 900123")
    db.commit()
    queue = browser.get("/staff/").text
    assert "No name or contact given" not in queue
    assert 'Sam Patel, <a href="tel:07700900123">07700 900123</a>' in queue
