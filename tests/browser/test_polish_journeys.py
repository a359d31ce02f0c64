"""Issue 27's journeys in Polish, in a real browser at 390 × 844: from the start page's
switcher (no cookie set beforehand, "Polski" clicked) to an emergency result, to a self-care
result with its plan and its PDF, and to a check-in two weeks later. Each page is in Polish
(``lang="pl"``), axe clean, and has no English left in it outside passages marked as English."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader

from tests.browser.conftest import LiveServer, PatientForm
from tests.browser.test_checkin_journey import checkin_answers, move_back
from tests.browser.test_web_journeys import SELF_CARE, stored
from tests.fixtures import SAFETY_ALL_NO

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 390, "height": 844}
# The buttons PatientForm presses, as the Polish catalog words them.
BUTTONS = {
    "Continue": "Dalej",
    "Send my answers": "Wyślij moje odpowiedzi",
    "See my result": "Pokaż mój wynik",
    "Send my check-in": "Wyślij odpowiedzi",
}
# Words that are English and never Polish: a sentence holding one bypassed translation.
# (Not "to", "do", "na", "a", "i": Polish words too.)
ENGLISH_WORDS = re.compile(
    r"\b(the|and|your|you|with|this|that|what|when|for|are|not|have|will|from|after|"
    r"before|check|result|exercise|pain|back|call|help|now|today|week|weeks|step)\b",
    re.IGNORECASE,
)
# The text a person reads in the page's language: not in <script>, <style>, <code>, or a
# passage marked as another language (the switcher's "English").
PAGE_TEXTS = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (el.closest('script, style, code')) continue;
    if (el.closest('[lang]').getAttribute('lang') !== 'pl') continue;
    const text = n.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [alt], [title]')) {
    if (el.closest('[lang]').getAttribute('lang') !== 'pl') continue;
    for (const a of ['aria-label', 'alt', 'title']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  }
  return out;
}"""


class PolishForm(PatientForm):
    def submit(self, button: str = "Continue") -> None:
        super().submit(BUTTONS[button])


def english_left(page: Any) -> list[str]:
    return [t for t in page.evaluate(PAGE_TEXTS) if ENGLISH_WORDS.search(t)]


def in_polish(page: Any, axe_check: Callable[..., Any], name: str) -> None:
    """The page is in Polish, axe clean, fits the phone, and has no English left."""
    assert page.evaluate("() => document.documentElement.lang") == "pl", name
    axe_check(page, name=name)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORT["width"]
    assert not english_left(page), f"{name}: English left: {english_left(page)}"


def start_in_polish(new_page: Callable[..., Any], axe_check: Callable[..., Any]) -> Any:
    """A new phone (no cookie): the start page in English, "Polski" chosen, then "Start now"."""
    page = new_page(**VIEWPORT)
    assert not page.context.cookies()
    page.goto("/")
    assert page.evaluate("() => document.documentElement.lang") == "en-GB"
    with page.expect_navigation():
        page.get_by_role("navigation", name="Language").get_by_role("link", name="Polski").click()
    in_polish(page, axe_check, "start page")
    with page.expect_navigation():
        page.get_by_role("button", name="Zacznij teraz").click()
    return page


