"""Keep your result: "send me this link" and check-in reminders, end to end with a real SMTP
server on loopback (aiosmtpd) and the app's clock moved forward (no test reads today's date).
The link is sent once, to the address given; reminders never carry the link; the unsubscribe
link works without signing in and forgets the address; so does deleting the result."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.config import Settings
from app.models import Assessment, ResultContact
from app.services.alert_delivery import deliver_personal
from tests.alert_receivers import Mailbox, mailbox, wait_until
from tests.fixtures import TestClock
from tests.support.records import link_mail_recorded
from tests.support.settings import settings_with
from tests.web.helpers import csrf_of, run_interview, self_care_answers

__all__ = ["mailbox"]  # a fixture, used by name

PUBLIC = "https://backaudit.example.org"
ADDRESS = "zoe.person@example.com"
# Far from today, either way: nothing here may depend on the calendar.
T0 = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return settings_with(
        settings,
        mail={"host": "127.0.0.1", "port": mailbox.port, "starttls": False},
        public_url=PUBLIC,
        alerts={"sender": "backaudit@riverside.example"},
    )


@pytest.fixture
def clock() -> TestClock:
    return TestClock(T0)


def ask_for_link(client: TestClient, result_url: str, *, reminders: bool) -> None:
    page = client.get(result_url).text
    assert "Send me this link" in page
    form = {"csrf_token": csrf_of(page), "email": ADDRESS}
    if reminders:
        form["reminders"] = "yes"
    sent = client.post(f"{result_url}/keep", data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"{result_url}?kept=sent#keep-title"


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def unsubscribe_path(message: EmailMessage) -> str:
    found = re.search(re.escape(PUBLIC) + r"(/reminders/stop/\S+)", body(message))
    assert found, body(message)
    return found.group(1)


def send_due(engine: Engine, settings: Settings, clock: TestClock) -> int:
    return deliver_personal(engine, settings, clock=clock)


def test_the_link_is_emailed_and_a_reminder_comes_when_the_check_in_is_due_never_before(
    client: TestClient,
    mailbox: Mailbox,
    engine: Engine,
    settings: Settings,
    clock: TestClock,
    db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="backaudit")
    result_url, _ = run_interview(client, self_care_answers())
    ask_for_link(client, result_url, reminders=True)
    assert "We are sending your link" in client.get(f"{result_url}?kept=sent").text

    # The sender was woken by the commit: the link, to the address given, and only there.
    wait_until(lambda: len(mailbox.messages) == 1)
    link_mail = mailbox.messages[0]
    assert mailbox.recipients[0] == [ADDRESS]
    assert link_mail["Subject"] == "Your back pain result link"
    assert f"{PUBLIC}{result_url}\r\n" in body(link_mail)
    assert "remind you when a check-in is due" in body(link_mail)
    assert link_mail["List-Unsubscribe"] == f"<{PUBLIC}{unsubscribe_path(link_mail)}>"
    # Received is not yet recorded: the app's sender commits just after the server's answer.
    wait_until(lambda: link_mail_recorded(engine))
    contact = db.exec(select(ResultContact)).one()
    assert contact.link_sealed is None  # the link's secret is gone from the row once sent
    stored = db.exec(select(Assessment)).one().created_at
    assert contact.remind_at == stored + timedelta(weeks=2)  # the first check-in's due date

    # Thirteen days on: no check-in is due yet, so nothing is sent.
    clock.advance(timedelta(days=13))
    assert send_due(engine, settings, clock) == 0
    # Two weeks on: the reminder, once, without the link in it.
    clock.advance(timedelta(days=1, hours=1))
    send_due(engine, settings, clock)  # unless the app's own sender got there first
    wait_until(lambda: len(mailbox.messages) == 2)
    reminder = mailbox.messages[1]
    assert reminder["Subject"] == "Your back pain check-in is due"
    text = body(reminder)
    assert result_url.removeprefix("/result/") not in text
    assert "/result/" not in text
    assert unsubscribe_path(reminder) == unsubscribe_path(link_mail)
    assert send_due(engine, settings, clock) == 0  # the next one waits for week 4
    db.expire_all()
    due = db.exec(select(ResultContact)).one().remind_at
    assert due == stored + timedelta(weeks=4)
    # Addresses and links stay out of the app's log (the test's SMTP server logs its own).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("backaudit"))
    assert "personal e-mail (reminder) attempt 1: sent" in logged
    assert ADDRESS not in logged
    assert result_url.removeprefix("/result/") not in logged


def test_the_unsubscribe_link_works_without_signing_in_and_forgets_the_address(
    app: FastAPI,
    client: TestClient,
    mailbox: Mailbox,
    engine: Engine,
    settings: Settings,
    clock: TestClock,
    db: Session,
) -> None:
    result_url, _ = run_interview(client, self_care_answers())
    ask_for_link(client, result_url, reminders=True)
    wait_until(lambda: len(mailbox.messages) == 1)
    path = unsubscribe_path(mailbox.messages[0])

    with TestClient(app) as stranger:  # another browser: no cookie, no session, no result link
        page = stranger.get(path)
        assert page.status_code == 200
        assert "Stop the e-mails and forget my address" in page.text
        # Opening the link (as a mail scanner does) changes nothing.
        assert db.exec(select(ResultContact)).first() is not None
        done = stranger.post(path, data={"csrf_token": csrf_of(page.text)})
        assert "Your address is forgotten" in done.text
        db.expire_all()
        assert db.exec(select(ResultContact)).first() is None
        # The same link again, or one with its signature changed: nothing to forget.
        assert "This link no longer works" in stranger.get(path).text
        forged = path[:-2] + ("00" if not path.endswith("00") else "11")
        assert "This link no longer works" in stranger.get(forged).text

    clock.advance(timedelta(weeks=2, hours=1))
    assert send_due(engine, settings, clock) == 0
    assert len(mailbox.messages) == 1
    assert "Your result is still at its private link" in client.get("/reminders/stopped").text
    assert client.get(result_url).status_code == 200


def test_without_reminders_the_address_goes_once_the_link_is_sent(
    client: TestClient, mailbox: Mailbox, db: Session
) -> None:
    result_url, _ = run_interview(client, self_care_answers())
    ask_for_link(client, result_url, reminders=False)
    wait_until(lambda: len(mailbox.messages) == 1)
    assert "you asked for no reminders" in body(mailbox.messages[0])

    def forgotten() -> bool:
        db.expire_all()
        return db.exec(select(ResultContact)).first() is None

    wait_until(forgotten)


def test_deleting_the_result_deletes_the_address(
    client: TestClient, mailbox: Mailbox, db: Session
) -> None:
    result_url, _ = run_interview(client, self_care_answers())
    ask_for_link(client, result_url, reminders=True)
    assert db.exec(select(ResultContact)).first() is not None
    page = client.get(f"{result_url}/delete").text
    client.post(f"{result_url}/delete", data={"csrf_token": csrf_of(page)})
    db.expire_all()
    assert db.exec(select(ResultContact)).first() is None


@pytest.mark.parametrize(
    "typed", ["", "zoe at example.com", "a@b@c", "x@example.com, y@example.com"]
)
def test_an_address_that_cannot_be_one_is_asked_for_again(client: TestClient, typed: str) -> None:
    result_url, _ = run_interview(client, self_care_answers())
    page = client.get(result_url).text
    refused = client.post(
        f"{result_url}/keep", data={"csrf_token": csrf_of(page), "email": typed, "reminders": "yes"}
    )
    assert refused.status_code == 400
    assert "There is a problem" in refused.text
    assert 'href="#email"' in refused.text
    assert "checked" in refused.text  # the tick is kept


def test_a_result_s_link_can_be_sent_three_times_an_hour(client: TestClient) -> None:
    result_url, _ = run_interview(client, self_care_answers())
    page = client.get(result_url).text
    codes = [
        client.post(
            f"{result_url}/keep",
            data={"csrf_token": csrf_of(page), "email": ADDRESS},
            follow_redirects=False,
        ).status_code
        for _ in range(4)
    ]
    assert codes == [303, 303, 303, 429]
