"""The check-ins' calendar file carries the person's private link: each event ends on its day
and says to keep the link to oneself and delete it when done."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Assessment
from tests.web.helpers import run_interview, self_care_answers


def unfolded(ics: str) -> str:
    """The file's lines as they were before folding (RFC 5545 3.1): every line of it at most
    75 octets first."""
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n")), ics
    return ics.replace("\r\n ", "")


def test_each_reminder_ends_on_its_day_and_says_the_link_is_private(
    client: TestClient, db: Session
) -> None:
    url, _ = run_interview(client, self_care_answers())
    created = db.exec(select(Assessment)).one().created_at
    ics = unfolded(client.get(f"{url}/checkins.ics").text)
    day = created + timedelta(weeks=2)
    assert f"DTSTART;VALUE=DATE:{day:%Y%m%d}\r\nDTEND;VALUE=DATE:{day + timedelta(1):%Y%m%d}" in ics
    assert ics.count("This link opens your answers: keep it to yourself.") == 3
    assert "(and your result\\, on its page)" in ics  # a comma is escaped in TEXT (RFC 5545)


def test_each_check_in_has_an_alarm_on_the_morning_it_is_due(
    client: TestClient, db: Session
) -> None:
    url, _ = run_interview(client, self_care_answers())
    ics = unfolded(client.get(f"{url}/checkins.ics").text)
    events = ics.split("BEGIN:VEVENT")[1:]
    assert len(events) == 3
    for weeks, event in zip((2, 4, 8), events, strict=True):
        alarm = event[event.index("BEGIN:VALARM") : event.index("END:VALARM")]
        # Nine hours into the all-day event: 9 in the morning of its day (RFC 5545 3.6.6).
        assert "\r\nACTION:DISPLAY\r\n" in alarm
        assert "\r\nTRIGGER:PT9H\r\n" in alarm
        assert (
            f"DESCRIPTION;LANGUAGE=en-GB:Your {weeks}-week back pain check-in is due today" in alarm
        )
        assert "/result/" not in alarm  # the link stays in the event, not in the alert text
