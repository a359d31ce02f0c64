"""The staff second factor through the real pages: setting it up, signing in with a code or a
recovery code, who must have one, and resets by an admin or the command line."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.cli import main
from app.config import Settings, get_settings
from app.models import AuditEvent, Clinic, StaffRecoveryCode, StaffSession, StaffUser, utcnow
from app.services import second_factor

from .conftest import (
    MakeStaff,
    MovableClock,
    SignedInClient,
    code_at,
    csrf,
    enrol,
    enter_code,
    form_token,
    sign_in,
)
from .test_auth import PUBLIC, staff_routes

SETUP = "/staff/second-factor"
_SECRET = re.compile(r'<code id="setup-key">([A-Z2-7 ]+)</code>')
_RECOVERY = re.compile(r"<li><code>([0-9A-Z-]{19})</code></li>")


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def actions(db: Session, clinic: Clinic) -> list[str]:
    db.expire_all()
    return [
        e.action
        for e in db.exec(
            select(AuditEvent).where(AuditEvent.clinic_id == clinic.id).order_by(col(AuditEvent.id))
        ).all()
    ]


def set_up_in_the_page(browser: TestClient) -> tuple[str, list[str]]:
    """Reads the secret from the setting-up page as a person types it, and turns the second
    factor on with the app's code of a step ago (accepted as drift): the secret and the
    recovery codes shown."""
    page = browser.get(SETUP)
    assert page.status_code == 200
    assert "<svg" in page.text  # the QR code, inline
    match = _SECRET.search(page.text)
    assert match, "no setup key on the page"
    secret = match.group(1).replace(" ", "")
    done = browser.post(
        SETUP, data={"csrf_token": form_token(page.text), "code": code_at(secret, utcnow(), -1)}
    )
    assert done.status_code == 200, done.text
    codes = _RECOVERY.findall(done.text)
    return secret, codes


# -- who must have one ----------------------------------------------------------------------------


def test_an_admin_without_a_second_factor_reaches_no_staff_page_until_it_is_set_up(
    browser: TestClient, app: FastAPI, clinic: Clinic, make_staff: MakeStaff, db: Session
) -> None:
    admin = make_staff(clinic, "admin")
    signed_in = sign_in(browser, admin.email, next_url="/staff/links")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == SETUP  # straight after the password

    allowed = {SETUP, f"{SETUP}/recovery-codes", f"{SETUP}/replace"}
    for method, path in staff_routes(app):
        if path in PUBLIC or path in allowed or path == "/staff/login/code":
            continue
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        response = browser.request(method, concrete, follow_redirects=False)
        if method == "POST" and response.status_code == 403:
            continue  # no form token: refused before anything else
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"] == SETUP, (method, path)

    page = browser.get(SETUP)
    assert "Your clinic asks admins to sign in with a code" in page.text
    assert 'class="staff-nav__list"' not in page.text  # nowhere else to go yet
    wrong = browser.post(SETUP, data={"csrf_token": form_token(page.text), "code": "000000"})
    assert wrong.status_code == 422
    assert "The code is not right" in wrong.text
    assert browser.get("/staff/", follow_redirects=False).status_code == 303

    secret, codes = set_up_in_the_page(browser)
    assert len(codes) == 10
    assert browser.get("/staff/").status_code == 200
    assert actions(db, clinic) == ["staff.login", "staff.2fa_enrolled"]
    db.expire_all()
    stored = db.get_one(StaffUser, admin.id)
    assert stored.totp_enrolled_at is not None
    assert stored.totp_secret is not None
    assert secret not in stored.totp_secret


def test_the_setting_up_page_shows_the_same_secret_until_it_is_done(
    signed_in: SignedInClient, clinic: Clinic
) -> None:
    clinician = signed_in(clinic)
    first = _SECRET.search(clinician.get(SETUP).text)
    again = _SECRET.search(clinician.get(SETUP).text)
    assert first
    assert again
    assert first.group(1) == again.group(1)


def test_a_clinician_may_set_one_up_and_then_signs_in_with_it(
    signed_in: SignedInClient, clinic: Clinic, app: FastAPI
) -> None:
    clinician = signed_in(clinic)
    assert "Set up a second factor" in clinician.get(SETUP).text
    secret, _ = set_up_in_the_page(clinician)
    with TestClient(app) as other:
        signed = sign_in(other, clinician.staff_user.email)  # type: ignore[attr-defined]
        assert signed.headers["location"].startswith("/staff/login/code")
        assert enter_code(other, code_at(secret, utcnow())).status_code == 303


def test_admins_choose_whether_clinicians_must_have_one(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    clinician = signed_in(clinic)
    assert "Clinicians must use a second factor too" in admin.get("/staff/clinic").text
    assert clinician.post("/staff/clinic/second-factor", data={}).status_code == 403

    saved = admin.post(
        "/staff/clinic/second-factor",
        data={"csrf_token": csrf(admin), "clinicians": "yes"},
        follow_redirects=False,
    )
    assert saved.headers["location"] == "/staff/clinic?saved=2fa"
    assert "The sign-in rule has been saved" in admin.get(saved.headers["location"]).text
    # A clinician already signed in is sent to set it up at their next page.
    response = clinician.get("/staff/", follow_redirects=False)
    assert response.headers["location"] == SETUP
    assert "Your clinic asks clinicians" in clinician.get(SETUP).text
    assert "Not set up: asked at next sign-in" in admin.get("/staff/members").text  # the clinician

    admin.post("/staff/clinic/second-factor", data={"csrf_token": csrf(admin)})
    assert clinician.get("/staff/").status_code == 200
    db.expire_all()
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "clinic.2fa_rule_changed")
        .order_by(col(AuditEvent.id))
    ).all()
    assert [e.detail for e in events] == [
        {"clinicians_must_use_2fa": True},
        {"clinicians_must_use_2fa": False},
    ]


# -- signing in -----------------------------------------------------------------------------------


@pytest.fixture
def admin(clinic: Clinic, make_staff: MakeStaff) -> StaffUser:
    return make_staff(clinic, "admin")


def test_an_admin_signs_in_with_a_code_after_the_password(
    browser: TestClient, admin: StaffUser, clinic: Clinic, db: Session
) -> None:
    enrolled = enrol(db, admin)
    after_password = sign_in(browser, admin.email, next_url="/staff/links")
    assert after_password.status_code == 303
    assert after_password.headers["location"] == "/staff/login/code?next=%2Fstaff%2Flinks"
    assert "backaudit_staff=" not in after_password.headers.get("set-cookie", "")
    assert db.exec(select(StaffSession)).all() == []  # no session before the second factor
    assert browser.get("/staff/", follow_redirects=False).status_code == 303

    page = browser.get(after_password.headers["location"])
    assert 'autocomplete="one-time-code"' in page.text
    wrong = enter_code(browser, "123456", next_url="/staff/links")
    assert wrong.status_code == 401
    assert "The code is not right" in wrong.text
    right = enter_code(browser, code_at(enrolled.secret, utcnow()), next_url="/staff/links")
    assert right.status_code == 303
    assert right.headers["location"] == "/staff/links"
    assert browser.get("/staff/links").status_code == 200
    assert actions(db, clinic)[-3:] == ["staff.2fa_failed", "staff.2fa_used", "staff.login"]
    used = db.exec(select(AuditEvent).where(AuditEvent.action == "staff.2fa_used")).one()
    assert used.detail == {"method": "app"}
    assert used.actor_id == admin.id


def test_a_code_signs_in_once(browser: TestClient, admin: StaffUser, db: Session) -> None:
    enrolled = enrol(db, admin)
    code = code_at(enrolled.secret, utcnow())
    sign_in(browser, admin.email)
    assert enter_code(browser, code).status_code == 303
    browser.post("/staff/logout", data={"csrf_token": csrf(browser)})
    sign_in(browser, admin.email)
    assert enter_code(browser, code).status_code == 401  # replayed
    # The app's next code (its phone's clock a little ahead) is accepted.
    assert enter_code(browser, code_at(enrolled.secret, utcnow(), 1)).status_code == 303


def test_a_recovery_code_signs_in_once(
    browser: TestClient, admin: StaffUser, clinic: Clinic, db: Session
) -> None:
    enrolled = enrol(db, admin)
    recovery = enrolled.recovery_codes[3]
    sign_in(browser, admin.email)
    form = browser.get("/staff/login/code?recovery=1")
    assert "Recovery code" in form.text
    typed = recovery.lower().replace("-", " ")
    response = enter_code(browser, typed, recovery=True)
    assert response.status_code == 303
    assert response.headers["location"] == f"{SETUP}?recovery_used=1"
    page = browser.get(response.headers["location"])
    assert "You signed in with a recovery code" in page.text
    assert "9 of 10" in page.text
    used = db.exec(select(AuditEvent).where(AuditEvent.action == "staff.2fa_used")).one()
    assert used.detail == {"method": "recovery_code", "recovery_codes_left": 9}

    browser.post("/staff/logout", data={"csrf_token": csrf(browser)})
    sign_in(browser, admin.email)
    again = enter_code(browser, recovery, recovery=True)
    assert again.status_code == 401
    assert "The recovery code is not right, or it has been used" in again.text
    assert "staff.2fa_failed" in actions(db, clinic)


def test_wrong_codes_are_throttled_even_before_the_right_one(
    browser: TestClient, admin: StaffUser, db: Session
) -> None:
    enrolled = enrol(db, admin)
    sign_in(browser, admin.email)
    for _ in range(5):
        assert enter_code(browser, "000000").status_code == 401
    refused = enter_code(browser, code_at(enrolled.secret, utcnow()))
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 15
    assert "Too many wrong codes" in refused.text


def test_the_code_page_needs_the_password_first_and_for_ten_minutes_at_most(
    clocked_client: TestClient, staff_clock: MovableClock, admin: StaffUser, db: Session
) -> None:
    browser = clocked_client
    enrolled = enrol(db, admin, now=staff_clock.now)
    response = browser.get("/staff/login/code", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")
    # A half-done sign-in of nine minutes ago is still good...
    sign_in(browser, admin.email)
    staff_clock.advance(minutes=9)
    assert enter_code(browser, code_at(enrolled.secret, staff_clock.now)).status_code == 303
    # ...one of ten minutes ago is gone: the password is asked for again.
    browser.post("/staff/logout", data={"csrf_token": csrf(browser)})
    sign_in(browser, admin.email)
    page = browser.get("/staff/login/code")
    staff_clock.advance(minutes=10)
    late = browser.post(
        "/staff/login/code",
        data={
            "code": code_at(enrolled.secret, staff_clock.now),
            "form_token": form_token(page.text),
        },
        follow_redirects=False,
    )
    assert late.status_code == 303
    assert late.headers["location"].startswith("/staff/login?next=")
    assert browser.get("/staff/", follow_redirects=False).status_code == 303


def test_codes_are_checked_at_the_app_s_time(
    clocked_client: TestClient, staff_clock: MovableClock, admin: StaffUser, db: Session
) -> None:
    """Codes follow the app's clock: one two steps away from it is refused."""
    enrolled = enrol(db, admin, now=staff_clock.now)
    sign_in(clocked_client, admin.email)
    staff_clock.advance(minutes=5)
    assert (
        enter_code(clocked_client, code_at(enrolled.secret, staff_clock.now, -2)).status_code == 401
    )
    assert (
        enter_code(clocked_client, code_at(enrolled.secret, staff_clock.now, 2)).status_code == 401
    )
    assert (
        enter_code(clocked_client, code_at(enrolled.secret, staff_clock.now, -1)).status_code == 303
    )