def test_an_emergency_in_polish(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = start_in_polish(new_page, axe_check)
    form = PolishForm(page)
    in_polish(page, axe_check, "first question page")
    form.answer_page({"age": 42})
    in_polish(page, axe_check, "emergency signs page")
    form.answer_page({**SAFETY_ALL_NO, "bladder_change": True})

    assert "/result/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Uzyskaj pomoc medyczną teraz"
    # The call button, in Polish, straight after the heading and on the first screen.
    assert page.locator("h1 + .call-now .call-button").count() == 1
    call = page.locator("h1 + .call-now .call-button")
    assert call.inner_text().strip() == "Zadzwoń pod 999"
    box = call.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= VIEWPORT["height"]
    in_polish(page, axe_check, "emergency result")
    screenshot(page, "pl-emergency-390")
    record = stored(live_server, page)
    assert record.triage_level == "emergency"
    assert record.result["triage"]["title"] == "Get medical help now"  # stored in English


@pytest.mark.usefixtures("pdfs")
def test_a_self_care_plan_its_pdf_and_a_check_in_in_polish(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    axe_check: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = start_in_polish(new_page, axe_check)
    form = PolishForm(page)
    for _ in range(60):  # the form, a page at a time, each checked
        path = urlsplit(page.url).path
        if path.startswith("/result/"):
            break
        in_polish(page, axe_check, path)
        form.submit("See my result") if path.endswith("/check") else form.answer_page(SELF_CARE)
    assert "/result/" in page.url, page.url
    result_path = urlsplit(page.url).path

    # (b) The self-care result with its plan, in Polish.
    assert page.get_by_role("heading", level=1).inner_text() == "Możesz zacząć program"
    assert page.get_by_role("heading", name="Twój plan ćwiczeń").is_visible()
    this_week = page.locator(".plan-week__list").inner_text()
    assert "Mostek biodrowy: Mostek na jednej nodze" in this_week
    in_polish(page, axe_check, "self-care result")
    screenshot(page, "pl-self-care-390")

    # Its PDF, fetched with the person's cookie (their language): Polish headings and plan.
    assert page.get_by_role("link", name="Pobierz PDF").get_attribute("href") == (
        f"{result_path}/pdf"
    )
    response = page.request.get(f"{result_path}/pdf", timeout=120_000)
    assert response.ok
    assert response.body()[:5] == b"%PDF-"
    reader = PdfReader(io.BytesIO(response.body()))
    text = " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
    for words in (
        "Możesz zacząć program",
        "Twój plan ćwiczeń",
        "Jak korzystać z planu",
        "Twoje odpowiedzi – dla lekarza",
        "Mostek biodrowy",
        "Mostek na jednej nodze",
    ):
        assert words in text, words
    for english in ("You can start the programme", "Your exercise plan", "Hip bridge"):
        assert english not in text, english

    # (c) Two weeks later: a check-in, the bridges too easy on 5 days.
    move_back(live_server, stored(live_server, page).id, 15)
    page.goto(result_path)
    with page.expect_navigation():
        page.get_by_role("link", name="zrób kontrolę teraz").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Czy są nowe objawy ostrzegawcze?"
    answers = checkin_answers(hip_bridge_days=5, hip_bridge_feel="too_easy", pain_now=3)
    for _ in range(14):
        in_polish(page, axe_check, f"check-in page {page.locator('h1').inner_text()}")
        form.fill(answers)
        last = page.get_by_role("button", name=BUTTONS["Send my check-in"]).count() > 0
        form.submit("Send my check-in" if last else "Continue")
        if "/checkins/" in page.url:
            break
    assert "/checkins/" in page.url, "the check-in was never sent"
    assert page.get_by_role("heading", level=1).inner_text() == "Kontynuuj swój plan"
    assert page.get_by_role("table").filter(has_text="Kontrola 1").is_visible()
    changes = page.locator(".checkin-changes").inner_text()
    assert "Mostek z nogami w kształcie cyfry 4" in changes
    in_polish(page, axe_check, "check-in result")
    screenshot(page, "pl-checkin-result-390")

    # Back on the result: the plan the check-in left, in Polish (worked out again from the
    # stored English check-in), and nothing marked as English.
    with page.expect_navigation():
        page.get_by_role("link", name="Wróć do mojego wyniku").click()
    assert "Mostek biodrowy: Mostek z nogami w kształcie cyfry 4" in (
        page.locator(".plan-week__list").inner_text()
    )
    assert (
        "Plan poniżej obowiązuje od tej kontroli." in page.locator(".latest-checkin").inner_text()
    )
    assert page.locator('main [lang="en-GB"]').count() == 0
    in_polish(page, axe_check, "result after a check-in")
    screenshot(page, "pl-result-after-checkin-390")
