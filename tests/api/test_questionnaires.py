"""GET /api/v1/questionnaires and GET /api/v1/questionnaires/{id}."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.api.schemas.questionnaires import QuestionnaireDefinition, QuestionnaireList

BASE = "/api/v1/questionnaires"


def test_the_list_names_the_default_questionnaire_and_needs_no_key(client: TestClient) -> None:
    response = client.get(BASE)

    assert response.status_code == 200
    body = QuestionnaireList.model_validate(response.json())
    assert body.default == "low-back-audit"
    assert [(q.id, q.follows) for q in body.questionnaires] == [
        ("low-back-audit", None),
        ("low-back-checkin", "low-back-audit"),
    ]
    # Only the newest version is offered: older ones are kept to show old submissions.
    assert body.questionnaires[0].version == "2.1.0"


def test_the_definition_lists_sections_pages_and_questions_in_order(client: TestClient) -> None:
    response = client.get(f"{BASE}/low-back-audit")

    assert response.status_code == 200
    definition = QuestionnaireDefinition.model_validate(response.json())
    assert [s.id for s in definition.sections] == ["safety", "pain", "lifestyle", "movement"]
    first_page = definition.sections[0].pages[0]
    assert first_page.id == "about_you"
    assert [q.id for q in first_page.questions] == ["age"]
    second_page = definition.sections[0].pages[1]
    assert second_page.id == "emergency_signs"
    assert [q.id for q in second_page.questions] == [
        "saddle_numbness",
        "bladder_change",
        "bowel_change",
        "sexual_function_change",
        "both_legs",
        "walking_difficulty",
        "chest_pain",
        "serious_accident",
    ]
    assert definition.version == "2.1.0"


def test_the_definition_gives_types_ranges_units_and_options(client: TestClient) -> None:
    body = client.get(f"{BASE}/low-back-audit").json()
    questions = {q["id"]: q for s in body["sections"] for p in s["pages"] for q in p["questions"]}

    age = questions["age"]
    assert (age["type"], age["min"], age["max"], age["unit"]) == ("integer", 0, 120, "years")
    assert [o["code"] for o in questions["leg_pain"]["options"]] == [
        "none",
        "above_knee",
        "below_knee",
    ]
    none_option = questions["spine_diagnosis"]["options"][-1]
    assert (none_option["code"], none_option["exclusive"]) == ("none", True)
    assert questions["height_cm"]["type"] == "number"


def test_the_definition_gives_conditions_as_written(client: TestClient) -> None:
    body = client.get(f"{BASE}/low-back-audit").json()
    sections = {s["id"]: s for s in body["sections"]}
    pages = {p["id"]: p for s in body["sections"] for p in s["pages"]}
    questions = {q["id"]: q for p in pages.values() for q in p["questions"]}

    assert body["stop_when"] == 'triage_level == "emergency"'
    # (2.1) Also asked after a clinician released the programme.
    assert (
        sections["movement"]["when"]
        == 'triage_level == "self_care" or (released and triage_level == "see_doctor")'
    )
    assert pages["leg_compared"]["when"] == 'leg_pain != "none"'
    assert questions["one_sided_sport"]["when"] == "plays_sports"
    assert questions["age"]["when"] is None


def test_the_definition_lists_derived_values_levels_and_rules(client: TestClient) -> None:
    body = client.get(f"{BASE}/low-back-audit").json()

    assert {
        "id": "bmi",
        "label": "Body mass index",
        "value": "weight_kg / (height_cm / 100) ** 2",
    } in body["derived"]
    assert [lv["code"] for lv in body["levels"]] == [
        "emergency",
        "urgent",
        "see_doctor",
        "self_care",
    ]
    assert all(lv["clinician"] and lv["action"] for lv in body["levels"])
    rules = {r["code"]: r for r in body["rules"]}
    assert rules["cauda_equina_saddle"]["level"] == "emergency"
    assert rules["cauda_equina_saddle"]["clinician"].startswith("Possible cauda equina syndrome")
    assert all(r["message"] and r["clinician"] and r["action"] for r in body["rules"])
    assert rules["fragility_fracture"]["when"] == (
        '(recent_pain and ((osteoporosis_or_steroids and onset in ["fall_or_blow",'
        ' "lifting_or_twisting", "sudden_no_cause"]) or (age >= 65 and onset == "fall_or_blow")))'
        ' or (osteoporosis_or_steroids and (recent_flare or pain_trend == "worse"))'
    )
    assert "acute_pain" not in rules
    assert "injury_onset" not in rules
    # 2.1.0 adds four rules and removes none.
    added = {"infection_risk_active", "abdominal_pain", "spine_procedure_recent"}
    assert added | {"inflammatory_possible"} <= set(rules)
    assert len(rules) == 33 + 4


def test_a_question_with_a_picture_gives_its_file_and_alt_text(client: TestClient) -> None:
    body = client.get(f"{BASE}/low-back-audit").json()
    questions = {q["id"]: q for s in body["sections"] for p in s["pages"] for q in p["questions"]}

    assert questions["squat_check"]["image"] == "check-squat.svg"
    assert questions["squat_check"]["image_alt"]
    assert (questions["age"]["image"], questions["age"]["image_alt"]) == (None, None)


def test_an_unknown_questionnaire_is_a_404_naming_it(client: TestClient) -> None:
    response = client.get(f"{BASE}/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "There is no questionnaire 'no-such-thing'.",
        "problems": [
            {
                "field": "questionnaire",
                "code": "unknown_questionnaire",
                "message": "no such questionnaire",
            }
        ],
    }
