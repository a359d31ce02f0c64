"""Clinic alerts, end to end with real receivers on loopback: an SMTP server (aiosmtpd) and an
HTTP server. The clock is the test's: submissions are stored at its time (``now=``, or the
app's ``clock=``) and the sender sends at it, so retries and backoff need no sleeping, and no
test depends on today's date. The time-sensitive tests run on clocks years apart (``t0``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import socket
import ssl
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.config import CheckinLimits, Settings
from app.main import create_app
from app.models import Alert, AlertAttempt, Assessment, Clinic, utcnow
from app.services import (
    alert_delivery,
    alert_history,
    alert_settings,
    alerts,
    api_keys,
    checkins,
    webhook_addresses,
)
from app.services.alert_delivery import deliver_due
from app.services.questionnaires import Registry
from tests.alert_receivers import (
    REFUSED_WEBHOOK_HOSTS,
    CountingListener,
    Mailbox,
    Receiver,
    SilentServer,
    TlsReceiver,
    certificate_authority,
    counting_listener,
    fake_dns,
    mailbox,
    receiver,
    silent_server,
    wait_until,
)
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO, checkin_answers, record_assessment
from tests.support.network import free_port
from tests.support.settings import settings_with
from tests.web.conftest import make_link
from tests.web.helpers import EMERGENCY_PAGE, FIRST_PAGE, answer, run_interview

__all__ = ["counting_listener", "mailbox", "receiver", "silent_server"]  # fixtures, used by name

ALERT_ADDRESS = "alerts@riverside.example"
LOOPBACK = IPv4Network("127.0.0.0/8")
URGENT = {**EXAMPLE_ANSWERS, "fever": True, "night_pain": True}
EMERGENCY = {**SAFETY_ALL_NO, "saddle_numbness": True}


def emergency(client: TestClient, prefix: str) -> Any:
    """The form's first pages with an emergency sign: the age, then numbness."""
    answer(client, prefix, FIRST_PAGE, {"age": 42})
    return answer(
        client, prefix, EMERGENCY_PAGE,
        {"saddle_numbness": True, "bladder_change": False, "bowel_change": False,
         "sexual_function_change": False},
    )  # fmt: skip


SEE_DOCTOR = {**EXAMPLE_ANSWERS, "pregnant": True}
T0 = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
FAR_FUTURE = datetime(2099, 1, 1, 9, 30, tzinfo=UTC)
PAST = datetime(2001, 3, 4, 9, 30, tzinfo=UTC)
CLOCKS = {"2026": T0, "far_future": FAR_FUTURE, "past": PAST}


@pytest.fixture(params=list(CLOCKS.values()), ids=list(CLOCKS))
def t0(request: pytest.FixtureRequest) -> datetime:
    """The test's time: its submissions are stored at it and its sender starts sending at it.
    Each test that takes it runs on every clock in CLOCKS, none of them today's."""
    at: datetime = request.param
    return at


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return settings_with(
        settings,
        mail={"host": "127.0.0.1", "port": mailbox.port, "starttls": False},
        public_url="https://backaudit.example.org",
        alerts={
            "sender": "backaudit@riverside.example",
            # The receivers are on loopback: a clinic's internal receiver, allowed.
            "webhook_allowed_networks": "127.0.0.0/8",
        },
    )


def with_alerts(
    db: Session, clinic: Clinic, *, email: str | None = ALERT_ADDRESS, webhook: str | None = None
) -> str | None:
    """The clinic's alert settings; returns the webhook's secret."""
    alert_settings.set_alert_email(db, clinic, email or "")
    secret = alert_settings.set_webhook(
        db, clinic, webhook or "", allow_http=True, allowed_networks=[LOOPBACK]
    )
    db.commit()
    return secret


def stored_alerts(db: Session) -> list[Alert]:
    db.expire_all()
    return list(db.exec(select(Alert).order_by(col(Alert.kind))).all())


def attempts_of(db: Session, alert: Alert) -> list[tuple[bool, str]]:
    rows = db.exec(
        select(AlertAttempt)
        .where(AlertAttempt.alert_id == alert.id)
        .order_by(col(AlertAttempt.attempted_at))
    ).all()
    return [(row.ok, row.detail) for row in rows]


def send_due(engine: Engine, settings: Settings, registry: Registry, at: datetime) -> int:
    return deliver_due(engine, settings, registry, clock=lambda: at)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, as README shows it."""
    timestamp = headers["X-Backaudit-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Backaudit-Signature"], "sha256=" + expected.hexdigest())


# -- what is sent --------------------------------------------------------------------------------


@pytest.fixture
def app_at(settings: Settings, t0: datetime) -> Iterator[FastAPI]:
    """The app on the test's clock: it stores submissions at ``t0``, and its sender sends then."""
    app = create_app(settings, clock=lambda: t0)
    yield app
    app.state.engine.dispose()


