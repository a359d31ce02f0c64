"""The sign-in throttle through the real login form, with concurrent requests: an attempt is
counted before its password is checked, per e-mail and per client address, with growing waits
rather than a lock-out. (tests/services/test_login_throttle.py has its arithmetic.)"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from app.models import Clinic, LoginThrottle, StaffUser
from app.services import accounts, login_throttle
from app.staff.auth_routes import DEVICE_COOKIE
from tests.support.settings import settings_with

from .conftest import PASSWORD, MakeStaff, form_token

T = TypeVar("T")
WRONG = "not the password at all"


def run(work: Callable[[], Awaitable[T]]) -> T:
    """An event loop in a thread of its own (a browser test may leave one in the main thread)."""
    outcome: dict[str, Any] = {}

    def main() -> None:
        try:
            outcome["value"] = asyncio.run(work())  # type: ignore[arg-type]
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=main)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


async def sign_in_from(
    app: FastAPI,
    address: str,
    email: str,
    password: str,
    ready: asyncio.Barrier | None = None,
    device: str | None = None,
) -> httpx.Response:
    """A browser at ``address`` that opens the form, then (once every other one has too, if
    ``ready``) posts it; with ``device``, the known-device cookie from an earlier sign-in."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    cookies = {DEVICE_COOKIE: device} if device else None
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=cookies
    ) as browser:
        page = await browser.get("/staff/login")
        if ready is not None:
            await ready.wait()
        return await browser.post(
            "/staff/login",
            data={"email": email, "password": password, "login_token": form_token(page.text)},
        )


def sign_in_once(
    app: FastAPI, address: str, email: str, password: str, device: str | None = None
) -> httpx.Response:
    return run(lambda: sign_in_from(app, address, email, password, device=device))


