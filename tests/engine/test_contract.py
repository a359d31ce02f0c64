"""The result contract (app/engine/_contract.py) against what the engine really builds: every
key the engine adds must be in the types (extra keys are refused), every value of its type.
Pydantic reads the types here as the API's document does."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from app.engine import (
    RELEASED,
    Plan,
    PlanChange,
    Result,
    assess,
    build_result,
    evaluate,
    progress_plan,
)
from tests.support.results import plan_of

from .support import (
    CHECKIN_CONTEXT,
    LEVELS,
    answers,
    audit_2_0,
    checkin_answers,
    checkin_questionnaire,
    only_known,
    questionnaire,
)

# A sign for each level of the audit, and a hip problem, a fall and a shoulder for a plan that
# leaves steps out, adds cautions and a companion stretch, and drops nothing or something.
BY_LEVEL: dict[str, dict[str, Any]] = {
    "emergency": {"saddle_numbness": True},
    "urgent": {"fever": True},
    "see_doctor": {"osteoporosis_or_steroids": True},
    "self_care": {"joint_problems": ["shoulder", "hip"], "hip_replacement": "no"},
}


def conforms(type_: Any, value: Any) -> None:
    # strict: a tuple is not a list, a str not a number; extra="forbid": no key beyond the type.
    TypeAdapter(type_).validate_python(value, strict=True, extra="forbid")


def test_the_table_has_a_result_for_every_level() -> None:
    assert set(BY_LEVEL) == {level.code for level in questionnaire().levels} == set(LEVELS)


@pytest.mark.parametrize("level", LEVELS)
def test_a_result_at_each_level_is_the_contract(level: str) -> None:
    result = assess(questionnaire(), answers(**BY_LEVEL[level]))
    assert result["triage"]["level"] == level
    conforms(Result, result)


def test_a_released_result_with_its_plan_and_a_provisional_one_are_the_contract() -> None:
    released = assess(questionnaire(), answers(**BY_LEVEL["see_doctor"]), {RELEASED: True})
    assert released["plan"] is not None
    conforms(Result, released)
    so_far = build_result(evaluate(questionnaire(), {"saddle_numbness": False}))
    assert not so_far["complete"]
    conforms(Result, so_far)


def test_an_older_versions_result_is_the_contract() -> None:
    old = audit_2_0()
    conforms(Result, assess(old, only_known(old, answers(falls_or_unsteady=True))))


@pytest.mark.parametrize(
    "changes",
    [
        {"hip_bridge_feel": "too_easy", "hip_bridge_days": 7, "pelvic_tilts_feel": "too_hard"},
        {"hip_bridge_feel": "made_pain_worse"},
        {"pregnant": True},  # see a doctor: every block paused
    ],
)
def test_a_check_in_and_the_plan_it_moves_on_are_the_contract(changes: dict[str, Any]) -> None:
    q = checkin_questionnaire()
    evaluation = evaluate(q, checkin_answers(q, **changes), CHECKIN_CONTEXT)
    conforms(Result, build_result(evaluation))
    plan, moves = progress_plan(evaluation, plan_of(assess(questionnaire(), answers())))
    assert moves
    conforms(Plan, plan)
    conforms(list[PlanChange], moves)


def test_a_key_the_types_do_not_name_is_refused() -> None:
    result: dict[str, Any] = dict(assess(questionnaire(), answers()))
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        conforms(Result, {**result, "new_key": 1})
