"""A clinic's submissions: the queue staff work through, review marks and the CSV export.

Every query here takes the clinic's id and filters by it, so no page or export can reach
another clinic's rows; an id from another clinic reads as "not found".
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import case, false, literal, not_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from app.models import Assessment, IntakeLink, StaffUser, utcnow

REVIEWED_CHOICES: Final = ("all", "no", "yes")
PER_PAGE: Final = 25
EXPORT_LIMIT: Final = 50_000  # one export; beyond this, narrow the dates


@dataclass(frozen=True, slots=True)
class Filters:
    levels: tuple[str, ...] = ()  # empty: every level
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    reviewed: str = "all"  # all | no | yes

    def conditions(self, clinic_id: uuid.UUID) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [col(Assessment.clinic_id) == clinic_id]
        if self.levels:
            conditions.append(col(Assessment.triage_level).in_(self.levels))
        if self.date_from is not None:
            conditions.append(col(Assessment.created_at) >= _start_of(self.date_from))
        if self.date_to is not None:
            conditions.append(col(Assessment.created_at) < _start_of(self.date_to + timedelta(1)))
        if self.reviewed == "no":
            conditions.append(col(Assessment.reviewed_at).is_(None))
        elif self.reviewed == "yes":
            conditions.append(col(Assessment.reviewed_at).is_not(None))
        return conditions

    def query_string(self) -> list[tuple[str, str]]:
        """The filters as query parameters, for links that keep them (pages, export)."""
        params = [("level", level) for level in self.levels]
        if self.date_from:
            params.append(("from", self.date_from.isoformat()))
        if self.date_to:
            params.append(("to", self.date_to.isoformat()))
        if self.reviewed != "all":
            params.append(("reviewed", self.reviewed))
        return params

    def describe(self) -> dict[str, Any]:
        """The filters for the audit log, every level kept (a dict of the query keeps one)."""
        return {
            "levels": list(self.levels),
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "reviewed": self.reviewed,
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
    return FilterInput(
        Filters(levels=chosen, date_from=start, date_to=end, reviewed=reviewed),
        errors,
        {"from": (date_from or "").strip(), "to": (date_to or "").strip()},
    )


def _read_date(text: str | None, name: str, errors: dict[str, str]) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        label = "start" if name == "from" else "end"
        errors[name] = f"Enter the {label} date as year-month-day, for example 2026-03-31"
        return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _queue_order(urgent: Collection[str]) -> Any:
    """The urgent levels first, most urgent first (a person may need help today), then
    everything else together. ``urgent``: the level codes the definitions mark urgent."""
    if not urgent:
        return literal(0)
    # Past every level's rank: the rest sort as one group.
    return case((col(Assessment.triage_level).in_(urgent), col(Assessment.triage_rank)), else_=1000)


@dataclass(frozen=True, slots=True)
class Submission:
    assessment: Assessment
    patient_reference: str | None
    reviewed_by: str | None  # e-mail of the staff member
    reusable_link: bool = False  # came through a reusable ("poster") link: who is it?

    @property
    def contact_missing(self) -> bool:
        """A reusable link's submission whose sender gave no name and contact (yet)."""
        return self.reusable_link and self.assessment.patient_name is None


