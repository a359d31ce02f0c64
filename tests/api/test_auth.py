"""API keys on the wire: `Authorization: Bearer ba_...`, 401s, and what needs a key."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services.api_keys import revoke_api_key

from .conftest import Key

PROTECTED = [
    ("post", "/api/v1/assessments"),
    ("get", "/api/v1/assessments/0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11"),
    ("get", "/api/v1/assessments/0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11/fhir"),
]
OPEN = [
    ("get", "/api/v1/questionnaires"),
    ("get", "/api/v1/questionnaires/low-back-audit"),
    ("get", "/api/v1/questionnaires/low-back-audit/fhir"),
    ("post", "/api/v1/questionnaires/low-back-audit/next"),
]


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    if method == "post":
        return client.post(path, json={"answers": {}}, headers=headers)
    return client.get(path, headers=headers)


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer not-a-key",
        "Bearer ba_" + "x" * 31,
        "Bearer ba_" + "A" * 32,  # well-formed, but no such key
        "Basic dXNlcjpwYXNz",
        "ba_" + "A" * 32,
    ],
)
def test_a_missing_malformed_or_unknown_key_is_a_401_asking_for_bearer(
    client: TestClient, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = call(client, method, path, headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["detail"]
    assert response.json()["problems"] == []


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_a_revoked_key_is_a_401(
    client: TestClient, api_key: Key, db: Session, method: str, path: str
) -> None:
    revoke_api_key(session=db, prefix_or_id=str(api_key.id))
    db.commit()

    response = call(client, method, path, api_key.headers)

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path"), OPEN)
def test_questionnaires_and_the_interview_need_no_key(
    client: TestClient, method: str, path: str
) -> None:
    assert call(client, method, path, {}).status_code == 200


def test_a_valid_key_is_accepted(client: TestClient, api_key: Key) -> None:
    response = client.get(PROTECTED[1][1], headers=api_key.headers)
    assert response.status_code == 404  # past the key check: there is no such assessment
