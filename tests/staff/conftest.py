"""Fixtures for the staff area: clinics, staff accounts, and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Clinic, StaffUser
from app.services import auth as auth_service
from app.services import clinics

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
        user, _ = auth_service.create_user(
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
def signed_in(app: FastAPI, make_staff: MakeStaff) -> Iterator[SignedInClient]:
    """A factory of separate browsers, each signed in as a new staff member of a clinic."""
    opened: list[TestClient] = []

    def open_as(clinic: Clinic, role: str = "clinician") -> TestClient:
        user = make_staff(clinic, role)
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        response = sign_in(client, user.email)
        assert response.status_code == 303, response.text
        client.staff_user = user  # type: ignore[attr-defined]
        return client

    yield open_as
    for client in opened:
        client.__exit__(None, None, None)
