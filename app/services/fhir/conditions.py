"""Branching conditions as FHIR ``enableWhen``, or as SDC ``enableWhenExpression`` (FHIRPath).

Each section, page and question ``when`` goes on its own item (a group is disabled together
with everything in it), as ``enableWhen`` where FHIR can say the same thing: a yes/no answer,
``not`` one, a comparison of one earlier answer with a constant, ``in`` / ``not in`` a list of
codes, and ``and`` / ``or`` of these. FHIR has no "no answer" semantics of its own for ``!=``,
while ours is "false when unanswered", so ``!=`` also gets an ``exists`` check. Everything else
(the triage so far, derived values such as BMI, counts, the emergency stop) becomes an SDC
``enableWhenExpression`` from the one translator in ``fhirpath.py``, never an approximation:
a half-true enableWhen would make a FHIR form show or hide questions differently from
backaudit. Such items also carry the condition as written, in the
``urn:backaudit:fhir:extension:enable-condition`` extension, for people.

The translation reads the engine's parsed form of each condition (``Expr.tree``).
"""

from __future__ import annotations

from typing import Any, Final

from app.engine import (
    TRIAGE_LEVEL,
    And,
    Codes,
    Compare,
    Constant,
    Expr,
    Name,
    Node,
    Not,
    Or,
    Question,
    Questionnaire,
)

from .coding import answer_value
from .fhirpath import FhirPath

ENABLE_CONDITION_URL: Final = "urn:backaudit:fhir:extension:enable-condition"
ENABLE_WHEN_EXPRESSION_URL: Final = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)
_OPERATORS: Final = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

EnableWhen = list[dict[str, Any]]


def add_condition(
    item: dict[str, Any],
    q: Questionnaire,
    condition: Expr | None,
    *,
    paths: FhirPath,
    before: int,
    stop: Node | None = None,
) -> None:
    """Put what shows a section, page or question on its item: its ``when`` and, for an item
    that an emergency stop can leave out, that it has not stopped (``stop``, the stop
    condition). ``enableWhen`` where it says exactly the same (SDC allows no
    enableWhenExpression beside it), otherwise an SDC ``enableWhenExpression`` read from the
    answers before position ``before``; the condition as written is kept beside it."""
    if condition is None and stop is None:
        return
    if condition is not None and stop is None:
        mapped = enable_when(q, condition)
        if mapped is not None:
            conditions, behavior = mapped
            item["enableWhen"] = conditions
            if behavior is not None:
                item["enableBehavior"] = behavior
            return
    extensions = item.setdefault("extension", [])
    parts: list[Node] = []
    if condition is not None:
        extensions.append({"url": ENABLE_CONDITION_URL, "valueString": condition.source})
        parts.append(condition.tree)
    if stop is not None:
        not_stopped = _negation(stop)
        if condition is None or not_stopped not in _conjuncts(condition.tree):
            parts.append(not_stopped)
    node = parts[0] if len(parts) == 1 else And(tuple(parts))
    expression = paths.condition(node, before)
    if expression == "true":  # the stop cannot have happened yet: nothing to say
        if not extensions:
            del item["extension"]
        return
    extensions.append(
        {
            "url": ENABLE_WHEN_EXPRESSION_URL,
            "valueExpression": {
                "language": "text/fhirpath",
                "expression": expression,
            },
        }
    )


def _negation(node: Node) -> Node:
    """``not`` of a condition, as ``!=`` where it compares the triage level (which always has
    a value, so flipping the operator is exact: for an answer it is not)."""
    flipped = {"==": "!=", "!=": "==", "in": "not in", "not in": "in"}
    if (
        isinstance(node, Compare)
        and len(node.operators) == 1
        and isinstance(node.operands[0], Name)
        and node.operands[0].id == TRIAGE_LEVEL
    ):
        return Compare(node.operands, (flipped[node.operators[0]],))  # type: ignore[arg-type]
    return Not(node)


def _conjuncts(node: Node) -> tuple[Node, ...]:
    return node.operands if isinstance(node, And) else (node,)


def enable_when(q: Questionnaire, condition: Expr | str) -> tuple[EnableWhen, str | None] | None:
    """The FHIR enableWhen list and enableBehavior for a condition, or None when FHIR cannot
    express it exactly. A condition given as text is checked against ``q`` first (ValueError)."""
    node = (q.compile_condition(condition) if isinstance(condition, str) else condition).tree
    if isinstance(node, Or):
        parts = [_atom(q, operand) for operand in node.operands]
        if any(part is None or len(part) != 1 for part in parts):
            return None
        return [part[0] for part in parts if part is not None], "any"
    conjuncts = node.operands if isinstance(node, And) else (node,)
    result: EnableWhen = []
    for conjunct in conjuncts:
        anyof = _any_of(q, conjunct) if len(conjuncts) == 1 else None
        if anyof is not None:
            return anyof, "any"
        part = _atom(q, conjunct)
        if part is None:
            return None
        result.extend(part)
    return result, ("all" if len(result) > 1 else None)


def _any_of(q: Questionnaire, node: Node) -> EnableWhen | None:
    """``choice in ["a", "b"]``: any of several codes."""
    if not (isinstance(node, Compare) and node.operators == ("in",)):
        return None
    left, right = node.operands
    question = q.question_by_id.get(left.id) if isinstance(left, Name) else None
    codes = _codes(right)
    if question is None or question.type != "choice" or codes is None:
        return None
    return [_condition(q, question, "=", code) for code in codes]


def _atom(q: Questionnaire, node: Node) -> EnableWhen | None:
    """One comparison (possibly needing an extra ``exists``), or None if FHIR cannot say it."""
    if isinstance(node, Name):
        question = q.question_by_id.get(node.id)
        if question is None or question.type != "boolean":
            return None
        return [_condition(q, question, "=", True)]
    if isinstance(node, Not):
        inner = node.operand
        if isinstance(inner, Name):
            question = q.question_by_id.get(inner.id)
            if question is not None and question.type == "boolean":
                return [_condition(q, question, "=", False)]
        return None
    if not (isinstance(node, Compare) and len(node.operators) == 1):
        return None
    left, right = node.operands
    if not (isinstance(left, Name) and left.id in q.question_by_id):
        return None
    question = q.question_by_id[left.id]
    op = node.operators[0]
    if op == "not in" and question.type == "choice":
        codes = _codes(right)
        if codes is None:
            return None
        return [_exists(question), *(_condition(q, question, "!=", c) for c in codes)]
    symbol = _OPERATORS.get(op)
    if symbol is None or not isinstance(right, Constant):
        return None
    value = right.value
    if not _fits(question, value, symbol):
        return None
    if symbol == "!=":
        return [_exists(question), _condition(q, question, "!=", value)]
    return [_condition(q, question, symbol, value)]


def _fits(question: Question, value: Any, symbol: str) -> bool:
    if question.type == "boolean":
        return isinstance(value, bool) and symbol in ("=", "!=")
    if question.type == "choice":
        return isinstance(value, str) and symbol in ("=", "!=")
    if question.type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if question.type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False  # multiple choice: FHIR's operators do not match "code in list of answers"


def _codes(node: Node) -> tuple[str, ...] | None:
    return node.codes if isinstance(node, Codes) and node.codes else None


def _exists(question: Question) -> dict[str, Any]:
    return {"question": question.id, "operator": "exists", "answerBoolean": True}


def _condition(q: Questionnaire, question: Question, symbol: str, value: Any) -> dict[str, Any]:
    condition: dict[str, Any] = {"question": question.id, "operator": symbol}
    condition.update(answer_value(q, question, value))
    return condition
