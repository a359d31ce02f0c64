"""The follow-up check-in: its rules, visibility from the plan it follows, and progression."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine import assess, build_result, evaluate, load_questionnaire, progress_plan

from .support import QUESTIONNAIRES, answers, questionnaire

CHECKIN = load_questionnaire(QUESTIONNAIRES / "low-back-checkin.yaml")
BLOCKS = ["pelvic_tilts", "hip_rotation", "hip_bridge", "squat_mobility", "thoracic_lats"]
SIGNS = [q.id for q in CHECKIN.pages[0].questions]
CONTEXT: dict[str, Any] = {
    "plan_blocks": BLOCKS,
    "weeks_since_start": 2,
    "baseline_peg": 6.0,
    "cancer_history": False,
}


def checkin(context: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """A complete check-in: no warning sign, a little better, every block about right."""
    given: dict[str, Any] = {
        **dict.fromkeys(SIGNS, False),
        "pain_now": 3, "peg_pain": 3, "peg_enjoyment": 3, "peg_activity": 3,
        "global_change": "a_little_better",
        **{f"{b}_days": 5 for b in BLOCKS},
        **{f"{b}_feel": "about_right" for b in BLOCKS},
    }  # fmt: skip
    given.update(changes)
    return {k: v for k, v in given.items() if v is not None}


def result(context: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    return assess(CHECKIN, checkin(**changes), {**CONTEXT, **(context or {})})


def codes(found: dict[str, Any]) -> list[str]:
    return [r["code"] for r in found["triage"]["reasons"]]


def test_the_safety_screen_is_the_audits_with_the_same_ids() -> None:
    audit = questionnaire()
    for qid in SIGNS:
        assert CHECKIN.question_by_id[qid].text == audit.question_by_id[qid].text
    audit_rules = {r.code: (r.level, r.when.source) for r in audit.rules}
    for rule in CHECKIN.rules:
        if rule.code in audit_rules and rule.code != "cancer_nerve_signs":
            assert audit_rules[rule.code] == (rule.level, rule.when.source)


def test_a_check_in_that_is_getting_on_keeps_the_programme() -> None:
    found = result()
    assert found["triage"]["level"] == "self_care"
    assert codes(found) == []


@pytest.mark.parametrize("sign", ["saddle_numbness", "sexual_function_change", "both_legs"])
def test_an_emergency_sign_stops_the_check_in(sign: str) -> None:
    evaluation = evaluate(CHECKIN, {sign: True}, CONTEXT)
    assert evaluation.stopped
    assert build_result(evaluation)["triage"]["level"] == "emergency"


@pytest.mark.parametrize("sign", ["leg_weakness", "walking_difficulty", "fever", "night_pain"])
def test_an_urgent_sign_is_urgent(sign: str) -> None:
    changes: dict[str, Any] = {sign: True}
    assert result(None, **changes)["triage"]["level"] == "urgent"


def test_past_cancer_with_new_weakness_is_an_emergency_and_without_it_nothing() -> None:
    with_cancer = result({"cancer_history": True}, leg_weakness=True)
    assert "cancer_nerve_signs" in codes(with_cancer)
    assert with_cancer["triage"]["level"] == "emergency"
    assert codes(result({"cancer_history": True})) == []


@pytest.mark.parametrize(
    ("change", "fires"),
    [("worse", True), ("much_worse", True), ("a_little_worse", False), ("same", False)],
)
def test_pain_worse_since_start(change: str, fires: bool) -> None:
    found = result(global_change=change)
    assert ("pain_worse_since_start" in codes(found)) is fires


@pytest.mark.parametrize(
    ("weeks", "items", "change", "fires"),
    [
        (4, (7, 7, 7), "same", False),  # PEG 7.0 from 10: exactly 30% better, improved
        (4, (8, 7, 7), "same", True),  # PEG 7.3: less than 30% better
        (3.9, (10, 10, 10), "same", False),  # too early to say
        (4, (9, 9, 9), "a_little_better", False),  # the person says it is better
        (8, (10, 9, 9), "a_little_worse", True),
    ],
)
def test_not_improving_at_4_weeks_is_the_30_percent_rule(
    weeks: float, items: tuple[int, int, int], change: str, fires: bool
) -> None:
    pain, enjoyment, activity = items
    found = result(
        {"weeks_since_start": weeks, "baseline_peg": 10.0},
        global_change=change, peg_pain=pain, peg_enjoyment=enjoyment, peg_activity=activity,
    )  # fmt: skip
    assert ("not_improving" in codes(found)) is fires


def test_only_the_blocks_of_the_current_plan_are_asked() -> None:
    evaluation = evaluate(CHECKIN, checkin(), {**CONTEXT, "plan_blocks": ["hip_bridge"]})
    asked = {q.id for q in evaluation.visible}
    assert {"hip_bridge_days", "hip_bridge_feel"} <= asked
    assert "pelvic_tilts_feel" not in asked
    assert "pelvic_tilts_feel" in evaluation.ignored


def test_the_block_questions_are_not_asked_once_a_doctor_is_needed() -> None:
    evaluation = evaluate(CHECKIN, checkin(global_change="worse"), CONTEXT)
    assert "hip_bridge_feel" not in {q.id for q in evaluation.visible}


# -- progression ------------------------------------------------------------------------------


def plan_of(**changes: Any) -> dict[str, Any]:
    made: dict[str, Any] | None = assess(questionnaire(), answers(**changes))["plan"]
    assert made is not None
    return made


def moved(plan: dict[str, Any], **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    evaluation = evaluate(CHECKIN, checkin(**changes), CONTEXT)
    new, made = progress_plan(evaluation, plan)
    return {b["code"]: b for b in new["blocks"]}, {c["block"]: c for c in made}


def at(block: dict[str, Any]) -> str | None:
    index = block["start_step"]
    return None if index is None else str(block["steps"][index]["code"])


@pytest.mark.parametrize(("days", "to"), [(5, "single_leg"), (4, "two_leg")])
def test_too_easy_moves_up_after_5_days_and_not_before(days: int, to: str) -> None:
    plan = plan_of(bridge_check="hard_or_untried")
    blocks, changes = moved(plan, hip_bridge_feel="too_easy", hip_bridge_days=days)
    assert at(blocks["hip_bridge"]) == to
    change = changes["hip_bridge"]
    assert (change["from_step"], change["to_step"]) == ("two_leg", to)
    if days == 5:
        assert change["why"] == (
            "Hip bridge: moving on to Single-leg bridge: you found Two-leg bridge too easy on"
            " 5 days."
        )
    else:
        assert "4 days" in change["why"]
        assert "at least 5 days" in change["why"]


def test_too_hard_moves_down_and_at_the_first_step_stays() -> None:
    plan = plan_of(bridge_check="single_leg_easy")  # starts at figure_4
    blocks, changes = moved(plan, hip_bridge_feel="too_hard")
    assert at(blocks["hip_bridge"]) == "single_leg"
    first = plan_of(bridge_check="hard_or_untried")
    blocks, changes = moved(first, hip_bridge_feel="too_hard")
    assert at(blocks["hip_bridge"]) == "two_leg"
    assert "easiest step" in changes["hip_bridge"]["why"]


def test_made_pain_worse_pauses_the_block() -> None:
    blocks, changes = moved(plan_of(), pelvic_tilts_feel="made_pain_worse")
    assert blocks["pelvic_tilts"]["paused"] is True
    assert changes["pelvic_tilts"]["paused"] is True
    assert changes["pelvic_tilts"]["to_step"] is None
    assert "physiotherapist" in changes["pelvic_tilts"]["why"]
    # A paused block stays paused at the next check-in, whatever is answered for it.
    again, later = progress_plan(
        evaluate(CHECKIN, checkin(pelvic_tilts_feel="too_easy"), CONTEXT),
        {"blocks": list(blocks.values()), "advice": []},
    )
    assert next(b for b in again["blocks"] if b["code"] == "pelvic_tilts")["paused"] is True
    assert "pelvic_tilts" not in {c["block"] for c in later}


def test_moving_up_skips_a_step_the_persons_answers_rule_out() -> None:
    # Falls: the foot-on-step turns are left out; seated hip drops is where the block starts.
    plan = plan_of(falls_or_unsteady=True, hang_check=None)
    assert at({**next(b for b in plan["blocks"] if b["code"] == "hip_rotation")}) == (
        "seated_hip_drops"
    )
    # With a hip problem too, the frog is left out: seated hip drops → standing rotation.
    plan = plan_of(falls_or_unsteady=True, joint_problems=["hip"], hang_check=None)
    blocks, changes = moved(plan, hip_rotation_feel="too_easy", hip_rotation_days=6)
    assert at(blocks["hip_rotation"]) == "standing_rotation"
    assert changes["hip_rotation"]["to_step"] == "standing_rotation"
    # Going down never lands on a ruled-out step either: it stays.
    blocks, _changes = moved(plan, hip_rotation_feel="too_hard")
    assert at(blocks["hip_rotation"]) == "seated_hip_drops"


def test_about_right_stays_and_the_last_step_stays_when_too_easy() -> None:
    plan = plan_of(bridge_check="single_leg_easy")
    blocks, changes = moved(plan, hip_bridge_feel="too_easy", hip_bridge_days=7)
    assert at(blocks["hip_bridge"]) == "figure_4"
    assert "last step" in changes["hip_bridge"]["why"]
    blocks, changes = moved(plan)
    assert at(blocks["pelvic_tilts"]) == "lying"
    assert changes["pelvic_tilts"]["to_step"] == "lying"


def test_a_wrong_context_value_is_refused_by_name() -> None:
    from app.engine import AnswerError

    with pytest.raises(AnswerError) as caught:
        evaluate(CHECKIN, {}, {"plan_blocks": ["yoga"]})
    assert caught.value.problems[0].question == "plan_blocks"
    with pytest.raises(AnswerError):
        evaluate(CHECKIN, {}, {"favourite": 1})
