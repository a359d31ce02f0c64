"""Versions for API clients (2.1): a request may pin an older `questionnaire_version` while its
`accept_until` day has not passed (2.0.0: 2027-06-30); without one the newest is used; every
response names `newer_version` when a newer version exists. No test reads the calendar: the
app's clock says what day it is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import cli, main
from app.cli import questionnaires as cli_questionnaires
from app.clock import Clock
from app.config import Settings
from app.models import Assessment
from app.services import checkin_history, checkins
from app.services.questionnaires import Registry
from tests.fixtures import (
    ADDED_IN_2_1,
    EXAMPLE_ANSWERS,
    SAFETY_ALL_NO,
    V2_ANSWERS,
    TestClock,
    checkin_answers,
    record_assessment,
)

from .conftest import Key

ASSESSMENTS = "/api/v1/assessments"
NEXT = "/api/v1/questionnaires/low-back-audit/next"
BEFORE = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # 2.0.0 still accepted
LAST_DAY = datetime(2027, 6, 30, 23, 0, tzinfo=UTC)  # its accept_until day
AFTER = datetime(2027, 7, 1, tzinfo=UTC)  # the day after


@pytest.fixture
def at_before(clock: TestClock) -> TestClock:
    clock.set(BEFORE)
    return clock


@pytest.fixture
def app_on(settings: Settings) -> Iterator[Any]:
    """Apps on a clock of the test's choosing (the test's tables are emptied by ``db``)."""
    made: list[FastAPI] = []

    def make(clock: Clock) -> TestClient:
        application = main.create_app(settings, clock=clock)
        made.append(application)
        return TestClient(application)

    yield make
    for application in made:
        application.state.engine.dispose()


def pinned(answers: dict[str, Any], version: str | None = "2.0.0") -> dict[str, Any]:
    body: dict[str, Any] = {"answers": answers}
    if version is not None:
        body["questionnaire_version"] = version
    return body


def problem_fields(response: Any) -> set[str]:
    return {p.get("field") or p.get("question") for p in response.json()["problems"]}


def test_a_client_pinning_2_0_0_is_assessed_with_its_questions_and_told_of_2_1_0(
    client: TestClient, api_key: Key, db: Session, at_before: TestClock
) -> None:
    response = client.post(ASSESSMENTS, json=pinned(V2_ANSWERS), headers=api_key.headers)

    assert response.status_code == 201, response.text
    result = response.json()["result"]
    assert result["questionnaire"] == {
        "id": "low-back-audit",
        "version": "2.0.0",
        "newer_version": "2.1.0",
    }
    assert result["complete"] is True  # without any of the questions 2.1.0 added
    assert result["triage"]["level"] == "self_care"
    assert result["plan"] is not None
    [row] = db.exec(select(Assessment)).all()
    assert row.questionnaire_version == "2.0.0"
    assert "newer_version" not in row.result["questionnaire"]  # news, not stored
    # The same answers without a pin are the newest version's: its added questions are missing.
    unpinned = client.post(ASSESSMENTS, json=pinned(V2_ANSWERS, None), headers=api_key.headers)
    assert unpinned.status_code == 422
    missing = {p["question"] for p in unpinned.json()["problems"] if p["code"] == "required"}
    assert missing == set(ADDED_IN_2_1)


def test_a_retry_with_the_same_key_and_another_pin_is_a_conflict_not_a_replay(
    client: TestClient, api_key: Key, db: Session, at_before: TestClock
) -> None:
    """The pinned version is part of the request: the same key and answers with another pin
    (or none) asked for something else, so it is a 409, never the first record replayed."""
    answers = {"age": 40, "saddle_numbness": True}  # an early stop: both versions take it
    headers = {**api_key.headers, "Idempotency-Key": "pin-test-1"}
    first = client.post(ASSESSMENTS, json=pinned(answers), headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(ASSESSMENTS, json=pinned(answers), headers=headers)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    other = client.post(ASSESSMENTS, json=pinned(answers, None), headers=headers)
    assert other.status_code == 409, other.text
    assert len(db.exec(select(Assessment)).all()) == 1


def test_the_last_accepted_day_is_accepted(app_on: Any, api_key: Key, db: Session) -> None:
    with app_on(lambda: LAST_DAY) as client:
        response = client.post(ASSESSMENTS, json=pinned(V2_ANSWERS), headers=api_key.headers)
    assert response.status_code == 201, response.text
    assert response.json()["result"]["questionnaire"]["version"] == "2.0.0"


def test_after_accept_until_a_pinned_2_0_0_is_a_422_naming_the_current_version(
    app_on: Any, api_key: Key, db: Session
) -> None:
    with app_on(lambda: datetime(2027, 7, 1, tzinfo=UTC)) as client:
        response = client.post(ASSESSMENTS, json=pinned(V2_ANSWERS), headers=api_key.headers)
        stepped = client.post(NEXT, json=pinned(V2_ANSWERS))

    assert response.status_code == 422
    body = response.json()
    assert problem_fields(response) == {"questionnaire_version"}
    assert body["problems"][0]["code"] == "version_not_accepted"
    assert "2.1.0" in body["detail"]
    assert "2.1.0" in body["problems"][0]["message"]
    assert db.exec(select(Assessment)).all() == []
    assert stepped.status_code == 422
    assert problem_fields(stepped) == {"questionnaire_version"}
    assert "2.1.0" in stepped.json()["detail"]


@pytest.mark.parametrize("version", ["9.9.9", "1.0.0", "2.0", "latest"])
def test_a_version_that_is_not_accepted_is_a_422(
    client: TestClient, api_key: Key, db: Session, at_before: TestClock, version: str
) -> None:
    # 1.0.0 is loaded (old records are shown with it) but has no accept_until: not for clients.
    response = client.post(ASSESSMENTS, json=pinned(V2_ANSWERS, version), headers=api_key.headers)
    assert response.status_code == 422
    assert problem_fields(response) == {"questionnaire_version"}
    assert "the current version is 2.1.0" in response.json()["detail"] or (
        "send the current version, 2.1.0" in response.json()["detail"]
    )
    assert db.exec(select(Assessment)).all() == []


def test_without_a_version_the_newest_is_used_and_there_is_no_newer_version(
    client: TestClient, api_key: Key, at_before: TestClock
) -> None:
    response = client.post(ASSESSMENTS, json=pinned(EXAMPLE_ANSWERS, None), headers=api_key.headers)
    assert response.status_code == 201, response.text
    assert response.json()["result"]["questionnaire"] == {
        "id": "low-back-audit",
        "version": "2.1.0",
    }
    # Naming the newest version is the same as naming none.
    named = client.post(ASSESSMENTS, json=pinned(EXAMPLE_ANSWERS, "2.1.0"), headers=api_key.headers)
    assert named.status_code == 201, named.text
    assert named.json()["result"]["questionnaire"] == {"id": "low-back-audit", "version": "2.1.0"}


def test_a_pinned_client_sending_ids_only_2_1_0_has_gets_a_422_for_each(
    client: TestClient, api_key: Key, db: Session, at_before: TestClock
) -> None:
    response = client.post(ASSESSMENTS, json=pinned(EXAMPLE_ANSWERS), headers=api_key.headers)
    assert response.status_code == 422
    unknown = {
        p["question"] for p in response.json()["problems"] if p["code"] == "unknown_question"
    }
    assert unknown == set(ADDED_IN_2_1)
    assert db.exec(select(Assessment)).all() == []


def test_a_stored_2_0_0_record_read_back_names_the_newer_version(
    client: TestClient, api_key: Key, db: Session, registry: Registry
) -> None:
    old = registry.exact("low-back-audit", "2.0.0")
    recorded = record_assessment(db, old, V2_ANSWERS, channel="api", api_client_id=api_key.id)
    db.commit()

    response = client.get(f"{ASSESSMENTS}/{recorded.id}", headers=api_key.headers)

    assert response.status_code == 200
    result = response.json()["result"]
    assert result["questionnaire"] == {
        "id": "low-back-audit",
        "version": "2.0.0",
        "newer_version": "2.1.0",
    }
    assert {**result, "questionnaire": recorded.result["questionnaire"]} == recorded.result


def test_next_with_a_pinned_version_asks_that_versions_questions(
    client: TestClient, at_before: TestClock
) -> None:
    # Up to the back's shape: 2.1.0 then asks about tummy pain on the same page (its
    # "back_and_legs" page); 2.0.0 does not.
    so_far = {k: v for k, v in SAFETY_ALL_NO.items() if k != "abdominal_pain"}
    so_far = {k: v for k, v in so_far.items() if k not in ("cancer_history", "pregnant")}
    so_far = {
        k: v for k, v in so_far.items() if k not in ("osteoporosis_or_steroids", "infection_risk")
    }
    newest = client.post(NEXT, json=pinned(so_far, None)).json()
    assert newest["questionnaire"] == {"id": "low-back-audit", "version": "2.1.0"}
    assert newest["page"]["id"] == "back_and_legs"
    assert [q["id"] for q in newest["page"]["questions"]][-1] == "abdominal_pain"

    old = client.post(NEXT, json=pinned(so_far)).json()
    assert old["questionnaire"] == {
        "id": "low-back-audit",
        "version": "2.0.0",
        "newer_version": "2.1.0",
    }
    assert old["page"]["id"] == "health_history"

    done = client.post(NEXT, json=pinned(V2_ANSWERS)).json()
    assert done["complete"] is True
    assert done["result"]["questionnaire"] == {
        "id": "low-back-audit",
        "version": "2.0.0",
        "newer_version": "2.1.0",
    }
    unknown = client.post(NEXT, json=pinned({**V2_ANSWERS, "hypermobile": False})).json()
    assert [(p["question"], p["code"]) for p in unknown["problems"]] == [
        ("hypermobile", "unknown_question")
    ]


def test_the_openapi_document_shows_questionnaire_version_and_newer_version(
    client: TestClient,
) -> None:
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "questionnaire_version" in schemas["AssessmentCreate"]["properties"]
    assert "2.0.0" in json.dumps(schemas["AssessmentCreate"]["properties"]["questionnaire_version"])
    assert "questionnaire_version" in schemas["NextRequest"]["properties"]
    assert "newer_version" in schemas["QuestionnaireRef"]["properties"]
    assert "release" in schemas["Result"]["properties"]


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def answers_file(tmp_path: Path) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"answers": V2_ANSWERS}))
    return path


def on_day(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    """The command line's clock (it reads the day to check ``accept_until``)."""
    monkeypatch.setattr(cli_questionnaires, "system_clock", lambda: when)


