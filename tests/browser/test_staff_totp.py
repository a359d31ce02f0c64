"""The staff second factor in a real browser: a new admin is led to set it up after their
password (the test reads the setup key from the page and makes the app's codes with pyotp, as
an authenticator app would), keeps the recovery codes, signs in again with a code and then
with a recovery code; and a session left unused for 30 minutes is signed out. axe-core on the
setting-up page, the recovery codes, and the code pages (also with an error), at desktop and
phone widths."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlmodel import select

from app.models import StaffSession, StaffUser, utcnow
from app.services.accounts import create_user
from app.services.clinics import create_clinic
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def new_admin(live_server: LiveServer) -> str:
    """An admin of a new clinic, with a password and no second factor yet."""
    tag = uuid.uuid4().hex[:8]
    with live_server.session() as session:
        clinic = create_clinic(session, name=f"Riverside Physio {tag}")
        user, _ = create_user(
            session,
            clinic_id=clinic.id,
            email=f"admin-{tag}@riverside.example",
            role="admin",
            password=PASSWORD,
        )
        session.commit()
    return user.email


def path(page: Any) -> str:
    return str(urlsplit(page.url).path)


def password_step(page: Any, email: str) -> None:
    page.goto("/staff/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def press(page: Any, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def sign_out(page: Any) -> None:
    press(page, "Sign out")
    assert path(page) == "/staff/login"


class App:
    """An authenticator app, from the secret a person typed in: each code once, as the
    server accepts it."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last_step: int | None = None

    def code(self) -> str:
        """This step's code, or the next step's if this one's was given (a phone's clock a
        little ahead), or a wait for the next step."""
        while True:
            now = int(time.time()) // 30
            step = now if self.last_step is None else max(now, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return self.totp.generate_otp(step)
            time.sleep(1)


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
def test_an_admin_sets_up_a_second_factor_and_signs_in_with_a_code_then_a_recovery_code(
    width: int,
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    size = "phone" if width < 641 else "desktop"
    email = new_admin(live_server)
    page = new_page(width=width)

    # Straight after the password: the page that sets up the second factor, and nothing else.
    password_step(page, email)
    assert path(page) == "/staff/second-factor"
    assert page.get_by_role("heading", level=1).inner_text() == "Set up a second factor"
    assert page.get_by_role("link", name="Submissions").count() == 0
    assert page.get_by_role(
        "img", name="QR code to add backaudit to an authenticator app"
    ).is_visible()
    axe_check(page, name=f"second factor setup ({size})")
    screenshot(page, f"staff-2fa-setup-{size}")
    page.goto("/staff/")
    assert path(page) == "/staff/second-factor"

    # The person types the setup key into their app instead of scanning.
    app = App(page.locator("#setup-key").inner_text().replace(" ", ""))
    page.get_by_label("6-digit code").fill("000000")
    press(page, "Turn on the second factor")
    assert page.title().startswith("Error: ")
    assert "The code is not right" in page.locator(".error-summary").inner_text()
    axe_check(page, name=f"second factor setup with an error ({size})")
    page.get_by_label("6-digit code").fill(app.code())
    press(page, "Turn on the second factor")
    assert page.get_by_role("heading", level=1).inner_text() == "Save your recovery codes"
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    axe_check(page, name=f"recovery codes ({size})")
    screenshot(page, f"staff-2fa-recovery-codes-{size}")
    with page.expect_navigation():
        page.get_by_role("link", name="I have saved my codes: continue").click()
    assert path(page) == "/staff/"
    sign_out(page)

    # Signing in again: the password, then a code from the app.
    password_step(page, email)
    assert path(page) == "/staff/login/code"
    code_field = page.get_by_label("Code from your authenticator app")
    assert code_field.get_attribute("autocomplete") == "one-time-code"
    assert code_field.get_attribute("inputmode") == "numeric"
    axe_check(page, name=f"sign-in code ({size})")
    screenshot(page, f"staff-2fa-code-{size}")
    code_field.fill("123456")
    press(page, "Sign in")
    assert page.title().startswith("Error: ")
    assert page.locator("#code-error").is_visible()
    axe_check(page, name=f"sign-in code with an error ({size})")
    page.get_by_label("Code from your authenticator app").fill(app.code())
    press(page, "Sign in")
    assert path(page) == "/staff/"
    sign_out(page)

    # No phone: a recovery code, once.
    password_step(page, email)
    with page.expect_navigation():
        page.get_by_role("link", name="Use a recovery code instead").click()
    axe_check(page, name=f"sign-in recovery code ({size})")
    page.get_by_label("Recovery code").fill(codes[0].lower())
    press(page, "Sign in")
    assert path(page) == "/staff/second-factor"
    assert "You signed in with a recovery code" in page.locator("main").inner_text()
    assert "9 of 10" in page.locator("main").inner_text()
    axe_check(page, name=f"second factor page ({size})")
    sign_out(page)
    password_step(page, email)
    page.goto("/staff/login/code?recovery=1")
    page.get_by_label("Recovery code").fill(codes[0])
    press(page, "Sign in")
    assert (
        "The recovery code is not right, or it has been used"
        in page.locator(".error-summary").inner_text()
    )


def test_a_session_unused_for_thirty_minutes_is_signed_out(
    new_page: Callable[..., Any], live_server: LiveServer
) -> None:
    """Its last request moved back in the database, as if the clinician had gone for 31
    minutes; one of 29 minutes ago is still good."""
    email = new_admin(live_server)
    with live_server.session() as session:
        user = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        user.role = "clinician"  # no second factor needed for this one
        session.add(user)
        session.commit()
        user_id = user.id
    page = new_page()
    password_step(page, email)
    assert path(page) == "/staff/"

    def last_seen(minutes_ago: int) -> None:
        with live_server.session() as session:
            staff_session = session.exec(
                select(StaffSession).where(StaffSession.user_id == user_id)
            ).one()
            staff_session.last_seen_at = utcnow() - timedelta(minutes=minutes_ago)
            session.add(staff_session)
            session.commit()

    last_seen(29)
    page.goto("/staff/links")
    assert path(page) == "/staff/links"
    last_seen(31)
    page.goto("/staff/links")
    assert path(page) == "/staff/login"
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    # Signing in again goes back to the page that was asked for.
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    press(page, "Sign in")
    assert path(page) == "/staff/links"