def test_an_urgent_intake_submission_sends_one_email_without_health_details_and_a_signed_webhook(
    app_at: FastAPI,
    t0: datetime,
    db: Session,
    clinic: Clinic,
    mailbox: Mailbox,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = with_alerts(db, clinic, webhook=receiver.url)
    assert secret is not None
    token = make_link(db, clinic.id)

    # The app's own sender, woken by the submission's commit (its next look would be in an
    # hour): nobody calls it here.
    monkeypatch.setattr(alert_delivery, "POLL_SECONDS", 3600)
    with TestClient(app_at) as client:
        run_interview(client, URGENT, prefix=f"/intake/{token}", on_advice="stop")
        wait_until(lambda: mailbox.messages and receiver.deliveries)
    assert send_due(engine, settings, registry, t0 + timedelta(days=1)) == 0

    db.expire_all()
    [submission] = db.exec(select(Assessment)).all()
    assert submission.created_at == t0  # the app's clock, not the calendar's
    [mail] = mailbox.messages
    assert mailbox.recipients == [[ALERT_ADDRESS]]
    assert mail["Subject"] == "Urgent submission for Riverside Physio"
    assert mail["From"] == "backaudit@riverside.example"
    text = mail.get_content()
    link = f"https://backaudit.example.org/staff/assessments/{submission.id}"
    assert link in text
    assert "Riverside Physio" in text
    assert "(Europe/London)" in text
    # Nothing of what the person said or was told: not the reasons, not the advice, not the
    # answers, not the link's patient reference.
    everything = mail.as_string()
    told = submission.result["triage"]
    for secret_text in (
        *(reason["message"] for reason in told["reasons"]),
        *(reason["code"] for reason in told["reasons"]),
        told["title"],
        told["advice"],
        "temperature",
        "patient 12",
    ):
        assert secret_text.lower() not in everything.lower(), secret_text

    [hook] = receiver.deliveries
    assert hook.path == "/hooks/backaudit"
    assert hook.headers["Content-Type"] == "application/json"
    assert verify(secret, hook.headers, hook.body)
    assert hook.headers["X-Backaudit-Timestamp"] == str(int(t0.timestamp()))  # the sender's
    assert json.loads(hook.body) == {
        "event": "submission.urgent",
        "assessment_id": str(submission.id),
        "level": "urgent",
        "created_at": submission.created_at.isoformat(timespec="seconds"),
        "url": link,
    }
    assert not verify("whsec_another", hook.headers, hook.body)

    sent = stored_alerts(db)
    assert [(a.kind, a.status, a.attempts, a.sent_at) for a in sent] == [
        ("email", "sent", 1, t0),
        ("webhook", "sent", 1, t0),
    ]
    assert attempts_of(db, sent[0]) == [(True, "accepted by 127.0.0.1")]
    assert attempts_of(db, sent[1]) == [(True, "delivered")]


def test_an_emergency_mail_names_the_level_and_the_time_in_the_clinics_zone(
    db: Session,
    clinic: Clinic,
    mailbox: Mailbox,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic)
    clinic.time_zone = "America/New_York"
    db.add(clinic)
    db.commit()
    record_assessment(
        db, registry.default, EMERGENCY, channel="intake", clinic_id=clinic.id, now=t0
    )
    db.commit()
    [submission] = db.exec(select(Assessment)).all()
    assert submission.created_at == t0

    sent_at = t0 + timedelta(seconds=5)
    assert send_due(engine, settings, registry, sent_at) == 1

    [mail] = mailbox.messages
    assert mail["Subject"] == "Emergency submission for Riverside Physio"
    local = t0.astimezone(ZoneInfo("America/New_York"))
    assert f"{local:%H:%M on %d %b %Y} (America/New_York)" in mail.get_content()
    assert parsedate_to_datetime(mail["Date"]) == sent_at  # dated by the sender's clock


def test_a_line_break_in_a_clinic_name_stored_earlier_cannot_break_or_add_a_mail_header(
    db: Session,
    clinic: Clinic,
    mailbox: Mailbox,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic)
    clinic.name = "Riverside\r\nBcc: everyone@example.org\u202e Physio"  # as an old CLI stored it
    db.add(clinic)
    db.commit()
    record_assessment(
        db, registry.default, EMERGENCY, channel="intake", clinic_id=clinic.id, now=t0
    )
    db.commit()

    assert send_due(engine, settings, registry, t0) == 1
    [mail] = mailbox.messages
    assert mailbox.recipients == [[ALERT_ADDRESS]]
    assert mail["Subject"] == "Emergency submission for Riverside Bcc: everyone@example.org Physio"
    assert mail["Bcc"] is None
    [alert] = stored_alerts(db)
    assert alert.status == "sent"


@pytest.mark.parametrize("answers", [EXAMPLE_ANSWERS, SEE_DOCTOR], ids=["self_care", "see_doctor"])
def test_a_self_care_or_see_a_doctor_submission_alerts_nobody(
    client: TestClient,
    db: Session,
    clinic: Clinic,
    mailbox: Mailbox,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    answers: dict[str, Any],
) -> None:
    with_alerts(db, clinic, webhook=receiver.url)
    token = make_link(db, clinic.id)
    run_interview(client, dict(answers), prefix=f"/intake/{token}", on_advice="continue")

    db.expire_all()
    [submission] = db.exec(select(Assessment)).all()
    assert submission.triage_level == ("self_care" if answers is EXAMPLE_ANSWERS else "see_doctor")
    assert stored_alerts(db) == []
    assert send_due(engine, settings, registry, utcnow() + timedelta(days=1)) == 0
    assert mailbox.messages == []
    assert receiver.deliveries == []


def test_every_channel_for_a_clinic_alerts_and_a_submission_for_no_clinic_does_not(
    app: FastAPI, db: Session, clinic: Clinic, registry: Registry
) -> None:
    # Without its lifespan: no sender sends (and writes attempts) while the tables are emptied.
    client = TestClient(app)
    with_alerts(db, clinic, webhook="http://127.0.0.1:9/hook")
    _, key = api_keys.create_api_key(db, name="booking", clinic_id=clinic.id)
    db.commit()

    stored = client.post(
        "/api/v1/assessments",
        json={"answers": EMERGENCY},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert stored.status_code == 201
    assert {(a.kind, str(a.assessment_id)) for a in stored_alerts(db)} == {
        ("email", stored.json()["id"]),
        ("webhook", stored.json()["id"]),
    }
    # A retry with the same Idempotency-Key stores nothing new, and alerts nobody again.
    for _ in range(2):
        client.post(
            "/api/v1/assessments",
            json={"answers": URGENT},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "k-1"},
        )
    assert len(stored_alerts(db)) == 4

    # The public form: nobody's clinic, nobody to tell.
    response = emergency(client, "")
    assert response.headers["location"].startswith("/result/")
    assert len(stored_alerts(db)) == 4


def test_a_clinic_without_alert_settings_gets_no_alert_rows(
    db: Session, clinic: Clinic, registry: Registry
) -> None:
    record_assessment(db, registry.default, EMERGENCY, channel="intake", clinic_id=clinic.id)
    db.commit()
    assert stored_alerts(db) == []


def test_an_alert_is_stored_with_its_submission_or_not_at_all(
    db: Session, clinic: Clinic, registry: Registry
) -> None:
    with_alerts(db, clinic)
    record_assessment(db, registry.default, EMERGENCY, channel="intake", clinic_id=clinic.id)
    assert db.info.get(alerts.QUEUED) is True
    db.rollback()  # the request failed after recording: nothing was acknowledged
    assert stored_alerts(db) == []
    assert db.exec(select(Assessment)).all() == []


# -- retries --------------------------------------------------------------------------------------


def fails_twice_then_is_sent(
    db: Session,
    clinic: Clinic,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    """The retry and backoff scenario, for the clinic's webhook alert queued at ``t0`` (the
    receiver set to answer 500, 502, then 200)."""
    [alert] = stored_alerts(db)
    assert (alert.created_at, alert.next_attempt_at) == (t0, t0)  # stored by the test's clock
    assert send_due(engine, settings, registry, t0 - timedelta(seconds=1)) == 0  # not due yet

    assert send_due(engine, settings, registry, t0) == 1
    [alert] = stored_alerts(db)
    assert (alert.status, alert.attempts) == ("pending", 1)
    assert alert.next_attempt_at == t0 + timedelta(seconds=15)
    assert send_due(engine, settings, registry, t0 + timedelta(seconds=14)) == 0  # not yet

    at = t0 + timedelta(seconds=15)
    assert send_due(engine, settings, registry, at) == 1
    [alert] = stored_alerts(db)
    assert (alert.status, alert.attempts) == ("pending", 2)
    assert alert.next_attempt_at == at + timedelta(seconds=30)  # twice as long

    at += timedelta(seconds=30)
    assert send_due(engine, settings, registry, at) == 1
    [alert] = stored_alerts(db)
    assert (alert.status, alert.attempts, alert.sent_at) == ("sent", 3, at)
    assert attempts_of(db, alert) == [
        (False, "could not deliver"),
        (False, "could not deliver"),
        (True, "delivered"),
    ]
    assert len(receiver.deliveries) == 3
    # Each attempt signed afresh, with its own time.
    secret = clinic.webhook_secret
    assert secret is not None
    assert all(verify(secret, d.headers, d.body) for d in receiver.deliveries)
    assert [d.headers["X-Backaudit-Timestamp"] for d in receiver.deliveries] == [
        str(int(t.timestamp())) for t in (t0, t0 + timedelta(seconds=15), at)
    ]
    assert send_due(engine, settings, registry, at + timedelta(days=1)) == 0


def test_a_failing_webhook_is_retried_with_backoff_every_attempt_kept_until_it_is_sent(
    db: Session,
    clinic: Clinic,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic, email=None, webhook=receiver.url)
    receiver.statuses = [500, 502, 200]
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=t0)
    db.commit()
    fails_twice_then_is_sent(db, clinic, receiver, engine, settings, registry, t0)


def test_alert_scenario_holds_with_a_clock_far_in_the_future(
    db: Session,
    clinic: Clinic,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
) -> None:
    """In 2099, through the app: an app whose clock says so stores an API submission and queues
    its alert then, and the sender, on the same clock, retries it with backoff until it is
    sent. Nothing in storing, claiming or retrying an alert reads today's date."""
    app = create_app(settings, clock=lambda: FAR_FUTURE)
    try:
        # Without its lifespan: the test sends, on its own clock, moving on from FAR_FUTURE.
        client = TestClient(app)
        with_alerts(db, clinic, email=None, webhook=receiver.url)
        _, key = api_keys.create_api_key(db, name="booking", clinic_id=clinic.id)
        db.commit()
        receiver.statuses = [500, 502, 200]
        stored = client.post(
            "/api/v1/assessments",
            json={"answers": URGENT},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert stored.status_code == 201
        assert stored.json()["created_at"] == "2099-01-01T09:30:00Z"
        fails_twice_then_is_sent(db, clinic, receiver, engine, settings, registry, FAR_FUTURE)
    finally:
        app.state.engine.dispose()


def test_after_the_last_attempt_an_alert_is_failed_and_left_alone(
    db: Session,
    clinic: Clinic,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic, email=None, webhook=receiver.url)
    receiver.statuses = [503]
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=t0)
    db.commit()

    at, waits = t0, []
    for _ in range(alerts.MAX_ATTEMPTS):
        assert send_due(engine, settings, registry, at) == 1
        [alert] = stored_alerts(db)
        waits.append(alert.next_attempt_at - at)
        at = alert.next_attempt_at
    [alert] = stored_alerts(db)
    assert (alert.status, alert.attempts, alert.sent_at) == ("failed", 10, None)
    assert attempts_of(db, alert) == [(False, "could not deliver")] * 10
    minutes = [w.total_seconds() / 60 for w in waits[:-1]]
    assert minutes == [0.25, 0.5, 1, 2, 4, 8, 15, 15, 15]  # doubling, up to a quarter hour
    assert send_due(engine, settings, registry, at + timedelta(days=7)) == 0
    assert len(receiver.deliveries) == 10


def test_a_redirect_is_a_failed_attempt_not_followed(
    db: Session,
    clinic: Clinic,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic, email=None, webhook=receiver.url)
    receiver.statuses = [307]
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=t0)
    db.commit()
    assert send_due(engine, settings, registry, t0) == 1
    [alert] = stored_alerts(db)
    assert attempts_of(db, alert) == [(False, "could not deliver")]
    assert len(receiver.deliveries) == 1


