"""The staff queue in a real browser, at phone (390 × 844) and desktop widths (issue 26): an
emergency looks and reads unlike an urgent case, the banner's counts lead to their lists, the
waiting time, the count in the tab's title, tap-to-call numbers, the warning that alerts are
not set up, and the list that refreshes itself each minute (and can be told to stop), with
axe on each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.models import Assessment
from tests.browser.conftest import LiveServer
from tests.browser.test_staff_journey import (
    EMERGENCY,
    SELF_CARE,
    URGENT,
    make_staff,
    queue_rows,
    sign_in,
    submission,
)

pytestmark = pytest.mark.browser

PHONE = "+44 7700 900123"


def _row_look(page: Any, index: int) -> dict[str, str]:
    """The first cell's bar (its inset box shadow) and background, as the browser draws them."""
    cell = queue_rows(page).nth(index).locator("td").first
    look: dict[str, str] = cell.evaluate(
        "c => ({shadow: getComputedStyle(c).boxShadow, background: getComputedStyle(c).backgroundColor})"
    )
    return look


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_the_queue_shows_emergencies_apart_and_leads_to_them(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
    width: int,
    height: int,
) -> None:
    staff = make_staff(live_server)
    emergency = submission(live_server, staff, EMERGENCY, "Appt 2001")
    submission(live_server, staff, URGENT, "Appt 2002")
    submission(live_server, staff, SELF_CARE, "Appt 2003")
    with live_server.session() as session:
        a = session.get_one(Assessment, emergency)
        a.patient_name, a.patient_contact = "Zoë Ó'Brien", PHONE
        session.add(a)
        session.commit()

    page = new_page(width, height)
    sign_in(page, staff.email)
    assert page.title().startswith("(2 urgent) Submissions")
    first, second, third = (queue_rows(page).nth(i) for i in range(3))
    assert "Contact the patient now." in first.inner_text()
    assert "Contact the patient today." in second.inner_text()
    assert "Contact the patient" not in third.inner_text()
    emergency_look, urgent_look, plain_look = (_row_look(page, i) for i in range(3))
    assert emergency_look["background"] != plain_look["background"]  # a tinted row
    assert emergency_look["shadow"] != urgent_look["shadow"]  # a bar of another colour
    assert urgent_look["shadow"] != plain_look["shadow"]
    assert "Waiting 0 min" in first.inner_text()
    call = first.get_by_role("link", name=PHONE)
    assert call.get_attribute("href") == "tel:+447700900123"
    assert page.get_by_text("Alerts are not set up.").is_visible()
    assert page.get_by_text("It refreshes every minute.").is_visible()
    # The page itself never scrolls sideways at phone width: the table scrolls in its region.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    axe_check(page, name=f"queue at {width}")
    screenshot(page, f"staff-queue-{width}")

    with page.expect_navigation():
        page.get_by_role("link", name="1 emergency not reviewed").click()
    assert "level=emergency" in page.url
    assert queue_rows(page).count() == 1
    assert "Zoë Ó'Brien" in queue_rows(page).first.inner_text()
    axe_check(page, name=f"emergencies at {width}")


def test_the_queue_reloads_each_minute_keeping_its_filters_until_told_to_stop(
    new_page: Callable[..., Any], live_server: LiveServer, axe_check: Callable[..., Any]
) -> None:
    staff = make_staff(live_server)
    submission(live_server, staff, URGENT, "Appt 3001")
    page = new_page(390, 844)
    page.clock.install()
    sign_in(page, staff.email)
    page.goto("/staff/?reviewed=no")
    assert page.title().startswith("(1 urgent)")

    submission(live_server, staff, EMERGENCY, "Appt 3002")  # arrives while the page is open
    with page.expect_navigation():
        page.clock.run_for("01:01")
    assert page.url.endswith("/staff/?reviewed=no")  # the filters stay
    assert page.title().startswith("(2 urgent)")
    assert queue_rows(page).count() == 2

    page.get_by_role("button", name="Stop refreshing").click()
    assert page.get_by_text("It does not refresh by itself.").is_visible()
    axe_check(page, name="queue, refreshing stopped")
    submission(live_server, staff, URGENT, "Appt 3003")
    page.clock.run_for("03:00")
    assert queue_rows(page).count() == 2  # not reloaded
    with page.expect_navigation():
        page.get_by_role("link", name="Refresh the list").click()
    assert queue_rows(page).count() == 3
    assert page.title().startswith("(3 urgent)")


def test_without_javascript_the_refresh_link_keeps_the_filters(
    new_page: Callable[..., Any], live_server: LiveServer
) -> None:
    staff = make_staff(live_server)
    submission(live_server, staff, URGENT, "Appt 4001")
    page = new_page(390, 844, java_script_enabled=False)
    sign_in(page, staff.email)
    page.goto("/staff/?level=urgent&reviewed=no")
    assert not page.get_by_role("button", name="Stop refreshing").is_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="Refresh the list").click()
    assert page.url.endswith("/staff/?level=urgent&reviewed=no")
    assert queue_rows(page).count() == 1
