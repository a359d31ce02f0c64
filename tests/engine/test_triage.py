"""Every triage rule fires on a case built for it and stays quiet on a near miss."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine import assess, build_result, evaluate

from .support import BASELINE, answers, questionnaire

LONG_PAIN_YOUNG = {"pain_duration": "over_12_weeks", "age": 40}
FOUR_FEATURES = ["started_before_35", "buttock_pain", "better_with_movement", "psoriasis"]
RECENT = {"pain_duration": "under_6_weeks"}

# code, level, answers that make it fire, a near miss that must not
RULES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("cauda_equina_saddle", "emergency", {"saddle_numbness": True}, {}),
    ("cauda_equina_bladder", "emergency", {"bladder_change": True}, {}),
    ("cauda_equina_bowel", "emergency", {"bowel_change": True}, {}),
    ("cauda_equina_sexual", "emergency", {"sexual_function_change": True}, {}),
    ("bilateral_leg_symptoms", "emergency", {"both_legs": True}, {"leg_pain": "below_knee", "leg_pain_worse_than_back": False}),
    ("chest_pain", "emergency", {"chest_pain": True}, {}),
    ("major_trauma", "emergency", {"serious_accident": "last_6_weeks"}, {"serious_accident": "longer_ago"}),
    ("cancer_nerve_signs", "emergency", {"cancer_history": True, "leg_numbness": True}, {"cancer_history": True}),
    ("progressive_weakness", "urgent", {"leg_weakness": True}, {}),
    ("gait_disturbance", "urgent", {"walking_difficulty": True}, {}),
    ("fever", "urgent", {"fever": True}, {}),
    ("unexplained_weight_loss", "urgent", {"weight_loss": True}, {}),
    ("cancer_history", "urgent", {"cancer_history": True}, {"cancer_history": True, "pain_duration": "over_12_weeks"}),
    ("night_pain", "urgent", {"night_pain": True}, {}),
    ("pain_on_straining", "urgent", {"pain_on_straining": True}, {}),
    ("thoracic_pain", "urgent", {"thoracic_pain": True}, {}),
    ("back_shape_change", "urgent", {"back_shape_change": True}, {}),
    ("fragility_fracture", "urgent", {"osteoporosis_or_steroids": True, "onset": "lifting_or_twisting"}, {"osteoporosis_or_steroids": True, "onset": "gradual"}),
    ("cancer_history_stable", "see_doctor", {"cancer_history": True, "pain_duration": "over_12_weeks"}, {"cancer_history": True, "pain_duration": "over_12_weeks", "pain_trend": "worse"}),
    ("fracture_risk", "see_doctor", {"osteoporosis_or_steroids": True}, {}),
    ("infection_risk", "see_doctor", {"infection_risk": True}, {}),
    ("pregnancy", "see_doctor", {"pregnant": True}, {}),
    ("under_18", "see_doctor", {"age": 17}, {"age": 18}),
    ("new_pain_over_50", "see_doctor", {"age": 50, "first_episode": True, **RECENT}, {"age": 50, "first_episode": False, **RECENT}),
    ("recent_injury", "see_doctor", {"onset": "fall_or_blow", **RECENT}, {"onset": "lifting_or_twisting", **RECENT}),
    ("old_serious_accident", "see_doctor", {"serious_accident": "longer_ago"}, {"serious_accident": "no"}),
    ("worsening_pain", "see_doctor", {"pain_trend": "worse"}, {"pain_trend": "same"}),
    ("severe_pain", "see_doctor", {"pain_intensity": 8}, {"pain_intensity": 7}),
    ("radicular_below_knee", "see_doctor", {"leg_pain": "below_knee", "leg_pain_worse_than_back": False}, {"leg_pain": "above_knee", "leg_pain_worse_than_back": False}),
    ("leg_dominant_pain", "see_doctor", {"leg_pain": "above_knee", "leg_pain_worse_than_back": True}, {"leg_pain": "above_knee", "leg_pain_worse_than_back": False}),
    ("leg_numbness", "see_doctor", {"leg_numbness": True}, {}),
    ("spine_condition", "see_doctor", {"spine_diagnosis": ["arthritis"]}, {"spine_diagnosis": ["none"]}),
    ("inflammatory_pattern", "see_doctor", {**LONG_PAIN_YOUNG, "inflammatory_features": FOUR_FEATURES}, {**LONG_PAIN_YOUNG, "inflammatory_features": FOUR_FEATURES[:3]}),
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


def test_every_rule_has_three_texts_and_every_level_a_clinician_title_and_action() -> None:
    q = questionnaire()
    for rule in q.rules:
        assert all((rule.message, rule.clinician, rule.action)), rule.code
        assert rule.clinician != rule.message, rule.code
    for level in q.levels:
        assert all((level.clinician, level.action)), level.code


def test_a_reason_carries_its_message_clinician_label_and_action() -> None:
    result = assess(questionnaire(), answers(saddle_numbness=True))
    (reason,) = result["triage"]["reasons"]
    assert reason["clinician"].startswith("Possible cauda equina syndrome")
    assert "emergency" in reason["action"].lower()
    assert "cauda equina" in reason["message"]
    assert "nerves at the bottom of your spine" in reason["message"]  # said in everyday words
    assert result["triage"]["clinician"]
    assert result["triage"]["action"]


@pytest.mark.parametrize(("age", "fires"), [(69, False), (70, True)])
def test_a_fall_is_a_possible_fracture_from_age_70(age: int, fires: bool) -> None:
    result = assess(questionnaire(), answers(age=age, onset="fall_or_blow", **RECENT))
    assert ("fragility_fracture" in reason_codes(result)) is fires
    assert "recent_injury" in reason_codes(result)  # a fall is checked at any age
    assert result["triage"]["level"] == ("urgent" if fires else "see_doctor")


def test_osteoporosis_with_sudden_pain_for_no_reason_is_urgent() -> None:
    result = assess(
        questionnaire(), answers(osteoporosis_or_steroids=True, onset="sudden_no_cause", **RECENT)
    )
    assert result["triage"]["level"] == "urgent"
    assert {"fragility_fracture", "fracture_risk"} <= set(reason_codes(result))
    # ... but not once the pain is long-standing: then it is a routine review.
    settled = assess(
        questionnaire(),
        answers(
            osteoporosis_or_steroids=True, onset="sudden_no_cause", pain_duration="over_12_weeks"
        ),
    )
    assert reason_codes(settled) == ["fracture_risk"]


@pytest.mark.parametrize(
    "nerve_sign",
    [
        {"leg_weakness": True},
        {"walking_difficulty": True},
        {"leg_numbness": True},
        {"leg_pain": "below_knee", "leg_pain_worse_than_back": False},
    ],
)
def test_cancer_with_any_nerve_sign_is_an_emergency(nerve_sign: dict[str, Any]) -> None:
    result = assess(questionnaire(), answers(cancer_history=True, **nerve_sign))
    assert result["triage"]["level"] == "emergency"
    assert "cancer_nerve_signs" in reason_codes(result)
    # The same nerve sign without a history of cancer is not an emergency.
    without = assess(questionnaire(), answers(**nerve_sign))
    assert without["triage"]["level"] != "emergency"


def test_cancer_without_nerve_signs_depends_on_the_pain() -> None:
    recent = assess(questionnaire(), answers(cancer_history=True, **RECENT))
    assert recent["triage"]["level"] == "urgent"
    stable = assess(questionnaire(), answers(cancer_history=True, pain_duration="over_12_weeks"))
    assert stable["triage"]["level"] == "see_doctor"
    assert reason_codes(stable) == ["cancer_history_stable"]
    at_night = assess(
        questionnaire(),
        answers(cancer_history=True, pain_duration="over_12_weeks", night_pain=True),
    )
    assert {"cancer_history", "night_pain"} <= set(reason_codes(at_night))


def test_new_pain_over_50_needs_a_first_episode_of_recent_pain() -> None:
    flare = assess(questionnaire(), answers(age=55, first_episode=False, **RECENT))
    assert flare["triage"]["level"] == "self_care"
    long_standing = assess(
        questionnaire(), answers(age=55, first_episode=True, pain_duration="over_12_weeks")
    )
    assert "new_pain_over_50" not in reason_codes(long_standing)


def test_recent_ordinary_back_pain_after_lifting_gets_the_programme() -> None:
    result = assess(questionnaire(), answers(onset="lifting_or_twisting", **RECENT))
    assert result["triage"]["level"] == "self_care"
    assert result["plan"] is not None


def test_an_accident_years_ago_is_a_routine_review_not_an_emergency() -> None:
    result = assess(questionnaire(), answers(serious_accident="longer_ago"))
    assert result["triage"]["level"] == "see_doctor"
    assert reason_codes(result) == ["old_serious_accident"]


@pytest.mark.parametrize(
    ("age", "began_before_45", "asked"),
    [(44, None, True), (45, True, True), (45, False, False), (60, True, True)],
)
def test_inflammatory_features_are_asked_by_the_age_the_pain_began(
    age: int, began_before_45: bool | None, asked: bool
) -> None:
    given = answers(
        pain_duration="over_12_weeks",
        age=age,
        began_before_45=began_before_45,
        inflammatory_features=FOUR_FEATURES,
    )
    evaluation = evaluate(questionnaire(), given)
    result = build_result(evaluation)
    assert ("inflammatory_pattern" in reason_codes(result)) is asked
    if not asked:
        assert "inflammatory_features" in result["ignored_answers"]


def test_began_before_45_is_only_asked_from_45_with_long_standing_pain() -> None:
    def shown(**changes: Any) -> bool:
        return "began_before_45" in {
            q.id for q in evaluate(questionnaire(), answers(**changes)).visible
        }

    assert shown(age=45, pain_duration="over_12_weeks")
    assert not shown(age=44, pain_duration="over_12_weeks")
    assert not shown(age=60, pain_duration="6_to_12_weeks")


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
    assert q.questions_behind(["new_pain_over_50"]) == {"age", "first_episode", "pain_duration"}
    # inflammatory_pattern reads a derived count of the features, not the answer directly.
    assert q.questions_behind(["inflammatory_pattern"]) == {"inflammatory_features"}
    assert q.questions_behind(["cauda_equina_bowel", "fever"]) == {"bowel_change", "fever"}
    assert q.questions_behind([]) == frozenset()
    assert q.questions_behind(["no_such_rule"]) == frozenset()


def test_a_removed_id_names_the_version_that_removed_it_and_what_to_send() -> None:
    evaluation = evaluate(questionnaire(), {**BASELINE, "major_trauma": False})
    (problem,) = evaluation.problems
    assert problem.question == "major_trauma"
    assert problem.code == "removed_question"
    assert "2.0.0" in problem.message
    assert "serious_accident" in problem.message
    unknown = evaluate(questionnaire(), {**BASELINE, "no_such_id": 1}).problems[0]
    assert unknown.code == "unknown_question"


@pytest.mark.parametrize(
    ("changes", "level"),
    [({}, "self_care"), ({"pregnant": True}, "see_doctor"), ({"fever": True}, "urgent"),
     ({"saddle_numbness": True}, "emergency")],
)  # fmt: skip
def test_every_result_carries_the_safety_net_and_only_self_care_the_gp_advice(
    changes: dict[str, Any], level: str
) -> None:
    result = assess(questionnaire(), answers(**changes))
    assert result["triage"]["level"] == level
    net = result["safety_net"]
    signs = " ".join(net["signs"]).lower()
    for sign in ("between your legs", "peeing", "pooing", "sex", "both legs", "walking"):
        assert sign in signs
    assert "999" in net["title"]
    assert (net["see_gp"] is not None) is (level == "self_care")
    if net["see_gp"]:
        assert "4 weeks" in net["see_gp"]
