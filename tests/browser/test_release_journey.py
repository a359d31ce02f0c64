"""Release after review (questionnaire 2.1) in a real browser: a clinic's patient who is
pregnant is told to book an appointment; a clinician reviews the submission, ticks the box and
releases the programme; the patient opens their private link on a phone with JavaScript off,
answers the "before you exercise" questions (a page sent empty first: the error summary names
each question) and gets a plan that says who released it. axe-core on every page: the patient's
pages are checked in a second page with JavaScript on, which opens each of them too (axe cannot
run where scripts are off: its timers never fire)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.services.intake import create_link
from tests.browser.conftest import LiveServer, PatientForm
from tests.browser.test_staff_journey import Staff, fact, make_staff, queue_rows, sign_in
from tests.fixtures import EXAMPLE_ANSWERS, record_assessment

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
BEFORE_YOU_EXERCISE = (
    "joint_problems", "hip_replacement", "hip_precautions", "knee_replacement",
    "falls_or_unsteady", "hypermobile", "squat_check", "bridge_check", "hang_check",
    "sides_differ",
)  # fmt: skip
# Every question a pregnant person is asked: see a doctor first, so nothing about movement.
PREGNANT = {
    **{k: v for k, v in EXAMPLE_ANSWERS.items() if k not in BEFORE_YOU_EXERCISE},
    "pregnant": True,
}
MOVEMENT = {k: EXAMPLE_ANSWERS[k] for k in BEFORE_YOU_EXERCISE if k in EXAMPLE_ANSWERS}
REFERENCE = "Appt 7310"


def intake_submission(
    live_server: LiveServer, staff: Staff, answers: dict[str, Any]
) -> tuple[uuid.UUID, str]:
    """A finished submission through one of the clinic's intake links: its id and the
    patient's private result path."""
    with live_server.session() as session:
        link, _ = create_link(
            session,
            clinic_id=staff.clinic_id,
            label=REFERENCE,
            single_use=True,
            valid_for=timedelta(days=7),
            created_by_id=None,
        )
        recorded = record_assessment(
            session,
            live_server.app.state.registry.default,
            answers,
            channel="intake",
            clinic_id=staff.clinic_id,
            intake_link_id=link.id,
        )
        session.commit()
    return recorded.id, f"/result/{recorded.result_token}"


