"""Signing in and out, sessions, throttling, set-password links, and the guard on every route."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import argon2
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, Clinic, LoginThrottle, StaffSession, StaffUser, utcnow
from app.services import accounts, login_throttle
from tests.conftest import APP_PASSWORD_HASHER

from .conftest import PASSWORD, MakeStaff, MovableClock, SignedInClient, csrf, form_token, sign_in

PUBLIC = {
    "/staff/login",
    "/staff/logout",
    "/staff/set-password/{token}",
    "/staff/invitation/{token}",
}


def staff_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) under /staff, through included routers (FastAPI includes lazily)."""
    found = []
    for top in app.routes:
        contexts = (
            top.effective_route_contexts() if hasattr(top, "effective_route_contexts") else [top]
        )
        for context in contexts:
            route = getattr(context, "original_route", context)
            path = getattr(context, "path", "")
            if isinstance(route, APIRoute) and path.startswith("/staff"):
                found += [(method, path) for method in route.methods or ()]
    return found


def test_every_staff_route_but_signing_in_redirects_to_login_when_signed_out(
    client: TestClient, app: FastAPI
) -> None:
    routes = staff_routes(app)
    assert len(routes) > 10  # the dashboard, links, admin pages...
    for method, path in routes:
        if path in PUBLIC:
            continue
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        response = client.request(method, concrete, follow_redirects=False)
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/staff/login?next=")


def test_staff_pages_are_never_cached(signed_in: SignedInClient, clinic: Clinic) -> None:
    browser = signed_in(clinic)
    assert browser.get("/staff/").headers["cache-control"] == "no-store"


def test_signing_in_sets_a_safe_session_cookie_and_lands_on_the_dashboard(
    client: TestClient, clinic: Clinic, make_staff: MakeStaff, db: Session
) -> None:
    user = make_staff(clinic)
    response = sign_in(client, user.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/"
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("backaudit_staff=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    # Not persistent: the browser forgets it when it closes (the server ends it sooner).
    assert "max-age" not in cookie.lower()
    assert "expires" not in cookie.lower()
    token = cookie.split(";")[0].split("=", 1)[1]
    assert db.exec(select(StaffSession)).one().token_hash != token  # only the hash is stored
    assert client.get("/staff/").status_code == 200


def test_the_session_cookie_is_secure_in_production(
    app: FastAPI, clinic: Clinic, make_staff: MakeStaff
) -> None:
    user = make_staff(clinic)
    app.state.settings = app.state.settings.model_copy(update={"environment": "production"})
    with TestClient(app, base_url="https://testserver") as browser:
        response = sign_in(browser, user.email)
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("backaudit_staff=")
    )
    assert "Secure" in cookie


def test_only_a_staff_path_is_accepted_as_where_to_go_next(
    client: TestClient, clinic: Clinic, make_staff: MakeStaff
) -> None:
    user = make_staff(clinic)
    assert (
        sign_in(client, user.email, next_url="https://evil.example/").headers["location"]
        == "/staff/"
    )
    assert (
        sign_in(client, user.email, next_url="/staff/links").headers["location"] == "/staff/links"
    )


@pytest.mark.parametrize(
    "case", ["wrong password", "unknown e-mail", "disabled account", "invited only"]
)
def test_every_failed_sign_in_says_the_same_thing(
    case: str, client: TestClient, clinic: Clinic, make_staff: MakeStaff, db: Session
) -> None:
    user = make_staff(clinic)
    email, password = user.email, PASSWORD
    if case == "wrong password":
        password = "not the password at all"
    elif case == "unknown e-mail":
        email = "nobody@example.org"
    elif case == "disabled account":
        accounts.disable(db, user)
        db.commit()
    else:
        invited, _ = accounts.create_user(
            db, clinic_id=clinic.id, email="new@example.org", role="clinician"
        )
        db.commit()
        email = invited.email
    response = sign_in(client, email, password)
    assert response.status_code == 401
    assert "The e-mail address or password is not right" in response.text
    assert "backaudit_staff=" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("email_of", "password"),
    [
        (lambda email: email + "\x00", PASSWORD),
        (lambda email: email + "\u202e", PASSWORD),
        (lambda email: "\n" + email, PASSWORD),
        (lambda email: "a" * 321 + email, PASSWORD),
        (lambda email: email, "p" * 1025),
    ],
    ids=["NUL", "bidi override", "line break", "over-long e-mail", "over-long password"],
)
def test_what_no_account_can_have_fails_like_a_wrong_password_without_a_check(
    email_of: Callable[[str], str],
    password: str,
    client: TestClient,
    clinic: Clinic,
    make_staff: MakeStaff,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = make_staff(clinic)
    checked: list[str] = []
    real = accounts.password_matches

    def counting(account: StaffUser | None, password: str) -> bool:
        checked.append(password)
        return real(account, password)

    monkeypatch.setattr(accounts, "password_matches", counting)
    response = sign_in(client, email_of(user.email), password)
    assert response.status_code == 401
    assert "The e-mail address or password is not right" in response.text
    assert checked == []
    assert db.exec(select(LoginThrottle)).all() == []


def test_a_failed_sign_in_to_an_account_is_in_its_clinics_audit_log_masked(
    client: TestClient, clinic: Clinic, make_staff: MakeStaff, db: Session
) -> None:
    user = make_staff(clinic)
    secret = "not the password at all"
    assert sign_in(client, user.email, secret).status_code == 401
    assert sign_in(client, "nobody@example.org", secret).status_code == 401

    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "staff.login_failed")).all()
    assert event.clinic_id == clinic.id
    assert event.actor_id is None
    assert event.target_id == str(user.id)
    name, domain = user.email.split("@")
    assert event.detail == {"email": f"{name[0]}{'*' * max(2, len(name) - 1)}@{domain}"}
    assert user.email not in str(event.detail)
    assert secret not in str(event.detail)


