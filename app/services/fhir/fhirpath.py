"""The engine's conditions as FHIRPath, for SDC ``enableWhenExpression`` and ``variable``.

One translator from the engine's condition tree (``Expr.tree``) to FHIRPath, so that a FHIR
form filler (LHC-Forms, or any SDC renderer) shows exactly the items that backaudit asks.

The rules it keeps, each the engine's:

- *No value is false.* A question with no answer reads as the empty collection ``{}``, which
  FHIRPath propagates through ``=``, ``<``, arithmetic and ``not()``, as the engine's MISSING.
  Where the engine says "true only on a definite yes" the result is made definite with
  ``~ true`` (FHIRPath's equivalence is false, not empty, against an empty collection), so an
  expression never gives ``{}`` where the engine gives False: renderers differ on what an
  empty enableWhenExpression means.
- *So far.* A condition sees only the answers given before its item (``before``: a question
  position), so a name asked later reads as ``{}`` there; the triage so far and derived values
  are worked out from those answers alone.
- *Readable where exact.* Each answer, context value, derived value, triage rule and the
  triage level is a root ``variable`` (``%pain_duration``, ``%bmi``, ``%rule_fever``,
  ``%triage_level``) worked out from the whole response. A condition reads the variable where every answer behind it comes before the
  condition's item (the variable then has the value the engine has there), and otherwise
  spells it out with only the earlier answers.

A construct the translator does not know raises ``FhirPathError``; the FHIR tests translate
every condition of every questionnaire, so a new construct in the engine fails them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from app.engine import (
    TRIAGE_LEVEL,
    And,
    Arithmetic,
    Call,
    Codes,
    Compare,
    Constant,
    Expr,
    Name,
    Node,
    Not,
    Or,
    Questionnaire,
    Sign,
)

from .coding import page_link_id, section_link_id

CONTEXT_LINK_ID: Final = "context"  # the hidden group of values the app gives, not the person
EVERYTHING: Final = 1 << 30  # a position after every question: the whole response
NOTHING: Final = "{}"  # FHIRPath's empty collection: no value
FALSE: Final = "false"
TRUE: Final = "true"
# Names FHIRPath or SDC already give a meaning as %name.
_RESERVED: Final = frozenset(
    {"resource", "rootResource", "context", "questionnaire", "qitem", "ucum", "sct", "loinc"}
    | {"factory", "terminologies", "server", "vs", "ext"}
)
_COMPARISON: Final = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ARITHMETIC: Final = {"+": "+", "-": "-", "*": "*", "/": "/"}


def variable_name(name: str) -> str:
    """A question's, context value's or derived value's variable: its id in camel case
    (``pain_duration``: ``%painDuration``), as a variable's name is a FHIR ``id``, which has
    no underscore."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def rule_variable(code: str) -> str:
    """The variable that says whether a triage rule fires (``%ruleFever``)."""
    return variable_name(f"rule_{code}")


class FhirPathError(ValueError):
    """A condition uses something the translator does not know how to say in FHIRPath."""


@dataclass(frozen=True, slots=True)
class Variable:
    """An SDC ``variable`` on the Questionnaire: a name and its FHIRPath expression."""

    name: str
    expression: str


