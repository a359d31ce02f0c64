"""The pseudo-locale (en-XA: every interface string 40% longer, accented) on the smallest phone:
no page scrolls sideways, and the switcher is there and works without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import SMALL_PHONE, LiveServer
from tests.browser.test_web_accessibility import PAGES, open_checkin_result

pytestmark = pytest.mark.browser


def _path(path: str) -> Callable[[LiveServer, Any], str]:
    return lambda live_server, page: path


def _checkin_form(live_server: LiveServer, page: Any) -> str:
    return open_checkin_result(live_server).split("/checkins/")[0] + "/checkin"


MORE_PAGES: dict[str, Callable[[LiveServer, Any], str]] = {
    **{name: _path(f"/{name}") for name in ("about", "privacy", "cookies", "accessibility")},
    "contact": _path("/contact"),
    "checkin-result": lambda live_server, page: open_checkin_result(live_server),
    "checkin": _checkin_form,
}


@pytest.mark.parametrize("name", [*PAGES, *MORE_PAGES])
def test_no_page_scrolls_sideways_at_320_pixels_in_the_pseudo_locale(
    name: str,
    new_page: Callable[..., Any],
    live_server: LiveServer,
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(width=SMALL_PHONE["width"], height=SMALL_PHONE["height"])
    page.context.add_cookies([{"name": "lang", "value": "en-XA", "url": live_server.url}])
    path = {**PAGES, **MORE_PAGES}[name](live_server, page)
    if path:
        page.goto(path)
    assert page.evaluate("() => document.documentElement.lang") == "en-XA", name
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= SMALL_PHONE["width"], f"{name}: {width}px wide"
    screenshot(page, f"{name}-en-XA-320")


def test_the_switcher_works_without_javascript(new_page: Callable[..., Any]) -> None:
    page = new_page(width=SMALL_PHONE["width"], java_script_enabled=False)
    page.goto("/about")
    assert page.evaluate("() => document.documentElement.lang") == "en-GB"
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Ƥšéûðö").click()
    assert page.evaluate("() => document.documentElement.lang") == "en-XA"
    assert page.url.endswith("/about?lang=en-XA")
    page.goto("/privacy")  # the cookie keeps it
    assert page.evaluate("() => document.documentElement.lang") == "en-XA"
    page.get_by_role("link", name="English").click()
    assert page.evaluate("() => document.documentElement.lang") == "en-GB"
