"""Checks across the whole questionnaire, once every part is read and every condition compiled.

Each part was checked on its own while it was read (keys, ids, types, references). What is left
needs all of them at once: questions that depend on later answers, triage rules that read a
question their own level would hide, and pages and questions that no answers can reach.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from ._expr import BOOL, CHOICE, MISSING, MULTI, Expr, VarInfo
from ._fields import FieldReader
from ._model import TRIAGE_LEVEL, Level, Question, Rule, Section
from ._nodes import Compare, Constant, Name, walk

_MAX_COMBINATIONS: Final = 50_000  # reachability search gives up (assumes reachable) beyond this

WhenLine = Callable[[str, str], int]  # ("section" | "page" | "question", id) -> line of its when


class StructureChecks:
    def __init__(
        self,
        r: FieldReader,
        questions: Mapping[str, Question],
        scope: Mapping[str, VarInfo],
        derived_needs: Mapping[str, set[str]],
        when_line: WhenLine,
    ) -> None:
        self.r = r
        self.questions = questions  # in the order they are asked
        self.scope = scope
        self.derived_needs = derived_needs  # derived id -> question ids it needs
        self.when_line = when_line

    def _needs(self, expr: Expr) -> set[str]:
        """Question ids (and triage_level) an expression depends on, through derived values."""
        needs: set[str] = set()
        for name in expr.names:
            needs |= self.derived_needs.get(name, {name})
        return needs

    # -- order ------------------------------------------------------------------------------------
    def answers_come_first(self, sections: tuple[Section, ...], given: Iterable[str] = ()) -> None:
        """A question may only depend on answers that come before it (or on context values,
        which are given before the interview starts)."""
        seen: set[str] = {TRIAGE_LEVEL, *given}
        for section in sections:
            for page in section.pages:
                first = True
                for question in page.questions:
                    checks: list[tuple[str, Expr | None, int]] = []
                    if first:
                        checks += [
                            (
                                f"section {section.id!r}",
                                section.when,
                                self.when_line("section", section.id),
                            ),
                            (f"page {page.id!r}", page.when, self.when_line("page", page.id)),
                        ]
                        first = False
                    checks.append(
                        (
                            f"question {question.id!r}",
                            question.when,
                            self.when_line("question", question.id),
                        )
                    )
                    for what, expr, line in checks:
                        if expr is None:
                            continue
                        later = sorted(self._needs(expr) - seen)
                        if later:
                            self.r.problem(
                                line,
                                f"{what}: depends on {', '.join(later)}, which is not asked before it; a question can only depend on earlier answers",
                            )
                    seen.add(question.id)

    # -- triage rules -----------------------------------------------------------------------------
    def rules_not_circular(
        self,
        rules: tuple[Rule, ...],
        levels: tuple[Level, ...],
        stop_when: Expr | None = None,
        given: Iterable[str] = (),
    ) -> None:
        """A rule must not read a question that would not have been asked had the rule fired.

        Questions may be gated on the triage level so far (no lifestyle questions after an
        emergency, movement checks only at self care). A rule reading such a question is
        circular when its own level would close that gate. Except for a level that stops the
        interview: such a rule ends it on the page that made it fire, so what it read was asked
        (past cancer plus leg numbness from the pain pages is an emergency).

        A gate may also read context values (``given``), e.g. ``triage_level == "self_care" or
        released``: it is checked as in an ordinary interview, with those values not given.
        """
        stopping = {
            level.code
            for level in levels
            if stop_when is not None
            and stop_when.names <= {TRIAGE_LEVEL}
            and stop_when.holds(_FreeContext({TRIAGE_LEVEL: level.code}))
        }
        gates: dict[str, list[Expr]] = {}
        for question in self.questions.values():
            for condition in question.conditions:
                if TRIAGE_LEVEL in self._needs(condition):
                    gates.setdefault(question.id, []).append(condition)
        rank = {level.code: level.rank for level in levels}
        free = {TRIAGE_LEVEL, *given}
        for rule in rules:
            if rule.level in stopping:
                continue
            for name in sorted(self._needs(rule.when) & set(gates)):
                for gate in gates[name]:
                    if not self._needs(gate) <= free:
                        continue  # gates that mix in answers are not checked here
                    for before in levels:
                        after = (
                            before if before.rank <= rank[rule.level] else levels[rank[rule.level]]
                        )
                        ctx = _FreeContext({TRIAGE_LEVEL: before.code})
                        if gate.holds(ctx) and not gate.holds(
                            _FreeContext({TRIAGE_LEVEL: after.code})
                        ):
                            self.r.problem(
                                rule.line,
                                f"triage rule {rule.code!r}: uses {name!r}, which is only asked when {gate.source}; if the rule fired ({rule.level}), it would not have been asked. That is circular",
                            )
                            break

    # -- reachability -----------------------------------------------------------------------------
    def reachable(self, sections: tuple[Section, ...]) -> None:
        """Report pages and questions whose conditions no combination of answers can satisfy.

        A bounded search: each variable takes every option (choices, yes/no), or numbers just
        around every constant the conditions compare it with. Derived values and the triage level
        are treated as free; that can only call a question reachable, never wrongly unreachable.
        A page that can never be shown is reported once, at its own condition.
        """
        if self.r.problems:
            return  # conditions may be missing; the other errors come first
        constants = _numeric_constants(_branching(sections))
        for section in sections:
            for page in section.pages:
                if page.conditions and not self._satisfiable(page.conditions, constants):
                    where = ("page", page.id) if page.when is not None else ("section", section.id)
                    self.r.problem(
                        self.when_line(*where),
                        f"page {page.id!r} can never be shown: no answers make all of its conditions true ({' and '.join(c.source for c in page.conditions)})",
                    )
                    continue
                for question in page.questions:
                    if question.when is None or self._satisfiable(question.conditions, constants):
                        continue
                    self.r.problem(
                        self.when_line("question", question.id),
                        f"question {question.id!r} can never be asked: no answers make all of its conditions true ({' and '.join(c.source for c in question.conditions)})",
                    )

    def _satisfiable(self, conditions: tuple[Expr, ...], constants: dict[str, set[float]]) -> bool:
        variables = self._closure(conditions)
        domains = [self._domain(name, constants.get(name, set())) for name in variables]
        total = 1
        for domain in domains:
            total *= len(domain)
        if total > _MAX_COMBINATIONS:
            return True  # too many to try: assume it can be reached
        return any(
            self._holds_under(conditions, variables, combo) for combo in itertools.product(*domains)
        )

    def _closure(self, conditions: tuple[Expr, ...]) -> list[str]:
        names: set[str] = set()
        pending = [name for c in conditions for name in c.names]
        while pending:
            name = pending.pop()
            if name in names:
                continue
            names.add(name)
            other = self.questions.get(name)
            if other is not None:
                pending += [n for c in other.conditions for n in c.names]
        position = {q: i for i, q in enumerate(self.questions)}
        return sorted(names, key=lambda n: position.get(n, -1))

    def _domain(self, name: str, numbers: set[float]) -> list[Any]:
        info = self.scope[name]
        if info.type == BOOL:
            return [True, False]
        if info.type == CHOICE:
            return sorted(info.options)
        if info.type == MULTI:
            return [[code] for code in sorted(info.options)] + [sorted(info.options)]
        question = self.questions.get(name)
        bounds = (
            {b for b in (question.minimum, question.maximum) if b is not None}
            if question
            else set()
        )
        candidates = bounds | {c + d for c in numbers for d in (-1, -0.5, 0, 0.5, 1)}
        if question is not None:
            candidates = {
                c
                for c in candidates
                if (question.minimum is None or c >= question.minimum)
                and (question.maximum is None or c <= question.maximum)
            }
        return sorted(candidates) or [0]

    def _holds_under(
        self, conditions: tuple[Expr, ...], variables: list[str], combo: tuple[Any, ...]
    ) -> bool:
        ctx = _FreeContext()
        for name, value in zip(variables, combo, strict=True):
            other = self.questions.get(name)
            # An earlier question that would itself be hidden has no answer.
            if other is not None and not all(c.holds(ctx) for c in other.conditions):
                continue
            ctx[name] = value
        return all(c.holds(ctx) for c in conditions)


def _branching(sections: tuple[Section, ...]) -> Iterator[Expr]:
    """Every section, page and question condition."""
    for section in sections:
        if section.when is not None:
            yield section.when
        for page in section.pages:
            if page.when is not None:
                yield page.when
            yield from (q.when for q in page.questions if q.when is not None)


def _numeric_constants(conditions: Iterable[Expr]) -> dict[str, set[float]]:
    """For each name, the numbers that conditions compare it with."""
    found: dict[str, set[float]] = {}
    for condition in conditions:
        for node in walk(condition.tree):
            if not isinstance(node, Compare):
                continue
            numbers = [
                o.value
                for o in node.operands
                if isinstance(o, Constant)
                and isinstance(o.value, int | float)
                and not isinstance(o.value, bool)
            ]
            for operand in node.operands:
                if isinstance(operand, Name):
                    found.setdefault(operand.id, set()).update(numbers)
    return found


class _FreeContext(dict[str, Any]):
    """Answers for a check: any name not set has no value."""

    def __missing__(self, key: str) -> Any:
        return MISSING