@dataclass(slots=True)
class FhirPath:
    """A questionnaire's conditions in FHIRPath. Build once per questionnaire."""

    q: Questionnaire
    _needs: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [*self.q.question_by_id, *self.q.context, *self.q.derived_by_id, TRIAGE_LEVEL]
        variables = [variable_name(name) for name in names]
        variables += [rule_variable(rule.code) for rule in self.q.rules]
        for variable in variables:
            if variable in _RESERVED or variables.count(variable) > 1:
                raise FhirPathError(
                    f"the variable {variable!r} would be given twice, or is FHIRPath's own"
                )

    # -- what a name needs ------------------------------------------------------------------
    def needs(self, name: str) -> frozenset[str]:
        """The questions a name's value is worked out from (itself, for a question)."""
        cached = self._needs.get(name)
        if cached is not None:
            return cached
        q = self.q
        if name in q.question_by_id:
            result: frozenset[str] = frozenset({name})
        elif name in q.derived_by_id:
            result = self._needs_of(q.derived_by_id[name].expr.names)
        elif name == TRIAGE_LEVEL:
            result = self._needs_of(n for rule in q.rules for n in rule.when.names)
        else:  # a context value: given by the app, there from the start
            result = frozenset()
        self._needs[name] = result
        return result

    def _needs_of(self, names: Iterable[str]) -> frozenset[str]:
        return frozenset().union(*(self.needs(n) for n in names))

    def condition_needs(self, condition: Expr | Node) -> frozenset[str]:
        """The questions a condition reads, through derived values and the triage so far
        (``triage_level == "x"`` reads only the rules of ``x`` and the more urgent levels)."""
        node = condition.tree if isinstance(condition, Expr) else condition
        if isinstance(node, Name):
            return self.needs(node.id)
        if isinstance(node, Compare):
            result: frozenset[str] = frozenset()
            for index, op in enumerate(node.operators):
                left, right = node.operands[index], node.operands[index + 1]
                wanted = _levels_tested(left, op, right)
                if wanted is not None:
                    result |= self._rules_needs(wanted)
                else:
                    result |= self.condition_needs(left) | self.condition_needs(right)
            return result
        return frozenset().union(*(self.condition_needs(child) for child in _children(node)))

    def _rules_needs(self, wanted: tuple[str, ...]) -> frozenset[str]:
        levels = [level.code for level in self.q.levels]
        last = max((levels.index(code) for code in wanted if code in levels), default=-1)
        if levels and levels[last] == self.q.self_care_level:
            return self.needs(TRIAGE_LEVEL)
        return self._needs_of(
            n for rule in self.q.rules if rule.level in levels[: last + 1] for n in rule.when.names
        )

    def _known_by(self, name: str, before: int) -> bool:
        """Whether every answer behind ``name`` comes before position ``before``."""
        return self._all_before(self.needs(name), before)

    def _all_before(self, questions: frozenset[str], before: int) -> bool:
        return all(self.q.question_by_id[n].position < before for n in questions)

    # -- the variables ----------------------------------------------------------------------
    def variables(self) -> list[Variable]:
        """The root variables, each after those it reads: answers and context values, derived
        values, then the triage level."""
        q = self.q
        out = [Variable(variable_name(cid), _context_path(q, cid)) for cid in q.context]
        for question in q.questions:
            out.append(Variable(variable_name(question.id), self._answer_path(question.id)))
        done: set[str] = set()

        def add_derived(did: str) -> None:
            if did in done:
                return
            done.add(did)
            for name in q.derived_by_id[did].expr.names:
                if name in q.derived_by_id:
                    add_derived(name)
            expression = self.value(q.derived_by_id[did].expr.tree, EVERYTHING)
            out.append(Variable(variable_name(did), expression))

        for derived in q.derived:
            add_derived(derived.id)
        for rule in q.rules:
            out.append(Variable(rule_variable(rule.code), self.condition(rule.when)))
        if q.rules:
            out.append(Variable(variable_name(TRIAGE_LEVEL), self._triage_chain(EVERYTHING)))
        return out

    def _answer_path(self, question_id: str) -> str:
        question = self.q.question_by_id[question_id]
        section = next(s for s in self.q.sections if s.id == question.section_id)
        page = next(p for p in section.pages if p.id == question.page_id)
        path = (
            f"%resource.item.where(linkId={_string(section_link_id(section))})"
            f".item.where(linkId={_string(page_link_id(page))})"
            f".item.where(linkId={_string(question.id)}).answer.value"
        )
        return path + ".code" if question.type in ("choice", "multi_choice") else path

    # -- conditions -------------------------------------------------------------------------
    def condition(self, condition: Expr | Node, before: int = EVERYTHING) -> str:
        """A condition as a FHIRPath expression that is true or false (never empty), reading
        only the answers to questions before position ``before``."""
        node = condition.tree if isinstance(condition, Expr) else condition
        return self._holds(node, before)

    def _holds(self, node: Node, before: int) -> str:
        value = self.value(node, before)
        if _is_definite(node):
            return value
        return FALSE if value == NOTHING else f"({value} ~ true)"

    def value(self, node: Node, before: int) -> str:
        """A node as FHIRPath: its value, or ``{}`` where the engine has no value."""
        if isinstance(node, Constant):
            return _literal(node.value)
        if isinstance(node, Codes):
            return (
                "(" + " | ".join(_string(code) for code in node.codes) + ")" if node.codes else "{}"
            )
        if isinstance(node, Name):
            return self._name(node.id, before)
        if isinstance(node, Not):
            inner, value = node.operand, self.value(node.operand, before)
            if _is_definite(inner):
                return _negated(value)
            return FALSE if value == NOTHING else f"({value} ~ false)"  # only a definite "no"
        if isinstance(node, And):
            return _all([self._holds(part, before) for part in node.operands])
        if isinstance(node, Or):
            return _any([self._holds(part, before) for part in node.operands])
        if isinstance(node, Compare):
            return self._compare(node, before)
        if isinstance(node, Arithmetic):
            left, right = self.value(node.left, before), self.value(node.right, before)
            if node.operator == "**":
                return f"{left}.power({right})"
            return f"({left} {_ARITHMETIC[node.operator]} {right})"
        if isinstance(node, Sign):
            operand = self.value(node.operand, before)
            return operand if node.operator == "+" else f"(0 - {operand})"
        if isinstance(node, Call):
            return self._call(node, before)
        raise FhirPathError(f"no FHIRPath for {type(node).__name__}")

    def _name(self, name: str, before: int) -> str:
        q = self.q
        if name in q.context:
            return f"%{variable_name(name)}"
        if name in q.question_by_id:
            asked = q.question_by_id[name].position < before
            return f"%{variable_name(name)}" if asked else NOTHING
        if name in q.derived_by_id:
            if self._known_by(name, before):
                return f"%{variable_name(name)}"
            return self.value(q.derived_by_id[name].expr.tree, before)
        if name == TRIAGE_LEVEL:
            if self._known_by(name, before):
                return f"%{variable_name(TRIAGE_LEVEL)}"
            return self._triage_chain(before)
        raise FhirPathError(f"no FHIRPath for the name {name!r}")

    def _compare(self, node: Compare, before: int) -> str:
        parts = []
        for index, op in enumerate(node.operators):
            left_node, right_node = node.operands[index], node.operands[index + 1]
            wanted = _levels_tested(left_node, op, right_node)
            if wanted is not None and not self._all_before(self._rules_needs(wanted), before):
                parts.append(self._levels_test(wanted, op, before))
                continue
            left = self._name(TRIAGE_LEVEL, EVERYTHING) if wanted else self.value(left_node, before)
            right = self.value(right_node, before)
            if NOTHING in (left, right):
                parts.append(FALSE)  # a comparison with no value is false
            elif op == "in":
                parts.append(f"(({left} in {right}) ~ true)")
            elif op == "not in":
                # FHIRPath's "in" is false, not empty, against an empty list: the engine's
                # "no value is false" needs both sides answered.
                answered = [f"{side}.exists() and " for side in (left, right) if side[0] == "%"]
                parts.append(f"({''.join(answered)}({left} in {right}).not())")
            else:
                parts.append(f"(({left} {_COMPARISON[op]} {right}) ~ true)")
        return _all(parts)

    def _call(self, node: Call, before: int) -> str:
        if node.function == "count_true":
            terms = [f"iif({self._holds(arg, before)}, 1, 0)" for arg in node.arguments]
            return "(" + " + ".join(terms) + ")"
        argument = self.value(node.arguments[0], before)
        if node.function == "count_chosen":
            return f"iif({argument}.exists(), {argument}.count())"
        if node.function == "answered":
            return f"{argument}.exists()"
        raise FhirPathError(f"no FHIRPath for the function {node.function!r}")

    # -- the triage so far --------------------------------------------------------------------
    def _triage_chain(self, before: int) -> str:
        """The most urgent level whose rules fire, from the answers before ``before``."""
        q = self.q
        expression = _string(q.self_care_level)
        for level in reversed(q.levels[:-1]):
            fires = self._fires(level.code, before)
            if fires != FALSE:
                expression = f"iif({fires}, {_string(level.code)}, {expression})"
        return expression

    def _fires(self, level: str, before: int) -> str:
        """Whether a rule of ``level`` fires: its variable where the rule reads only earlier
        answers, spelled out with those answers otherwise."""
        return _any(
            [
                f"%{rule_variable(rule.code)}"
                if self._all_before(self.condition_needs(rule.when), before)
                else self.condition(rule.when, before)
                for rule in self.q.rules
                if rule.level == level
            ]
        )

    def _levels_test(self, wanted: tuple[str, ...], op: str, before: int) -> str:
        """``triage_level == "x"`` (and ``!=``, ``in``, ``not in``) where the triage so far
        needs answers not yet given: only the rules of ``x`` and the more urgent levels, from
        the answers before ``before``."""
        test = _any([self._level_is(code, before) for code in wanted])
        return _negated(test) if op in ("!=", "not in") else test

    def _level_is(self, code: str, before: int) -> str:
        levels = [level.code for level in self.q.levels]
        if code not in levels:
            return FALSE
        more_urgent = [
            _negated(self._fires(other, before)) for other in levels[: levels.index(code)]
        ]
        own = [] if code == self.q.self_care_level else [self._fires(code, before)]
        return _all(own + more_urgent)


