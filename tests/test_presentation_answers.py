"""Stored answers by section (app/presentation/answers.py): the one listing the staff submission
page and the patient's result page both show, read from the record as stored."""

from __future__ import annotations

from app.presentation.answers import OTHER_ANSWERS, AnswerLine, answers_by_section
from app.services.questionnaires import Registry
from tests.fixtures import EXAMPLE_ANSWERS


def test_answers_come_by_section_in_question_order_in_words(registry: Registry) -> None:
    q = registry.default
    sections = answers_by_section(registry, q.id, q.version, EXAMPLE_ANSWERS)
    assert [title for title, _ in sections] == [
        s.title for s in q.sections if any(qq.section_id == s.id for qq in q.questions)
    ]
    asked = [line.question_id for _, lines in sections for line in lines]
    assert asked == [qq.id for p in q.pages for qq in p.questions if qq.id in EXAMPLE_ANSWERS]
    height = next(
        line for _, lines in sections for line in lines if line.question_id == "height_cm"
    )
    assert height.text == q.question_by_id["height_cm"].text
    assert height.lines == ["175 cm (5 ft 9 in)"]


def test_a_multiple_choice_is_a_line_per_option_or_one_line_joined(registry: Registry) -> None:
    q = registry.default
    codes = [o.code for o in q.question_by_id["joint_problems"].options if o.code != "none"][:2]
    answers = {**EXAMPLE_ANSWERS, "joint_problems": codes}
    line = next(
        line
        for _, lines in answers_by_section(registry, q.id, q.version, answers)
        for line in lines
        if line.question_id == "joint_problems"
    )
    assert len(line.lines) == 2
    assert line.answer == ", ".join(line.lines)


def test_the_answers_behind_a_triage_reason_are_marked(registry: Registry) -> None:
    q = registry.default
    sections = answers_by_section(registry, q.id, q.version, EXAMPLE_ANSWERS, reasons=["fever"])
    marked = {line.question_id for _, lines in sections for line in lines if line.behind_reason}
    assert marked == {"fever"}
    unmarked = answers_by_section(registry, q.id, q.version, EXAMPLE_ANSWERS)
    assert not any(line.behind_reason for _, lines in unmarked for line in lines)


def test_an_answer_the_version_does_not_have_is_listed_as_stored(registry: Registry) -> None:
    q = registry.default
    sections = answers_by_section(registry, q.id, q.version, {**EXAMPLE_ANSWERS, "gone": 3})
    assert sections[-1] == (OTHER_ANSWERS, [AnswerLine("gone", "gone", ["3"])])


def test_a_version_no_longer_loaded_lists_every_answer_as_stored(registry: Registry) -> None:
    answers = {"age": 42, "fever": False}
    stored = [AnswerLine("age", "age", ["42"]), AnswerLine("fever", "fever", ["False"])]
    # The patient's page: other answers (none: no section); the staff page: "Answers", always.
    assert answers_by_section(registry, "low-back-audit", "0.0.1", answers) == [
        (OTHER_ANSWERS, stored)
    ]
    assert answers_by_section(registry, "low-back-audit", "0.0.1", {}) == []
    staff = answers_by_section(
        registry, "low-back-audit", "0.0.1", answers, unknown_title="Answers"
    )
    assert staff == [("Answers", stored)]
    assert answers_by_section(registry, "gone", "1", {}, unknown_title="Answers") == [
        ("Answers", [])
    ]
