"""What staff see of a correction (a person who said they answered an emergency question by
mistake): the original is never hidden from them. It keeps its level, says when the person
corrected it, and stays in the queue, the urgent banner and a search by its reference until
someone reviews it; the correction says what it replaced."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlmodel import Session

from app.models import Assessment, Clinic
from app.services.intake import create_link
from tests.engine.support import answers as complete_answers
from tests.engine.support import questionnaire
from tests.fixtures import record_assessment
from tests.staff.conftest import SignedInClient, form_token


def corrected(db: Session, clinic: Clinic) -> tuple[Assessment, Assessment]:
    """An emergency intake submission, and the self-care one the person replaced it with."""
    link, _ = create_link(
        db,
        clinic_id=clinic.id,
        label="patient 7",
        single_use=True,
        valid_for=timedelta(days=7),
        created_by_id=None,
    )
    options = {"channel": "intake", "clinic_id": clinic.id, "intake_link_id": link.id}
    old = record_assessment(db, questionnaire(), complete_answers(saddle_numbness=True), **options)
    new = record_assessment(db, questionnaire(), complete_answers(), replaces=old.id, **options)
    db.commit()
    return db.get_one(Assessment, old.id), db.get_one(Assessment, new.id)


def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="queue__row[^"]*">.*?</tr>', html, flags=re.S)


def test_the_queue_keeps_a_corrected_emergency_until_reviewed(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    old, new = corrected(db, clinic)
    browser = signed_in(clinic)
    queue = browser.get("/staff/").text
    assert "1 emergency or urgent submission not reviewed yet" in queue
    first, second = rows(queue)
    assert f"/staff/assessments/{old.id}" in first
    assert "Corrected by the person at" in first
    assert "Emergency" in first
    assert f"/staff/assessments/{new.id}" in second
    assert "Replaces their earlier submission" in second
    found = browser.get("/staff/", params={"q": old.reference}).text
    assert f"/staff/assessments/{old.id}" in found

    page = browser.get(f"/staff/assessments/{old.id}")
    assert "Corrected by the person at" in page.text
    assert f'href="/staff/assessments/{new.id}">See the corrected submission' in page.text
    reviewed = browser.post(
        f"/staff/assessments/{old.id}/review",
        data={"csrf_token": form_token(page.text), "reviewed": "yes", "checkins_seen": "0"},
        follow_redirects=False,
    )
    assert reviewed.status_code == 303
    queue = browser.get("/staff/").text
    assert "not reviewed yet</strong>" not in queue
    assert [f"/staff/assessments/{new.id}" in row for row in rows(queue)] == [True]


def test_the_correction_names_the_submission_it_replaced(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    old, new = corrected(db, clinic)
    page = signed_in(clinic).get(f"/staff/assessments/{new.id}").text
    assert "earlier submission from" in page
    assert "This replaces the person" in page
    assert f'href="/staff/assessments/{old.id}">See the earlier submission' in page


def test_the_export_says_which_submission_was_corrected_and_by_which(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    old, new = corrected(db, clinic)
    response = signed_in(clinic).get("/staff/export.csv")
    rows = {
        row["id"]: row for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    }
    assert rows.keys() == {str(old.id), str(new.id)}  # the original until it is reviewed
    assert rows[str(old.id)]["corrected_at"] != ""
    assert rows[str(old.id)]["triage_level"] == "emergency"
    assert rows[str(new.id)]["replaces_id"] == str(old.id)
    assert rows[str(new.id)]["corrected_at"] == ""
