"""Triage levels carry what the app shows for them: staff label, patient badge and icon, CSS
style, urgency and FHIR risk, all from the definition file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import load_questionnaire

from .support import LEVELS, questionnaire

# A copy of the real file with one edit, and the problems it has.
from .test_definition_errors import broken, line_of, problems


def test_the_real_levels_carry_their_presentation_and_risk() -> None:
    q = questionnaire()

    shown = [
        (lv.code, lv.label, lv.badge, lv.icon, lv.style, lv.urgent, lv.risk) for lv in q.levels
    ]

    assert shown == [
        ("emergency", "Emergency", "Emergency", "alert", "emergency", True, "high"),
        ("urgent", "Urgent", "Urgent: today", "clock", "urgent", True, "high"),
        ("see_doctor", "See a doctor", "See a doctor first", "doctor", "see-doctor", False, "moderate"),
        ("self_care", "Self-care", "The programme fits", "tick", "self-care", False, "low"),
    ]  # fmt: skip
    assert tuple(lv.code for lv in q.levels) == LEVELS


def test_a_style_given_replaces_the_one_made_from_the_code(tmp_path: Path) -> None:
    path = broken(tmp_path, "    icon: doctor\n", "    icon: doctor\n    style: check-first\n")

    assert load_questionnaire(path).level_by_code["see_doctor"].style == "check-first"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    icon: clock\n",
            "    icon: bell\n",
            ["level 'urgent': 'icon' must be one of alert, clock, doctor, tick (got 'bell')"],
        ),
        (
            "    risk: moderate\n",
            "    risk: medium\n",
            ["level 'see_doctor': 'risk' must be one of high, moderate, low (got 'medium')"],
        ),
        (
            "    icon: alert\n    risk: high\n    urgent: true\n",
            "    icon: alert\n    risk: high\n    urgent: yes please\n",
            ["level 'emergency': 'urgent' must be true or false"],
        ),
        (
            "    icon: doctor\n",
            "    icon: doctor\n    style: See_Doctor\n",
            [
                "level 'see_doctor': 'style' must be lower-case letters, digits and '-'"
                " (got 'See_Doctor')"
            ],
        ),
        (
            "    risk: low\n",
            "    risk: low\n    urgent: true\n",
            [
                "level 'self_care': an urgent level cannot follow 'see_doctor', which is not;"
                " levels go most urgent first",
                "level 'self_care': the least urgent level (the one with an exercise plan)"
                " cannot be urgent",
            ],
        ),
    ],
)
def test_a_bad_level_field_is_reported_at_its_line(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    path = broken(tmp_path, old, new)

    found = problems(path)

    text = path.read_text()
    edited_line = text[: text.index(new) + len(new)].count("\n")  # the edit's last line
    assert sorted(found) == sorted((edited_line, message) for message in expected)


def test_a_level_without_a_risk_is_reported(tmp_path: Path) -> None:
    path = broken(tmp_path, "    risk: moderate\n", "")

    assert problems(path) == [
        (line_of(path, "  - code: see_doctor"), "level: missing required key 'risk'")
    ]