def test_the_cli_assesses_with_a_pinned_version_and_names_the_newer_one(
    answers_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    on_day(monkeypatch, BEFORE)
    assert cli.main(["assess", str(answers_file), "--questionnaire-version", "2.0.0"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["questionnaire"] == {
        "id": "low-back-audit",
        "version": "2.0.0",
        "newer_version": "2.1.0",
    }
    assert result["triage"]["level"] == "self_care"
    # Without the flag: the newest version, which needs its added questions.
    assert cli.main(["assess", str(answers_file)]) == 2
    assert "abdominal_pain: is required" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("when", "version", "said"),
    [
        (AFTER, "2.0.0", "no longer accepted (accepted until 2027-06-30)"),
        (BEFORE, "9.9.9", "has no version 9.9.9"),
    ],
)
def test_the_cli_refuses_a_version_that_is_not_accepted(
    answers_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    when: datetime,
    version: str,
    said: str,
) -> None:
    on_day(monkeypatch, when)
    assert cli.main(["assess", str(answers_file), "--questionnaire-version", version]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert said in captured.err
    assert "2.1.0" in captured.err


def test_accept_until_is_read_from_the_definition() -> None:
    registry = Registry.load(
        Path(__file__).resolve().parents[2] / "questionnaires", "low-back-audit"
    )
    assert registry.exact("low-back-audit", "2.0.0").accept_until == date(2027, 6, 30)
    assert registry.get("low-back-audit").accept_until is None


def test_a_check_in_stored_by_check_in_1_0_0_is_read_back_naming_1_1_0(
    client: TestClient, api_key: Key, db: Session, registry: Registry
) -> None:
    recorded = record_assessment(
        db, registry.default, EXAMPLE_ANSWERS, channel="api", api_client_id=api_key.id
    )
    db.commit()
    assessment = db.get_one(Assessment, recorded.id)
    for pain in (3, 4):  # different answers: the same again would be the same check-in
        checkins.record_checkin(
            db, registry, assessment, checkin_answers(pain_now=pain), channel="api"
        )
    db.commit()
    # The first as check-in 1.0.0 stored it (before 1.1.0 was released).
    old = checkin_history.list_checkins(db, assessment.id)[0]
    old.questionnaire_version = "1.0.0"
    old.result = {**old.result, "questionnaire": {"id": "low-back-checkin", "version": "1.0.0"}}
    db.add(old)
    db.commit()

    listed = client.get(f"{ASSESSMENTS}/{assessment.id}/checkins", headers=api_key.headers)

    assert listed.status_code == 200
    assert [c["result"]["questionnaire"] for c in listed.json()["checkins"]] == [
        {"id": "low-back-checkin", "version": "1.0.0", "newer_version": "1.1.0"},
        {"id": "low-back-checkin", "version": "1.1.0"},
    ]
