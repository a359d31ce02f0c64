"""FHIR in: QuestionnaireResponses posted to /assessments/fhir and /assessments/{id}/checkins/fhir,
and the QuestionnaireResponses every journey exports, checked against their own Questionnaire."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from sqlmodel import Session

from app.services import fhir
from app.services.questionnaires import Registry
from tests.fixtures import V2_ANSWERS, V2_STILL_ACCEPTED, TestClock, record_assessment
from tests.support.answers import checkin

from .conftest import Key, make_clinic, make_key

PUBLIC_URL = "http://127.0.0.1:8000"  # the test settings' PUBLIC_URL: the canonical URLs' base
FHIR_JSON = {"Content-Type": "application/fhir+json"}
# Answers for each level (changes to the complete self-care answers), an emergency apart.
LEVELS = {
    "self_care": {},
    "see_doctor": {"pain_intensity": 9},
    "urgent": {"fever": True, "pain_intensity": 9},
}


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def resource(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    [found] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]
    assert isinstance(found, dict)
    return found


def stored(client: TestClient, key: Key, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/assessments", json=body, headers=key.headers)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def exported(client: TestClient, key: Key, path: str) -> dict[str, Any]:
    response = client.get(path, headers=key.headers)
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()
    return bundle


def post_fhir(client: TestClient, key: Key, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, json=body, headers={**key.headers, **FHIR_JSON, **headers})


def problems_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 422, response.text
    problems: list[dict[str, str]] = response.json()["problems"]
    return problems


# -- every journey's QuestionnaireResponse is valid against its own Questionnaire ---------------


def check_against_questionnaire(response: dict[str, Any], questionnaire: dict[str, Any]) -> None:
    """What a validator can check without running SDC expressions, written from the R4
    Questionnaire alone (not from the app's reader): each item's linkId exists, in its own
    group; a non-repeating item has one answer, of the item's type; a coded answer is one of
    the item's options; the status says whether the interview finished."""
    defined: dict[str, tuple[dict[str, Any], str | None]] = {}

    def index(items: list[dict[str, Any]], parent: str | None) -> None:
        for item in items:
            defined[item["linkId"]] = (item, parent)
            index(item.get("item", []), item["linkId"])

    index(questionnaire["item"], None)
    value_key = {
        "boolean": "valueBoolean",
        "integer": "valueInteger",
        "decimal": "valueDecimal",
        "choice": "valueCoding",
    }

    def check(items: list[dict[str, Any]], parent: str | None) -> None:
        for item in items:
            definition, expected_parent = defined[item["linkId"]]
            assert parent == expected_parent, item["linkId"]
            if definition["type"] == "group":
                assert "answer" not in item, item["linkId"]
                assert item["item"], item["linkId"]
                check(item["item"], item["linkId"])
                continue
            answers = item["answer"]
            assert answers, f"{item['linkId']}: an item without an answer is left out"
            assert len(answers) == 1 or definition.get("repeats"), item["linkId"]
            for answer in answers:
                assert list(answer) == [value_key[definition["type"]]], item["linkId"]
                if definition["type"] == "choice":
                    options = [o["valueCoding"] for o in definition["answerOption"]]
                    given = answer["valueCoding"]
                    assert any(
                        (o["system"], o["code"]) == (given["system"], given["code"])
                        for o in options
                    ), item["linkId"]

    check(response["item"], None)
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert response["status"] in ("completed", "stopped")


def test_every_journeys_response_is_valid_against_its_own_questionnaire(
    client: TestClient,
    db: Session,
    registry: Registry,
    api_key: Key,
    complete_answers: dict[str, Any],
    emergency_answers: dict[str, Any],
    clock: TestClock,
) -> None:
    clock.set(V2_STILL_ACCEPTED)  # one body pins 2.0.0
    bodies: list[dict[str, Any]] = [
        *({"answers": complete_answers | changes} for changes in LEVELS.values()),
        {"answers": emergency_answers},
        {"answers": V2_ANSWERS, "questionnaire_version": "2.0.0"},
    ]
    paths = [f"/api/v1/assessments/{stored(client, api_key, body)['id']}/fhir" for body in bodies]
    # A person told to see a doctor who stopped before the lifestyle questions (an intake).
    clinic = make_clinic(db)
    clinic_key = make_key(db, "reception", clinic)
    unfinished = {k: v for k, v in complete_answers.items() if k != "smoker"} | {"fever": True}
    stopped = record_assessment(
        db, registry.default, unfinished, channel="intake", clinic_id=clinic, allow_incomplete=True
    )
    db.commit()
    self_care = paths[0].removesuffix("/fhir")
    posted = client.post(
        f"{self_care}/checkins", json={"answers": checkin()}, headers=api_key.headers
    ).json()
    paths.append(f"{self_care}/checkins/{posted['id']}/fhir")

    bundles = [exported(client, api_key, path) for path in paths]
    bundles.append(exported(client, clinic_key, f"/api/v1/assessments/{stopped.id}/fhir"))
    statuses = []
    for bundle in bundles:
        Bundle.model_validate(bundle)
        response = resource(bundle, "QuestionnaireResponse")
        questionnaire_id, version = fhir.named_questionnaire(response, base_url=PUBLIC_URL)
        assert version is not None
        questionnaire = fhir.questionnaire_resource(
            registry.exact(questionnaire_id, version), base_url=PUBLIC_URL
        )
        FhirQuestionnaire.model_validate(questionnaire)
        check_against_questionnaire(response, questionnaire)
        statuses.append(response["status"])

    # The emergency stop is complete with only the safety answers; the intake that stopped
    # before the end says so.
    assert statuses == [*["completed"] * 6, "stopped"]
    emergency = resource(bundles[3], "QuestionnaireResponse")
    answered = {item["linkId"] for item in walk(emergency["item"]) if "answer" in item}
    assert answered == set(emergency_answers)


def test_every_exported_resource_has_a_short_generated_narrative(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    record = stored(client, api_key, {"answers": complete_answers})
    path = f"/api/v1/assessments/{record['id']}"
    posted = client.post(
        f"{path}/checkins", json={"answers": checkin()}, headers=api_key.headers
    ).json()
    resources = [
        client.get("/api/v1/questionnaires/low-back-audit/fhir").json(),
        client.get("/api/v1/questionnaires/low-back-checkin/fhir").json(),
        *(e["resource"] for e in exported(client, api_key, f"{path}/fhir")["entry"]),
        *(
            e["resource"]
            for e in exported(client, api_key, f"{path}/checkins/{posted['id']}/fhir")["entry"]
        ),
    ]
    for found in resources:
        text = found["text"]
        assert text["status"] == "generated"
        assert text["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml"><p>')
        assert len(text["div"]) < 2_000, found["resourceType"]


def test_a_check_ins_risk_assessment_has_its_own_identifier_and_peg_is_a_ucum_score(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    record = stored(client, api_key, {"answers": complete_answers})
    path = f"/api/v1/assessments/{record['id']}"
    posted = client.post(
        f"{path}/checkins",
        json={"answers": checkin(peg_pain=4, peg_enjoyment=4, peg_activity=5)},
        headers=api_key.headers,
    ).json()
    assessment_risk = resource(exported(client, api_key, f"{path}/fhir"), "RiskAssessment")
    bundle = exported(client, api_key, f"{path}/checkins/{posted['id']}/fhir")
    checkin_risk = resource(bundle, "RiskAssessment")

    assert checkin_risk["identifier"] == [
        {"system": "urn:backaudit:checkin", "value": posted["id"]}
    ]
    assert checkin_risk["identifier"] != assessment_risk["identifier"]
    [peg] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"].get("code", {}).get("coding", [{}])[-1].get("code") == "peg_score"
    ]
    assert peg["valueQuantity"] == {
        "value": 4.33,
        "unit": "score",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }


def test_the_canonical_url_answers_with_the_fhir_questionnaire_when_asked(
    client: TestClient,
) -> None:
    fhir_one = client.get("/api/v1/questionnaires/low-back-audit/fhir").json()
    path = fhir_one["url"].removeprefix(PUBLIC_URL)

    asked = client.get(path, headers={"Accept": "application/fhir+json"})
    assert asked.status_code == 200
    assert asked.headers["content-type"].startswith("application/fhir+json")
    assert asked.json() == fhir_one
    assert asked.headers["vary"] == "Accept, Accept-Language"  # the JSON one has languages
    # A plain JSON client gets the app's own definition, as before.
    for accept in ("application/json", "*/*", None):
        plain = client.get(path, headers={"Accept": accept} if accept else {})
        assert plain.headers["content-type"] == "application/json"
        assert "resourceType" not in plain.json()


# -- FHIR in: the QR the app exports, posted back, gives the same result ------------------------


def without_times(result: dict[str, Any]) -> dict[str, Any]:
    kept = copy.deepcopy(result)
    for point in kept.get("trend", []):
        point.pop("at", None)
    return kept


@pytest.mark.parametrize("level", [*LEVELS, "emergency", "2.0.0"])
def test_an_exported_response_posted_back_gives_the_same_result(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    emergency_answers: dict[str, Any],
    level: str,
    clock: TestClock,
) -> None:
    clock.set(V2_STILL_ACCEPTED)  # one body pins 2.0.0
    special: dict[str, dict[str, Any]] = {
        "emergency": {"answers": emergency_answers},
        "2.0.0": {"answers": V2_ANSWERS, "questionnaire_version": "2.0.0"},
    }
    body = special.get(level) or {"answers": complete_answers | LEVELS[level]}
    first = stored(client, api_key, body)
    bundle = exported(client, api_key, f"/api/v1/assessments/{first['id']}/fhir")
    response = resource(bundle, "QuestionnaireResponse")

    again = post_fhir(client, api_key, "/api/v1/assessments/fhir", response)

    assert again.status_code == 201, again.text
    record = again.json()
    assert again.headers["location"] == f"/api/v1/assessments/{record['id']}"
    assert record["id"] != first["id"]
    # The same result; only the answers the first request sent to hidden questions (which the
    # record does not keep) are not there to be ignored.
    assert record["result"] == first["result"] | {"ignored_answers": []}
    assert record["channel"] == "api"
    # With the stored result's RiskAssessment, as its own Bundle has it.
    risk = record["risk_assessment"]
    assert risk["resourceType"] == "RiskAssessment"
    assert (
        risk["prediction"][0]["outcome"]["coding"][0]["code"] == first["result"]["triage"]["level"]
    )
    stored_again = exported(client, api_key, f"/api/v1/assessments/{record['id']}/fhir")
    assert resource(stored_again, "RiskAssessment") == risk


def test_an_exported_check_in_posted_back_gives_the_same_result(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    # Two assessments with the same answers: the check-in of one, posted as FHIR to the other.
    first, second = (stored(client, api_key, {"answers": complete_answers}) for _ in range(2))
    sent = client.post(
        f"/api/v1/assessments/{first['id']}/checkins",
        json={"answers": checkin(pain_now=2, peg_pain=3, peg_enjoyment=4, peg_activity=5)},
        headers=api_key.headers,
    ).json()
    bundle = exported(
        client, api_key, f"/api/v1/assessments/{first['id']}/checkins/{sent['id']}/fhir"
    )

    again = post_fhir(
        client,
        api_key,
        f"/api/v1/assessments/{second['id']}/checkins/fhir",
        resource(bundle, "QuestionnaireResponse"),
    )

    assert again.status_code == 201, again.text
    record = again.json()
    assert record["assessment_id"] == second["id"]
    assert without_times(record["result"]) == without_times(sent["result"])
    risk = record["risk_assessment"]
    assert risk["identifier"] == [{"system": "urn:backaudit:checkin", "value": record["id"]}]


def test_a_response_is_stored_with_the_idempotency_rules_of_json_answers(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    first = stored(client, api_key, {"answers": complete_answers})
    bundle = exported(client, api_key, f"/api/v1/assessments/{first['id']}/fhir")
    response = resource(bundle, "QuestionnaireResponse")
    key = {"Idempotency-Key": "fhir-in-1"}

    created = post_fhir(client, api_key, "/api/v1/assessments/fhir", response, **key)
    replayed = post_fhir(client, api_key, "/api/v1/assessments/fhir", response, **key)
    other = copy.deepcopy(response)
    [age] = [item for item in walk(other["item"]) if item["linkId"] == "age"]
    age["answer"] = [{"valueInteger": 61}]
    conflict = post_fhir(client, api_key, "/api/v1/assessments/fhir", other, **key)

    assert (created.status_code, replayed.status_code) == (201, 200)
    assert replayed.json()["id"] == created.json()["id"]
    assert replayed.headers["idempotency-replayed"] == "true"
    assert conflict.status_code == 409
    assert conflict.json()["problems"][0]["field"] == "Idempotency-Key"


def test_fhir_in_needs_a_key(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    first = stored(client, api_key, {"answers": complete_answers})
    bundle = exported(client, api_key, f"/api/v1/assessments/{first['id']}/fhir")
    response = client.post(
        "/api/v1/assessments/fhir",
        json=resource(bundle, "QuestionnaireResponse"),
        headers=FHIR_JSON,
    )
    assert response.status_code == 401


# -- FHIR in: a response that does not fit its Questionnaire is a 422 naming the linkId ---------


@pytest.fixture
def sent_response(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> dict[str, Any]:
    first = stored(client, api_key, {"answers": complete_answers})
    bundle = exported(client, api_key, f"/api/v1/assessments/{first['id']}/fhir")
    return resource(bundle, "QuestionnaireResponse")


def item(response: dict[str, Any], link_id: str) -> dict[str, Any]:
    [found] = [i for i in walk(response["item"]) if i["linkId"] == link_id]
    return found


def test_an_answer_of_the_wrong_type_is_a_422_naming_the_items_link_id(
    client: TestClient, api_key: Key, sent_response: dict[str, Any]
) -> None:
    item(sent_response, "age")["answer"] = [{"valueString": "52"}]
    item(sent_response, "smoker")["answer"] = [{"valueBoolean": True}, {"valueBoolean": False}]

    response = post_fhir(client, api_key, "/api/v1/assessments/fhir", sent_response)

    assert {(p["question"], p["code"]) for p in problems_of(response)} == {
        ("age", "wrong_type"),
        ("smoker", "too_many_answers"),
    }
    assert "item 'age'" in problems_of(response)[0]["message"]


def test_a_code_that_is_not_an_option_or_an_item_out_of_place_is_a_422(
    client: TestClient, api_key: Key, sent_response: dict[str, Any]
) -> None:
    spine = item(sent_response, "spine_diagnosis")
    spine["answer"] = [{"valueCoding": {**spine["answer"][0]["valueCoding"], "code": "gout"}}]
    # A question moved out of its page, and an item the Questionnaire does not have.
    age = item(sent_response, "age")
    for section in sent_response["item"]:
        for page in section["item"]:
            page["item"] = [i for i in page["item"] if i["linkId"] != "age"]
    sent_response["item"].append(age)
    sent_response["item"].append({"linkId": "made-up", "answer": [{"valueBoolean": True}]})

    response = post_fhir(client, api_key, "/api/v1/assessments/fhir", sent_response)

    found = {(p.get("question") or p.get("field"), p["code"]) for p in problems_of(response)}
    assert found == {
        ("spine_diagnosis", "not_an_option"),
        ("age", "wrong_place"),
        ("item", "unknown_item"),
    }
    assert "made-up" not in response.text  # what a client made up is never echoed


def test_answers_the_engine_refuses_are_a_422_by_link_id_too(
    client: TestClient, api_key: Key, sent_response: dict[str, Any]
) -> None:
    item(sent_response, "age")["answer"] = [{"valueInteger": 300}]
    for section in sent_response["item"]:
        for page in section["item"]:
            page["item"] = [i for i in page["item"] if i["linkId"] != "smoker"]

    response = post_fhir(client, api_key, "/api/v1/assessments/fhir", sent_response)

    assert {(p["question"], p["code"]) for p in problems_of(response)} >= {
        ("age", "out_of_range"),
        ("smoker", "required"),
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"resourceType": "Observation"}, "resourceType"),
        ({"questionnaire": "http://elsewhere.example/Questionnaire/x|1"}, "questionnaire"),
        ({"questionnaire": f"{PUBLIC_URL}/api/v1/questionnaires/nothing|1"}, "questionnaire"),
        (
            {"questionnaire": f"{PUBLIC_URL}/api/v1/questionnaires/low-back-audit|9.9.9"},
            "questionnaire_version",
        ),
        (
            {"questionnaire": f"{PUBLIC_URL}/api/v1/questionnaires/low-back-checkin|1.1.0"},
            "questionnaire",
        ),
        ({"status": "entered-in-error"}, "status"),
    ],
)
def test_a_response_to_no_questionnaire_of_ours_is_a_422_naming_the_field(
    client: TestClient,
    api_key: Key,
    sent_response: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    response = post_fhir(client, api_key, "/api/v1/assessments/fhir", sent_response | change)

    assert [p["field"] for p in problems_of(response)] == [field]
    assert "nothing was stored" in response.json()["detail"]


def test_an_assessments_response_is_not_a_check_in(
    client: TestClient,
    api_key: Key,
    sent_response: dict[str, Any],
    complete_answers: dict[str, Any],
) -> None:
    other = stored(client, api_key, {"answers": complete_answers})
    response = post_fhir(
        client, api_key, f"/api/v1/assessments/{other['id']}/checkins/fhir", sent_response
    )
    assert [p["field"] for p in problems_of(response)] == ["questionnaire"]


def test_the_fhir_endpoints_are_in_the_openapi_document_with_an_example_that_works(
    client: TestClient, api_key: Key
) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/assessments/fhir", "/api/v1/assessments/{assessment_id}/checkins/fhir"):
        body = paths[path]["post"]["requestBody"]["content"]
        assert list(body) == ["application/fhir+json"]
        assert body["application/fhir+json"]["schema"]["properties"]["resourceType"] == {
            "type": "string",
            "const": "QuestionnaireResponse",
        }
    example = paths["/api/v1/assessments/fhir"]["post"]["requestBody"]["content"][
        "application/fhir+json"
    ]["examples"]["emergency"]["value"]

    response = post_fhir(client, api_key, "/api/v1/assessments/fhir", example)

    assert response.status_code == 201, response.text
    assert response.json()["result"]["triage"]["level"] == "emergency"


def test_the_hidden_context_and_derived_items_are_never_read_back(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    # The Questionnaire has hidden items for what the app gives (a clinician's release) and
    # what it calculates (BMI): a response that fills them in changes nothing.
    first = stored(client, api_key, {"answers": complete_answers | LEVELS["see_doctor"]})
    bundle = exported(client, api_key, f"/api/v1/assessments/{first['id']}/fhir")
    response = resource(bundle, "QuestionnaireResponse")
    response["item"].insert(
        0,
        {
            "linkId": fhir.CONTEXT_LINK_ID,
            "item": [{"linkId": "released", "answer": [{"valueBoolean": True}]}],
        },
    )
    response["item"].append(
        {
            "linkId": fhir.DERIVED_LINK_ID,
            "item": [{"linkId": "bmi", "answer": [{"valueDecimal": 40.0}]}],
        }
    )

    again = post_fhir(client, api_key, "/api/v1/assessments/fhir", response)

    assert again.status_code == 201, again.text
    assert again.json()["result"] == first["result"] | {"ignored_answers": []}
    assert first["result"]["triage"]["level"] == "see_doctor"


def test_a_response_with_what_lhc_forms_adds_is_read_as_ours(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    # LHC-Forms 40.1.3's own response (tests/browser/test_lhc_forms.py posts it) adds each
    # item's text, each coding's display, a meta profile and tag and `authored`, all valid R4;
    # its hidden items it leaves out. None of it is refused or read.
    first = stored(client, api_key, {"answers": complete_answers})
    bundle = exported(client, api_key, f"/api/v1/assessments/{first['id']}/fhir")
    response = resource(bundle, "QuestionnaireResponse")
    questionnaire = client.get("/api/v1/questionnaires/low-back-audit/fhir").json()
    texts = {item["linkId"]: item["text"] for item in walk(questionnaire["item"]) if "text" in item}
    for item in walk(response["item"]):
        if item["linkId"] in texts:
            item["text"] = texts[item["linkId"]]
        for answer in item.get("answer", []):
            if "valueCoding" in answer:
                answer["valueCoding"]["display"] = "as the form showed it"
    response |= {
        "meta": {
            "profile": ["http://hl7.org/fhir/4.0/StructureDefinition/QuestionnaireResponse"],
            "tag": [{"code": "lformsVersion: 40.1.3"}],
        },
        "authored": "2026-01-05T10:00:00.000Z",
    }

    again = post_fhir(client, api_key, "/api/v1/assessments/fhir", response)

    assert again.status_code == 201, again.text
    assert again.json()["result"] == first["result"] | {"ignored_answers": []}
