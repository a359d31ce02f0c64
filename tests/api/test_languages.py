"""Accept-Language on the API: the texts of questionnaires and results in the language asked
for where a translation is offered (here the pseudo-locale en-XA, offered in tests), English
otherwise, always naming the language used (``language``, ``Content-Language``). Codes never
change with the language, and stored results stay English."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.engine import PSEUDO_LANGUAGE
from app.models import Assessment, Checkin
from app.services.questionnaires import Registry
from app.services.result_language import same_but_texts
from tests.fixtures import V2_ANSWERS, TestClock, record_assessment
from tests.support.answers import checkin
from tests.support.settings import settings_with

from .conftest import Key, make_clinic, make_key

PSEUDO = {"Accept-Language": PSEUDO_LANGUAGE}
AUDIT = "/api/v1/questionnaires/low-back-audit"


def pseudo(text: str) -> bool:
    """Whether a text is the pseudo-locale's (its padding, and no plain vowel a-e-i-o-u left
    outside placeholders)."""
    return text.endswith(("ẋ", "ẋ}")) or "ẋẋ" in text


def codes_of(result: dict[str, Any]) -> tuple[Any, ...]:
    return (
        result["triage"]["level"],
        [r["code"] for r in result["triage"]["reasons"]],
        [(c["code"], c["score"]) for c in result["contributors"]],
        None
        if result["plan"] is None
        else [(b["code"], b["start_step"], b["relevance"]) for b in result["plan"]["blocks"]],
    )


def test_a_questionnaire_comes_in_the_language_asked_for(client: TestClient) -> None:
    english = client.get(AUDIT)
    assert english.headers["Content-Language"] == "en"
    assert english.json()["language"] == "en"
    assert "Accept-Language" in english.headers["Vary"]
    asked = client.get(AUDIT, headers=PSEUDO)
    assert asked.status_code == 200
    assert asked.headers["Content-Language"] == PSEUDO_LANGUAGE
    body = asked.json()
    assert body["language"] == PSEUDO_LANGUAGE
    assert pseudo(body["title"])
    first = body["sections"][0]["pages"][0]["questions"][0]
    assert pseudo(first["text"])
    assert first["id"] == english.json()["sections"][0]["pages"][0]["questions"][0]["id"]
    # The conditions and codes are the English ones.
    assert [s["when"] for s in body["sections"]] == [s["when"] for s in english.json()["sections"]]
    assert [lv["code"] for lv in body["levels"]] == [lv["code"] for lv in english.json()["levels"]]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE, de;q=0.9", "en"),  # no German translation: English
        ("de, en-XA;q=0.5", PSEUDO_LANGUAGE),
        ("en-XA;q=0.2, en;q=0.8", "en"),
        ("en-GB", "en"),
        ("*", "en"),
        ("en-xa", PSEUDO_LANGUAGE),
        ("en-XA;q=0", "en"),
        ("", "en"),
    ],
)
def test_accept_language_is_negotiated(client: TestClient, header: str, expected: str) -> None:
    response = client.get(AUDIT, headers={"Accept-Language": header})
    assert response.headers["Content-Language"] == expected
    assert response.json()["language"] == expected


def test_the_list_of_questionnaires_says_each_ones_language(client: TestClient) -> None:
    listed = client.get("/api/v1/questionnaires", headers=PSEUDO).json()
    assert {q["language"] for q in listed["questionnaires"]} == {PSEUDO_LANGUAGE}
    assert all(pseudo(q["title"]) for q in listed["questionnaires"])


def test_the_interview_asks_in_the_language_and_decides_as_in_english(
    client: TestClient, emergency_answers: dict[str, Any]
) -> None:
    start = client.post(f"{AUDIT}/next", json={"answers": {}}, headers=PSEUDO)
    assert start.headers["Content-Language"] == PSEUDO_LANGUAGE
    page = start.json()["page"]
    assert pseudo(page["title"])
    assert all(pseudo(q["text"]) for q in page["questions"])
    stopped = client.post(f"{AUDIT}/next", json={"answers": emergency_answers}, headers=PSEUDO)
    english = client.post(f"{AUDIT}/next", json={"answers": emergency_answers})
    ours, theirs = stopped.json()["result"], english.json()["result"]
    assert codes_of(ours) == codes_of(theirs) == ("emergency", codes_of(theirs)[1], [], None)
    assert pseudo(ours["triage"]["advice"])
    assert "999" in ours["safety_net"]["title"]  # the help line, put in after translation
    assert stopped.json()["language"] == PSEUDO_LANGUAGE


def test_an_assessment_is_stored_in_english_and_read_in_any_language(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    posted = client.post(
        "/api/v1/assessments",
        json={"answers": complete_answers},
        headers={**api_key.headers, **PSEUDO},
    )
    assert posted.status_code == 201, posted.text
    assert posted.headers["Content-Language"] == PSEUDO_LANGUAGE
    record = posted.json()
    assert record["language"] == PSEUDO_LANGUAGE
    translated = record["result"]
    assert pseudo(translated["triage"]["advice"])
    assert all(pseudo(b["title"]) for b in translated["plan"]["blocks"])
    assert all(pseudo(s) for s in translated["safety_net"]["signs"])
    # What is stored is English: staff read it, and it does not depend on the language.
    stored = db.exec(select(Assessment)).one().result
    assert not pseudo(stored["triage"]["advice"])
    assert same_but_texts(translated, dict(stored))
    assert codes_of(translated) == codes_of(dict(stored))
    path = f"/api/v1/assessments/{record['id']}"
    english = client.get(path, headers=api_key.headers)
    assert english.headers["Content-Language"] == "en"
    assert english.json()["language"] == "en"
    assert english.json()["result"] == stored
    again = client.get(path, headers={**api_key.headers, **PSEUDO})
    assert again.json()["language"] == PSEUDO_LANGUAGE
    assert again.json()["result"] == translated


def test_a_stored_result_of_a_version_without_the_translation_is_sent_in_english(
    client: TestClient, db: Session, registry: Registry
) -> None:
    """The pseudo-locale is made for the newest version only: a 2.0.0 result stays English,
    and says so."""
    clinic = make_clinic(db)
    old = registry.exact("low-back-audit", "2.0.0")
    recorded = record_assessment(db, old, V2_ANSWERS, channel="intake", clinic_id=clinic)
    db.commit()
    key = make_key(db, "reception", clinic)
    response = client.get(f"/api/v1/assessments/{recorded.id}", headers={**key.headers, **PSEUDO})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Language"] == "en"
    assert response.json()["language"] == "en"
    assert response.json()["result"]["triage"] == recorded.result["triage"]


def test_a_check_in_is_stored_in_english_and_read_in_any_language(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    db: Session,
    clock: TestClock,
) -> None:
    posted = client.post(
        "/api/v1/assessments", json={"answers": complete_answers}, headers=api_key.headers
    )
    url = f"/api/v1/assessments/{posted.json()['id']}/checkins"
    clock.advance(timedelta(days=8))  # a step up needs a week on the step
    answers = checkin(hip_bridge_feel="too_easy", hip_bridge_days=6)
    done = client.post(url, json={"answers": answers}, headers={**api_key.headers, **PSEUDO})
    assert done.status_code == 201, done.text
    assert done.headers["Content-Language"] == PSEUDO_LANGUAGE
    assert done.json()["language"] == PSEUDO_LANGUAGE
    ours = done.json()["result"]
    stored = db.exec(select(Checkin)).one().result
    assert same_but_texts(ours, dict(stored))
    assert ours["trend"] == stored["trend"]
    assert pseudo(ours["triage"]["advice"])
    # The plan from now on and why each block moved, in the language, block and step titles too.
    bridge = next(c for c in ours["changes"] if c["block"] == "hip_bridge")
    assert (bridge["from_step"], bridge["to_step"]) == ("single_leg", "figure_4")
    assert pseudo(bridge["why"])
    assert "Hip bridge" not in bridge["why"]
    assert all(pseudo(b["title"]) and pseudo(b["steps"][0]["how"]) for b in ours["plan"]["blocks"])
    assert all(pseudo(text) for text in ours["plan"]["advice"])
    # A second one, read back in a list: each in the language, the stored ones English.
    clock.advance(timedelta(days=8))
    again = client.post(url, json={"answers": checkin()}, headers=api_key.headers)
    assert again.json()["language"] == "en"
    listed = client.get(url, headers={**api_key.headers, **PSEUDO})
    assert listed.headers["Content-Language"] == PSEUDO_LANGUAGE
    first, second = listed.json()["checkins"]
    assert first["result"] == ours
    assert second["language"] == PSEUDO_LANGUAGE
    assert same_but_texts(second["result"], again.json()["result"])
    assert pseudo(second["result"]["plan"]["blocks"][0]["title"])
    english = client.get(url, headers=api_key.headers).json()["checkins"]
    assert [c["language"] for c in english] == ["en", "en"]
    assert english[0]["result"] == stored


class TestWithoutDrafts:
    """A production-like site: draft translations (and the pseudo-locale) are not offered."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings_with(settings, languages={"offer_draft": False})

    def test_a_draft_language_is_not_offered(self, client: TestClient) -> None:
        response = client.get(AUDIT, headers=PSEUDO)
        assert response.headers["Content-Language"] == "en"
        assert response.json()["language"] == "en"
        assert not pseudo(response.json()["title"])


