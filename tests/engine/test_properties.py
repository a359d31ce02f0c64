"""Safety invariants over random answer sets (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine import AnswerError, EngineError, Question, build_result, evaluate

from .support import EMERGENCY_SIGNS, RED_FLAGS, questionnaire, urgency

Q = questionnaire()
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def valid_value(question: Question) -> st.SearchStrategy[Any]:
    if question.type == "boolean":
        return st.booleans()
    if question.type == "integer":
        return st.integers(int(question.minimum or 0), int(question.maximum or 1000))
    if question.type == "number":
        return st.floats(question.minimum or 0, question.maximum or 1000, allow_nan=False)
    codes = [o.code for o in question.options]
    if question.type == "choice":
        return st.sampled_from(codes)
    exclusive = [o.code for o in question.options if o.exclusive]
    others = [c for c in codes if c not in exclusive]
    return st.one_of(
        st.just(exclusive[:1] or others[:1]),
        st.lists(st.sampled_from(others), min_size=1, unique=True),
    )


# Any subset of the questions, each with a valid answer.
answer_sets = st.fixed_dictionaries({}, optional={q.id: valid_value(q) for q in Q.questions})
# Complete-looking answer sets: every question answered (hidden ones get ignored).
full_answer_sets = st.fixed_dictionaries({q.id: valid_value(q) for q in Q.questions})

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=6,
)


EMERGENCY_ANSWERS = [{sign: True} for sign in EMERGENCY_SIGNS] + [
    {"serious_accident": "last_6_weeks"}
]


@SETTINGS
@given(answer_sets, st.sampled_from(EMERGENCY_ANSWERS))
def test_any_emergency_answer_makes_the_level_emergency(
    answers: dict[str, Any], sign: dict[str, Any]
) -> None:
    result = build_result(evaluate(Q, {**answers, **sign}))
    assert result["triage"]["level"] == "emergency"
    assert result["plan"] is None


@SETTINGS
@given(full_answer_sets, st.sampled_from(RED_FLAGS))
def test_one_more_red_flag_never_lowers_the_level(answers: dict[str, Any], flag: str) -> None:
    before = build_result(evaluate(Q, {**answers, flag: False}))["triage"]["level"]
    after = build_result(evaluate(Q, {**answers, flag: True}))["triage"]["level"]
    assert urgency(after) <= urgency(before)


@SETTINGS
@given(answer_sets)
def test_no_plan_unless_self_care_and_complete(answers: dict[str, Any]) -> None:
    evaluation = evaluate(Q, answers)
    result = build_result(evaluation)
    if result["plan"] is not None:
        assert result["triage"]["level"] == "self_care"
        assert result["complete"] is True
        assert evaluation.complete


@SETTINGS
@given(full_answer_sets)
def test_a_finished_interview_is_complete_and_stored_answers_are_only_visible_ones(
    answers: dict[str, Any],
) -> None:
    evaluation = evaluate(Q, answers)
    assert evaluation.complete
    visible = {q.id for q in evaluation.visible}
    assert set(evaluation.answers) <= visible
    assert set(evaluation.answers) | set(evaluation.ignored) == set(answers)


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from([q.id for q in Q.questions]) | st.text(max_size=8), junk, max_size=12
    )
)
def test_the_engine_raises_nothing_on_junk_and_names_each_problem(answers: dict[str, Any]) -> None:
    evaluation = evaluate(Q, answers)  # an object never raises: problems are collected
    result = build_result(evaluation)
    assert result["triage"]["level"] in ("emergency", "urgent", "see_doctor", "self_care")
    for problem in evaluation.problems:
        assert problem.question in answers


@SETTINGS
@given(junk.filter(lambda value: not isinstance(value, dict)))
def test_anything_that_is_not_an_object_of_answers_is_an_answer_error(value: Any) -> None:
    with pytest.raises(AnswerError) as caught:
        evaluate(Q, value)
    assert caught.value.problems[0].question == "answers"
    assert isinstance(caught.value, EngineError)


# Words that instruct an exercise: every block's and step's title, and the words of a dose.
EXERCISE_WORDS = sorted(
    {block.title.lower() for block in Q.exercise_blocks.values()}
    | {step.title.lower() for block in Q.exercise_blocks.values() for step in block.steps}
    | {"sets of", "repetitions", "hang from", "squat down", "lift your hips", "stretches"}
)


def texts_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in texts_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in texts_in(item)]
    return []


@SETTINGS
@given(full_answer_sets)
def test_no_text_of_a_result_without_a_plan_tells_the_person_to_exercise(
    answers: dict[str, Any],
) -> None:
    result = build_result(evaluate(Q, answers))
    if result["triage"]["level"] == "self_care":
        return
    for text in texts_in(result):
        assert not [word for word in EXERCISE_WORDS if word in text.lower()], text


# What each answer rules out, in the spec's words (PRODUCT.md, "Exercise plan").
RULED_OUT = {
    "hip": {"frog", "knee_drops", "squat_hold", "weight_shifts"},
    "knee": {"squat_hold", "weight_shifts", "knee_drops"},
    "shoulder": {"supported_hang", "full_hang", "contract_relax_hang", "hang_shoulder_rotations"},
    "falls": {
        "supported_hang", "full_hang", "contract_relax_hang", "hang_shoulder_rotations",
        "foot_on_step", "squat_hold", "weight_shifts", "knee_drops",
    },
}  # fmt: skip


@SETTINGS
@given(full_answer_sets)
def test_no_plan_offers_a_step_that_the_persons_answers_rule_out(answers: dict[str, Any]) -> None:
    result = build_result(evaluate(Q, answers))
    if result["plan"] is None:
        return
    ruled_out: set[str] = set()
    for joint in answers["joint_problems"]:
        ruled_out |= RULED_OUT.get(joint, set())
    if answers["falls_or_unsteady"]:
        ruled_out |= RULED_OUT["falls"]
    for block in result["plan"]["blocks"]:
        offered = {step["code"] for step in block["steps"] if step["allowed"]}
        assert not offered & ruled_out, block["code"]
        if block["start_step"] is not None:
            assert block["steps"][block["start_step"]]["allowed"]
        else:
            assert not offered
            assert block.get("companion")
