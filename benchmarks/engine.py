"""Time to validate and evaluate one complete assessment with the engine.

    .venv/bin/python benchmarks/engine.py

For several profiles, runs `assess()` (answer validation, branching, triage, contributor scores
and the plan) a few thousand times after a warm-up and prints the median and p99 in
microseconds. A baseline in the same run (copying the answers dict and serialising it to JSON)
gives a ratio that is less sensitive to the machine's speed. Target: median under 200 µs.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.engine import assess, load_questionnaire  # noqa: E402

TARGET_MEDIAN_US = 200.0
RUNS = 4000
WARM_UP = 300

SAFETY_NO: dict[str, Any] = {
    **dict.fromkeys(
        [
            "saddle_numbness", "bladder_change", "bowel_change", "sexual_function_change",
            "both_legs", "chest_pain", "leg_weakness", "walking_difficulty", "fever",
            "weight_loss", "cancer_history", "night_pain", "pain_on_straining", "thoracic_pain",
            "back_shape_change", "abdominal_pain", "osteoporosis_or_steroids", "infection_risk",
            "pregnant",
        ],
        False,
    ),
    "serious_accident": "no",
}  # fmt: skip
DESK_WORKER: dict[str, Any] = {
    **SAFETY_NO, "age": 38, "pain_duration": "over_12_weeks", "first_episode": False,
    "onset": "gradual", "pain_intensity": 4, "pain_trend": "same", "leg_pain": "none",
    "recent_flare": False, "seen_about_this_pain": True, "peg_enjoyment": 3, "peg_activity": 4,
    "leg_numbness": False, "spine_diagnosis": ["none"],
    "inflammatory_features": ["better_with_movement"], "knows_height_weight": True,
    "height_cm": 175, "weight_kg": 88, "activity_minutes_week": 40, "strength_days_week": 0,
    "stretching_frequency": "rarely", "plays_sports": False, "lifts_weights": False,
    "sleep_hours": 6.5, "sleep_quality": "fair", "wakes_stiff": True, "sitting_hours": 10,
    "sitting_breaks": "rarely", "hunched_posture": True, "smoker": False,
    "joint_problems": ["none"], "falls_or_unsteady": False, "hypermobile": False,
    "squat_check": "with_support", "bridge_check": "hard_or_untried",
    "hang_check": "cannot_or_untried", "sides_differ": False,
}  # fmt: skip
ATHLETE = {
    **DESK_WORKER, "age": 27, "pain_duration": "6_to_12_weeks", "knows_height_weight": False,
    "weight_self_rating": "healthy", "activity_minutes_week": 400, "strength_days_week": 3,
    "plays_sports": True, "one_sided_sport": True, "lifts_weights": True, "loaded_squats": True,
    "sitting_hours": 5, "sitting_breaks": "hourly", "hunched_posture": False,
    "joint_problems": ["knee"], "knee_replacement": "no", "squat_check": "full_heels_down",
    "bridge_check": "single_leg_easy", "hang_check": "over_20_s", "sides_differ": True,
}  # fmt: skip
for key in ("height_cm", "weight_kg", "inflammatory_features", "recent_flare"):
    ATHLETE.pop(key)
SEE_DOCTOR = {**DESK_WORKER, "leg_pain": "below_knee", "leg_pain_worse_than_back": True}
for key in ("joint_problems", "falls_or_unsteady", "hypermobile", "squat_check", "bridge_check",
            "hang_check", "sides_differ"):  # fmt: skip
    SEE_DOCTOR.pop(key)
EMERGENCY = {**SAFETY_NO, "age": 50, "bladder_change": True}

PROFILES = {
    "self care, desk worker": DESK_WORKER,
    "self care, one-sided athlete": ATHLETE,
    "see a doctor, sciatica": SEE_DOCTOR,
    "emergency, early stop": EMERGENCY,
}


def measure(fn: Callable[[], object]) -> list[float]:
    for _ in range(WARM_UP):
        fn()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.99) - 1]


def main() -> int:
    q = load_questionnaire(ROOT / "questionnaires" / "low-back-audit.yaml")
    baseline = statistics.median(measure(lambda: json.dumps(dict(DESK_WORKER))))
    print(
        f"engine benchmark: assess() of one complete assessment, {RUNS} runs after {WARM_UP} warm-up"
    )
    print(f"{'baseline (copy + JSON of the answers)':40} median {baseline:8.1f} µs")
    worst = 0.0
    for name, answers in PROFILES.items():
        level = assess(q, answers)["triage"]["level"]
        samples = measure(partial(assess, q, answers))
        median = statistics.median(samples)
        worst = max(worst, median)
        print(
            f"{name + ' (' + level + ')':40} median {median:8.1f} µs   p99 {p99(samples):8.1f} µs"
            f"   {median / baseline:5.1f}x baseline"
        )
    verdict = "ok" if worst < TARGET_MEDIAN_US else "MISSED"
    print(f"  [{verdict}] slowest median {worst:.1f} µs (target < {TARGET_MEDIAN_US:.0f} µs)")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
