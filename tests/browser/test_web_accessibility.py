"""axe-core on every kind of patient page, at phone and desktop widths, with screenshots.

Pages are set up straight in the live server's database (a draft with answers, a stored
result), so each check opens its page directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from app.models import Assessment, Clinic, utcnow
from app.services import checkins, drafts
from app.services.intake import create_link
from tests.browser.conftest import DESKTOP, PHONE, LiveServer
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO, checkin_answers, record_assessment

pytestmark = pytest.mark.browser

SELF_CARE = dict(EXAMPLE_ANSWERS)
SEE_DOCTOR = {**SAFETY_ALL_NO, "pregnant": True}
URGENT = {**SAFETY_ALL_NO, "fever": True}
EMERGENCY = {"age": 42, "saddle_numbness": True, "bladder_change": True, "bowel_change": False}


def with_draft(live_server: LiveServer, page: Any, answers: dict[str, Any]) -> None:
    q = live_server.app.state.registry.default
    with live_server.session() as session:
        draft, token = drafts.start_draft(session, questionnaire_id=q.id, channel="web")
        drafts.save_answers(session, draft, answers)
        session.commit()
    page.context.add_cookies([{"name": "ba_draft", "value": token, "url": live_server.url}])


def result_url(live_server: LiveServer, answers: dict[str, Any]) -> str:
    q = live_server.app.state.registry.default
    with live_server.session() as session:
        token = record_assessment(
            session, q, answers, channel="web", allow_incomplete=True
        ).result_token
        session.commit()
    return f"/result/{token}"


def intake_link(live_server: LiveServer, *, gone: bool = False) -> str:
    with live_server.session() as session:
        clinic = Clinic(name="Riverside Physio")
        session.add(clinic)
        session.flush()
        link, token = create_link(
            session,
            clinic_id=clinic.id,
            label=None,
            single_use=True,
            valid_for=timedelta(days=1),
            created_by_id=None,
        )
        if gone:
            link.used_at = utcnow()
            session.add(link)
        session.commit()
    return f"/intake/{token}"


def open_start(live_server: LiveServer, page: Any) -> str:
    return "/"


def _draft_page(answers: dict[str, Any], path: str) -> Callable[[LiveServer, Any], str]:
    def setup(live_server: LiveServer, page: Any) -> str:
        with_draft(live_server, page, answers)
        return path

    return setup


def open_error_state(live_server: LiveServer, page: Any) -> str:
    with_draft(live_server, page, {"age": 42})  # the age comes first
    page.goto("/questions/emergency_signs")
    page.check("#saddle_numbness-no")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    return ""


def open_advice(live_server: LiveServer, page: Any) -> str:
    with_draft(live_server, page, URGENT)
    return "/advice?next=pain_story"


def open_delete(live_server: LiveServer, page: Any) -> str:
    return result_url(live_server, SELF_CARE) + "/delete"


def open_intake(live_server: LiveServer, page: Any) -> str:
    return intake_link(live_server)


def open_intake_question(live_server: LiveServer, page: Any) -> str:
    return intake_link(live_server) + "/questions/about_you"


def open_link_gone(live_server: LiveServer, page: Any) -> str:
    return intake_link(live_server, gone=True)


def _result(answers: dict[str, Any]) -> Callable[[LiveServer, Any], str]:
    return lambda live_server, page: result_url(live_server, answers)


before_height = {k: v for k, v in SELF_CARE.items() if k not in ("height_cm", "weight_kg")}
before_checks = {
    k: v
    for k, v in SELF_CARE.items()
    if k not in ("squat_check", "bridge_check", "hang_check", "sides_differ")
}
before_activity = {**before_height, "height_cm": 175, "weight_kg": 82}

PAGES: dict[str, Callable[[LiveServer, Any], str]] = {
    "start": open_start,
    "question-radios": _draft_page({"age": 42}, "/questions/emergency_signs"),
    "question-number": _draft_page({}, "/questions/about_you"),
    "question-choices": _draft_page(SAFETY_ALL_NO, "/questions/pain_story"),
    "question-scale": _draft_page(
        {
            **SAFETY_ALL_NO,
            "pain_duration": "over_12_weeks",
            "onset": "gradual",
            "pain_trend": "same",
        },
        "/questions/pain_level",
    ),
    "question-multi-choice": _draft_page(
        {k: v for k, v in SELF_CARE.items() if k not in ("spine_diagnosis",)},
        "/questions/spine_conditions",
    ),
    "question-height-weight": _draft_page(before_height, "/questions/height_weight"),
    "question-height-imperial": _draft_page(
        before_height, "/questions/height_weight?height_cm-units=imperial&weight_kg-units=imperial"
    ),
    "question-activity": _draft_page(before_activity, "/questions/activity"),
    "question-joints": _draft_page(
        {
            k: v
            for k, v in before_checks.items()
            if k not in ("joint_problems", "falls_or_unsteady")
        },
        "/questions/joints_and_balance",
    ),
    "question-image": _draft_page(before_checks, "/questions/squat"),
    "error-state": open_error_state,
    "check-answers": _draft_page(SELF_CARE, "/check"),
    "advice-urgent": open_advice,
    "result-emergency": _result(EMERGENCY),
    "result-urgent": _result(URGENT),
    "result-see-doctor": _result({**SELF_CARE, "pregnant": True}),
    "result-self-care": _result(SELF_CARE),
    # No hangs (a shoulder problem), no deep squats (a hip): steps and a block's hangs left out.
    "result-self-care-left-out": _result({**SELF_CARE, "joint_problems": ["shoulder", "hip"]}),
    "delete-confirm": open_delete,
    "intake-start": open_intake,
    "intake-question": open_intake_question,
    "link-gone": open_link_gone,
    "not-found": lambda live_server, page: "/result/no-such-result",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_accessibility_problems(
    name: str,
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(width=PHONE["width"])
    path = PAGES[name](live_server, page)
    if path:
        page.goto(path)
    assert page.locator("h1").count() == 1, "one h1 per page"
    assert page.evaluate("() => document.documentElement.lang") == "en-GB"
    axe_check(page, name=name)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")


def test_the_smallest_phone_has_no_sideways_scrolling(
    new_page: Callable[..., Any], live_server: LiveServer, screenshot: Callable[[Any, str], Any]
) -> None:
    page = new_page(width=320)
    for path in ("/", result_url(live_server, SELF_CARE)):
        page.goto(path)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320, path
    screenshot(page, "result-self-care-320")


def test_keyboard_focus_is_visible(new_page: Callable[..., Any], live_server: LiveServer) -> None:
    page = new_page()
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["x"] >= 0
    with_draft(live_server, page, {"age": 42})
    page.goto("/questions/emergency_signs")
    page.focus("#saddle_numbness")
    page.keyboard.press("Tab")
    shadow = page.evaluate(
        "() => getComputedStyle(document.activeElement.nextElementSibling, '::before').boxShadow"
    )
    assert shadow != "none"


def open_checkin_result(live_server: LiveServer) -> str:
    """A self-care result with one check-in two weeks on: the check-in result page's path."""
    registry = live_server.app.state.registry
    with live_server.session() as session:
        recorded = record_assessment(session, registry.default, SELF_CARE, channel="web")
        assessment = session.get(Assessment, recorded.id)
        assert assessment is not None
        done = checkins.record_checkin(
            session,
            registry,
            assessment,
            checkin_answers(),
            channel="web",
            now=assessment.created_at + timedelta(days=14),
        )
        session.commit()
    return f"/result/{recorded.result_token}/checkins/{done.id}"
