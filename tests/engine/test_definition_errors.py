"""Every kind of definition error is reported with its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.engine import DefinitionError, load_exercise_blocks, load_questionnaire

from .support import QUESTIONNAIRES

REAL = (QUESTIONNAIRES / "low-back-audit.yaml").read_text()


def broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    """A copy of the real questionnaire with one edit, beside the real exercise blocks."""
    assert old in REAL, old
    shutil.copy(QUESTIONNAIRES / "exercise-blocks.yaml", tmp_path)
    path = tmp_path / "low-back-audit.yaml"
    path.write_text(REAL.replace(old, new, count))
    return path


def line_of(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


def problems(path: Path) -> list[tuple[int, str]]:
    with pytest.raises(DefinitionError) as caught:
        load_questionnaire(path)
    assert all(p.file == str(path) for p in caught.value.problems if p.file.endswith(path.name))
    return [(p.line, p.message) for p in caught.value.problems]


def test_the_real_definitions_load_without_problems() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "low-back-audit.yaml")
    assert len(q.questions) >= 60
    # 2.1.0 adds four rules to 2.0.0's 33 and removes none.
    assert (q.version, len(q.rules)) == ("2.1.0", 37)
    previous = load_questionnaire(QUESTIONNAIRES / "low-back-audit-2.0.0.yaml")
    assert (previous.version, len(previous.rules)) == ("2.0.0", 33)
    assert {r.code for r in previous.rules} < {r.code for r in q.rules}
    assert set(previous.question_by_id) < set(q.question_by_id)
    old = load_questionnaire(QUESTIONNAIRES / "low-back-audit-1.0.0.yaml")
    assert (old.version, len(old.rules)) == ("1.0.0", 27)
    assert len(q.exercise_blocks) == 5
    checkin = load_questionnaire(QUESTIONNAIRES / "low-back-checkin.yaml")
    assert (checkin.version, len(checkin.rules)) == ("1.1.0", 25)
    old_checkin = load_questionnaire(QUESTIONNAIRES / "low-back-checkin-1.0.0.yaml")
    assert {r.code for r in old_checkin.rules} < {r.code for r in checkin.rules}


def test_unknown_key(tmp_path: Path) -> None:
    path = broken(
        tmp_path,
        "            type: integer\n            text: How old are you?",
        "            type: integer\n            txet: How old are you?",
    )
    found = problems(path)
    assert (
        line_of(path, "            txet: How old are you?"),
        "question: unknown key 'txet' (allowed: hint, id, image, image_alt, max, min, options, required, text, type, unit, when, widget)",
    ) in found
    # ... and, at the question's first line, that it now has no text.
    assert (line_of(path, "          - id: age"), "question: missing required key 'text'") in found


def test_duplicate_question_id(tmp_path: Path) -> None:
    path = broken(tmp_path, "          - id: chest_pain\n", "          - id: both_legs\n")
    found = problems(path)
    assert (
        line_of(path, "          - id: both_legs") + 0,
        "duplicate question id 'both_legs'",
    ) in [(line, message) for line, message in found][:1] or any(
        "duplicate question id 'both_legs'" in m for _, m in found
    )
    lines = [
        i + 1
        for i, t in enumerate(path.read_text().splitlines())
        if t == "          - id: both_legs"
    ]
    assert any(line == lines[1] and "duplicate question id 'both_legs'" in m for line, m in found)


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = broken(
        tmp_path,
        "            text: Are you pregnant?\n",
        "            text: Are you pregnant?\n            text: Again?\n",
    )
    found = problems(path)
    assert (line_of(path, "            text: Again?"), "duplicate key 'text'") in found


def test_unknown_name_in_a_condition_suggests_the_right_one(tmp_path: Path) -> None:
    path = broken(tmp_path, "    when: fever\n", "    when: fevr\n")
    [(line, message)] = problems(path)
    assert line == line_of(path, "    when: fevr")
    assert "unknown question or value 'fevr'" in message
    assert "did you mean 'fever'" in message


def test_reference_to_a_missing_option(tmp_path: Path) -> None:
    path = broken(tmp_path, 'when: pain_trend == "worse"', 'when: pain_trend == "worst"')
    [(line, message)] = problems(path)
    assert line == line_of(path, '    when: pain_trend == "worst"')
    assert "'pain_trend' has no option 'worst'" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    when: fever\n", "    when: fever > 3\n", "'>' needs numbers; got yes/no > number"),
        (
            "    when: age < 18\n",
            '    when: age == "young"\n',
            "cannot compare a number value with a text value",
        ),
        (
            "    when: leg_numbness\n",
            "    when: sitting_hours\n",
            "gives a number value where a yes/no value is needed",
        ),
    ],
)
def test_type_mismatch_in_a_condition(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = broken(tmp_path, old, new)
    [(line, message)] = problems(path)
    assert line == line_of(path, new.rstrip("\n"))
    assert expected in message


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("    when: fever and\n", "cannot read this"),
        ("    when: fever.real\n", "'.' (attributes) is not allowed"),
        ('    when: __import__("os")\n', "unknown function"),
        ("    when: '[x for x in fever]'\n", "ListComp is not allowed"),
        ("    when: fever if age else bowel_change\n", "'... if ... else ...' is not allowed"),
    ],
)
def test_syntax_and_forbidden_syntax(tmp_path: Path, new: str, expected: str) -> None:
    path = broken(tmp_path, "    when: fever\n", new)
    [(line, message)] = problems(path)
    assert line == line_of(path, new.rstrip("\n"))
    assert expected in message


def test_cycle_in_derived_values(tmp_path: Path) -> None:
    path = broken(
        tmp_path,
        "    value: weight_kg / (height_cm / 100) ** 2\n",
        "    value: weight_kg / (height_cm / 100) ** 2 + loop\n  - id: loop\n    value: bmi + 1\n",
    )
    found = problems(path)
    assert any("cycle" in m and "bmi" in m and "loop" in m for _, m in found)
    cycle_lines = {line for line, m in found if "cycle" in m}
    assert cycle_lines <= {
        line_of(path, "    value: weight_kg / (height_cm / 100) ** 2 + loop"),
        line_of(path, "    value: bmi + 1"),
    }


def test_a_question_that_depends_on_a_later_answer(tmp_path: Path) -> None:
    path = broken(
        tmp_path,
        "            text: Do you have chest pain as well as your back pain?\n",
        "            text: Do you have chest pain as well as your back pain?\n            when: smoker\n",
    )
    found = problems(path)
    assert (line_of(path, "            when: smoker"),) == tuple(
        line for line, m in found if "not asked before it" in m
    )


def test_a_question_no_answer_can_reach(tmp_path: Path) -> None:
    path = broken(
        tmp_path,
        '        when: leg_pain != "none"\n',
        '        when: leg_pain == "none" and leg_pain == "below_knee"\n',
    )
    [(line, message)] = problems(path)
    assert line == line_of(path, '        when: leg_pain == "none" and leg_pain == "below_knee"')
    assert "page 'leg_compared' can never be shown" in message


def test_a_numeric_range_no_answer_can_reach(tmp_path: Path) -> None:
    path = broken(
        tmp_path,
        "        when: sitting_hours >= 4\n",
        "        when: sitting_hours < 2 and sitting_hours > 3\n",
    )
    [(line, message)] = problems(path)
    assert line == line_of(path, "        when: sitting_hours < 2 and sitting_hours > 3")
    assert "page 'sitting_breaks' can never be shown" in message


def test_a_question_whose_own_condition_can_never_hold(tmp_path: Path) -> None:
    path = broken(
        tmp_path,
        "            when: plays_sports\n",
        "            when: plays_sports and not plays_sports\n",
    )
    [(line, message)] = problems(path)
    assert line == line_of(path, "            when: plays_sports and not plays_sports")
    assert "question 'one_sided_sport' can never be asked" in message


def test_a_rule_that_would_hide_the_question_it_reads_is_circular(tmp_path: Path) -> None:
    # Movement checks are asked only at self care (or after a clinician's release, a context
    # value the check takes as not given): a see_doctor rule cannot read one.
    path = broken(
        tmp_path,
        "    level: see_doctor\n    when: pain_intensity >= 8\n",
        '    level: see_doctor\n    when: squat_check == "cannot"\n',
    )
    found = problems(path)
    assert any("circular" in m and "squat_check" in m for _, m in found)


def test_an_emergency_rule_may_read_answers_asked_before_it_stops_the_interview() -> None:
    # cancer_nerve_signs reads leg answers from the pain pages, which an emergency would hide;
    # it is not circular, because the interview ends on the page that made it fire.
    q = load_questionnaire(QUESTIONNAIRES / "low-back-audit.yaml")
    rule = next(r for r in q.rules if r.code == "cancer_nerve_signs")
    assert {"leg_numbness", "leg_pain"} <= rule.when.names


def test_unknown_level(tmp_path: Path) -> None:
    path = broken(
        tmp_path, "    level: urgent\n    when: fever\n", "    level: soon\n    when: fever\n"
    )
    [(line, message)] = problems(path)
    assert line == line_of(path, "    level: soon")
    assert "unknown level 'soon'" in message


def test_a_plan_step_that_does_not_exist(tmp_path: Path) -> None:
    path = broken(tmp_path, "step: figure_4}", "step: figure_5}")
    [(line, message)] = problems(path)
    assert line == line_of(
        path, '        - {when: bridge_check == "single_leg_easy", step: figure_5}'
    )
    assert "no step 'figure_5'" in message


def test_an_image_without_alt_text_in_the_blocks_file(tmp_path: Path) -> None:
    text = (QUESTIONNAIRES / "exercise-blocks.yaml").read_text()
    lines = text.splitlines()
    alt_index = next(i for i, t in enumerate(lines) if t.strip().startswith("image_alt:"))
    del lines[alt_index]
    path = tmp_path / "blocks.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DefinitionError) as caught:
        load_exercise_blocks(path)
    [problem] = caught.value.problems
    assert "'image' and 'image_alt' go together" in problem.message
    assert problem.file == str(path)
    assert 1 < problem.line < alt_index + 1


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "    when: fever\n", "    when: [fever\n")
    [(line, message)] = problems(path)
    assert "YAML syntax" in message
    assert line >= line_of(path, "    when: [fever")


def test_a_step_condition_is_checked_against_the_questionnaires_names(tmp_path: Path) -> None:
    path = broken(tmp_path, "step: figure_4}", "step: figure_4}")
    blocks = (QUESTIONNAIRES / "exercise-blocks.yaml").read_text()
    (tmp_path / "exercise-blocks.yaml").write_text(
        blocks.replace("avoid_when: recent_knee_replacement", "avoid_when: bad_knee", 1)
    )
    found = problems(path)
    assert any("avoid_when" in m and "bad_knee" in m for _, m in found), found


def test_a_version_must_list_the_ids_it_removed(tmp_path: Path) -> None:
    from app.engine import validate_path

    for name in (
        "low-back-audit-1.0.0.yaml",
        "exercise-blocks-1.0.0.yaml",
        "exercise-blocks-2.0.0.yaml",
        "exercise-blocks.yaml",
    ):
        shutil.copy(QUESTIONNAIRES / name, tmp_path)
    line = '  - {id: major_trauma, version: "2.0.0", use: serious_accident}\n'
    # 2.0.0 removed it: 2.0.0 must list it, and so must every later version.
    previous = (QUESTIONNAIRES / "low-back-audit-2.0.0.yaml").read_text()
    assert line in previous
    (tmp_path / "low-back-audit-2.0.0.yaml").write_text(previous.replace(line, ""))
    (tmp_path / "low-back-audit.yaml").write_text(REAL)
    found = [p.message for p in validate_path(tmp_path)]
    assert found == [
        "question 'major_trauma' of version 1.0.0 is gone from version 2.0.0: list it under 'removed'"
    ]
    assert validate_path(QUESTIONNAIRES) == []


def test_the_current_version_still_names_every_id_an_earlier_one_removed() -> None:
    # An app that still sends major_trauma is told it went in 2.0.0 and what to send instead.
    current = load_questionnaire(QUESTIONNAIRES / "low-back-audit.yaml")
    previous = load_questionnaire(QUESTIONNAIRES / "low-back-audit-2.0.0.yaml")
    assert previous.removed == current.removed


def test_two_files_cannot_hold_the_same_version(tmp_path: Path) -> None:
    from app.engine import validate_path

    shutil.copy(QUESTIONNAIRES / "exercise-blocks.yaml", tmp_path)
    (tmp_path / "low-back-audit.yaml").write_text(REAL)
    (tmp_path / "low-back-audit-copy.yaml").write_text(REAL)
    assert any("version 2.1.0 is in another file too" in p.message for p in validate_path(tmp_path))


def test_a_follow_up_must_rank_the_levels_as_what_it_follows(tmp_path: Path) -> None:
    """The clinic's queue sorts submissions and their check-ins by one ranking of levels."""
    from app.engine import validate_path

    shutil.copy(QUESTIONNAIRES / "exercise-blocks.yaml", tmp_path)
    (tmp_path / "low-back-audit.yaml").write_text(REAL)
    checkin = (QUESTIONNAIRES / "low-back-checkin.yaml").read_text()
    (tmp_path / "low-back-checkin.yaml").write_text(checkin)
    assert validate_path(tmp_path) == []
    # "urgent" renamed: the levels no longer match, and the rules that use it are named too.
    (tmp_path / "low-back-checkin.yaml").write_text(
        checkin.replace("  - code: urgent\n", "  - code: urgent_today\n", 1).replace(
            "level: urgent\n", "level: urgent_today\n"
        )
    )
    found = [p.message for p in validate_path(tmp_path)]
    assert any(
        "differ from those of low-back-audit 2.1.0, which it follows" in message
        for message in found
    ), found


