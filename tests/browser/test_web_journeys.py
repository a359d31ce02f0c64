"""The patient form in a real browser: whole journeys, back links, changes, errors, and the
same journey with JavaScript turned off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from app.models import Assessment
from app.security import hash_token
from tests.browser.conftest import LiveServer, PatientForm
from tests.fixtures import EXAMPLE_ANSWERS

pytestmark = pytest.mark.browser

SELF_CARE = dict(EXAMPLE_ANSWERS)


def start(page: Any) -> None:
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("button", name="Start now").click()


def stored(live_server: LiveServer, page: Any) -> Assessment:
    token = page.url.rsplit("/", 1)[-1]
    with live_server.session() as session:
        record = session.exec(
            select(Assessment).where(Assessment.result_token_hash == hash_token(token))
        ).first()
    assert record is not None
    return record


def test_a_self_care_journey_ends_with_an_exercise_plan(
    new_page: Callable[..., Any], live_server: LiveServer
) -> None:
    page = new_page(width=375)
    start(page)
    PatientForm(page).run(SELF_CARE)

    assert page.get_by_role("heading", level=1).inner_text() == "You can start the programme"
    assert page.get_by_role("heading", name="Your exercise plan").is_visible()
    images = page.locator("img.exercise__image")
    assert images.count() >= 5
    # Each picture is folded away with "How to do it", and loads when that is opened.
    summaries = page.locator(".exercise__more > summary")
    for i in range(summaries.count()):
        if summaries.nth(i).is_visible():
            summaries.nth(i).click()
    page.get_by_text("extra exercises, if you have time").click()
    for i in range(summaries.count()):
        if summaries.nth(i).is_visible() and not summaries.nth(i).evaluate(
            "s => s.parentElement.open"
        ):
            summaries.nth(i).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.exercise__image')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.get_by_text("See a GP if your back pain is not clearly better").is_visible()
    # The print button is an enhancement: script shows it.
    assert page.get_by_role("button", name="Print this page").is_visible()
    record = stored(live_server, page)
    assert record.channel == "web"
    assert record.triage_level == "self_care"


def test_an_emergency_sign_stops_the_questions_at_once(page: Any, live_server: LiveServer) -> None:
    start(page)
    form = PatientForm(page)
    form.answer_page({"age": 42})
    form.answer_page(
        {
            "saddle_numbness": False,
            "bladder_change": True,
            "bowel_change": False,
            "sexual_function_change": False,
        }
    )

    assert "/result/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Get medical help now"
    assert page.get_by_text("Emergency", exact=True).is_visible()
    assert page.get_by_role("heading", name="What to do now").is_visible()
    # The warning signs to act on are on every result, this one too.
    assert page.get_by_role("heading", name="When to get help").is_visible()
    assert page.get_by_text(
        "New difficulty walking, or legs that feel heavy or clumsy."
    ).is_visible()
    assert stored(live_server, page).triage_level == "emergency"


def test_the_movement_checks_show_their_pictures(page: Any) -> None:
    start(page)
    form = PatientForm(page)
    for check, image in (("squat", "check-squat.svg"), ("bridge", "check-bridge.svg")):
        form.run(SELF_CARE, until=f"/questions/{check}")
        picture = page.locator("img.question-image")
        assert picture.get_attribute("src") == f"/static/exercises/{image}"
        assert picture.get_attribute("alt")
        assert picture.evaluate("i => i.complete && i.naturalWidth > 0")
        assert picture.is_visible()


def test_see_a_doctor_and_stop_early(page: Any, live_server: LiveServer) -> None:
    start(page)
    # (2.1) Pregnancy: a see-a-doctor sign from the safety screen. (An infection risk is now
    # urgent unless the pain is long-standing and stable, and the pain is not asked yet here.)
    visited = PatientForm(page).run({**SELF_CARE, "pregnant": True}, on_advice="stop")

    assert any(p.endswith("/advice") for p in visited)
    assert (
        page.get_by_role("heading", level=1).inner_text() == "Book an appointment before you start"
    )
    assert page.get_by_text("You stopped before the end").is_visible()
    record = stored(live_server, page)
    assert not record.complete
    assert record.result["plan"] is None


def test_see_a_doctor_and_finish_the_questions(page: Any, live_server: LiveServer) -> None:
    start(page)
    visited = PatientForm(page).run(
        {**SELF_CARE, "leg_pain": "below_knee", "leg_pain_worse_than_back": True}
    )

    assert any(p.endswith("/questions/leg_compared") for p in visited)
    assert not any(p.endswith("/questions/squat") for p in visited)
    assert page.get_by_role(
        "heading", name="Habits linked with back pain, and what may help"
    ).is_visible()
    assert page.get_by_role("heading", name="Your exercise plan").count() == 0
    assert stored(live_server, page).complete


def test_back_links_keep_the_answers(page: Any) -> None:
    start(page)
    form = PatientForm(page)
    assert page.url.endswith("/questions/about_you")
    page.fill("input[name=age]", "37")
    form.submit()
    form.answer_page(SELF_CARE)
    assert page.url.endswith("/questions/warning_signs")

    with page.expect_navigation():
        page.get_by_role("link", name="Back", exact=True).click()
    assert page.url.endswith("/questions/emergency_signs")
    assert page.is_checked("#sexual_function_change-no")
    with page.expect_navigation():
        page.get_by_role("link", name="Back", exact=True).click()
    assert page.url.endswith("/questions/about_you")
    assert page.input_value("input[name=age]") == "37"


def test_changing_an_answer_from_check_answers(page: Any) -> None:
    start(page)
    form = PatientForm(page)
    form.run(SELF_CARE, until="/check")

    with page.expect_navigation():
        page.get_by_role(
            "link", name="Change your answer to: Do you know your height and weight?"
        ).click()
    back = "/check?row=knows_height_weight&was=self_care#row-knows_height_weight"
    assert page.get_by_role("link", name="Back", exact=True).get_attribute("href") == back
    page.check("#knows_height_weight-no")
    form.submit("Save and go back")
    # The newly needed question, on the way back to the changed row.
    assert page.url.endswith(
        "/questions/weight_rating?change=1&row=knows_height_weight&was=self_care"
    )
    form.fill({"weight_self_rating": "a_bit_over"})
    form.submit("Save and go back")
    assert page.url.endswith("/check?row=knows_height_weight&was=self_care#row-knows_height_weight")
    assert page.evaluate("() => document.activeElement.id") == "row-knows_height_weight"
    assert page.get_by_text("A bit overweight").is_visible()
    assert page.get_by_text("175 cm").count() == 0  # the hidden answers are gone


def test_validation_errors_link_to_their_fields(page: Any) -> None:
    start(page)
    form = PatientForm(page)
    form.answer_page({"age": 42})
    form.submit()

    assert page.title().startswith("Error: ")
    summary = page.locator(".error-summary")
    assert summary.get_by_role("heading", name="There is a problem").is_visible()
    assert page.evaluate("() => document.activeElement.classList.contains('error-summary')")
    summary.get_by_role("link").nth(1).click()
    assert page.evaluate("() => document.activeElement.id") == "bladder_change"
    message = page.locator("#bladder_change-error").text_content() or ""
    assert " ".join(message.split()) == "Error: Select yes or no"


def test_height_in_feet_and_inches(page: Any) -> None:
    start(page)
    form = PatientForm(page)
    form.run(SELF_CARE, until="/questions/height_weight")
    with page.expect_navigation():
        page.get_by_role("link", name="Enter your height in feet and inches instead").click()
    page.fill("#height_cm-feet", "5")
    page.fill("#height_cm-inches", "13")
    page.fill("#weight_kg", "80")
    form.submit()
    assert page.locator("#height_cm-inches").input_value() == "13"
    assert "Enter inches as a number from 0 to 11" in page.locator(".error-summary").inner_text()
    page.fill("#height_cm-inches", "9")
    form.submit()
    assert page.url.endswith("/questions/activity")


def test_the_whole_form_works_without_javascript(
    new_page: Callable[..., Any], live_server: LiveServer
) -> None:
    page = new_page(width=320, java_script_enabled=False)
    start(page)
    form = PatientForm(page)
    form.submit()  # an error first: the summary works without script too
    assert page.locator(".error-summary").is_visible()
    form.run({**SELF_CARE, "spine_diagnosis": ["none"]})

    assert page.get_by_role("heading", name="Your exercise plan").is_visible()
    assert not page.get_by_role("button", name="Print this page").is_visible()
    # Nothing is wider than a 320px screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    assert stored(live_server, page).complete


def test_delete_a_result(page: Any, live_server: LiveServer) -> None:
    start(page)
    form = PatientForm(page)
    form.answer_page({"age": 42})
    form.answer_page(
        {
            "saddle_numbness": True,
            "bladder_change": False,
            "bowel_change": False,
            "sexual_function_change": False,
        }
    )
    result_url = page.url
    with page.expect_navigation():
        page.get_by_role("link", name="Delete my answers and result").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, delete it").click()
    assert page.get_by_role("heading", name="Your result has been deleted").is_visible()
    response = page.goto(result_url)
    assert response is not None
    assert response.status == 404
