"""Ordinary back pain gets the programme: the grid the clinical review ran against 1.0.0.

No red flag, pain 4/10, every duration, onset and trend, leg pain none or above the knee, ages 30
and 55, first episode yes and no. Under 1.0.0 only 15% of its grid reached self-care.
(2.1) The trend has a fourth option, "up and down", which is no trigger of its own.
"""

from __future__ import annotations

import itertools
from typing import Any

from app.engine import Result, assess, load_questionnaire

from .support import QUESTIONNAIRES, answers, questionnaire

DURATIONS = ("under_6_weeks", "6_to_12_weeks", "over_12_weeks")
TRENDS = ("improving", "same", "up_and_down", "worse")
TRENDS_1_0 = ("improving", "same", "worse")


def grid() -> list[dict[str, Any]]:
    cases = []
    onsets = ("gradual", "sudden_no_cause", "lifting_or_twisting", "fall_or_blow")
    for duration, onset, trend, leg, age, first in itertools.product(
        DURATIONS, onsets, TRENDS, ("none", "above_knee"), (30, 55), (True, False)
    ):
        cases.append(
            answers(
                pain_intensity=4,
                pain_duration=duration,
                onset=onset,
                pain_trend=trend,
                leg_pain=leg,
                leg_pain_worse_than_back=False if leg != "none" else None,
                age=age,
                first_episode=first,
                began_before_45=False if age >= 45 and duration == "over_12_weeks" else None,
            )
        )
    return cases


def self_care_fraction(results: list[Result]) -> float:
    reached = sum(1 for r in results if r["triage"]["level"] == "self_care")
    return reached / len(results)


def test_most_ordinary_back_pain_reaches_self_care() -> None:
    cases = grid()
    results = [assess(questionnaire(), case) for case in cases]
    fraction = self_care_fraction(results)
    print(
        f"\n2.1.0: {fraction:.0%} of {len(results)} answer sets of the review's grid reach self-care"
    )
    # The spec's own "ordinary back pain": recent or long-standing, after lifting or for no
    # reason, not getting worse. All of it gets the programme, except (2.1) a first episode
    # after 50 that is recent or not improving (new_pain_over_50), which is checked first.
    ordinary = [
        (case, r)
        for case, r in zip(cases, results, strict=True)
        if case["onset"] != "fall_or_blow" and case["pain_trend"] != "worse"
    ]
    for case, r in ordinary:
        new_over_50 = (
            case["age"] >= 50
            and case["first_episode"]
            and (case["pain_duration"] != "over_12_weeks" or case["pain_trend"] != "improving")
        )
        expected = ["new_pain_over_50"] if new_over_50 else []
        assert [reason["code"] for reason in r["triage"]["reasons"]] == expected, case
    ordinary_fraction = self_care_fraction([r for _, r in ordinary])
    print(f"2.1.0: {ordinary_fraction:.0%} of {len(ordinary)} ordinary (no fall, not worse)")
    assert ordinary_fraction >= 0.75
    # ... and in the whole grid, what holds people back is one of three rules the spec gives a
    # reason for (worse pain, a fall or blow, a first episode over 50), never recency alone.
    assert fraction >= 3 * 0.15
    held_back = {
        reason["code"]
        for r in results
        if r["triage"]["level"] != "self_care"
        for reason in r["triage"]["reasons"]
    }
    assert held_back == {"worsening_pain", "recent_injury", "new_pain_over_50"}


def test_version_1_sent_most_of_the_same_people_to_a_doctor() -> None:
    old = load_questionnaire(QUESTIONNAIRES / "low-back-audit-1.0.0.yaml")
    results = []
    for duration, onset, trend, leg, age in itertools.product(
        DURATIONS,
        ("gradual", "sudden_no_cause", "after_minor_injury"),
        TRENDS_1_0,
        ("none", "above_knee", "below_knee"),
        (30, 55),
    ):
        results.append(assess(old, _version_1_answers(duration, onset, trend, leg, age)))
    fraction = self_care_fraction(results)
    print(f"\n1.0.0: {fraction:.0%} of {len(results)} answer sets reached self-care")
    assert len(results) == 162
    assert round(fraction, 2) == 0.15


def _version_1_answers(duration: str, onset: str, trend: str, leg: str, age: int) -> dict[str, Any]:
    given = answers(
        pain_intensity=4,
        pain_duration=duration,
        onset=onset,
        pain_trend=trend,
        leg_pain=leg,
        leg_pain_worse_than_back=False if leg != "none" else None,
        age=age,
    )
    for gone in ("abdominal_pain", "recent_flare", "seen_about_this_pain", "peg_enjoyment",
                 "peg_activity", "hypermobile"):  # fmt: skip  # added in 2.1.0
        given.pop(gone)
    for gone in ("sexual_function_change", "serious_accident", "leg_weakness",
                 "walking_difficulty", "pain_on_straining", "thoracic_pain", "first_episode",
                 "began_before_45", "inflammatory_features", "joint_problems", "falls_or_unsteady"):  # fmt: skip
        given.pop(gone, None)
    given.update(major_trauma=False, leg_weakness_worsening=False)
    if duration == "over_12_weeks" and age < 45:
        given.update(
            morning_stiffness_30min=False,
            exercise_helps_rest_does_not=False,
            wakes_second_half_night=False,
            alternating_buttock_pain=False,
        )
    return given
