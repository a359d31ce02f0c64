"""The Alerts admin page: the alert e-mail, the webhook and its signing secret, and what became
of each alert."""

from __future__ import annotations

import re
from datetime import timedelta
from ipaddress import IPv4Network

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.config import Settings
from app.main import create_app
from app.models import AuditEvent, Clinic, utcnow
from app.services import alert_settings
from app.services.alert_delivery import deliver_due
from tests.alert_receivers import REFUSED_WEBHOOK_HOSTS, fake_dns
from tests.fixtures import SAFETY_ALL_NO, record_assessment
from tests.support.settings import settings_with

from .conftest import MakeStaff, SignedInClient, code_at, enrol, enter_code, form_token, sign_in

HOOK = "http://127.0.0.1:9/hooks/backaudit"  # the discard port: nothing answers
LOOPBACK = IPv4Network("127.0.0.0/8")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # HOOK is on loopback: allowed, as README says for a clinic's internal receiver.
    return settings_with(settings, alerts={"webhook_allowed_networks": "127.0.0.0/8"})


@pytest.fixture
def strict(app: FastAPI) -> FastAPI:
    """The app as deployed by default: no internal network allowed for webhooks."""
    app.state.settings = settings_with(app.state.settings, alerts={"webhook_allowed_networks": ""})
    return app


def csrf(browser: TestClient) -> str:
    return form_token(browser.get("/staff/alerts").text)


def shown_secret(html: str) -> str:
    match = re.search(r'id="secret" type="text" readonly value="([^"]+)"', html)
    assert match, "no secret on the page"
    return match.group(1)


def actions(db: Session, clinic: Clinic) -> list[tuple[str, object]]:
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.clinic_id == clinic.id)
        .where(col(AuditEvent.action).startswith("alerts."))
        .order_by(col(AuditEvent.id))
    ).all()
    return [(event.action, event.actor_id) for event in events]


def reloaded(db: Session, clinic: Clinic) -> Clinic:
    db.expire_all()
    found = db.get(Clinic, clinic.id)
    assert found is not None
    return found


def test_only_admins_see_and_change_alerts(signed_in: SignedInClient, clinic: Clinic) -> None:
    clinician = signed_in(clinic, "clinician")
    assert clinician.get("/staff/alerts").status_code == 403
    token = form_token(clinician.get("/staff/").text)
    for path in ("/staff/alerts/email", "/staff/alerts/webhook", "/staff/alerts/webhook/secret"):
        response = clinician.post(path, data={"csrf_token": token, "alert_email": "a@b.example"})
        assert response.status_code == 403, path
    admin = signed_in(clinic, "admin")
    assert 'href="/staff/alerts"' in admin.get("/staff/").text
    assert 'href="/staff/alerts"' not in clinician.get("/staff/").text