def test_sign_in_without_the_form_token_is_refused(
    client: TestClient, clinic: Clinic, make_staff: MakeStaff
) -> None:
    user = make_staff(clinic)
    response = client.post(
        "/staff/login", data={"email": user.email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403


def test_repeated_failures_are_throttled_even_with_the_right_password(
    client: TestClient, clinic: Clinic, make_staff: MakeStaff, db: Session
) -> None:
    user = make_staff(clinic)
    for _ in range(login_throttle.FREE_ATTEMPTS_PER_EMAIL):
        assert sign_in(client, user.email, "wrong password!!").status_code == 401
    response = sign_in(client, user.email)
    assert response.status_code == 429
    wait = int(response.headers["retry-after"])  # 15 s from the last failure, less since
    assert 0 < wait <= 15
    assert f"Too many failed attempts. Try again in {wait} second" in response.text
    # After the wait, the right password works and clears the e-mail's count.
    for counter in db.exec(select(LoginThrottle)).all():
        counter.blocked_until = utcnow() - timedelta(seconds=1)
        db.add(counter)
    db.commit()
    assert sign_in(client, user.email).status_code == 303
    db.expire_all()
    assert sorted(c.failures for c in db.exec(select(LoginThrottle)).all()) == [0, 5]


def test_many_failures_from_one_address_are_throttled_across_e_mails(
    client: TestClient, clinic: Clinic, make_staff: MakeStaff
) -> None:
    user = make_staff(clinic)
    for n in range(login_throttle.FREE_ATTEMPTS_PER_ADDRESS):
        sign_in(client, f"guess{n}@example.org", "whatever-password")
    assert sign_in(client, user.email).status_code == 429


def test_signing_out_ends_the_session_and_needs_the_csrf_token(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    browser = signed_in(clinic)
    assert browser.post("/staff/logout", data={}, follow_redirects=False).status_code == 403
    token = csrf(browser)
    response = browser.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert db.exec(select(StaffSession)).all() == []
    assert browser.get("/staff/", follow_redirects=False).status_code == 303


def test_an_expired_session_is_signed_out(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    browser = signed_in(clinic)
    staff_session = db.exec(select(StaffSession)).one()
    staff_session.expires_at = utcnow() - timedelta(seconds=1)
    db.add(staff_session)
    db.commit()
    assert browser.get("/staff/", follow_redirects=False).status_code == 303


def test_set_password_link_works_once(client: TestClient, clinic: Clinic, db: Session) -> None:
    user, token = accounts.create_user(
        db, clinic_id=clinic.id, email="Ann@Example.org", role="admin"
    )
    db.commit()
    assert user.email == "ann@example.org"
    url = f"/staff/set-password/{token}"
    form = client.get(url)
    assert form.status_code == 200
    short = client.post(
        url, data={"password": "short", "confirm": "short", "form_token": form_token(form.text)}
    )
    assert short.status_code == 422
    assert "at least 12 characters" in short.text
    mismatch = client.post(
        url,
        data={"password": "a" * 12, "confirm": "b" * 12, "form_token": form_token(short.text)},
    )
    assert "do not match" in mismatch.text
    done = client.post(
        url,
        data={"password": PASSWORD, "confirm": PASSWORD, "form_token": form_token(mismatch.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/staff/login?password_set=1"
    login_page = client.get(done.headers["location"])
    assert "Your password is set. Sign in." in login_page.text
    assert client.get(url).status_code == 410
    assert sign_in(client, "ann@example.org").status_code == 303


def test_set_password_without_the_form_token_is_refused_and_the_link_still_works(
    client: TestClient, clinic: Clinic, db: Session
) -> None:
    user, token = accounts.create_user(
        db, clinic_id=clinic.id, email="bo@example.org", role="clinician"
    )
    db.commit()
    url = f"/staff/set-password/{token}"
    page = client.get(url)
    data = {"password": PASSWORD, "confirm": PASSWORD}

    assert client.post(url, data=data).status_code == 403  # no token
    forged = {**data, "form_token": "0" * 64}
    assert client.post(url, data=forged).status_code == 403
    with TestClient(client.app) as other_browser:  # a token, but not this browser's cookie
        stolen = {**data, "form_token": form_token(page.text)}
        assert other_browser.post(url, data=stolen).status_code == 403

    db.expire_all()
    stored = db.get(StaffUser, user.id)
    assert stored is not None
    assert stored.password_hash is None
    assert client.get(url).status_code == 200  # not used up


def test_the_login_page_has_no_notice_unless_a_password_was_just_set(client: TestClient) -> None:
    assert "Your password is set" not in client.get("/staff/login").text
    assert "Your password is set" not in client.get("/staff/login?password_set=yes").text


def test_passwords_are_stored_as_argon2id_hashes(
    db: Session, clinic: Clinic, make_staff: MakeStaff
) -> None:
    user = make_staff(clinic)
    stored = db.get(StaffUser, user.id)
    assert stored is not None
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_the_app_hashes_passwords_with_argon2id_s_recommended_parameters() -> None:
    """The tests hash with less work (tests/conftest.py); the app with RFC 9106's
    recommendation as argon2-cffi ships it."""
    recommended = argon2.profiles.RFC_9106_LOW_MEMORY
    assert APP_PASSWORD_HASHER.type is argon2.Type.ID
    assert APP_PASSWORD_HASHER.time_cost == recommended.time_cost
    assert APP_PASSWORD_HASHER.memory_cost == recommended.memory_cost
    assert APP_PASSWORD_HASHER.parallelism == recommended.parallelism


def test_a_hash_made_with_other_parameters_is_replaced_at_the_next_sign_in(
    client: TestClient, db: Session, clinic: Clinic, make_staff: MakeStaff
) -> None:
    """Here the app's parameters are the "older" ones: the tests' hasher asks for less work."""
    user = make_staff(clinic)
    old = APP_PASSWORD_HASHER.hash(PASSWORD)
    user.password_hash = old
    db.add(user)
    db.commit()
    assert sign_in(client, user.email).status_code == 303
    db.expire_all()
    stored = db.get(StaffUser, user.id)
    assert stored is not None
    assert stored.password_hash not in (None, old)
    assert accounts.password_matches(stored, PASSWORD)
    assert not accounts.password_matches(stored, "not the password")


def test_sign_in_and_out_are_in_the_audit_log(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    browser = signed_in(clinic)
    browser.post("/staff/logout", data={"csrf_token": csrf(browser)})
    actions = [
        e.action for e in db.exec(select(AuditEvent).where(AuditEvent.clinic_id == clinic.id)).all()
    ]
    assert actions == ["staff.login", "staff.logout"]


def test_login_page_has_a_token_and_no_session(client: TestClient) -> None:
    page = client.get("/staff/login")
    assert page.status_code == 200
    assert form_token(page.text)


def test_counters_without_attempts_for_an_hour_are_deleted(
    client: TestClient, clinic: Clinic, make_staff: MakeStaff, db: Session
) -> None:
    sign_in(client, "someone@elsewhere.example", "a wrong password")
    for counter in db.exec(select(LoginThrottle)).all():
        counter.updated_at = utcnow() - login_throttle.THROTTLE_MEMORY - timedelta(seconds=1)
        db.add(counter)
    db.commit()
    sign_in(client, "another@elsewhere.example", "a wrong password")
    db.expire_all()
    # The address's counter was used again; the first e-mail's is gone.
    assert sorted(c.failures for c in db.exec(select(LoginThrottle)).all()) == [1, 1]


# -- how long a session lasts (hardening, second pass) ---------------------------------------------


def signed_in_now(client: TestClient) -> bool:
    response = client.get("/staff/", follow_redirects=False)
    assert response.status_code in (200, 303)
    return response.status_code == 200


def test_a_session_unused_for_thirty_minutes_is_signed_out(
    clocked_client: TestClient, staff_clock: MovableClock, clinic: Clinic, make_staff: MakeStaff
) -> None:
    user = make_staff(clinic)
    assert sign_in(clocked_client, user.email).status_code == 303
    staff_clock.advance(minutes=29)
    assert signed_in_now(clocked_client)
    staff_clock.advance(minutes=29)  # 58 minutes in, 29 since the last page
    assert signed_in_now(clocked_client)
    staff_clock.advance(minutes=31)
    response = clocked_client.get("/staff/links", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=%2Fstaff%2Flinks"
    staff_clock.advance(minutes=1)  # and it does not come back
    assert not signed_in_now(clocked_client)


def test_a_busy_session_still_ends_twelve_hours_after_signing_in(
    clocked_client: TestClient, staff_clock: MovableClock, clinic: Clinic, make_staff: MakeStaff
) -> None:
    user = make_staff(clinic)
    assert sign_in(clocked_client, user.email).status_code == 303
    for _ in range(12 * 3 - 1):
        staff_clock.advance(minutes=20)
        assert signed_in_now(clocked_client)
    staff_clock.advance(minutes=20)
    assert not signed_in_now(clocked_client)


def test_the_last_request_is_written_at_most_once_a_minute(
    clocked_client: TestClient,
    staff_clock: MovableClock,
    clinic: Clinic,
    make_staff: MakeStaff,
    db: Session,
) -> None:
    user = make_staff(clinic)
    signed_in_at = staff_clock.now
    assert sign_in(clocked_client, user.email).status_code == 303

    def last_seen() -> datetime:
        db.expire_all()
        return db.exec(select(StaffSession)).one().last_seen_at

    assert last_seen() == signed_in_at
    for _ in range(5):
        staff_clock.advance(seconds=10)
        assert signed_in_now(clocked_client)
    assert last_seen() == signed_in_at  # 50 seconds of pages: nothing written
    staff_clock.advance(seconds=15)
    assert signed_in_now(clocked_client)
    assert last_seen() == staff_clock.now
