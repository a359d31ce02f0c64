"""What the templates show: form fields ready to render, answers in words, and the result page
(the triage first, the contributor chart's geometry, the exercise plan in the order to read it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode

from app.engine import Question

from .forms import IMPERIAL, FieldError, PageInput, Units, show_number, to_imperial

# -- Form fields -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Part:
    """One input of an imperial measurement (feet and inches, stones and pounds)."""

    name: str
    label: str
    value: str


@dataclass(slots=True)
class FieldView:
    question: Question
    kind: str  # boolean | choice | scale | multi | number | measure
    value: Any  # what to show as filled in: a string, or a list of codes
    error: FieldError | None = None
    units: Units = "metric"
    parts: list[Part] = field(default_factory=list)
    switch_url: str | None = None  # a measurement: the same page in the other units

    @property
    def id(self) -> str:
        return self.question.id

    @property
    def target(self) -> str:
        """The id of the first input: where the error summary and labels point."""
        if self.kind == "measure" and self.units == "imperial":
            return f"{self.id}-{self.parts[0].name}"
        return self.id

    @property
    def input_mode(self) -> str:
        return "numeric" if self.question.type == "integer" else "decimal"

    @property
    def width(self) -> str:
        """A width class that fits the longest answer (GOV.UK: width says what is expected)."""
        high = self.question.maximum or 0
        return "width-3" if high < 1000 else "width-5"


def field_views(
    questions: list[Question],
    *,
    answers: Mapping[str, Any],
    page_input: PageInput | None,
    units: Mapping[str, Units],
    base_url: str,
    query: Mapping[str, str],
) -> list[FieldView]:
    errors = {e.question_id: e for e in page_input.errors} if page_input else {}
    views = []
    for question in questions:
        kind = _kind(question)
        view = FieldView(question, kind, None, errors.get(question.id))
        stored = answers.get(question.id)
        raw = page_input.raw if page_input else None
        if kind == "measure":
            view.units = units.get(question.id, "metric")
            view.switch_url = _switch_url(base_url, query, question, view.units)
            if view.units == "imperial":
                big, small, _ = IMPERIAL[question.widget or ""]
                if raw is not None:
                    values = (
                        raw.get(f"{question.id}-{big}", ""),
                        raw.get(f"{question.id}-{small}", ""),
                    )
                elif stored is not None:
                    whole, rest = to_imperial(question, stored)
                    values = (str(whole), show_number(rest))
                else:
                    values = ("", "")
                view.parts = [
                    Part(big, big.capitalize(), values[0]),
                    Part(small, small.capitalize(), values[1]),
                ]
                views.append(view)
                continue
        if raw is not None:
            view.value = raw.get(question.id, [] if kind == "multi" else "")
        else:
            view.value = _as_form_value(question, stored)
        views.append(view)
    return views


def _kind(question: Question) -> str:
    if question.type == "boolean":
        return "boolean"
    if question.type == "choice":
        return "choice"
    if question.type == "multi_choice":
        return "multi"
    if question.widget == "scale":
        return "scale"
    if question.widget in IMPERIAL:
        return "measure"
    return "number"


def _as_form_value(question: Question, value: Any) -> Any:
    if value is None:
        return [] if question.type == "multi_choice" else ""
    if question.type == "boolean":
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return show_number(value)
    return value


def _switch_url(base_url: str, query: Mapping[str, str], question: Question, units: Units) -> str:
    params = {k: v for k, v in query.items() if k == "change" or k.endswith("-units")}
    key = f"{question.id}-units"
    if units == "metric":
        params[key] = "imperial"
    else:
        params.pop(key, None)
    encoded = urlencode(params)
    return (
        f"{base_url}?{encoded}#{question.id}-fieldset"
        if encoded
        else f"{base_url}#{question.id}-fieldset"
    )


SHORT: Final = {"feet": "ft", "inches": "in", "stones": "st", "pounds": "lb"}


# -- Answers in words -----------------------------------------------------------------------------


def answer_text(question: Question, value: Any) -> list[str]:
    """An answer as lines of text (a multiple choice gives one line per option)."""
    if question.type == "boolean":
        return ["Yes" if value else "No"]
    if question.type in ("choice", "multi_choice"):
        labels = {o.code: o.label for o in question.options}
        codes = value if isinstance(value, list) else [value]
        return [labels.get(code) or str(code) for code in codes]
    text = show_number(value)
    if question.widget in IMPERIAL:
        big, small, _ = IMPERIAL[question.widget or ""]
        whole, rest = to_imperial(question, value, whole=True)
        return [f"{text} {question.unit} ({whole} {SHORT[big]} {rest} {SHORT[small]})"]
    if question.unit:
        text = f"{text} {unit_for(question.unit, value)}"
    return [text]


def unit_for(unit: str, value: Any) -> str:
    """ "1 day a week", not "1 days a week": the unit's first word in the singular for one."""
    first, _, rest = unit.partition(" ")
    if value == 1 and first in ("days", "hours", "minutes", "years"):
        return " ".join(filter(None, (first[:-1], rest)))
    return unit


