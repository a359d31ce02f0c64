"""Reading or storing an assessment through the API, or reading its check-ins, is one database
call, its audit event included (app/services/api_access.py), besides what every request with a key makes first:
counting it against its address's rate limit, checking the key, and counting it against the
key's rate limit. (The commit or roll-back at the end is not counted: tests/support.)"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.support.answers import checkin
from tests.support.db_calls import db_calls

from .conftest import make_clinic, make_key

KEYED_REQUEST = ["_take_rate", "authenticate", "_take_rate"]  # app/api/auth.py


def test_an_assessment_is_stored_read_and_exported_in_one_call_each(
    client: TestClient,
    db: Session,
    complete_answers: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A clinic's key (its reads are audited) that stores check-ins too.
    key = make_key(db, "reception desk", make_clinic(db), scopes=("checkins:write",))

    def calls(method: str, path: str, expected: int, **options: Any) -> tuple[list[str], Any]:
        with db_calls(monkeypatch) as called:
            options.setdefault("headers", key.headers)
            response = client.request(method, path, **options)
        assert response.status_code == expected, response.text
        return called, response

    stored, response = calls("POST", "/api/v1/assessments", 201, json={"answers": complete_answers})
    assert stored == [*KEYED_REQUEST, "record_assessment"]
    path = f"/api/v1/assessments/{response.json()['id']}"
    for read, expected in ((path, 200), (path + "/fhir", 200), (path + "x", 404)):
        assert calls("GET", read, expected)[0] == [*KEYED_REQUEST, "read_assessment"], read
    checkins = path + "/checkins"
    posted_calls, posted = calls("POST", checkins, 201, json={"answers": checkin()})
    assert posted_calls == [*KEYED_REQUEST, "store_checkin"]
    # In another language: worked out again from what was stored, in the same call.
    polish_calls, polish = calls(
        "POST",
        checkins,
        201,
        json={"answers": checkin(pain_now=1)},
        headers=key.headers | {"Accept-Language": "pl"},
    )
    assert polish_calls == [*KEYED_REQUEST, "store_checkin"]
    assert polish.headers["content-language"] == "pl"
    checkin_fhir = f"{checkins}/{posted.json()['id']}/fhir"
    assert calls("GET", checkins, 200)[0] == [*KEYED_REQUEST, "read_checkins"]
    assert calls("GET", checkin_fhir, 200)[0] == [*KEYED_REQUEST, "export_checkin"]
    so_far = calls("POST", checkins + "/next", 200, json={"answers": {}})[0]
    assert so_far == [*KEYED_REQUEST, "next_checkin_step"]
