"""Errors raised by the engine.

Two families, because they have different owners and different fixes::

    EngineError                   anything the engine raises on purpose
    ├── DefinitionError           a questionnaire or exercise file is wrong
    │                             (the author fixes the file; carries every problem,
    │                             each with file and line)
    └── AnswerError               the answers given are wrong or incomplete
                                  (the caller fixes the input; carries every problem,
                                  each keyed by question id)

Nothing else escapes the engine for any input: a missing answer makes a condition false,
and arithmetic that cannot be done (division by zero, overflow) yields "no value".
"""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True, slots=True)
class DefinitionProblem:
    """One thing wrong with a definition file, located by file and line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DefinitionError(EngineError):
    """A definition file is invalid. ``problems`` lists every problem found."""

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class AnswerProblem:
    """One thing wrong with the answers, keyed by question id (``question``)."""

    question: str
    code: str  # machine-readable: unknown_question, required, wrong_type, out_of_range, ...
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"question": self.question, "code": self.code, "message": self.message}


class AnswerError(EngineError):
    """The answers cannot produce a result. ``problems`` lists every problem found."""

    def __init__(self, problems: list[AnswerProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.question}: {p.message}" for p in problems))
