"""Running a questionnaire over a set of answers: branching, validation, triage, scores, plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import AnswerError, AnswerProblem
from ._expr import MISSING
from ._model import TRIAGE_LEVEL, Page, Question, Questionnaire


class Context(dict[str, Any]):
    """Answers known so far, plus derived values and the triage level, worked out on demand.

    Conditions read names from here. A name with no answer reads as MISSING. Values worked out
    on demand are cached until the next answer is added.
    """

    __slots__ = ("_cached", "_questionnaire")

    def __init__(self, questionnaire: Questionnaire) -> None:
        super().__init__()
        self._questionnaire = questionnaire
        self._cached: list[str] = []

    def add(self, key: str, value: Any) -> None:
        # Only what depends on this answer is worked out again: most answers (the lifestyle
        # ones) change no rule, so the triage so far stays as it was.
        stale = self._questionnaire.stale_after.get(key) if self._cached else None
        if stale:
            kept = []
            for name in self._cached:
                if name in stale:
                    del self[name]
                else:
                    kept.append(name)
            self._cached[:] = kept
        self[key] = value

    def __missing__(self, key: str) -> Any:
        q = self._questionnaire
        derived = q.derived_by_id.get(key)
        if derived is not None:
            value = derived.expr.evaluate(self)
        elif key == TRIAGE_LEVEL:
            value = triage_level(q, self)
        else:
            return MISSING
        self[key] = value
        self._cached.append(key)
        return value


def value_of(q: Questionnaire, values: Mapping[str, Any], name: str) -> Any:
    """An answer or derived value of ``q`` from a record's stored (already checked) values,
    without evaluating the interview; None when it cannot be worked out from them."""
    ctx = Context(q)
    ctx.update(values)
    value = ctx[name]
    return None if value is MISSING else value


def triage_level(q: Questionnaire, ctx: Mapping[str, Any]) -> str:
    """The most urgent level of any rule that fires on ``ctx``; the least urgent if none does."""
    for rule in q.rules_by_urgency:
        if rule.when.holds(ctx):
            return rule.level
    return q.self_care_level


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Where an interview stands for a given set of answers."""

    questionnaire: Questionnaire
    answers: dict[str, Any]  # the valid answers to visible questions, in question order
    context: Context
    visible: tuple[Question, ...]
    ignored: tuple[str, ...]  # answered, but hidden by branching
    problems: tuple[AnswerProblem, ...]  # unknown ids and invalid values
    missing: tuple[Question, ...]  # visible, required and unanswered (empty after an early stop)
    stopped: bool  # an early-stop condition holds: no more questions are asked

    @property
    def complete(self) -> bool:
        return not self.problems and not self.missing

    @property
    def next_page(self) -> Page | None:
        """The first page with a question still to answer (or to correct); None when done."""
        if self.stopped and not self.problems:
            return None
        wanted = {q.id for q in self.missing} | {p.question for p in self.problems}
        for page in self.questionnaire.pages:
            if any(q.id in wanted for q in page.questions):
                return page
        return None

    def value(self, name: str) -> Any:
        """An answer, context value or derived value as this evaluation has it; None when it
        has none."""
        value = self.context[name]
        return None if value is MISSING else value

    def visible_on(self, page: Page) -> list[Question]:
        visible = {q.id for q in self.visible}
        return [q for q in page.questions if q.id in visible]

    def page_is_visible(self, page: Page) -> bool:
        return bool(self.visible_on(page))

    def required_problems(self) -> list[AnswerProblem]:
        """Every problem, plus one for each required question still unanswered."""
        reported = {p.question for p in self.problems}
        return [
            *self.problems,
            *(
                AnswerProblem(q.id, "required", "is required")
                for q in self.missing
                if q.id not in reported
            ),
        ]

    def progress(self) -> dict[str, int]:
        answered = sum(1 for q in self.visible if q.id in self.answers)
        remaining = len(self.missing)
        total = answered + remaining
        return {
            "answered": answered,
            "remaining": remaining,
            "percent": 100 if total == 0 else round(100 * answered / total),
        }


