"""The queue's filters: read from the form (levels, dates as day/month/year, reviewed or not, a
search), and turned into the conditions every queue query and export shares.

The conditions always include the clinic's id, so no page or export can reach another clinic's
rows; and they are the one place that says which submissions are in the queue at all (a
corrected emergency stays until reviewed) and when a check-in counts as reviewed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final

from sqlalchemy import Subquery, and_, exists
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, or_

from app.models import Assessment, Checkin, IntakeLink
from app.services.assessments import normalise_reference
from app.services.text import control_character_problem

REVIEWED_CHOICES: Final = ("all", "no", "yes")


def unreviewed_checkin(checkin: Any = Checkin) -> ColumnElement[bool]:
    """A check-in its submission's last review has not seen (for a query joining both).
    ``checkin``: the check-in table, or an alias of it."""
    return or_(
        col(Assessment.reviewed_at).is_(None),
        checkin.created_at > col(Assessment.reviewed_at),
    )


def not_replaced_or_unreviewed() -> ColumnElement[bool]:
    """A submission the patient corrected (a mis-tapped emergency answer) is replaced by the
    newer one; but an emergency is never taken out of the queue, the banner or a search by
    anyone but staff: the original stays, marked as corrected, until someone reviews it."""
    return or_(col(Assessment.replaced_by_id).is_(None), col(Assessment.reviewed_at).is_(None))


@dataclass(frozen=True, slots=True)
class Filters:
    levels: tuple[str, ...] = ()  # empty: every level
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    reviewed: str = "all"  # all | no | yes
    search: str = ""  # a submission's reference or a link's patient reference, as typed

    def conditions(
        self, clinic_id: uuid.UUID, flags: Subquery, flagging: Collection[str], zone: tzinfo = UTC
    ) -> list[ColumnElement[bool]]:
        """For a query outer-joining ``flags`` (queue.checkin_flags) to the submissions. ``zone``: the
        clinic's, in which a day starts and ends."""
        conditions: list[ColumnElement[bool]] = [
            col(Assessment.clinic_id) == clinic_id,
            not_replaced_or_unreviewed(),
        ]
        if self.levels:
            # Its own level, or that of a check-in not reviewed yet that flags it.
            # An alias: the check-ins export's own query is over the check-in table.
            other = aliased(Checkin)
            flagged_at_level = exists().where(
                col(other.assessment_id) == col(Assessment.id),
                col(other.triage_level).in_([lv for lv in self.levels if lv in flagging]),
                unreviewed_checkin(other),
            )
            conditions.append(or_(col(Assessment.triage_level).in_(self.levels), flagged_at_level))
        if self.date_from is not None:
            conditions.append(col(Assessment.created_at) >= _start_of(self.date_from, zone))
        if self.date_to is not None:
            conditions.append(
                col(Assessment.created_at) < _start_of(self.date_to + timedelta(1), zone)
            )
        if self.search:
            conditions.append(_matches(self.search))
        if self.reviewed == "no":
            conditions.append(or_(col(Assessment.reviewed_at).is_(None), flags.c.rank.is_not(None)))
        elif self.reviewed == "yes":
            conditions.append(
                and_(col(Assessment.reviewed_at).is_not(None), flags.c.rank.is_(None))
            )
        return conditions

    def query_string(self) -> list[tuple[str, str]]:
        """The filters as query parameters, for links that keep them (pages, export)."""
        params = [("level", level) for level in self.levels]
        if self.date_from:
            params.append(("from", show_date(self.date_from)))
        if self.date_to:
            params.append(("to", show_date(self.date_to)))
        if self.reviewed != "all":
            params.append(("reviewed", self.reviewed))
        if self.search:
            params.append(("q", self.search))
        return params

    def describe(self) -> dict[str, Any]:
        """The filters for the audit log, every level kept (a dict of the query keeps one)."""
        return {
            "levels": list(self.levels),
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "reviewed": self.reviewed,
            # Whether a search narrowed it, not what was searched: a patient reference typed
            # by staff is never logged.
            "search": bool(self.search),
        }


@dataclass(slots=True)
class FilterInput:
    """Filters as typed into the form, with a message per field that could not be read."""

    filters: Filters
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


def read_filters(
    known_levels: Sequence[str],
    levels: Sequence[str],
    date_from: str | None,
    date_to: str | None,
    reviewed: str | None,
    search: str | None = None,
) -> FilterInput:
    """``known_levels``: the level codes there are, most urgent first (app.services.questionnaires
    Registry.levels)."""
    errors: dict[str, str] = {}
    chosen = tuple(level for level in known_levels if level in set(levels))
    if any(level not in known_levels for level in levels):
        errors["level"] = "Choose levels from the list"
    start = _read_date(date_from, "from", errors)
    end = _read_date(date_to, "to", errors)
    if start and end and start > end:
        errors["to"] = "The end date must be the same as or after the start date"
        end = None
    reviewed = reviewed or "all"
    if reviewed not in REVIEWED_CHOICES:
        errors["reviewed"] = "Choose all, not reviewed or reviewed"
        reviewed = "all"
    search = " ".join((search or "").split())
    if control_character_problem(search):
        errors["q"] = "Remove tabs, line breaks and other control characters from the search"
        search = ""
    return FilterInput(
        Filters(levels=chosen, date_from=start, date_to=end, reviewed=reviewed, search=search),
        errors,
        {
            # A date that was read is shown as the hint says; one that was not, as typed.
            "from": show_date(start) if start else (date_from or "").strip(),
            "to": show_date(end) if end else (date_to or "").strip(),
            "q": search,
        },
    )


DATE_HINT: Final = "For example, 31/03/2026"
# The dates a filter can name: the day after 31/12/9999 does not exist, and a clinic's records
# are all from this century (wider would only reach the limits of dates and of the database).
_FIRST_DAY: Final = date(2000, 1, 1)
_LAST_DAY: Final = date(2999, 12, 31)
_DAY_MONTH_YEAR: Final = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")


def show_date(day: date) -> str:
    """A date as the filter's hint shows it: day/month/year."""
    return f"{day.day:02}/{day.month:02}/{day.year}"


def _read_date(text: str | None, name: str, errors: dict[str, str]) -> date | None:
    """day/month/year, as the hint says (31/03/2026, 31/3/2026, 31-03-2026); or year-month-day,
    as older bookmarks and the audit log have it."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        found = _DAY_MONTH_YEAR.fullmatch(text)
        if found:
            day, month, year = (int(part) for part in found.groups())
            read = date(year, month, day)
        else:
            read = date.fromisoformat(text)
    except ValueError:
        errors[name] = f"Enter the {_label(name)} date as day/month/year, for example 31/03/2026"
        return None
    if not _FIRST_DAY <= read <= _LAST_DAY:
        errors[name] = f"Enter {_article(name)} date between the years 2000 and 2999"
        return None
    return read


def _label(name: str) -> str:
    return "start" if name == "from" else "end"


def _article(name: str) -> str:
    return "a start" if name == "from" else "an end"


def _start_of(day: date, zone: tzinfo) -> datetime:
    """When ``day`` starts in ``zone`` (the clinic's), in UTC as stored."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _matches(search: str) -> ColumnElement[bool]:
    """A submission's own reference (as typed or read out: case, spaces and dashes ignored), or
    its link's patient reference (any part of it, any case)."""
    pattern = (
        "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    )
    return or_(
        col(Assessment.reference) == normalise_reference(search),
        func.lower(col(IntakeLink.label)).like(pattern, escape="\\"),
    )