def test_a_webhook_nobody_answers_is_a_failed_attempt_that_only_the_log_explains(
    db: Session,
    clinic: Clinic,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with_alerts(db, clinic, email=None, webhook=f"http://127.0.0.1:{free_port()}/hook")
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=t0)
    db.commit()
    with caplog.at_level(logging.INFO, logger="backaudit.alerts"):
        assert send_due(engine, settings, registry, t0) == 1
    [alert] = stored_alerts(db)
    # The admin's page gets the generic words; which ports answer is the server log's.
    assert attempts_of(db, alert) == [(False, "could not deliver")]
    [logged] = [r.getMessage() for r in caplog.records if r.name == "backaudit.alerts"]
    assert "ConnectionRefusedError" in logged
    assert (alert.status, alert.next_attempt_at) == ("pending", t0 + timedelta(seconds=15))


def test_an_address_removed_before_sending_fails_the_alert_without_retries(
    db: Session,
    clinic: Clinic,
    mailbox: Mailbox,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic)
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=t0)
    with_alerts(db, clinic, email=None)
    assert send_due(engine, settings, registry, t0) == 1
    [alert] = stored_alerts(db)
    assert alert.status == "failed"
    assert attempts_of(db, alert) == [(False, "the clinic has no alert e-mail address now")]
    assert mailbox.messages == []


