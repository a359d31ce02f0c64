"""The queue as a busy clinic works it (issue 26): an emergency reads apart from an urgent
case, the banner's counts lead to their lists, each case says how long it has waited, the
tab's title carries the count, phone numbers can be tapped, and a clinic that gets no alerts
is told so."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from app.models import Clinic
from app.staff.deps import phone_href, waiting_time
from tests.staff.conftest import SignedInClient, csrf
from tests.staff.test_dashboard import queue_ids, submit

ROW = re.compile(r'<tr class="queue__row[^"]*">.*?</tr>', re.S)


def rows(html: str) -> list[str]:
    return ROW.findall(html)


def test_an_emergency_row_reads_apart_from_an_urgent_one(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    emergency = submit(db, clinic, saddle_numbness=True)
    urgent = submit(db, clinic, fever=True)
    submit(db, clinic)
    first, second, third = rows(signed_in(clinic).get("/staff/").text)
    assert str(emergency.id) in first
    assert "queue__row--emergency" in first
    assert "Contact the patient now." in first
    assert str(urgent.id) in second
    assert "queue__row--urgent" in second
    assert "Contact the patient today." in second
    assert "queue__row--emergency" not in second
    assert "Contact the patient" not in third


def test_a_reviewed_emergency_no_longer_stands_out(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    emergency = submit(db, clinic, saddle_numbness=True)
    browser = signed_in(clinic)
    browser.get(f"/staff/assessments/{emergency.id}")
    browser.post(
        f"/staff/assessments/{emergency.id}/review",
        data={"reviewed": "yes", "csrf_token": csrf(browser)},
    )
    [row] = rows(browser.get("/staff/").text)
    assert "queue__row--emergency" not in row
    assert "Waiting" not in row


def test_the_banners_counts_link_to_the_lists_they_count(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    submit(db, clinic, saddle_numbness=True)
    submit(db, clinic, bladder_change=True)
    submit(db, clinic, fever=True)
    browser = signed_in(clinic)
    page = browser.get("/staff/").text
    assert "3 emergency or urgent submissions not reviewed yet" in page
    links = dict(re.findall(r'<a href="(/staff/\?level=[^"]+)">(\d+ \w+) not reviewed</a>', page))
    assert links == {
        "/staff/?level=emergency&amp;reviewed=no": "2 emergency",
        "/staff/?level=urgent&amp;reviewed=no": "1 urgent",
    }
    for href, words in links.items():
        listed = browser.get(href.replace("&amp;", "&")).text
        assert len(queue_ids(listed)) == int(words.split()[0])


def test_the_tab_title_counts_urgent_cases_not_reviewed(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    browser = signed_in(clinic)
    assert "<title>Submissions – backaudit</title>" in browser.get("/staff/").text
    submit(db, clinic, saddle_numbness=True)
    submit(db, clinic, fever=True)
    submit(db, clinic)
    assert "<title>(2 urgent) Submissions – backaudit</title>" in browser.get("/staff/").text


def test_each_case_not_reviewed_says_how_long_it_has_waited(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    submit(db, clinic, days_ago=2, fever=True)
    [row] = rows(signed_in(clinic).get("/staff/").text)
    assert "Waiting 2 days" in row


@pytest.mark.parametrize(
    ("waited", "shown"),
    [
        (timedelta(seconds=30), "0 min"),
        (timedelta(minutes=59), "59 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=15), "2 h 15 min"),
        (timedelta(days=1, hours=3), "1 day"),
        (timedelta(days=9), "9 days"),
        (timedelta(minutes=-5), "0 min"),  # a clock a little behind the database's
    ],
)
def test_waiting_time_reads_as_a_queue_needs(waited: timedelta, shown: str) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert waiting_time(now - waited, now) == shown


@pytest.mark.parametrize(
    ("contact", "href"),
    [
        ("+44 7700 900123", "tel:+447700900123"),
        ("07700 900123", "tel:07700900123"),
        ("+44 (0)1632 960-001", "tel:+4401632960001"),
        ("Booking 4471", None),
        ("4471", None),  # too short for a phone number: a booking reference
        ("sam@example.org", None),
        ("", None),
        (None, None),
    ],
)
def test_only_a_phone_number_becomes_a_tel_link(contact: str | None, href: str | None) -> None:
    assert phone_href(contact) == href


def test_the_queue_warns_when_the_clinic_gets_no_alerts(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    page = signed_in(clinic, "admin").get("/staff/").text
    assert "Alerts are not set up." in page
    assert '<a href="/staff/alerts">Set an alert e-mail address or webhook</a>' in page
    assert "Ask an admin" in signed_in(clinic).get("/staff/").text
    clinic.alert_email = "reception@riverside.example"
    db.add(clinic)
    db.commit()
    assert "Alerts are not set up." not in signed_in(clinic).get("/staff/").text


def test_the_queue_offers_a_refresh_that_keeps_its_filters(
    signed_in: SignedInClient, clinic: Clinic
) -> None:
    page = signed_in(clinic).get("/staff/", params={"level": "urgent", "reviewed": "no"}).text
    assert 'data-refresh="60"' in page
    assert '<a href="/staff/?level=urgent&amp;reviewed=no">Refresh the list</a>' in page