def known_device(app: FastAPI, address: str, user: StaffUser) -> str:
    """Signs in from a new browser at ``address``: the device cookie it is given."""
    signed_in = sign_in_once(app, address, user.email, PASSWORD)
    assert signed_in.status_code == 303
    cookie = next(
        h for h in signed_in.headers.get_list("set-cookie") if h.startswith(f"{DEVICE_COOKIE}=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=31536000" in cookie  # a year
    return signed_in.cookies[DEVICE_COOKIE]


def as_if_passed(db: Session, seconds: float) -> None:
    """Moves every counter's clock back, as if ``seconds`` had passed (no test sleeps)."""
    shift = timedelta(seconds=seconds)
    db.expire_all()
    for counter in db.exec(select(LoginThrottle)).all():
        counter.updated_at -= shift
        if counter.blocked_until is not None:
            counter.blocked_until -= shift
        db.add(counter)
    db.commit()


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check the login route makes (they run in worker threads)."""
    checked: list[str] = []
    lock = threading.Lock()
    real = accounts.password_matches

    def counting(user: StaffUser | None, password: str) -> bool:
        with lock:
            checked.append(password)
        return real(user, password)

    monkeypatch.setattr(accounts, "password_matches", counting)
    return checked


@pytest.fixture
def user(clinic: Clinic, make_staff: MakeStaff) -> StaffUser:
    return make_staff(clinic)


def wait_a_minute_at_first(app: FastAPI) -> None:
    """The first wait as long as the e-mail's longest: a loaded machine's slow requests cannot
    outlast it in the middle of a test."""
    app.state.settings = settings_with(app.state.settings, sign_in={"first_delay_seconds": 60.0})


def test_thirty_concurrent_guesses_get_five_password_checks_and_the_rest_wait(
    app: FastAPI, user: StaffUser, db: Session, argon2_checks: list[str]
) -> None:
    """From thirty addresses at once (so no address's own counter matters), with the e-mail
    written in every case: one counter, so only its free attempts are checked."""
    wait_a_minute_at_first(app)
    variants = [user.email, user.email.upper(), f"  {user.email.title()} "]

    async def thirty_at_once() -> list[httpx.Response]:
        ready = asyncio.Barrier(30)
        return await asyncio.gather(
            *(sign_in_from(app, f"10.0.1.{n}", variants[n % 3], WRONG, ready) for n in range(30))
        )

    responses = run(thirty_at_once)

    statuses = sorted(r.status_code for r in responses)
    free = login_throttle.FREE_ATTEMPTS_PER_EMAIL
    assert statuses == [401] * free + [429] * (30 - free)
    assert len(argon2_checks) == free
    # The first wait, counted from the fifth failure (less the time that passed since).
    first_wait = app.state.settings.sign_in.first_delay_seconds
    waits = [int(r.headers["retry-after"]) for r in responses if r.status_code == 429]
    assert all(0 < wait <= first_wait for wait in waits)

    # Still waiting, even with the right password; once the wait is over, it works.
    assert sign_in_once(app, "10.0.2.1", user.email, PASSWORD).status_code == 429
    as_if_passed(db, app.state.settings.sign_in.first_delay_seconds)
    signed_in = sign_in_once(app, "10.0.2.1", user.email, PASSWORD)
    assert signed_in.status_code == 303
    # ...and a success clears the e-mail's count: the next failure is a plain one.
    assert sign_in_once(app, "10.0.2.1", user.email, WRONG).status_code == 401


def test_thirty_concurrent_guesses_from_one_address_at_many_e_mails_get_its_free_checks(
    app: FastAPI, argon2_checks: list[str]
) -> None:
    async def thirty_at_once() -> list[httpx.Response]:
        ready = asyncio.Barrier(30)
        return await asyncio.gather(
            *(
                sign_in_from(app, "10.0.3.1", f"guess{n}@example.org", WRONG, ready)
                for n in range(30)
            )
        )

    statuses = sorted(r.status_code for r in run(thirty_at_once))

    free = login_throttle.FREE_ATTEMPTS_PER_ADDRESS
    assert statuses == [401] * free + [429] * (30 - free)
    assert len(argon2_checks) == free


def test_a_stranger_s_failures_make_the_clinician_wait_at_most_the_e_mail_s_cap(
    app: FastAPI, user: StaffUser, db: Session
) -> None:
    settings = app.state.settings
    stranger, clinician = "203.0.113.66", "198.51.100.7"
    # The stranger keeps guessing, waiting each time as long as told to.
    for _ in range(login_throttle.FREE_ATTEMPTS_PER_ADDRESS + 4):
        response = sign_in_once(app, stranger, user.email, WRONG)
        if response.status_code == 429:
            as_if_passed(db, float(response.headers["retry-after"]))
            response = sign_in_once(app, stranger, user.email, WRONG)
        assert response.status_code == 401

    at_clinic = sign_in_once(app, clinician, user.email, PASSWORD)
    assert at_clinic.status_code == 429
    assert int(at_clinic.headers["retry-after"]) <= settings.sign_in.max_delay_email_seconds
    stranger_waits = sign_in_once(app, stranger, "someone.else@example.org", WRONG)
    assert int(stranger_waits.headers["retry-after"]) > settings.sign_in.max_delay_email_seconds

    as_if_passed(db, settings.sign_in.max_delay_email_seconds)
    assert sign_in_once(app, clinician, user.email, PASSWORD).status_code == 303
    # The stranger's own address still waits, for any e-mail.
    assert sign_in_once(app, stranger, "someone.else@example.org", WRONG).status_code == 429


def test_a_refused_attempt_is_not_counted_and_does_not_make_the_wait_longer(
    app: FastAPI, user: StaffUser, argon2_checks: list[str]
) -> None:
    wait_a_minute_at_first(app)
    for _ in range(login_throttle.FREE_ATTEMPTS_PER_EMAIL):
        assert sign_in_once(app, "10.0.4.1", user.email, WRONG).status_code == 401
    first_wait = int(app.state.settings.sign_in.first_delay_seconds)
    for _ in range(5):
        refused = sign_in_once(app, "10.0.4.1", user.email, WRONG)
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 0 < wait <= first_wait
        assert f"Try again in {wait} second" in refused.text
    assert len(argon2_checks) == login_throttle.FREE_ATTEMPTS_PER_EMAIL


# -- known devices (hardening, second pass) -------------------------------------------------------


def test_the_right_password_from_a_known_device_gets_in_while_the_e_mail_waits(
    app: FastAPI, user: StaffUser
) -> None:
    device = known_device(app, "198.51.100.7", user)
    # A stranger, from as many addresses as it takes, keeps the e-mail waiting.
    for n in range(login_throttle.FREE_ATTEMPTS_PER_EMAIL):
        assert sign_in_once(app, f"203.0.113.{n}", user.email, WRONG).status_code == 401
    assert sign_in_once(app, "203.0.113.99", user.email, WRONG).status_code == 429
    # A browser that never signed in waits, even with the right password...
    assert sign_in_once(app, "198.51.100.8", user.email, PASSWORD).status_code == 429
    # ...the one that did does not.
    assert sign_in_once(app, "198.51.100.7", user.email, PASSWORD, device).status_code == 303


def test_a_stranger_s_failures_never_lock_a_known_device_out(
    app: FastAPI, user: StaffUser, db: Session
) -> None:
    """Every minute for a quarter of an hour the stranger trips the e-mail's wait again: the clinician's
    browser gets in each time, and its own wrong password is only a plain failure."""
    device = known_device(app, "198.51.100.7", user)
    for minute in range(15):
        sign_in_once(app, f"203.0.113.{minute % 50}", user.email, WRONG)
        response = sign_in_once(app, "198.51.100.7", user.email, PASSWORD, device)
        assert response.status_code == 303, minute
        as_if_passed(db, 60)
    assert sign_in_once(app, "198.51.100.7", user.email, WRONG, device).status_code == 401


def test_behind_a_proxy_one_address_s_failures_hold_up_only_new_browsers(
    app: FastAPI, user: StaffUser, make_staff: MakeStaff, clinic: Clinic
) -> None:
    """Without FORWARDED_ALLOW_IPS every client has the proxy's address: a stranger's guesses at
    many e-mails make that address wait a quarter of an hour, but not a browser that knows its
    account."""
    proxy = "10.0.0.1"
    device = known_device(app, proxy, user)
    colleague = make_staff(clinic)
    for n in range(login_throttle.FREE_ATTEMPTS_PER_ADDRESS):
        assert sign_in_once(app, proxy, f"guess{n}@example.org", WRONG).status_code == 401
    assert sign_in_once(app, proxy, colleague.email, PASSWORD).status_code == 429
    assert sign_in_once(app, proxy, user.email, PASSWORD, device).status_code == 303
    # The device cookie is the account's: for another e-mail it counts for nothing.
    assert sign_in_once(app, proxy, colleague.email, PASSWORD, device).status_code == 429


def test_a_known_device_s_own_failures_are_throttled_on_that_device_alone(
    app: FastAPI, user: StaffUser, argon2_checks: list[str]
) -> None:
    """A stolen device cookie is no way round the throttle: its guesses wait as the e-mail's
    would, and they do not make anyone else wait."""
    wait_a_minute_at_first(app)
    device = known_device(app, "198.51.100.7", user)
    for _ in range(login_throttle.FREE_ATTEMPTS_PER_EMAIL):
        assert sign_in_once(app, "203.0.113.5", user.email, WRONG, device).status_code == 401
    assert sign_in_once(app, "203.0.113.5", user.email, PASSWORD, device).status_code == 429
    assert len(argon2_checks) == 1 + login_throttle.FREE_ATTEMPTS_PER_EMAIL
    assert sign_in_once(app, "198.51.100.9", user.email, PASSWORD).status_code == 303


def test_a_forged_or_foreign_device_cookie_is_a_new_browser(app: FastAPI, user: StaffUser) -> None:
    device = known_device(app, "198.51.100.7", user)
    fields, _, _ = device.rpartition(".")
    for _ in range(login_throttle.FREE_ATTEMPTS_PER_EMAIL):
        sign_in_once(app, "203.0.113.5", user.email, WRONG, f"{fields}.{'0' * 64}")
    assert sign_in_once(app, "198.51.100.7", user.email, PASSWORD, "nonsense").status_code == 429
    assert sign_in_once(app, "198.51.100.7", user.email, PASSWORD, device).status_code == 303
