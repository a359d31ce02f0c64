"""Issue 26's outcome pages at 320 × 640 and 390 × 844, axe clean: the call button first on
emergency and urgent pages (at 200% text too), "I answered by mistake" as a quiet link with a
confirmation page, see-a-doctor pages that say what happens next, check-in results that fit a
small phone, scale buttons big enough to tap, and a start page that lets everyone in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, PatientForm
from tests.browser.test_web_accessibility import (
    EMERGENCY,
    SEE_DOCTOR,
    SELF_CARE,
    URGENT,
    open_checkin_result,
    result_url,
    with_draft,
)
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO

pytestmark = pytest.mark.browser

VIEWPORTS = [{"width": 320, "height": 640}, {"width": 390, "height": 844}]
IDS = ["320x640", "390x844"]


def bigger_text(page: Any) -> None:
    """200% text, as a browser's text-size setting gives: every size is in rem."""
    page.evaluate("() => { document.documentElement.style.fontSize = '200%' }")


def call_button_first(page: Any, name: str, height: int) -> float:
    """The call button is the next thing after the page's heading, and its bottom is on the
    first screen; where its bottom is."""
    assert page.locator("h1 + .call-now .call-button").count() == 1, "not straight after the h1"
    box = page.get_by_role("link", name=name).bounding_box()
    assert box is not None
    bottom: float = box["y"] + box["height"]
    assert bottom <= height, f"the call button ends at {bottom:.0f}px, below the first screen"
    return bottom


def no_sideways_scroll(page: Any) -> None:
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= page.viewport_size["width"], f"the page is {wide}px wide"


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=IDS)
@pytest.mark.parametrize(
    ("answers", "name"), [(EMERGENCY, "Call 999"), (URGENT, "Call NHS 111")], ids=["999", "111"]
)
def test_the_call_button_comes_first_on_emergency_and_urgent_results_even_at_200_percent_text(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
    capsys: pytest.CaptureFixture[str],
    answers: dict[str, Any],
    name: str,
    viewport: dict[str, int],
) -> None:
    page = new_page(**viewport)
    page.goto(result_url(live_server, answers))
    at = call_button_first(page, name, viewport["height"])
    if answers is EMERGENCY:
        assert page.get_by_role("link", name="Find your nearest A&E").is_visible()
        assert page.get_by_text("18001 999").is_visible()
    else:
        assert page.get_by_text("18001 111").is_visible()
    no_sideways_scroll(page)
    axe_check(page)
    bigger_text(page)
    at_200 = call_button_first(page, name, viewport["height"])
    screenshot(page, f"outcome-{name[5:].replace(' ', '')}-{viewport['width']}-200pc")
    with capsys.disabled():
        print(f"\n{name} ends at {at:.0f}px, at 200% text {at_200:.0f}px ({viewport})")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=IDS)
def test_the_interim_urgent_page_has_the_call_button_and_a_resumed_interview_shows_it_first(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    viewport: dict[str, int],
) -> None:
    page = new_page(**viewport)
    with_draft(live_server, page, URGENT)  # told "speak to a doctor today", then left
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("button", name="Carry on where you left off").click()
    assert page.url.endswith("/advice?next=pain_story")
    call_button_first(page, "Call NHS 111", viewport["height"])
    axe_check(page)
    bigger_text(page)
    call_button_first(page, "Call NHS 111", viewport["height"])


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=IDS)
def test_i_answered_by_mistake_is_a_quiet_link_to_a_confirmation_and_the_new_result_says_so(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    viewport: dict[str, int],
) -> None:
    page = new_page(**viewport)
    page.goto("/")
    page.get_by_role("button", name="Start now").click()
    form = PatientForm(page)
    form.answer_page({"age": 42})
    form.answer_page({**SAFETY_ALL_NO, "saddle_numbness": True})  # meant "no"
    assert page.get_by_role("button", name="I answered by mistake").count() == 0
    link = page.get_by_role("link", name="I answered by mistake")
    call = page.get_by_role("link", name="Call 999").bounding_box()
    quiet = link.bounding_box()
    assert call is not None
    assert quiet is not None
    assert quiet["y"] > call["y"]
    with page.expect_navigation():
        link.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Did you tap an answer by mistake?"
    axe_check(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, change my answers").click()
    percent = int(page.locator("progress").get_attribute("value") or "0")
    assert 0 < percent < 50, f"the progress bar says {percent}% at the second page"
    axe_check(page)
    page.check("#saddle_numbness-no")
    form.submit()
    form.run(SELF_CARE)
    assert page.get_by_text("This result replaces your earlier one").is_visible()
    assert page.get_by_text("Get medical help now").count() >= 1  # the one it replaced, named


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=IDS)
def test_see_a_doctor_says_what_happens_next_and_its_check_in_link_works(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    viewport: dict[str, int],
) -> None:
    page = new_page(**viewport)
    page.goto(result_url(live_server, {**EXAMPLE_ANSWERS, "pregnant": True}))
    assert page.get_by_role("heading", name="What happens next").is_visible()
    main = page.locator("main").inner_text()
    assert "Body weight" not in main  # no weight contributor in pregnancy
    assert "Sitting" in main
    assert "your plan" not in main.lower()
    no_sideways_scroll(page)
    axe_check(page)
    url = page.url
    page.goto(url + "/checkin")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Check-ins start with your exercise plan"
    )
    axe_check(page)
    page.goto(result_url(live_server, SEE_DOCTOR))
    axe_check(page)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=IDS)
def test_a_check_in_result_fits_a_small_phone_names_only_what_its_chart_draws_and_says_when_to_get_help(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    viewport: dict[str, int],
) -> None:
    path = open_checkin_result(live_server)
    page = new_page(**viewport)
    page.goto(path)
    no_sideways_scroll(page)
    main = page.locator("main").inner_text()
    assert "PEG" not in main
    caption = page.locator(".trend__caption").inner_text()
    lines = page.locator(".trend__svg polyline").count()
    assert ("line" in caption) == (lines > 0), caption  # a line is named only if drawn
    assert page.locator(".safety-net__signs").count() == 2  # 999 first, then a GP today
    axe_check(page)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=IDS)
def test_scale_buttons_are_at_least_44px_and_the_start_page_lets_everyone_in(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    viewport: dict[str, int],
) -> None:
    page = new_page(**viewport)
    page.goto("/")
    assert page.get_by_role("heading", name="Who this is for").is_visible()
    assert page.get_by_text("Who this is not for").count() == 0
    no_sideways_scroll(page)
    axe_check(page)
    with_draft(live_server, page, EXAMPLE_ANSWERS)
    page.goto("/questions/pain_level")
    assert page.locator(".scale__label").count() == 33  # three 0 to 10 scales
    for box in page.locator(".scale__label").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().toJSON())"
    ):
        assert box["width"] >= 44, box
        assert box["height"] >= 44, box
    no_sideways_scroll(page)
    axe_check(page)
