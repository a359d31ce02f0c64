"""The "Clinic details" page: admins set the contact details patients see and the time zone
staff pages use; each problem is named by its field; changes go to the clinic's audit log."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import AuditEvent, Clinic
from tests.staff.conftest import SignedInClient, csrf

GOOD = {
    "phone": "01632 960 001",
    "contact_email": "reception@riverside.example",
    "address": "1 River Street\r\nTownsville",
    "time_zone": "Europe/Dublin",
}


def test_an_admin_sets_the_clinic_details(
    signed_in: SignedInClient, clinic: Clinic, other_clinic: Clinic, db: Session
) -> None:
    browser = signed_in(clinic, "admin")
    page = browser.get("/staff/clinic")
    assert page.status_code == 200
    assert 'value="Europe/London"' in page.text  # the default
    assert '<a href="/staff/clinic" aria-current="page">Clinic details</a>' in page.text

    saved = browser.post(
        "/staff/clinic", data={**GOOD, "csrf_token": csrf(browser)}, follow_redirects=False
    )
    assert saved.status_code == 303
    after = browser.get(saved.headers["location"])
    assert "The clinic details have been saved" in after.text
    assert 'value="01632 960 001"' in after.text
    assert "1 River Street\nTownsville</textarea>" in after.text

    db.expire_all()
    stored = db.get_one(Clinic, clinic.id)
    assert (stored.phone, stored.contact_email, stored.time_zone) == (
        "01632 960 001",
        "reception@riverside.example",
        "Europe/Dublin",
    )
    assert db.get_one(Clinic, other_clinic.id).phone is None
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "clinic.updated")).one()
    assert event.clinic_id == clinic.id
    assert event.detail == {"fields": ["phone", "contact_email", "address", "time_zone"]}


def test_each_problem_is_named_and_nothing_is_stored(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    browser = signed_in(clinic, "admin")
    response = browser.post(
        "/staff/clinic",
        data={
            **GOOD,
            "time_zone": "Europe/Londn",
            "contact_email": "nope",
            "csrf_token": csrf(browser),
        },
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert '<a href="#time_zone">The time zone must be a name' in response.text
    assert '<a href="#contact_email">Enter the e-mail address' in response.text
    assert 'aria-describedby="time_zone-hint time_zone-error"' in response.text
    assert 'value="Europe/Londn"' in response.text  # what was typed comes back
    db.expire_all()
    assert db.get_one(Clinic, clinic.id).phone is None
    assert not db.exec(select(AuditEvent).where(AuditEvent.action == "clinic.updated")).all()


def test_only_admins_change_the_details_and_only_with_the_form_token(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    clinician = signed_in(clinic)
    assert clinician.get("/staff/clinic").status_code == 403
    assert "/staff/clinic" not in clinician.get("/staff/").text
    refused = clinician.post("/staff/clinic", data={**GOOD, "csrf_token": csrf(clinician)})
    assert refused.status_code == 403
    admin = signed_in(clinic, "admin")
    assert admin.post("/staff/clinic", data=GOOD).status_code == 403
    db.expire_all()
    assert db.get_one(Clinic, clinic.id).phone is None


def test_an_admin_sets_the_intake_links_language_from_those_offered(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    browser = signed_in(clinic, "admin")
    page = browser.get("/staff/clinic").text
    assert '<option value="" selected>The language of the patient\'s browser</option>' in page
    assert '<option value="en-XA" lang="en-XA">' in page  # drafts are offered in the tests

    saved = browser.post(
        "/staff/clinic/language",
        data={"language": "en-XA", "csrf_token": csrf(browser)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    after = browser.get(saved.headers["location"]).text
    assert "The intake links' language has been saved" in after
    assert '<option value="en-XA" lang="en-XA" selected>' in after
    db.expire_all()
    assert db.get_one(Clinic, clinic.id).intake_language == "en-XA"
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "clinic.intake_language_changed")
    ).one()
    assert event.detail == {"language": "en-XA"}

    # Not one the app offers: refused, named, nothing changed.
    refused = browser.post(
        "/staff/clinic/language", data={"language": "tlh", "csrf_token": csrf(browser)}
    )
    assert refused.status_code == 422
    assert '<a href="#language">Choose one of the languages listed</a>' in refused.text
    # Back to the browser's choice.
    browser.post("/staff/clinic/language", data={"language": "", "csrf_token": csrf(browser)})
    db.expire_all()
    assert db.get_one(Clinic, clinic.id).intake_language is None


def test_only_admins_set_the_intake_language(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    clinician = signed_in(clinic)
    refused = clinician.post(
        "/staff/clinic/language", data={"language": "en-XA", "csrf_token": csrf(clinician)}
    )
    assert refused.status_code == 403
    db.expire_all()
    assert db.get_one(Clinic, clinic.id).intake_language is None
