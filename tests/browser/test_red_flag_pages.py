"""The red-flag pages in a real browser on small phones (issue 26): every emergency sign on the
first warning-sign page, 2 taps (its answer, Continue) from the emergency advice; the other
signs at most 4 to a page; a missed answer's error summary on the first screen; axe clean."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, PatientForm
from tests.browser.test_web_accessibility import SELF_CARE, result_url, with_draft
from tests.fixtures import SAFETY_ALL_NO, checkin_answers

pytestmark = pytest.mark.browser

SIZES = [{"width": 320, "height": 640}, {"width": 390, "height": 844}]
AUDIT_PAGES = [
    ("/questions/emergency_signs", "Signs to check first", 8),
    ("/questions/warning_signs", "Other warning signs", 4),
    ("/questions/back_and_legs", "Your back, legs and tummy", 4),
    ("/questions/health_history", "Your health", 4),
]
CHECKIN_PAGES = [
    ("Any new warning signs?", 7),
    ("Your legs, and falls", 3),
    ("Other warning signs", 4),
    ("Your back, and pregnancy", 3),
]


def fits(page: Any, size: dict[str, int]) -> None:
    """One h1, no sideways scrolling."""
    assert page.locator("h1").count() == 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= size["width"]


def questions_on(page: Any) -> int:
    names = page.eval_on_selector_all(
        "main form[method=post] input[type=radio]", "els => els.map(e => e.name)"
    )
    return len(set(names))


def error_summary(page: Any, size: dict[str, int]) -> list[str]:
    """The error summary's links, after checking it is on the first screen."""
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    box = summary.bounding_box()
    assert box is not None
    assert box["y"] < size["height"]
    links: list[str] = page.eval_on_selector_all(
        ".error-summary__list a", "els => els.map(e => e.getAttribute('href'))"
    )
    return links


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s['width']}x{s['height']}")
def test_each_audit_warning_sign_page_is_short_and_an_emergency_sign_is_two_taps_away(
    size: dict[str, int],
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(**size)
    with_draft(live_server, page, {"age": 42})  # the age page comes first
    page.goto(AUDIT_PAGES[0][0])
    fits(page, size)
    # Sent with nothing answered: every question of the page in the error summary, 8 at most.
    PatientForm(page).submit()
    links = error_summary(page, size)
    assert len(links) == 8
    axe_check(page, name=f"emergency signs, error summary, {size['width']}px")
    screenshot(page, f"red-flags-error-{size['width']}")
    # The last emergency sign on the page: its answer and Continue, and the advice is there.
    page.check("#serious_accident-last_6_weeks")
    PatientForm(page).submit()
    assert page.get_by_role("heading", level=1).inner_text() == "Get medical help now"
    assert page.get_by_role("link", name="Call 999").is_visible()

    # No sign: each page in turn, no more than its questions and a Continue.
    page = new_page(**size)
    with_draft(live_server, page, {"age": 42})
    page.goto(AUDIT_PAGES[0][0])
    for path, title, count in AUDIT_PAGES:
        assert page.url.endswith(path)
        assert page.get_by_role("heading", level=1).inner_text() == title
        assert questions_on(page) == count
        fits(page, size)
        axe_check(page, name=f"{title} at {size['width']}px")
        screenshot(page, f"red-flags-{path.rsplit('/', 1)[-1]}-{size['width']}")
        PatientForm(page).answer_page(SAFETY_ALL_NO)
    assert page.url.endswith("/questions/pain_story")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s['width']}x{s['height']}")
def test_each_check_in_warning_sign_page_is_short_and_an_emergency_sign_is_two_taps_away(
    size: dict[str, int],
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    url = result_url(live_server, SELF_CARE)
    page = new_page(**size)
    page.goto(f"{url}/checkin")
    PatientForm(page).submit()
    links = error_summary(page, size)
    assert len(links) == 7  # it was 17: every sign on one page
    axe_check(page, name=f"check-in warning signs, error summary, {size['width']}px")
    page.check("#walking_difficulty")
    PatientForm(page).submit()
    assert page.get_by_role("heading", level=1).inner_text() == "Get medical help now"

    page = new_page(**size)
    page.goto(f"{url}/checkin")
    for number, (title, count) in enumerate(CHECKIN_PAGES, start=1):
        assert page.get_by_role("heading", level=1).inner_text() == title
        assert re.search(rf"page {number} of \d+", page.locator("main").inner_text(), re.I)
        assert questions_on(page) == count
        fits(page, size)
        axe_check(page, name=f"check-in: {title} at {size['width']}px")
        screenshot(page, f"checkin-red-flags-{number}-{size['width']}")
        PatientForm(page).answer_page(checkin_answers())
    assert page.get_by_role("heading", level=1).inner_text() == "Pain and daily life"
