"""Dark mode (a phone or computer set to dark, `prefers-color-scheme`) at 390 × 844: the patient
and staff pages take the dark palette with no script, stay axe clean, and the call button, the
error summary and the focus indicator keep their contrast (WCAG 2.2 AA: text 4.5:1, borders and
focus 3:1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_staff_journey import make_staff, queue_rows, sign_in, submission
from tests.browser.test_web_accessibility import (
    EMERGENCY,
    SEE_DOCTOR,
    SELF_CARE,
    URGENT,
    open_checkin_result,
    result_url,
    with_draft,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Contrast of two computed CSS colours (WCAG 2.x relative luminance), in the page.
CONTRAST = """([a, b]) => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = rgb(c).map(v => v / 255).map(
      v => v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


def dark_page(new_page: Callable[..., Any]) -> Any:
    return new_page(**PHONE, color_scheme="dark")


def style(page: Any, selector: str, prop: str) -> str:
    value: str = page.eval_on_selector(selector, f"e => getComputedStyle(e)['{prop}']")
    return value


def contrast(page: Any, a: str, b: str) -> float:
    ratio: float = page.evaluate(CONTRAST, [a, b])
    return ratio


def page_background(page: Any) -> str:
    return style(page, "body", "backgroundColor")


def assert_dark(page: Any) -> None:
    """The dark palette is in use: a dark page with light text (else the checks prove nothing)."""
    background = page_background(page)
    assert contrast(page, background, "rgb(0, 0, 0)") < 1.5, background
    assert contrast(page, style(page, "body", "color"), background) >= 7


def open_question(live_server: LiveServer, page: Any) -> str:
    with_draft(live_server, page, {"age": 42})
    return "/questions/emergency_signs"


PATIENT_PAGES: dict[str, Callable[[LiveServer, Any], str]] = {
    "start": lambda live_server, page: "/",
    "question": lambda live_server, page: open_question(live_server, page),
    "emergency": lambda live_server, page: result_url(live_server, EMERGENCY),
    "urgent": lambda live_server, page: result_url(live_server, URGENT),
    "see-doctor": lambda live_server, page: result_url(live_server, SEE_DOCTOR),
    "self-care": lambda live_server, page: result_url(live_server, SELF_CARE),
    "checkin-result": lambda live_server, page: open_checkin_result(live_server),
}


@pytest.mark.parametrize("name", list(PATIENT_PAGES))
def test_patient_pages_in_dark_mode_pass_axe(
    name: str,
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = dark_page(new_page)
    page.goto(PATIENT_PAGES[name](live_server, page))
    assert_dark(page)
    if name == "self-care":
        assert page.locator(".plan-title").count() == 1, "the self-care result with its plan"
        # The exercise drawings have dark strokes: they keep their light card.
        image = page.locator(".exercise__image").first
        card = image.evaluate("e => getComputedStyle(e).backgroundColor")
        assert contrast(page, card, "rgb(29, 43, 54)") >= 4.5  # the drawings' ink, #1d2b36
    if name == "checkin-result":
        # The trend's key names its marks' colours, so it is drawn as in light, on a light card.
        card = style(page, ".trend__svg", "backgroundColor")
        assert contrast(page, card, "rgb(11, 12, 12)") >= 7, card
    axe_check(page, name=f"{name} (dark)")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"dark-{name}-390")


def test_staff_queue_and_submission_in_dark_mode_pass_axe(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    staff = make_staff(live_server)
    for answers, reference in ((SELF_CARE, "Dark 1"), (URGENT, "Dark 2"), (EMERGENCY, "Dark 3")):
        submission(live_server, staff, answers, reference)
    page = dark_page(new_page)
    sign_in(page, staff.email)
    assert_dark(page)
    axe_check(page, name="staff queue (dark)")
    # Emergency and urgent rows stay apart: their level colours differ, each readable.
    background = page_background(page)
    emergency = style(page, ".level-tag--emergency", "color")
    urgent = style(page, ".level-tag--urgent", "color")
    assert emergency != urgent
    assert contrast(page, emergency, background) >= 4.5
    assert contrast(page, urgent, background) >= 4.5
    screenshot(page, "dark-staff-queue-390")
    with page.expect_navigation():
        queue_rows(page).first.get_by_role("link").click()
    assert_dark(page)
    axe_check(page, name="staff submission (dark)")
    screenshot(page, "dark-staff-submission-390")


@pytest.mark.parametrize("answers", [EMERGENCY, URGENT], ids=["emergency", "urgent"])
def test_the_call_button_keeps_its_contrast_and_alarm_in_dark_mode(
    new_page: Callable[..., Any], live_server: LiveServer, answers: dict[str, Any]
) -> None:
    page = dark_page(new_page)
    page.goto(result_url(live_server, answers))
    assert_dark(page)
    button = ".call-button"
    fill = style(page, button, "backgroundColor")
    words = style(page, button, "color")
    edge = style(page, button, "borderTopColor")
    background = page_background(page)
    assert contrast(page, words, fill) >= 4.5, (words, fill)
    # Its edge stands out from the page (a deep red or orange fill alone would not, 2.7:1).
    assert contrast(page, edge, background) >= 3, (edge, background)
    red, green, blue = (int(v) for v in fill[4:-1].split(", "))
    assert red > 2 * green, f"the call button no longer reads as alarm: {fill}"
    assert red > 2 * blue, f"the call button no longer reads as alarm: {fill}"
    # The level's own colour on its panel, for the tag and the border.
    tag = style(page, ".outcome__tag", "color")
    panel = style(page, ".outcome", "backgroundColor")
    assert contrast(page, tag, panel) >= 4.5
    # Keyboard focus: the yellow focus style, with dark words, against the dark page.
    page.focus(button)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    focused = style(page, button, "backgroundColor")
    assert focused == "rgb(255, 210, 63)", focused
    assert contrast(page, focused, background) >= 3
    assert contrast(page, style(page, button, "color"), focused) >= 4.5


def test_the_emergency_and_urgent_colours_stay_distinct_in_dark_mode(
    new_page: Callable[..., Any], live_server: LiveServer
) -> None:
    page = dark_page(new_page)
    seen = {}
    for level, answers in (("emergency", EMERGENCY), ("urgent", URGENT)):
        page.goto(result_url(live_server, answers))
        seen[level] = (
            style(page, ".outcome", "borderLeftColor"),
            style(page, ".call-button", "backgroundColor"),
        )
    assert seen["emergency"][0] != seen["urgent"][0]
    assert seen["emergency"][1] != seen["urgent"][1]


def test_the_error_summary_keeps_its_contrast_in_dark_mode(
    new_page: Callable[..., Any], live_server: LiveServer, axe_check: Callable[..., Any]
) -> None:
    page = dark_page(new_page)
    with_draft(live_server, page, {"age": 42})
    page.goto("/questions/emergency_signs")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()  # nothing answered
    assert page.locator(".error-summary").is_visible()
    assert_dark(page)
    background = page_background(page)
    link = style(page, ".error-summary__list a", "color")
    border = style(page, ".error-summary", "borderTopColor")
    title = style(page, ".error-summary__title", "color")
    message = style(page, ".error-message", "color")
    assert contrast(page, link, background) >= 4.5, link
    assert contrast(page, message, background) >= 4.5, message
    assert contrast(page, title, background) >= 4.5, title
    assert contrast(page, border, background) >= 3, border
    axe_check(page, name="error summary (dark)")
