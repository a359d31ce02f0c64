"""Contributor scores at every boundary in PRODUCT.md, and how they are listed."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine import assess

from .support import answers, questionnaire


def scores(**changes: Any) -> dict[str, int]:
    result = assess(questionnaire(), answers(**changes))
    return {c["code"]: c["score"] for c in result["contributors"]}


# At 200 cm, weight = BMI x 4, so these weights give exact BMIs.
@pytest.mark.parametrize(
    ("bmi", "expected"),
    [(24.9, 0), (25, 1), (29.9, 1), (30, 2), (34.9, 2), (35, 3)],
)
def test_weight_score_follows_bmi_bands(bmi: float, expected: int) -> None:
    assert scores(height_cm=200, weight_kg=bmi * 4).get("weight", 0) == expected


@pytest.mark.parametrize(
    ("rating", "expected"),
    [("under", 0), ("healthy", 0), ("a_bit_over", 1), ("very_over", 2)],
)
def test_weight_score_from_self_rating_when_height_and_weight_are_unknown(
    rating: str, expected: int
) -> None:
    result = scores(
        knows_height_weight=False, height_cm=None, weight_kg=None, weight_self_rating=rating
    )
    assert result.get("weight", 0) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"), [(0, 3), (1, 2), (74, 2), (75, 1), (149, 1), (150, 0)]
)
def test_activity_score_follows_weekly_minutes(minutes: int, expected: int) -> None:
    assert scores(activity_minutes_week=minutes).get("activity", 0) == expected


@pytest.mark.parametrize(("days", "expected"), [(0, 2), (1, 1), (2, 0), (7, 0)])
def test_strength_score_follows_days_a_week(days: int, expected: int) -> None:
    assert scores(strength_days_week=days).get("strength", 0) == expected


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [("daily", 0), ("several_times_a_week", 0), ("weekly", 1), ("rarely", 2), ("never", 3)],
)
def test_mobility_score_follows_stretching(frequency: str, expected: int) -> None:
    assert scores(stretching_frequency=frequency).get("mobility", 0) == expected


@pytest.mark.parametrize(
    ("hours", "breaks", "expected"),
    [
        (3.9, None, 0),
        (4, "hourly", 1),
        (5.9, "every_30_min", 1),
        (6, "hourly", 2),
        (7.9, "hourly", 2),
        (8, "hourly", 3),
        (4, "rarely", 2),
        (6, "rarely", 3),
        (8, "rarely", 3),  # +1 for rare breaks is capped at 3
    ],
)
def test_sitting_score_follows_hours_and_breaks(
    hours: float, breaks: str | None, expected: int
) -> None:
    assert scores(sitting_hours=hours, sitting_breaks=breaks).get("sitting", 0) == expected


@pytest.mark.parametrize(
    ("hours", "expected"), [(4.9, 3), (5, 2), (5.9, 2), (6, 1), (6.9, 1), (7, 0), (9, 0)]
)
def test_sleep_duration_score_follows_hours(hours: float, expected: int) -> None:
    assert scores(sleep_hours=hours).get("sleep_duration", 0) == expected


@pytest.mark.parametrize(
    ("quality", "expected"), [("good", 0), ("fair", 1), ("poor", 2), ("very_poor", 3)]
)
def test_sleep_quality_score(quality: str, expected: int) -> None:
    assert scores(sleep_quality=quality).get("sleep_quality", 0) == expected


@pytest.mark.parametrize(
    ("one_sided", "sides_differ", "expected"),
    [(False, False, 0), (True, False, 2), (True, True, 3), (False, True, 1)],
)
def test_sport_asymmetry_score(one_sided: bool, sides_differ: bool, expected: int) -> None:
    result = scores(plays_sports=True, one_sided_sport=one_sided, sides_differ=sides_differ)
    assert result.get("sport_asymmetry", 0) == expected


@pytest.mark.parametrize(
    ("changes", "code", "expected"),
    [
        (
            {"lifts_weights": True, "loaded_squats": True, "squat_check": "with_support"},
            "loaded_lifting",
            2,
        ),
        # A sound bodyweight squat halves it.
        (
            {"lifts_weights": True, "loaded_squats": True, "squat_check": "full_heels_down"},
            "loaded_lifting",
            1,
        ),
        ({"lifts_weights": True, "loaded_squats": False}, "loaded_lifting", 0),
        ({"hunched_posture": True}, "posture", 2),
        ({"smoker": True}, "smoking", 1),
    ],
)
def test_single_answer_contributors(changes: dict[str, Any], code: str, expected: int) -> None:
    assert scores(**changes).get(code, 0) == expected


def test_contributors_list_only_scores_of_one_or_more_strongest_first() -> None:
    result = assess(
        questionnaire(),
        answers(
            smoker=True, sitting_hours=9, sitting_breaks="hourly", stretching_frequency="weekly"
        ),
    )
    listed = [(c["code"], c["score"]) for c in result["contributors"]]
    assert listed == [("sitting", 3), ("mobility", 1), ("smoking", 1)]
    assert all(c["label"] and c["why"] and c["advice"] for c in result["contributors"])


def test_why_texts_carry_the_persons_own_numbers() -> None:
    result = assess(questionnaire(), answers(sitting_hours=9.5, sitting_breaks="hourly"))
    sitting = next(c for c in result["contributors"] if c["code"] == "sitting")
    assert "9.5 hours" in sitting["why"]


def test_no_contributors_after_an_emergency_stop() -> None:
    result = assess(questionnaire(), {"chest_pain": True, "smoker": True})
    assert result["contributors"] == []
