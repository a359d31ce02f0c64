"""POST /api/v1/assessments and GET /api/v1/assessments/{id}."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import zstandard
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlmodel import Session, select

from app.api.schemas.assessments import AssessmentRecord
from app.models import Assessment, AuditEvent
from app.security import hash_token
from app.services.questionnaires import Registry
from tests.fixtures import count_evaluations, record_assessment, record_v1_assessment
from tests.support.records import stored_assessments

from .conftest import Key, make_clinic, make_key

ASSESSMENTS = "/api/v1/assessments"


def test_complete_answers_are_assessed_stored_and_located(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    response = client.post(ASSESSMENTS, json={"answers": complete_answers}, headers=api_key.headers)

    assert response.status_code == 201
    record = AssessmentRecord.model_validate(response.json())
    assert record.channel == "api"
    assert record.result["triage"]["level"] == "self_care"
    assert record.result["plan"] is not None
    assert response.headers["location"] == f"{ASSESSMENTS}/{record.id}"
    [row] = stored_assessments(db)
    assert row.id == record.id
    assert row.api_client_id == api_key.id
    assert row.result == response.json()["result"]
    assert row.answers == complete_answers


def test_a_stored_result_is_a_zstd_frame_of_its_json_and_reads_back_as_written(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    response = client.post(ASSESSMENTS, json={"answers": complete_answers}, headers=api_key.headers)
    assert response.status_code == 201
    sent = response.json()["result"]

    stored_bytes = bytes(
        db.connection().execute(text("SELECT result FROM assessment")).scalar_one()
    )
    assert stored_bytes[:4] == b"\x28\xb5\x2f\xfd"  # zstd's magic number: a standard frame
    assert json.loads(zstandard.ZstdDecompressor().decompress(stored_bytes)) == sent
    as_json = json.dumps(sent, separators=(",", ":")).encode()
    assert len(stored_bytes) < len(as_json) / 2

    # The same object, keys in the same order (jsonb used to sort them by length).
    read = client.get(response.headers["location"], headers=api_key.headers).json()["result"]
    assert json.dumps(read) == json.dumps(sent)
    assert list(read) == [
        "questionnaire",
        "complete",
        "triage",
        "contributors",
        "plan",
        "release",
        "ignored_answers",
        "safety_net",
    ]
    assert read["release"] is None  # no clinician released anything


def test_a_version_1_record_reads_back_as_it_was_stored(
    client: TestClient, api_key: Key, db: Session, registry: Registry
) -> None:
    recorded = record_v1_assessment(db, registry, channel="api", api_client_id=api_key.id)
    db.commit()

    response = client.get(f"{ASSESSMENTS}/{recorded.id}", headers=api_key.headers)

    assert response.status_code == 200
    record = AssessmentRecord.model_validate(response.json())
    result = response.json()["result"]
    # Never evaluated again against 2.1.0: as stored, but for the news of a newer version.
    assert result["questionnaire"] == {
        "id": "low-back-audit",
        "version": "1.0.0",
        "newer_version": "2.1.0",
    }
    assert {**result, "questionnaire": recorded.result["questionnaire"]} == recorded.result
    db.expire_all()
    assert db.get_one(Assessment, recorded.id).result == recorded.result  # the row unchanged
    assert record.result["plan"] is not None
    assert record.result["plan"]["blocks"][0]["start_step"] == "lying"  # 1.0.0 named the step
    assert "safety_net" not in result
    assert "clinician" not in result["triage"]


def test_the_questionnaire_may_be_named_explicitly(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    response = client.post(
        ASSESSMENTS,
        json={"questionnaire": "low-back-audit", "answers": complete_answers},
        headers=api_key.headers,
    )
    assert response.status_code == 201
    # The newest version, so no newer_version.
    assert response.json()["result"]["questionnaire"] == {
        "id": "low-back-audit",
        "version": "2.1.0",
    }


def test_an_early_stop_needs_only_the_safety_answers(
    client: TestClient, api_key: Key, emergency_answers: dict[str, Any]
) -> None:
    response = client.post(
        ASSESSMENTS, json={"answers": emergency_answers}, headers=api_key.headers
    )

    assert response.status_code == 201
    result = response.json()["result"]
    assert result["complete"] is True
    assert result["triage"]["level"] == "emergency"
    assert result["plan"] is None


def test_answers_to_hidden_questions_are_stored_as_ignored(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    complete_answers["leg_pain_worse_than_back"] = True  # leg_pain is "none"
    response = client.post(ASSESSMENTS, json={"answers": complete_answers}, headers=api_key.headers)

    assert response.status_code == 201
    assert response.json()["result"]["ignored_answers"] == ["leg_pain_worse_than_back"]
    assert "leg_pain_worse_than_back" not in stored_assessments(db)[0].answers


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"age": 300}, [("age", "out_of_range")]),
        ({"age": "42"}, [("age", "wrong_type")]),
        ({"fever": 1}, [("fever", "wrong_type")]),
        ({"onset": "slowly"}, [("onset", "invalid_option")]),
        ({"spine_diagnosis": "none"}, [("spine_diagnosis", "wrong_type")]),
        ({"favourite_colour": "blue"}, [("favourite_colour", "unknown_question")]),
        ({"fever": None}, [("fever", "required")]),
        ({"age": -1, "shoe_size": 9}, [("age", "out_of_range"), ("shoe_size", "unknown_question")]),
    ],
)
def test_invalid_answers_are_a_422_listing_every_problem_and_nothing_is_stored(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    db: Session,
    change: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    response = client.post(
        ASSESSMENTS, json={"answers": complete_answers | change}, headers=api_key.headers
    )

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "The answers cannot produce a result; nothing was stored."
    assert [(p["question"], p["code"]) for p in body["problems"]] == expected
    assert stored_assessments(db) == []


def test_an_id_that_version_2_removed_is_a_422_naming_the_version_and_its_replacement(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    # An app written for 1.0.0 still sends major_trauma.
    answers = {k: v for k, v in complete_answers.items() if k != "serious_accident"}
    response = client.post(
        ASSESSMENTS, json={"answers": answers | {"major_trauma": False}}, headers=api_key.headers
    )

    assert response.status_code == 422
    problems = {p["question"]: p for p in response.json()["problems"]}
    removed = problems["major_trauma"]
    assert removed["code"] == "removed_question"
    assert "2.0.0" in removed["message"]
    assert "serious_accident" in removed["message"]
    assert problems["serious_accident"]["code"] == "required"
    assert stored_assessments(db) == []


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e999"])
def test_json_numbers_that_are_not_finite_are_a_problem_not_a_crash(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session, literal: str
) -> None:
    text = json.dumps({"answers": complete_answers | {"sleep_hours": "@"}})
    response = client.post(
        ASSESSMENTS,
        content=text.replace('"@"', literal),
        headers={**api_key.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert [(p["question"], p["code"]) for p in response.json()["problems"]] == [
        ("sleep_hours", "wrong_type")
    ]
    assert stored_assessments(db) == []


def test_missing_answers_are_each_listed_as_required(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    del complete_answers["age"], complete_answers["smoker"]
    response = client.post(ASSESSMENTS, json={"answers": complete_answers}, headers=api_key.headers)

    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"question": "age", "code": "required", "message": "is required"},
        {"question": "smoker", "code": "required", "message": "is required"},
    ]
    assert stored_assessments(db) == []


def test_an_unknown_questionnaire_is_a_422_naming_the_field(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    response = client.post(
        ASSESSMENTS,
        json={"questionnaire": "neck-audit", "answers": complete_answers},
        headers=api_key.headers,
    )

    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "field": "questionnaire",
            "code": "unknown_questionnaire",
            "message": "no such questionnaire",
        }
    ]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "answers", "required"),
        ({"answers": None}, "answers", "wrong_type"),
        ({"answers": [1, 2]}, "answers", "wrong_type"),
        ({"answers": {}, "answer": {}}, "answer", "unknown_field"),
        ({"answers": {}, "questionnaire": 7}, "questionnaire", "wrong_type"),
        ([], "body", "wrong_type"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_422_in_the_same_error_shape(
    client: TestClient, api_key: Key, body: Any, field: str, code: str
) -> None:
    response = client.post(ASSESSMENTS, json=body, headers=api_key.headers)

    assert response.status_code == 422
    error = response.json()
    assert error["detail"] == "The request does not have the expected shape."
    assert {"field": field, "code": code} in [
        {"field": p["field"], "code": p["code"]} for p in error["problems"]
    ]


NOT_JSON_CONTENT_TYPES = [
    {"Content-Type": "text/plain"},
    {"Content-Type": "text/plain; charset=utf-8"},
    {"Content-Type": "application/x-www-form-urlencoded"},
    {},  # no Content-Type at all
]


@pytest.mark.parametrize("content_type", NOT_JSON_CONTENT_TYPES)
def test_a_body_not_sent_as_json_is_a_415_naming_the_content_type(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    db: Session,
    content_type: dict[str, str],
) -> None:
    response = client.post(
        ASSESSMENTS,
        content=json.dumps({"answers": complete_answers}),
        headers={**api_key.headers, **content_type},
    )

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/json"
    error = response.json()
    assert "Content-Type: application/json" in error["detail"]
    assert error["problems"] == [
        {
            "field": "Content-Type",
            "code": "unsupported_media_type",
            "message": "must be application/json",
        }
    ]
    assert stored_assessments(db) == []


def test_a_json_body_is_accepted_with_any_json_content_type(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.backaudit+json"):
        response = client.post(
            ASSESSMENTS,
            content=json.dumps({"answers": complete_answers}),
            headers={**api_key.headers, "Content-Type": content_type},
        )
        assert response.status_code == 201, content_type


def test_without_a_key_a_body_not_sent_as_json_is_still_a_401(
    client: TestClient, complete_answers: dict[str, Any]
) -> None:
    response = client.post(
        ASSESSMENTS,
        content=json.dumps({"answers": complete_answers}),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 401


def test_no_body_at_all_is_still_a_422_naming_the_body(client: TestClient, api_key: Key) -> None:
    response = client.post(ASSESSMENTS, headers=api_key.headers)

    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "body"


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"answers": {"age": 4', b"\xff\xfe"])
def test_malformed_json_is_a_400_never_a_500(
    client: TestClient, api_key: Key, content: bytes
) -> None:
    response = client.post(
        ASSESSMENTS,
        content=content,
        headers={**api_key.headers, "Content-Type": "application/json"},
    )

    assert response.status_code in (400, 422)
    assert response.json()["problems"][0]["field"] == "body"


def test_the_owner_reads_its_assessment_back(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    created = client.post(ASSESSMENTS, json={"answers": complete_answers}, headers=api_key.headers)

    response = client.get(created.headers["location"], headers=api_key.headers)

    assert response.status_code == 200
    assert response.json() == created.json()


def test_another_clients_assessment_is_a_404(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    created = client.post(ASSESSMENTS, json={"answers": complete_answers}, headers=api_key.headers)
    other = make_key(db, "someone else")

    for path in (created.headers["location"], created.headers["location"] + "/fhir"):
        response = client.get(path, headers=other.headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "There is no such assessment.", "problems": []}


@pytest.mark.parametrize(
    "assessment_id", ["0b6c2a1e-4d3f-4c8e-9a7b-5e2f1d0c9b8a", "not-a-uuid", "1"]
)
def test_an_unknown_or_malformed_id_is_a_404(
    client: TestClient, api_key: Key, assessment_id: str
) -> None:
    response = client.get(f"{ASSESSMENTS}/{assessment_id}", headers=api_key.headers)
    assert response.status_code == 404


def test_a_clinic_key_reads_the_clinics_intake_and_api_submissions_only(
    client: TestClient, db: Session, registry: Registry, complete_answers: dict[str, Any]
) -> None:
    clinic = make_clinic(db)
    other_clinic = make_clinic(db, "Hillside GP")
    reception = make_key(db, "reception desk", clinic)
    booking = make_key(db, "booking system", clinic)
    outsider = make_key(db, "other clinic", other_clinic)
    intake = record_assessment(
        db, registry.default, complete_answers, channel="intake", clinic_id=clinic
    )
    elsewhere = record_assessment(
        db, registry.default, complete_answers, channel="intake", clinic_id=other_clinic
    )
    anonymous_web = record_assessment(db, registry.default, complete_answers, channel="web")
    db.commit()
    via_api = client.post(
        ASSESSMENTS, json={"answers": complete_answers}, headers=booking.headers
    ).json()["id"]

    def status(key: Key, assessment_id: object) -> int:
        return client.get(f"{ASSESSMENTS}/{assessment_id}", headers=key.headers).status_code

    assert status(reception, intake.id) == 200
    assert status(reception, via_api) == 200
    assert status(reception, elsewhere.id) == 404
    assert status(reception, anonymous_web.id) == 404
    assert status(outsider, intake.id) == 404
    assert status(outsider, via_api) == 404
    assert (
        client.get(f"{ASSESSMENTS}/{intake.id}", headers=reception.headers).json()["channel"]
        == "intake"
    )


def test_a_key_without_a_clinic_reads_no_clinic_submissions(
    client: TestClient,
    db: Session,
    registry: Registry,
    api_key: Key,
    complete_answers: dict[str, Any],
) -> None:
    clinic = make_clinic(db)
    intake = record_assessment(
        db, registry.default, complete_answers, channel="intake", clinic_id=clinic
    )
    db.commit()

    assert client.get(f"{ASSESSMENTS}/{intake.id}", headers=api_key.headers).status_code == 404


def test_a_question_id_that_is_not_valid_unicode_is_a_422_not_a_crash(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    text = json.dumps({"answers": complete_answers | {"@": 1}}).replace('"@"', '"\\udfff"')
    response = client.post(
        ASSESSMENTS,
        content=text,
        headers={**api_key.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "unknown_question"


def test_what_record_assessment_returns_is_what_it_stored(
    db: Session, registry: Registry, complete_answers: dict[str, Any]
) -> None:
    """The write path inserts directly (no ORM object, no flush); what it returns, and the API
    answers with, must be the stored row."""
    recorded = record_assessment(db, registry.default, complete_answers, channel="web")
    db.commit()

    [row] = stored_assessments(db)
    assert (row.id, row.channel, row.created_at) == (recorded.id, "web", recorded.created_at)
    assert row.result == recorded.result
    assert recorded.result_token is not None
    assert row.result_token_hash == hash_token(recorded.result_token)
    # Printed in a traceback or an error report, it shows neither the link's secret nor answers.
    assert recorded.result_token not in repr(recorded)
    assert "triage" not in repr(recorded)


def test_connections_the_server_closed_while_pooled_are_replaced_without_an_error(
    app: FastAPI, client: TestClient, db: Session, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    """A restart, a failover or an idle timeout closes the pooled connections on the server's
    side. The next requests get new ones and succeed, instead of a 503 per stale connection."""
    if app.state.engine.dialect.name == "sqlite":
        pytest.skip("PostgreSQL only: a SQLite file has no server to close connections")
    # The server processes behind this app's connections (and no one else's). At each checkout,
    # not only when one is made: the alert sender's first poll may have made it already.
    backends: set[int] = set()

    def remember(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        backends.add(record.driver_connection.info.backend_pid)

    event.listen(app.state.engine, "checkout", remember)
    body = {"answers": complete_answers}
    assert client.post(ASSESSMENTS, json=body, headers=api_key.headers).status_code == 201
    assert client.get("/healthz").status_code == 200
    assert backends

    pids = {"pids": sorted(backends)}
    connection = db.connection()
    connection.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid"), pids)
    alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
    deadline = time.monotonic() + 10
    while connection.execute(alive, pids).scalar_one():
        assert time.monotonic() < deadline, "the server did not close the connections"
        time.sleep(0.05)
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
    db.commit()

    assert client.get("/healthz").status_code == 200  # its first statement is a read, too
    for _ in range(3):
        response = client.post(ASSESSMENTS, json=body, headers=api_key.headers)
        assert response.status_code == 201, response.text
    assert len(stored_assessments(db)) == 4


def test_storing_an_assessment_runs_the_engine_once(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluations = count_evaluations(monkeypatch)
    response = client.post(ASSESSMENTS, json={"answers": complete_answers}, headers=api_key.headers)
    assert response.status_code == 201
    assert evaluations == ["low-back-audit"]


def test_responses_with_answers_or_results_are_never_cached(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    created = client.post(ASSESSMENTS, json={"answers": complete_answers}, headers=api_key.headers)
    location = created.headers["location"]
    responses = {
        "created": created,
        "read": client.get(location, headers=api_key.headers),
        "fhir": client.get(f"{location}/fhir", headers=api_key.headers),
        "next": client.post(
            "/api/v1/questionnaires/low-back-audit/next", json={"answers": complete_answers}
        ),
    }
    assert {name: r.status_code for name, r in responses.items()} == {
        "created": 201,
        "read": 200,
        "fhir": 200,
        "next": 200,
    }
    for name, response in responses.items():
        assert response.headers.get("cache-control") == "no-store", name


def test_a_clinic_submission_read_through_the_api_is_in_the_clinics_audit_log(
    client: TestClient, db: Session, registry: Registry, complete_answers: dict[str, Any]
) -> None:
    clinic = make_clinic(db)
    reception = make_key(db, "reception desk", clinic)
    intake = record_assessment(
        db, registry.default, complete_answers, channel="intake", clinic_id=clinic
    )
    db.commit()

    assert client.get(f"{ASSESSMENTS}/{intake.id}", headers=reception.headers).status_code == 200
    assert client.get(f"{ASSESSMENTS}/{intake.id}/fhir", headers=reception.headers).is_success
    db.expire_all()
    events = db.exec(select(AuditEvent).where(AuditEvent.clinic_id == clinic)).all()
    assert sorted(e.action for e in events) == ["assessment.viewed", "export.fhir"]
    for audited in events:
        assert audited.actor_id is None
        assert audited.target_id == str(intake.id)
        assert audited.detail["api_key"] == "reception desk"
        assert audited.detail["api_key_id"] == str(reception.id)