# -- Result ---------------------------------------------------------------------------------------

SCORE_WORDS: Final = {1: "a small factor", 2: "a moderate factor", 3: "a strong factor"}


@dataclass(frozen=True, slots=True)
class ChartBar:
    label: str
    score: int
    y: int  # top of the row, in the chart's own units
    width: int  # bar length


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[ChartBar]
    width: int
    height: int
    bar_max: int
    ticks: list[tuple[int, int]]  # (score, x)
    summary: str


CHART_WIDTH: Final = 300
CHART_LEFT: Final = 0
CHART_BAR_MAX: Final = 240
CHART_ROW: Final = 46


def contributor_chart(contributors: list[dict[str, Any]]) -> Chart | None:
    """A horizontal bar chart, scores 0 to 3; a narrow drawing, so its text stays readable when
    a phone scales it down."""
    if not contributors:
        return None
    bars = [
        ChartBar(
            label=c["label"],
            score=int(c["score"]),
            y=index * CHART_ROW,
            width=round(CHART_BAR_MAX * int(c["score"]) / 3),
        )
        for index, c in enumerate(contributors)
    ]
    summary = "; ".join(f"{c['label']}: {c['score']} out of 3" for c in contributors)
    return Chart(
        bars=bars,
        width=CHART_WIDTH,
        height=len(bars) * CHART_ROW + 18,
        bar_max=CHART_BAR_MAX,
        ticks=[(score, round(CHART_BAR_MAX * score / 3)) for score in range(4)],
        summary=summary,
    )


@dataclass(frozen=True, slots=True)
class PlanBlock:
    code: str
    title: str
    summary: str
    dose: str
    focus: bool
    step: dict[str, Any]  # the step to start with
    step_number: int  # 1-based
    step_count: int
    later: list[dict[str, Any]]  # the steps after it, listed briefly
    companion: dict[str, Any] | None


def plan_blocks(plan: dict[str, Any] | None) -> tuple[list[PlanBlock], list[PlanBlock]]:
    """The plan's blocks as (focus, optional), each at its starting step."""
    if not plan:
        return [], []
    focus: list[PlanBlock] = []
    optional: list[PlanBlock] = []
    for block in plan["blocks"]:
        steps = block["steps"]
        index = next(
            (i for i, s in enumerate(steps) if s["code"] == block["start_step"]),
            0,
        )
        entry = PlanBlock(
            code=block["code"],
            title=block["title"],
            summary=block.get("summary", ""),
            dose=block["dose"],
            focus=bool(block["focus"]),
            step=steps[index],
            step_number=index + 1,
            step_count=len(steps),
            later=steps[index + 1 :],
            companion=block.get("companion"),
        )
        (focus if entry.focus else optional).append(entry)
    return focus, optional


LEVEL_STYLE: Final = {
    # css modifier, short label (never colour alone: the label and icon differ too), icon
    "emergency": ("emergency", "Emergency", "alert"),
    "urgent": ("urgent", "Urgent: today", "clock"),
    "see_doctor": ("see-doctor", "See a doctor first", "doctor"),
    "self_care": ("self-care", "Safe to start", "tick"),
}


def level_style(code: str) -> tuple[str, str, str]:
    return LEVEL_STYLE.get(code, ("see-doctor", "Advice", "doctor"))
