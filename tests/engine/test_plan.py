"""The exercise plan: only for self care, blocks by relevance, start steps, advice."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine import assess

from .support import LEVELS, answers, questionnaire


def plan(**changes: Any) -> dict[str, Any]:
    result = assess(questionnaire(), answers(**changes))
    assert result["triage"]["level"] == "self_care"
    made = result["plan"]
    assert isinstance(made, dict)
    return made


def order(p: dict[str, Any]) -> list[tuple[str, int, bool, str]]:
    return [(b["code"], b["relevance"], b["focus"], b["start_step"]) for b in p["blocks"]]


def test_desk_worker_gets_hip_and_pelvis_work_first() -> None:
    p = plan(sitting_hours=9, sitting_breaks="rarely", hunched_posture=True, wakes_stiff=True,
             activity_minutes_week=60, stretching_frequency="rarely", strength_days_week=0)  # fmt: skip
    # sitting 3, posture 2, activity 2, mobility 2, strength 2
    assert order(p) == [
        ("pelvic_tilts", 3 * 2 + 2 + 2 + 2, True, "lying"),
        ("hip_bridge", 2 * 2 + 3 + 2, True, "single_leg"),
        ("thoracic_lats", 2 * 2 + 3 + 2, True, "contract_relax_hang"),
        ("hip_rotation", 3 + 2, False, "foot_on_step"),
        ("squat_mobility", 2 + 3, False, "weight_shifts"),
    ]


def test_one_sided_athlete_gets_hip_rotation_first() -> None:
    p = plan(plays_sports=True, one_sided_sport=True, sides_differ=True,
             squat_check="with_support", bridge_check="hard_or_untried", hang_check="cannot_or_untried")  # fmt: skip
    # sport_asymmetry 3; squat not full: +2
    assert order(p)[0] == ("hip_rotation", 3 * 2 + 2, True, "foot_on_step")
    codes = [code for code, *_ in order(p)]
    assert codes.index("thoracic_lats") < codes.index("pelvic_tilts")
    starts = {code: start for code, _, _, start in order(p)}
    assert starts == {
        "hip_rotation": "foot_on_step",
        "squat_mobility": "assisted_squat",
        "thoracic_lats": "supported_hang",
        "hip_bridge": "two_leg",
        "pelvic_tilts": "lying",
    }


def test_lifter_with_loaded_squats_is_told_to_step_back_and_gets_squat_work() -> None:
    p = plan(lifts_weights=True, loaded_squats=True, squat_check="cannot")
    assert order(p)[0] == ("squat_mobility", 2 * 2 + 2, True, "assisted_squat")
    assert any("Take a break from squats" in advice for advice in p["advice"])


def test_ties_keep_the_files_order_and_zero_relevance_is_never_focus() -> None:
    p = plan()  # nothing scores
    assert [b["code"] for b in p["blocks"]] == [
        "pelvic_tilts", "hip_rotation", "hip_bridge", "squat_mobility", "thoracic_lats",
    ]  # fmt: skip
    assert not any(b["focus"] for b in p["blocks"])


def test_at_most_three_blocks_are_focus() -> None:
    p = plan(sitting_hours=10, sitting_breaks="hourly", stretching_frequency="never", activity_minutes_week=0,
             strength_days_week=0, hunched_posture=True, squat_check="cannot")  # fmt: skip
    assert sum(b["focus"] for b in p["blocks"]) == 3
    assert [b["focus"] for b in p["blocks"]][:3] == [True, True, True]


@pytest.mark.parametrize(
    ("check", "value", "block", "start"),
    [
        ("bridge_check", "hard_or_untried", "hip_bridge", "two_leg"),
        ("bridge_check", "two_leg_easy", "hip_bridge", "single_leg"),
        ("bridge_check", "single_leg_easy", "hip_bridge", "figure_4"),
        ("squat_check", "cannot", "squat_mobility", "assisted_squat"),
        ("squat_check", "with_support", "squat_mobility", "assisted_squat"),
        ("squat_check", "full_heels_down", "squat_mobility", "weight_shifts"),
        ("hang_check", "cannot_or_untried", "thoracic_lats", "supported_hang"),
        ("hang_check", "under_20_s", "thoracic_lats", "full_hang"),
        ("hang_check", "over_20_s", "thoracic_lats", "contract_relax_hang"),
    ],
)
def test_start_step_comes_from_the_movement_check(
    check: str, value: str, block: str, start: str
) -> None:
    blocks = {b["code"]: b for b in plan(**{check: value})["blocks"]}
    assert blocks[block]["start_step"] == start
    assert start in [s["code"] for s in blocks[block]["steps"]]


def test_each_block_carries_steps_dose_and_texts() -> None:
    for block in plan()["blocks"]:
        assert block["title"]
        assert block["dose"]
        for step in block["steps"]:
            assert step["how"]
            assert step["progress_when"]
            assert 2 <= len(step["cues"]) <= 4


def test_morning_stiffness_puts_exercising_on_waking_first() -> None:
    stiff = plan(wakes_stiff=True)["advice"]
    assert any("first thing after you wake up" in a for a in stiff)
    assert not any("first thing after you wake up" in a for a in plan()["advice"])


@pytest.mark.parametrize("level", LEVELS[:-1])
def test_no_plan_unless_self_care(level: str) -> None:
    changes = {
        "emergency": {"chest_pain": True},
        "urgent": {"fever": True},
        "see_doctor": {"pregnant": True},
    }
    result = assess(questionnaire(), answers(**changes[level]))
    assert result["triage"]["level"] == level
    assert result["plan"] is None