def test_a_check_in_page_by_page_is_in_the_language_and_decides_as_in_english(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], clock: TestClock
) -> None:
    posted = client.post(
        "/api/v1/assessments", json={"answers": complete_answers}, headers=api_key.headers
    )
    url = f"/api/v1/assessments/{posted.json()['id']}/checkins/next"
    clock.advance(timedelta(days=8))
    start = client.post(url, json={"answers": {}}, headers={**api_key.headers, **PSEUDO})
    assert start.status_code == 200, start.text
    assert start.headers["Content-Language"] == PSEUDO_LANGUAGE
    assert start.json()["language"] == PSEUDO_LANGUAGE
    assert all(pseudo(q["text"]) for q in start.json()["page"]["questions"])
    # A wrong answer is a problem in any language.
    wrong = client.post(
        url, json={"answers": {"pain_now": 99}}, headers={**api_key.headers, **PSEUDO}
    )
    assert [p["question"] for p in wrong.json()["problems"]] == ["pain_now"]
    answers = checkin(hip_bridge_feel="too_easy", hip_bridge_days=6)
    ours = client.post(url, json={"answers": answers}, headers={**api_key.headers, **PSEUDO})
    theirs = client.post(url, json={"answers": answers}, headers=api_key.headers)
    # Two requests, two moments: the times they stamp differ, nothing else but texts.
    ours_result, theirs_result = ours.json()["result"], theirs.json()["result"]
    for result in (ours_result, theirs_result):
        result["trend"][-1]["at"] = None
        for block in result["plan"]["blocks"]:
            block.pop("changed_at", None)
    assert same_but_texts(ours_result, theirs_result)
    assert pseudo(ours.json()["result"]["changes"][0]["why"])
    assert theirs.json()["language"] == "en"
