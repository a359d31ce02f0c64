"""The clinic staff area in a real browser: a clinician sends an intake link, the patient
answers it on their own device (leaving and coming back), and the submission reaches the top
of the clinician's queue to be reviewed. Also: axe-core on every kind of staff page, the
filters without JavaScript, and screenshots.

Clinics, accounts and older submissions are set up straight in the live server's database;
that database is shared by the whole test session, so every test makes its own clinic and
staff e-mail addresses."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from app.models import utcnow
from app.services import second_factor
from app.services.accounts import create_user
from app.services.clinics import create_clinic
from app.services.intake import create_link
from tests.browser.conftest import LiveServer, PatientForm
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO, record_assessment

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
SELF_CARE = dict(EXAMPLE_ANSWERS)
SEE_DOCTOR = {**SAFETY_ALL_NO, "pregnant": True}
URGENT = {**SAFETY_ALL_NO, "fever": True}
EMERGENCY = {**SAFETY_ALL_NO, "saddle_numbness": True}
FEVER_REASON = "A high temperature with back pain can be a sign of an infection."
# What staff read: the rule's clinical label and action, not the patient's words.
FEVER_LABEL = "Fever with back pain: possible spinal infection"
FEVER_ACTION = "Same-day assessment; consider spinal infection (discitis, epidural abscess)."
FEVER_QUESTION = "Do you have a high temperature, chills, or feel hot and shivery?"


@dataclass(frozen=True)
class Staff:
    clinic_id: uuid.UUID
    clinic_name: str
    email: str


def make_staff(live_server: LiveServer, role: str = "clinician") -> Staff:
    """A new clinic with one staff member who has a password; an admin also has the second
    factor every admin must have, set up as they would (sign_in answers its code)."""
    tag = uuid.uuid4().hex[:8]
    with live_server.session() as session:
        clinic = create_clinic(session, name=f"Riverside Physio {tag}")
        user, _ = create_user(
            session,
            clinic_id=clinic.id,
            email=f"{role}-{tag}@riverside.example",
            role=role,
            password=PASSWORD,
        )
        if role == "admin":
            secret = second_factor.begin_enrolment(
                session, user, secret_key=live_server.settings.secret_key
            )
            now = utcnow()
            step = second_factor.time_step(now) - 1  # a step ago: now's code is still unused
            second_factor.finish_enrolment(
                session,
                user,
                pyotp.TOTP(secret).generate_otp(step),
                secret_key=live_server.settings.secret_key,
                now=now,
            )
            APP_SECRETS[user.email] = secret
            _LAST_STEP[user.email] = step
        session.commit()
    return Staff(clinic.id, clinic.name, user.email)


# What each staff member's authenticator app holds (e-mail: secret), and the time step of the
# last code each gave: the app refuses a code twice, so the next sign-in waits for a new one.
APP_SECRETS: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}


def app_code(email: str) -> str:
    """The code the person's authenticator app shows (pyotp), never one used before: the next
    step's if this step's was (one step of drift is accepted), or after waiting for a new step."""
    totp = pyotp.TOTP(APP_SECRETS[email])
    while True:
        now = int(time.time()) // 30
        step = max(now, _LAST_STEP.get(email, now - 1) + 1)
        if step <= now + 1:
            _LAST_STEP[email] = step
            return totp.generate_otp(step)
        time.sleep(1)


def submission(
    live_server: LiveServer, staff: Staff, answers: dict[str, Any], reference: str | None = None
) -> uuid.UUID:
    """A submission to the clinic through an intake link, as if a patient had sent it."""
    q = live_server.app.state.registry.default
    with live_server.session() as session:
        link_id = None
        if reference is not None:
            link, _ = create_link(
                session,
                clinic_id=staff.clinic_id,
                label=reference,
                single_use=True,
                valid_for=timedelta(days=1),
                created_by_id=None,
            )
            link_id = link.id
        assessment = record_assessment(
            session,
            q,
            answers,
            channel="intake",
            clinic_id=staff.clinic_id,
            intake_link_id=link_id,
            allow_incomplete=True,
        )
        session.commit()
    return assessment.id


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/staff/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if email in APP_SECRETS:
        assert urlsplit(page.url).path == "/staff/login/code", page.url
        page.get_by_label("Code from your authenticator app").fill(app_code(email))
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
    assert urlsplit(page.url).path == "/staff/", page.url


def go(page: Any, link_name: str) -> None:
    """Follow a link in the staff navigation."""
    with page.expect_navigation():
        page.get_by_role("navigation", name="Staff").get_by_role(
            "link", name=link_name, exact=True
        ).click()


def queue_rows(page: Any) -> Any:
    return page.locator("table.queue tbody tr")


def row_levels(page: Any) -> list[str]:
    return [
        " ".join(t.split())
        for t in queue_rows(page).locator("td:first-child > .level-tag").all_inner_texts()
    ]


def answer(page: Any, question: str) -> str:
    row = page.locator(".summary-list__row", has=page.locator("dt", has_text=question))
    text: str = row.locator("dd").inner_text()
    return text.strip()


def fact(page: Any, name: str) -> str:
    facts = page.locator("dl.facts > div", has=page.locator("dt", has_text=name))
    text: str = facts.locator("dd").inner_text()
    return " ".join(text.split())


def create_intake_link(page: Any, reference: str) -> str:
    """Create a single-use link with the default expiry from the staff pages; its full URL."""
    go(page, "Intake links")
    with page.expect_navigation():
        page.get_by_role("link", name="Create an intake link").click()
    page.get_by_label("Patient reference (optional)").fill(reference)
    assert page.get_by_label("Once: for one patient").is_checked()  # the default
    assert page.get_by_label("Link works for").input_value() == "14"  # the default
    with page.expect_navigation():
        page.get_by_role("button", name="Create link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Intake link created"
    url: str = page.input_value("input#link-url")
    return url


def test_an_intake_link_comes_back_to_the_top_of_the_queue_and_is_reviewed(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    screenshot: Callable[[Any, str], Any],
) -> None:
    staff = make_staff(live_server)
    submission(live_server, staff, SELF_CARE, reference="Older self-care")

    # The clinician makes a link for the patient.
    clinician = new_page()
    sign_in(clinician, staff.email)
    url = create_intake_link(clinician, "Appt 4471")
    assert url.startswith(f"{live_server.settings.public_url.rstrip('/')}/intake/")
    assert fact(clinician, "Patient reference") == "Appt 4471"
    assert fact(clinician, "Use") == "Once"
    qr = clinician.get_by_role("img", name="QR code that opens the link above")
    assert qr.is_visible()
    svg = qr.locator("svg.qr__svg")
    assert svg.is_visible()
    assert svg.locator("path").count() >= 1
    box = svg.bounding_box()
    assert box is not None
    assert box["width"] >= 150
    assert box["height"] >= 150
    screenshot(clinician, "staff-link-created")
    # The link is for this server's public address; the test server listens elsewhere.
    path = urlsplit(url).path

    # The patient opens it on their phone, answers the first pages, and closes the browser.
    patient = new_page(width=375)
    patient.goto(path)
    assert staff.clinic_name in patient.locator(".lead").inner_text()
    with patient.expect_navigation():
        patient.get_by_role("button", name="Start now").click()
    form = PatientForm(patient)
    form.answer_page(URGENT)  # about_you
    form.answer_page(URGENT)  # emergency_signs
    form.answer_page(URGENT)  # warning_signs
    assert patient.url.endswith(f"{path}/questions/back_and_legs")
    patient.context.close()

    # Later, in a new browser with no cookies, the same link carries on where they left off.
    patient = new_page(width=375)
    patient.goto(path)
    assert staff.clinic_name in patient.locator(".lead").inner_text()
    assert patient.get_by_text("You have already answered some questions.").is_visible()
    assert patient.get_by_role("button", name="Start now").count() == 0
    with patient.expect_navigation():
        patient.get_by_role("button", name="Carry on where you left off").click()
    assert patient.url.endswith(f"{path}/questions/back_and_legs")
    with patient.expect_navigation():
        patient.get_by_role("link", name="Back", exact=True).click()
    assert patient.url.endswith(f"{path}/questions/warning_signs")
    assert patient.is_checked("#fever")  # the urgent sign: yes
    for question in ("weight_loss", "night_pain"):
        assert patient.is_checked(f"#{question}-no"), question
    with patient.expect_navigation():
        patient.get_by_role("link", name="Back", exact=True).click()
    assert patient.url.endswith(f"{path}/questions/emergency_signs")
    for question in ("both_legs", "chest_pain"):
        assert patient.is_checked(f"#{question}-no"), question
    assert patient.is_checked("#serious_accident")  # its first option: "No"
    visited = PatientForm(patient).run(URGENT, on_advice="stop")
    assert any(p.endswith("/advice") for p in visited)
    assert patient.get_by_role("heading", level=1).inner_text() == "Speak to a doctor today"

    # A self-care submission arrives after it: the urgent one still comes first.
    submission(live_server, staff, SELF_CARE, reference="Newer self-care")

    clinician.goto("/staff/")
    assert "1 emergency or urgent submission not reviewed yet" in (
        clinician.get_by_role("status").inner_text()
    )
    rows = queue_rows(clinician)
    assert rows.count() == 3
    assert row_levels(clinician) == ["Urgent", "Self-care", "Self-care"]
    first = rows.first
    assert len(first.locator("td").nth(2).inner_text()) == 6  # the patient's reference
    assert first.locator("td").nth(3).inner_text() == "Appt 4471"
    assert first.locator("td").nth(4).inner_text() == "Intake link (stopped early)"
    assert first.locator("td").nth(5).inner_text() == "Not yet"
    assert rows.nth(1).locator("td").nth(3).inner_text() == "Newer self-care"
    assert rows.nth(2).locator("td").nth(3).inner_text() == "Older self-care"
    screenshot(clinician, "staff-dashboard-desktop")

    with clinician.expect_navigation():
        first.get_by_role("link").click()
    assert clinician.get_by_role("heading", level=1).inner_text().startswith("Submission from")
    assert fact(clinician, "Triage") == "Urgent"
    assert fact(clinician, "Patient reference") == "Appt 4471"
    assert fact(clinician, "Came from") == "Intake link"
    assert fact(clinician, "Answers") == "Stopped after the safety questions"
    assert fact(clinician, "Reviewed") == "Not yet"
    assert clinician.get_by_role(
        "heading", name="Triage: Urgent: red flag for a serious cause"
    ).is_visible()
    reasons = clinician.locator("h3:has-text('Reasons') + ul li")
    assert reasons.count() == 1
    assert FEVER_LABEL in reasons.inner_text()
    assert f"Action: {FEVER_ACTION}" in reasons.inner_text()
    assert FEVER_REASON not in reasons.inner_text()
    assert "(fever)" in reasons.inner_text()
    assert answer(clinician, FEVER_QUESTION) == "Yes Triage reason"  # marked as behind the reason
    assert answer(clinician, "Do you have chest pain as well as your back pain?") == "No"
    assert answer(clinician, "How old are you?") == "42 years"
    screenshot(clinician, "staff-submission-desktop")

    with clinician.expect_navigation():
        clinician.get_by_role("button", name="Mark as reviewed").click()
    reviewed = fact(clinician, "Reviewed")
    # In the clinic's time zone (Europe/London by default).
    assert reviewed.endswith((f"GMT by {staff.email}", f"BST by {staff.email}")), reviewed
    assert clinician.get_by_role("button", name="Mark as not reviewed").is_visible()

    clinician.goto("/staff/")
    assert clinician.get_by_role("status").count() == 0  # nothing urgent is waiting now
    assert queue_rows(clinician).first.locator("td").nth(5).inner_text() == (
        f"Yes, by {staff.email}"
    )
    go(clinician, "Intake links")
    link_row = clinician.locator("table tbody tr", has_text="Appt 4471")
    assert link_row.locator("td").nth(2).inner_text() == "Used"
    assert link_row.locator("td").nth(4).inner_text() == "1"

    # The single-use link cannot be used again, on any device.
    again = new_page(width=375)
    response = again.goto(path)
    assert response is not None
    assert response.status == 410
    assert again.get_by_role("heading", level=1).inner_text() == "This link has already been used"
    assert staff.clinic_name in again.locator("main").inner_text()


def test_staff_pages_pass_axe(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    admin = make_staff(live_server, role="admin")
    for answers, reference in (
        (SELF_CARE, "Appt 1001"),
        (SEE_DOCTOR, None),
        (URGENT, "Appt 1003"),
        (EMERGENCY, "Appt 1004"),
    ):
        submission(live_server, admin, answers, reference)

    page = new_page()
    page.goto("/staff/login")
    axe_check(page, name="login")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill("not the password at all")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.locator(".error-summary").is_visible()
    axe_check(page, name="login with an error")

    sign_in(page, admin.email)
    assert queue_rows(page).count() == 4
    assert row_levels(page)[:2] == ["Emergency", "Urgent"]
    axe_check(page, name="dashboard")
    page.locator("summary", has_text="Filter submissions").click()
    assert page.get_by_role("button", name="Apply filters").is_visible()
    axe_check(page, name="dashboard with the filters open")
    response = page.goto("/staff/?from=31-13-2026")
    assert response is not None
    assert response.status == 400
    assert page.locator(".error-summary").is_visible()
    axe_check(page, name="dashboard with a filter error")

    page.goto("/staff/")
    with page.expect_navigation():
        queue_rows(page).first.get_by_role("link").click()
    assert fact(page, "Triage") == "Emergency"
    axe_check(page, name="submission detail")

    go(page, "Intake links")
    axe_check(page, name="intake links")
    with page.expect_navigation():
        page.get_by_role("link", name="Create an intake link").click()
    axe_check(page, name="new intake link")
    # The form offers no invalid choice, so one is made in the page to see the error state.
    page.eval_on_selector("#valid_for option:checked", "o => { o.value = '999'; }")
    with page.expect_navigation():
        page.get_by_role("button", name="Create link").click()
    assert page.title().startswith("Error: ")
    assert "Choose how long the link works" in page.locator(".error-summary").inner_text()
    axe_check(page, name="new intake link with an error")
    page.get_by_label("Link works for").select_option("7")
    with page.expect_navigation():
        page.get_by_role("button", name="Create link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Intake link created"
    axe_check(page, name="intake link created")

    go(page, "Staff")
    assert page.get_by_role("cell", name=admin.email).is_visible()
    axe_check(page, name="members")
    go(page, "Audit log")
    assert page.get_by_role("cell", name="link.created").is_visible()
    axe_check(page, name="audit log")

    phone = new_page(width=375)
    sign_in(phone, admin.email)
    axe_check(phone, name="dashboard on a phone")
    # The table scrolls inside itself: the page is never wider than the screen.
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 375
    screenshot(phone, "staff-dashboard-phone")


def test_dashboard_filters_work_without_javascript(
    new_page: Callable[..., Any], live_server: LiveServer
) -> None:
    staff = make_staff(live_server)
    for answers, reference in (
        (SELF_CARE, "Appt 2001"),
        (URGENT, "Appt 2002"),
        (SEE_DOCTOR, "Appt 2003"),
        (EMERGENCY, "Appt 2004"),
        ({**SAFETY_ALL_NO, "night_pain": True}, "Appt 2005"),
    ):
        submission(live_server, staff, answers, reference)

    page = new_page(java_script_enabled=False)
    sign_in(page, staff.email)
    assert queue_rows(page).count() == 5
    urgent = page.get_by_role("checkbox", name="Urgent", exact=True)
    assert not urgent.is_visible()  # the panel starts closed
    page.locator("summary", has_text="Filter submissions").click()  # <details> opens without script
    assert urgent.is_visible()
    urgent.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Apply filters").click()

    assert parse_qs(urlsplit(page.url).query) == {"level": ["urgent"], "reviewed": ["all"]}
    assert row_levels(page) == ["Urgent", "Urgent"]
    references = queue_rows(page).locator("td:nth-child(4)").all_inner_texts()
    assert sorted(references) == ["Appt 2002", "Appt 2005"]
    assert "2 submissions match these filters" in page.locator(".queue-meta").inner_text()
    # The chosen filter stays chosen, in an open panel, ready to change.
    assert urgent.is_visible()
    assert urgent.is_checked()
    assert not page.get_by_role("checkbox", name="Emergency", exact=True).is_checked()
