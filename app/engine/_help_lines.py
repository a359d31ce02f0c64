"""Help-line placeholders in a questionnaire's texts: "Call {emergency_name} now".

Who to call differs by country, so the texts of levels, the safety net and triage rules name
the numbers by placeholder, and the deployment's values (its settings) are put in when the
definitions are loaded (``load_versions(..., help_lines=...)``). The engine knows only the
names: it is given the values, and checks that a text names no other placeholder."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ._fields import FieldReader
from ._yaml import LDict, LList

HELP_LINES: Final = (
    "emergency_number",
    "emergency_name",
    "urgent_number",
    "urgent_name",
    "urgent_online_name",
)
# The parts of a questionnaire whose texts may name a help line. (Contributor and plan texts
# are templates of answers, and name no help line.)
_WITH_HELP_LINES: Final = ("levels", "safety_net", "triage")
_PLACEHOLDER: Final = re.compile(r"\{([^{}]*)\}")


def put_help_lines(r: FieldReader, top: LDict, help_lines: Mapping[str, str] | None) -> None:
    """Check the placeholders of the texts that may name a help line, and put the values in
    (in place) when they are given; without them the texts keep their placeholders (what
    `backaudit validate` checks)."""
    for key in _WITH_HELP_LINES:
        if key in top:
            _walk(r, top, key, key, help_lines)


def _walk(
    r: FieldReader, parent: Any, key: Any, where: str, help_lines: Mapping[str, str] | None
) -> None:
    value = parent[key]
    if isinstance(value, LDict):
        for inner in list(value):
            _walk(r, value, inner, f"{where} {inner}", help_lines)
    elif isinstance(value, LList):
        for index in range(len(value)):
            _walk(r, value, index, where, help_lines)
    elif isinstance(value, str) and "{" in value:
        unknown = [n for n in _PLACEHOLDER.findall(value) if n not in HELP_LINES]
        if unknown:
            line = parent.line_of(key) if isinstance(parent, LDict | LList) else 1
            r.problem(
                line,
                f"{where}: {{{unknown[0]}}} is not a help line (a text here may name"
                f" {', '.join('{' + n + '}' for n in HELP_LINES)})",
            )
        elif help_lines is not None:
            parent[key] = _PLACEHOLDER.sub(lambda m: help_lines[m.group(1)], value)
