"""YAML loading that remembers where each value came from, for error messages."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from ._errors import DefinitionProblem


class LDict(dict[str, Any]):
    """A mapping from YAML that knows its own line and the line of each key."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LList(list[Any]):
    """A sequence from YAML that knows its own line and the line of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def _line(node: Node) -> int:
    return node.start_mark.line + 1


# libyaml's parser when PyYAML was built with it (its wheels are): the pure-Python one took
# 0.4 s of every start-up, the questionnaires being a few thousand lines.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc]
    """SafeLoader (no arbitrary objects) that records lines and refuses duplicate keys."""

    def __init__(self, stream: str, filename: str) -> None:
        super().__init__(stream)
        self.filename = filename
        self.problems: list[DefinitionProblem] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> LDict:
        result = LDict()
        result.line = _line(node)
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                self.problems.append(
                    DefinitionProblem(self.filename, _line(key_node), f"key {key!r} must be text")
                )
                key = str(key)
            if key in result:
                self.problems.append(
                    DefinitionProblem(self.filename, _line(key_node), f"duplicate key {key!r}")
                )
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = _line(key_node)
        return result

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> LList:
        result = LList(self.construct_object(child, deep=True) for child in node.value)
        result.line = _line(node)
        result.item_lines = [_line(child) for child in node.value]
        return result


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)


def load_yaml(text: str, filename: str) -> tuple[Any, list[DefinitionProblem]]:
    """Parse YAML text; returns the data and any problems (syntax, duplicate keys)."""
    loader = _Loader(text, filename)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [DefinitionProblem(filename, line, f"YAML syntax: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [DefinitionProblem(filename, 1, f"YAML: {exc}")]
    finally:
        loader.dispose()
    return data, loader.problems