def _all(parts: list[str]) -> str:
    """``and`` of definite parts, with what is known to be true or false folded away."""
    if FALSE in parts:
        return FALSE
    parts = [part for part in parts if part != TRUE]
    if not parts:
        return TRUE
    return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"


def _any(parts: list[str]) -> str:
    """``or`` of definite parts, folded as ``_all``."""
    if TRUE in parts:
        return TRUE
    parts = [part for part in parts if part != FALSE]
    if not parts:
        return FALSE
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def _negated(part: str) -> str:
    if part in (TRUE, FALSE):
        return FALSE if part == TRUE else TRUE
    return f"{part}.not()"


def _levels_tested(left: Node, op: str, right: Node) -> tuple[str, ...] | None:
    """The levels in ``triage_level == "x"``, ``!=``, ``in [...]`` or ``not in [...]``."""
    if not (isinstance(left, Name) and left.id == TRIAGE_LEVEL):
        return None
    if op in ("==", "!=") and isinstance(right, Constant):
        return (str(right.value),)
    if op in ("in", "not in") and isinstance(right, Codes):
        return right.codes
    return None


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Not | Sign):
        return (node.operand,)
    if isinstance(node, And | Or | Compare):
        return node.operands
    if isinstance(node, Arithmetic):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.arguments
    return ()


def _context_path(q: Questionnaire, context_id: str) -> str:
    path = (
        f"%resource.item.where(linkId={_string(CONTEXT_LINK_ID)})"
        f".item.where(linkId={_string(context_id)}).answer.value"
    )
    return path + ".code" if q.context[context_id].type in ("choice", "multi_choice") else path


def _is_definite(node: Node) -> bool:
    """Whether the engine always gives this node True or False (never "no value")."""
    if isinstance(node, Constant):
        return isinstance(node.value, bool)
    if isinstance(node, Not | And | Or | Compare):
        return True
    return isinstance(node, Call) and node.function == "answered"


def _literal(value: bool | int | float | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")  # FHIRPath has no exponent notation
    return _string(value)


def _string(text: str) -> str:
    # FHIRPath strings are single-quoted with JSON-like escapes.
    return "'" + json.dumps(text)[1:-1].replace("'", "\\'") + "'"
