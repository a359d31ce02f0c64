"""The interview's own pages in a real browser, at a phone's width and on a desktop: the pain
scale on one row, the told-now advice page, returning to a changed answer, and correcting a
mis-tapped emergency answer. axe-core on each (no serious or critical problems)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.services import drafts
from tests.browser.conftest import DESKTOP, SMALL_PHONE, LiveServer
from tests.fixtures import SAFETY_ALL_NO

pytestmark = pytest.mark.browser

PHONE_390 = 390
BEFORE_PAIN_LEVEL = {
    **SAFETY_ALL_NO,
    "pain_duration": "over_12_weeks",
    "first_episode": False,
    "onset": "gradual",
    "pain_trend": "same",
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


@pytest.mark.parametrize("width", [SMALL_PHONE["width"], PHONE_390, DESKTOP["width"]])
def test_the_pain_scale_stays_on_one_row_with_its_words_under_0_and_10(
    width: int,
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(width=width)
    with_draft(live_server, page, BEFORE_PAIN_LEVEL)
    page.goto("/questions/pain_level")

    labels = page.locator(".scale__label")
    assert labels.count() == 11
    boxes = [labels.nth(i).bounding_box() for i in range(11)]
    assert len({round(b["y"]) for b in boxes}) == 1, "all 11 options on one row"
    assert all(b["width"] >= 24 and b["height"] >= 24 for b in boxes)  # WCAG 2.5.8
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width

    low, high = page.locator(".scale__ends span").all()
    assert " ".join(low.inner_text().split()) == "0: no pain"
    assert " ".join(high.inner_text().split()) == "10: worst pain"
    low_box, high_box = low.bounding_box(), high.bounding_box()
    # Under 0: starting where 0 starts; under 10: ending where 10 ends; below the row.
    assert abs(low_box["x"] - boxes[0]["x"]) <= 1
    assert abs((high_box["x"] + high_box["width"]) - (boxes[10]["x"] + boxes[10]["width"])) <= 1
    assert low_box["y"] >= boxes[0]["y"] + boxes[0]["height"]

    ten = boxes[10]  # the box can be tapped (the radio lies over it)
    page.mouse.click(ten["x"] + ten["width"] / 2, ten["y"] + ten["height"] / 2)
    assert page.is_checked("#pain_intensity-10")
    axe_check(page, name=f"pain scale at {width}px")
    screenshot(page, f"question-scale-{width}")
