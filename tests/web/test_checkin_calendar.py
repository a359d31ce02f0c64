"""The check-ins' calendar file carries the person's private link: each event ends on its day
and says to keep the link to oneself and delete it when done."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import i18n
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


def test_the_calendar_is_in_the_result_s_language_folded_and_escaped(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    client.cookies.set("lang", i18n.PSEUDO_LANGUAGE)
    url, _ = run_interview(client, self_care_answers())
    with TestClient(app) as elsewhere:  # another device: no cookie, an English browser
        raw = elsewhere.get(f"{url}/checkins.ics", headers={"Accept-Language": "en"}).text
    ics = unfolded(raw)  # every line at most 75 octets, the accents' bytes never split
    assert raw != ics
    with i18n.language(i18n.PSEUDO_LANGUAGE):
        summary = i18n.gettext("Back pain check-in (%(weeks)s weeks)") % {"weeks": 2}
        private = i18n.gettext(
            "This link opens your answers: keep it to yourself. Delete this event (and your"
            " result, on its page) when you no longer need them."
        )
    assert f"SUMMARY;LANGUAGE=en-XA:{summary}\r\n" in ics
    assert ics.count(private.replace(",", "\\,")) == 3  # a comma escaped in TEXT
    text = re.sub(r"https?://\S+|UID:\S+|PRODID:\S+|[A-Z-]+(;[A-Z]+=[\w-]+)?:", " ", ics)
    assert re.findall(r"\b[a-z]{3,}\b", text) == []  # no English left
