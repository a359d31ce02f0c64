"""A reusable ("poster") link asks who answered: after the result, so an emergency's advice is
never held up; needed when the result is an emergency or urgent; kept for the clinic only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Assessment, AuditEvent, Clinic
from tests.web.conftest import make_link
from tests.web.helpers import csrf_of, run_interview, self_care_answers

FORM = 'action="/result/'


def _submit(client: TestClient, db: Session, clinic: Clinic, **answers: object) -> str:
    token = make_link(db, clinic.id, single_use=False)
    location, _ = run_interview(
        client, {**self_care_answers(), **answers}, prefix=f"/intake/{token}"
    )
    return location


def _record(db: Session) -> Assessment:
    db.expire_all()
    [record] = db.exec(select(Assessment)).all()
    return record


def test_an_emergency_shows_the_advice_first_then_asks_how_to_reach_the_person(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    location = _submit(client, db, clinic, both_legs=True)
    assert _record(db).triage_level == "emergency"  # stored before anything is asked
    page = client.get(location).text
    assert "Tell Riverside Physio how to reach you" in page
    assert "needs to be able to contact you" in page
    assert page.index("Call 999") < page.index("Tell Riverside Physio how to reach you")

    missing = client.post(
        f"{location}/contact",
        data={"patient_name": " ", "patient_contact": "", "csrf_token": csrf_of(page)},
    )
    assert missing.status_code == 400
    assert '<a href="#patient_name">Enter your name</a>' in missing.text
    assert "Enter a phone number or your booking reference" in missing.text
    assert "Call 999 or go to A&amp;E now" in missing.text  # the advice is repeated
    assert _record(db).patient_name is None

    given = client.post(
        f"{location}/contact",
        data={
            "patient_name": " Sam Patel ",
            "patient_contact": "07700 900123",
            "csrf_token": csrf_of(page),
        },
        follow_redirects=False,
    )
    assert given.status_code == 303
    record = _record(db)
    assert (record.patient_name, record.patient_contact) == ("Sam Patel", "07700 900123")
    thanks = client.get(given.headers["location"]).text
    assert "Riverside Physio has your name and contact details" in thanks
    assert "Sam Patel" not in thanks  # shown to staff, not on the person's page
    assert FORM + location.split("/")[-1] + '/contact"' not in thanks
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "assessment.contact_given"))
    [logged] = event.all()
    assert "Sam" not in str(logged.detail)


def test_a_self_care_result_offers_the_form_as_optional(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    location = _submit(client, db, clinic)
    page = client.get(location).text
    assert "Tell Riverside Physio who you are (optional)" in page


def test_details_are_given_once_and_only_on_a_reusable_links_result(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    single = make_link(db, clinic.id)
    location, _ = run_interview(
        client, {**self_care_answers(), "both_legs": True}, prefix=f"/intake/{single}"
    )
    page = client.get(location).text
    assert "how to reach you" not in page  # the clinic knows whom it sent a single-use link
    refused = client.post(
        f"{location}/contact",
        data={
            "patient_name": "X",
            "patient_contact": "1",
            "csrf_token": csrf_of(client.get(f"{location}/delete").text),
        },
        follow_redirects=False,
    )
    assert refused.status_code == 303
    assert _record(db).patient_name is None


def test_the_details_form_needs_its_form_token(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    location = _submit(client, db, clinic, both_legs=True)
    response = client.post(
        f"{location}/contact", data={"patient_name": "Sam", "patient_contact": "0770"}
    )
    assert response.status_code == 403
    assert _record(db).patient_name is None
