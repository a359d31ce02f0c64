"""Issue 16's clinic journeys in a real browser, on a phone (390 px) and a desktop: an admin
sets the clinic's contact details; a patient on a poster link gets the emergency advice first,
then the reference and a short form for how to reach them; staff find the submission by its
reference, see who sent it, copy a new link and revoke one after confirming. axe-core on every
page (no serious or critical problems), and no page wider than the phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, PatientForm
from tests.browser.test_staff_journey import EMERGENCY, go, make_staff, queue_rows, sign_in

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390


def fits(page: Any) -> None:
    """Nothing makes the page scroll sideways (tables scroll inside their own region)."""
    width = page.viewport_size["width"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, page.url


@pytest.mark.parametrize("width", [PHONE_WIDTH, 1280], ids=["phone", "desktop"])
def test_clinic_details_poster_link_contact_search_copy_and_revoke(
    width: int,
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    size = "phone" if width == PHONE_WIDTH else "desktop"
    admin = make_staff(live_server, role="admin")
    staff = new_page(width=width, permissions=["clipboard-read", "clipboard-write"])
    sign_in(staff, admin.email)

    # The admin sets the clinic's details; a wrong time zone is named first.
    go(staff, "Clinic details")
    assert staff.locator('nav a[aria-current="page"]').inner_text() == "Clinic details"
    staff.get_by_label("Phone number for patients").fill("01632 960 001")
    staff.get_by_label("E-mail address for patients").fill("reception@riverside.example")
    staff.get_by_label("Address", exact=True).fill("1 River Street\nTownsville")
    staff.get_by_label("Time zone").fill("Europe/Londn")
    with staff.expect_navigation():
        staff.get_by_role("button", name="Save clinic details").click()
    summary = staff.locator(".error-summary")
    assert "The time zone must be a name from the time zone database" in summary.inner_text()
    axe_check(staff, name=f"clinic details with an error ({size})")
    fits(staff)
    staff.get_by_label("Time zone").fill("Europe/London")
    with staff.expect_navigation():
        staff.get_by_role("button", name="Save clinic details").click()
    assert (
        staff.get_by_role("status")
        .filter(has_text="The clinic details have been saved.")
        .is_visible()
    )
    axe_check(staff, name=f"clinic details saved ({size})")
    screenshot(staff, f"staff-clinic-details-{size}")

    # A reusable link for the waiting-room poster, copied with the button.
    go(staff, "Intake links")
    with staff.expect_navigation():
        staff.get_by_role("link", name="Create an intake link").click()
    staff.get_by_label("Patient reference (optional)").fill("Waiting room poster")
    staff.get_by_label("Many times: for a poster or a group of patients").check()
    with staff.expect_navigation():
        staff.get_by_role("button", name="Create link").click()
    url = staff.input_value("input#link-url")
    copy = staff.get_by_role("button", name="Copy link")
    assert copy.is_visible()  # shown by the script, as the clipboard can be written
    copy.click()
    # The copy is a promise: wait for its message (reading at once raced it under load).
    expect(staff.locator("#copy-status")).to_have_text("Link copied.")
    assert staff.evaluate("() => navigator.clipboard.readText()") == url
    axe_check(staff, name=f"intake link created ({size})")
    fits(staff)
    screenshot(staff, f"staff-link-created-{size}")

    # A patient scans the poster: the clinic's contact details are on the first page.
    patient = new_page(width=width)
    patient.goto(urlsplit(url).path)
    contact = patient.locator(".clinic-contact")
    assert "01632 960 001" in contact.inner_text()
    assert contact.get_by_role("link", name="01632 960 001").get_attribute("href") == (
        "tel:01632960001"
    )
    axe_check(patient, name=f"intake start with contact details ({size})")
    with patient.expect_navigation():
        patient.get_by_role("button", name="Start now").click()
    PatientForm(patient).run(EMERGENCY)
    assert urlsplit(patient.url).path.startswith("/result/")

    # What to do now comes first; then the reference, and the form for how to reach them.
    main = patient.locator("main").inner_text()
    assert main.index("Call 999") < main.index("Your reference is")
    assert main.index("Your reference is") < main.index("how to reach you")
    reference = patient.locator(".reference").inner_text()
    assert len(reference) == 6
    axe_check(patient, name=f"emergency result with the contact form ({size})")
    fits(patient)
    screenshot(patient, f"intake-emergency-contact-{size}")
    with patient.expect_navigation():
        patient.get_by_role("button", name=f"Send my details to {admin.clinic_name}").click()
    assert "Enter your name" in patient.locator(".error-summary").inner_text()
    axe_check(patient, name=f"contact form with errors ({size})")
    patient.get_by_label("Your name").fill("Sam Patel")
    patient.get_by_label("Phone number or booking reference").fill("07700 900123")
    with patient.expect_navigation():
        patient.get_by_role("button", name=f"Send my details to {admin.clinic_name}").click()
    # (The page has another status region: the copy-link button's.)
    assert (
        patient.get_by_role("status")
        .filter(has_text="has your name and contact details")
        .is_visible()
    )
    assert "Sam Patel" not in patient.locator("main").inner_text()

    # Staff find it by the reference as the patient reads it out, and see who sent it.
    staff.goto("/staff/")
    staff.get_by_label("Find a submission by reference").fill(
        f"{reference[:3].lower()} {reference[3:].lower()}"
    )
    with staff.expect_navigation():
        staff.get_by_role("button", name="Search").click()
    rows = queue_rows(staff)
    assert rows.count() == 1
    assert "Sam Patel, 07700 900123" in rows.first.inner_text()
    assert rows.first.locator('a[href="tel:07700900123"]').count() == 1  # tap to call
    axe_check(staff, name=f"queue searched by reference ({size})")
    fits(staff)
    screenshot(staff, f"staff-queue-search-{size}")
    with staff.expect_navigation():
        rows.first.locator('a[href^="/staff/assessments/"]').click()
    assert "Sam Patel" in staff.locator("dl.facts").inner_text()
    assert "you said" not in staff.locator("main").inner_text().lower()
    assert staff.locator('nav a[aria-current="true"]').inner_text() == "Submissions"
    axe_check(staff, name=f"submission with name and contact ({size})")
    fits(staff)

    # Revoking the poster link asks first, then says it is done.
    go(staff, "Intake links")
    row = staff.locator("table tbody tr", has_text="Waiting room poster")
    with staff.expect_navigation():
        row.get_by_role("link", name="Revoke").click()
    assert staff.get_by_role("heading", level=1).inner_text() == "Revoke this link?"
    axe_check(staff, name=f"revoke confirmation ({size})")
    fits(staff)
    with staff.expect_navigation():
        staff.get_by_role("button", name="Yes, revoke the link").click()
    assert (
        staff.get_by_role("status")
        .filter(has_text="The link for Waiting room poster has been revoked.")
        .is_visible()
    )
    assert row.locator("td").nth(2).inner_text() == "Revoked"
    axe_check(staff, name=f"intake links after revoking ({size})")
    fits(staff)
    screenshot(staff, f"staff-links-revoked-{size}")
