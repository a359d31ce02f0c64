"""The API's rate limits: per key, and per client address (with a key or without). Low values
here; the clock is the test's, so the buckets fill again without waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.models import RateBucket
from tests.api.conftest import Key, make_key
from tests.fixtures import TestClock
from tests.support.settings import settings_with

# An assessment nobody has: 404 for a key that may ask, 429 for one that may not yet.
NOBODYS = "/api/v1/assessments/0b6c2a1e-4d3f-4c8e-9a7b-000000000000"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings_with(settings, limits={"api_key_per_minute": 3, "api_address_per_minute": 6})


def test_a_key_past_its_limit_gets_a_429_with_retry_after_until_its_bucket_fills(
    client: TestClient, api_key: Key, db: Session, clock: TestClock
) -> None:
    for _ in range(3):
        assert client.get(NOBODYS, headers=api_key.headers).status_code == 404
    refused = client.get(NOBODYS, headers=api_key.headers)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 20
    assert refused.headers["content-type"] == "application/json"
    assert refused.json()["problems"] == [
        {"field": "rate", "code": "rate_limited", "message": "too many requests"}
    ]
    assert "with this API key" in refused.json()["detail"]
    # Another key has its own bucket (the address's still has room).
    other = make_key(db, name="another app")
    assert client.get(NOBODYS, headers=other.headers).status_code == 404

    clock.advance(timedelta(seconds=21))
    assert client.get(NOBODYS, headers=api_key.headers).status_code == 404
    # Keys and addresses are kept as hashes only.
    keys = [bucket.key for bucket in db.exec(select(RateBucket)).all()]
    assert keys
    assert not any(str(api_key.id) in key or "testclient" in key for key in keys)


def test_an_address_past_its_limit_gets_a_429_with_or_without_a_key(
    client: TestClient, db: Session, clock: TestClock
) -> None:
    keys = [make_key(db, name=f"app {n}") for n in range(3)]
    for key in keys:
        assert client.get(NOBODYS, headers=key.headers).status_code == 404
    for _ in range(3):
        assert client.get("/api/v1/questionnaires").status_code == 200
    for response in (
        client.get("/api/v1/questionnaires"),
        client.get(NOBODYS, headers=keys[0].headers),
        client.get(NOBODYS, headers={"Authorization": "Bearer ba_guess"}),
    ):
        assert response.status_code == 429
        assert "from this address" in response.json()["detail"]
        assert int(response.headers["Retry-After"]) == 10
    clock.advance(timedelta(seconds=10))
    assert client.get("/api/v1/questionnaires").status_code == 200


def test_a_limit_of_0_turns_it_off(settings: Settings, client: TestClient, api_key: Key) -> None:
    client.app.state.settings = settings_with(  # type: ignore[attr-defined]
        settings, limits={"api_key_per_minute": 0, "api_address_per_minute": 0}
    )
    for _ in range(10):
        assert client.get(NOBODYS, headers=api_key.headers).status_code == 404
