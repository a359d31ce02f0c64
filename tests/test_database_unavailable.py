"""When the database cannot be reached: a 503 that says to try again, never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.services.api_keys import KEY_PREFIX
from tests.support.settings import settings_with

WELL_FORMED_KEY = KEY_PREFIX + "A" * 32
UNREACHABLE = {
    # A SQLite file in a folder that does not exist cannot be opened.
    "sqlite": "sqlite:///{tmp}/no/such/folder/db.sqlite",
    # Nothing listens on port 1: the connection is refused at once.
    "postgresql": "postgresql://postgres@127.0.0.1:1/backaudit",
}


@pytest.fixture(params=sorted(UNREACHABLE))
def client(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> Iterator[TestClient]:
    url = UNREACHABLE[request.param].format(tmp=tmp_path)
    app = create_app(settings_with(settings, database={"url": url}))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    app.state.engine.dispose()


def test_the_api_answers_503_with_retry_after_in_its_error_shape(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = client.post(
            "/api/v1/assessments",
            json={"answers": {"saddle_numbness": True}},
            headers={"Authorization": f"Bearer {WELL_FORMED_KEY}"},
        )

    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    body = response.json()
    assert body["problems"] == []
    assert "Try again" in body["detail"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "database unavailable" in logged
    assert WELL_FORMED_KEY not in logged
    assert "SELECT" not in logged


def test_a_person_gets_a_page_that_still_says_when_to_call_999(client: TestClient) -> None:
    response = client.get("/result/" + "x" * 32)  # a result page: needs the database

    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.headers["content-type"].startswith("text/html")
    assert "not working just now" in response.text
    assert "call 999 or go to A&amp;E now" in response.text


def test_the_health_check_says_the_database_is_unreachable(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
