"""Typed fields from YAML mappings; every problem is collected (file and line), not raised."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ._errors import DefinitionProblem
from ._expr import BOOL, Expr, ExprError, VarInfo, compile_expr
from ._model import TRIAGE_LEVEL, Scored
from ._yaml import LDict, LList

ID: Final = re.compile(r"^[a-z][a-z0-9_]*$")
CODE: Final = re.compile(r"^[a-z0-9][a-z0-9_]*$")  # option codes may start with a digit


class FieldReader:
    """Reads one file's fields; ``problems`` collects what is wrong, to report all together."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[DefinitionProblem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(DefinitionProblem(self.file, line, message))

    def mapping(
        self, value: Any, line: int, what: str, required: Iterable[str], optional: Iterable[str]
    ) -> LDict | None:
        if not isinstance(value, LDict):
            self.problem(line, f"{what} must be a mapping of keys to values")
            return None
        required, allowed = set(required), set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.problem(
                    value.line_of(key),
                    f"{what}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})",
                )
        for key in sorted(required - set(value)):
            self.problem(value.line, f"{what}: missing required key {key!r}")
        return value

    def items(
        self, data: LDict, key: str, what: str, *, required: bool = True
    ) -> list[tuple[Any, int]]:
        value = data.get(key)
        if value is None:
            if required and key in data:
                self.problem(data.line_of(key), f"{what}: {key!r} must not be empty")
            return []
        if not isinstance(value, LList):
            self.problem(data.line_of(key), f"{what}: {key!r} must be a list")
            return []
        return [(item, value.line_of(i)) for i, item in enumerate(value)]

    def text(self, data: LDict, key: str, what: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required and key in data:
                self.problem(data.line_of(key), f"{what}: {key!r} must not be empty")
            return None if not required else ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(data.line_of(key), f"{what}: {key!r} must be text")
            return ""
        text = str(value).strip()
        if required and not text:
            self.problem(data.line_of(key), f"{what}: {key!r} must not be empty")
        return text

    def texts(self, data: LDict, key: str, what: str, low: int, high: int) -> tuple[str, ...]:
        items = self.items(data, key, what)
        texts = []
        for item, line in items:
            if not isinstance(item, str) or not item.strip():
                self.problem(line, f"{what}: each of {key!r} must be a line of text")
            else:
                texts.append(item.strip())
        if key in data and not low <= len(items) <= high:
            self.problem(data.line_of(key), f"{what}: {key!r} must have {low} to {high} items")
        return tuple(texts)

    def identifier(self, data: LDict, key: str, what: str, pattern: re.Pattern[str] = ID) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not pattern.match(value):
            self.problem(
                data.line_of(key),
                f"{what}: {key!r} must be lower-case letters, digits and '_' (got {value!r})",
            )
            return str(value)
        return value

    def one_of(self, data: LDict, key: str, what: str, allowed: tuple[str, ...]) -> str:
        if key not in data:
            return ""  # a required key: mapping() reports it missing
        value = data[key]
        if value not in allowed:
            self.problem(
                data.line_of(key),
                f"{what}: {key!r} must be one of {', '.join(allowed)} (got {value!r})",
            )
            return ""
        return str(value)

    def integer(
        self, data: LDict, key: str, what: str, *, low: int | None = None, high: int | None = None
    ) -> int | None:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(data.line_of(key), f"{what}: {key!r} must be a whole number")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.problem(data.line_of(key), f"{what}: {key!r} must be from {low} to {high}")
            return None
        return value

    def number(self, data: LDict, key: str, what: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(data.line_of(key), f"{what}: {key!r} must be a number")
            return None
        return value

    def flag(self, data: LDict, key: str, what: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(data.line_of(key), f"{what}: {key!r} must be true or false")
            return default
        return value

    def expr(
        self,
        data: LDict,
        key: str,
        what: str,
        scope: Mapping[str, VarInfo],
        *,
        want: str | None = BOOL,
    ) -> Expr | None:
        if key not in data:
            return None
        raw = data[key]
        line = data.line_of(key)
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        if isinstance(raw, int | float):
            raw = str(raw)
        if not isinstance(raw, str):
            self.problem(line, f"{what}: {key!r} must be a condition written as text")
            return None
        try:
            return compile_expr(raw, scope, want=want)
        except ExprError as exc:
            self.problem(
                line, f"{what}: {key!r}: {exc.message} (at column {exc.column} of {raw.strip()!r})"
            )
            return None

    def template(self, data: LDict, key: str, where: str, scope: Mapping[str, VarInfo]) -> str:
        """Text with {placeholders}, each of which must be a question or derived value."""
        text = self.text(data, key, where) or ""
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError as exc:
            self.problem(
                data.line_of(key), f"{where}: {key!r}: {exc} (write {{{{ and }}}} for braces)"
            )
            return text
        for name in fields:
            if name not in scope or name == TRIAGE_LEVEL:
                self.problem(
                    data.line_of(key),
                    f"{where}: {key!r} mentions {{{name}}}, which is not a question or derived value",
                )
        return text

    def scored_list(
        self, data: LDict, key: str, where: str, scope: Mapping[str, VarInfo], *, high: int
    ) -> tuple[Scored, ...]:
        """A list of ``{when, score}`` items: score bands or bonuses."""
        out: list[Scored] = []
        for raw, line in self.items(data, key, where, required=False):
            item = self.mapping(raw, line, f"{where} {key}", ("score",), ("when",))
            if item is None:
                continue
            points = self.integer(item, "score", f"{where} {key}", low=-high, high=high)
            when = self.expr(item, "when", f"{where} {key}", scope)
            if points is not None and ("when" not in item or when is not None):
                out.append(Scored(when, points))
        return tuple(out)