def test_the_code_form_needs_its_own_token(
    browser: TestClient, admin: StaffUser, db: Session
) -> None:
    enrolled = enrol(db, admin)
    sign_in(browser, admin.email)
    response = browser.post(
        "/staff/login/code",
        data={"code": code_at(enrolled.secret, utcnow()), "form_token": "0" * 64},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_a_known_device_still_needs_the_code(
    browser: TestClient, admin: StaffUser, db: Session
) -> None:
    enrolled = enrol(db, admin)
    sign_in(browser, admin.email)
    assert enter_code(browser, code_at(enrolled.secret, utcnow())).status_code == 303
    browser.post("/staff/logout", data={"csrf_token": csrf(browser)})
    again = sign_in(browser, admin.email)
    assert again.headers["location"].startswith("/staff/login/code")


# -- keeping it up, and resets --------------------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    old = admin.second_factor.recovery_codes  # type: ignore[attr-defined]
    page = admin.post(f"{SETUP}/recovery-codes", data={"csrf_token": csrf(admin)})
    new = _RECOVERY.findall(page.text)
    assert len(new) == 10
    assert not set(old) & set(new)
    assert "Only a fingerprint of each is kept" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert len(db.exec(select(StaffRecoveryCode)).all()) == 10


def test_setting_up_a_new_app_stops_the_old_one_and_signs_out_elsewhere(
    signed_in: SignedInClient, clinic: Clinic, app: FastAPI, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    user: StaffUser = admin.staff_user  # type: ignore[attr-defined]
    old = admin.second_factor  # type: ignore[attr-defined]
    with TestClient(app) as elsewhere:
        sign_in(elsewhere, user.email)
        assert enter_code(elsewhere, code_at(old.secret, utcnow(), 1)).status_code == 303
        response = admin.post(
            f"{SETUP}/replace", data={"csrf_token": csrf(admin)}, follow_redirects=False
        )
        assert response.headers["location"] == SETUP
        assert elsewhere.get("/staff/", follow_redirects=False).status_code == 303
    assert admin.get("/staff/", follow_redirects=False).headers["location"] == SETUP
    new, _ = set_up_in_the_page(admin)
    assert new != old.secret
    assert admin.get("/staff/").status_code == 200


def test_an_admin_resets_a_colleague_who_then_sets_it_up_again(
    signed_in: SignedInClient, clinic: Clinic, app: FastAPI, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    colleague = signed_in(clinic, "admin")
    colleague_user: StaffUser = colleague.staff_user  # type: ignore[attr-defined]
    members = admin.get("/staff/members").text
    assert f'Reset second factor<span class="visually-hidden"> of {colleague_user.email}' in members
    me = admin.staff_user  # type: ignore[attr-defined]
    own = admin.post(
        f"/staff/members/{me.id}/second-factor/reset", data={"csrf_token": csrf(admin)}
    )
    assert own.status_code == 400

    admin.post(
        f"/staff/members/{colleague_user.id}/second-factor/reset",
        data={"csrf_token": csrf(admin)},
    )
    db.expire_all()
    stored = db.get_one(StaffUser, colleague_user.id)
    assert stored.totp_enrolled_at is None
    assert stored.totp_secret is None
    assert (
        db.exec(
            select(StaffRecoveryCode).where(StaffRecoveryCode.user_id == colleague_user.id)
        ).all()
        == []
    )
    assert colleague.get("/staff/", follow_redirects=False).status_code == 303  # signed out
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "staff.2fa_reset")).one()
    assert event.actor_id == me.id
    assert event.target_id == str(colleague_user.id)
    with TestClient(app) as again:
        assert sign_in(again, colleague_user.email).headers["location"] == SETUP


def test_an_admin_cannot_reset_another_clinic_s_staff(
    signed_in: SignedInClient,
    clinic: Clinic,
    other_clinic: Clinic,
    make_staff: MakeStaff,
    db: Session,
) -> None:
    admin = signed_in(clinic, "admin")
    theirs = make_staff(other_clinic, "admin")
    enrol(db, theirs)
    response = admin.post(
        f"/staff/members/{theirs.id}/second-factor/reset", data={"csrf_token": csrf(admin)}
    )
    assert response.status_code == 404
    db.expire_all()
    assert db.get_one(StaffUser, theirs.id).totp_enrolled_at is not None


@pytest.fixture
def command_line(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, db: Session
) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", settings.database.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("command_line")
def test_backaudit_user_reset_2fa(
    admin: StaffUser, clinic: Clinic, db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    enrol(db, admin)
    assert main(["user", "reset-2fa", admin.email.upper()]) == 0
    out = capsys.readouterr().out
    assert f"second factor of {admin.email} removed" in out
    assert "they set up a new one at their next sign-in" in out
    db.expire_all()
    assert not second_factor.enrolled(db.get_one(StaffUser, admin.id))
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "staff.2fa_reset")).one()
    assert event.actor_id is None
    assert event.detail == {"by": "command line"}

    assert main(["user", "reset-2fa", "nobody@example.org"]) == 2
    assert "no account with e-mail" in capsys.readouterr().err


def test_the_secret_is_read_from_the_page_only_while_setting_up(
    signed_in: SignedInClient, clinic: Clinic
) -> None:
    admin = signed_in(clinic, "admin")
    page = admin.get(SETUP).text
    assert "Second factor" in page
    assert _SECRET.search(page) is None
    assert admin.second_factor.secret not in page  # type: ignore[attr-defined]