# -- the submission never waits for the mail server ----------------------------------------------


@pytest.fixture
def app_with_silent_mail(settings: Settings, silent_server: SilentServer) -> Iterator[FastAPI]:
    app = create_app(settings_with(settings, mail={"port": silent_server.port}))
    yield app
    app.state.engine.dispose()


def test_a_mail_server_that_hangs_neither_slows_nor_fails_submissions(
    app_with_silent_mail: FastAPI, db: Session, clinic: Clinic, silent_server: SilentServer
) -> None:
    with_alerts(db, clinic)
    first, second = make_link(db, clinic.id), make_link(db, clinic.id)
    with TestClient(app_with_silent_mail) as patient:
        answered = emergency(patient, f"/intake/{first}")
        assert answered.status_code == 303
        assert "/result/" in answered.headers["location"]
        # The app's sender is now stuck talking to the silent server...
        assert silent_server.connected.wait(5)
        # ...and another emergency is stored and answered meanwhile, without waiting for it.
        started = time.monotonic()
        answered = emergency(patient, f"/intake/{second}")
        assert answered.status_code == 303
        assert time.monotonic() - started < 2
        assert patient.get(answered.headers["location"]).status_code == 200
        assert sorted(a.attempts for a in stored_alerts(db)) == [0, 1]

        # The connection drops, and the server is gone: failed attempts, tried again later.
        silent_server.release()
        wait_until(lambda: len(db.exec(select(AlertAttempt)).all()) == 2)
    db.expire_all()
    attempts = db.exec(select(AlertAttempt).order_by(col(AlertAttempt.attempted_at))).all()
    assert [attempt.ok for attempt in attempts] == [False, False]
    assert attempts[0].detail.startswith("SMTPServerDisconnected")
    # The other alert's try met the server as it went: refused, or reset while it closed.
    assert attempts[1].detail.startswith(("ConnectionRefusedError", "SMTPServerDisconnected"))
    assert {(a.status, a.attempts) for a in stored_alerts(db)} == {("pending", 1)}
    assert len(db.exec(select(Assessment)).all()) == 2


