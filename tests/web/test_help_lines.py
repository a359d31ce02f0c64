"""Who to call comes from one source (Settings.help_lines): a deployment that sets other numbers
sees them on every page that names one, in the questionnaires' texts, the API's results and
FHIR, and "999" nowhere. With the default settings the pages say 999 and NHS 111 as before."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.engine import HELP_LINES
from app.main import create_app
from app.services.api_keys import create_api_key
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO, record_assessment
from tests.support.settings import settings_with
from tests.web.helpers import FIRST_PAGE, run_interview

EMERGENCY = {"age": 42, "saddle_numbness": True, "bladder_change": False, "bowel_change": False}
URGENT = {**SAFETY_ALL_NO, "fever": True}
ELSEWHERE = {
    "emergency_number": "112",
    "emergency_name": "112",
    "urgent_number": "116117",
    "urgent_name": "the 116117 helpline",
    "urgent_online_url": "https://116117.example",
    "urgent_online_name": "116117 online",
}
# Pages that show no result: each names the emergency number (the footer at least).
PAGES = ["/", "/about", "/privacy", "/cookies", "/accessibility", "/contact", "/no-such-page"]
PAGES += [f"/questions/{FIRST_PAGE}", "/intake/no-such-link"]
# Pages whose own sentences name the urgent line too.
NAME_THE_URGENT_LINE = ["/", "/about", "/contact", f"/questions/{FIRST_PAGE}"]


@pytest.fixture
def elsewhere(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings_with(settings, help_lines=ELSEWHERE))
    yield app
    app.state.engine.dispose()


def says_999(text: str) -> bool:
    # A number on its own: not part of another number or of an id (a UUID may hold "e999-").
    return re.search(r"(?<![\w.-])999(?![\w.-])", text) is not None or "NHS 111" in text


def test_the_placeholders_are_the_settings_help_lines(settings: Settings) -> None:
    assert set(settings.help_lines.placeholders()) == set(HELP_LINES)


def test_with_the_default_settings_the_pages_say_999_and_nhs_111(client: TestClient) -> None:
    home = client.get("/").text
    assert "In an emergency, call 999.</strong> For urgent advice, call NHS 111." in home
    assert "In an emergency call 999." in client.get("/api/docs").text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_names_the_settings_emergency_number_and_never_999(
    elsewhere: FastAPI, path: str
) -> None:
    with TestClient(elsewhere) as client:
        html = client.get(path).text
    assert "112" in html
    assert not says_999(html)
    if path in NAME_THE_URGENT_LINE:
        assert "the 116117 helpline" in html


def test_the_api_reference_footer_names_the_settings_number(elsewhere: FastAPI) -> None:
    # Its examples are the OpenAPI document's, fixed text for the default (UK) deployment: the
    # document does not change with the settings.
    with TestClient(elsewhere) as client:
        html = client.get("/api/docs").text
    assert "In an emergency call 112." in html
    assert "In an emergency call 999." not in html


def stored(app: FastAPI, db: Session, answers: dict[str, Any]) -> str:
    q = app.state.registry.default
    token = record_assessment(db, q, answers, channel="web", allow_incomplete=True).result_token
    db.commit()
    return f"/result/{token}"


def test_results_and_their_texts_say_the_settings_numbers(elsewhere: FastAPI, db: Session) -> None:
    with TestClient(elsewhere) as client:
        emergency = client.get(stored(elsewhere, db, EMERGENCY)).text
        urgent = client.get(stored(elsewhere, db, URGENT)).text
        self_care = stored(elsewhere, db, dict(EXAMPLE_ANSWERS))
        pages = [client.get(self_care).text, client.get(f"{self_care}/contact").text]
        # The form's own emergency stop, as a person meets it.
        location, _ = run_interview(client, EMERGENCY)
        pages.append(client.get(location).text)
    # The questionnaire's texts (level advice, safety net) and the buttons agree.
    assert "Call 112 now, or go to the nearest A&amp;E" in emergency
    assert "Call 112 or go to A&amp;E straight away if you get any of these" in emergency
    assert 'href="tel:112"' in emergency
    assert "call the 116117 helpline or use 116117 online" in urgent
    assert "Speak to a GP today, or call 116117, if you get any of these" in urgent
    for html in (emergency, urgent, *pages):
        assert "112" in html
        assert not says_999(html)
        assert not re.search(r"{(emergency|urgent)_", html)


def test_the_api_and_fhir_carry_the_settings_numbers(elsewhere: FastAPI, db: Session) -> None:
    _, key = create_api_key(session=db, name="elsewhere", clinic_id=None)
    db.commit()
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(elsewhere) as client:
        posted = client.post(
            "/api/v1/assessments",
            json={"answers": {**SAFETY_ALL_NO, **EMERGENCY}},
            headers=headers,
        )
        assert posted.status_code == 201, posted.text
        fhir = client.get(f"/api/v1/assessments/{posted.json()['id']}/fhir", headers=headers)
        definition = client.get("/api/v1/questionnaires/low-back-audit", headers=headers)
    assert posted.json()["result"]["triage"]["advice"].startswith("Call 112 now")
    for text in (posted.text, fhir.text, definition.text):
        assert "112" in text
        assert not says_999(text)
        assert not re.search(r"{(emergency|urgent)_", text)
