""" "Send me this link" in a real browser on a 390 x 844 phone: the form under the link, a
wrong address asked for again with an error summary, then the confirmation; axe clean on each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_web_accessibility import SELF_CARE, result_url

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


def test_send_me_this_link_on_a_phone(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., list[dict[str, Any]]],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(**PHONE_390)
    page.goto(result_url(live_server, SELF_CARE))
    page.click("summary:has-text('Send me this link by e-mail')")  # folded until asked for
    page.fill("#email", "not an address")
    page.check("#reminders")
    page.click("button:has-text('Send me this link')")
    assert page.locator(".error-summary").is_visible()
    assert page.locator("#email").input_value() == "not an address"
    axe_check(page, name="send me this link, refused")
    screenshot(page, "keep-refused-390")

    page.fill("#email", "zoe.person@example.com")
    page.click("button:has-text('Send me this link')")
    sent = page.locator("#keep-sent")
    assert sent.is_visible()
    assert "remind you there when a check-in is due" in sent.inner_text()
    # No sideways scroll at 390 px with the form open.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    axe_check(page, name="result, link sent")
    screenshot(page, "keep-sent-390")