def test_a_clinician_releases_the_programme_and_the_patient_gets_a_plan(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    staff = make_staff(live_server)
    assessment_id, result_path = intake_submission(live_server, staff, PREGNANT)

    # Before the release: the patient is told to book an appointment, and gets no plan.
    patient = new_page(**PHONE_390, java_script_enabled=False)
    patient.goto(result_path)
    assert patient.get_by_role("heading", level=1).inner_text() == (
        "Book an appointment before you start"
    )
    assert patient.get_by_role("heading", name="Your exercise plan").count() == 0
    assert patient.locator(".release-notice").count() == 0

    # The clinician opens the submission and releases the programme.
    clinician = new_page()
    sign_in(clinician, staff.email)
    row = queue_rows(clinician).filter(has_text=REFERENCE)
    with clinician.expect_navigation():
        row.get_by_role("link").click()
    assert urlsplit(clinician.url).path == f"/staff/assessments/{assessment_id}"
    assert fact(clinician, "Triage") == "See a doctor"
    release = clinician.get_by_role("button", name="Release the programme")
    assert release.is_visible()
    axe_check(clinician, name="staff submission with the release form")
    clinician.get_by_label(
        "I have reviewed this patient, and the home programme suits them"
    ).check()
    with clinician.expect_navigation():
        release.click()
    assert urlsplit(clinician.url).fragment == "release"
    released = " ".join(clinician.locator("#release + .inset").inner_text().split())
    assert released.startswith(f"Programme released after review by {staff.email} on ")
    assert 'not yet answered the "before you exercise" questions' in released
    assert clinician.get_by_role("button", name="Release the programme").count() == 0
    assert fact(clinician, "Triage") == "See a doctor"  # the level stays
    axe_check(clinician, name="staff submission after the release")
    screenshot(clinician, "staff-submission-released")

    # The patient's link now says so, and leads to the questions.
    twin = new_page(**PHONE_390)  # the same pages with JavaScript on, for axe

    def axe_as_served(name: str) -> None:
        twin.goto(patient.url)
        axe_check(twin, name=name)

    patient.goto(result_path)
    # The release leads the page (the level and reasons stay, below it).
    assert patient.get_by_role("heading", level=1).inner_text() == (
        "Your clinic has released the exercise programme"
    )
    assert f"{staff.email} reviewed your answers" in patient.locator(".outcome").inner_text()
    notice = patient.locator(".release-notice")
    axe_as_served("result with the release notice")
    screenshot(patient, "result-release-notice-phone")
    with patient.expect_navigation():
        notice.get_by_role("link", name="Answer the questions and see your plan").click()
    assert urlsplit(patient.url).path == f"{result_path}/before-you-exercise"
    assert patient.get_by_text("Before you exercise, page 1").is_visible()
    assert patient.get_by_role("heading", level=1).inner_text() == "Your joints and balance"
    axe_as_served("before you exercise, page 1")

    # Sent empty: the error summary names each question on the page, and links to it.
    form = PatientForm(patient)
    form.submit()
    assert patient.title().startswith("Error: ")
    summary = patient.locator(".error-summary")
    assert summary.get_by_role("heading", name="There is a problem").is_visible()
    links = summary.get_by_role("link")
    assert links.count() == 3
    named = " ".join(summary.inner_text().split())
    assert "Do you have any of these? – Select all that apply, or ‘None of these’" in named
    assert "Have you had a fall in the last 12 months" in named
    assert "Have you been told you have hypermobile joints" in named
    assert links.first.get_attribute("href") == "#joint_problems"
    assert patient.locator("#joint_problems").count() == 1
    PatientForm(twin).submit()
    assert twin.locator(".error-summary").is_visible()
    axe_check(twin, name="before you exercise, page 1 with errors")
    screenshot(patient, "before-you-exercise-error-phone")

    # A page at a time until the plan.
    pages = []
    for _ in range(8):
        if urlsplit(patient.url).path == result_path:
            break
        assert patient.locator("h1").count() == 1, "one h1 per page"
        pages.append(patient.locator("h1").inner_text())
        axe_as_served(f"before you exercise: {pages[-1]}")
        form.answer_page(MOVEMENT)
    assert urlsplit(patient.url).path == result_path, pages
    assert urlsplit(patient.url).fragment == "plan"
    assert len(pages) == 5, pages  # joints and balance, squat, bridge, hang, left and right

    # The result leads with the release and says who released it; the first advice and its
    # reasons stay, under "What your clinic reviewed"; the plan follows.
    assert patient.get_by_role("heading", level=1).inner_text() == (
        "Your clinic has released the exercise programme"
    )
    assert "Start gently with the plan below" in patient.locator(".outcome").inner_text()
    said = " ".join(patient.locator("p.release-notice").inner_text().split())
    assert said.startswith(f"Programme released after review by {staff.email} on ")
    assert "Your first result said: book an appointment before you start" in said
    assert patient.get_by_role("heading", name="What your clinic reviewed").is_visible()
    focus = patient.locator(".plan-week__list > li")
    assert focus.count() == 3
    assert [n.split(":")[0] for n in focus.all_inner_texts()] == [
        "Pelvic tilts",
        "Hip bridge",
        "Upper back and side stretch",
    ]
    assert patient.locator(".plan-blocks section.exercise").count() == 3
    assert patient.get_by_role("heading", name="Your exercise plan").is_visible()
    assert "Check-ins at 2, 4 and 8 weeks" in patient.locator("main").inner_text()
    # Nothing asks the questions again: the link goes to the plan.
    patient.goto(f"{result_path}/before-you-exercise")
    assert urlsplit(patient.url).path == result_path
    axe_as_served("result with a released plan")
    assert patient.evaluate("() => document.documentElement.scrollWidth") <= PHONE_390["width"]
    screenshot(patient, "result-released-plan-phone")
