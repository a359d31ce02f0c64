"""The condition language used for branching, derived values, rules and scores.

Conditions are written as small expressions that a physiotherapist can read::

    saddle_numbness
    osteoporosis_or_steroids and onset == "after_minor_injury"
    pain_duration == "over_12_weeks" and age < 45
    leg_pain in ["above_knee", "below_knee"]
    "none" not in spine_diagnosis
    25 <= bmi < 30
    count_true(morning_stiffness_30min, wakes_second_half_night) >= 1

Why Python's own parser and a whitelist instead of a parsing library: the syntax above is exactly
Python expression syntax, so ``ast.parse`` gives a correct, well-tested parser for free, with
column numbers. Nothing is ever evaluated by Python: the tree is walked once at load time,
every node must be on a short whitelist, every name must be a question or derived value, types
are checked (a yes/no question cannot be compared with a number, a choice only with its own
codes), and the result is a tree of small closures. Evaluating a condition is then fast and
cannot fail on syntax. The checked tree is kept as well, in the engine's own node types
(``Expr.tree``), for modules that need a condition's shape: nothing else parses conditions.

A question that has not been answered (or is hidden) has no value. Every comparison with no
value is false, ``not`` of no value is false too, and arithmetic with no value has no value.
So a rule only fires on positive evidence, and nothing raises on missing data.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from ._nodes import (
    And,
    Arithmetic,
    ArithmeticOperator,
    Call,
    Codes,
    Compare,
    ComparisonOperator,
    Constant,
    Name,
    Node,
    Not,
    Or,
    Sign,
)

BOOL: Final = "yes/no"
NUMBER: Final = "number"
CHOICE: Final = "choice"
MULTI: Final = "multiple choice"
TEXT: Final = "text"  # a quoted literal
LIST: Final = "list"  # a literal list of quoted codes


class _Missing:
    """No value: the question was not answered, is hidden, or a sum could not be done."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

Evaluator = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class VarInfo:
    """What the type checker knows about a name: its type and, for choices, its codes."""

    type: str
    options: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed, type-checked expression, ready to evaluate against a context mapping."""

    source: str
    type: str
    names: frozenset[str]
    tree: Node
    evaluate: Evaluator
    # Evaluate as a condition: true only on a definite yes (never MISSING).
    holds: Callable[[Mapping[str, Any]], bool]


class ExprError(Exception):
    """A condition is not valid; ``column`` is 1-based within the expression text."""

    def __init__(self, message: str, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def _is_in(a: Any, b: Any) -> bool:
    return a in b


_COMPARE: Final[dict[type[ast.cmpop], Callable[[Any, Any], bool]]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: _is_in,
    ast.NotIn: lambda a, b: a not in b,
}
_ARITH: Final[dict[type[ast.operator], tuple[ArithmeticOperator, Callable[[Any, Any], Any]]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.Pow: ("**", operator.pow),
}
_SYMBOL: Final[dict[type[ast.cmpop], ComparisonOperator]] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_CONSTANT_NAMES: Final = {"true": True, "false": False, "True": True, "False": False}
FUNCTIONS: Final = ("count_true", "count_chosen", "answered")


def compile_expr(source: str, scope: Mapping[str, VarInfo], *, want: str | None = BOOL) -> Expr:
    """Parse and type-check ``source``. ``want`` is the type the caller needs (None: any)."""
    text = source.strip()
    if not text:
        raise ExprError("the condition is empty")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"cannot read this: {exc.msg}", exc.offset or 1) from None
    checker = _Compiler(scope)
    typ, fn, node = checker.visit(tree.body)
    if want is not None and typ != want:
        raise ExprError(f"this gives a {typ} value where a {want} value is needed")
    holds: Callable[[Mapping[str, Any]], bool] = fn
    if typ != BOOL or isinstance(tree.body, ast.Name | ast.Constant):
        # A bare name may have no value; everything else of type yes/no is already True/False.
        def holds(ctx: Mapping[str, Any]) -> bool:
            return fn(ctx) is True

    return Expr(text, typ, frozenset(checker.names), node, fn, holds)


def _all_true(parts: list[Evaluator]) -> Evaluator:
    """``a and b and ...``: plain loops and a two-part shortcut, not all() over a generator —
    conditions are the engine's hot loop, and most have two parts."""
    if len(parts) == 2:
        first, second = parts
        return lambda ctx: first(ctx) is True and second(ctx) is True

    def conjunction(ctx: Mapping[str, Any]) -> bool:
        for part in parts:  # noqa: SIM110 - a loop, not a generator: the hot path
            if part(ctx) is not True:
                return False
        return True

    return conjunction