def test_with_no_mail_server_set_up_an_email_alert_waits_and_says_why(
    db: Session,
    clinic: Clinic,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic)
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=t0)
    db.commit()
    assert send_due(engine, settings_with(settings, mail={"host": ""}), registry, t0) == 1
    [alert] = stored_alerts(db)
    assert alert.status == "pending"
    assert attempts_of(db, alert) == [(False, "e-mail is not set up on this server (SMTP_HOST)")]


# -- two senders, one alert -----------------------------------------------------------------------


def test_of_two_senders_claiming_one_alert_only_one_gets_it(
    db: Session, clinic: Clinic, engine: Engine, registry: Registry, t0: datetime
) -> None:
    """The race, step by step: both read the alert as due; one claims it; the other's claim
    waits for that commit (PostgreSQL's row lock, SQLite's database lock), then gets nothing."""
    with_alerts(db, clinic)
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=t0)
    db.commit()
    with Session(engine) as first, Session(engine) as second:
        [seen_first] = alerts.due(first, now=t0)
        [seen_second] = alerts.due(second, now=t0)
        assert alerts.claim_one(first, seen_first, now=t0) is not None  # not committed yet
        outcome: list[object] = []
        racing = threading.Thread(
            target=lambda: outcome.append(alerts.claim_one(second, seen_second, now=t0))
        )
        racing.start()
        racing.join(timeout=0.3)
        assert racing.is_alive()  # waiting for the first sender's transaction
        first.commit()
        racing.join(timeout=10)
        second.commit()
    assert outcome == [None]
    [alert] = stored_alerts(db)
    assert alert.attempts == 1


def test_senders_running_at_once_send_each_alert_once(
    db: Session,
    clinic: Clinic,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic, email=None, webhook=receiver.url)
    for _ in range(24):
        record_assessment(
            db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=t0
        )
    db.commit()
    start = threading.Barrier(4)
    tried: list[int] = []

    def sender() -> None:
        start.wait()
        tried.append(send_due(engine, settings, registry, t0))

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sum(tried) == 24
    sent_for = [json.loads(d.body)["assessment_id"] for d in receiver.deliveries]
    assert len(sent_for) == len(set(sent_for)) == 24
    assert {(a.status, a.attempts) for a in stored_alerts(db)} == {("sent", 1)}
    assert len(db.exec(select(AlertAttempt)).all()) == 24


def test_the_readme_s_receiver_check_accepts_a_real_alert_and_nothing_else(
    db: Session,
    clinic: Clinic,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [snippet] = [
        block
        for block in re.findall(r"```python\n(.*?)```", readme, re.S)
        if "def is_from_backaudit" in block
    ]
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent(snippet), namespace)
    is_from_backaudit = namespace["is_from_backaudit"]
    secret = with_alerts(db, clinic, email=None, webhook=receiver.url)
    # On the real clock, whatever the date: the receiver checks the timestamp against its own
    # (time.time()), as a clinic's would. Stored and sent at the same moment.
    now = utcnow()
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=now)
    db.commit()
    assert send_due(engine, settings, registry, now) == 1

    [hook] = receiver.deliveries
    assert is_from_backaudit(secret, hook.headers, hook.body)
    assert not is_from_backaudit(secret, hook.headers, hook.body.replace(b"urgent", b"self_care"))
    assert not is_from_backaudit(alert_settings.new_webhook_secret(), hook.headers, hook.body)
    old = {**hook.headers, "X-Backaudit-Timestamp": str(int(time.time()) - 3600)}
    assert not is_from_backaudit(secret, old, hook.body)


def test_shutting_down_waits_for_the_alert_being_sent_before_closing_the_database(
    app_with_silent_mail: FastAPI, db: Session, clinic: Clinic, silent_server: SilentServer
) -> None:
    with_alerts(db, clinic)
    engine = app_with_silent_mail.state.engine
    seen: list[str] = []
    event.listen(engine, "checkin", lambda *_: seen.append("connection returned"))
    event.listen(engine, "engine_disposed", lambda *_: seen.append("engine disposed"))
    with TestClient(app_with_silent_mail) as patient:
        emergency(patient, f"/intake/{make_link(db, clinic.id)}")
        assert silent_server.connected.wait(5)  # the sender is in the middle of sending
        threading.Timer(0.3, silent_server.release).start()  # ...until after the app stops
    assert seen[-1] == "engine disposed"
    assert len(db.exec(select(AlertAttempt)).all()) == 1  # recorded before


