"""The rule report in a real browser: reached from the admins' navigation, and axe-core finds
nothing serious on it, at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_staff_journey import go, make_staff, sign_in, submission
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO

pytestmark = pytest.mark.browser


def test_the_rule_report_passes_axe(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    admin = make_staff(live_server, role="admin")
    for answers in (
        EXAMPLE_ANSWERS,
        {**EXAMPLE_ANSWERS, "pain_intensity": 9},
        {**SAFETY_ALL_NO, "pregnant": True},
        {**SAFETY_ALL_NO, "fever": True, "night_pain": True},
    ):
        submission(live_server, admin, answers)

    page = new_page()
    sign_in(page, admin.email)
    go(page, "Rule report")
    assert page.get_by_role("heading", level=1).inner_text() == "Rule report"
    assert page.get_by_role("table").count() == 1
    assert page.get_by_role("rowheader").count() == 4  # severe pain, pregnancy, fever, night pain
    axe_check(page, name="rule report")
    page.get_by_label("Months").select_option("all")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    axe_check(page, name="rule report, all months")

    phone = new_page(width=375)
    sign_in(phone, admin.email)
    phone.goto("/staff/rules")
    axe_check(phone, name="rule report on a phone")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 375
    screenshot(phone, "staff-rule-report-phone")