def evaluate(
    q: Questionnaire, answers: Mapping[str, Any], context: Mapping[str, Any] | None = None
) -> Evaluation:
    """Apply branching and validation to ``answers`` (complete or partial).

    Unknown ids and invalid values become problems. ``None`` counts as not answered. Answers to
    questions that branching hides are dropped and listed in ``ignored``. ``context`` gives the
    values the questionnaire declares under ``context`` (the caller's, not the person's: a
    wrong one raises AnswerError naming it).
    """
    if not isinstance(answers, Mapping):
        raise AnswerError([AnswerProblem("answers", "wrong_type", "must be an object of answers")])
    problems: list[AnswerProblem] = []
    valid: dict[str, Any] = {}
    for key, value in answers.items():
        question = q.question_by_id.get(key) if isinstance(key, str) else None
        if question is None:
            problems.append(_unknown(q, key))
            continue
        if value is None:
            continue
        normal, problem = question.check(value)
        if problem is not None:
            problems.append(problem)
        else:
            valid[key] = normal

    # Walk the questions in order: a condition sees only earlier answers (and the triage "so
    # far"), which is what the person had answered when the question came up.
    ctx = Context(q)
    for key, value in _checked_context(q, context or {}).items():
        ctx[key] = value
    visible: list[Question] = []
    kept: dict[str, Any] = {}
    for section in q.sections:
        # A section's condition is decided once, when the section starts.
        if section.when is not None and not section.when.holds(ctx):
            continue
        for page in section.pages:
            if page.when is not None and not page.when.holds(ctx):
                continue
            _walk_page(page, ctx, valid, visible, kept)
    ignored = tuple(key for key in valid if key not in kept)

    # After an emergency sign nothing more is asked or required. Safety answers already given
    # (an API sends them all at once) still count: a clinician should see every red flag.
    stopped = q.stop_when is not None and q.stop_when.holds(ctx)
    missing = () if stopped else tuple(v for v in visible if v.required and v.id not in kept)
    order = {qq.id: qq.position for qq in q.questions}
    problems.sort(key=lambda p: order.get(p.question, len(order)))
    return Evaluation(
        questionnaire=q,
        answers=kept,
        context=ctx,
        visible=tuple(visible),
        ignored=ignored,
        problems=tuple(problems),
        missing=missing,
        stopped=stopped,
    )


def _checked_context(q: Questionnaire, given: Mapping[str, Any]) -> dict[str, Any]:
    problems: list[AnswerProblem] = []
    for key, value in given.items():
        declared = q.context.get(key)
        if declared is None:
            problems.append(AnswerProblem(key, "unknown_context", "is not a context value"))
        elif value is not None and not _fits(declared.type, declared.options, value):
            problems.append(AnswerProblem(key, "wrong_type", f"must be a {declared.type} value"))
    if problems:
        raise AnswerError(problems)
    return {key: value for key, value in given.items() if value is not None}


def _fits(kind: str, options: frozenset[str], value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("integer", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "choice":
        return value in options
    return isinstance(value, list | tuple) and all(v in options for v in value)


def _unknown(q: Questionnaire, key: object) -> AnswerProblem:
    removed = q.removed.get(key) if isinstance(key, str) else None
    if removed is None:
        return AnswerProblem(
            str(key), "unknown_question", "is not a question in this questionnaire"
        )
    instead = f"; send {removed.use!r} instead" if removed.use else ""
    return AnswerProblem(
        removed.id,
        "removed_question",
        f"was removed in version {removed.version} of this questionnaire{instead}",
    )


def _walk_page(
    page: Page,
    ctx: Context,
    valid: dict[str, Any],
    visible: list[Question],
    kept: dict[str, Any],
) -> None:
    for question in page.questions:
        if question.when is not None and not question.when.holds(ctx):
            continue
        visible.append(question)
        if question.id in valid:
            value = valid[question.id]
            kept[question.id] = value
            ctx.add(question.id, value)
