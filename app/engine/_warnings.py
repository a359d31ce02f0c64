"""Warnings about a valid definition: things that load and run, but may not do what the author
meant. `backaudit validate` prints them; they do not stop the app.

A comparison with a missing answer is false, so a triage rule such as ``pain_trend !=
"improving"`` stays quiet when ``pain_trend`` is hidden (after an emergency stop, or by
branching): "not improving" silently reads as "improving". A rule that must fire then is
written ``not (pain_trend == "improving")``; one that must not is guarded by ``answered(...)``.
"""

from __future__ import annotations

from ._errors import DefinitionProblem
from ._model import Questionnaire
from ._nodes import Call, Compare, Name, Node, walk


def rule_warnings(q: Questionnaire) -> list[DefinitionProblem]:
    """Triage rules that use ``!=`` or ``not in`` on an answer that can be hidden (a question
    with a condition of its own, its page's or its section's), directly or through a derived
    value, without an ``answered(...)`` guard for it."""
    hideable = {question.id for question in q.questions if question.conditions}
    out: list[DefinitionProblem] = []
    for rule in q.rules:
        guarded = _answered_in(rule.when.tree)
        risky = sorted(_negated_names(q, rule.when.tree, set()) & hideable - guarded)
        if risky:
            out.append(
                DefinitionProblem(
                    q.path,
                    rule.line,
                    f"warning: triage rule {rule.code!r} uses != or 'not in' on "
                    f"{', '.join(risky)}, which can be hidden: a comparison with a missing "
                    "answer is false, so the rule stays quiet then. Write not (... == ...) to "
                    "fire when it is missing, or guard it with answered(...)",
                )
            )
    return out


def _negated_names(q: Questionnaire, tree: Node, seen: set[str]) -> set[str]:
    names: set[str] = set()
    for node in walk(tree):
        if isinstance(node, Compare) and any(op in ("!=", "not in") for op in node.operators):
            names |= {part.id for part in node.operands if isinstance(part, Name)}
        elif isinstance(node, Name) and node.id in q.derived_by_id and node.id not in seen:
            seen.add(node.id)
            names |= _negated_names(q, q.derived_by_id[node.id].expr.tree, seen)
    return names


def _answered_in(tree: Node) -> set[str]:
    return {
        arg.id
        for node in walk(tree)
        if isinstance(node, Call) and node.function == "answered"
        for arg in node.arguments
        if isinstance(arg, Name)
    }
