"""A condition's parsed form: small frozen nodes that other modules walk instead of re-reading text.

The tree mirrors what was written: ``a or b or c`` is one ``Or`` of three parts and
``(a or b) or c`` an ``Or`` inside an ``Or``; ``25 <= bmi < 30`` is one ``Compare`` of three
operands; ``-1`` is a ``Sign`` over ``1``. ``true`` and ``false`` are ``Constant`` values, and
every ``Name`` is a question, a derived value or ``triage_level``. Only type-checked conditions
get a tree, so a consumer can rely on, say, ``Codes`` holding codes of the choice it is compared
with.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypeAlias

ComparisonOperator: TypeAlias = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
ArithmeticOperator: TypeAlias = Literal["+", "-", "*", "/", "**"]


@dataclass(frozen=True, slots=True)
class Name:
    """A question, derived value or ``triage_level``, read from the answers."""

    id: str


@dataclass(frozen=True, slots=True)
class Constant:
    """A written value: yes/no, a number or a quoted code."""

    value: bool | int | float | str


@dataclass(frozen=True, slots=True)
class Codes:
    """A written list of quoted codes, as in ``leg_pain in ["above_knee", "below_knee"]``."""

    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    """``operands[0] operators[0] operands[1] ...``: one operator fewer than operands."""

    operands: tuple[Node, ...]
    operators: tuple[ComparisonOperator, ...]


@dataclass(frozen=True, slots=True)
class Arithmetic:
    operator: ArithmeticOperator
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Sign:
    operator: Literal["+", "-"]
    operand: Node


@dataclass(frozen=True, slots=True)
class Call:
    function: Literal["count_true", "count_chosen", "answered"]
    arguments: tuple[Node, ...]


Node: TypeAlias = Name | Constant | Codes | Not | And | Or | Compare | Arithmetic | Sign | Call


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it."""
    yield node
    children: tuple[Node, ...] = ()
    if isinstance(node, Not | Sign):
        children = (node.operand,)
    elif isinstance(node, And | Or | Compare):
        children = node.operands
    elif isinstance(node, Arithmetic):
        children = (node.left, node.right)
    elif isinstance(node, Call):
        children = node.arguments
    for child in children:
        yield from walk(child)
