"""What the person is told (PRODUCT.md, "Texts for the person (2.1)" and "Safety net"): the
level's advice by reason and pain duration, and the two tiers of the safety net."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine import assess

from .support import answers, audit_2_0, only_known, questionnaire

KEEP_MOVING = "Keep moving and carry on with your daily activities as far as the pain allows"
FEW_WEEKS = "often gets better within a few weeks"
LONG_TIME = "Pain that has lasted a long time can still get better"


def advice(**changes: Any) -> tuple[str, str]:
    result = assess(questionnaire(), answers(**changes))
    return result["triage"]["level"], result["triage"]["advice"]


@pytest.mark.parametrize(
    "changes",
    [
        {"pregnant": True},
        {"pain_trend": "worse"},
        {"leg_pain": "below_knee", "leg_pain_worse_than_back": False},
        {"spine_diagnosis": ["disc_bulge"]},
        {"infection_risk": True, "pain_duration": "over_12_weeks"},
        {"age": 17},
    ],
)
def test_see_doctor_advice_says_keep_moving(changes: dict[str, Any]) -> None:
    level, said = advice(**changes)
    assert level == "see_doctor"
    assert KEEP_MOVING in said
    assert "do not start this new programme until you have been checked" in said
    assert said.startswith("Please book an appointment")


@pytest.mark.parametrize(
    "changes",
    [
        {"osteoporosis_or_steroids": True},  # fracture_risk
        {"onset": "fall_or_blow", "pain_duration": "under_6_weeks"},  # recent_injury
        {"serious_accident": "longer_ago"},  # old_serious_accident
        # With other reasons too: one possible-fracture reason is enough to leave it out.
        {"serious_accident": "longer_ago", "pregnant": True, "pain_trend": "worse"},
    ],
)
def test_see_doctor_advice_leaves_out_keep_moving_after_a_possible_fracture(
    changes: dict[str, Any],
) -> None:
    level, said = advice(**changes)
    assert level == "see_doctor"
    assert KEEP_MOVING not in said
    assert said.startswith("Please book an appointment")


@pytest.mark.parametrize("changes", [{"fever": True}, {"saddle_numbness": True}])
def test_urgent_and_emergency_advice_never_says_keep_moving(changes: dict[str, Any]) -> None:
    _level, said = advice(**changes)
    assert KEEP_MOVING not in said
    assert FEW_WEEKS not in said


@pytest.mark.parametrize(
    ("duration", "promise"),
    [("under_6_weeks", True), ("6_to_12_weeks", True), ("over_12_weeks", False)],
)
def test_self_care_advice_makes_no_few_weeks_promise_over_3_months(
    duration: str, promise: bool
) -> None:
    level, said = advice(pain_duration=duration)
    assert level == "self_care"
    assert (FEW_WEEKS in said) is promise
    assert (LONG_TIME in said) is not promise
    assert said.startswith("Nothing in your answers means you need to see a doctor")
    assert said.endswith("The plan below is a gentle place to begin.")


def test_version_2_0_advice_has_no_added_sentences() -> None:
    old = audit_2_0()
    for changes in ({"pregnant": True}, {"pain_duration": "over_12_weeks"}):
        result = assess(old, only_known(old, answers(**changes)))
        level = old.level_by_code[result["triage"]["level"]]
        assert result["triage"]["advice"] == level.advice


# The safety net's two tiers (PRODUCT.md, "Safety net, on every result").
CALL_999 = [
    "between your legs",
    "peeing",
    "pooing",
    "problems with sex",
    "both legs",
    "difficulty walking",
    "Chest pain",
    "feel faint, sweaty or very unwell",
]
GP_TODAY = [
    "high temperature",
    "losing weight without trying",
    "much worse at night",
    "weakness in one leg or foot",
    "shape of your back",
    "between your shoulder blades",
    "below the knee that has not settled within a day or two",
]


@pytest.mark.parametrize(
    ("changes", "level"),
    [
        ({}, "self_care"),
        ({"pregnant": True}, "see_doctor"),
        ({"fever": True}, "urgent"),
        ({"saddle_numbness": True}, "emergency"),
    ],
)
def test_every_result_carries_both_tiers_of_the_safety_net(
    changes: dict[str, Any], level: str
) -> None:
    result = assess(questionnaire(), answers(**changes))
    assert result["triage"]["level"] == level
    net = result["safety_net"]
    assert "{emergency_name}" in net["title"]  # no help lines given: the placeholder stays
    assert "A&E" in net["title"]
    assert len(net["signs"]) == len(CALL_999)
    for sign, words in zip(net["signs"], CALL_999, strict=True):
        assert words in sign
    today = net["today"]
    assert "GP today" in today["title"]
    assert "{urgent_number}" in today["title"]
    assert len(today["signs"]) == len(GP_TODAY)
    for sign, words in zip(today["signs"], GP_TODAY, strict=True):
        assert words in sign
    # The self-care line, only with a plan: what the check-ins ask, struggling to cope too.
    assert (net["see_gp"] is not None) is (level == "self_care")
    if net["see_gp"] is not None:
        for words in (
            "about 4 weeks of the plan",
            "gets worse",
            "usual daily activities",
            "struggling to cope",
        ):
            assert words in net["see_gp"]


def test_version_2_0_had_one_tier() -> None:
    old = audit_2_0()
    net = assess(old, only_known(old, answers()))["safety_net"]
    assert "today" not in net
    assert "struggling to cope" not in (net["see_gp"] or "")
