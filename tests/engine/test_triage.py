"""Every triage rule fires on a case built for it and stays quiet on a near miss."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine import AnswerError, Result, assess, build_result, evaluate

from .support import BASELINE, answers, audit_2_0, only_known, questionnaire

LONG_PAIN_YOUNG = {"pain_duration": "over_12_weeks", "age": 40}
FOUR_FEATURES = ["started_before_35", "buttock_pain", "better_with_movement", "psoriasis"]
RECENT = {"pain_duration": "under_6_weeks"}
# Long-standing and steady (PRODUCT.md "stable"): over 12 weeks, not worse, no night pain, no
# recent flare; the baseline's pain is 4 out of 10.
STABLE = {"pain_duration": "over_12_weeks", "pain_trend": "same", "recent_flare": False}
SPINE_OPERATION = {"spine_diagnosis": ["spine_surgery"], "spine_procedure_recent": True}

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
    ("gait_disturbance", "emergency", {"walking_difficulty": True}, {"leg_weakness": True}),
    ("progressive_weakness", "urgent", {"leg_weakness": True}, {}),
    ("fever", "urgent", {"fever": True}, {}),
    ("unexplained_weight_loss", "urgent", {"weight_loss": True}, {}),
    ("cancer_history", "urgent", {"cancer_history": True, **STABLE, "pain_intensity": 7}, {"cancer_history": True, **STABLE, "pain_intensity": 6}),
    ("infection_risk_active", "urgent", {"infection_risk": True, **RECENT}, {"infection_risk": True, **STABLE}),
    ("abdominal_pain", "urgent", {"abdominal_pain": True}, {}),
    ("spine_procedure_recent", "urgent", {**SPINE_OPERATION, "pain_intensity": 7}, {**SPINE_OPERATION, "pain_intensity": 6}),
    ("night_pain", "urgent", {"night_pain": True}, {}),
    ("pain_on_straining", "urgent", {"pain_on_straining": True}, {}),
    ("thoracic_pain", "urgent", {"thoracic_pain": True}, {}),
    ("back_shape_change", "urgent", {"back_shape_change": True}, {}),
    ("fragility_fracture", "urgent", {"osteoporosis_or_steroids": True, "onset": "lifting_or_twisting"}, {"osteoporosis_or_steroids": True, "onset": "gradual"}),
    ("cancer_history_stable", "see_doctor", {"cancer_history": True, **STABLE, "pain_intensity": 6}, {"cancer_history": True, **STABLE, "pain_trend": "worse"}),
    ("fracture_risk", "see_doctor", {"osteoporosis_or_steroids": True}, {}),
    ("infection_risk", "see_doctor", {"infection_risk": True}, {}),
    ("pregnancy", "see_doctor", {"pregnant": True}, {}),
    ("under_18", "see_doctor", {"age": 17}, {"age": 18}),
    ("new_pain_over_50", "see_doctor", {"age": 50, "first_episode": True, **RECENT}, {"age": 49, "first_episode": True, **RECENT}),
    ("recent_injury", "see_doctor", {"onset": "fall_or_blow", **RECENT}, {"onset": "lifting_or_twisting", **RECENT}),
    ("old_serious_accident", "see_doctor", {"serious_accident": "longer_ago"}, {"serious_accident": "no"}),
    ("worsening_pain", "see_doctor", {"pain_trend": "worse"}, {"pain_trend": "up_and_down"}),
    ("severe_pain", "see_doctor", {"pain_intensity": 8}, {"pain_intensity": 7}),
    ("radicular_below_knee", "see_doctor", {"leg_pain": "below_knee", "leg_pain_worse_than_back": False}, {"leg_pain": "above_knee", "leg_pain_worse_than_back": False}),
    ("leg_dominant_pain", "see_doctor", {"leg_pain": "above_knee", "leg_pain_worse_than_back": True}, {"leg_pain": "above_knee", "leg_pain_worse_than_back": False}),
    ("leg_numbness", "see_doctor", {"leg_numbness": True}, {}),
    ("spine_condition", "see_doctor", {"spine_diagnosis": ["arthritis"]}, {"spine_diagnosis": ["none"]}),
    ("inflammatory_possible", "see_doctor", {**LONG_PAIN_YOUNG, "inflammatory_features": FOUR_FEATURES[:3]}, {**LONG_PAIN_YOUNG, "inflammatory_features": FOUR_FEATURES[:2]}),
    ("inflammatory_pattern", "see_doctor", {**LONG_PAIN_YOUNG, "inflammatory_features": FOUR_FEATURES}, {**LONG_PAIN_YOUNG, "inflammatory_features": FOUR_FEATURES[:3]}),
]  # fmt: skip


def reason_codes(result: Result) -> list[str]:
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


@pytest.mark.parametrize(("age", "fires"), [(64, False), (65, True), (69, True), (70, True)])
def test_a_recent_fall_is_a_possible_fracture_from_age_65(age: int, fires: bool) -> None:
    # (2.1) From 65 (NICE CG146's population), was 70.
    result = assess(questionnaire(), answers(age=age, onset="fall_or_blow", **RECENT))
    assert ("fragility_fracture" in reason_codes(result)) is fires
    assert "recent_injury" in reason_codes(result)  # a fall is checked at any age
    assert result["triage"]["level"] == ("urgent" if fires else "see_doctor")


@pytest.mark.parametrize(("age", "fires"), [(69, False), (70, True)])
def test_a_fall_is_a_possible_fracture_from_age_70(age: int, fires: bool) -> None:
    """2.0.0's rule, run against 2.0.0's file (the hazard log's H18 names this test; 2.1.0's
    rule is test_a_recent_fall_is_a_possible_fracture_from_age_65)."""
    old = audit_2_0()
    result = assess(old, only_known(old, answers(age=age, onset="fall_or_blow", **RECENT)))
    assert ("fragility_fracture" in reason_codes(result)) is fires
    assert result["triage"]["level"] == ("urgent" if fires else "see_doctor")


@pytest.mark.parametrize(
    ("changes", "fires"),
    [
        # Recent pain: a fall, lifting or a sudden start with weak bones; a fall from 65.
        ({"osteoporosis_or_steroids": True, "onset": "fall_or_blow", **RECENT}, True),
        ({"osteoporosis_or_steroids": True, "onset": "sudden_no_cause", "pain_duration": "6_to_12_weeks"}, True),
        ({"osteoporosis_or_steroids": True, "onset": "gradual", **RECENT}, False),
        ({"age": 65, "onset": "fall_or_blow", "pain_duration": "6_to_12_weeks"}, True),
        ({"age": 65, "onset": "lifting_or_twisting", **RECENT}, False),
        ({"age": 80, "onset": "fall_or_blow", **STABLE}, False),  # the fall was long ago
        # (2.1) Long-standing pain with weak bones that flared up or is getting worse.
        ({"osteoporosis_or_steroids": True, "onset": "gradual", **STABLE, "recent_flare": True}, True),
        ({"osteoporosis_or_steroids": True, "onset": "gradual", **STABLE, "pain_trend": "worse"}, True),
        ({"osteoporosis_or_steroids": True, "onset": "gradual", **STABLE}, False),
        ({"osteoporosis_or_steroids": True, "onset": "gradual", **STABLE, "pain_trend": "up_and_down"}, False),
        ({"osteoporosis_or_steroids": False, "onset": "gradual", **STABLE, "recent_flare": True}, False),
    ],
)  # fmt: skip
def test_fragility_fracture(changes: dict[str, Any], fires: bool) -> None:
    result = assess(questionnaire(), answers(**changes))
    assert ("fragility_fracture" in reason_codes(result)) is fires
    if fires:
        assert result["triage"]["level"] == "urgent"
    elif changes.get("osteoporosis_or_steroids"):
        assert "fracture_risk" in reason_codes(result)  # weak bones alone: a routine review


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
    # The same nerve sign without a history of cancer is not cancer_nerve_signs, and not an
    # emergency unless it is one on its own: (2.1) new difficulty walking (gait_disturbance).
    without = assess(questionnaire(), answers(**nerve_sign))
    assert "cancer_nerve_signs" not in reason_codes(without)
    alone = "walking_difficulty" in nerve_sign
    assert (without["triage"]["level"] == "emergency") is alone
    if alone:
        assert reason_codes(without) == ["gait_disturbance"]


def test_version_2_0_called_new_difficulty_walking_urgent() -> None:
    old = audit_2_0()
    result = assess(old, only_known(old, answers(walking_difficulty=True)))
    assert result["triage"]["level"] == "urgent"
    assert reason_codes(result) == ["gait_disturbance"]


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


def test_new_pain_over_50_needs_a_first_episode_that_is_recent_or_not_improving() -> None:
    flare = assess(questionnaire(), answers(age=55, first_episode=False, **RECENT))
    assert flare["triage"]["level"] == "self_care"
    improving = assess(
        questionnaire(),
        answers(age=55, first_episode=True, pain_duration="over_12_weeks", pain_trend="improving"),
    )
    assert "new_pain_over_50" not in reason_codes(improving)


@pytest.mark.parametrize(
    ("age", "duration", "trend", "fires"),
    [
        (50, "under_6_weeks", "improving", True),
        (50, "6_to_12_weeks", "improving", True),
        (49, "6_to_12_weeks", "same", False),
        # (2.1) Long-standing: checked unless it is getting better.
        (55, "over_12_weeks", "same", True),
        (55, "over_12_weeks", "up_and_down", True),
        (55, "over_12_weeks", "worse", True),
        (55, "over_12_weeks", "improving", False),
        (49, "over_12_weeks", "same", False),
    ],
)
def test_new_pain_over_50(age: int, duration: str, trend: str, fires: bool) -> None:
    result = assess(
        questionnaire(),
        answers(
            age=age,
            first_episode=True,
            pain_duration=duration,
            pain_trend=trend,
            began_before_45=False,
        ),
    )
    assert ("new_pain_over_50" in reason_codes(result)) is fires
    if fires:
        assert result["triage"]["level"] == "see_doctor"
        (reason,) = [r for r in result["triage"]["reasons"] if r["code"] == "new_pain_over_50"]
        assert "not getting better" in reason["message"]


def test_version_2_0_did_not_check_long_standing_first_pain_over_50() -> None:
    old = audit_2_0()
    given = answers(
        age=55,
        first_episode=True,
        pain_duration="over_12_weeks",
        pain_trend="same",
        began_before_45=False,
    )
    assert assess(old, only_known(old, given))["triage"]["level"] == "self_care"


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
    # (2.1) new_pain_over_50 reads the trend too: recent, or not improving.
    assert q.questions_behind(["new_pain_over_50"]) == {
        "age",
        "first_episode",
        "pain_duration",
        "pain_trend",
    }
    # cancer_history reads the derived "stable" and what stands behind it.
    assert q.questions_behind(["cancer_history"]) == {
        "cancer_history",
        "pain_duration",
        "pain_trend",
        "night_pain",
        "recent_flare",
        "pain_intensity",
    }
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
    [
        ({}, "self_care"),
        ({"pregnant": True}, "see_doctor"),
        ({"fever": True}, "urgent"),
        ({"saddle_numbness": True}, "emergency"),
    ],
)
def test_every_result_carries_the_safety_net_and_only_self_care_the_gp_advice(
    changes: dict[str, Any], level: str
) -> None:
    result = assess(questionnaire(), answers(**changes))
    assert result["triage"]["level"] == level
    net = result["safety_net"]
    signs = " ".join(net["signs"]).lower()
    for sign in ("between your legs", "peeing", "pooing", "sex", "both legs", "walking"):
        assert sign in signs
    # The engine is given no help lines here: the title names the emergency line by placeholder.
    assert "{emergency_name}" in net["title"]
    assert (net["see_gp"] is not None) is (level == "self_care")
    if net["see_gp"]:
        assert "4 weeks" in net["see_gp"]


# -- the rules 2.1.0 added or changed: near misses --------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({**STABLE, "pain_intensity": 6}, "cancer_history_stable"),  # over 12 weeks, steady, 6
        ({**STABLE, "pain_trend": "improving", "pain_intensity": 6}, "cancer_history_stable"),
        ({**STABLE, "pain_trend": "up_and_down", "pain_intensity": 6}, "cancer_history_stable"),
        ({**STABLE, "pain_intensity": 7}, "cancer_history"),  # very bad
        ({**STABLE, "pain_trend": "worse"}, "cancer_history"),
        ({**STABLE, "night_pain": True}, "cancer_history"),
        ({**STABLE, "recent_flare": True}, "cancer_history"),  # a recent flare
        ({"pain_duration": "6_to_12_weeks", "pain_intensity": 2}, "cancer_history"),  # new
        ({**RECENT, "pain_trend": "improving", "pain_intensity": 1}, "cancer_history"),
    ],
)
def test_past_cancer_is_urgent_unless_the_pain_is_long_standing_steady_and_below_7(
    changes: dict[str, Any], code: str
) -> None:
    result = assess(questionnaire(), answers(cancer_history=True, **changes))
    codes = reason_codes(result)
    # The two rules are complements: exactly one of them fires.
    assert code in codes
    assert {"cancer_history", "cancer_history_stable"} & set(codes) == {code}
    assert result["triage"]["level"] == ("see_doctor" if code.endswith("stable") else "urgent")


def test_past_cancer_after_an_emergency_stop_is_still_reported_as_urgent() -> None:
    # The pain history is not asked (nor kept) after an emergency sign: "stable" is false then,
    # so the reason is not lost (hazard H40).
    result = assess(questionnaire(), answers(saddle_numbness=True, cancer_history=True, **STABLE))
    assert reason_codes(result) == ["cauda_equina_saddle", "cancer_history"]
    assert "pain_duration" in result["ignored_answers"]


@pytest.mark.parametrize(
    ("changes", "fires"),
    [
        (RECENT, True),  # new pain, no temperature
        ({"pain_duration": "6_to_12_weeks"}, True),
        ({**STABLE, "pain_trend": "worse"}, True),
        ({**STABLE, "night_pain": True}, True),
        ({**STABLE, "recent_flare": True}, True),
        (STABLE, False),  # long-standing and steady: a routine review (infection_risk)
        ({**STABLE, "pain_intensity": 9}, False),
    ],
)
def test_infection_risk_with_new_or_changing_pain_is_urgent_without_a_fever(
    changes: dict[str, Any], fires: bool
) -> None:
    result = assess(questionnaire(), answers(infection_risk=True, fever=False, **changes))
    assert ("infection_risk_active" in reason_codes(result)) is fires
    assert "infection_risk" in reason_codes(result)
    assert (result["triage"]["level"] == "urgent") is fires


@pytest.mark.parametrize(
    ("changes", "fires"),
    [
        ({"pain_trend": "worse"}, True),
        ({"night_pain": True}, True),
        ({"pain_intensity": 7}, True),
        ({"pain_intensity": 6}, False),
        ({"pain_trend": "up_and_down", "pain_intensity": 6}, False),
        ({"spine_procedure_recent": False, "pain_intensity": 9}, False),  # operated long ago
    ],
)
def test_worse_very_bad_or_night_pain_soon_after_spine_surgery_is_urgent(
    changes: dict[str, Any], fires: bool
) -> None:
    result = assess(questionnaire(), answers(**{**SPINE_OPERATION, **changes}))
    assert ("spine_procedure_recent" in reason_codes(result)) is fires
    assert "spine_condition" in reason_codes(result)
    assert (result["triage"]["level"] == "urgent") is fires


def test_spine_procedure_recent_is_asked_only_after_spine_surgery() -> None:
    result = assess(
        questionnaire(),
        answers(spine_diagnosis=["disc_bulge"], spine_procedure_recent=True, pain_trend="worse"),
    )
    assert "spine_procedure_recent" in result["ignored_answers"]
    assert "spine_procedure_recent" not in reason_codes(result)
    with pytest.raises(AnswerError) as caught:
        assess(questionnaire(), answers(spine_diagnosis=["spine_surgery", "arthritis"]))
    assert [(p.question, p.code) for p in caught.value.problems] == [
        ("spine_procedure_recent", "required")
    ]


@pytest.mark.parametrize(
    ("age", "duration", "trend", "fires"),
    [
        (35, "under_6_weeks", "improving", True),  # any recent fall or blow
        (80, "under_6_weeks", "improving", False),  # ... but from 65 it is urgent instead
        (49, "6_to_12_weeks", "improving", False),
        (50, "6_to_12_weeks", "improving", True),
        (35, "6_to_12_weeks", "same", True),
        (35, "6_to_12_weeks", "up_and_down", True),
        (35, "over_12_weeks", "worse", False),  # long ago: worsening_pain, not an injury
    ],
)
def test_recent_injury(age: int, duration: str, trend: str, fires: bool) -> None:
    result = assess(
        questionnaire(),
        answers(
            age=age,
            onset="fall_or_blow",
            pain_duration=duration,
            pain_trend=trend,
            began_before_45=False,
        ),
    )
    codes = reason_codes(result)
    if age >= 65 and duration == "under_6_weeks":
        # At 65 or over a recent fall is a possible fracture (urgent); recent_injury is there too.
        assert {"fragility_fracture", "recent_injury"} <= set(codes)
        return
    assert ("recent_injury" in codes) is fires


@pytest.mark.parametrize(
    ("count", "code"),
    [(0, None), (1, None), (2, None), (3, "inflammatory_possible"),
     (4, "inflammatory_pattern"), (5, "inflammatory_pattern"), (9, "inflammatory_pattern")],
)  # fmt: skip
def test_inflammatory_features_3_for_a_blood_test_4_or_more_for_a_referral(
    count: int, code: str | None
) -> None:
    features = [
        o.code
        for o in questionnaire().question_by_id["inflammatory_features"].options
        if not o.exclusive
    ][:count] or ["none"]
    result = assess(questionnaire(), answers(**LONG_PAIN_YOUNG, inflammatory_features=features))
    found = {"inflammatory_possible", "inflammatory_pattern"} & set(reason_codes(result))
    assert found == ({code} if code else set())
    assert result["triage"]["level"] == ("see_doctor" if code else "self_care")


def test_version_2_0_said_nothing_about_three_inflammatory_features() -> None:
    old = audit_2_0()
    given = answers(**LONG_PAIN_YOUNG, inflammatory_features=FOUR_FEATURES[:3])
    assert assess(old, only_known(old, given))["triage"]["level"] == "self_care"


def test_tummy_pain_with_back_pain_is_urgent() -> None:
    result = assess(questionnaire(), answers(abdominal_pain=True, age=68, smoker=True))
    assert result["triage"]["level"] == "urgent"
    assert reason_codes(result) == ["abdominal_pain"]
    assert "AAA" in result["triage"]["reasons"][0]["clinician"]


# The gist of each new or changed text (PRODUCT.md, "Texts of new and changed rules").
RULE_TEXTS: dict[str, tuple[str, str, str]] = {
    "gait_disturbance": ("checked straight away", "gait disturbance", "A&E"),
    "cancer_history": ("very bad", "spinal metastasis", "within 24 hours (NICE NG234)"),
    "infection_risk_active": (
        "even if you do not have a temperature",
        "Spinal infection risk",
        "MRI",
    ),
    "abdominal_pain": ("tummy", "AAA", "examine the abdomen"),
    "spine_procedure_recent": ("surgical team", "after spinal surgery", "Surgical team today"),
    "fragility_fracture": ("65 or over", "fragility fracture", "imaging"),
    "new_pain_over_50": ("not getting better", "recent or not improving", "Routine GP review"),
    "worsening_pain": ("Keep moving", "Steadily worsening pain", "Routine review"),
    "inflammatory_possible": ("blood test", "Three features", "HLA-B27"),
}


@pytest.mark.parametrize("code", sorted(RULE_TEXTS))
def test_the_new_and_changed_rule_texts(code: str) -> None:
    rule = next(r for r in questionnaire().rules if r.code == code)
    message, clinician, action = RULE_TEXTS[code]
    assert message in rule.message
    assert clinician in rule.clinician
    assert action in rule.action
    # The person's text has no jargon that the clinician's has.
    for word in ("AAA", "HLA-B27", "metastasis", "gait"):
        assert word not in rule.message


@pytest.mark.parametrize("code", ["cancer_history_stable", "recent_injury"])
def test_some_changed_rules_keep_their_2_0_texts(code: str) -> None:
    new = next(r for r in questionnaire().rules if r.code == code)
    old = next(r for r in audit_2_0().rules if r.code == code)
    assert (new.message, new.clinician, new.action) == (old.message, old.clinician, old.action)
    assert new.when.source != old.when.source  # the rule itself changed