def test_an_admin_sets_and_removes_the_alert_email(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    saved = admin.post(
        "/staff/alerts/email",
        data={"csrf_token": csrf(admin), "alert_email": " desk@riverside.example "},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/staff/alerts"
    assert reloaded(db, clinic).alert_email == "desk@riverside.example"
    assert 'value="desk@riverside.example"' in admin.get("/staff/alerts").text

    admin.post("/staff/alerts/email", data={"csrf_token": csrf(admin), "alert_email": ""})
    assert reloaded(db, clinic).alert_email is None
    who = admin.staff_user.id  # type: ignore[attr-defined]
    assert actions(db, clinic) == [("alerts.email_set", who), ("alerts.email_removed", who)]


def test_a_bad_address_is_refused_naming_the_field_and_nothing_changes(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    for bad in ("not-an-address", "a@b.example, c@d.example", "a@b.example\r\nBcc: x@y.example"):
        page = admin.post(
            "/staff/alerts/email", data={"csrf_token": csrf(admin), "alert_email": bad}
        )
        assert page.status_code == 422, bad
        assert '<a href="#alert_email">' in page.text
        assert 'id="alert_email-error"' in page.text
    assert reloaded(db, clinic).alert_email is None
    assert actions(db, clinic) == []


def test_changes_need_the_csrf_token(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    response = admin.post("/staff/alerts/email", data={"alert_email": "desk@riverside.example"})
    assert response.status_code == 403
    assert reloaded(db, clinic).alert_email is None


def test_a_webhook_gets_a_secret_shown_once_which_can_be_replaced(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    made = admin.post(
        "/staff/alerts/webhook", data={"csrf_token": csrf(admin), "webhook_url": HOOK}
    )
    assert made.status_code == 200
    secret = shown_secret(made.text)
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    assert reloaded(db, clinic).webhook_secret == secret
    page = admin.get("/staff/alerts")
    assert secret not in page.text
    assert f'value="{HOOK}"' in page.text

    # Another address keeps the secret, and shows it no more.
    moved = admin.post(
        "/staff/alerts/webhook",
        data={"csrf_token": csrf(admin), "webhook_url": HOOK + "/v2"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert reloaded(db, clinic).webhook_secret == secret

    rotated = admin.post("/staff/alerts/webhook/secret", data={"csrf_token": csrf(admin)})
    assert rotated.status_code == 200
    assert shown_secret(rotated.text) not in (secret, "")
    assert reloaded(db, clinic).webhook_secret == shown_secret(rotated.text)

    admin.post("/staff/alerts/webhook", data={"csrf_token": csrf(admin), "webhook_url": ""})
    clinic = reloaded(db, clinic)
    assert (clinic.webhook_url, clinic.webhook_secret) == (None, None)
    assert [action for action, _ in actions(db, clinic)] == [
        "alerts.webhook_set",
        "alerts.webhook_set",
        "alerts.webhook_secret_rotated",
        "alerts.webhook_removed",
    ]
    # No webhook, no secret to make.
    assert (
        admin.post("/staff/alerts/webhook/secret", data={"csrf_token": csrf(admin)}).status_code
        == 400
    )


def test_a_bad_webhook_address_is_refused_naming_the_field(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    for bad in ("ftp://example.org/x", "https://", "https://user:pw@example.org/", "example.org"):
        page = admin.post(
            "/staff/alerts/webhook", data={"csrf_token": csrf(admin), "webhook_url": bad}
        )
        assert page.status_code == 422, bad
        assert '<a href="#webhook_url">' in page.text
    assert reloaded(db, clinic).webhook_url is None


def test_a_webhook_at_the_server_itself_or_an_internal_network_is_refused_naming_the_field(
    strict: FastAPI, signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    token = csrf(admin)
    for kind, host in REFUSED_WEBHOOK_HOSTS.items():
        page = admin.post(
            "/staff/alerts/webhook",
            data={"csrf_token": token, "webhook_url": f"https://{host}:5432/hook"},
        )
        assert page.status_code == 422, kind
        assert '<a href="#webhook_url">' in page.text
        assert "Enter an address on the internet" in page.text
    assert (reloaded(db, clinic).webhook_url, reloaded(db, clinic).webhook_secret) == (None, None)
    assert actions(db, clinic) == []


def test_a_name_that_resolves_to_an_internal_address_is_refused_when_saved(
    strict: FastAPI,
    signed_in: SignedInClient,
    clinic: Clinic,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = signed_in(clinic, "admin")
    token = csrf(admin)
    # One public answer and one internal one: the name is not to be trusted.
    lookups = fake_dns(monkeypatch, "hooks.riverside.example", ["93.184.215.14", "10.1.2.3"])
    for url in ("https://hooks.riverside.example/ba", "https://localhost/ba"):
        page = admin.post("/staff/alerts/webhook", data={"csrf_token": token, "webhook_url": url})
        assert page.status_code == 422, url
        assert '<a href="#webhook_url">' in page.text
    assert lookups == ["hooks.riverside.example"]
    assert reloaded(db, clinic).webhook_url is None


def test_an_allowed_internal_network_is_accepted_and_no_other(
    strict: FastAPI, signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    strict.state.settings = settings_with(
        strict.state.settings, alerts={"webhook_allowed_networks": "10.20.0.0/16, fd00:ba::/32"}
    )
    admin = signed_in(clinic, "admin")
    for url in ("https://10.21.0.5/hook", "https://[fd00:bb::5]/hook", "https://127.0.0.1/"):
        refused = admin.post(
            "/staff/alerts/webhook", data={"csrf_token": csrf(admin), "webhook_url": url}
        )
        assert refused.status_code == 422, url
    for url in ("https://10.20.3.4:8443/hook", "https://[fd00:ba::5]/hook"):
        made = admin.post(
            "/staff/alerts/webhook", data={"csrf_token": csrf(admin), "webhook_url": url}
        )
        assert made.status_code in (200, 303), url
        assert reloaded(db, clinic).webhook_url == url


def test_in_production_a_webhook_must_use_https(
    app: FastAPI, clinic: Clinic, db: Session, make_staff: MakeStaff
) -> None:
    production = create_app(app.state.settings.model_copy(update={"environment": "production"}))
    admin = make_staff(clinic, "admin")
    enrolled = enrol(db, admin)
    with TestClient(production, base_url="https://testserver") as browser:
        assert sign_in(browser, admin.email).status_code == 303
        assert enter_code(browser, code_at(enrolled.secret, utcnow())).status_code == 303
        page = browser.post(
            "/staff/alerts/webhook", data={"csrf_token": csrf(browser), "webhook_url": HOOK}
        )
        assert page.status_code == 422
        assert "https://" in page.text
        made = browser.post(
            "/staff/alerts/webhook",
            data={"csrf_token": csrf(browser), "webhook_url": "https://hooks.riverside.example/ba"},
        )
        assert made.status_code == 200
    production.state.engine.dispose()


def test_the_page_shows_each_alerts_status_tries_and_last_attempt_for_this_clinic_only(
    signed_in: SignedInClient,
    clinic: Clinic,
    other_clinic: Clinic,
    db: Session,
    engine: Engine,
    app: FastAPI,
) -> None:
    registry = app.state.registry
    for owner in (clinic, other_clinic):
        alert_settings.set_webhook(db, owner, HOOK, allow_http=True, allowed_networks=[LOOPBACK])
        record_assessment(
            db,
            registry.default,
            {**SAFETY_ALL_NO, "saddle_numbness": True},
            channel="intake",
            clinic_id=owner.id,
        )
    db.commit()
    now = utcnow()
    deliver_due(engine, app.state.settings, registry, clock=lambda: now)

    page = signed_in(clinic, "admin").get("/staff/alerts")
    assert page.status_code == 200
    [row] = re.findall(
        r"<tr>\s*<td><a href=\"/staff/assessments/[^<]+</a></td>.*?</tr>", page.text, re.S
    )
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[1:] == [
        "Emergency",
        "Webhook",
        f"Waiting: tries again {now + timedelta(seconds=15):%H:%M:%S}",
        "1",
        "could not deliver",
    ]


def test_a_submission_s_page_says_how_the_clinic_was_alerted(
    signed_in: SignedInClient, clinic: Clinic, db: Session, engine: Engine, app: FastAPI
) -> None:
    registry = app.state.registry
    alert_settings.set_alert_email(db, clinic, "desk@riverside.example")
    alert_settings.set_webhook(db, clinic, HOOK, allow_http=True, allowed_networks=[LOOPBACK])
    urgent = record_assessment(
        db,
        registry.default,
        {**SAFETY_ALL_NO, "saddle_numbness": True},
        channel="intake",
        clinic_id=clinic.id,
    )
    calm = record_assessment(
        db,
        registry.default,
        SAFETY_ALL_NO,
        channel="intake",
        clinic_id=clinic.id,
        allow_incomplete=True,
    )
    db.commit()
    now = utcnow()
    # No mail server set up in the tests' settings: the e-mail waits too, and says why.
    deliver_due(engine, app.state.settings, registry, clock=lambda: now)

    clinician = signed_in(clinic, "clinician")
    page = clinician.get(f"/staff/assessments/{urgent.id}").text
    fact = re.search(r"<dt>Clinic alerted</dt><dd>(.*?)</dd>", page, re.S)
    assert fact is not None
    assert fact.group(1).split("<br>") == [
        "E-mail: waiting, 1 try so far (e-mail is not set up on this server (SMTP_HOST))",
        "Webhook: waiting, 1 try so far (could not deliver)",
    ]
    assert "Clinic alerted" not in clinician.get(f"/staff/assessments/{calm.id}").text
