"""The definition, as loaded: plain frozen data the rest of the engine reads."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from ._contract import ExerciseStep
from ._errors import AnswerProblem
from ._expr import Expr, ExprError, VarInfo, compile_expr

TRIAGE_LEVEL: Final = "triage_level"  # the built-in value: the triage level so far
QUESTION_TYPES: Final = ("boolean", "integer", "number", "choice", "multi_choice")


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    label: str
    hint: str | None = None
    exclusive: bool = False  # a multiple-choice option that cannot be combined ("none")


@dataclass(slots=True, eq=False)
class Question:
    id: str
    type: str
    text: str
    line: int
    hint: str | None = None
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    widget: str | None = None  # a hint for forms, e.g. "height" offers feet and inches too
    image: str | None = None  # a small picture beside the question (a movement check)
    image_alt: str | None = None
    required: bool = True
    when: Expr | None = None
    # Filled in by the loader: the section, page and own conditions, all of which must hold.
    conditions: tuple[Expr, ...] = ()
    page_id: str = ""
    section_id: str = ""
    position: int = 0
    option_codes: frozenset[str] = frozenset()

    def check(self, value: Any) -> tuple[Any, AnswerProblem | None]:
        """Return the answer in normal form, or a problem saying what is wrong with it."""
        kind = self.type
        if kind == "boolean":
            if value is True or value is False:
                return value, None
            return None, self._problem("wrong_type", "must be true or false (yes or no)")
        if kind in ("integer", "number"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None, self._problem("wrong_type", f"must be a number{self._range_text()}")
            if isinstance(value, float):
                if not math.isfinite(value):
                    return None, self._problem("wrong_type", "must be a finite number")
                if kind == "integer":
                    if not value.is_integer():
                        return None, self._problem(
                            "wrong_type", f"must be a whole number{self._range_text()}"
                        )
                    value = int(value)
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                return None, self._problem("out_of_range", f"must be{self._range_text()}")
            return value, None
        if kind == "choice":
            if isinstance(value, str) and value in self.option_codes:
                return value, None
            return None, self._problem("invalid_option", f"must be one of: {self._codes()}")
        # multi_choice
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            return None, self._problem(
                "wrong_type", f"must be a list of codes from: {self._codes()}"
            )
        # What was sent is never repeated back: it may be anything, of any length.
        if any(v not in self.option_codes for v in value):
            return None, self._problem(
                "invalid_option", f"has a code that is not an option; allowed: {self._codes()}"
            )
        if not value:
            return None, self._problem("required", "choose at least one option")
        if len(set(value)) != len(value):
            return None, self._problem("invalid_option", "lists the same code twice")
        exclusive = [o.code for o in self.options if o.exclusive and o.code in value]
        if exclusive and len(value) > 1:
            return None, self._problem(
                "invalid_option", f"{exclusive[0]!r} cannot be combined with other options"
            )
        chosen = set(value)
        return [o.code for o in self.options if o.code in chosen], None

    def _problem(self, code: str, message: str) -> AnswerProblem:
        return AnswerProblem(self.id, code, message)

    def _codes(self) -> str:
        return ", ".join(o.code for o in self.options)

    def _range_text(self) -> str:
        low, high = _fmt(self.minimum), _fmt(self.maximum)
        if low is not None and high is not None:
            return f" from {low} to {high}"
        if low is not None:
            return f" of at least {low}"
        if high is not None:
            return f" of at most {high}"
        return ""


def _fmt(number: float | None) -> str | None:
    if number is None:
        return None
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass(slots=True, eq=False)
class Page:
    id: str
    title: str
    questions: tuple[Question, ...]
    line: int
    intro: str | None = None
    when: Expr | None = None
    section_id: str = ""
    conditions: tuple[Expr, ...] = ()  # section's and page's own


@dataclass(slots=True, eq=False)
class Section:
    id: str
    title: str
    pages: tuple[Page, ...]
    line: int
    when: Expr | None = None


@dataclass(frozen=True, slots=True)
class Derived:
    id: str
    expr: Expr
    line: int
    label: str | None = None


@dataclass(frozen=True, slots=True)
class LevelAdvice:
    """A sentence added to a level's advice when its condition holds and none of the named
    rules fired (e.g. "keep moving", except when a possible broken bone is the reason)."""

    text: str
    when: Expr | None = None
    unless_reasons: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Level:
    code: str
    title: str  # what the person is told to do
    advice: str
    rank: int  # 0 is the most urgent
    label: str  # a short clinical name, for staff
    badge: str  # a short label beside the icon on patient pages
    icon: str  # alert, clock, doctor or tick
    style: str  # the CSS modifier for this level
    risk: str  # FHIR risk-probability code: high, moderate or low
    urgent: bool = False  # raises the staff queue's banner and sorts first
    clinician: str = ""  # the clinical title staff see ("" in old versions: use the label)
    action: str = ""  # what the clinic should do
    advice_more: tuple[LevelAdvice, ...] = ()  # added to ``advice`` where they apply
    # Clinic staff may release the programme after review (a see_doctor level, never urgent).
    releasable: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    level: str
    rank: int
    when: Expr
    message: str  # for the person
    line: int
    clinician: str = ""  # a short clinical label for staff ("" in old versions)
    action: str = ""  # what the clinic should do


@dataclass(frozen=True, slots=True)
class Scored:
    """A condition and the points it gives (a score band or a bonus)."""

    when: Expr | None
    points: int


@dataclass(frozen=True, slots=True)
class Contributor:
    code: str
    label: str
    why: str
    advice: str  # with an exercise plan
    bands: tuple[Scored, ...]  # first match wins; no match scores 0
    bonuses: tuple[Scored, ...]  # added to the band's score
    maximum: int
    line: int
    # For every other level: something to raise with a doctor or physio, no exercise in it.
    discuss: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    code: str
    title: str
    how: str
    cues: tuple[str, ...]
    mistakes: tuple[str, ...]
    progress_when: str
    image: str | None = None
    image_alt: str | None = None
    # Conditions on the questionnaire's answers, compiled with the questionnaire's plan (the
    # blocks file alone does not know its names): when to leave the step out, and extra tips.
    avoid_when: str | None = None
    cautions: tuple[tuple[str, str], ...] = ()  # (condition, text)

    def as_dict(self) -> ExerciseStep:
        return {
            "code": self.code,
            "title": self.title,
            "how": self.how,
            "cues": list(self.cues),
            "mistakes": list(self.mistakes),
            "progress_when": self.progress_when,
            "image": self.image,
            "image_alt": self.image_alt,
        }


@dataclass(frozen=True, slots=True)
class ExerciseBlock:
    code: str
    title: str
    summary: str
    dose: str
    steps: tuple[Step, ...]
    companion: Step | None = None


@dataclass(frozen=True, slots=True)
class StartRule:
    when: Expr | None
    step: str


@dataclass(frozen=True, slots=True)
class BlockRelevance:
    code: str
    weights: tuple[tuple[str, int], ...]  # contributor code, multiplier
    bonuses: tuple[Scored, ...]
    start: tuple[StartRule, ...]  # first match wins; otherwise the first step
    line: int
    avoid: tuple[Expr | None, ...] = ()  # per step, in order: when the step does not suit
    cautions: tuple[tuple[tuple[Expr, str], ...], ...] = ()  # per step: (condition, tip)
    companion_avoid: Expr | None = None  # the companion stretch's
    companion_cautions: tuple[tuple[Expr, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Advice:
    when: Expr | None
    text: str
    # Only when one of these steps (or companion stretches) is in the plan and suits.
    with_steps: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PlanSpec:
    focus: int
    blocks: tuple[BlockRelevance, ...]
    advice: tuple[Advice, ...]
    from_first: Expr | None = None  # when every block starts at its first (allowed) step
    # Added when a block is left out ([blocks] names them): the first whose condition holds.
    dropped_advice: tuple[Advice, ...] = ()


@dataclass(frozen=True, slots=True)
class SafetyNet:
    """The warning signs every result lists, what to do, and when a self-care person should
    see a GP."""

    title: str
    signs: tuple[str, ...]
    action: str
    self_care: str
    # The second tier (2.1): signs to see a GP about today, or call 111.
    today_title: str | None = None
    today_signs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContextValue:
    """A value the caller gives with the answers, not a question: what is known from outside
    the interview (e.g. a follow-up's plan and baseline). Conditions may use it like an answer."""

    id: str
    type: str  # a question type: boolean, integer, number, choice or multi_choice
    line: int
    label: str | None = None
    options: frozenset[str] = frozenset()
    # A follow-up's: where its caller reads the value ("from"), so that services name no
    # question ids: ("assessment", id) the followed assessment's answer or derived value,
    # ("previous_checkin", id) the last check-in's answer.
    source: tuple[str, str] | None = None
    # An assessment of an older version that could not give it: the first check-in whose
    # answers fill the gaps stands in (the value is then provisional).
    stand_in: bool = False


@dataclass(frozen=True, slots=True)
class TrendSeries:
    """One line of a follow-up's trend: its value at the start (a context value) and at each
    check-in (a question or derived value of the check-in)."""

    name: str  # the trend point's key
    checkin: str
    start: str | None = None


@dataclass(frozen=True, slots=True)
class Move:
    """How one answer to a block's "how did it feel" question moves the block."""

    feel: str  # an option code of the feel question
    move: str  # up, down, stay or pause
    why: str  # for the person; {block}, {step}, {days} are filled in
    min_days: int = 0  # up only: fewer days than this keeps the step
    why_too_few_days: str | None = None
    why_at_end: str | None = None  # up from the last step, or down from the first


@dataclass(frozen=True, slots=True)
class Progression:
    """How a follow-up moves each block of the plan it follows."""

    days_question: str  # "{block}_days": the question id per block
    feel_question: str  # "{block}_feel"
    moves: tuple[Move, ...]
    hold_when: Expr | None = None  # no block moves up while this holds
    why_held: str | None = None
    min_days_between_ups: int = 0  # days on a step (since it changed, or the plan began)
    why_too_soon: str | None = None
    # At a level other than the last: only pauses apply; these rules pause every block.
    pause_all_reasons: frozenset[str] = frozenset()
    why_paused_all: str | None = None


@dataclass(frozen=True, slots=True)
class Removed:
    """A question id an earlier version had: which version removed it, and what replaced it."""

    id: str
    version: str
    use: str | None


@dataclass(slots=True, eq=False)
class Questionnaire:
    id: str
    version: str
    title: str
    description: str
    path: str
    sections: tuple[Section, ...]
    derived: tuple[Derived, ...]
    levels: tuple[Level, ...]
    rules: tuple[Rule, ...]
    contributors: tuple[Contributor, ...]
    plan: PlanSpec
    exercise_blocks: dict[str, ExerciseBlock]
    stop_when: Expr | None = None
    safety_net: SafetyNet | None = None
    removed: dict[str, Removed] = field(default_factory=dict)
    context: dict[str, ContextValue] = field(default_factory=dict)
    progression: Progression | None = None
    trend: tuple[TrendSeries, ...] = ()
    follows: str | None = None  # a follow-up's: the id of the questionnaire it follows up
    # An older version is still accepted from API clients that ask for it until this day.
    accept_until: date | None = None
    # The language of its person-facing texts (BCP 47): "en", or a translation's.
    language: str = "en"
    # Indexes, filled in by the loader.
    pages: tuple[Page, ...] = ()
    questions: tuple[Question, ...] = ()
    question_by_id: dict[str, Question] = field(default_factory=dict)
    derived_by_id: dict[str, Derived] = field(default_factory=dict)
    level_by_code: dict[str, Level] = field(default_factory=dict)
    rules_by_urgency: tuple[Rule, ...] = ()
    scope: dict[str, VarInfo] = field(default_factory=dict)  # the names conditions may use
    # Per answer id: the derived values (and triage_level) worked out from it, to forget when
    # it changes.
    stale_after: dict[str, frozenset[str]] = field(default_factory=dict)

    def questions_behind(self, rule_codes: Iterable[str]) -> frozenset[str]:
        """The questions whose answers the given rules read, through derived values too: what
        a clinician should look at first for each reason."""
        wanted = set(rule_codes)
        pending = [name for rule in self.rules if rule.code in wanted for name in rule.when.names]
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in self.derived_by_id:
                pending.extend(self.derived_by_id[name].expr.names)
        return frozenset(name for name in seen if name in self.question_by_id)

    @property
    def self_care_level(self) -> str:
        """The least urgent level: the only one that gets an exercise plan."""
        return self.levels[-1].code

    def compile_condition(self, source: str) -> Expr:
        """A condition over this questionnaire's names, checked as if it were in the file.

        Raises ValueError saying what is wrong with it.
        """
        try:
            return compile_expr(source, self.scope)
        except ExprError as exc:
            raise ValueError(
                f"{exc.message} (at column {exc.column} of {source.strip()!r})"
            ) from None
