"""A clinic's contact details and time zone: what can be stored, and what each problem says."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from app.models import Clinic
from app.services import clinics
from app.services.clinics import ClinicDetails, details_problems


def test_good_details_have_no_problems() -> None:
    details = ClinicDetails(
        phone="+44 (0)1632 960-001",
        contact_email="reception@riverside.example",
        address="1 River Street\nTownsville\r\nTN1 1AA",
        time_zone="America/New_York",
    )
    assert details_problems(details) == {}


def test_empty_contact_details_are_allowed_but_a_time_zone_is_needed() -> None:
    assert details_problems(ClinicDetails()) == {}
    assert set(details_problems(ClinicDetails(time_zone=" "))) == {"time_zone"}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("phone", "call us", "phone number"),
        ("phone", "12345", "phone number"),  # too few digits to be one
        ("phone", "01632 960001; DROP", "phone number"),
        ("contact_email", "reception.riverside.example", "e-mail address"),
        ("contact_email", "a@b", "e-mail address"),
        ("address", "x" * 501, "address"),
        ("address", "1 River St\x1b[31m", "address"),
        ("time_zone", "London", "time zone"),
        ("time_zone", "Europe/Londn", "time zone"),
        ("time_zone", "../../etc/passwd", "time zone"),
        ("time_zone", "GMT+1", "time zone"),
    ],
)
def test_each_problem_names_its_field(field: str, value: str, words: str) -> None:
    problems = details_problems(ClinicDetails(**{field: value}))
    assert list(problems) == [field]
    assert words in problems[field].lower()


def test_updating_stores_the_details_and_says_which_fields_changed(
    db: Session, clinic: Clinic
) -> None:
    assert clinic.time_zone == "Europe/London"  # the default
    changed = clinics.update_details(
        db,
        clinic,
        ClinicDetails(
            phone=" 01632 960 001 ", address="1 River St\r\nTown", time_zone="Asia/Tokyo"
        ),
    )
    assert changed == ["phone", "address", "time_zone"]
    db.commit()
    db.expire_all()
    stored = db.get_one(Clinic, clinic.id)
    assert (stored.phone, stored.contact_email, stored.address, stored.time_zone) == (
        "01632 960 001",
        None,
        "1 River St\nTown",
        "Asia/Tokyo",
    )
    assert clinics.zone_of(stored) == ZoneInfo("Asia/Tokyo")
    assert clinics.update_details(db, stored, ClinicDetails.of(stored)) == []
    with pytest.raises(ValueError, match="time zone"):
        clinics.update_details(db, stored, ClinicDetails(time_zone="Mars/Olympus"))


def test_a_zone_the_server_no_longer_knows_reads_as_the_default() -> None:
    assert clinics.zone_of(Clinic(name="x", time_zone="Gone/Away")) == ZoneInfo("Europe/London")
