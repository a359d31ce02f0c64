"""POST and GET /api/v1/assessments/{id}/checkins: follow-ups of a self-care assessment."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import CheckinLimits
from app.models import Assessment, AuditEvent, Checkin
from app.services import api_access
from app.services.api_keys import Caller, authenticate
from app.services.checkins import CheckinNotPossibleError
from app.services.questionnaires import Registry
from tests.fixtures import (
    CHECKIN_BLOCKS,
    CHECKIN_SIGNS,
    TestClock,
    count_evaluations,
)
from tests.support.answers import checkin

from .conftest import Key, make_clinic, make_key

BLOCKS = CHECKIN_BLOCKS
SIGNS = CHECKIN_SIGNS


def stored(client: TestClient, key: Key, answers: dict[str, Any]) -> str:
    response = client.post("/api/v1/assessments", json={"answers": answers}, headers=key.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_check_in_moves_the_plan_and_is_listed_with_the_next_due_date(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    db: Session,
    clock: TestClock,
) -> None:
    assessment_id = stored(client, api_key, complete_answers)
    url = f"/api/v1/assessments/{assessment_id}/checkins"
    clock.advance(timedelta(days=8))  # a step up needs a week on the step
    posted = client.post(
        url,
        json={"answers": checkin(hip_bridge_feel="too_easy", hip_bridge_days=6)},
        headers=api_key.headers,
    )
    assert posted.status_code == 201, posted.text
    assert posted.headers["Cache-Control"] == "no-store"
    result = posted.json()["result"]
    assert result["triage"]["level"] == "self_care"
    bridge = next(c for c in result["changes"] if c["block"] == "hip_bridge")
    assert (bridge["from_step"], bridge["to_step"]) == ("single_leg", "figure_4")
    assert "too easy on 6 days" in bridge["why"]
    assert [p["pain"] for p in result["trend"]] == [4, 3]
    listed = client.get(url, headers=api_key.headers).json()
    assert [c["id"] for c in listed["checkins"]] == [posted.json()["id"]]
    created = db.exec(select(Assessment)).one().created_at
    # One check-in done: the next is due 4 weeks after the result (then 8).
    due = (created + timedelta(weeks=4)).isoformat().replace("+00:00", "Z")
    assert listed["next_due"] == due
    # The next check-in starts from the moved plan.
    again = client.post(url, json={"answers": checkin()}, headers=api_key.headers).json()
    bridge_plan = next(b for b in again["result"]["plan"]["blocks"] if b["code"] == "hip_bridge")
    assert bridge_plan["steps"][bridge_plan["start_step"]]["code"] == "figure_4"


def test_a_red_flag_in_a_check_in_gives_its_level_and_no_plan(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    assessment_id = stored(client, api_key, complete_answers)
    response = client.post(
        f"/api/v1/assessments/{assessment_id}/checkins",
        json={"answers": {**dict.fromkeys(SIGNS, False), "bladder_change": True}},
        headers=api_key.headers,
    )
    assert response.status_code == 201, response.text
    result = response.json()["result"]
    assert result["triage"]["level"] == "emergency"
    assert result["plan"] is None


def test_worse_since_the_start_is_see_a_doctor(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], clock: TestClock
) -> None:
    assessment_id = stored(client, api_key, complete_answers)
    clock.advance(timedelta(days=8))  # a step up would be due at self-care
    url = f"/api/v1/assessments/{assessment_id}/checkins"
    answers = checkin(global_change="worse", hip_bridge_feel="too_easy", hip_bridge_days=7)
    # Check-in 1.1.0 asks about the blocks at see-a-doctor too (to pause what made the pain
    # worse): leaving them out is a 422 by id.
    without_blocks = {k: v for k, v in answers.items() if not k.endswith(("_days", "_feel"))}
    refused = client.post(url, json={"answers": without_blocks}, headers=api_key.headers)
    assert refused.status_code == 422
    assert {p["question"] for p in refused.json()["problems"]} == {
        f"{block}_{part}" for block in BLOCKS for part in ("days", "feel")
    }
    result = client.post(url, json={"answers": answers}, headers=api_key.headers).json()["result"]
    assert result["triage"]["level"] == "see_doctor"
    assert [r["code"] for r in result["triage"]["reasons"]] == ["pain_worse_since_start"]
    # The plan is kept, and nothing moves up (too easy on 7 days) before the person is checked.
    first = client.get(f"/api/v1/assessments/{assessment_id}", headers=api_key.headers).json()
    steps = {b["code"]: b["start_step"] for b in first["result"]["plan"]["blocks"]}
    assert {b["code"]: b["start_step"] for b in result["plan"]["blocks"]} == steps
    assert result["changes"] == []


def test_a_retry_with_the_same_key_stores_once_and_other_answers_conflict(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    assessment_id = stored(client, api_key, complete_answers)
    url = f"/api/v1/assessments/{assessment_id}/checkins"
    headers = {**api_key.headers, "Idempotency-Key": "checkin-1"}
    first = client.post(url, json={"answers": checkin()}, headers=headers)
    second = client.post(url, json={"answers": checkin()}, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotency-Replayed"] == "true"
    other = client.post(url, json={"answers": checkin(pain_now=9)}, headers=headers)
    assert other.status_code == 409
    assert len(db.exec(select(Checkin)).all()) == 1


def test_bad_answers_are_a_422_by_id_and_nothing_is_stored(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    assessment_id = stored(client, api_key, complete_answers)
    response = client.post(
        f"/api/v1/assessments/{assessment_id}/checkins",
        json={"answers": checkin(pain_now=11, hip_bridge_feel="meh")},
        headers=api_key.headers,
    )
    assert response.status_code == 422
    assert {p["question"] for p in response.json()["problems"]} == {"pain_now", "hip_bridge_feel"}
    assert db.exec(select(Checkin)).all() == []


def test_an_assessment_without_a_plan_cannot_have_check_ins(
    client: TestClient, api_key: Key, emergency_answers: dict[str, Any]
) -> None:
    assessment_id = stored(client, api_key, emergency_answers)
    response = client.post(
        f"/api/v1/assessments/{assessment_id}/checkins",
        json={"answers": checkin()},
        headers=api_key.headers,
    )
    assert response.status_code == 409
    assert response.json()["problems"][0]["field"] == "assessment_id"


def test_another_clinics_key_gets_404(
    client: TestClient, db: Session, complete_answers: dict[str, Any]
) -> None:
    ours = make_key(db, "ours", make_clinic(db, "Riverside Physio"))
    theirs = make_key(db, "theirs", make_clinic(db, "Hilltop GP"))
    assessment_id = stored(client, ours, complete_answers)
    url = f"/api/v1/assessments/{assessment_id}/checkins"
    assert client.post(url, json={"answers": checkin()}, headers=theirs.headers).status_code == 404
    assert client.get(url, headers=theirs.headers).status_code == 404
    assert client.get(url, headers=ours.headers).status_code == 200


def test_a_check_in_cannot_be_stored_as_an_assessment(client: TestClient, api_key: Key) -> None:
    response = client.post(
        "/api/v1/assessments",
        json={"questionnaire": "low-back-checkin", "answers": checkin()},
        headers=api_key.headers,
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "follow_up"


def test_the_check_in_questionnaire_is_published(client: TestClient) -> None:
    response = client.get("/api/v1/questionnaires/low-back-checkin")
    assert response.status_code == 200
    assert response.json()["follows"] == "low-back-audit"


def test_a_check_in_exports_as_a_valid_fhir_bundle_with_pain_and_peg_observations(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.observation import Observation

    assessment_id = stored(client, api_key, complete_answers)
    posted = client.post(
        f"/api/v1/assessments/{assessment_id}/checkins",
        json={"answers": checkin(pain_now=2, peg_pain=3, peg_enjoyment=4, peg_activity=5)},
        headers=api_key.headers,
    ).json()
    response = client.get(
        f"/api/v1/assessments/{assessment_id}/checkins/{posted['id']}/fhir",
        headers=api_key.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    Bundle.model_validate(body)  # a valid R4 Bundle
    kinds = [entry["resource"]["resourceType"] for entry in body["entry"]]
    assert kinds[:2] == ["QuestionnaireResponse", "RiskAssessment"]
    observations = {
        entry["resource"]["code"]["coding"][-1]["code"]: entry["resource"]
        for entry in body["entry"][2:]
    }
    for observation in observations.values():
        Observation.model_validate(observation)
    assert observations["pain_now"]["code"]["coding"][0]["code"] == "72514-3"
    assert observations["pain_now"]["valueInteger"] == 2
    assert observations["peg_score"]["valueQuantity"]["value"] == 4
    missing = client.get(
        f"/api/v1/assessments/{assessment_id}/checkins/{assessment_id}/fhir",
        headers=api_key.headers,
    )
    assert missing.status_code == 404


def test_a_check_in_export_is_audited_only_once_its_bundle_is_made(
    client: TestClient, db: Session, registry: Registry, complete_answers: dict[str, Any]
) -> None:
    clinic = make_clinic(db)
    key = make_key(db, "clinic app", clinic, scopes=("checkins:write",))
    assessment_id = stored(client, key, complete_answers)
    url = f"/api/v1/assessments/{assessment_id}/checkins"
    checkin_id = client.post(url, json={"answers": checkin()}, headers=key.headers).json()["id"]
    row = db.get_one(Checkin, uuid.UUID(checkin_id))
    version = row.questionnaire_version
    row.questionnaire_version = "0.0.1"  # a definition this app no longer loads
    db.commit()
    caller = authenticate(db, key=key.key)
    assert caller is not None

    def exports() -> int:  # in this session's transaction: written, committed or not
        found = select(AuditEvent).where(
            AuditEvent.clinic_id == clinic, AuditEvent.action == "export.fhir"
        )
        return len(db.exec(found).all())

    # The use case itself writes no event for an export it cannot make (not one for the
    # request's rollback to drop), and does not take SQLite's write lock before the Bundle.
    read = api_access.export_checkin(
        db, caller, registry, assessment_id, checkin_id, base_url="https://example.org"
    )
    assert (read.checkin is not None, read.bundle) == (True, None)
    assert exports() == 0
    db.rollback()
    refused = client.get(f"{url}/{checkin_id}/fhir", headers=key.headers)
    assert refused.status_code == 404
    assert "not loaded" in refused.text

    row = db.get_one(Checkin, uuid.UUID(checkin_id))
    row.questionnaire_version = version
    db.commit()
    assert client.get(f"{url}/{checkin_id}/fhir", headers=key.headers).status_code == 200
    db.expire_all()
    assert exports() == 1


def test_a_check_in_step_is_audited_only_once_it_is_worked_out(
    client: TestClient,
    db: Session,
    registry: Registry,
    clock: TestClock,
    complete_answers: dict[str, Any],
    emergency_answers: dict[str, Any],
) -> None:
    """The API's ``next`` stores nothing but reads the earlier check-ins: its audit event is
    written after the step is worked out, so a refused step writes none (not one for the
    request's rollback to drop, after SQLite's write lock was held through the evaluation)."""
    clinic = make_clinic(db)
    key = make_key(db, "clinic app", clinic, scopes=("checkins:write",))
    followed = stored(client, key, complete_answers)
    no_plan = stored(client, key, emergency_answers)
    caller = authenticate(db, key=key.key)
    assert caller is not None

    def step(assessment_id: str, answers: dict[str, Any]) -> api_access.CheckinStep | None:
        return api_access.next_checkin_step(
            db, caller, registry, assessment_id, answers, clock=clock, language="en"
        )

    def events() -> int:  # in this session's transaction: written, committed or not
        found = select(AuditEvent).where(
            AuditEvent.clinic_id == clinic, AuditEvent.action == "checkin.next"
        )
        return len(db.exec(found).all())

    with pytest.raises(api_access.TooManyAnswersError):
        step(followed, {f"q{n}": n for n in range(200)})
    with pytest.raises(CheckinNotPossibleError):
        step(no_plan, {})
    assert step(str(uuid.uuid4()), {}) is None
    assert events() == 0
    worked_out = step(followed, checkin())
    assert worked_out is not None
    assert worked_out.result is not None
    assert worked_out.result["triage"]["level"] == "self_care"
    assert events() == 1
    db.rollback()
    # Through the door: the same refusals, as the API's errors (these pass on the old order
    # too, the request's rollback dropping the event: the calls above are what tell).
    url = f"/api/v1/assessments/{followed}/checkins/next"
    many = client.post(url, json={"answers": {f"q{n}": n for n in range(200)}}, headers=key.headers)
    assert (many.status_code, many.json()["problems"][0]["code"]) == (422, "too_many")
    refused = client.post(
        f"/api/v1/assessments/{no_plan}/checkins/next", json={"answers": {}}, headers=key.headers
    )
    assert (refused.status_code, refused.json()["problems"][0]["code"]) == (409, "no_plan")
    assert events() == 0


def test_a_check_in_naming_another_questionnaire_is_refused_before_anything_is_stored(
    client: TestClient,
    db: Session,
    registry: Registry,
    clock: TestClock,
    complete_answers: dict[str, Any],
) -> None:
    """A QuestionnaireResponse names the check-in it answers (app/api/fhir_in.py): one that is
    not this assessment's check-in stores nothing. (With the questionnaires this app ships,
    every assessment has the one check-in, so only the use case can be asked this.) Refusals
    come in the order the API documents: the scope (403), then the check-in named, then the
    answers' count (422s)."""
    clinic = make_clinic(db)
    writer = authenticate(db, key=make_key(db, "app", clinic, scopes=("checkins:write",)).key)
    reader = authenticate(db, key=make_key(db, "reader", clinic).key)
    assert writer is not None
    assert reader is not None
    assessment_id = stored(client, make_key(db, "intake", clinic), complete_answers)
    follow_up = registry.follow_up(registry.default.id)
    assert follow_up is not None
    too_many = {f"q{n}": n for n in range(200)}

    def store(
        caller: Caller, questionnaire_id: str, answers: dict[str, Any]
    ) -> api_access.StoredCheckin | None:
        return api_access.store_checkin(
            db,
            caller,
            registry,
            assessment_id,
            answers,
            idempotency_key=None,
            clock=clock,
            limits=CheckinLimits(),
            questionnaire_id=questionnaire_id,
            language="en",
        )

    with pytest.raises(api_access.ScopeMissingError):
        store(reader, "another-checkin", too_many)
    with pytest.raises(api_access.NotThisCheckinError):
        store(writer, "another-checkin", too_many)
    with pytest.raises(api_access.TooManyAnswersError):
        store(writer, follow_up.id, too_many)
    assert db.exec(select(Checkin)).all() == []
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "checkin.created")).all() == []
    stored_one = store(writer, follow_up.id, checkin())
    assert stored_one is not None
    assert not stored_one.recorded.replayed
    db.rollback()


