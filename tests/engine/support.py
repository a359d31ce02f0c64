"""Answer sets for engine tests: a complete self-care baseline, changed per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.engine import Questionnaire, load_questionnaire

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"

_loaded: Questionnaire | None = None


def questionnaire() -> Questionnaire:
    """The real questionnaire, loaded once (loading validates it completely)."""
    global _loaded
    if _loaded is None:
        _loaded = load_questionnaire(QUESTIONNAIRES / "low-back-audit.yaml")
    return _loaded


# The yes/no emergency signs (serious_accident is a choice: "last_6_weeks" is an emergency).
EMERGENCY_SIGNS = (
    "saddle_numbness",
    "bladder_change",
    "bowel_change",
    "sexual_function_change",
    "both_legs",
    "chest_pain",
)
RED_FLAGS = (
    *EMERGENCY_SIGNS,
    "leg_weakness",
    "walking_difficulty",
    "fever",
    "weight_loss",
    "cancer_history",
    "night_pain",
    "pain_on_straining",
    "thoracic_pain",
    "back_shape_change",
    "abdominal_pain",
    "osteoporosis_or_steroids",
    "infection_risk",
    "pregnant",
)
LEVELS = ("emergency", "urgent", "see_doctor", "self_care")

# A complete answer set with no red flag and no contributor: the plan fits, nothing scores.
BASELINE: dict[str, Any] = {
    **dict.fromkeys(RED_FLAGS, False),
    "serious_accident": "no",
    "age": 35,
    "pain_duration": "6_to_12_weeks",
    "first_episode": False,
    "onset": "gradual",
    "pain_intensity": 4,
    "peg_enjoyment": 3,
    "peg_activity": 3,
    "pain_trend": "same",
    # Asked for pain over 6 weeks; recent_flare over 12 weeks only.
    "seen_about_this_pain": True,
    "recent_flare": False,
    "leg_pain": "none",
    "leg_numbness": False,
    "spine_diagnosis": ["none"],
    # Asked only for pain over 12 weeks (by the age it began): ignored otherwise.
    "began_before_45": False,
    "inflammatory_features": ["none"],
    "knows_height_weight": True,
    "height_cm": 180,
    "weight_kg": 75,
    "activity_minutes_week": 200,
    "strength_days_week": 2,
    "stretching_frequency": "daily",
    "plays_sports": False,
    "lifts_weights": False,
    "sleep_hours": 8,
    "sleep_quality": "good",
    "wakes_stiff": False,
    "sitting_hours": 3,
    "hunched_posture": False,
    "smoker": False,
    "joint_problems": ["none"],
    "falls_or_unsteady": False,
    "hypermobile": False,
    "squat_check": "full_heels_down",
    "bridge_check": "two_leg_easy",
    "hang_check": "over_20_s",
    "sides_differ": False,
}


def answers(**changes: Any) -> dict[str, Any]:
    """The baseline with ``changes``; a change to None removes that answer. The baseline
    answers every question that branching may show, so hidden ones are reported as ignored."""
    result = {**BASELINE, **changes}
    return {key: value for key, value in result.items() if value is not None}


def urgency(level: str) -> int:
    """0 for emergency ... 3 for self care."""
    return LEVELS.index(level)


# -- other versions and the check-in -----------------------------------------------------------

_files: dict[str, Questionnaire] = {}


def load(name: str) -> Questionnaire:
    """A definition file of questionnaires/, loaded once."""
    if name not in _files:
        _files[name] = load_questionnaire(QUESTIONNAIRES / name)
    return _files[name]


def audit_2_0() -> Questionnaire:
    """The audit before the clinical review (read-only beside the current one)."""
    return load("low-back-audit-2.0.0.yaml")


def checkin_questionnaire() -> Questionnaire:
    """The current check-in (1.1.0)."""
    return load("low-back-checkin.yaml")


def checkin_1_0() -> Questionnaire:
    return load("low-back-checkin-1.0.0.yaml")


def only_known(q: Questionnaire, given: dict[str, Any]) -> dict[str, Any]:
    """The answers that ``q`` has questions for (an older version lacks the newer ids)."""
    return {key: value for key, value in given.items() if key in q.question_by_id}


PLAN_BLOCKS = ("pelvic_tilts", "hip_rotation", "hip_bridge", "squat_mobility", "thoracic_lats")
# A first check-in two weeks into a 2.1.0 plan, from an assessment with pain 4 and PEG 4.
CHECKIN_CONTEXT: dict[str, Any] = {
    "plan_blocks": list(PLAN_BLOCKS),
    "weeks_since_start": 2,
    "baseline_peg": 4.0,
    "baseline_pain": 4,
    "cancer_history": False,
    "age": 40,
    "pregnant_at_start": False,
    "osteoporosis_or_steroids": False,
}


def checkin_answers(q: Questionnaire | None = None, **changes: Any) -> dict[str, Any]:
    """A complete check-in: no warning sign, pain 3, a little better, every block done on 5
    days and about right, for the ids that ``q`` (default: the current check-in) has;
    ``changes`` on top, as given (None removes an answer)."""
    q = q or checkin_questionnaire()
    signs = [x.id for page in q.sections[0].pages for x in page.questions]  # the warning signs
    given: dict[str, Any] = {
        **dict.fromkeys(signs, False),
        "pain_now": 3,
        "peg_pain": 3,
        "peg_enjoyment": 3,
        "peg_activity": 3,
        "global_change": "a_little_better",
        **{f"{b}_days": 5 for b in PLAN_BLOCKS},
        **{f"{b}_feel": "about_right" for b in PLAN_BLOCKS},
    }
    given = {**only_known(q, given), **changes}
    return {key: value for key, value in given.items() if value is not None}
