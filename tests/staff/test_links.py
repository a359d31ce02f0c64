"""Intake links made by staff: the URL and QR code shown once, the token stored hashed, the
list with each link's state, revoking, and isolation between clinics."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, Clinic, IntakeLink, utcnow
from app.security import hash_token
from app.services.intake import create_link
from tests.staff.conftest import SignedInClient, csrf

URL = re.compile(r'id="link-url" type="text" readonly value="(http[^"]+/intake/([A-Za-z0-9_-]+))"')


def create(browser: TestClient, **fields: str) -> tuple[str, str]:
    form = {"label": "", "use": "single", "valid_for": "14", **fields}
    page = browser.post("/staff/links/new", data={**form, "csrf_token": csrf(browser)})
    assert page.status_code == 200, page.text
    match = URL.search(page.text)
    assert match, "the new link is not shown"
    return match.group(1), match.group(2)


def test_a_clinician_creates_a_link_the_patient_can_open(
    signed_in: SignedInClient, clinic: Clinic, db: Session, client: TestClient
) -> None:
    browser = signed_in(clinic)
    assert browser.get("/staff/links/new").status_code == 200
    page = browser.post(
        "/staff/links/new",
        data={"label": "Appt 4471", "use": "single", "valid_for": "7", "csrf_token": csrf(browser)},
    )
    match = URL.search(page.text)
    assert match is not None
    url, token = match.groups()
    assert url.startswith("http://127.0.0.1:8000/intake/")  # PUBLIC_URL's default
    assert len(token) >= 22  # at least 128 bits
    assert re.search(r'<svg viewBox="0 0 \d+ \d+" class="qr__svg"><path [^>]*d="M', page.text)  # QR

    link = db.exec(select(IntakeLink)).one()
    assert link.token_hash == hash_token(token)  # only the hash is stored
    assert token not in str(link.model_dump())
    assert link.label == "Appt 4471"
    assert link.single_use
    assert link.created_by_id == browser.staff_user.id  # type: ignore[attr-defined]
    assert timedelta(days=6, hours=23) < link.expires_at - utcnow() <= timedelta(days=7)

    opened = client.get(f"/intake/{token}")
    assert opened.status_code == 200
    assert "Riverside Physio" in opened.text
    assert "Appt 4471" not in opened.text  # the reference is for staff only

    listing = browser.get("/staff/links").text
    assert "Appt 4471" in listing
    assert "Active" in listing
    assert "Once" in listing
    assert db.exec(select(AuditEvent.action)).all().count("link.created") == 1


def test_a_reusable_link_for_thirty_days(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    create(signed_in(clinic), use="reusable", valid_for="30")
    link = db.exec(select(IntakeLink)).one()
    assert not link.single_use
    assert timedelta(days=29, hours=23) < link.expires_at - utcnow() <= timedelta(days=30)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"use": "twice"}, "use"),
        ({"valid_for": "365"}, "valid_for"),
        ({"valid_for": "-1", "use": ""}, "valid_for"),
    ],
)
def test_a_link_form_error_is_named_and_nothing_is_stored(
    signed_in: SignedInClient, clinic: Clinic, db: Session, fields: dict[str, str], named: str
) -> None:
    browser = signed_in(clinic)
    form = {"label": "x", "use": "single", "valid_for": "14", **fields}
    page = browser.post("/staff/links/new", data={**form, "csrf_token": csrf(browser)})
    assert page.status_code == 422
    assert f'href="#{named}"' in page.text
    assert f'id="{named}-error"' in page.text
    assert db.exec(select(IntakeLink)).all() == []


@pytest.mark.parametrize(
    "label", ["Appt\x004471", "Appt\t4471", "Appt\n4471", "\x1b[31mAppt", "Appt\x9b1"]
)
def test_a_label_with_control_characters_is_refused_and_nothing_is_stored(
    signed_in: SignedInClient, clinic: Clinic, db: Session, label: str
) -> None:
    browser = signed_in(clinic)
    form = {"label": label, "use": "single", "valid_for": "14", "csrf_token": csrf(browser)}
    page = browser.post("/staff/links/new", data=form)
    assert page.status_code == 422
    assert 'href="#label">Remove tabs, line breaks and other control characters' in page.text
    assert db.exec(select(IntakeLink)).all() == []


def test_a_link_form_without_the_csrf_token_is_refused(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    response = signed_in(clinic).post(
        "/staff/links/new", data={"label": "x", "use": "single", "valid_for": "14"}
    )
    assert response.status_code == 403
    assert db.exec(select(IntakeLink)).all() == []


def test_revoking_a_link_closes_it_for_the_patient(
    signed_in: SignedInClient, clinic: Clinic, db: Session, client: TestClient
) -> None:
    browser = signed_in(clinic)
    _, token = create(browser, label="Appt 9")
    link = db.exec(select(IntakeLink)).one()
    revoke = f"/staff/links/{link.id}/revoke"
    assert browser.post(revoke, data={}).status_code == 403
    assert client.get(f"/intake/{token}").status_code == 200

    response = browser.post(revoke, data={"csrf_token": csrf(browser)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get(f"/intake/{token}").status_code == 410
    assert "Revoked" in browser.get("/staff/links").text
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "link.revoked")).one()
    assert event.target_id == str(link.id)


def test_the_list_shows_each_links_state(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    def make(label: str, **state: object) -> None:
        link, _ = create_link(
            db,
            clinic_id=clinic.id,
            label=label,
            single_use=True,
            valid_for=timedelta(days=3),
            created_by_id=None,
        )
        for key, value in state.items():
            setattr(link, key, value)
        db.add(link)
        db.commit()

    make("L-active")
    make("L-used", used_at=utcnow())
    make("L-expired", expires_at=utcnow() - timedelta(minutes=1))
    make("L-revoked", revoked_at=utcnow())
    listing = signed_in(clinic).get("/staff/links").text
    rows = dict(re.findall(r"<td>(L-\w+)</td>\s*<td>Once</td>\s*<td>(\w+)</td>", listing))
    assert rows == {
        "L-active": "Active",
        "L-used": "Used",
        "L-expired": "Expired",
        "L-revoked": "Revoked",
    }
    assert listing.count("/revoke") == 1  # only the active one can be revoked


def test_clinics_see_and_revoke_only_their_own_links(
    signed_in: SignedInClient, clinic: Clinic, other_clinic: Clinic, db: Session, client: TestClient
) -> None:
    _, token = create(signed_in(other_clinic), label="Hilltop ref")
    theirs = db.exec(select(IntakeLink)).one()
    browser = signed_in(clinic)
    assert "Hilltop ref" not in browser.get("/staff/links").text
    response = browser.post(f"/staff/links/{theirs.id}/revoke", data={"csrf_token": csrf(browser)})
    assert response.status_code == 404
    assert (
        browser.post("/staff/links/nope/revoke", data={"csrf_token": csrf(browser)}).status_code
        == 404
    )
    assert client.get(f"/intake/{token}").status_code == 200  # still works


def test_patient_references_never_reach_the_logs(
    signed_in: SignedInClient, clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    browser = signed_in(clinic)
    _, token = create(browser, label="Mrs Example 1957")
    browser.get("/staff/links")
    browser.get("/staff/", params={"level": "urgent"})
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "/staff/links/new" in text  # requests are logged...
    assert "Mrs Example" not in text  # ...but never a patient reference
    assert token not in text
