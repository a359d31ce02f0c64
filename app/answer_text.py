"""An answer in words, with its unit (and feet and inches, stones and pounds where the
question's widget offers them): the same words on the patient pages, the staff pages and in
the clinics' CSV exports. Plain text, no page look: services may use it (app/display.py is the
pages' own, and services may not import it)."""

from __future__ import annotations

from typing import Any

from app.engine import Question
from app.i18n import (
    BASE_LANGUAGE,
    current_language,
    gettext,
    ngettext,
    pgettext,
    short_number,
)
from app.units import IMPERIAL, to_imperial


def show_number(value: float) -> str:
    """12, 7.5: whole, or to one decimal; in another language, in its format (7,5)."""
    if current_language().code != BASE_LANGUAGE:
        return short_number(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".rstrip("0").rstrip(".")


def answer_text(question: Question, value: Any) -> list[str]:
    """An answer as lines of text (a multiple choice gives one line per option)."""
    if question.type == "boolean":
        return [gettext("Yes") if value else gettext("No")]
    if question.type in ("choice", "multi_choice"):
        labels = {o.code: o.label for o in question.options}
        codes = value if isinstance(value, list) else [value]
        return [labels.get(code) or str(code) for code in codes]
    text = show_number(value)
    if question.widget in IMPERIAL:
        big, small, _ = IMPERIAL[question.widget or ""]
        whole, rest = to_imperial(question, value, whole=True)
        return [f"{text} {question.unit} ({whole} {short_unit(big)} {rest} {short_unit(small)})"]
    if question.unit:
        text = f"{text} {unit_for(question.unit, value)}"
    return [text]


def short_unit(unit: str) -> str:
    """An imperial unit's short form: ft, in, st, lb."""
    shorts = {
        "feet": pgettext("unit", "ft"),
        "inches": pgettext("unit", "in"),
        "stones": pgettext("unit", "st"),
        "pounds": pgettext("unit", "lb"),
    }
    return shorts[unit]


def imperial_amount(unit: str, count: int) -> str:
    """ "1 foot", "2 feet"; a stone is a stone whatever the count ("11 stone")."""
    if unit == "feet":
        text = ngettext("%(num)d foot", "%(num)d feet", count)
    elif unit == "inches":
        text = ngettext("%(num)d inch", "%(num)d inches", count)
    elif unit == "stones":
        text = ngettext("%(num)d stone", "%(num)d stone", count)
    else:
        text = ngettext("%(num)d pound", "%(num)d pounds", count)
    return text % {"num": count}


def imperial_name(unit: str) -> str:
    """An imperial unit as an input's label: Feet, Inches, Stones, Pounds."""
    names = {
        "feet": gettext("Feet"),
        "inches": gettext("Inches"),
        "stones": gettext("Stones"),
        "pounds": gettext("Pounds"),
    }
    return names[unit]


def unit_for(unit: str, value: Any) -> str:
    """ "1 day a week", not "1 days a week": the unit's first word in the singular for one."""
    first, _, rest = unit.partition(" ")
    if value == 1 and first in ("days", "hours", "minutes", "years"):
        return " ".join(filter(None, (first[:-1], rest)))
    return unit
