"""A clinic's intake link: the same form, the clinic's name on every page, the submission
recorded for the clinic, and clear pages for links that are gone."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import Assessment, AuditEvent, Clinic, Draft, IntakeLink, utcnow
from app.security import hash_token
from app.services import accounts
from tests.staff.conftest import code_at, enrol, enter_code, sign_in
from tests.web.conftest import make_link
from tests.web.helpers import FIRST_PAGE, csrf_of, run_interview, self_care_answers


def link_of(db: Session, token: str) -> IntakeLink:
    db.expire_all()
    link = db.exec(select(IntakeLink).where(IntakeLink.token_hash == hash_token(token))).first()
    assert link is not None
    return link


def test_every_page_of_an_intake_link_shows_the_clinic(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    token = make_link(db, clinic.id)
    prefix = f"/intake/{token}"
    start = client.get(prefix)
    assert start.status_code == 200
    assert "For:</span> <strong>Riverside Physio</strong>" in start.text
    assert f'href="{prefix}/questions/{FIRST_PAGE}"' in start.text

    _, visited = run_interview(client, self_care_answers(), prefix=prefix, until="/check")
    for location in visited:
        page = client.get(location)
        assert page.status_code == 200, location
        assert "Riverside Physio" in page.text, location
        assert location.startswith(prefix)


def test_an_intake_submission_is_recorded_for_the_clinic_and_uses_up_the_link(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    token = make_link(db, clinic.id)
    location, _ = run_interview(client, self_care_answers(), prefix=f"/intake/{token}")

    db.expire_all()
    [record] = db.exec(select(Assessment)).all()
    link = link_of(db, token)
    assert record.channel == "intake"
    assert record.clinic_id == clinic.id
    assert record.intake_link_id == link.id
    assert link.used_at is not None
    assert db.exec(select(Draft)).all() == []
    result = client.get(location)
    assert "Your answers have been sent to <strong>Riverside Physio</strong>" in result.text


def test_a_used_single_use_link_is_gone(client: TestClient, db: Session, clinic: Clinic) -> None:
    token = make_link(db, clinic.id)
    run_interview(client, self_care_answers(), prefix=f"/intake/{token}")
    for path in ("", f"/questions/{FIRST_PAGE}", "/check"):
        response = client.get(f"/intake/{token}{path}")
        assert response.status_code == 410
        assert "This link has already been used" in response.text
        assert "Riverside Physio" in response.text
        # Not a dead end: where the person's own result link is to be found.
        assert "Looking for your result?" in response.text
        assert "/result/" not in response.text  # but never anyone's result link
        unhashed = re.sub(r"\.[0-9a-f]{12}\.", ".", response.text)  # static files' hashes
        assert "42" not in unhashed  # never anyone's answers


def test_an_expired_link_is_gone(client: TestClient, db: Session, clinic: Clinic) -> None:
    token = make_link(db, clinic.id, valid_for=timedelta(seconds=-1))
    response = client.get(f"/intake/{token}")
    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert "Riverside Physio" in response.text


def test_a_revoked_link_is_gone_without_naming_the_clinic(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    token = make_link(db, clinic.id)
    link = link_of(db, token)
    link.revoked_at = utcnow()
    db.add(link)
    db.commit()
    response = client.get(f"/intake/{token}")
    assert response.status_code == 410
    assert "This link no longer works" in response.text
    assert "Riverside Physio" not in response.text


def test_an_unknown_link_is_not_found(client: TestClient) -> None:
    response = client.get("/intake/no-such-link/questions/emergency_signs")
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_a_single_use_link_resumes_on_another_device(
    app: FastAPI, client: TestClient, db: Session, clinic: Clinic
) -> None:
    token = make_link(db, clinic.id)
    run_interview(client, self_care_answers(), prefix=f"/intake/{token}", until="pain_level")
    with TestClient(app) as phone:
        start = phone.get(f"/intake/{token}")
        assert "Carry on where you left off" in start.text
        assert 'value="42"' in phone.get(f"/intake/{token}/questions/about_you").text


def test_a_reusable_link_keeps_each_patient_s_draft_apart(
    app: FastAPI, client: TestClient, db: Session, clinic: Clinic
) -> None:
    token = make_link(db, clinic.id, single_use=False)
    run_interview(client, self_care_answers(), prefix=f"/intake/{token}", until="pain_level")
    with TestClient(app) as someone_else:
        assert "Carry on where you left off" not in someone_else.get(f"/intake/{token}").text
    assert "Carry on where you left off" in client.get(f"/intake/{token}").text


def test_a_reusable_link_takes_many_submissions(app: FastAPI, db: Session, clinic: Clinic) -> None:
    token = make_link(db, clinic.id, single_use=False)
    for _ in range(2):
        with TestClient(app) as patient:
            location, _ = run_interview(patient, self_care_answers(), prefix=f"/intake/{token}")
            assert location.startswith("/result/")
    db.expire_all()
    assert len(db.exec(select(Assessment)).all()) == 2


def test_an_emergency_through_a_link_is_recorded_for_the_clinic(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    token = make_link(db, clinic.id)
    location, _ = run_interview(
        client, {**self_care_answers(), "both_legs": True}, prefix=f"/intake/{token}"
    )
    db.expire_all()
    [record] = db.exec(select(Assessment)).all()
    assert record.triage_level == "emergency"
    assert record.clinic_id == clinic.id
    assert "Get medical help now" in client.get(location).text


def test_removing_an_intake_result_keeps_the_clinics_copy(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    token = make_link(db, clinic.id)
    location, _ = run_interview(
        client, {**self_care_answers(), "saddle_numbness": True}, prefix=f"/intake/{token}"
    )
    confirm = client.get(f"{location}/delete")
    assert (
        "Your answers have already been sent to <strong>Riverside Physio</strong>" in confirm.text
    )
    response = client.post(
        f"{location}/delete", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=False
    )
    assert response.headers["location"] == "/deleted?kept=clinic"
    assert (
        "The clinic you sent your answers to still has them"
        in client.get(response.headers["location"]).text
    )
    assert client.get(location).status_code == 404  # the person's page is gone

    db.expire_all()
    [record] = db.exec(select(Assessment)).all()  # the clinic's emergency is not
    assert record.triage_level == "emergency"
    assert record.result_token_hash is None
    # Its emergency answer ended the form at once: stored, and logged as the patient's.
    created, event = db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert (created.action, created.target_id) == ("assessment.created", str(record.id))
    assert event.action == "assessment.patient_link_removed"
    assert event.clinic_id == clinic.id
    assert event.target_id == str(record.id)


def test_the_clinic_audit_log_says_the_patient_removed_their_page(
    client: TestClient, db: Session, clinic: Clinic, app: FastAPI
) -> None:
    token = make_link(db, clinic.id)
    location, _ = run_interview(client, self_care_answers(), prefix=f"/intake/{token}")
    confirm = client.get(f"{location}/delete")
    client.post(f"{location}/delete", data={"csrf_token": csrf_of(confirm.text)})

    admin, _ = accounts.create_user(
        db,
        clinic_id=clinic.id,
        email="lead@riverside.example",
        role="admin",
        password="correct horse battery staple",
    )
    db.commit()
    app_secret = enrol(db, admin).secret  # admins sign in with a second factor
    with TestClient(app) as staff:
        assert sign_in(staff, admin.email).status_code == 303
        assert enter_code(staff, code_at(app_secret, utcnow())).status_code == 303
        log = staff.get("/staff/audit").text
    assert "<td>The patient</td>" in log
    assert "assessment.patient_link_removed" in log


def _with_contact(db: Session, clinic: Clinic) -> None:
    clinic.phone = "01632 960 001"
    clinic.contact_email = "reception@riverside.example"
    clinic.address = "1 River Street\nTownsville"
    db.add(clinic)
    db.commit()


def test_intake_pages_show_how_to_reach_the_clinic(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    _with_contact(db, clinic)
    token = make_link(db, clinic.id)
    start = client.get(f"/intake/{token}").text
    assert "Contact Riverside Physio" in start
    assert '<a href="tel:01632960001">01632 960 001</a>' in start
    assert '<a href="mailto:reception@riverside.example">' in start
    assert "1 River Street<br>Townsville" in start
    question = client.get(f"/intake/{token}/questions/{FIRST_PAGE}").text
    assert '<a href="tel:01632960001">01632 960 001</a>' in question  # under the clinic's name


def test_a_clinic_without_contact_details_shows_none(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    token = make_link(db, clinic.id)
    start = client.get(f"/intake/{token}").text
    assert "Riverside Physio" in start
    assert "Contact Riverside Physio" not in start
    assert "tel:" not in start


def test_a_gone_link_says_how_to_reach_the_clinic_unless_it_was_revoked(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    _with_contact(db, clinic)
    expired = make_link(db, clinic.id, valid_for=timedelta(seconds=-1))
    gone = client.get(f"/intake/{expired}")
    assert gone.status_code == 410
    assert '<a href="tel:01632960001">01632 960 001</a>' in gone.text
    assert "reception@riverside.example" in gone.text

    revoked = make_link(db, clinic.id)
    link = link_of(db, revoked)
    link.revoked_at = utcnow()
    db.add(link)
    db.commit()
    page = client.get(f"/intake/{revoked}").text
    assert "01632" not in page
    assert "reception@" not in page


def test_the_last_page_gives_a_reference_and_says_what_happens_next(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    _with_contact(db, clinic)
    token = make_link(db, clinic.id)
    location, _ = run_interview(client, self_care_answers(), prefix=f"/intake/{token}")
    db.expire_all()
    [record] = db.exec(select(Assessment)).all()
    assert record.reference
    page = client.get(location).text
    assert f'Your reference is <strong class="reference">{record.reference}</strong>' in page
    assert "What happens next" in page
    assert "Riverside Physio will look at your answers before your appointment" in page
    assert '<a href="tel:01632960001">01632 960 001</a>' in page


def test_an_emergency_confirmation_comes_after_what_to_do_now(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    token = make_link(db, clinic.id)
    location, _ = run_interview(
        client, {**self_care_answers(), "both_legs": True}, prefix=f"/intake/{token}"
    )
    page = client.get(location).text
    assert page.index("Call 999") < page.index("Your reference is")
    assert page.index("Call 999") < page.index("Your answers have been sent to")
    assert "Do not wait to hear from Riverside Physio" in page
