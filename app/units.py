"""Metric and imperial measurements. Answers are stored in cm and kg; a person may also give or
read a height in feet and inches and a weight in stones and pounds. Arithmetic only: the form
(app/web/forms.py) reads the parts, the pages (app/display.py) show them."""

from __future__ import annotations

from typing import Final

from app.engine import Question

CM_PER_INCH: Final = 2.54
KG_PER_POUND: Final = 0.45359237

# Widgets that can also be filled in with imperial units: the two parts, and how many of the
# small unit make one of the big one.
IMPERIAL: Final = {
    "height": ("feet", "inches", 12),
    "weight": ("stones", "pounds", 14),
}

SHORT: Final = {"feet": "ft", "inches": "in", "stones": "st", "pounds": "lb"}
_ONE: Final = {"feet": "foot", "inches": "inch", "stones": "stone", "pounds": "pound"}


def small_unit(question: Question) -> float:
    """The small imperial unit in the stored one: an inch in cm, or a pound in kg."""
    return CM_PER_INCH if question.widget == "height" else KG_PER_POUND


def to_imperial(question: Question, value: float, *, whole: bool = False) -> tuple[int, float]:
    """cm as (feet, inches) or kg as (stones, pounds); the small part to one decimal, or to a
    whole number. Rounded before splitting, so there is never a 12th inch or 14th pound."""
    _, _, per = IMPERIAL[question.widget or ""]
    total = round(value / small_unit(question), None if whole else 1)
    big = int(total // per)
    return big, round(total - big * per, 1)


def to_metric(question: Question, big: float, small: float) -> float:
    """(feet, inches) in cm or (stones, pounds) in kg, to one decimal as stored."""
    _, _, per = IMPERIAL[question.widget or ""]
    return round((big * per + small) * small_unit(question), 1)


def unit_name(unit: str, count: float) -> str:
    """ "1 foot", "2 feet"; a stone is a stone whatever the count ("11 stone 4 pounds")."""
    if count == 1:
        return _ONE[unit]
    return "stone" if unit == "stones" else unit
