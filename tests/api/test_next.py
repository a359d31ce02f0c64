"""POST /api/v1/questionnaires/{id}/next: the stateless, page-at-a-time interview."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.api.schemas.interview import NextStep
from app.models import Assessment
from tests.fixtures import SAFETY_ALL_NO

from .conftest import Key

NEXT = "/api/v1/questionnaires/low-back-audit/next"


def step(client: TestClient, answers: dict[str, Any]) -> dict[str, Any]:
    response = client.post(NEXT, json={"answers": answers})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    NextStep.model_validate(body)
    return body


def test_with_no_answers_the_first_page_is_the_safety_screen(client: TestClient) -> None:
    body = step(client, {})

    assert body["complete"] is False
    assert body["page"]["id"] == "about_you"
    assert body["page"]["section"] == {"id": "safety", "title": "Safety check"}
    assert [q["id"] for q in body["page"]["questions"]] == ["age"]
    assert body["progress"]["answered"] == 0
    assert body["problems"] == []
    assert body["result"] is None


def test_an_empty_object_starts_the_interview_too(client: TestClient) -> None:
    response = client.post(NEXT, json={})
    assert response.status_code == 200
    assert response.json()["page"]["id"] == "about_you"


def test_the_next_page_follows_the_answers_so_far(client: TestClient) -> None:
    body = step(client, {"age": 42})

    assert body["page"]["id"] == "emergency_signs"
    assert [q["id"] for q in body["page"]["questions"]] == [
        "saddle_numbness",
        "bladder_change",
        "bowel_change",
        "sexual_function_change",
        "both_legs",
        "walking_difficulty",
        "chest_pain",
        "serious_accident",
    ]
    assert body["progress"]["answered"] == 1

    body = step(
        client,
        {
            "age": 42,
            "saddle_numbness": False,
            "bladder_change": False,
            "bowel_change": False,
            "sexual_function_change": False,
            "both_legs": False,
            "walking_difficulty": False,
            "chest_pain": False,
            "serious_accident": "no",
        },
    )

    assert body["page"]["id"] == "warning_signs"
    assert body["progress"]["answered"] == 9
    assert 0 < body["progress"]["percent"] < 100


def test_a_page_shows_its_questions_with_type_range_and_unit(client: TestClient) -> None:
    answers = {k: v for k, v in SAFETY_ALL_NO.items() if k not in ("age", "pregnant")}
    body = step(client, answers)

    assert body["page"]["id"] == "about_you"
    age = body["page"]["questions"][0]
    assert (age["id"], age["type"], age["min"], age["max"], age["unit"]) == (
        "age",
        "integer",
        0,
        120,
        "years",
    )


def test_branching_shows_only_the_questions_that_apply(client: TestClient) -> None:
    answers = {
        **SAFETY_ALL_NO,
        "pain_duration": "over_12_weeks",
        "first_episode": False,
        "onset": "gradual",
        "pain_trend": "same",
        "recent_flare": False,
        "seen_about_this_pain": True,
        "pain_intensity": 3,
        "peg_enjoyment": 2,
        "peg_activity": 2,
        "leg_pain": "none",
        "leg_numbness": False,
        "spine_diagnosis": ["none"],
        "knows_height_weight": True,
        "height_cm": 170,
        "weight_kg": 70,
        "activity_minutes_week": 200,
        "strength_days_week": 2,
        "stretching_frequency": "daily",
        "plays_sports": False,
        "lifts_weights": True,
    }
    body = step(client, answers)

    # age 42 and over 12 weeks: the inflammatory-pattern page comes first.
    assert body["page"]["id"] == "pain_pattern"
    assert [q["id"] for q in body["page"]["questions"]] == ["inflammatory_features"]
    body = step(client, answers | {"inflammatory_features": ["none"]})
    assert body["page"]["id"] == "sport_detail"
    assert [q["id"] for q in body["page"]["questions"]] == ["loaded_squats"]


def test_an_emergency_sign_stops_the_interview_with_the_emergency_result(
    client: TestClient,
) -> None:
    body = step(client, {"saddle_numbness": True})

    assert body["complete"] is True
    assert body["stopped"] is True
    assert body["page"] is None
    assert body["progress"]["remaining"] == 0
    result = body["result"]
    assert result["complete"] is True
    assert result["triage"]["level"] == "emergency"
    assert [r["code"] for r in result["triage"]["reasons"]] == ["cauda_equina_saddle"]
    assert result["plan"] is None


def test_the_emergency_result_does_not_wait_for_other_answers_to_be_fixed(
    client: TestClient,
) -> None:
    body = step(client, {"saddle_numbness": True, "age": 300})

    assert body["complete"] is True
    assert body["result"]["triage"]["level"] == "emergency"
    assert body["problems"] == [
        {"question": "age", "code": "out_of_range", "message": "must be from 0 to 120"}
    ]


@pytest.mark.parametrize(
    ("answers", "question", "code"),
    [
        ({"age": 300}, "age", "out_of_range"),
        ({"age": "forty"}, "age", "wrong_type"),
        ({"age": 40.5}, "age", "wrong_type"),
        ({"fever": "yes"}, "fever", "wrong_type"),
        ({"leg_pain": "everywhere"}, "leg_pain", "invalid_option"),
        ({"spine_diagnosis": ["none", "disc_bulge"]}, "spine_diagnosis", "invalid_option"),
        ({"favourite_colour": "blue"}, "favourite_colour", "unknown_question"),
    ],
)
def test_a_bad_answer_is_a_problem_in_a_200_not_a_422(
    client: TestClient, answers: dict[str, Any], question: str, code: str
) -> None:
    body = step(client, answers)

    assert [(p["question"], p["code"]) for p in body["problems"]] == [(question, code)]
    assert body["complete"] is False
    assert body["result"] is None


def test_the_page_with_a_bad_answer_comes_back_to_be_corrected(client: TestClient) -> None:
    body = step(client, {**SAFETY_ALL_NO, "age": 300})

    assert body["page"]["id"] == "about_you"


def test_answers_to_hidden_questions_are_reported_as_ignored(client: TestClient) -> None:
    body = step(client, {**SAFETY_ALL_NO, "leg_pain": "none", "leg_pain_worse_than_back": True})

    assert body["ignored_answers"] == ["leg_pain_worse_than_back"]


def test_complete_answers_give_the_result_but_store_nothing(
    client: TestClient, complete_answers: dict[str, Any], db: Session
) -> None:
    body = step(client, complete_answers)

    assert body["complete"] is True
    assert body["stopped"] is False
    assert body["page"] is None
    assert body["result"]["triage"]["level"] == "self_care"
    assert body["result"]["plan"] is not None
    assert db.exec(select(Assessment)).all() == []


@pytest.mark.parametrize(
    "body",
    [{"answers": []}, {"answers": "age=40"}, {"answers": {}, "extra": 1}, []],
)
def test_a_body_of_the_wrong_shape_is_a_422_naming_the_field(client: TestClient, body: Any) -> None:
    response = client.post(NEXT, json=body)

    assert response.status_code == 422
    problems = response.json()["problems"]
    assert problems
    assert all("field" in p and p["code"] and p["message"] for p in problems)


@pytest.mark.parametrize("headers", [{"Content-Type": "text/plain"}, {}])
def test_a_body_not_sent_as_json_is_a_415_naming_the_content_type(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.post(NEXT, content=b'{"answers": {}}', headers=headers)

    assert response.status_code == 415
    assert [p["field"] for p in response.json()["problems"]] == ["Content-Type"]


def test_an_unknown_questionnaire_is_a_404(client: TestClient) -> None:
    response = client.post("/api/v1/questionnaires/nope/next", json={"answers": {}})
    assert response.status_code == 404


def test_a_question_id_that_is_not_valid_unicode_is_a_problem_not_a_crash(
    client: TestClient,
) -> None:
    response = client.post(
        NEXT,
        content=b'{"answers": {"\\ud800": 1}}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 200
    assert response.json()["problems"][0]["code"] == "unknown_question"


def test_a_problem_never_repeats_what_was_sent(client: TestClient) -> None:
    sent = "<script>" + "x" * 500
    response = client.post(NEXT, json={"answers": {**SAFETY_ALL_NO, "spine_diagnosis": [sent]}})
    assert response.status_code == 200
    [problem] = response.json()["problems"]
    assert (problem["question"], problem["code"]) == ("spine_diagnosis", "invalid_option")
    assert "x" * 20 not in response.text
    assert "<script>" not in response.text


def test_more_answers_than_questions_are_refused_before_they_are_checked(
    client: TestClient, api_key: Key
) -> None:
    """One problem per unknown key once gave a 130 MB answer."""
    too_many = {f"q{i}": 1 for i in range(500)}
    for url, headers in ((NEXT, {}), ("/api/v1/assessments", api_key.headers)):
        response = client.post(url, json={"answers": too_many}, headers=headers)
        assert response.status_code == 422, url
        assert response.json()["problems"] == [
            {
                "field": "answers",
                "code": "too_many",
                "message": "has more entries than there are questions",
            }
        ]


@pytest.mark.parametrize(
    "body",
    [
        '{"answers": {"age": ' + "[" * 2000 + "]" * 2000 + "}}",  # nested too deep
        '{"answers": {"age": ' + "9" * 5000 + "}}",  # more digits than Python reads
    ],
)
def test_a_body_the_json_reader_gives_up_on_is_a_400_with_its_problem(
    client: TestClient, body: str
) -> None:
    response = client.post(NEXT, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["problems"] == [
        {"field": "body", "code": "invalid_json", "message": "is not valid JSON"}
    ]
