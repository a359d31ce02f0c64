"""The interview's own pages in a real browser, at a phone's width and on a desktop: the pain
scales on one row, the told-now advice page, returning to a changed answer, and correcting a
mis-tapped emergency answer. axe-core on each (no serious or critical problems)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from app.models import Assessment
from app.security import hash_token
from app.services import drafts
from tests.browser.conftest import DESKTOP, SMALL_PHONE, LiveServer, PatientForm
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO

pytestmark = pytest.mark.browser

PHONE_390 = 390
BEFORE_PAIN_LEVEL = {
    **SAFETY_ALL_NO,
    "pain_duration": "over_12_weeks",
    "first_episode": False,
    "onset": "gradual",
    "pain_trend": "same",
    "recent_flare": False,  # (2.1) the pain_course page comes before the pain level
    "seen_about_this_pain": True,
}


def with_draft(live_server: LiveServer, page: Any, answers: dict[str, Any]) -> None:
    q = live_server.app.state.registry.default
    with live_server.session() as session:
        draft, token = drafts.start_draft(session, questionnaire_id=q.id, channel="web")
        drafts.save_answers(session, draft, answers)
        session.commit()
    page.context.add_cookies([{"name": "ba_draft", "value": token, "url": live_server.url}])


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, selector
    return dict(found)


# (2.1) The pain level page has three scales: the pain, then how much it got in the way of
# enjoying life and of daily activities; each has the words for its own 0 and 10.
SCALES = {
    "pain_intensity": ("0: no pain", "10: worst pain"),
    "peg_enjoyment": ("0: not at all", "10: completely"),
    "peg_activity": ("0: not at all", "10: completely"),
}


@pytest.mark.parametrize("width", [SMALL_PHONE["width"], PHONE_390, DESKTOP["width"]])
def test_the_pain_scales_read_0_to_10_in_rows_with_44px_targets_and_words_under_them(
    width: int,
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(width=width)
    with_draft(live_server, page, BEFORE_PAIN_LEVEL)
    page.goto("/questions/pain_level")

    assert page.locator(".scale").count() == len(SCALES)
    for question, (low_words, high_words) in SCALES.items():
        scale = page.locator(f"#{question}-fieldset")
        labels = scale.locator(".scale__label")
        assert labels.count() == 11, question
        boxes = [labels.nth(i).bounding_box() for i in range(11)]
        rows = sorted({round(b["y"]) for b in boxes})
        # Eleven 44px targets (WCAG 2.5.5, issue 26) fit one row from 620px; a phone has two,
        # 0 to 5 and 6 to 10, each read left to right.
        assert len(rows) == (1 if width >= 620 else 2), f"{question}: rows {rows}"
        assert [round(b["y"]) for b in boxes] == sorted(round(b["y"]) for b in boxes)
        assert all(b["width"] >= 44 and b["height"] >= 44 for b in boxes)

        low, high = scale.locator(".scale__ends span").all()
        assert " ".join(low.inner_text().split()) == low_words
        assert " ".join(high.inner_text().split()) == high_words
        low_box, high_box = low.bounding_box(), high.bounding_box()
        # Under 0: starting where 0 starts; under 10: ending where 10 ends; below the row.
        assert abs(low_box["x"] - boxes[0]["x"]) <= 1
        if len(rows) == 1:
            right = boxes[10]["x"] + boxes[10]["width"]
            assert abs((high_box["x"] + high_box["width"]) - right) <= 1
        assert low_box["y"] >= boxes[10]["y"] + boxes[10]["height"]

        labels.nth(10).scroll_into_view_if_needed()
        ten = labels.nth(10).bounding_box()  # the box can be tapped (the radio lies over it)
        page.mouse.click(ten["x"] + ten["width"] / 2, ten["y"] + ten["height"] / 2)
        assert page.is_checked(f"#{question}-10")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    axe_check(page, name=f"pain scales at {width}px")
    screenshot(page, f"question-scale-{width}")


WIDTHS = [PHONE_390, DESKTOP["width"]]
SELF_CARE = dict(EXAMPLE_ANSWERS)


def start(page: Any) -> None:
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("button", name="Start now").click()


def record_of(live_server: LiveServer, url: str) -> Assessment:
    token = urlsplit(url).path.rsplit("/", 1)[-1]
    with live_server.session() as session:
        found = session.exec(
            select(Assessment).where(Assessment.result_token_hash == hash_token(token))
        ).first()
    assert found is not None
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_a_mis_tapped_emergency_answer_is_corrected_and_replaces_the_stored_result(
    width: int,
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(width=width)
    start(page)
    form = PatientForm(page)
    form.answer_page({"age": 42})
    form.answer_page({**SAFETY_ALL_NO, "saddle_numbness": True})  # meant "no"
    assert page.get_by_role("heading", level=1).inner_text() == "Get medical help now"
    emergency_url = page.url
    emergency = record_of(live_server, emergency_url)
    axe_check(page, name=f"emergency result with a way back at {width}px")
    screenshot(page, f"result-emergency-correct-{width}")

    with page.expect_navigation():
        page.get_by_role("link", name="I answered by mistake").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, change my answers").click()
    assert (
        urlsplit(page.url).path
        == urlsplit(emergency_url).path + "/change/questions/emergency_signs"
    )
    assert page.get_by_text("You are changing your answers").is_visible()
    assert page.is_checked("#saddle_numbness")  # every answer kept, the mistake too
    assert page.is_checked("#bladder_change-no")
    axe_check(page, name=f"changing answers at {width}px")
    screenshot(page, f"question-correcting-{width}")

    page.check("#saddle_numbness-no")
    form.submit()
    form.run(SELF_CARE)
    assert page.get_by_role("heading", level=1).inner_text() == "You can start the programme"
    corrected = record_of(live_server, page.url)

    with live_server.session() as session:
        old = session.get(Assessment, emergency.id)
    assert old is not None  # the emergency record is kept, for the audit trail
    assert old.triage_level == "emergency"
    assert old.replaced_by_id == corrected.id
    # The old private link now shows the new result.
    page.goto(emergency_url)
    assert page.get_by_role("heading", level=1).inner_text() == "You can start the programme"
    assert page.get_by_role("link", name="I answered by mistake").count() == 0


@pytest.mark.parametrize("width", WIDTHS)
def test_the_told_now_page_leads_with_speaking_to_a_doctor_today(
    width: int,
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(width=width)
    start(page)
    PatientForm(page).run({**SELF_CARE, "fever": True}, until="/advice")

    primary = page.locator("main .button").first
    assert primary.inner_text() == "Speak to a doctor today: see what to do"
    assert "button--secondary" not in (primary.get_attribute("class") or "")
    going_on = page.get_by_role("button", name="Answer the rest of the questions")
    assert "button--secondary" in (going_on.get_attribute("class") or "")
    assert primary.bounding_box()["y"] < going_on.bounding_box()["y"]
    axe_check(page, name=f"advice at {width}px")
    screenshot(page, f"advice-urgent-{width}")

    with page.expect_navigation():
        page.get_by_role("link", name="Back", exact=True).click()
    assert page.url.endswith("/questions/health_history")
    page.go_back()
    with page.expect_navigation():
        primary.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Speak to a doctor today"
    assert record_of(live_server, page.url).triage_level == "urgent"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_change_from_check_answers_comes_back_to_its_row_and_says_the_outcome_changed(
    width: int,
    new_page: Callable[..., Any],
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(width=width)
    start(page)
    form = PatientForm(page)
    form.run(SELF_CARE, until="/check")

    with page.expect_navigation():
        page.get_by_role(
            "link", name="Change your answer to: Do you have a high temperature"
        ).click()
    page.check("#fever")
    form.submit("Save and go back")
    assert urlsplit(page.url).path == "/check"
    assert urlsplit(page.url).fragment == "row-fever"
    assert page.evaluate("() => document.activeElement.id") == "row-fever"
    row = page.locator("#row-fever")
    assert row.get_by_text("Your answer changed what we advise").is_visible()
    assert "Speak to a doctor today" in row.inner_text()
    # In view: the page came back at the row, not at the top.
    top = row.bounding_box()["y"]
    # At the top of the screen, give or take a subpixel (-1/64 px where the page's height
    # leaves a fraction).
    assert -1 < top < page.viewport_size["height"]
    assert page.locator(".outcome-changed").get_by_text("Speak to a doctor today").count() == 1
    axe_check(page, name=f"check answers after a change at {width}px")
    screenshot(page, f"check-answers-changed-{width}")