def list_submissions(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    filters: Filters,
    urgent: Collection[str],
    page: int = 1,
) -> tuple[list[Submission], int]:
    """One page of the clinic's queue and the number of matching submissions."""
    conditions = filters.conditions(clinic_id)
    total = session.exec(select(func.count()).select_from(Assessment).where(*conditions)).one()
    rows = session.exec(
        _submission_query(conditions, urgent).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    return [Submission(*row) for row in rows], int(total)


def iter_submissions(
    session: Session, *, clinic_id: uuid.UUID, filters: Filters, urgent: Collection[str]
) -> Iterator[Submission]:
    query = _submission_query(filters.conditions(clinic_id), urgent).limit(EXPORT_LIMIT)
    for row in session.exec(query.execution_options(yield_per=500)):
        yield Submission(*row)


def _submission_query(conditions: list[ColumnElement[bool]], urgent: Collection[str] = ()) -> Any:
    return (
        select(
            Assessment,
            IntakeLink.label,
            StaffUser.email,
            func.coalesce(not_(col(IntakeLink.single_use)), false()),
        )
        .outerjoin(IntakeLink, col(IntakeLink.id) == col(Assessment.intake_link_id))
        .outerjoin(StaffUser, col(StaffUser.id) == col(Assessment.reviewed_by_id))
        .where(*conditions)
        .order_by(_queue_order(urgent), col(Assessment.created_at).desc(), col(Assessment.id))
    )


def get_submission(
    session: Session, *, clinic_id: uuid.UUID, assessment_id: str
) -> Submission | None:
    """The clinic's submission with this id, or None (also for another clinic's id)."""
    try:
        key = uuid.UUID(assessment_id)
    except ValueError:
        return None
    row = session.exec(
        _submission_query([col(Assessment.clinic_id) == clinic_id, col(Assessment.id) == key])
    ).first()
    return None if row is None else Submission(*row)


def count_unreviewed_urgent(
    session: Session, *, clinic_id: uuid.UUID, urgent: Collection[str]
) -> int:
    if not urgent:
        return 0
    return int(
        session.exec(
            select(func.count())
            .select_from(Assessment)
            .where(
                col(Assessment.clinic_id) == clinic_id,
                col(Assessment.triage_level).in_(urgent),
                col(Assessment.reviewed_at).is_(None),
            )
        ).one()
    )


def mark_reviewed(session: Session, assessment: Assessment, *, by: StaffUser) -> None:
    assessment.reviewed_at = utcnow()
    assessment.reviewed_by_id = by.id
    assessment.updated_at = assessment.reviewed_at
    session.add(assessment)
    session.flush()


def unmark_reviewed(session: Session, assessment: Assessment) -> None:
    assessment.reviewed_at = None
    assessment.reviewed_by_id = None
    assessment.updated_at = utcnow()
    session.add(assessment)
    session.flush()


# -- CSV export ---------------------------------------------------------------------------------

CSV_COLUMNS: Final = (
    "id",
    "submitted_at",
    "triage_level",
    "triage_reasons",
    "triage_clinician",
    "triage_action",
    "reasons_clinician",
    "reasons_action",
    "contributors",
    "complete",
    "channel",
    "patient_reference",
    "reviewed_at",
    "reviewed_by",
)


REASON_SEPARATOR: Final = " | "


def csv_export(
    session: Session, *, clinic_id: uuid.UUID, filters: Filters, urgent: Collection[str]
) -> list[str]:
    """The clinic's filtered queue as CSV lines. Only the lines are held, never the records:
    ~200 bytes a submission, at most EXPORT_LIMIT of them."""
    return list(
        csv_rows(iter_submissions(session, clinic_id=clinic_id, filters=filters, urgent=urgent))
    )


def csv_rows(submissions: Iterator[Submission]) -> Iterator[str]:
    """The export, a line at a time: only the lines are held, never the records."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)

    def line(values: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(v) for v in values])
        return buffer.getvalue()

    yield line(CSV_COLUMNS)
    for s in submissions:
        a = s.assessment
        result = a.result
        triage = result["triage"]
        reasons = triage["reasons"]
        yield line(
            (
                a.id,
                a.created_at.isoformat(timespec="seconds"),
                a.triage_level,
                "; ".join(r["code"] for r in reasons),
                # The clinical texts (version 2.0.0 on). A 1.0.0 record has only the words the
                # patient was told: those, rather than nothing. The reasons' texts are in the
                # order of their codes, one for each, split by " | " (the texts use ";").
                triage.get("clinician") or triage.get("title", ""),
                triage.get("action") or "",
                REASON_SEPARATOR.join(r.get("clinician") or r.get("message", "") for r in reasons),
                REASON_SEPARATOR.join(r.get("action") or "" for r in reasons),
                "; ".join(f"{c['code']}={c['score']}" for c in result.get("contributors", [])),
                "yes" if a.complete else "no",
                a.channel,
                s.patient_reference or "",
                a.reviewed_at.isoformat(timespec="seconds") if a.reviewed_at else "",
                s.reviewed_by or "",
            )
        )


# A formula's first character, at the start of the text or of any part a spreadsheet may cut
# it into: it splits on "," or ";" by locale (on some imports even inside quotes), and on tabs
# and line breaks; spaces before the character may be trimmed.
_FORMULA_START: Final = re.compile(r"(^|[,;\t\r\n])(\s*)(?=[=+\-@])")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula; a patient reference typed by staff
    # must never do that (CSV injection), so each such start is marked as text with a "'".
    text = _FORMULA_START.sub(r"\1\2'", text)
    if text[:1] in ("\t", "\r"):
        return "'" + text
    return text
