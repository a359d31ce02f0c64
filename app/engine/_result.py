"""Turning an evaluation into the result object of the product's result contract."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from ._contract import ExerciseStep, Plan, PlanBlock, Result, SafetyNet
from ._errors import AnswerError
from ._evaluate import Evaluation, evaluate
from ._expr import MISSING
from ._model import Contributor, Questionnaire

RELEASED = "released"  # the context value that says a clinician released the programme


def assess(
    q: Questionnaire, answers: Mapping[str, Any], context: Mapping[str, Any] | None = None
) -> Result:
    """The result for a complete set of answers; raises AnswerError listing every problem."""
    evaluation = evaluate(q, answers, context)
    if not evaluation.complete:
        raise AnswerError(evaluation.required_problems())
    return build_result(evaluation)


def build_result(evaluation: Evaluation) -> Result:
    """The result contract. For partial answers the triage is provisional and there is no plan."""
    q = evaluation.questionnaire
    ctx = evaluation.context
    reasons = sorted((rule for rule in q.rules if rule.when.holds(ctx)), key=lambda r: r.rank)
    level = q.level_by_code[reasons[0].level if reasons else q.self_care_level]
    scores = {c.code: score_contributor(c, ctx) for c in q.contributors}
    contributors = sorted(
        (c for c in q.contributors if scores[c.code] >= 1),
        key=lambda c: -scores[c.code],  # sorted() is stable: ties keep the file's order
    )
    # Safety: a plan only for a finished interview at the least urgent level, or at a level a
    # clinician may release (never an urgent one) once they have, whatever the data.
    self_care = level.code == q.self_care_level
    released = level.releasable and ctx.get(RELEASED) is True
    plan = None
    if evaluation.complete and (self_care or released) and q.plan.blocks:
        plan = build_plan(q, ctx, scores)
    fired = {rule.code for rule in reasons}
    advice = " ".join(
        [
            level.advice,
            *(
                more.text
                for more in level.advice_more
                if (more.when is None or more.when.holds(ctx)) and not (more.unless_reasons & fired)
            ),
        ]
    )
    result: Result = {
        "questionnaire": {"id": q.id, "version": q.version},
        "complete": evaluation.complete,
        "triage": {
            "level": level.code,
            "title": level.title,
            "advice": advice,
            "clinician": level.clinician or level.label,
            "action": level.action,
            "reasons": [
                {
                    "code": rule.code,
                    "level": rule.level,
                    "message": rule.message,
                    "clinician": rule.clinician or rule.message,
                    "action": rule.action,
                }
                for rule in reasons
            ],
        },
        "contributors": [
            {
                "code": c.code,
                "score": scores[c.code],
                "label": c.label,
                "why": fill(c.why, ctx),
                # Exercise advice only with an exercise plan; otherwise, what to raise with
                # the doctor or physio.
                "advice": fill(c.advice if self_care or c.discuss is None else c.discuss, ctx),
            }
            for c in contributors
        ],
        "plan": plan,
        # Who released the programme after review, and when: the caller's to fill in.
        "release": None,
        "ignored_answers": list(evaluation.ignored),
    }
    if q.safety_net is not None:
        net = q.safety_net
        safety_net: SafetyNet = {
            "title": net.title,
            "signs": list(net.signs),
            "action": net.action,
            "see_gp": net.self_care if plan is not None or self_care else None,
        }
        if net.today_title is not None:
            safety_net["today"] = {"title": net.today_title, "signs": list(net.today_signs)}
        result["safety_net"] = safety_net
    return result


def score_contributor(contributor: Contributor, ctx: Mapping[str, Any]) -> int:
    score = 0
    for band in contributor.bands:
        if band.when is None or band.when.holds(ctx):
            score = band.points
            break
    for bonus in contributor.bonuses:
        if bonus.when is None or bonus.when.holds(ctx):
            score += bonus.points
    return max(0, min(score, contributor.maximum))


def build_plan(q: Questionnaire, ctx: Mapping[str, Any], scores: Mapping[str, int]) -> Plan:
    ranked: list[tuple[int, int, PlanBlock]] = []
    dropped: list[str] = []
    suits: set[str] = set()  # the codes of steps (and stretches) that suit this person
    from_first = q.plan.from_first is not None and q.plan.from_first.holds(ctx)
    for index, spec in enumerate(q.plan.blocks):
        block = q.exercise_blocks[spec.code]
        allowed = [avoid is None or not avoid.holds(ctx) for avoid in spec.avoid]
        companion = block.companion
        if companion is not None and spec.companion_avoid is not None:
            companion = None if spec.companion_avoid.holds(ctx) else companion
        if not any(allowed) and companion is None:
            dropped.append(block.code)  # nothing in it suits: ask a physio instead
            continue
        relevance = sum(weight * scores.get(code, 0) for code, weight in spec.weights)
        relevance += sum(b.points for b in spec.bonuses if b.when is None or b.when.holds(ctx))
        chosen = 0
        if not from_first:
            for rule in spec.start:
                if rule.when is None or rule.when.holds(ctx):
                    chosen = next(i for i, s in enumerate(block.steps) if s.code == rule.step)
                    break
        steps: list[ExerciseStep] = []
        for position, step in enumerate(block.steps):
            data = step.as_dict()
            data["allowed"] = allowed[position]
            tips = spec.cautions[position] if position < len(spec.cautions) else ()
            data["cautions"] = [text for when, text in tips if when.holds(ctx)]
            steps.append(data)
            if allowed[position]:
                suits.add(step.code)
        entry: PlanBlock = {
            "code": block.code,
            "title": block.title,
            "summary": block.summary,
            "focus": False,
            "relevance": relevance,
            "start_step": start_step(allowed, chosen),
            "steps": steps,
            "dose": block.dose,
        }
        if companion is not None:
            stretch = companion.as_dict()
            stretch["cautions"] = [
                text for when, text in spec.companion_cautions if when.holds(ctx)
            ]
            entry["companion"] = stretch
            suits.add(companion.code)
        ranked.append((relevance, index, entry))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    blocks = [entry for _, _, entry in ranked]
    for entry in blocks[: q.plan.focus]:
        entry["focus"] = entry["relevance"] > 0
    advice = [
        fill(a.text, ctx)
        for a in q.plan.advice
        if (a.when is None or a.when.holds(ctx)) and (not a.with_steps or a.with_steps & suits)
    ]
    if dropped:
        said = next(
            (a.text for a in q.plan.dropped_advice if a.when is None or a.when.holds(ctx)), None
        )
        if said is not None:
            titles = ", ".join(q.exercise_blocks[code].title for code in dropped)
            advice.append(said.replace("[blocks]", titles))
    return {"blocks": blocks, "advice": advice, "dropped": dropped}


def start_step(allowed: list[bool], chosen: int) -> int | None:
    """Where a block starts: the chosen step if it suits; else the nearest easier step that
    suits (never a harder one), else the easiest step that suits; None if no step suits (the
    block keeps only its companion stretch)."""
    if not any(allowed):
        return None
    for position in range(min(chosen, len(allowed) - 1), -1, -1):
        if allowed[position]:
            return position
    return allowed.index(True)


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def fill(template: str, ctx: Mapping[str, Any]) -> str:
    """Put answers into a text's {placeholders} (names were checked when the file was loaded)."""
    if "{" not in template:
        return template
    values = _Values()
    for _, name, _, _ in string.Formatter().parse(template):
        if name:
            values[name] = _show(ctx[name])
    return template.format_map(values)


def _show(value: Any) -> str:
    if value is MISSING:
        return "?"
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)
