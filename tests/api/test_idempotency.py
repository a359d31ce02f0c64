"""Idempotency-Key on POST /api/v1/assessments (and on a check-in, which shares its header check
and its race handling: app/api/idempotency.py, app/services/idempotency.py): a retry never
stores twice."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import Assessment, Checkin
from app.services import assessments as assessment_service
from app.services import checkins as checkin_service
from app.services import idempotency
from tests.fixtures import TestClock, checkin_answers

from .conftest import Key, make_key

ASSESSMENTS = "/api/v1/assessments"


def count(db: Session) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(Assessment)).one()


def post(client: TestClient, key: Key, answers: dict[str, Any], idempotency_key: str) -> Any:
    return client.post(
        ASSESSMENTS,
        json={"answers": answers},
        headers={**key.headers, "Idempotency-Key": idempotency_key},
    )


def test_a_retry_with_the_same_key_and_body_returns_the_first_record(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    first = post(client, api_key, complete_answers, "order-1")
    retry = post(client, api_key, complete_answers, "order-1")

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.headers["idempotency-replayed"] == "true"
    assert retry.headers["location"] == first.headers["location"]
    assert retry.json() == first.json()
    assert count(db) == 1


def test_the_order_of_the_answers_does_not_make_a_different_request(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    first = post(client, api_key, complete_answers, "order-2")
    reordered = dict(reversed(list(complete_answers.items())))
    retry = post(client, api_key, reordered, "order-2")

    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert count(db) == 1


def test_the_same_key_with_a_different_body_is_a_409_and_stores_nothing(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    post(client, api_key, complete_answers, "order-3")
    response = post(client, api_key, complete_answers | {"age": 43}, "order-3")

    assert response.status_code == 409
    assert response.json()["problems"] == [
        {"field": "Idempotency-Key", "code": "reused", "message": "was used with a different body"}
    ]
    assert count(db) == 1


def test_keys_belong_to_one_client_so_two_clients_may_use_the_same_key(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    other = make_key(db, "another app")

    first = post(client, api_key, complete_answers, "shared-key")
    second = post(client, other, complete_answers, "shared-key")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert count(db) == 2


def test_a_rejected_request_does_not_use_up_its_key(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    rejected = post(client, api_key, complete_answers | {"age": 999}, "order-4")
    accepted = post(client, api_key, complete_answers, "order-4")

    assert rejected.status_code == 422
    assert accepted.status_code == 201
    assert count(db) == 1


@pytest.mark.parametrize("bad_key", ["x" * 201, "has space", "tab\there"])
def test_a_malformed_key_is_a_422_naming_the_header(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session, bad_key: str
) -> None:
    response = post(client, api_key, complete_answers, bad_key)

    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "Idempotency-Key"
    assert count(db) == 0


@pytest.mark.parametrize("empty_key", ["", " ", "\t"])
def test_an_empty_or_blank_key_is_a_422_naming_the_header_not_ignored(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session, empty_key: str
) -> None:
    response = post(client, api_key, complete_answers, empty_key)

    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "field": "Idempotency-Key",
            "code": "invalid",
            "message": "must be 1 to 200 printable characters",
        }
    ]
    assert count(db) == 0


@pytest.mark.parametrize(("same_body", "status"), [(True, 200), (False, 409)])
def test_losing_a_race_returns_the_winners_record_or_a_conflict(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    same_body: bool,
    status: int,
) -> None:
    winner = post(client, api_key, complete_answers, "raced")
    # The loser looked before the winner committed, so it saw no earlier record and inserts:
    # the unique constraint refuses the second row.
    real_lookup = assessment_service.find_by_idempotency_key
    calls: list[str] = []

    def stale_first_lookup(*args: Any, **kwargs: Any) -> Assessment | None:
        calls.append("lookup")
        return None if len(calls) == 1 else real_lookup(*args, **kwargs)

    monkeypatch.setattr(assessment_service, "find_by_idempotency_key", stale_first_lookup)
    answers = complete_answers if same_body else complete_answers | {"age": 60}

    loser = post(client, api_key, answers, "raced")

    assert calls == ["lookup", "lookup"]
    assert loser.status_code == status
    if same_body:
        assert loser.json()["id"] == winner.json()["id"]
    assert count(db) == 1


def test_concurrent_retries_store_exactly_one_record(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    key = str(uuid.uuid4())
    barrier = threading.Barrier(6)
    responses: list[Any] = []

    def send() -> None:
        barrier.wait()
        responses.append(post(client, api_key, complete_answers, key))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert count(db) == 1


def stored_assessment(client: TestClient, key: Key, answers: dict[str, Any]) -> str:
    response = client.post(ASSESSMENTS, json={"answers": answers}, headers=key.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def checkins(db: Session) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(Checkin)).one()


@pytest.mark.parametrize("bad_key", ["", " ", "x" * 201, "has space"])
def test_a_check_in_with_a_malformed_key_is_the_same_422_and_stores_nothing(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session, bad_key: str
) -> None:
    assessment_id = stored_assessment(client, api_key, complete_answers)
    response = client.post(
        f"{ASSESSMENTS}/{assessment_id}/checkins",
        json={"answers": checkin_answers()},
        headers={**api_key.headers, "Idempotency-Key": bad_key},
    )

    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "field": "Idempotency-Key",
            "code": "invalid",
            "message": "must be 1 to 200 printable characters",
        }
    ]
    assert checkins(db) == 0


@pytest.mark.parametrize(("same_body", "status"), [(True, 200), (False, 409)])
def test_a_check_in_that_loses_a_race_returns_the_winners_or_a_conflict(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    db: Session,
    clock: TestClock,
    monkeypatch: pytest.MonkeyPatch,
    same_body: bool,
    status: int,
) -> None:
    assessment_id = stored_assessment(client, api_key, complete_answers)
    url = f"{ASSESSMENTS}/{assessment_id}/checkins"
    headers = {**api_key.headers, "Idempotency-Key": "raced"}
    winner = client.post(url, json={"answers": checkin_answers()}, headers=headers)
    assert winner.status_code == 201
    # Past the duplicate window, so that the same answers are not a duplicate: only the key
    # ties the two requests.
    clock.advance(timedelta(minutes=30))
    # The loser looked before the winner committed, so it saw no earlier check-in and inserts:
    # the unique constraint refuses the second row.
    real_lookup = idempotency.stored_before
    calls: list[str] = []

    def stale_first_lookup(*args: Any, **kwargs: Any) -> Checkin | None:
        calls.append("lookup")
        return None if len(calls) == 1 else real_lookup(*args, **kwargs)

    monkeypatch.setattr(checkin_service, "stored_before", stale_first_lookup)
    answers = checkin_answers() if same_body else checkin_answers(pain_now=8)

    loser = client.post(url, json={"answers": answers}, headers=headers)

    assert calls == ["lookup"]  # then the insert lost, and the winner was read back
    assert loser.status_code == status
    if same_body:
        assert loser.json()["id"] == winner.json()["id"]
        assert loser.headers["Idempotency-Replayed"] == "true"
    assert checkins(db) == 1


@pytest.mark.parametrize(
    "body", [{"answers": 3}, {"answers": {}, "questionnaire": "no-such-questionnaire"}]
)
def test_a_malformed_key_is_named_before_the_bodys_problems_on_both_routes(
    client: TestClient, api_key: Key, db: Session, body: dict[str, Any]
) -> None:
    """The header is checked once, before the body and the questionnaire are read, whichever
    route it is sent to (the answer is a 422 either way; this says which problem it names)."""
    headers = {**api_key.headers, "Idempotency-Key": "has space"}
    for url in (ASSESSMENTS, f"{ASSESSMENTS}/{uuid.uuid4()}/checkins"):
        response = client.post(url, json=body, headers=headers)

        assert response.status_code == 422
        assert [p["field"] for p in response.json()["problems"]] == ["Idempotency-Key"]
    assert count(db) == 0