# -- check-ins ------------------------------------------------------------------------------------


def test_a_warning_sign_at_a_check_in_alerts_the_clinic_as_a_check_in(
    db: Session, clinic: Clinic, mailbox: Mailbox, receiver: Receiver, engine: Engine,
    settings: Settings, registry: Registry, t0: datetime,
) -> None:  # fmt: skip
    secret = with_alerts(db, clinic, webhook=receiver.url)
    assert secret is not None
    recorded = record_assessment(
        db, registry.default, EXAMPLE_ANSWERS, channel="intake", clinic_id=clinic.id, now=t0
    )
    db.commit()
    assessment = db.get_one(Assessment, recorded.id)
    assert stored_alerts(db) == []  # self-care: nobody is told

    # Nothing for a check-in that fits the programme, or one that says "worse" (see a doctor).
    day = timedelta(days=1)
    for quiet in (checkin_answers(), checkin_answers(global_change="worse")):
        checkins.record_checkin(db, registry, assessment, quiet, channel="intake", now=t0 + day)
        db.commit()
    assert stored_alerts(db) == []

    at = t0 + 2 * day
    found = checkins.record_checkin(
        db, registry, assessment, checkin_answers(fever=True), channel="intake", now=at
    )
    db.commit()
    sent = stored_alerts(db)
    assert {(a.kind, a.assessment_id, a.checkin_id, a.created_at) for a in sent} == {
        ("email", assessment.id, found.id, at),
        ("webhook", assessment.id, found.id, at),
    }
    assert send_due(engine, settings, registry, at - timedelta(seconds=1)) == 0  # not yet
    assert send_due(engine, settings, registry, at) == 2

    [mail] = mailbox.messages
    assert mail["Subject"] == "Urgent check-in for Riverside Physio"
    assert "A check-in marked Urgent arrived" in mail.get_content()
    assert "temperature" not in mail.as_string().lower()
    [hook] = receiver.deliveries
    assert verify(secret, hook.headers, hook.body)
    body = json.loads(hook.body)
    assert body["event"] == "checkin.urgent"
    assert body["checkin_id"] == str(found.id)
    assert body["level"] == "urgent"
    assert body["created_at"] == found.created_at.isoformat(timespec="seconds")
    assert found.created_at == at
    lines = alert_history.recent_alerts(db, clinic_id=clinic.id, assessment_id=assessment.id)
    assert {line.level for line in lines} == {"urgent"}


def test_a_check_in_of_a_result_for_no_clinic_alerts_nobody(
    db: Session, registry: Registry
) -> None:
    recorded = record_assessment(db, registry.default, EXAMPLE_ANSWERS, channel="web")
    db.commit()
    assessment = db.get_one(Assessment, recorded.id)
    checkins.record_checkin(
        db, registry, assessment, checkin_answers(saddle_numbness=True), channel="web"
    )
    db.commit()
    assert stored_alerts(db) == []


# -- where a webhook may go -------------------------------------------------------------------------


def with_webhook_stored(db: Session, clinic: Clinic, url: str) -> None:
    """The webhook written straight into the database, as the forms would refuse it: an address
    saved before the check, or a name that resolved elsewhere when it was saved."""
    clinic.webhook_url, clinic.webhook_secret = url, alert_settings.new_webhook_secret()
    db.add(clinic)
    db.commit()


