"""Moving a plan on from a follow-up's answers: each block up, down, the same, or paused.

The follow-up questionnaire's ``progression`` says which two questions belong to each block
(how many days it was done, how it felt) and what each "felt" answer does. Steps the person's
first answers ruled out (``allowed`` false) are never moved to.
"""

from __future__ import annotations

from typing import Any

from ._evaluate import Evaluation
from ._model import Move, Progression


def progress_plan(
    evaluation: Evaluation, plan: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The plan after this follow-up, and what changed in each block and why.

    ``plan`` is the current plan, as in a result (``start_step`` an index into ``steps``, or a
    step code in results of questionnaire 1.0.0). A block whose questions were not answered
    stays as it was; a paused block stays paused.
    """
    spec = evaluation.questionnaire.progression
    # Only a block's start step and pause change: the steps themselves are shared, not copied.
    moved = {**plan, "blocks": [dict(block) for block in plan["blocks"]]}
    changes: list[dict[str, Any]] = []
    if spec is None:
        return moved, changes
    answers = evaluation.answers
    for block in moved["blocks"]:
        feel = answers.get(spec.feel_question.replace("{block}", block["code"]))
        move = next((m for m in spec.moves if m.feel == feel), None)
        current = step_index(block)
        if move is None or current is None or block.get("paused"):
            continue
        days = int(answers.get(spec.days_question.replace("{block}", block["code"]), 0))
        change = _move(block, current, move, days)
        changes.append(change)
    return moved, changes


def step_index(block: dict[str, Any]) -> int | None:
    """The index of a block's current step (results of 1.0.0 give the step's code)."""
    start = block.get("start_step")
    if isinstance(start, str):
        return next((i for i, s in enumerate(block["steps"]) if s["code"] == start), 0)
    return start if isinstance(start, int) else None


def _move(block: dict[str, Any], current: int, move: Move, days: int) -> dict[str, Any]:
    steps = block["steps"]
    allowed = [bool(s.get("allowed", True)) for s in steps]
    target: int | None = current
    why = move.why
    if move.move == "up":
        if days < move.min_days:
            why = move.why_too_few_days or why
        else:
            target = next((i for i in range(current + 1, len(steps)) if allowed[i]), None)
    elif move.move == "down":
        target = next((i for i in range(current - 1, -1, -1) if allowed[i]), None)
    if target is None:  # no allowed step that way: stay
        target, why = current, move.why_at_end or why
    paused = move.move == "pause"
    block["start_step"] = target
    block["paused"] = paused
    return {
        "block": block["code"],
        "from_step": steps[current]["code"],
        "to_step": None if paused else steps[target]["code"],
        "paused": paused,
        "why": _fill(why, block["title"], steps[current]["title"], steps[target]["title"], days),
    }


def _fill(text: str, block: str, step: str, to: str, days: int) -> str:
    values = {"{block}": block, "{step}": step, "{to}": to, "{days}": str(days)}
    for key, value in values.items():
        text = text.replace(key, value)
    return f"{block}: {text}"


__all__ = ["Progression", "progress_plan", "step_index"]