def test_the_archived_version_1_is_read_only() -> None:
    # Old submissions are shown with this file's questions and texts: it must never change.
    # (Its one edit on archiving: it names its own copy of the exercise blocks.)
    import hashlib

    for name, digest in ARCHIVED.items():
        assert hashlib.sha256((QUESTIONNAIRES / name).read_bytes()).hexdigest() == digest, name


ARCHIVED = {
    "low-back-audit-1.0.0.yaml": "63ca9bb4c9cd20e42021882488e0652882effbaf9cb31a411b35e0f0211ab987",
    "exercise-blocks-1.0.0.yaml": "1d8a2fd9fe64b6d38007e25e425485c9d8f8bd209d2acaa82b31daa253f854b0",
}


# -- the definition keys 2.1.0 added -----------------------------------------------------------

CHECKIN = (QUESTIONNAIRES / "low-back-checkin.yaml").read_text()


def broken_checkin(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the real check-in with one edit."""
    assert old in CHECKIN, old
    path = tmp_path / "low-back-checkin.yaml"
    path.write_text(CHECKIN.replace(old, new, 1))
    return path


def test_an_unknown_rule_in_unless_reasons(tmp_path: Path) -> None:
    old = "      - unless_reasons: [fracture_risk, recent_injury, old_serious_accident]\n"
    new = "      - unless_reasons: [fracture_risk, recent_injurie, old_serious_accident]\n"
    path = broken(tmp_path, old, new)
    assert problems(path) == [
        (
            line_of(path, new.rstrip("\n")),
            "level 'see_doctor' advice_more: no triage rule 'recent_injurie'",
        )
    ]


def test_a_bad_condition_in_advice_more(tmp_path: Path) -> None:
    old = '      - when: pain_duration == "over_12_weeks"\n'
    new = '      - when: pain_duration == "over_3_months"\n'
    path = broken(tmp_path, old, new)
    [(line, message)] = problems(path)
    assert line == line_of(path, new.rstrip("\n"))
    assert "'pain_duration' has no option 'over_3_months'" in message


def test_an_unknown_rule_in_pause_all_reasons(tmp_path: Path) -> None:
    path = broken_checkin(
        tmp_path,
        "  pause_all_reasons: [pregnancy]\n",
        "  pause_all_reasons: [pregnancy, pregnant]\n",
    )
    assert problems(path) == [
        (
            line_of(path, "  pause_all_reasons: [pregnancy, pregnant]"),
            "progression: no triage rule 'pregnant'",
        )
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('  why_held: "staying on {step}: your pain is a little worse, so we have not moved you on."\n',
         "", "progression: missing required key 'why_held' (with 'hold_when')"),
        ("  why_paused_all: \"paused: please check your exercises with your midwife, GP or physio first.\"\n",
         "", "progression: missing required key 'why_paused_all' (with 'pause_all_reasons')"),
        ("  hold_when: global_change == \"a_little_worse\" or peg_pain - baseline_pain >= 2\n",
         "  hold_when: global_change == \"a_little_worse\" or peg_pain - baseline >= 2\n",
         "unknown question or value 'baseline'"),
        ("  min_days_between_ups: 7\n", "  min_days_between_ups: 70\n",
         "min_days_between_ups"),
    ],
)  # fmt: skip
def test_a_bad_progression_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = broken_checkin(tmp_path, old, new)
    found = problems(path)
    assert len(found) == 1, found
    assert expected in found[0][1]


def test_an_urgent_level_cannot_be_released(tmp_path: Path) -> None:
    old = "    risk: high\n    urgent: true\n    advice: >-\n      Please speak to a doctor today."
    new = (
        "    risk: high\n    urgent: true\n    releasable: true\n    advice: >-\n"
        "      Please speak to a doctor today."
    )
    path = broken(tmp_path, old, new)
    assert problems(path) == [
        (
            line_of(path, "    releasable: true"),
            "level 'urgent': an urgent level cannot be released",
        )
    ]


def test_the_self_care_level_cannot_be_released(tmp_path: Path) -> None:
    path = broken(tmp_path, "    risk: low\n", "    risk: low\n    releasable: true\n")
    assert problems(path) == [
        (
            line_of(path, "    releasable: true"),
            "level 'self_care': the least urgent level has the plan already",
        )
    ]


@pytest.mark.parametrize("value", ['"2027-02-30"', "next summer", "2027"])
def test_a_bad_accept_until(tmp_path: Path, value: str) -> None:
    path = broken(tmp_path, 'version: "2.1.0"\n', f'version: "2.1.0"\naccept_until: {value}\n')
    assert problems(path) == [
        (
            line_of(path, f"accept_until: {value}"),
            "questionnaire: 'accept_until' must be a day like 2027-06-30",
        )
    ]


def test_accept_until_is_read_as_a_day() -> None:
    from datetime import date

    q = load_questionnaire(QUESTIONNAIRES / "low-back-audit-2.0.0.yaml")
    assert q.accept_until == date(2027, 6, 30)
    assert load_questionnaire(QUESTIONNAIRES / "low-back-audit.yaml").accept_until is None


def test_an_unknown_step_in_with_steps(tmp_path: Path) -> None:
    old = "    - with_steps: [supported_hang, full_hang,"
    new = "    - with_steps: [supported_hang, full_hangs,"
    path = broken(tmp_path, old, new)
    text = path.read_text()
    line = text[: text.index(new)].count("\n") + 1
    assert problems(path) == [(line, "plan advice: no step 'full_hangs' in any block")]


def test_a_bad_condition_in_dropped_advice(tmp_path: Path) -> None:
    path = broken(tmp_path, "    - when: joint_replaced\n", "    - when: joint_replace\n")
    [(line, message)] = problems(path)
    assert line == line_of(path, "    - when: joint_replace")
    assert "did you mean 'joint_replaced'" in message


def test_the_safety_net_second_tier_needs_its_signs(tmp_path: Path) -> None:
    title = "  today_title: Speak to a GP today, or call {urgent_number}, if you get any of these"
    start = REAL.index(f"{title}\n  today_signs:\n")
    end = REAL.index("  self_care: >-\n    See a GP", start)
    path = broken(tmp_path, REAL[start:end], f"{title}\n")
    found = problems(path)
    assert found == [
        (
            line_of(path, title),
            "safety_net: missing required key 'today_signs' (with 'today_title')",
        )
    ]


def test_a_companion_avoid_when_is_checked_against_the_questionnaires_names(
    tmp_path: Path,
) -> None:
    path = broken(tmp_path, "step: figure_4}", "step: figure_4}")
    blocks = (QUESTIONNAIRES / "exercise-blocks.yaml").read_text()
    old = "      avoid_when: '\"shoulder\" in joint_problems or falls_or_unsteady'\n"
    assert blocks.count(old) == 1
    (tmp_path / "exercise-blocks.yaml").write_text(
        blocks.replace(old, "      avoid_when: '\"shoulder\" in joint_problem'\n")
    )
    found = problems(path)
    assert any("companion" in m and "joint_problem" in m for _, m in found), found


# -- warnings (backaudit validate): != and 'not in' on an answer that can be hidden -------------


def test_rule_warnings_name_each_rule_that_uses_not_equal_on_a_hideable_answer() -> None:
    from app.engine import rule_warnings

    old = load_questionnaire(QUESTIONNAIRES / "low-back-audit-2.0.0.yaml")
    found = rule_warnings(old)
    assert [w.message.split("'")[1] for w in found] == [
        "cancer_history",
        "cancer_history_stable",
        "spine_condition",
    ]
    text = (QUESTIONNAIRES / "low-back-audit-2.0.0.yaml").read_text().splitlines()
    for warning in found:
        assert warning.file == old.path
        assert text[warning.line - 1].startswith("  - code: ") or "when" in text[warning.line - 1]
    assert "pain_duration" in found[0].message  # hidden after an emergency stop
    assert "spine_diagnosis" in found[2].message
    assert "not (... == ...)" in found[0].message


@pytest.mark.parametrize("name", ["low-back-audit.yaml", "low-back-checkin.yaml"])
def test_the_current_definitions_have_no_rule_warnings(name: str) -> None:
    from app.engine import rule_warnings

    assert rule_warnings(load_questionnaire(QUESTIONNAIRES / name)) == []


@pytest.mark.parametrize(
    ("when", "warns"),
    [
        ('pain_trend != "improving"', True),  # hidden after an emergency stop
        ('onset not in ["gradual"]', True),
        ("leg_pain_worse_than_back != true", True),  # hidden by branching too
        ('not (pain_trend == "improving")', False),  # fires when it is missing
        ('answered(pain_trend) and pain_trend != "improving"', False),  # guarded
        ('serious_accident != "no"', False),  # always asked first
        ("recent_pain != true", False),  # a derived comparison is false, never missing
        ("trend_not_improving", True),  # through a derived value that uses !=
    ],
)
def test_rule_warnings_in_a_small_questionnaire(tmp_path: Path, when: str, warns: bool) -> None:
    from app.engine import rule_warnings

    # A rule of its own, "extra", before inflammatory_possible (the file's other rules warn
    # about nothing).
    before = "  - code: inflammatory_possible\n"
    extra = (
        f"  - code: extra\n    level: see_doctor\n    when: '{when}'\n"
        "    message: m\n    clinician: c\n    action: a\n"
    )
    path = broken(tmp_path, before, extra + before)
    derived = "  - id: recent_pain\n"
    path.write_text(
        path.read_text().replace(
            derived,
            '  - id: trend_not_improving\n    value: pain_trend != "improving"\n' + derived,
        )
    )
    q = load_questionnaire(path)
    found = rule_warnings(q)
    assert [w.message.split("'")[1] for w in found] == (["extra"] if warns else [])
    if warns:
        assert found[0].line == line_of(path, "  - code: extra")


# -- help-line placeholders ----------------------------------------------------------------------


def test_a_level_text_may_name_only_a_help_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "Call {emergency_name} now,", "Call {emergency_nmae} now,")
    [(line, message)] = problems(path)
    typo = next(text for text in path.read_text().splitlines() if "{emergency_nmae}" in text)
    assert line == line_of(path, typo) - 1  # the line of its key, `advice: >-`
    assert message.startswith("levels advice: {emergency_nmae} is not a help line")
    assert "{emergency_name}" in message


def test_the_help_lines_given_are_put_into_the_texts(tmp_path: Path) -> None:
    elsewhere = {
        "emergency_number": "112",
        "emergency_name": "112",
        "urgent_number": "116117",
        "urgent_name": "the 116117 helpline",
        "urgent_online_name": "the 116117 website",
    }
    path = broken(tmp_path, "\nversion:", "\nversion:")  # the real file, beside its blocks
    q = load_questionnaire(path, help_lines=elsewhere)
    texts = [lv.advice + (lv.action or "") for lv in q.levels]
    assert q.safety_net is not None
    texts += [q.safety_net.title, q.safety_net.today_title or ""]
    assert any("Call 112 now" in t for t in texts)
    assert any("call the 116117 helpline or use the 116117 website" in t for t in texts)
    assert "or call 116117, if you get any of these" in (q.safety_net.today_title or "")
    assert not any("{" in t or "999" in t or "111" in t for t in texts)
