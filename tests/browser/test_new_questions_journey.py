"""Questionnaire 2.1.0's new questions in a real browser, on a phone (390 × 844) and, for the
result, a desktop too: the pain lately page, the two scales of how much pain gets in the way,
the spine operation page; joint replacements and hip movements before exercising, and the
plan they leave; walking difficulty as an emergency that stops the questions at once. axe-core
on every new page (no serious or critical problems)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import DESKTOP, LiveServer, PatientForm
from tests.browser.test_web_accessibility import result_url, with_draft
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
MOVEMENT = (
    "joint_problems", "falls_or_unsteady", "hypermobile", "hip_replacement", "hip_precautions",
    "knee_replacement", "squat_check", "bridge_check", "hang_check", "sides_differ",
)  # fmt: skip

# 58, back pain for the first time, for more than 3 months, that comes and goes; no one has
# checked it; a spine operation in the last 3 months, but the pain is moderate (4) and not worse
# or bad at night. The hip answers are never asked: the person should see a doctor first.
OVER_50 = {
    **EXAMPLE_ANSWERS,
    "age": 58,
    "first_episode": True,
    "pain_duration": "over_12_weeks",
    "pain_trend": "up_and_down",
    "recent_flare": False,
    "seen_about_this_pain": False,
    "pain_intensity": 4,
    "peg_enjoyment": 6,
    "peg_activity": 5,
    "spine_diagnosis": ["spine_surgery"],
    "spine_procedure_recent": True,
    "began_before_45": False,
    "joint_problems": ["hip"],
    "hip_replacement": "under_12_weeks",
    "hip_precautions": True,
    "hypermobile": True,
}
NEW_PAIN_OVER_50 = (
    "Back pain that is new for you after the age of 50, and is recent or not getting better,"
    " should be checked by a doctor before you start."
)
# 45, not the first time, more than 3 months, comes and goes, no one has checked it: self-care.
# A hip replaced 6 weeks ago with movements to avoid, a shoulder problem, hypermobile joints.
NEW_HIP = {
    **{k: v for k, v in EXAMPLE_ANSWERS.items() if k != "hang_check"},
    "age": 45,
    "pain_duration": "over_12_weeks",
    "pain_trend": "up_and_down",
    "recent_flare": False,
    "seen_about_this_pain": False,
    "began_before_45": False,
    "joint_problems": ["hip", "shoulder"],
    "hip_replacement": "under_12_weeks",
    "hip_precautions": True,
    "hypermobile": True,
}
# The steps that bend, cross or turn a new hip (and the frog, with any hip problem).
HIP_STEPS = (
    "Foot-on-step hip turns", "Seated hip drops", "Frog rock", "Standing hip rotation",
    "Figure-4 bridge", "Assisted squat", "Squat hold", "Squat weight shifts", "Squat knee drops",
)  # fmt: skip


def start(page: Any) -> None:
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("button", name="Start now").click()


def path_of(page: Any) -> str:
    path: str = urlsplit(page.url).path
    return path


def resume_at(live_server: LiveServer, page: Any, answers: dict[str, Any], page_id: str) -> None:
    """Carry on a draft whose answers go up to ``page_id``: the pages before it, which other
    journeys walk, need not be walked again."""
    sections = live_server.app.state.registry.default.sections
    pages = [p for section in sections for p in section.pages]
    before = pages[: next(i for i, p in enumerate(pages) if p.id == page_id)]
    asked = {q.id for p in before for q in p.questions}
    with_draft(live_server, page, {k: v for k, v in answers.items() if k in asked})
    page.goto(f"/questions/{page_id}")
    assert path_of(page) == f"/questions/{page_id}", page.url


def answer_until(form: PatientForm, answers: dict[str, Any], page_id: str) -> None:
    """Answer the pages up to ``page_id`` (not it)."""
    form.run(answers, until=f"/questions/{page_id}")
    assert path_of(form.page) == f"/questions/{page_id}", form.page.url


def test_over_50_first_episode_walks_the_new_pain_pages_to_see_a_doctor(
    new_page: Callable[..., Any], live_server: LiveServer, axe_check: Callable[..., Any]
) -> None:
    page = new_page(**PHONE_390)
    resume_at(live_server, page, OVER_50, "pain_story")
    form = PatientForm(page)

    # More than 3 months: both questions about the pain lately.
    answer_until(form, OVER_50, "pain_course")
    assert page.get_by_role("heading", level=1).inner_text() == "Your pain lately"
    assert page.get_by_role("group", name="In the last 6 weeks, has your pain suddenly").count()
    assert page.get_by_role("group", name="Has a GP or physiotherapist checked this").count()
    axe_check(page, name="pain lately")
    form.submit()  # nothing chosen: both questions are required
    assert page.title().startswith("Error: ")
    assert page.locator(".error-summary a").count() == 2
    form.answer_page(OVER_50)

    # The pain, then how much it gets in the way: three scales on one page.
    assert path_of(page) == "/questions/pain_level"
    assert page.locator(".scale").count() == 3
    form.answer_page(OVER_50)

    answer_until(form, OVER_50, "spine_operation")
    # One question on the page: it is the page's heading.
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Was your spine operation in the last 3 months?"
    )
    axe_check(page, name="spine operation")
    visited = form.run(OVER_50)

    assert "/questions/pain_began" in visited
    assert "/questions/pain_pattern" not in visited  # it began at 45 or later
    # Not self-care: nothing is asked about joints or movement.
    assert not any(p.endswith(("/joints_and_balance", "/joint_replacement")) for p in visited)
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Book an appointment before you start"
    )
    reasons = page.locator("ul.reasons").first.inner_text()
    assert NEW_PAIN_OVER_50 in reasons
    assert "You have a spine condition or have had spine surgery." in reasons
    # A recent operation alone, with moderate pain that comes and goes, is not urgent.
    assert page.locator(".reasons--also").count() == 0
    assert "keep moving" in page.locator("main").inner_text().lower()
    assert page.get_by_role("heading", name="Your exercise plan").count() == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_390["width"]
    axe_check(page, name="see-a-doctor result, new pain over 50")
    page.set_viewport_size(DESKTOP)
    axe_check(page, name="see-a-doctor result, new pain over 50, desktop")


def test_a_recent_hip_replacement_leaves_the_hip_steps_out_of_the_plan(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(**PHONE_390)
    resume_at(live_server, page, NEW_HIP, "joints_and_balance")  # every answer before it given
    form = PatientForm(page)

    assert page.get_by_text("Have you been told you have hypermobile joints").is_visible()
    form.answer_page(NEW_HIP)
    assert path_of(page) == "/questions/joint_replacement"
    # The hip only (no knee problem), so its question is the page's heading.
    assert page.get_by_role("heading", level=1).inner_text() == "Have you had a hip replacement?"
    assert page.get_by_label("Yes, in the last 3 months").count() == 1
    axe_check(page, name="joint replacements")
    form.answer_page(NEW_HIP)
    assert path_of(page) == "/questions/hip_movements"
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Did your surgeon or physiotherapist tell you to avoid some hip movements?"
    )
    assert page.get_by_text("crossing your legs").is_visible()  # the hint
    axe_check(page, name="hip movements")
    form.submit()
    assert "Select yes or no" in page.locator(".error-summary").inner_text()
    axe_check(page, name="hip movements with an error")
    visited = form.run(NEW_HIP)
    assert "/questions/hang" not in visited  # a shoulder problem: no hang check

    assert page.get_by_role("heading", level=1).inner_text() == "You can start the programme"
    main = page.locator("main")
    advice = page.locator(".plan-advice").inner_text()
    assert "We left out Hip rotation, Squat mobility" in advice
    assert "Ask your surgical team or physio" in advice
    assert "no one has checked it yet" in advice  # more than 3 months, never checked
    # The hip steps are nowhere in the plan; the bridge stays on two legs or one.
    assert page.locator(".optional-blocks").count() == 0  # three blocks left: all in focus
    plan = page.locator(".plan-blocks").inner_text()
    for step in HIP_STEPS:
        assert step not in plan, step
    assert page.locator("#exercise-hip_rotation").count() == 0
    assert page.locator("#exercise-squat_mobility").count() == 0
    assert "Stop before the end of your range" in main.inner_text()  # hypermobile

    # The upper back starts sitting down, with its picture (loaded when it is opened).
    upper = page.locator("section.exercise", has=page.locator("#exercise-thoracic_lats"))
    assert "Start with step 2 of 2: Seated twist" in upper.inner_text()  # no hangs (shoulder)
    assert "We left out 4 steps of this exercise" in upper.inner_text()
    assert "Upper back and side stretch: Seated twist" in page.locator(".plan-week").inner_text()
    upper.locator(".exercise__more > summary").click()
    picture = upper.locator("img.exercise__image").first
    assert "/exercises/thoracic_lats-seated_twist." in picture.get_attribute("src")
    assert picture.get_attribute("alt")
    picture.scroll_into_view_if_needed()
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=picture.element_handle())
    assert upper.locator("img.exercise__image").count() == 1  # no side stretch (shoulder)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_390["width"]
    axe_check(page, name="self-care result after a hip replacement")
    screenshot(page, "result-hip-replacement-phone")


def test_walking_difficulty_stops_the_questions_before_the_health_questions(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(**PHONE_390)
    start(page)
    visited = PatientForm(page).run(
        {**SAFETY_ALL_NO, "walking_difficulty": True, "cancer_history": True}
    )

    # Straight from the walking question to the result: the cancer question is never reached.
    assert visited[-2:] == ["/questions/emergency_signs", path_of(page)]
    assert path_of(page).startswith("/result/")
    assert page.get_by_role("heading", level=1).inner_text() == "Get medical help now"
    call = page.get_by_role("link", name="Call 999")
    assert call.get_attribute("href") == "tel:999"
    box = call.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= PHONE_390["height"], "the call button is below the fold"
    reasons = page.locator("ul.reasons").first.inner_text()
    assert "New unsteadiness, clumsiness or heavy legs when you walk" in reasons
    assert "If you have ever had cancer" not in page.locator("main").inner_text()
    assert page.locator(".reasons--also").count() == 0
    axe_check(page, name="emergency result, walking difficulty")
    screenshot(page, "result-emergency-walking-phone")


@pytest.mark.parametrize("viewport", [PHONE_390, DESKTOP], ids=["phone", "desktop"])
def test_every_safety_answer_sent_at_once_is_told_also_tell_them_about(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    viewport: dict[str, int],
) -> None:
    # As an API client sends them: every safety answer at once, past the emergency sign too.
    page = new_page(**viewport)
    page.goto(
        result_url(
            live_server, {**SAFETY_ALL_NO, "walking_difficulty": True, "cancer_history": True}
        )
    )

    assert page.get_by_role("heading", level=1).inner_text() == "Get medical help now"
    assert page.get_by_role("link", name="Call 999").get_attribute("href") == "tel:999"
    emergency = page.locator("ul.reasons").first.inner_text()
    assert "New unsteadiness, clumsiness or heavy legs" in emergency
    assert "something is pressing on your spinal cord" in emergency  # cancer and walking
    also = page.get_by_role("heading", name="Also tell them about")
    assert also.is_visible()
    told = page.locator(".reasons--also").inner_text()
    assert "If you have ever had cancer, back pain that is new" in told
    # The emergency's reasons come first.
    assert page.locator("ul.reasons").first.bounding_box()["y"] < also.bounding_box()["y"]
    # No habits on an emergency page.
    assert page.locator("#contributors").count() == 0
    axe_check(page, name="emergency result with 'also tell them about'")
