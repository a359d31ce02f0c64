"""Branching, early stop, paging and answer validation."""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.engine import AnswerError, assess, build_result, evaluate

from .support import BASELINE, EMERGENCY_SIGNS, RED_FLAGS, answers, questionnaire


def visible_ids(given: dict[str, Any]) -> set[str]:
    return {q.id for q in evaluate(questionnaire(), given).visible}


# question, answers that show it, answers that hide it
CONDITIONAL: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("leg_pain_worse_than_back", {"leg_pain": "above_knee"}, {"leg_pain": "none"}),
    ("leg_pain_worse_than_back", {"leg_pain": "below_knee"}, {"leg_pain": "none"}),
    ("inflammatory_features", {"pain_duration": "over_12_weeks", "age": 44}, {"pain_duration": "over_12_weeks", "age": 45}),
    ("inflammatory_features", {"pain_duration": "over_12_weeks", "age": 30}, {"pain_duration": "6_to_12_weeks", "age": 30}),
    ("inflammatory_features", {"pain_duration": "over_12_weeks", "age": 50, "began_before_45": True}, {"pain_duration": "over_12_weeks", "age": 50, "began_before_45": False}),
    ("began_before_45", {"pain_duration": "over_12_weeks", "age": 45}, {"pain_duration": "over_12_weeks", "age": 44}),
    ("height_cm", {"knows_height_weight": True}, {"knows_height_weight": False}),
    ("weight_kg", {"knows_height_weight": True}, {"knows_height_weight": False}),
    ("weight_self_rating", {"knows_height_weight": False}, {"knows_height_weight": True}),
    ("one_sided_sport", {"plays_sports": True}, {"plays_sports": False}),
    ("loaded_squats", {"lifts_weights": True}, {"lifts_weights": False}),
    ("sitting_breaks", {"sitting_hours": 4}, {"sitting_hours": 3.9}),
    ("squat_check", {}, {"pain_intensity": 8}),
    ("bridge_check", {}, {"fever": True}),
    ("hang_check", {}, {"spine_diagnosis": ["disc_bulge"]}),
    ("hang_check", {"joint_problems": ["hip", "knee"]}, {"joint_problems": ["shoulder"]}),
    ("hang_check", {"falls_or_unsteady": False}, {"falls_or_unsteady": True}),
    ("joint_problems", {}, {"pain_trend": "worse"}),
    ("falls_or_unsteady", {}, {"walking_difficulty": True}),
    ("sides_differ", {}, {"pregnant": True}),
]  # fmt: skip


@pytest.mark.parametrize(("question", "show", "hide"), CONDITIONAL)
def test_conditional_question_is_shown_and_hidden(
    question: str, show: dict[str, Any], hide: dict[str, Any]
) -> None:
    assert question in visible_ids(answers(**show))
    assert question not in visible_ids(answers(**hide))


def test_unconditional_questions_are_always_visible_before_any_answer() -> None:
    shown = visible_ids({})
    assert set(RED_FLAGS) | {"age"} <= shown
    assert "leg_pain_worse_than_back" not in shown  # depends on an answer not yet given


def test_movement_checks_are_neither_shown_nor_required_when_a_doctor_is_needed() -> None:
    given = answers(pain_trend="worse")
    for check in (
        "joint_problems", "falls_or_unsteady", "squat_check", "bridge_check", "hang_check",
        "sides_differ",
    ):  # fmt: skip
        given.pop(check)
    evaluation = evaluate(questionnaire(), given)
    assert evaluation.complete
    assert build_result(evaluation)["triage"]["level"] == "see_doctor"


@pytest.mark.parametrize("sign", EMERGENCY_SIGNS)
def test_any_single_emergency_sign_ends_the_interview(sign: str) -> None:
    evaluation = evaluate(questionnaire(), {sign: True})
    assert evaluation.stopped
    assert evaluation.complete
    assert evaluation.next_page is None
    assert evaluation.missing == ()
    result = build_result(evaluation)
    assert result["triage"]["level"] == "emergency"
    assert result["complete"] is True
    assert result["plan"] is None


def test_after_an_emergency_later_answers_are_ignored_but_safety_answers_still_count() -> None:
    given = {**answers(), "both_legs": True, "weight_loss": True}
    result = assess(questionnaire(), given)
    assert [r["code"] for r in result["triage"]["reasons"]] == [
        "bilateral_leg_symptoms",
        "unexplained_weight_loss",
    ]
    assert "pain_duration" in result["ignored_answers"]
    assert "smoker" in result["ignored_answers"]
    assert "fever" not in result["ignored_answers"]


def test_an_emergency_stop_does_not_require_the_rest_of_the_safety_screen() -> None:
    evaluation = evaluate(questionnaire(), {"age": 40, "serious_accident": "last_6_weeks"})
    assert evaluation.stopped
    assert evaluation.complete


