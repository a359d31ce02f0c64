"""Reading or storing an assessment through the API is one database call, its audit event
included (app/services/api_access.py), besides what every request with a key makes first:
counting it against its address's rate limit, checking the key, and counting it against the
key's rate limit. (The commit or roll-back at the end is not counted: tests/support.)"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.support.db_calls import db_calls

from .conftest import make_clinic, make_key

KEYED_REQUEST = ["_take_rate", "authenticate", "_take_rate"]  # app/api/auth.py


def test_an_assessment_is_stored_read_and_exported_in_one_call_each(
    client: TestClient,
    db: Session,
    complete_answers: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = make_key(db, "reception desk", make_clinic(db))  # a clinic's: its reads are audited

    def calls(method: str, path: str, expected: int, **options: Any) -> tuple[list[str], Any]:
        with db_calls(monkeypatch) as called:
            response = client.request(method, path, headers=key.headers, **options)
        assert response.status_code == expected, response.text
        return called, response

    stored, response = calls("POST", "/api/v1/assessments", 201, json={"answers": complete_answers})
    assert stored == [*KEYED_REQUEST, "record_assessment"]
    path = f"/api/v1/assessments/{response.json()['id']}"
    for read, expected in ((path, 200), (path + "/fhir", 200), (path + "x", 404)):
        assert calls("GET", read, expected)[0] == [*KEYED_REQUEST, "read_assessment"], read
