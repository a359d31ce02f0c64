"""FHIR R4 exports, checked with the fhir.resources R4B models (R4B = R4 for these resources)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment
from sqlmodel import Session

from app.services import fhir
from app.services.questionnaires import Registry
from tests.fixtures import record_assessment, record_v1_assessment

from .conftest import Key, make_clinic, make_key

FHIR_QUESTIONNAIRE = "/api/v1/questionnaires/low-back-audit/fhir"
VALUE_KEY = {
    "boolean": "valueBoolean",
    "integer": "valueInteger",
    "decimal": "valueDecimal",
    "choice": "valueCoding",
}


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from walk(item.get("item", []))


@pytest.fixture
def questionnaire(client: TestClient) -> dict[str, Any]:
    response = client.get(FHIR_QUESTIONNAIRE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = response.json()
    return body


def items_by_link_id(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in walk(resource["item"])}


# -- Questionnaire -----------------------------------------------------------------------------


def test_the_questionnaire_is_a_valid_r4_questionnaire(questionnaire: dict[str, Any]) -> None:
    parsed = FhirQuestionnaire.model_validate(questionnaire)

    assert parsed.status == "active"
    assert parsed.version == "2.1.0"
    assert parsed.url == "http://127.0.0.1:8000/api/v1/questionnaires/low-back-audit"
    assert [item.linkId for item in parsed.item or []] == [
        "context",  # hidden: what the app gives (a release)
        "section-safety",
        "section-pain",
        "section-lifestyle",
        "section-movement",
        "derived",  # hidden: BMI, counts and the rest, calculated
    ]


def test_every_question_is_an_item_once_with_its_type(
    questionnaire: dict[str, Any], registry: Registry
) -> None:
    link_ids = [item["linkId"] for item in walk(questionnaire["item"])]
    assert len(link_ids) == len(set(link_ids))
    items = items_by_link_id(questionnaire)
    q = registry.default
    # An answer on these pages can stop the interview; then the rest is not required.
    stop_reads = fhir.FhirPath(q).condition_needs(q.stop_when) if q.stop_when else frozenset()
    may_stop = {question.page_id for question in q.questions if question.id in stop_reads}
    assert {"emergency_signs", "leg_symptoms"} <= may_stop
    for question in q.questions:
        item = items[question.id]
        assert item["type"] == fhir.FHIR_ITEM_TYPE[question.type]
        assert item["required"] is (question.required and question.page_id not in may_stop)
        assert item.get("repeats", False) is (question.type == "multi_choice")


def test_choices_become_answer_options_and_ranges_become_min_and_max(
    questionnaire: dict[str, Any],
) -> None:
    items = items_by_link_id(questionnaire)

    codes = [o["valueCoding"]["code"] for o in items["leg_pain"]["answerOption"]]
    assert codes == ["none", "above_knee", "below_knee"]
    extensions = {e["url"].rsplit("/", 1)[-1]: e for e in items["age"]["extension"]}
    assert extensions["minValue"]["valueInteger"] == 0
    assert extensions["maxValue"]["valueInteger"] == 120
    assert extensions["questionnaire-unit"]["valueCoding"]["code"] == "a"
    height = {e["url"].rsplit("/", 1)[-1]: e for e in items["height_cm"]["extension"]}
    assert height["minValue"]["valueDecimal"] == 100
    assert items["saddle_numbness-help"]["type"] == "display"


@pytest.mark.parametrize(
    ("link_id", "enable_when", "behavior"),
    [
        (
            "one_sided_sport",
            [{"question": "plays_sports", "operator": "=", "answerBoolean": True}],
            None,
        ),
        (
            "page-weight_rating",
            [{"question": "knows_height_weight", "operator": "=", "answerBoolean": False}],
            None,
        ),
        (
            "page-sitting_breaks",
            [{"question": "sitting_hours", "operator": ">=", "answerDecimal": 4}],
            None,
        ),
        (
            "recent_flare",
            [
                {
                    "question": "pain_duration",
                    "operator": "=",
                    "answerCoding": {"code": "over_12_weeks"},
                }
            ],
            None,
        ),
        (
            "page-sport_detail",
            [
                {"question": "plays_sports", "operator": "=", "answerBoolean": True},
                {"question": "lifts_weights", "operator": "=", "answerBoolean": True},
            ],
            "any",
        ),
    ],
)
def test_simple_branching_becomes_enable_when(
    questionnaire: dict[str, Any],
    link_id: str,
    enable_when: list[dict[str, Any]],
    behavior: str | None,
) -> None:
    item = items_by_link_id(questionnaire)[link_id]

    actual = [
        {**c, "answerCoding": {"code": c["answerCoding"]["code"]}} if "answerCoding" in c else c
        for c in item["enableWhen"]
    ]
    assert actual == enable_when
    assert item.get("enableBehavior") == behavior


@pytest.mark.parametrize(
    ("link_id", "source"),
    [
        ("section-pain", 'triage_level != "emergency"'),
        ("section-lifestyle", 'triage_level != "emergency"'),
        (
            "section-movement",
            'triage_level == "self_care" or (released and triage_level == "see_doctor")',
        ),
    ],
)
def test_triage_conditions_are_kept_as_written_in_an_extension(
    questionnaire: dict[str, Any], link_id: str, source: str
) -> None:
    item = items_by_link_id(questionnaire)[link_id]

    assert "enableWhen" not in item
    assert {"url": fhir.ENABLE_CONDITION_URL, "valueString": source} in item["extension"]


@pytest.mark.parametrize(
    ("link_id", "source"),
    [
        # "and" over an "or": enableWhen has one behaviour per item, so it cannot say this.
        ("page-pain_pattern", 'pain_duration == "over_12_weeks" and (age < 45 or began_before_45)'),
        # A multiple choice's "not in": FHIR cannot say this either.
        ("page-hang", '"shoulder" not in joint_problems and not falls_or_unsteady and age < 75'),
    ],
)
def test_conditions_fhir_cannot_say_are_kept_as_written_in_an_extension(
    questionnaire: dict[str, Any], link_id: str, source: str
) -> None:
    item = items_by_link_id(questionnaire)[link_id]

    assert "enableWhen" not in item
    assert {"url": fhir.ENABLE_CONDITION_URL, "valueString": source} in item["extension"]


def test_the_early_stop_is_kept_as_written_on_the_questionnaire(
    questionnaire: dict[str, Any],
) -> None:
    assert {
        "url": fhir.STOP_CONDITION_URL,
        "valueString": 'triage_level == "emergency"',
    } in questionnaire["extension"]


def expression_of(item: dict[str, Any]) -> str:
    found = [e for e in item.get("extension", []) if e["url"] == fhir.ENABLE_WHEN_EXPRESSION_URL]
    assert len(found) == 1
    assert "enableWhen" not in item
    expression: str = found[0]["valueExpression"]["expression"]
    assert found[0]["valueExpression"]["language"] == "text/fhirpath"
    return expression


@pytest.mark.parametrize(
    ("link_id", "expression"),
    [
        # The triage so far, read where every answer behind it is in.
        ("section-lifestyle", "((%triageLevel != 'emergency') ~ true)"),
        # The emergency stop, on a safety page: the emergency rules of the earlier pages.
        (
            "page-warning_signs",
            "(%ruleCaudaEquinaSaddle or %ruleCaudaEquinaBladder or %ruleCaudaEquinaBowel"
            " or %ruleCaudaEquinaSexual or %ruleBilateralLegSymptoms or %ruleChestPain"
            " or %ruleMajorTrauma or %ruleGaitDisturbance).not()",
        ),
        # Its own condition and the stop: an emergency can come up on the page before.
        (
            "page-leg_compared",
            "(((%legPain != 'none') ~ true) and ((%triageLevel != 'emergency') ~ true))",
        ),
        # A multiple choice's "not in" is false when unanswered, as the engine's.
        (
            "page-hang",
            "((%jointProblems.exists() and ('shoulder' in %jointProblems).not())"
            " and (%fallsOrUnsteady ~ false) and ((%age < 75) ~ true))",
        ),
    ],
)
def test_other_branching_becomes_an_enable_when_expression(
    questionnaire: dict[str, Any], link_id: str, expression: str
) -> None:
    assert expression_of(items_by_link_id(questionnaire)[link_id]) == expression


def test_the_squat_check_is_asked_only_at_self_care_or_after_a_release(
    questionnaire: dict[str, Any],
) -> None:
    expression = expression_of(items_by_link_id(questionnaire)["section-movement"])

    assert "(%triageLevel = 'self_care') ~ true" in expression
    assert "(%released ~ true) and ((%triageLevel = 'see_doctor') ~ true)" in expression


def test_answers_derived_values_rules_and_the_triage_are_variables(
    questionnaire: dict[str, Any],
) -> None:
    variables = {
        e["valueExpression"]["name"]: e["valueExpression"]["expression"]
        for e in questionnaire["extension"]
        if e["url"] == fhir.VARIABLE_URL
    }

    assert variables["bmi"] == "(%weightKg / (%heightCm / 100).power(2))"
    assert variables["inflammatoryCount"] == (
        "iif(%inflammatoryFeatures.exists(), %inflammatoryFeatures.count())"
    )
    assert variables["ruleCaudaEquinaSaddle"] == "(%saddleNumbness ~ true)"
    assert variables["triageLevel"].startswith("iif((%ruleCaudaEquinaSaddle or ")
    assert variables["painDuration"].endswith(
        ".item.where(linkId='pain_duration').answer.value.code"
    )
    assert list(variables).index("bmi") > list(variables).index("weightKg")
    derived = items_by_link_id(questionnaire)["bmi"]
    assert derived["readOnly"] is True
    assert {
        "url": fhir.CALCULATED_EXPRESSION_URL,
        "valueExpression": {"language": "text/fhirpath", "expression": "%bmi"},
    } in derived["extension"]


def test_rendering_hints_say_what_the_app_shows(questionnaire: dict[str, Any]) -> None:
    items = items_by_link_id(questionnaire)
    urls = {
        link_id: {e["url"].rsplit("/", 1)[-1]: e for e in items[link_id].get("extension", [])}
        for link_id in ("pain_intensity", "age", "squat_check")
    }

    control = urls["pain_intensity"]["questionnaire-itemControl"]["valueCodeableConcept"]
    assert control["coding"][0]["code"] == "slider"
    assert urls["pain_intensity"]["questionnaire-sliderStepValue"]["valueInteger"] == 1
    assert urls["age"]["entryFormat"]["valueString"] == "0 to 120 years"
    media = urls["squat_check"]["sdc-questionnaire-itemMedia"]["valueAttachment"]
    assert media["url"] == "http://127.0.0.1:8000/static/exercises/check-squat.svg"
    assert media["contentType"] == "image/svg+xml"
    assert media["title"]
    none = next(
        o for o in items["spine_diagnosis"]["answerOption"] if o["valueCoding"]["code"] == "none"
    )
    assert none["extension"] == [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive",
            "valueBoolean": True,
        }
    ]


def test_enable_when_only_refers_to_earlier_questions(questionnaire: dict[str, Any]) -> None:
    order = [item["linkId"] for item in walk(questionnaire["item"])]
    for position, item in enumerate(walk(questionnaire["item"])):
        for condition in item.get("enableWhen", []):
            assert order.index(condition["question"]) < position


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("fever", ([{"question": "fever", "operator": "=", "answerBoolean": True}], None)),
        (
            "fever and not chest_pain",
            (
                [
                    {"question": "fever", "operator": "=", "answerBoolean": True},
                    {"question": "chest_pain", "operator": "=", "answerBoolean": False},
                ],
                "all",
            ),
        ),
        (
            "fever or age < 18",
            (
                [
                    {"question": "fever", "operator": "=", "answerBoolean": True},
                    {"question": "age", "operator": "<", "answerInteger": 18},
                ],
                "any",
            ),
        ),
        ('leg_pain in ["above_knee", "below_knee"]', "any of 2"),
        ('leg_pain not in ["none"]', "all of 2"),
        ("age != 40", "all of 2"),
        ('"none" not in spine_diagnosis', None),  # multiple choice: FHIR cannot say this
        ("bmi >= 30", None),  # a derived value
        ('triage_level == "self_care"', None),
        ("age < 44.5", None),  # an integer question compared with a fraction
        ("inflammatory_count >= 4", None),  # a derived value too
        ("fever or age != 40", None),  # "!=" needs "exists" too: not possible inside "any"
        ("18 < age", None),  # constant first: left as written rather than risk a mistake
        ("age + 1 > 40", None),
    ],
)
def test_enable_when_maps_exactly_or_not_at_all(
    registry: Registry, source: str, expected: Any
) -> None:
    mapped = fhir.enable_when(registry.default, source)

    if isinstance(expected, str):
        assert mapped is not None
        behavior, _, count = expected.split()
        assert (mapped[1], len(mapped[0])) == (behavior, int(count))
    else:
        assert mapped == expected


# -- QuestionnaireResponse, RiskAssessment, Observations --------------------------------------


def export(client: TestClient, key: Key, answers: dict[str, Any]) -> dict[str, Any]:
    created = client.post("/api/v1/assessments", json={"answers": answers}, headers=key.headers)
    assert created.status_code == 201
    response = client.get(created.headers["location"] + "/fhir", headers=key.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = response.json()
    return body


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_an_assessment_exports_as_a_valid_r4_bundle(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    bundle = export(client, api_key, complete_answers)

    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    resources = [e.resource for e in parsed.entry or []]
    kinds = [resource.get_resource_type() for resource in resources if resource is not None]
    assert len(kinds) == len(resources)
    assert kinds[:2] == ["QuestionnaireResponse", "RiskAssessment"]
    assert set(kinds[2:]) == {"Observation"}
    for entry in bundle["entry"]:  # each entry also parses as its own resource type
        model: Any = {  # fhir.resources types its classes by their metaclass
            "QuestionnaireResponse": QuestionnaireResponse,
            "RiskAssessment": RiskAssessment,
            "Observation": Observation,
        }[entry["resource"]["resourceType"]]
        model.model_validate(entry["resource"])


def test_every_reference_points_at_an_entry_of_the_bundle(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    bundle = export(client, api_key, complete_answers)
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}

    references = [
        ref["reference"]
        for kind in ("RiskAssessment", "Observation")
        for resource in resources(bundle, kind)
        for ref in [*resource.get("basis", []), *resource.get("derivedFrom", [])]
    ]
    assert references
    assert set(references) <= full_urls


def test_the_response_answers_the_exported_questionnaire(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    questionnaire: dict[str, Any],
) -> None:
    bundle = export(client, api_key, complete_answers)
    [response] = resources(bundle, "QuestionnaireResponse")
    items = items_by_link_id(questionnaire)

    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert response["status"] == "completed"
    answered = {}
    for item in walk(response["item"]):
        defined = items[item["linkId"]]
        if "answer" not in item:
            assert defined["type"] == "group"
            continue
        key = VALUE_KEY[defined["type"]]
        assert all(set(a) == {key} for a in item["answer"])
        if key == "valueCoding":
            allowed = {o["valueCoding"]["code"] for o in defined["answerOption"]}
            assert {a[key]["code"] for a in item["answer"]} <= allowed
        answered[item["linkId"]] = [a[key] for a in item["answer"]]
    assert set(answered) == set(complete_answers)
    assert answered["age"] == [42]
    assert answered["spine_diagnosis"][0]["code"] == "none"


def test_the_risk_assessment_gives_the_level_and_every_reason(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    answers = complete_answers | {"fever": True, "pain_intensity": 9}
    bundle = export(client, api_key, answers)
    [risk] = resources(bundle, "RiskAssessment")

    outcomes = [p["outcome"]["coding"][0] for p in risk["prediction"]]
    assert (outcomes[0]["system"], outcomes[0]["code"]) == (fhir.TRIAGE_LEVEL_SYSTEM, "urgent")
    assert [o["code"] for o in outcomes[1:]] == ["fever", "severe_pain"]
    assert risk["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "high"
    # The receiving clinic gets the clinical words (2.0.0), never only the person's.
    assert risk["mitigation"].startswith("Contact the patient today.")


def test_the_risk_assessment_carries_the_clinical_labels_and_actions(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    created = client.post(
        "/api/v1/assessments",
        json={"answers": complete_answers | {"fever": True, "pain_intensity": 9}},
        headers=api_key.headers,
    ).json()
    triage = created["result"]["triage"]
    bundle = client.get(f"/api/v1/assessments/{created['id']}/fhir", headers=api_key.headers)
    [risk] = resources(bundle.json(), "RiskAssessment")
    RiskAssessment.model_validate(risk)

    level, *rules = risk["prediction"]
    assert level["outcome"]["coding"][0]["display"] == triage["clinician"]
    assert level["outcome"]["text"] == "Urgent: red flag for a serious cause"
    fever = next(r for r in triage["reasons"] if r["code"] == "fever")
    assert fever["clinician"] != fever["message"]
    assert [p["outcome"]["text"] for p in rules] == [r["clinician"] for r in triage["reasons"]]
    assert [p["outcome"]["coding"][0]["display"] for p in rules] == [
        r["clinician"] for r in triage["reasons"]
    ]
    assert risk["mitigation"] == triage["action"]
    assert [n["text"] for n in risk["note"]] == [
        f"{item['clinician']}: {item['action']}" for item in (triage, *triage["reasons"])
    ]
    # Nothing the person was told stands in for a clinical text.
    text = json.dumps(risk)
    assert fever["message"] not in text
    assert triage["advice"] not in text


def test_each_contributor_is_an_observation_with_its_score(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any]
) -> None:
    record = client.post(
        "/api/v1/assessments", json={"answers": complete_answers}, headers=api_key.headers
    ).json()
    bundle = client.get(f"/api/v1/assessments/{record['id']}/fhir", headers=api_key.headers).json()

    scores = {
        o["code"]["coding"][0]["code"]: o["valueInteger"] for o in resources(bundle, "Observation")
    }
    assert scores == {c["code"]: c["score"] for c in record["result"]["contributors"]}


def test_an_emergency_exports_with_no_contributors(
    client: TestClient, api_key: Key, emergency_answers: dict[str, Any]
) -> None:
    bundle = export(client, api_key, emergency_answers)
    Bundle.model_validate(bundle)

    [risk] = resources(bundle, "RiskAssessment")
    assert risk["prediction"][0]["outcome"]["coding"][0]["code"] == "emergency"
    assert resources(bundle, "Observation") == []


def test_an_unfinished_intake_exports_as_a_stopped_response(
    client: TestClient, db: Session, registry: Registry, complete_answers: dict[str, Any]
) -> None:
    clinic = make_clinic(db)
    key = make_key(db, "reception", clinic)
    answers = {k: v for k, v in complete_answers.items() if k != "smoker"} | {"fever": True}
    assessment = record_assessment(
        db, registry.default, answers, channel="intake", clinic_id=clinic, allow_incomplete=True
    )
    db.commit()

    bundle = client.get(f"/api/v1/assessments/{assessment.id}/fhir", headers=key.headers).json()

    Bundle.model_validate(bundle)
    [response] = resources(bundle, "QuestionnaireResponse")
    assert response["status"] == "stopped"
    # The triage is final all the same: every safety question was answered.
    [risk] = resources(bundle, "RiskAssessment")
    assert risk["status"] == "final"
    assert risk["prediction"][0]["outcome"]["coding"][0]["code"] == "urgent"


def test_a_version_1_record_exports_with_its_own_questions_and_words(
    client: TestClient, db: Session, registry: Registry
) -> None:
    clinic = make_clinic(db)
    key = make_key(db, "reception", clinic)
    assessment = record_v1_assessment(
        db, registry, {"major_trauma": True}, channel="intake", clinic_id=clinic
    )
    db.commit()

    bundle = client.get(f"/api/v1/assessments/{assessment.id}/fhir", headers=key.headers).json()

    Bundle.model_validate(bundle)
    [response] = resources(bundle, "QuestionnaireResponse")
    assert response["questionnaire"].endswith("/low-back-audit|1.0.0")
    answered = {item["linkId"] for item in walk(response["item"])}
    assert "major_trauma" in answered  # a 1.0.0 question, which 2.0.0 does not have
    assert "serious_accident" not in answered
    [risk] = resources(bundle, "RiskAssessment")
    level, rule = risk["prediction"]
    assert level["outcome"]["coding"][0]["code"] == "emergency"
    assert rule["outcome"]["coding"][0]["code"] == "major_trauma"
    # No clinical texts in a 1.0.0 record: its own words, as it was exported then.
    [reason] = assessment.result["triage"]["reasons"]
    assert rule["rationale"] == reason["message"]
    assert risk["mitigation"] == assessment.result["triage"]["advice"]
    assert "note" not in risk
