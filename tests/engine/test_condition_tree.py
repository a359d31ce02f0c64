"""Compiled conditions keep their parsed form, in the engine's own node types."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import (
    And,
    Arithmetic,
    Call,
    Codes,
    Compare,
    Constant,
    Name,
    Node,
    Not,
    Or,
    Sign,
    walk,
)

from .support import questionnaire
from .test_definition_errors import broken, line_of, problems


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("fever", Name("fever")),
        ("true", Constant(True)),
        (
            "fever and not chest_pain",
            And((Name("fever"), Not(Name("chest_pain")))),
        ),
        (
            "(fever or chest_pain) or walking_difficulty",
            Or((Or((Name("fever"), Name("chest_pain"))), Name("walking_difficulty"))),
        ),
        (
            'leg_pain not in ["none", "below_knee"]',
            Compare((Name("leg_pain"), Codes(("none", "below_knee"))), ("not in",)),
        ),
        (
            '"none" in spine_diagnosis',
            Compare((Constant("none"), Name("spine_diagnosis")), ("in",)),
        ),
        (
            "25 <= age < 30.5",
            Compare((Constant(25), Name("age"), Constant(30.5)), ("<=", "<")),
        ),
        (
            "age > -1",
            Compare((Name("age"), Sign("-", Constant(1))), (">",)),
        ),
        (
            "weight_kg / (height_cm / 100) ** 2 >= 30",
            Compare(
                (
                    Arithmetic(
                        "/",
                        Name("weight_kg"),
                        Arithmetic(
                            "**", Arithmetic("/", Name("height_cm"), Constant(100)), Constant(2)
                        ),
                    ),
                    Constant(30),
                ),
                (">=",),
            ),
        ),
        (
            "count_true(fever, chest_pain) >= 1 or answered(age)",
            Or(
                (
                    Compare(
                        (Call("count_true", (Name("fever"), Name("chest_pain"))), Constant(1)),
                        (">=",),
                    ),
                    Call("answered", (Name("age"),)),
                )
            ),
        ),
    ],
)
def test_a_condition_keeps_its_tree_as_written(source: str, tree: Node) -> None:
    assert questionnaire().compile_condition(source).tree == tree


def test_every_loaded_condition_has_a_tree_naming_what_it_reads() -> None:
    q = questionnaire()
    conditions = [rule.when for rule in q.rules] + [d.expr for d in q.derived]
    conditions += [question.when for question in q.questions if question.when is not None]

    for condition in conditions:
        named = {node.id for node in walk(condition.tree) if isinstance(node, Name)}
        assert named == condition.names, condition.source


def test_a_condition_that_does_not_check_says_where() -> None:
    with pytest.raises(ValueError, match=r"unknown question or value 'fevr'.*column 12"):
        questionnaire().compile_condition("age > 3 or fevr")


def test_is_is_refused_at_its_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "    when: fever\n", "    when: fever is True\n")

    [(line, message)] = problems(path)

    assert line == line_of(path, "    when: fever is True")
    assert "'is' is not allowed in a condition; write == or !=" in message
