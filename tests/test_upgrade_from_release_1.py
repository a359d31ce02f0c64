"""A database made by release 1 (questionnaire 1.0.0) keeps working after the upgrade.

tests/data/release-1.sql is a dump of a SQLite database that release 1 (commit 91dfabf) made
with tests/data/make_release_1.py: a clinic, a clinician, an API key and three 1.0.0
submissions. It is migrated to today's schema and served by today's app: every submission
shows with its own version's questions, texts and result, never re-evaluated.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Database, Http, Settings
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade

from .conftest import TEST_SECRET

DATA = Path(__file__).parent / "data"
# What make_release_1.py printed when it made the dump (test secrets, for this file only).
API_KEY = "ba_PogjoHERyjxVDRyfLmBqq3fNvr3TKMZA"
SELF_CARE = ("bcdec283-4b71-4f5d-9300-448853e70004", "49FY2iA5vcTEN9XlqdxBCQq4rVB9rANF")
EMERGENCY = "22e80f2c-f52b-47a8-af16-12f6c1f7b3ce"
SEE_DOCTOR = "3c005057-0fbb-4328-ae7b-fffdf8af8748"
CLINICIAN = ("clinician@example.org", "release-one-password")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    path = tmp_path / "release-1.db"
    with sqlite3.connect(path) as connection:
        connection.executescript((DATA / "release-1.sql").read_text())
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)  # whatever migrations came after release 1
    engine.dispose()
    settings = Settings(
        environment="test",
        database=Database(url=url),
        secret_key=TEST_SECRET,
        questionnaires_dir=Path(__file__).resolve().parent.parent / "questionnaires",
        http=Http(allowed_hosts="testserver"),  # the TestClient's host name
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def api(client: TestClient, path: str) -> dict:  # type: ignore[type-arg]
    response = client.get(path, headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_api_gives_a_release_1_record_as_it_was_stored(client: TestClient) -> None:
    record = api(client, f"/api/v1/assessments/{EMERGENCY}")
    result = record["result"]
    # As stored, with the news (2.1) that a newer version exists.
    assert result["questionnaire"] == {
        "id": "low-back-audit",
        "version": "1.0.0",
        "newer_version": "2.1.0",
    }
    assert [r["code"] for r in result["triage"]["reasons"]] == ["major_trauma"]
    assert "safety_net" not in result  # never re-evaluated against a later version
    assert "release" not in result
    see_doctor = api(client, f"/api/v1/assessments/{SEE_DOCTOR}")["result"]
    assert {"acute_pain", "injury_onset"} <= {r["code"] for r in see_doctor["triage"]["reasons"]}


def test_fhir_of_a_release_1_record_names_version_1(client: TestClient) -> None:
    bundle = api(client, f"/api/v1/assessments/{EMERGENCY}/fhir")
    response = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    assert response["questionnaire"].endswith("|1.0.0")
    answered = {item["linkId"] for item in _items(response["item"])}
    assert "major_trauma" in answered


def _items(items: list[dict]) -> Iterator[dict]:  # type: ignore[type-arg]
    for item in items:
        yield item
        yield from _items(item.get("item", []))


def test_the_person_s_result_page_still_shows_their_plan(client: TestClient) -> None:
    page = client.get(f"/result/{SELF_CARE[1]}")
    assert page.status_code == 200
    # The stored 1.0.0 plan: its start steps were step codes, not indexes.
    assert "Lying pelvic tilt" in page.text
    assert "Single-leg bridge" in page.text


def test_staff_see_a_release_1_submission_with_its_own_questions(client: TestClient) -> None:
    login = client.get("/staff/login")
    token = re.search(r'name="login_token" value="([^"]+)"', login.text)
    assert token
    signed = client.post(
        "/staff/login",
        data={"email": CLINICIAN[0], "password": CLINICIAN[1], "login_token": token.group(1)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    queue = client.get("/staff/")
    assert EMERGENCY in queue.text
    assert SEE_DOCTOR in queue.text
    detail = client.get(f"/staff/assessments/{EMERGENCY}")
    assert detail.status_code == 200
    # The 1.0.0 question, which 2.0.0 replaced with a three-way choice.
    assert "Did your pain start after a serious accident?" in detail.text
    csv = client.get("/staff/export.csv")
    assert csv.status_code == 200
    assert EMERGENCY in csv.text
