"""Moving a plan on from a follow-up's answers: each block up, down, the same, or paused.

The follow-up questionnaire's ``progression`` says which two questions belong to each block
(how many days it was done, how it felt) and what each "felt" answer does. Steps the person's
first answers ruled out (``allowed`` false) are never moved to.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._contract import Plan, PlanBlock, PlanChange
from ._evaluate import Evaluation
from ._model import TRIAGE_LEVEL, Move, Progression


def progress_plan(
    evaluation: Evaluation,
    plan: Plan,
    days_on_step: Mapping[str, float] | None = None,
) -> tuple[Plan, list[PlanChange]]:
    """The plan after this follow-up, and what changed in each block and why.

    ``plan`` is the current plan, as in a result (``start_step`` an index into ``steps``, or a
    step code in results of questionnaire 1.0.0). A block whose questions were not answered
    stays as it was; a paused block stays paused. ``days_on_step``: per block code, the days
    since its step last changed (or the plan was made), for the progression's
    ``min_days_between_ups``.

    At the least urgent level the moves apply, except that nothing moves up while
    ``hold_when`` holds. At any other level nothing moves: only pauses apply, and the rules in
    ``pause_all_reasons`` pause every block.
    """
    q = evaluation.questionnaire
    spec = q.progression
    # Only a block's start step and pause change: the steps themselves are shared, not copied.
    moved: Plan = {**plan, "blocks": [block.copy() for block in plan["blocks"]]}
    changes: list[PlanChange] = []
    if spec is None:
        return moved, changes
    ctx = evaluation.context
    level = ctx[TRIAGE_LEVEL]
    self_care = level == q.self_care_level
    pause_all = not self_care and any(
        rule.code in spec.pause_all_reasons and rule.when.holds(ctx) for rule in q.rules
    )
    held = spec.hold_when is not None and spec.hold_when.holds(ctx)
    answers = evaluation.answers
    for block in moved["blocks"]:
        feel = answers.get(spec.feel_question.replace("{block}", block["code"]))
        move = next((m for m in spec.moves if m.feel == feel), None)
        current = step_index(block)
        if current is None or block.get("paused"):
            continue
        if pause_all:
            move = Move("", "pause", spec.why_paused_all or "paused.")
        if move is None or (not self_care and move.move != "pause"):
            continue
        days = int(answers.get(spec.days_question.replace("{block}", block["code"]), 0))
        if move.move == "up" and held:
            move = Move(move.feel, "stay", spec.why_held or move.why)
        elif move.move == "up" and days >= move.min_days and spec.min_days_between_ups:
            since = (days_on_step or {}).get(block["code"])
            if since is not None and since < spec.min_days_between_ups:
                move = Move(move.feel, "stay", spec.why_too_soon or move.why)
        change = _move(block, current, move, days)
        changes.append(change)
    return moved, changes


def step_index(block: PlanBlock) -> int | None:
    """The index of a block's current step (results of 1.0.0 give the step's code)."""
    start = block.get("start_step")
    if isinstance(start, str):
        return next((i for i, s in enumerate(block["steps"]) if s["code"] == start), 0)
    return start if isinstance(start, int) else None


def _move(block: PlanBlock, current: int, move: Move, days: int) -> PlanChange:
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
