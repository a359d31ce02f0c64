"""Every triage rule fires on a case built for it and stays quiet on a near miss."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine import assess, build_result, evaluate

from .support import BASELINE, INFLAMMATORY, answers, questionnaire

LONG_PAIN_YOUNG = {
    "pain_duration": "over_12_weeks",
    "age": 40,
    **dict.fromkeys(INFLAMMATORY, False),
}

# code, level, answers that make it fire, a near miss that must not
RULES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("cauda_equina_saddle", "emergency", {"saddle_numbness": True}, {}),
    ("cauda_equina_bladder", "emergency", {"bladder_change": True}, {}),
    ("cauda_equina_bowel", "emergency", {"bowel_change": True}, {}),
    ("bilateral_leg_symptoms", "emergency", {"both_legs": True}, {"leg_pain": "below_knee", "leg_pain_worse_than_back": False}),
    ("chest_pain", "emergency", {"chest_pain": True}, {}),
    ("major_trauma", "emergency", {"major_trauma": True}, {"onset": "after_minor_injury"}),
    ("progressive_weakness", "urgent", {"leg_weakness_worsening": True}, {}),
    ("fever", "urgent", {"fever": True}, {}),
    ("unexplained_weight_loss", "urgent", {"weight_loss": True}, {}),
    ("cancer_history", "urgent", {"cancer_history": True}, {}),
    ("night_pain", "urgent", {"night_pain": True}, {}),
    ("back_shape_change", "urgent", {"back_shape_change": True}, {}),
    ("fragility_fracture", "urgent", {"osteoporosis_or_steroids": True, "onset": "after_minor_injury"}, {"osteoporosis_or_steroids": True, "onset": "sudden_no_cause"}),
    ("fracture_risk", "see_doctor", {"osteoporosis_or_steroids": True}, {}),
    ("infection_risk", "see_doctor", {"infection_risk": True}, {}),
    ("pregnancy", "see_doctor", {"pregnant": True}, {}),
    ("under_18", "see_doctor", {"age": 17}, {"age": 18}),
    ("new_pain_over_50", "see_doctor", {"age": 50, "pain_duration": "6_to_12_weeks"}, {"age": 49, "pain_duration": "6_to_12_weeks"}),
    ("acute_pain", "see_doctor", {"pain_duration": "under_6_weeks"}, {"pain_duration": "6_to_12_weeks"}),
    ("injury_onset", "see_doctor", {"onset": "after_minor_injury"}, {"onset": "sudden_no_cause"}),
    ("worsening_pain", "see_doctor", {"pain_trend": "worse"}, {"pain_trend": "same"}),
    ("severe_pain", "see_doctor", {"pain_intensity": 8}, {"pain_intensity": 7}),
    ("radicular_below_knee", "see_doctor", {"leg_pain": "below_knee", "leg_pain_worse_than_back": False}, {"leg_pain": "above_knee", "leg_pain_worse_than_back": False}),
    ("leg_dominant_pain", "see_doctor", {"leg_pain": "above_knee", "leg_pain_worse_than_back": True}, {"leg_pain": "above_knee", "leg_pain_worse_than_back": False}),
    ("leg_numbness", "see_doctor", {"leg_numbness": True}, {}),
    ("spine_condition", "see_doctor", {"spine_diagnosis": ["arthritis"]}, {"spine_diagnosis": ["none"]}),
    ("inflammatory_pattern", "see_doctor", {**LONG_PAIN_YOUNG, "morning_stiffness_30min": True, "exercise_helps_rest_does_not": True, "wakes_second_half_night": True}, {**LONG_PAIN_YOUNG, "morning_stiffness_30min": True, "exercise_helps_rest_does_not": True}),
]  # fmt: skip


def reason_codes(result: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in result["triage"]["reasons"]]


def test_the_table_covers_every_rule_in_the_questionnaire() -> None:
    assert sorted(code for code, *_ in RULES) == sorted(r.code for r in questionnaire().rules)


def test_the_baseline_is_self_care_with_no_reason() -> None:
    result = assess(questionnaire(), BASELINE)
    assert result["triage"]["level"] == "self_care"
    assert result["triage"]["reasons"] == []


@pytest.mark.parametrize(("code", "level", "fire", "near_miss"), RULES, ids=[r[0] for r in RULES])
def test_rule_fires_on_its_case_at_its_level(
    code: str, level: str, fire: dict[str, Any], near_miss: dict[str, Any]
) -> None:
    result = assess(questionnaire(), answers(**fire))
    assert code in reason_codes(result)
    fired = next(r for r in result["triage"]["reasons"] if r["code"] == code)
    assert fired["level"] == level
    assert fired["message"]
    # The result's level is at least as urgent as the rule's.
    order = ["emergency", "urgent", "see_doctor", "self_care"]
    assert order.index(result["triage"]["level"]) <= order.index(level)


@pytest.mark.parametrize(("code", "level", "fire", "near_miss"), RULES, ids=[r[0] for r in RULES])
def test_rule_stays_quiet_on_a_near_miss(
    code: str, level: str, fire: dict[str, Any], near_miss: dict[str, Any]
) -> None:
    result = assess(questionnaire(), answers(**near_miss))
    assert code not in reason_codes(result)


def test_new_pain_over_50_is_quiet_when_the_pain_is_long_standing() -> None:
    result = assess(questionnaire(), answers(age=50, pain_duration="over_12_weeks"))
    assert "new_pain_over_50" not in reason_codes(result)


def test_fragility_fracture_is_urgent_and_osteoporosis_alone_is_see_doctor() -> None:
    both = assess(
        questionnaire(), answers(osteoporosis_or_steroids=True, onset="after_minor_injury")
    )
    assert both["triage"]["level"] == "urgent"
    assert {"fragility_fracture", "fracture_risk", "injury_onset"} <= set(reason_codes(both))
    alone = assess(questionnaire(), answers(osteoporosis_or_steroids=True))
    assert alone["triage"]["level"] == "see_doctor"
    assert reason_codes(alone) == ["fracture_risk"]


def test_inflammatory_questions_are_not_counted_when_branching_hides_them() -> None:
    # Age 45: the four questions are hidden, so yes answers to them cannot fire the rule.
    given = answers(**{**LONG_PAIN_YOUNG, "age": 45, **dict.fromkeys(INFLAMMATORY, True)})
    evaluation = evaluate(questionnaire(), given)
    result = build_result(evaluation)
    assert "inflammatory_pattern" not in reason_codes(result)
    assert set(INFLAMMATORY) <= set(result["ignored_answers"])


def test_the_most_urgent_level_wins_and_every_reason_is_reported_most_urgent_first() -> None:
    result = assess(
        questionnaire(),
        answers(fever=True, pregnant=True, pain_intensity=9, bowel_change=True),
    )
    assert result["triage"]["level"] == "emergency"
    assert reason_codes(result) == ["cauda_equina_bowel", "fever", "pregnancy"]
    # Pain history is not asked after an emergency sign, so severe_pain is not reported;
    # every answered safety question still is.


def test_every_fired_rule_is_reported_for_a_see_doctor_case() -> None:
    result = assess(
        questionnaire(),
        answers(fever=True, pregnant=True, pain_intensity=9, pain_trend="worse"),
    )
    assert result["triage"]["level"] == "urgent"
    assert reason_codes(result) == ["fever", "pregnancy", "worsening_pain", "severe_pain"]


def test_the_questions_behind_a_reason_include_those_read_through_derived_values() -> None:
    q = questionnaire()
    assert q.questions_behind(["new_pain_over_50"]) == {"age", "pain_duration"}
    # inflammatory_pattern reads the derived count of four answers, not the answers directly.
    assert set(INFLAMMATORY) <= q.questions_behind(["inflammatory_pattern"])
    assert q.questions_behind(["cauda_equina_bowel", "fever"]) == {"bowel_change", "fever"}
    assert q.questions_behind([]) == frozenset()
    assert q.questions_behind(["no_such_rule"]) == frozenset()
