"""Fixtures for the staff area: clinics, staff accounts (with a second factor), and signed-in
clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import Settings
from app.main import create_app
from app.models import Clinic, StaffUser, utcnow
from app.services import accounts, clinics, second_factor
from tests.conftest import TEST_SECRET, empty_tables

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="(?:csrf_token|login_token|form_token)" value="([^"]+)"')


def form_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no form token on the page"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD, next_url: str = "/staff/"):  # type: ignore[no-untyped-def]
    page = client.get("/staff/login")
    return client.post(
        "/staff/login",
        data={
            "email": email,
            "password": password,
            "login_token": form_token(page.text),
            "next": next_url,
        },
        follow_redirects=False,
    )


def enter_code(client: TestClient, code: str, *, recovery: bool = False, next_url: str = "/staff/"):  # type: ignore[no-untyped-def]
    """The second step of signing in: a code from the app (or a recovery code)."""
    page = client.get(f"/staff/login/code?next={next_url}{'&recovery=1' if recovery else ''}")
    return client.post(
        "/staff/login/code",
        data={
            "code": code,
            "method": "recovery" if recovery else "app",
            "form_token": form_token(page.text),
            "next": next_url,
        },
        follow_redirects=False,
    )


def code_at(secret: str, moment: datetime, steps_later: int = 0) -> str:
    """The code an authenticator app with ``secret`` shows at ``moment`` (pyotp, as the app)."""
    step = int(moment.timestamp()) // 30 + steps_later
    return pyotp.TOTP(secret).generate_otp(step)


@dataclass
class Enrolled:
    secret: str
    recovery_codes: list[str]


def enrol(db: Session, user: StaffUser, *, now: datetime | None = None) -> Enrolled:
    """Sets up ``user``'s second factor as they would: the secret, then a code from the step
    before ``now`` (accepted as drift), so a code of ``now``'s step still signs them in."""
    now = now or utcnow()
    secret = second_factor.begin_enrolment(db, user, secret_key=TEST_SECRET)
    codes = second_factor.finish_enrolment(
        db, user, code_at(secret, now, -1), secret_key=TEST_SECRET, now=now
    )
    assert codes is not None
    db.commit()
    return Enrolled(secret, codes)


def csrf(client: TestClient) -> str:
    """The signed-in session's CSRF token, read from a page as a browser would."""
    return form_token(client.get("/staff/").text)


@pytest.fixture
def other_clinic(db: Session) -> Clinic:
    created = clinics.create_clinic(db, name="Hilltop GP")
    db.commit()
    return created


MakeStaff = Callable[..., StaffUser]


@pytest.fixture
def make_staff(db: Session) -> MakeStaff:
    counter = iter(range(1000))

    def make(clinic: Clinic, role: str = "clinician", email: str | None = None) -> StaffUser:
        user, _ = accounts.create_user(
            db,
            clinic_id=clinic.id,
            email=email or f"{role}{next(counter)}@{clinic.name.split()[0].lower()}.example",
            role=role,
            password=PASSWORD,
        )
        db.commit()
        return user

    return make


SignedInClient = Callable[..., TestClient]


@pytest.fixture
def signed_in(app: FastAPI, make_staff: MakeStaff, db: Session) -> Iterator[SignedInClient]:
    """A factory of separate browsers, each signed in as a new staff member of a clinic."""
    opened: list[TestClient] = []

    def open_as(clinic: Clinic, role: str = "clinician") -> TestClient:
        """Admins must have a second factor: theirs is set up first, and signing in ends with
        a code from it."""
        user = make_staff(clinic, role)
        enrolled = enrol(db, user) if role == "admin" else None
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        response = sign_in(client, user.email)
        assert response.status_code == 303, response.text
        if enrolled is not None:
            assert response.headers["location"].startswith("/staff/login/code")
            response = enter_code(client, code_at(enrolled.secret, utcnow()))
            assert response.status_code == 303, response.text
        assert response.headers["location"] == "/staff/"
        client.staff_user = user  # type: ignore[attr-defined]
        client.second_factor = enrolled  # type: ignore[attr-defined]
        return client

    yield open_as
    for client in opened:
        client.__exit__(None, None, None)


@dataclass
class MovableClock:
    """The app's clock (create_app(clock=...)), moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def staff_clock() -> MovableClock:
    """Stands still until moved (the app fixture's own clock, tests/conftest.py, runs)."""
    return MovableClock(utcnow())


@pytest.fixture
def clocked_client(
    settings: Settings, engine: Engine, staff_clock: MovableClock
) -> Iterator[TestClient]:
    application = create_app(settings, clock=staff_clock)
    with TestClient(application) as browser:
        yield browser
    application.state.engine.dispose()
    empty_tables(engine)
