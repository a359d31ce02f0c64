"""Staff pages read as a clinic needs: times in the clinic's zone, a readable CSV with every
answer, search by reference, a date filter that takes what its hint says, a revoke that asks
first and says it is done, a link page with one message about printing, and tables that
scroll inside a labelled region at phone width."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlmodel import Session, select

from app.models import Assessment, AuditEvent, Clinic, IntakeLink
from app.services.questionnaires import Registry
from tests.staff.conftest import SignedInClient, csrf
from tests.staff.test_dashboard import queue_ids, submit


def _at(db: Session, a: Assessment, when: datetime) -> None:
    a.created_at = when
    db.add(a)
    db.commit()


def _zone(db: Session, clinic: Clinic, name: str) -> None:
    clinic.time_zone = name
    db.add(clinic)
    db.commit()


def test_times_are_in_the_clinics_time_zone(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    a = submit(db, clinic)
    _at(db, a, datetime(2026, 7, 1, 23, 30, tzinfo=UTC))  # summer: London is UTC+1
    browser = signed_in(clinic)
    assert "02 Jul 2026 00:30 BST" in browser.get("/staff/").text
    assert "2 July 2026, 00:30 BST" in browser.get(f"/staff/assessments/{a.id}").text
    row = next(
        csv.DictReader(io.StringIO(browser.get("/staff/export.csv").content.decode("utf-8-sig")))
    )
    assert row["submitted_at"] == "2026-07-02T00:30:00+01:00"

    _zone(db, clinic, "America/New_York")
    assert "01 Jul 2026 19:30 EDT" in browser.get("/staff/").text


def test_the_date_filter_takes_days_in_the_clinics_zone_as_its_hint_shows(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    late = submit(db, clinic)
    _at(db, late, datetime(2026, 7, 1, 23, 30, tzinfo=UTC))  # 2 July in London
    browser = signed_in(clinic)
    page = browser.get("/staff/", params={"from": "2/7/2026", "to": "02/07/2026"})
    assert queue_ids(page.text) == [str(late.id)]
    assert '<p class="hint" id="from-hint">For example, 31/03/2026</p>' in page.text
    assert 'name="from" type="text" inputmode="numeric" autocomplete="off" value="02/07/2026"' in (
        page.text
    )
    assert queue_ids(browser.get("/staff/", params={"to": "01/07/2026"}).text) == []
    assert queue_ids(browser.get("/staff/", params={"from": "2026-07-02"}).text) == [str(late.id)]


def test_staff_find_a_submission_by_its_reference_or_the_links_patient_reference(
    signed_in: SignedInClient, clinic: Clinic, other_clinic: Clinic, db: Session
) -> None:
    ours = submit(db, clinic, label="Appt 4471")
    submit(db, clinic, label="Appt 9000")
    submit(db, other_clinic, label="Appt 4471")
    assert ours.reference is not None
    browser = signed_in(clinic)
    spoken = f"{ours.reference[:3].lower()} {ours.reference[3:].lower()}"
    assert queue_ids(browser.get("/staff/", params={"q": spoken}).text) == [str(ours.id)]
    found = browser.get("/staff/", params={"q": "appt 44"})
    assert queue_ids(found.text) == [str(ours.id)]  # never another clinic's
    assert "1 submission matches these filters" in found.text
    assert queue_ids(browser.get("/staff/", params={"q": "%"}).text) == []
    rows = list(
        csv.DictReader(
            io.StringIO(browser.get("/staff/export.csv?q=4471").content.decode("utf-8-sig"))
        )
    )
    assert [r["id"] for r in rows] == [str(ours.id)]
    assert rows[0]["reference"] == ours.reference
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "export.csv")).one()
    assert event.detail["filters"]["search"] is True
    assert "4471" not in str(event.detail)  # what was searched for is not logged
    assert "Submissions: matching a search" in signed_in(clinic, "admin").get("/staff/audit").text


def test_the_csv_has_readable_labels_and_every_answer_in_question_order(
    app: FastAPI, signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    submit(db, clinic, bowel_change=True)
    text = signed_in(clinic).get("/staff/export.csv").content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    row = next(reader)
    registry: Registry = app.state.registry
    questions = [qq for page in registry.default.pages for qq in page.questions]
    header = reader.fieldnames or []
    answer_columns = [f"{qq.id} ({qq.unit})" if qq.unit else qq.id for qq in questions]
    start = header.index(answer_columns[0])
    assert header[start : start + len(answer_columns)] == answer_columns
    assert header[-1] == "other_answers"
    assert row["triage_label"] == "Emergency"
    assert row["triage_level"] == "emergency"
    assert row["bowel_change"] == "Yes"
    assert row["saddle_numbness"] == "No"


def test_revoking_a_link_asks_first_and_says_it_is_done(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    browser = signed_in(clinic)
    browser.post(
        "/staff/links/new",
        data={"label": "Appt 4471", "use": "single", "valid_for": "7", "csrf_token": csrf(browser)},
    )
    link = db.exec(select(IntakeLink)).one()
    listing = browser.get("/staff/links").text
    assert f'<a href="/staff/links/{link.id}/revoke">Revoke' in listing
    confirm = browser.get(f"/staff/links/{link.id}/revoke")
    assert confirm.status_code == 200
    assert "Revoke this link?" in confirm.text
    assert "You cannot undo this" in confirm.text
    db.expire_all()
    assert db.get_one(IntakeLink, link.id).revoked_at is None  # asking changes nothing

    done = browser.post(
        f"/staff/links/{link.id}/revoke", data={"csrf_token": csrf(browser)}, follow_redirects=False
    )
    assert done.status_code == 303
    page = browser.get(done.headers["location"]).text
    assert "The link for Appt 4471 has been revoked." in page
    db.expire_all()
    assert db.get_one(IntakeLink, link.id).revoked_at is not None
    # Asking again about a revoked link goes back to the list.
    assert browser.get(f"/staff/links/{link.id}/revoke", follow_redirects=False).status_code == 303


def test_the_link_page_has_one_message_about_printing_and_a_copy_button(
    signed_in: SignedInClient, clinic: Clinic
) -> None:
    browser = signed_in(clinic)
    page = browser.post(
        "/staff/links/new",
        data={"label": "Appt 4471", "use": "single", "valid_for": "7", "csrf_token": csrf(browser)},
    ).text
    assert "print this page and give it to them" in page
    assert "do not print" not in page.lower()
    assert "You can print this page for the patient" in page
    assert '<div class="no-print"><dt>Patient reference</dt>' in page
    assert 'data-copy="link-url"' in page
    assert re.search(r'<button[^>]*data-copy="link-url"[^>]*hidden>Copy link</button>', page)
    assert re.search(r'<script src="/static/js/staff\.[0-9a-f]+\.js" defer></script>', page)
    # Every other staff page keeps the warning.
    assert "do not print" in browser.get("/staff/").text


def test_every_staff_table_scrolls_in_a_labelled_region(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    a = submit(db, clinic, sitting_hours=9, sitting_breaks="rarely")
    browser = signed_in(clinic, "admin")
    for path in ("/staff/", "/staff/links", "/staff/members", "/staff/api-keys", "/staff/audit",
                 f"/staff/assessments/{a.id}"):  # fmt: skip
        html = browser.get(path).text
        tables = html.count("<table")
        regions = re.findall(
            r'<div class="table-scroll" role="region" aria-labelledby="([a-z-]+)" tabindex="0">\s*<table',
            html,
        )
        assert len(regions) == tables > 0, path
        for caption in regions:
            assert f'id="{caption}"' in html


def test_the_current_page_is_marked_in_the_navigation(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    a = submit(db, clinic)
    browser = signed_in(clinic)
    assert '<a href="/staff/" aria-current="page">Submissions</a>' in browser.get("/staff/").text
    links = browser.get("/staff/links").text
    assert '<a href="/staff/links" aria-current="page">Intake links</a>' in links
    assert '<a href="/staff/">Submissions</a>' in links
    detail = browser.get(f"/staff/assessments/{a.id}").text
    assert '<a href="/staff/" aria-current="true">Submissions</a>' in detail


def test_contributors_read_in_clinical_words_not_the_patients(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    a = submit(db, clinic, activity_minutes_week=0)
    page = signed_in(clinic).get(f"/staff/assessments/{a.id}").text
    assert "you said" not in page.lower()
    activity = next(c for c in a.result["contributors"] if c["code"] == "activity")
    assert f"<tr><td>{activity['label']}</td><td>{activity['score']}</td>" in page


def test_a_submission_date_in_the_audit_log_is_local_too(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    _zone(db, clinic, "Asia/Tokyo")
    browser = signed_in(clinic, "admin")
    browser.get("/staff/export.csv")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "export.csv")).one()
    local = event.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert local.strftime("%d %b %Y %H:%M:%S JST") in browser.get("/staff/audit").text
    assert timedelta(0) <= datetime.now(UTC) - event.created_at < timedelta(minutes=5)