def test_an_accident_long_ago_does_not_stop_the_interview() -> None:
    evaluation = evaluate(questionnaire(), {"age": 40, "serious_accident": "longer_ago"})
    assert not evaluation.stopped


def test_pages_come_in_order_and_progress_grows() -> None:
    q = questionnaire()
    given: dict[str, Any] = {}
    seen: list[str] = []
    percents: list[int] = []
    while True:
        evaluation = evaluate(q, given)
        page = evaluation.next_page
        if page is None:
            break
        seen.append(page.id)
        percents.append(evaluation.progress()["percent"])
        for question in evaluation.visible_on(page):
            given[question.id] = BASELINE[question.id]
    assert seen[:6] == [
        "about_you",
        "emergency_nerves",
        "emergency_other",
        "legs_and_walking",
        "warning_signs",
        "health_history",
    ]
    assert seen[-5:] == ["joints_and_balance", "squat", "bridge", "hang", "sides"]
    assert "pain_pattern" not in seen
    assert "leg_compared" not in seen
    assert percents == sorted(percents)
    assert evaluate(q, given).complete
    assert evaluate(q, given).progress()["percent"] == 100


def test_the_page_with_a_bad_answer_is_the_next_page() -> None:
    evaluation = evaluate(questionnaire(), {**answers(), "sleep_hours": 30})
    assert evaluation.next_page is not None
    assert evaluation.next_page.id == "sleep"


def test_hidden_answers_are_ignored_and_reported() -> None:
    given = answers(
        plays_sports=False,
        one_sided_sport=True,
        knows_height_weight=True,
        weight_self_rating="healthy",
    )
    result = assess(questionnaire(), given)
    assert result["ignored_answers"] == [
        "began_before_45",
        "inflammatory_features",
        "one_sided_sport",
        "weight_self_rating",
    ]


@pytest.mark.parametrize(
    ("question", "value", "code"),
    [
        ("saddle_numbness", 1, "wrong_type"),
        ("saddle_numbness", "yes", "wrong_type"),
        ("age", 3.5, "wrong_type"),
        ("age", "40", "wrong_type"),
        ("age", True, "wrong_type"),
        ("age", -1, "out_of_range"),
        ("age", 121, "out_of_range"),
        ("sleep_hours", math.nan, "wrong_type"),
        ("sleep_hours", math.inf, "wrong_type"),
        ("height_cm", 99.9, "out_of_range"),
        ("onset", "fell_over", "invalid_option"),
        ("onset", ["gradual"], "invalid_option"),
        ("spine_diagnosis", "none", "wrong_type"),
        ("spine_diagnosis", [], "required"),
        ("spine_diagnosis", ["none", "arthritis"], "invalid_option"),
        ("spine_diagnosis", ["arthritis", "arthritis"], "invalid_option"),
        ("spine_diagnosis", ["bad_back"], "invalid_option"),
    ],
)
def test_invalid_answers_are_problems_keyed_by_question(
    question: str, value: Any, code: str
) -> None:
    with pytest.raises(AnswerError) as caught:
        assess(questionnaire(), answers(**{question: value}))
    problems = [(p.question, p.code) for p in caught.value.problems]
    assert (question, code) in problems


def test_whole_numbers_written_as_decimals_are_accepted() -> None:
    evaluation = evaluate(questionnaire(), answers(age=40.0))
    assert evaluation.answers["age"] == 40
    assert isinstance(evaluation.answers["age"], int)


def test_every_problem_is_collected_at_once() -> None:
    given = {**answers(age=200, fever="no", onset="x"), "favourite_colour": "blue"}
    given.pop("smoker")
    with pytest.raises(AnswerError) as caught:
        assess(questionnaire(), given)
    found = {(p.question, p.code) for p in caught.value.problems}
    assert found == {
        ("age", "out_of_range"),
        ("fever", "wrong_type"),
        ("onset", "invalid_option"),
        ("favourite_colour", "unknown_question"),
        ("smoker", "required"),
    }


def test_none_means_not_answered() -> None:
    evaluation = evaluate(questionnaire(), {"saddle_numbness": None})
    assert evaluation.problems == ()
    assert "saddle_numbness" not in evaluation.answers


def test_answers_must_be_an_object() -> None:
    with pytest.raises(AnswerError):
        evaluate(questionnaire(), ["age", 40])  # type: ignore[arg-type]


def test_partial_answers_give_a_provisional_result_without_a_plan() -> None:
    result = build_result(evaluate(questionnaire(), {"fever": True}))
    assert result["complete"] is False
    assert result["triage"]["level"] == "urgent"
    assert result["plan"] is None