def _any_true(parts: list[Evaluator]) -> Evaluator:
    """``a or b or ...``, as _all_true."""
    if len(parts) == 2:
        first, second = parts
        return lambda ctx: first(ctx) is True or second(ctx) is True

    def disjunction(ctx: Mapping[str, Any]) -> bool:
        for part in parts:  # noqa: SIM110 - a loop, not a generator: the hot path
            if part(ctx) is True:
                return True
        return False

    return disjunction


def names_in(source: Any) -> set[str]:
    """Names an expression mentions, read without type checking (to order derived values before
    compiling them); empty if it cannot be read."""
    if not isinstance(source, str):
        return set()
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


class _Compiled(NamedTuple):
    type: str
    evaluate: Evaluator
    node: Node


class _Compiler:
    def __init__(self, scope: Mapping[str, VarInfo]) -> None:
        self.scope = scope
        self.names: set[str] = set()

    def fail(self, node: ast.AST, message: str) -> ExprError:
        return ExprError(message, getattr(node, "col_offset", 0) + 1)

    def visit(self, node: ast.expr) -> _Compiled:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise self.fail(node, f"{_describe(node)} is not allowed in a condition")
        result: _Compiled = method(node)
        return result

    # -- leaves ---------------------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> _Compiled:
        if node.id in _CONSTANT_NAMES:
            value = _CONSTANT_NAMES[node.id]
            return _Compiled(BOOL, lambda ctx: value, Constant(value))
        info = self.scope.get(node.id)
        if info is None:
            close = difflib.get_close_matches(node.id, list(self.scope), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.fail(node, f"unknown question or value {node.id!r}{hint}")
        self.names.add(node.id)
        name = node.id
        return _Compiled(info.type, lambda ctx: ctx[name], Name(name))

    def visit_Constant(self, node: ast.Constant) -> _Compiled:
        value = node.value
        if isinstance(value, bool):
            return _Compiled(BOOL, lambda ctx: value, Constant(value))
        if isinstance(value, int | float):
            return _Compiled(NUMBER, lambda ctx: value, Constant(value))
        if isinstance(value, str):
            return _Compiled(TEXT, lambda ctx: value, Constant(value))
        raise self.fail(node, f"the value {value!r} is not allowed in a condition")

    def visit_List(self, node: ast.List | ast.Tuple) -> _Compiled:
        codes: list[str] = []
        for element in node.elts:
            if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
                raise self.fail(element, "a list may only hold quoted codes")
            codes.append(element.value)
        frozen = frozenset(codes)
        return _Compiled(LIST, lambda ctx: frozen, Codes(tuple(codes)))

    visit_Tuple = visit_List

    # -- logic ----------------------------------------------------------------------------
    def visit_BoolOp(self, node: ast.BoolOp) -> _Compiled:
        compiled = [self._boolean(value) for value in node.values]
        parts = [part.evaluate for part in compiled]
        operands = tuple(part.node for part in compiled)
        if isinstance(node.op, ast.And):
            return _Compiled(BOOL, _all_true(parts), And(operands))
        return _Compiled(BOOL, _any_true(parts), Or(operands))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> _Compiled:
        if isinstance(node.op, ast.Not):
            _, inner, operand = self._boolean(node.operand)
            # "not" of no value is false as well: only a definite "no" makes it true.
            return _Compiled(BOOL, lambda ctx: inner(ctx) is False, Not(operand))
        if isinstance(node.op, ast.USub | ast.UAdd):
            typ, value, operand = self.visit(node.operand)
            if typ != NUMBER:
                raise self.fail(node, f"a sign needs a number, not a {typ} value")
            sign = -1 if isinstance(node.op, ast.USub) else 1
            return _Compiled(
                NUMBER,
                lambda ctx: _arith(operator.mul, sign, value(ctx)),
                Sign("-" if sign < 0 else "+", operand),
            )
        raise self.fail(node, f"{_describe(node)} is not allowed in a condition")

    def _boolean(self, node: ast.expr) -> _Compiled:
        compiled = self.visit(node)
        if compiled.type != BOOL:
            raise self.fail(
                node, f"'and', 'or' and 'not' need yes/no parts, not a {compiled.type} value"
            )
        return compiled

    # -- comparisons --------------------------------------------------------------------------
    def visit_Compare(self, node: ast.Compare) -> _Compiled:
        operands = [node.left, *node.comparators]
        typed = [self.visit(operand) for operand in operands]
        checks: list[tuple[Callable[[Any, Any], bool], int, int]] = []
        for index, op in enumerate(node.ops):
            if type(op) not in _COMPARE:
                raise self.fail(node, "'is' is not allowed in a condition; write == or !=")
            left, right = operands[index], operands[index + 1]
            ltype, rtype = typed[index].type, typed[index + 1].type
            self._check_comparison(op, left, ltype, right, rtype)
            checks.append((_COMPARE[type(op)], index, index + 1))
        fns = [part.evaluate for part in typed]
        tree = Compare(
            tuple(part.node for part in typed), tuple(_SYMBOL[type(op)] for op in node.ops)
        )
        if len(checks) == 1:
            return _Compiled(
                BOOL,
                _single_comparison(checks[0][0], operands[0], operands[1], fns[0], fns[1]),
                tree,
            )

        def compare(ctx: Mapping[str, Any]) -> bool:
            values = [fn(ctx) for fn in fns]
            for value in values:
                if value is MISSING:
                    return False
            return all(op(values[a], values[b]) for op, a, b in checks)

        return _Compiled(BOOL, compare, tree)

    def _check_comparison(
        self, op: ast.cmpop, left: ast.expr, ltype: str, right: ast.expr, rtype: str
    ) -> None:
        symbol = _SYMBOL[type(op)]
        if isinstance(op, ast.In | ast.NotIn):
            if ltype in (CHOICE, TEXT) and rtype == LIST:
                self._check_codes(left, right)
                return
            if ltype == TEXT and rtype == MULTI:
                self._check_codes(right, left)
                return
            raise self.fail(
                left,
                f"'{symbol}' needs a choice and a list of codes, or a code and a multiple-choice"
                f" question; got {ltype} {symbol} {rtype}",
            )
        if isinstance(op, ast.Eq | ast.NotEq):
            if ltype == rtype and ltype in (BOOL, NUMBER, CHOICE):
                return
            if {ltype, rtype} == {CHOICE, TEXT}:
                choice, code = (left, right) if ltype == CHOICE else (right, left)
                self._check_codes(choice, code)
                return
            raise self.fail(left, f"cannot compare a {ltype} value with a {rtype} value")
        if ltype != NUMBER or rtype != NUMBER:
            raise self.fail(left, f"'{symbol}' needs numbers; got {ltype} {symbol} {rtype}")

    def _check_codes(self, holder: ast.expr, codes: ast.expr) -> None:
        """A choice compared with a code it does not have is a typo that would never fire."""
        if not isinstance(holder, ast.Name) or holder.id not in self.scope:
            return
        options = self.scope[holder.id].options
        if isinstance(codes, ast.Constant):
            given = [codes.value]
        elif isinstance(codes, ast.List | ast.Tuple):
            given = [element.value for element in codes.elts if isinstance(element, ast.Constant)]
        else:
            return
        for code in given:
            if code not in options:
                raise self.fail(
                    codes,
                    f"{holder.id!r} has no option {code!r} (options: {', '.join(sorted(options))})",
                )

    # -- arithmetic and functions -------------------------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> _Compiled:
        if type(node.op) not in _ARITH:
            raise self.fail(node, f"{_describe(node)} is not allowed in a condition")
        symbol, op = _ARITH[type(node.op)]
        ltype, left, left_node = self.visit(node.left)
        rtype, right, right_node = self.visit(node.right)
        if ltype != NUMBER or rtype != NUMBER:
            raise self.fail(node, f"arithmetic needs numbers; got {ltype} and {rtype}")
        if isinstance(node.op, ast.Pow) and not (
            isinstance(node.right, ast.Constant)
            and isinstance(node.right.value, int | float)
            and abs(node.right.value) <= 10
        ):
            raise self.fail(node.right, "a power must be a small written number (at most 10)")
        return _Compiled(
            NUMBER,
            lambda ctx: _arith(op, left(ctx), right(ctx)),
            Arithmetic(symbol, left_node, right_node),
        )

    def visit_Call(self, node: ast.Call) -> _Compiled:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.fail(node, f"unknown function; available: {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise self.fail(node, "functions take plain arguments, without names")
        if node.func.id == "count_true":
            if not node.args:
                raise self.fail(node, "count_true needs at least one yes/no question")
            compiled = [self._boolean(arg) for arg in node.args]
            parts = [part.evaluate for part in compiled]
            return _Compiled(
                NUMBER,
                lambda ctx: sum(1 for part in parts if part(ctx) is True),
                Call("count_true", tuple(part.node for part in compiled)),
            )
        if node.func.id == "count_chosen":
            # count_chosen(x): how many codes a multiple-choice answer has; no value if unanswered.
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
                raise self.fail(node, "count_chosen takes exactly one multiple-choice question id")
            typ, inner, argument = self.visit(node.args[0])
            if typ != MULTI:
                raise self.fail(node.args[0], f"count_chosen needs a {MULTI} question; got {typ}")

            def count_chosen(ctx: Mapping[str, Any]) -> Any:
                value = inner(ctx)
                return MISSING if value is MISSING else len(value)

            return _Compiled(NUMBER, count_chosen, Call("count_chosen", (argument,)))
        # answered(x): whether x has a value at all.
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
            raise self.fail(node, "answered takes exactly one question id")
        _, inner, argument = self.visit(node.args[0])
        return _Compiled(BOOL, lambda ctx: inner(ctx) is not MISSING, Call("answered", (argument,)))


def _literal(node: ast.expr) -> tuple[bool, Any]:
    """Whether a node is a written constant, and its value (as the evaluator would give it)."""
    if isinstance(node, ast.Constant):
        return True, node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANT_NAMES:
        return True, _CONSTANT_NAMES[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return True, frozenset(e.value for e in node.elts if isinstance(e, ast.Constant))
    return False, None


def _single_comparison(
    op: Callable[[Any, Any], bool],
    left: ast.expr,
    right: ast.expr,
    left_fn: Evaluator,
    right_fn: Evaluator,
) -> Evaluator:
    """Fast paths for the most common shape, ``name <op> constant`` (a hot loop)."""
    right_is_literal, constant = _literal(right)
    if right_is_literal and isinstance(left, ast.Name) and left.id not in _CONSTANT_NAMES:
        name = left.id
        # The two commonest, without calling the operator: "x == 'a'" and "x in ['a', 'b']"
        # (a value that is MISSING equals no constant and is in no list).
        if op is operator.eq:
            return lambda ctx: ctx[name] == constant
        if op is _is_in and isinstance(constant, frozenset):
            return lambda ctx: ctx[name] in constant

        def name_vs_constant(ctx: Mapping[str, Any]) -> bool:
            value = ctx[name]
            return value is not MISSING and op(value, constant)

        return name_vs_constant
    left_is_literal, left_constant = _literal(left)
    if left_is_literal:

        def constant_vs_value(ctx: Mapping[str, Any]) -> bool:
            value = right_fn(ctx)
            return value is not MISSING and op(left_constant, value)

        return constant_vs_value

    def values(ctx: Mapping[str, Any]) -> bool:
        a = left_fn(ctx)
        if a is MISSING:
            return False
        b = right_fn(ctx)
        return b is not MISSING and op(a, b)

    return values


def _arith(op: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    if left is MISSING or right is MISSING:
        return MISSING
    try:
        value = op(left, right)
    except (ZeroDivisionError, OverflowError):
        return MISSING
    if isinstance(value, float) and not math.isfinite(value):
        return MISSING
    if isinstance(value, complex):  # a negative number to a fractional power
        return MISSING
    return value


def _describe(node: ast.AST) -> str:
    names = {
        "Attribute": "'.' (attributes)",
        "Subscript": "'[...]' (indexing)",
        "IfExp": "'... if ... else ...'",
        "Lambda": "lambda",
        "Dict": "'{...}'",
        "Set": "'{...}'",
        "JoinedStr": "f-strings",
        "BinOp": "this operator",
        "NamedExpr": "':='",
    }
    return names.get(type(node).__name__, type(node).__name__)
