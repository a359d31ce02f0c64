"""The trust pages in a real browser: axe-clean at phone and desktop widths, reachable from the
footer of the patient and staff pages; the icons; and what a phone really downloads for a
question page and the self-care result (gzipped, under 30 KB)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, LiveServer
from tests.browser.test_web_accessibility import SELF_CARE, result_url, with_draft

pytestmark = pytest.mark.browser

TRUST_PAGES = {
    "about": "/about",
    "privacy": "/privacy",
    "cookies": "/cookies",
    "accessibility": "/accessibility",
    "contact": "/contact",
}
BUDGET = 30 * 1024
TRANSFERRED = """() => {
    const entries = [...performance.getEntriesByType("navigation"),
                     ...performance.getEntriesByType("resource")];
    return entries.map(e => [e.name, e.transferSize, e.decodedBodySize]);
}"""


@pytest.mark.parametrize("name", list(TRUST_PAGES))
def test_trust_page_has_no_serious_accessibility_problems(
    name: str,
    new_page: Callable[..., Any],
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = new_page(width=PHONE["width"])
    page.goto(TRUST_PAGES[name])
    assert page.locator("h1").count() == 1
    axe_check(page, name=name)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"trust-{name}-phone")
    page.set_viewport_size(DESKTOP)
    axe_check(page, name=f"{name} (desktop)")
    screenshot(page, f"trust-{name}-desktop")


@pytest.mark.parametrize("start", ["/", "/staff/login"])
def test_the_footer_leads_to_each_trust_page(new_page: Callable[..., Any], start: str) -> None:
    page = new_page(width=PHONE["width"])
    for path in TRUST_PAGES.values():
        page.goto(start)
        footer = page.get_by_role("navigation", name="About this service")
        link = footer.locator(f'a[href="{path}"]')
        box = link.bounding_box()
        assert box is not None
        assert box["height"] >= 24, "a target at least 24 px high (WCAG 2.5.8)"
        with page.expect_navigation():
            link.click()
        assert page.url.endswith(path)


def test_the_page_icons_load(new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.goto("/")
    statuses = page.evaluate(
        """() => Promise.all([...document.querySelectorAll('link[rel=icon]')]
            .map(link => fetch(link.href).then(r => [r.status, r.headers.get('content-type')])))"""
    )
    assert statuses == [[200, "image/x-icon"], [200, "image/svg+xml"]]


@pytest.mark.parametrize("which", ["question", "self-care result"])
def test_a_phone_downloads_under_30_kb_for_a_patient_page(
    which: str, new_page: Callable[..., Any], live_server: LiveServer
) -> None:
    page = new_page(width=PHONE["width"])
    if which == "question":
        with_draft(live_server, page, {"age": 42})
        path = "/questions/emergency_signs"
    else:
        path = result_url(live_server, SELF_CARE)
    page.goto(path)
    page.wait_for_load_state("load")
    entries = page.evaluate(TRANSFERRED)
    wire = sum(size for _, size, _ in entries)
    plain = sum(size for _, _, size in entries)
    print(f"{which}: {len(entries)} files, {wire} bytes transferred ({plain} decoded bodies)")
    assert wire < BUDGET
    assert wire < plain / 2, "compressed"