def urgent_alert_sent(
    db: Session,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    clinic: Clinic,
    t0: datetime,
) -> list[tuple[bool, str]]:
    """An urgent submission for the clinic, its webhook alert tried once: the attempt."""
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=t0)
    db.commit()
    assert send_due(engine, settings, registry, t0) == 1
    [alert] = stored_alerts(db)
    return attempts_of(db, alert)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every outgoing connection the process opens from now on, wherever to."""
    made: list[object] = []
    real = socket.create_connection

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return made


@pytest.mark.parametrize("host", REFUSED_WEBHOOK_HOSTS.values(), ids=REFUSED_WEBHOOK_HOSTS)
def test_a_name_resolving_to_an_internal_address_at_send_time_is_never_connected_to(
    db: Session, clinic: Clinic, engine: Engine, settings: Settings, registry: Registry,
    counting_listener: CountingListener, connections: list[object], host: str,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    strict = settings_with(settings, alerts={"webhook_allowed_networks": ""})
    address = webhook_addresses.literal_address(host.strip("[]"))
    assert address is not None
    # The name was public when saved; now it answers with the internal address.
    port = counting_listener.port
    with_webhook_stored(db, clinic, f"https://hooks.riverside.example:{port}/hook")
    lookups = fake_dns(monkeypatch, "hooks.riverside.example", [str(address)])
    with caplog.at_level(logging.INFO, logger="backaudit.alerts"):
        attempts = urgent_alert_sent(db, engine, strict, registry, clinic, T0)
    assert attempts == [(False, "could not deliver")]
    assert lookups == ["hooks.riverside.example"]
    assert connections == []
    assert counting_listener.accepted == 0  # where a loopback address would have connected
    [logged] = [r.getMessage() for r in caplog.records if r.name == "backaudit.alerts"]
    assert "resolves to a" in logged
    assert str(address) in logged


def test_an_internal_address_stored_before_the_check_is_never_connected_to(
    db: Session,
    clinic: Clinic,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    counting_listener: CountingListener,
    t0: datetime,
) -> None:
    strict = settings_with(settings, alerts={"webhook_allowed_networks": ""})
    with_webhook_stored(db, clinic, f"http://127.0.0.1:{counting_listener.port}/hook")
    assert urgent_alert_sent(db, engine, strict, registry, clinic, t0) == [
        (False, "could not deliver")
    ]
    assert counting_listener.accepted == 0
    # The operator allows the clinic's internal network: the same alert goes, next time.
    [alert] = stored_alerts(db)
    assert send_due(engine, settings, registry, alert.next_attempt_at) == 1
    assert counting_listener.accepted == 1


def test_a_name_that_rebinds_after_the_check_is_connected_at_the_checked_address(
    db: Session, clinic: Clinic, engine: Engine, settings: Settings, registry: Registry,
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, t0: datetime,
) -> None:  # fmt: skip
    """DNS rebinding: the name answers with an allowed address for the check, then with a
    refused one. The connection goes to the address that was checked: a second lookup for
    the connection would have gone to the listener on 127.0.0.2, which nobody reaches."""
    only_one = settings_with(settings, alerts={"webhook_allowed_networks": "127.0.0.1/32"})
    port = receiver.server.server_address[1]
    elsewhere = CountingListener("127.0.0.2", port)
    try:
        with_webhook_stored(db, clinic, f"http://hooks.riverside.example:{port}/hooks/backaudit")
        lookups = fake_dns(monkeypatch, "hooks.riverside.example", ["127.0.0.1"], ["127.0.0.2"])
        assert urgent_alert_sent(db, engine, only_one, registry, clinic, t0) == [
            (True, "delivered")
        ]
    finally:
        elsewhere.close()
    assert lookups == ["hooks.riverside.example"]  # resolved once, for the check
    assert elsewhere.accepted == 0
    [hook] = receiver.deliveries
    assert hook.headers["Host"] == f"hooks.riverside.example:{port}"  # the name, not the address


def test_a_name_with_a_public_and_an_internal_address_is_refused_whole(
    db: Session, clinic: Clinic, engine: Engine, settings: Settings, registry: Registry,
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, connections: list[object],
) -> None:  # fmt: skip
    only_one = settings_with(settings, alerts={"webhook_allowed_networks": "127.0.0.1/32"})
    port = receiver.server.server_address[1]
    with_webhook_stored(db, clinic, f"http://hooks.riverside.example:{port}/hooks/backaudit")
    fake_dns(monkeypatch, "hooks.riverside.example", ["127.0.0.1", "127.0.0.2"])
    assert urgent_alert_sent(db, engine, only_one, registry, clinic, T0) == [
        (False, "could not deliver")
    ]
    assert connections == []
    assert receiver.deliveries == []


def test_the_alerts_page_shows_no_network_answer_stored_before(
    db: Session, clinic: Clinic, registry: Registry
) -> None:
    """Attempts stored by an earlier version said what the network answered."""
    with_webhook_stored(db, clinic, "https://hooks.riverside.example/ba")
    record_assessment(db, registry.default, URGENT, channel="intake", clinic_id=clinic.id, now=T0)
    db.commit()
    [alert] = stored_alerts(db)
    db.add(AlertAttempt(alert_id=alert.id, attempted_at=T0, ok=False, detail="HTTP 403"))
    db.commit()
    [line] = alert_history.recent_alerts(db, clinic_id=clinic.id)
    assert line.last_detail == "could not deliver"


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[TlsReceiver, Path]]:
    """An HTTPS receiver for hooks.riverside.example, and its CA's certificate file."""
    ca, certificate, key = certificate_authority(tmp_path, "hooks.riverside.example")
    hook = TlsReceiver(certificate, key)
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook, ca
    hook.server.shutdown()
    hook.server.server_close()
    thread.join()


