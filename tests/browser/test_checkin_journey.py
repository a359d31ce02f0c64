"""Follow-up check-ins in a real browser: a clinic's patient gets a self-care result, checks in
two weeks later (time is moved in the database) and the plan moves up a step saying why; four
weeks in, their back is worse: "book an appointment", and the clinic's queue flags it until a
clinician has read it. And (check-in 1.1.0): pain clearly up from the start holds every block
where it is, however easy it felt, and the result page leads with the check-in's advice."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from app.models import Assessment, Checkin
from app.services.intake import create_link
from tests.browser.conftest import LiveServer, PatientForm
from tests.browser.test_staff_journey import (
    SELF_CARE,
    fact,
    make_staff,
    queue_rows,
    sign_in,
)
from tests.fixtures import CHECKIN_BLOCKS, record_assessment
from tests.fixtures import checkin_answers as all_checkin_answers

pytestmark = pytest.mark.browser

# Check-in 1.1.0 asks three more questions on its warning-signs page (all required).
NEW_IN_CHECKIN_1_1 = {"new_leg_symptoms": False, "new_fall_or_injury": False, "pregnant": False}


def checkin_answers(**changes: Any) -> dict[str, Any]:
    """A complete check-in 1.1.0 (tests.fixtures' answers and the three new questions)."""
    return all_checkin_answers(**{**NEW_IN_CHECKIN_1_1, **changes})


def move_back(live_server: LiveServer, assessment_id: uuid.UUID, days: int) -> None:
    """As if ``days`` had passed: the result and its check-ins are made that much older."""
    with live_server.session() as session:
        record = session.get_one(Assessment, assessment_id)
        record.created_at -= timedelta(days=days)
        session.add(record)
        for checkin in session.exec(select(Checkin).where(Checkin.assessment_id == record.id)):
            checkin.created_at -= timedelta(days=days)
            session.add(checkin)
        session.commit()


def check_in(
    page: Any, answers: dict[str, Any], axe_check: Callable[..., Any] | None = None
) -> None:
    """From the result page: the check-in's link, its form, and sending it (``axe_check``:
    run on each page of the form)."""
    with page.expect_navigation():
        page.get_by_role("link", name="check in now").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Any new warning signs?"
    form = PatientForm(page)
    for _ in range(14):  # a page at a time, until it is sent (a warning sign sends it early)
        if axe_check is not None:
            axe_check(page, name=f"check-in page {page.locator('h1').inner_text()}")
        form.fill(answers)
        last = page.get_by_role("button", name="Send my check-in").count() > 0
        form.submit("Send my check-in" if last else "Continue")
        if "/checkins/" in page.url:
            return
    raise AssertionError("the check-in was never sent")


def test_check_ins_move_the_plan_on_and_a_worse_back_reaches_the_clinic(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    staff = make_staff(live_server)
    with live_server.session() as session:
        _, token = create_link(
            session,
            clinic_id=staff.clinic_id,
            label="Appt 5120",
            single_use=True,
            valid_for=timedelta(days=7),
            created_by_id=None,
        )
        session.commit()

    # The patient answers the clinic's link on their phone: the programme fits.
    patient = new_page(width=375)
    patient.goto(f"/intake/{token}")
    with patient.expect_navigation():
        patient.get_by_role("button", name="Start now").click()
    PatientForm(patient).run(SELF_CARE)
    result_path = urlsplit(patient.url).path
    assert result_path.startswith("/result/")
    assert patient.get_by_text("The programme fits").first.is_visible()
    this_week = patient.locator(".plan-week__list").inner_text()
    assert "Hip bridge: Single-leg bridge" in this_week
    with live_server.session() as session:
        assessment = session.exec(
            select(Assessment).where(Assessment.clinic_id == staff.clinic_id)
        ).one()

    # Two weeks later: the bridges were too easy on 5 days; the rest about right.
    move_back(live_server, assessment.id, 15)
    patient.goto(result_path)
    patient.get_by_role("link", name="check in now").wait_for()
    check_in(
        patient,
        checkin_answers(hip_bridge_days=5, hip_bridge_feel="too_easy", pain_now=3),
        axe_check,
    )
    axe_check(patient, name="check-in result")
    assert patient.get_by_role("heading", level=1).inner_text() == "Keep going with your plan"
    changes = patient.locator(".checkin-changes").inner_text()
    assert (
        "Hip bridge: moving on to Figure-4 bridge: you found Single-leg bridge too easy on 5 days."
        in changes
    )
    assert patient.get_by_role("table").filter(has_text="Check-in 1").is_visible()
    assert patient.evaluate("() => document.documentElement.scrollWidth") <= 375
    screenshot(patient, "checkin-result-phone")

    # Back on the result: the plan is the one the check-in left.
    with patient.expect_navigation():
        patient.get_by_role("link", name="Back to my result").click()
    assert "Hip bridge: Figure-4 bridge" in patient.locator(".plan-week__list").inner_text()
    assert (
        "The plan below is your plan from that check-in on."
        in patient.locator(".latest-checkin").inner_text()
    )

    # The clinician reviews the submission and its first check-in: nothing waits.
    clinician = new_page()
    sign_in(clinician, staff.email)
    with clinician.expect_navigation():
        queue_rows(clinician).first.get_by_role("link").click()
    with clinician.expect_navigation():
        clinician.get_by_role("button", name="Mark as reviewed").click()
    clinician.goto("/staff/")
    assert "New check-in" not in queue_rows(clinician).first.inner_text()

    # Four weeks in, the back is worse.
    move_back(live_server, assessment.id, 14)
    patient.goto(result_path)
    check_in(patient, checkin_answers(global_change="worse", pain_now=7))
    assert patient.get_by_role("heading", level=1).inner_text() == (
        "Book an appointment with a GP or physio"
    )
    assert "Your back is worse than when you started" in patient.locator("main").inner_text()
    assert patient.locator(".checkin-changes").count() == 0  # no plan to move on
    with patient.expect_navigation():
        patient.get_by_role("link", name="Back to my result").click()
    # (1.1) At see-a-doctor the plan carries on where it was, with nothing moving up.
    latest = patient.locator(".latest-checkin").inner_text()
    assert "Do not move on to harder steps" in latest
    assert "Your exercise plan is on hold" not in latest
    assert "Hip bridge: Figure-4 bridge" in patient.locator(".plan-week__list").inner_text()
    assert (
        patient.get_by_role("heading", level=1)
        .inner_text()
        .endswith("Book an appointment with a GP or physio")
    )
    axe_check(patient, name="result led by a check-in that needs a doctor")

    # The clinic's queue flags it, like a level, until the clinician has read it.
    clinician.goto("/staff/")
    row = queue_rows(clinician).first
    assert "Appt 5120" in row.inner_text()
    assert "See a doctor" in row.locator("td").first.inner_text()
    assert "Worse since starting self-management" in row.inner_text()
    assert row.locator("td").nth(5).inner_text() == "New check-in not reviewed"
    screenshot(clinician, "staff-dashboard-checkin-flag")
    with clinician.expect_navigation():
        row.get_by_role("link").click()
    assert "A check-in since then is not reviewed yet" in fact(clinician, "Reviewed")
    trend = clinician.locator("figure.trend")
    assert trend.locator("svg").is_visible()
    assert trend.locator("tbody tr").count() == 3  # the start and two check-ins
    axe_check(clinician, name="staff submission with check-ins")
    screenshot(clinician, "staff-submission-checkins")
    with clinician.expect_navigation():
        clinician.get_by_role("button", name="Mark as reviewed").click()
    clinician.goto("/staff/")
    assert "New check-in" not in queue_rows(clinician).first.inner_text()


def test_rising_pain_at_a_check_in_holds_the_plan_and_leads_the_result(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    # A self-care result with the pain at 3 at the start, made two weeks ago.
    with live_server.session() as session:
        recorded = record_assessment(
            session,
            live_server.app.state.registry.default,
            {**SELF_CARE, "pain_intensity": 3},
            channel="web",
        )
        session.commit()
    result_path = f"/result/{recorded.result_token}"
    move_back(live_server, recorded.id, 14)

    patient = new_page(width=390, height=844)
    patient.goto(result_path)
    plan_before = patient.locator(".plan-week__list").inner_text()
    assert "Hip bridge: Single-leg bridge" in plan_before

    # Pain now 9, 7 on average over the week, about the same; every block too easy every day.
    rising = checkin_answers(
        pain_now=9,
        peg_pain=7,
        peg_enjoyment=6,
        peg_activity=6,
        global_change="same",
        **{f"{block}_days": 7 for block in CHECKIN_BLOCKS},
        **{f"{block}_feel": "too_easy" for block in CHECKIN_BLOCKS},
    )
    check_in(patient, rising, axe_check)
    assert patient.get_by_role("heading", level=1).inner_text() == (
        "Book an appointment with a GP or physio"
    )
    main = patient.locator("main")
    assert "Your pain is clearly worse than when you started." in main.inner_text()
    # Nothing moves up, however easy the exercises felt.
    assert "moving on to" not in main.inner_text()
    # The safety net's two tiers: 999 first, then a GP today or 111.
    tiers = patient.locator(".safety-net__title").all_inner_texts()
    assert tiers == [
        "Call 999 or go to A&E straight away if you get any of these",
        "Speak to a GP today, or call 111, if you get any of these",
    ]
    assert patient.locator(".safety-net__signs--today li").count() >= 5
    # The chart in plain words: the start and this check-in; no "PEG" for patients.
    trend = patient.locator("figure.trend")
    assert trend.locator("tbody tr").count() == 2
    assert "how much it gets in the way" in trend.inner_text()
    assert "PEG" not in patient.content()
    # The chart's key wraps: nothing makes the page scroll sideways on a phone.
    assert patient.evaluate("() => document.documentElement.scrollWidth") <= 390
    axe_check(patient, name="check-in result: pain rising")
    screenshot(patient, "checkin-result-pain-rising-phone")

    # The result page leads with the check-in's advice, and the plan is where it was.
    with patient.expect_navigation():
        patient.get_by_role("link", name="Back to my result").click()
    title = patient.get_by_role("heading", level=1)
    assert title.inner_text().endswith(": Book an appointment with a GP or physio")
    assert title.evaluate("h => h.closest('.latest-checkin') !== null")
    latest = patient.locator(".latest-checkin")
    assert "Do not move on to harder steps" in latest.inner_text()
    assert latest.bounding_box()["y"] < patient.locator(".outcome").bounding_box()["y"]
    assert patient.locator(".plan-week__list").inner_text() == plan_before
    assert "PEG" not in patient.content()
    assert patient.evaluate("() => document.documentElement.scrollWidth") <= 390
    axe_check(patient, name="result led by a check-in with rising pain")
