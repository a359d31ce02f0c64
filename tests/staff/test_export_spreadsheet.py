"""The CSV exports as a spreadsheet reads them: UTF-8 with a byte-order mark (so Excel does not
garble "Zoë"), a phone number without a stray apostrophe, numbers that are numbers with their
unit in the heading, times in ISO 8601 in the clinic's zone, and a data dictionary."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlmodel import Session

from app.models import Assessment, Clinic
from tests.staff.conftest import SignedInClient
from tests.staff.test_dashboard import submit

NAME = "Zoë Ó'Brien"
PHONE = "+44 7700 900123"


def _with_contact(db: Session, a: Assessment) -> None:
    a.patient_name = NAME
    a.patient_contact = PHONE
    db.add(a)
    db.commit()


def test_the_export_opens_in_a_spreadsheet_with_names_phone_numbers_and_numbers_intact(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    a = submit(
        db, clinic, label="Appt 4471", height_cm=175.5, sitting_hours=9, sitting_breaks="rarely"
    )
    _with_contact(db, a)

    response = signed_in(clinic).get("/staff/export.csv")

    assert response.content.startswith(b"\xef\xbb\xbf")  # the UTF-8 byte-order mark
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8-sig")
    [row] = csv.DictReader(io.StringIO(text))
    assert row["patient_name"] == NAME
    assert row["patient_contact"].strip() == PHONE
    assert "'" not in row["patient_contact"]
    assert row["height_cm (cm)"] == "175.5"
    assert row["sitting_hours (hours)"] == "9"
    assert datetime.fromisoformat(row["submitted_at"]).utcoffset() is not None
    # Typed by their quotes, as a spreadsheet may: the measurements are numbers, not text.
    reader = csv.reader(io.StringIO(text), quoting=csv.QUOTE_NONNUMERIC)
    header = next(reader)
    typed: dict[str, object] = dict(zip(header, next(reader), strict=True))  # str | float
    assert typed["height_cm (cm)"] == 175.5
    assert typed["age (years)"] == float(a.answers["age"])
    assert typed["patient_name"] == NAME


def test_the_export_can_leave_out_the_byte_order_mark(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    _with_contact(db, submit(db, clinic))
    browser = signed_in(clinic)
    plain = browser.get("/staff/export.csv", params={"bom": "no"})
    assert plain.content.startswith(b'"id"')
    assert NAME.encode() in plain.content
    checkins = browser.get("/staff/export-checkins.csv", params={"bom": "no"})
    assert checkins.content.startswith(b'"submission_id"')
    assert browser.get("/staff/export.csv", params={"bom": "maybe"}).status_code == 422


def test_each_export_has_a_data_dictionary_of_its_columns(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    submit(db, clinic)
    browser = signed_in(clinic)
    for export, dictionary in (
        ("/staff/export.csv", "/staff/export-dictionary.csv"),
        ("/staff/export-checkins.csv", "/staff/export-checkins-dictionary.csv"),
    ):
        headings = next(csv.reader(io.StringIO(browser.get(export).content.decode("utf-8-sig"))))
        response = browser.get(dictionary)
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [row["column"] for row in rows] == headings
        assert all(row["meaning"] for row in rows)
    page = browser.get("/staff/").text
    assert 'href="/staff/export-dictionary.csv"' in page
    assert 'href="/staff/export.csv?bom=no"' in page
