"""Reading one page of the form: what was typed or chosen becomes answers in the engine's terms
(booleans, codes, numbers in cm and kg), or an error for each field that cannot be used.

Every message names what to do in plain words. Nothing here knows about branching: the page's
visible questions come from the engine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from app.answer_text import imperial_amount
from app.engine import Question
from app.i18n import gettext, short_number
from app.units import IMPERIAL, small_unit, to_metric

Units = Literal["metric", "imperial"]


@dataclass(frozen=True, slots=True)
class FieldError:
    question_id: str
    target: str  # the id of the input the error summary links to
    message: str  # shown next to the field
    summary: str  # shown in the error summary at the top of the page


@dataclass(slots=True)
class PageInput:
    answers: dict[str, Any] = field(default_factory=dict)
    cleared: list[str] = field(default_factory=list)  # optional questions left blank
    errors: list[FieldError] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # what was typed, to show it again
    units: dict[str, Units] = field(default_factory=dict)


FormData = Mapping[str, Sequence[str]]


def read_page(questions: Iterable[Question], form: FormData) -> PageInput:
    result = PageInput()
    asked = list(questions)
    for question in asked:
        _read_question(question, form, result)
    if len(asked) > 1:
        # Several questions on the page: the summary says which one each message is about.
        result.errors = [
            FieldError(
                e.question_id,
                e.target,
                e.message,
                gettext("%(question)s – %(problem)s")
                % {"question": _question(asked, e), "problem": e.summary},
            )
            for e in result.errors
        ]
    return result


def _question(asked: list[Question], error: FieldError) -> str:
    return next(q.text for q in asked if q.id == error.question_id)


def units_for(question: Question, form: FormData | Mapping[str, str]) -> Units:
    """Which units a height or weight question is shown in (metric unless asked otherwise)."""
    value = form.get(f"{question.id}-units")
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return "imperial" if value == "imperial" and question.widget in IMPERIAL else "metric"


def _first(form: FormData, name: str) -> str:
    values = form.get(name) or ()
    return values[0].strip() if values else ""


def _conflicting(form: FormData, names: Iterable[str]) -> bool:
    """A one-answer field sent with different values: a browser never does this. Taking either
    value could drop a "yes" to a warning sign, so the person is asked again instead."""
    return any(len({v.strip() for v in form.get(name) or ()}) > 1 for name in names)


def _read_question(question: Question, form: FormData, out: PageInput) -> None:
    qid = question.id
    kind = question.type
    if kind != "multi_choice":
        names = [qid]
        if question.widget in IMPERIAL:
            big, small, _ = IMPERIAL[question.widget or ""]
            names += [f"{qid}-{big}", f"{qid}-{small}"]
        if _conflicting(form, names):
            _error(out, question, qid, gettext("Give one answer only"))
            return
    if kind == "boolean":
        raw = _first(form, qid)
        out.raw[qid] = raw
        if raw in ("yes", "no"):
            out.answers[qid] = raw == "yes"
        elif raw or question.required:
            _error(out, question, qid, gettext("Select yes or no"))
        else:
            out.cleared.append(qid)
        return
    if kind == "choice" or question.widget == "scale":
        raw = _first(form, qid)
        out.raw[qid] = raw
        if kind == "choice":
            if raw in question.option_codes:
                out.answers[qid] = raw
                return
        else:
            number = _to_number(raw, whole=True)
            if number is not None and _in_range(question, number):
                out.answers[qid] = int(number)
                return
        if raw or question.required:
            message = (
                gettext("Select an answer")
                if kind == "choice"
                else _with_range(gettext("Select a number"), question)
            )
            _error(out, question, qid, message)
        else:
            out.cleared.append(qid)
        return
    if kind == "multi_choice":
        chosen = [v for v in form.get(qid, ()) if v in question.option_codes]
        out.raw[qid] = chosen
        exclusive = [o for o in question.options if o.exclusive and o.code in chosen]
        if not chosen:
            if question.required:
                _error(out, question, qid, gettext("Select all that apply, or ‘None of these’"))
            else:
                out.cleared.append(qid)
        elif exclusive and len(chosen) > 1:
            label = exclusive[0].label
            message = gettext("Select ‘%(option)s’ on its own, or untick it and choose others")
            _error(out, question, qid, message % {"option": label})
        else:
            out.answers[qid] = chosen
        return
    # integer or number
    if question.widget in IMPERIAL:
        units = units_for(question, form)
        out.units[qid] = units
        if units == "imperial":
            _read_imperial(question, form, out)
            return
    raw = _first(form, qid)
    out.raw[qid] = raw
    if not raw:
        if question.required:
            _error(out, question, qid, _enter(question))
        else:
            out.cleared.append(qid)
        return
    number = _to_number(raw, whole=kind == "integer")
    if number is None:
        message = (
            gettext("Enter a whole number, like 12")
            if kind == "integer"
            else gettext("Enter a number, like %(example)s")
            % {"example": short_number(float(EXAMPLES.get(question.widget or "", "7.5")))}
        )
        _error(out, question, qid, message)
    elif not _in_range(question, number):
        _error(out, question, qid, _with_range(gettext("Enter a number"), question))
    else:
        out.answers[qid] = int(number) if kind == "integer" else number


def _read_imperial(question: Question, form: FormData, out: PageInput) -> None:
    qid = question.id
    big, small, per = IMPERIAL[question.widget or ""]
    raw_big, raw_small = _first(form, f"{qid}-{big}"), _first(form, f"{qid}-{small}")
    out.raw[f"{qid}-{big}"] = raw_big
    out.raw[f"{qid}-{small}"] = raw_small
    if not raw_big and not raw_small:
        if question.required:
            message = (
                gettext("Enter your height in feet and inches")
                if question.widget == "height"
                else gettext("Enter your weight in stones and pounds")
            )
            _error(out, question, f"{qid}-{big}", message)
        else:
            out.cleared.append(qid)
        return
    big_value = _to_number(raw_big or "0", whole=True)
    if big_value is None or big_value < 0:
        message = (
            gettext("Enter feet as a whole number, like 5")
            if big == "feet"
            else gettext("Enter stones as a whole number, like 5")
        )
        _error(out, question, f"{qid}-{big}", message)
        return
    small_value = _to_number(raw_small or "0", whole=False)
    if small_value is None or not 0 <= small_value < per:
        message = (
            gettext("Enter inches as a number from 0 to %(most)s")
            if small == "inches"
            else gettext("Enter pounds as a number from 0 to %(most)s")
        )
        _error(out, question, f"{qid}-{small}", message % {"most": per - 1})
        return
    metric = to_metric(question, big_value, small_value)
    if not _in_range(question, metric):
        _error(
            out,
            question,
            f"{qid}-{big}",
            _imperial_range_text(question, big, small, per),
        )
        return
    out.answers[qid] = metric


def _error(out: PageInput, question: Question, target: str, message: str) -> None:
    out.errors.append(
        FieldError(
            question_id=question.id,
            target=target,
            message=message,
            summary=message,
        )
    )


# ASCII digits only: float() also takes "1e2", "1_0", "٤٢" and "４２", which nobody typing
# their weight means, and which would be stored as 100, 10 and 42.
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$", re.ASCII)
EXAMPLES: Final = {"height": "172", "weight": "68.5"}
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$", re.ASCII)
_PLAIN_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)", re.ASCII)


def _to_number(raw: str, *, whole: bool) -> float | None:
    text = raw.replace(" ", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    elif _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")  # "72,5": a decimal comma, as many phones' keypads give
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or (whole and not number.is_integer()):
        return None
    return number


def _in_range(question: Question, number: float) -> bool:
    return not (
        (question.minimum is not None and number < question.minimum)
        or (question.maximum is not None and number > question.maximum)
    )


def _enter(question: Question) -> str:
    """What to enter, e.g. "Enter your height" or "Enter the number of hours"."""
    if question.widget == "height":
        return gettext("Enter your height")
    if question.widget == "weight":
        return gettext("Enter your weight")
    if question.unit == "years":
        return gettext("Enter your age in years")
    if question.unit:
        return gettext("Enter the number of %(unit)s") % {"unit": question.unit}
    return gettext("Enter a number")


def _with_range(what: str, question: Question) -> str:
    """``what`` ("Select a number") with the range allowed: "… from 0 to 10 hours"."""
    values = {
        "what": what,
        "low": short_number(question.minimum) if question.minimum is not None else "",
        "high": short_number(question.maximum) if question.maximum is not None else "",
        "unit": question.unit or "",
    }
    has_low, has_high = question.minimum is not None, question.maximum is not None
    if has_low and has_high:
        text = (
            gettext("%(what)s from %(low)s to %(high)s %(unit)s")
            if question.unit
            else gettext("%(what)s from %(low)s to %(high)s")
        )
    elif has_low:
        text = (
            gettext("%(what)s of %(low)s %(unit)s or more")
            if question.unit
            else gettext("%(what)s of %(low)s or more")
        )
    elif has_high:
        text = (
            gettext("%(what)s of %(high)s %(unit)s or less")
            if question.unit
            else gettext("%(what)s of %(high)s or less")
        )
    else:
        return what
    return text % values


def _imperial_range_text(question: Question, big: str, small: str, per: int) -> str:
    size = small_unit(question)

    def part(value: float | None, rounding: Callable[[float], int]) -> str:
        if value is None:
            return ""
        # The lowest whole value that is allowed (ceil) or the highest (floor), so the range
        # shown never includes a value the check refuses.
        whole, rest = divmod(rounding(value / size), per)
        if not rest:
            return imperial_amount(big, whole)
        return gettext("%(big)s %(small)s") % {
            "big": imperial_amount(big, whole),
            "small": imperial_amount(small, rest),
        }

    message = (
        gettext("Enter your height from %(low)s to %(high)s")
        if question.widget == "height"
        else gettext("Enter your weight from %(low)s to %(high)s")
    )
    return message % {
        "low": part(question.minimum, math.ceil),
        "high": part(question.maximum, math.floor),
    }