def test_https_to_the_checked_address_still_verifies_the_certificate_for_the_name(
    db: Session,
    clinic: Clinic,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    tls_receiver: tuple[TlsReceiver, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook, ca = tls_receiver
    port = hook.server.server_address[1]
    with_webhook_stored(db, clinic, f"https://hooks.riverside.example:{port}/hooks/backaudit")
    fake_dns(monkeypatch, "hooks.riverside.example", ["127.0.0.1"])
    # Not trusted by the system: refused, though the address is allowed.
    with caplog.at_level(logging.INFO, logger="backaudit.alerts"):
        assert urgent_alert_sent(db, engine, settings, registry, clinic, T0) == [
            (False, "could not deliver")
        ]
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    # Trusted: delivered to the pinned address, the name checked against the certificate.
    monkeypatch.setattr(
        alert_delivery, "tls_context", lambda: ssl.create_default_context(cafile=str(ca))
    )
    [alert] = stored_alerts(db)
    assert send_due(engine, settings, registry, alert.next_attempt_at) == 1
    assert attempts_of(db, alert) == [(False, "could not deliver"), (True, "delivered")]
    assert hook.server_names == ["hooks.riverside.example"] * 2
    [delivery] = hook.deliveries
    assert delivery.headers["Host"] == f"hooks.riverside.example:{port}"


# -- check-in floods: alerts coalesce per submission (issue 23) ------------------------------------


def self_care_assessment(db: Session, registry: Registry, clinic: Clinic, at: datetime) -> Any:
    recorded = record_assessment(
        db, registry.default, EXAMPLE_ANSWERS, channel="intake", clinic_id=clinic.id, now=at
    )
    db.commit()
    return db.get_one(Assessment, recorded.id)


def check_in(db: Session, registry: Registry, assessment: Any, at: datetime, **changes: Any) -> Any:
    found = checkins.record_checkin(
        db,
        registry,
        assessment,
        checkin_answers(**changes),
        channel="intake",
        now=at,
        limits=CheckinLimits(per_day=10),
    )
    db.commit()
    return found


def test_urgent_check_ins_coalesce_while_an_alert_waits_and_an_emergency_raises_it(
    db: Session,
    clinic: Clinic,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic, webhook=receiver.url)
    assessment = self_care_assessment(db, registry, clinic, t0)
    hour = timedelta(hours=1)
    first = check_in(db, registry, assessment, t0 + hour, fever=True)
    check_in(db, registry, assessment, t0 + 2 * hour, fever=True, pain_now=6)
    assert {(a.kind, a.checkin_id) for a in stored_alerts(db)} == {
        ("email", first.id),
        ("webhook", first.id),
    }
    # More urgent than the alerts waiting: they are raised to it, not joined by two more.
    worst = check_in(db, registry, assessment, t0 + 3 * hour, saddle_numbness=True)
    assert {(a.kind, a.checkin_id) for a in stored_alerts(db)} == {
        ("email", worst.id),
        ("webhook", worst.id),
    }
    assert send_due(engine, settings, registry, t0 + 3 * hour) == 2
    [hook] = receiver.deliveries
    assert json.loads(hook.body)["level"] == "emergency"
    assert json.loads(hook.body)["checkin_id"] == str(worst.id)
    # Just sent, as urgently or more: it covers the next urgent check-in too ...
    check_in(db, registry, assessment, t0 + 3 * hour + timedelta(minutes=10), fever=True)
    assert len(stored_alerts(db)) == 2
    # ... for COVERED_AFTER_SENDING (15 minutes); after that the clinic is told again.
    late = check_in(
        db, registry, assessment, t0 + 3 * hour + timedelta(minutes=20), bowel_change=True
    )
    assert len(stored_alerts(db)) == 4
    assert {a.kind for a in stored_alerts(db) if a.checkin_id == late.id} == {"email", "webhook"}


def test_a_more_urgent_check_in_after_its_alert_was_tried_gets_an_alert_of_its_own(
    db: Session,
    clinic: Clinic,
    receiver: Receiver,
    engine: Engine,
    settings: Settings,
    registry: Registry,
    t0: datetime,
) -> None:
    with_alerts(db, clinic, email=None, webhook=receiver.url)
    receiver.statuses = [503, 503, 503]
    assessment = self_care_assessment(db, registry, clinic, t0)
    minute = timedelta(minutes=1)
    check_in(db, registry, assessment, t0, fever=True)
    assert send_due(engine, settings, registry, t0) == 1  # tried: failed, waits to retry
    check_in(db, registry, assessment, t0 + minute, fever=True, pain_now=7)
    assert len(stored_alerts(db)) == 1  # still waiting, as urgent: it covers this one
    worst = check_in(db, registry, assessment, t0 + 2 * minute, saddle_numbness=True)
    lines = alert_history.recent_alerts(db, clinic_id=clinic.id)
    # A sender may hold the tried one: it is left alone, and the emergency has its own.
    assert sorted(line.level for line in lines) == ["emergency", "urgent"]
    assert {line.alert.checkin_id for line in lines if line.level == "emergency"} == {worst.id}


def test_an_alert_raised_after_a_sender_read_it_is_read_again_before_it_is_sent(
    db: Session, clinic: Clinic, registry: Registry, t0: datetime
) -> None:
    with_alerts(db, clinic, email=None, webhook="http://127.0.0.1:9/hook")
    assessment = self_care_assessment(db, registry, clinic, t0)
    check_in(db, registry, assessment, t0, fever=True)
    [read] = alerts.due(db, now=t0)
    assert read.triage_level == "urgent"
    check_in(db, registry, assessment, t0 + timedelta(minutes=1), saddle_numbness=True)
    # The sender's claim names the check-in it read: it no longer holds, so the old level
    # is never sent.
    assert alerts.claim_one(db, read, now=t0) is None
    [again] = alerts.due(db, now=t0 + timedelta(minutes=1))
    claim = alerts.claim_one(db, again, now=t0 + timedelta(minutes=1))
    assert claim is not None
    assert claim.level == "emergency"