def test_a_check_in_can_be_driven_page_by_page_and_shows_only_the_plans_blocks(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    assessment_id = stored(client, api_key, complete_answers)
    url = f"/api/v1/assessments/{assessment_id}/checkins/next"
    first = client.post(url, json={"answers": {}}, headers=api_key.headers).json()
    assert first["page"]["id"] == "checkin_safety"
    answers = checkin()
    done = client.post(url, json={"answers": answers}, headers=api_key.headers).json()
    assert done["complete"] is True
    assert done["result"]["triage"]["level"] == "self_care"
    assert done["result"]["plan"] is not None
    assert db.exec(select(Checkin)).all() == []  # nothing stored


def test_a_check_in_post_is_evaluated_once(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    clock: TestClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assessment_id = stored(client, api_key, complete_answers)
    clock.advance(timedelta(days=8))
    made = count_evaluations(monkeypatch)
    posted = client.post(
        f"/api/v1/assessments/{assessment_id}/checkins",
        json={"answers": checkin(peg_pain=4, peg_enjoyment=5, peg_activity=6)},
        headers=api_key.headers,
    )
    assert posted.status_code == 201, posted.text
    assert made == ["low-back-checkin"]
    # Its PEG is the definition's peg_score, from that one evaluation: (4 + 5 + 6) / 3.
    assert posted.json()["result"]["trend"][-1]["peg"] == 5.0
