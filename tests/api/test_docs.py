"""The OpenAPI document (/api/v1/openapi.json), its examples, and the /api/docs page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.api import examples
from app.api.schemas import assessments, interview, problems, questionnaires
from app.engine import Result
from app.services.questionnaires import Registry

from .conftest import Key

OPERATIONS = {
    ("get", "/api/v1/questionnaires"),
    ("get", "/api/v1/questionnaires/{questionnaire_id}"),
    ("get", "/api/v1/questionnaires/{questionnaire_id}/fhir"),
    ("post", "/api/v1/questionnaires/{questionnaire_id}/next"),
    ("post", "/api/v1/assessments"),
    ("get", "/api/v1/assessments/{assessment_id}"),
    ("get", "/api/v1/assessments/{assessment_id}/fhir"),
    ("post", "/api/v1/assessments/{assessment_id}/checkins"),
    ("get", "/api/v1/assessments/{assessment_id}/checkins"),
    ("post", "/api/v1/assessments/{assessment_id}/checkins/next"),
    ("get", "/api/v1/assessments/{assessment_id}/checkins/{checkin_id}/fhir"),
    ("post", "/api/v1/assessments/fhir"),
    ("post", "/api/v1/assessments/{assessment_id}/checkins/fhir"),
    ("get", "/healthz"),
}


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(openapi: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): op for path, item in openapi["paths"].items() for method, op in item.items()
    }


def test_the_document_describes_the_api_and_nothing_else(openapi: dict[str, Any]) -> None:
    assert openapi["openapi"].startswith("3.")
    assert set(operations(openapi)) == OPERATIONS


def test_only_the_assessment_operations_ask_for_a_key(openapi: dict[str, Any]) -> None:
    secured = {key for key, op in operations(openapi).items() if op.get("security")}

    assert secured == {k for k in OPERATIONS if "assessments" in k[1]}
    scheme = openapi["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_every_api_operation_has_response_examples_and_posts_have_request_examples(
    openapi: dict[str, Any],
) -> None:
    schemas_ = openapi["components"]["schemas"]
    for (method, path), op in operations(openapi).items():
        if path == "/healthz":
            continue
        ok = op["responses"].get("200") or op["responses"]["201"]
        # JSON first; the canonical URL also answers FHIR JSON (Accept), with its own example.
        media, *others = ok["content"].values()
        assert all(other.get("example") for other in others), (method, path)
        ref = media.get("schema", {}).get("$ref", "")
        example = media.get("example") or schemas_.get(ref.rsplit("/", 1)[-1], {}).get("examples")
        assert example, f"{method} {path} has no response example"
        if method == "post":
            [body] = op["requestBody"]["content"].values()  # application/json, or FHIR's
            assert body["examples"]


def test_validation_errors_are_documented_with_our_error_shape(openapi: dict[str, Any]) -> None:
    for op in operations(openapi).values():
        for status, response in op["responses"].items():
            if status.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


def test_every_operation_that_uses_the_database_documents_the_503(
    openapi: dict[str, Any],
) -> None:
    for (method, path), op in operations(openapi).items():
        if op.get("security"):  # a key is looked up in the database
            unavailable = op["responses"]["503"]
            assert "Retry-After" in unavailable["headers"], (method, path)
            schema = unavailable["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    health = operations(openapi)[("get", "/healthz")]["responses"]
    assert health["503"]["content"]["application/json"]["example"]["database"] == "unreachable"


def test_every_operation_with_a_body_documents_the_415(openapi: dict[str, Any]) -> None:
    for (method, path), op in operations(openapi).items():
        if "requestBody" in op:
            assert "415" in op["responses"], (method, path)


@pytest.mark.parametrize(
    ("model", "example"),
    [
        (Result, examples.EXAMPLE_SELF_CARE_RESULT),
        (Result, examples.EXAMPLE_EMERGENCY_RESULT),
        (assessments.AssessmentRecord, examples.EXAMPLE_RECORD),
        *(
            (model, example)
            for model in (
                problems.Problem,
                problems.ErrorResponse,
                questionnaires.QuestionnaireList,
                questionnaires.QuestionnaireDefinition,
                interview.NextStep,
                assessments.AssessmentCreate,
            )
            for example in (model.model_config.get("json_schema_extra") or {}).get("examples", [])  # type: ignore[union-attr]
        ),
    ],
)
def test_every_example_fits_its_model(model: type[Any], example: dict[str, Any]) -> None:
    TypeAdapter(model).validate_python(example, extra="forbid")


def test_the_documented_request_examples_really_work(
    client: TestClient, api_key: Key, openapi: dict[str, Any]
) -> None:
    ops = operations(openapi)
    create = ops[("post", "/api/v1/assessments")]["requestBody"]["content"]["application/json"]
    for name, example in create["examples"].items():
        response = client.post(
            "/api/v1/assessments", json=example["value"], headers=api_key.headers
        )
        assert response.status_code == 201, name
    expected_level = {"self_care": "self_care", "emergency": "emergency"}
    for name, level in expected_level.items():
        response = client.post(
            "/api/v1/assessments", json=create["examples"][name]["value"], headers=api_key.headers
        )
        assert response.json()["result"]["triage"]["level"] == level
    nxt = ops[("post", "/api/v1/questionnaires/{questionnaire_id}/next")]
    for name, example in nxt["requestBody"]["content"]["application/json"]["examples"].items():
        response = client.post("/api/v1/questionnaires/low-back-audit/next", json=example["value"])
        assert response.status_code == 200, name


def test_the_docs_page_lists_every_operation_without_scripts_or_other_sites(
    client: TestClient,
) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert 'href="/api/v1/openapi.json"' in html
    for method, path in OPERATIONS:
        assert f"{method.upper()} {path}" in html
    assert "<script" not in html
    assert "style=" not in html
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert all(link.startswith(("/", "#", "http://testserver/")) for link in links), links
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_the_usual_address_of_the_openapi_document_leads_to_the_api_s(client: TestClient) -> None:
    moved = client.get("/openapi.json", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == "/api/v1/openapi.json"
    assert client.get("/openapi.json").json() == client.get("/api/v1/openapi.json").json()
    # The API's document, not FastAPI's default of the whole app; and no Swagger UI or ReDoc,
    # which would load scripts from a CDN.
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_the_document_names_the_levels_of_the_loaded_definitions(
    openapi: dict[str, Any], registry: Registry
) -> None:
    """The engine's types say a level is a string; the codes are the definitions' data."""
    level = openapi["components"]["schemas"]["Triage"]["properties"]["level"]
    assert level["enum"] == [lv.code for lv in registry.levels]
    assert level["enum"][0] == "emergency"  # most urgent first


def test_the_result_contracts_descriptions_are_the_engines_docstrings(
    openapi: dict[str, Any],
) -> None:
    schemas_ = openapi["components"]["schemas"]
    start_step = schemas_["PlanBlock"]["properties"]["start_step"]["description"]
    assert start_step.startswith("Where to start: an index into `steps`")
    assert "\n" not in start_step  # the docstring's wrapping is not the document's
    checkin = schemas_["CheckinResult"]["properties"]
    assert (
        checkin["release"]["description"]
        == schemas_["Result"]["properties"]["release"]["description"]
    )
    assert schemas_["Result"]["examples"][0]["triage"]["level"] == "self_care"
