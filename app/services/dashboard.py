"""A clinic's submissions: the queue staff work through, review marks and the CSV export.

Every query here takes the clinic's id and filters by it, so no page or export can reach
another clinic's rows; an id from another clinic reads as "not found".

A patient's follow-up check-ins come back to the same submission. One that did not end in
self-care (a red flag, "worse", "not improving") flags its submission like a level until staff
review the submission again: a check-in counts as reviewed when the submission's review is
newer than it. Nothing is written when a check-in arrives; the flags are read from the rows.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final

from sqlalchemy import Subquery, and_, case, exists, false, literal, not_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, or_, select

from app.answer_text import answer_text
from app.engine import Question
from app.models import Assessment, Checkin, IntakeLink, StaffUser, SubmissionSeen, utcnow
from app.services.assessments import hold, normalise_reference
from app.services.text import control_character_problem

REVIEWED_CHOICES: Final = ("all", "no", "yes")
PER_PAGE: Final = 25
EXPORT_LIMIT: Final = 50_000  # one export; beyond this, narrow the dates
NOT_URGENT: Final = 1000  # past every level's rank: the rest of the queue sorts as one group


def _unreviewed_checkin(checkin: Any = Checkin) -> ColumnElement[bool]:
    """A check-in its submission's last review has not seen (for a query joining both).
    ``checkin``: the check-in table, or an alias of it."""
    return or_(
        col(Assessment.reviewed_at).is_(None),
        checkin.created_at > col(Assessment.reviewed_at),
    )


def _not_replaced_or_unreviewed() -> ColumnElement[bool]:
    """A submission the patient corrected (a mis-tapped emergency answer) is replaced by the
    newer one; but an emergency is never taken out of the queue, the banner or a search by
    anyone but staff: the original stays, marked as corrected, until someone reviews it."""
    return or_(col(Assessment.replaced_by_id).is_(None), col(Assessment.reviewed_at).is_(None))


def _flags(clinic_id: uuid.UUID, urgent: Collection[str], flagging: Collection[str]) -> Subquery:
    """Per submission with flagged check-ins not reviewed yet: the most urgent one's rank, the
    most urgent urgent one's rank (NOT_URGENT if none) and when the latest came. A few rows: a
    clinic's flagged check-ins, found by the triage level index."""
    return (
        select(
            col(Checkin.assessment_id).label("assessment_id"),
            func.min(Checkin.triage_rank).label("rank"),
            func.min(
                case(
                    (col(Checkin.triage_level).in_(urgent), col(Checkin.triage_rank)),
                    else_=NOT_URGENT,
                )
            ).label("urgent_rank"),
            func.max(Checkin.created_at).label("at"),
        )
        .join(Assessment, col(Assessment.id) == col(Checkin.assessment_id))
        .where(
            col(Assessment.clinic_id) == clinic_id,
            col(Checkin.triage_level).in_(flagging),
            _unreviewed_checkin(),
        )
        .group_by(col(Checkin.assessment_id))
        .subquery("flags")
    )


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
        """For a query outer-joining ``flags`` (_flags) to the submissions. ``zone``: the
        clinic's, in which a day starts and ends."""
        conditions: list[ColumnElement[bool]] = [
            col(Assessment.clinic_id) == clinic_id,
            _not_replaced_or_unreviewed(),
        ]
        if self.levels:
            # Its own level, or that of a check-in not reviewed yet that flags it.
            # An alias: the check-ins export's own query is over the check-in table.
            other = aliased(Checkin)
            flagged_at_level = exists().where(
                col(other.assessment_id) == col(Assessment.id),
                col(other.triage_level).in_([lv for lv in self.levels if lv in flagging]),
                _unreviewed_checkin(other),
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


def _queue_order(urgent: Collection[str], flags: Subquery) -> list[Any]:
    """The urgent levels first, most urgent first (a person may need help today), then
    everything else together, newest first. ``urgent``: the level codes the definitions mark
    urgent. A check-in not reviewed yet counts as its submission's level and time."""
    own = (
        case(
            (col(Assessment.triage_level).in_(urgent), col(Assessment.triage_rank)),
            else_=NOT_URGENT,
        )
        if urgent
        else literal(NOT_URGENT)
    )
    flagged = func.coalesce(flags.c.urgent_rank, NOT_URGENT)
    return [
        case((flagged < own, flagged), else_=own),
        func.coalesce(flags.c.at, col(Assessment.created_at)).desc(),
        col(Assessment.id),
    ]


@dataclass(frozen=True, slots=True)
class Submission:
    assessment: Assessment
    patient_reference: str | None
    reviewed_by: str | None  # e-mail of the staff member
    reusable_link: bool = False  # came through a reusable ("poster") link: who is it?
    # A check-in not reviewed yet that needs the clinic: when the latest such came.
    flagged_at: datetime | None = None
    # The person corrected it (a mis-tapped emergency answer): when, by the newer record's time.
    corrected_at: datetime | None = None
    # It is a correction: the earlier record it replaced, when that came and at what level.
    replaces_id: uuid.UUID | None = None
    replaces_at: datetime | None = None
    replaces_level: str | None = None

    @property
    def contact_missing(self) -> bool:
        """A reusable link's submission whose sender gave no name and contact (yet)."""
        return self.reusable_link and self.assessment.patient_name is None

    @property
    def needs_review(self) -> bool:
        """Never reviewed, or a flagged check-in came after the review."""
        return self.assessment.reviewed_at is None or self.flagged_at is not None


def list_submissions(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    filters: Filters,
    urgent: Collection[str],
    flagging: Collection[str] = (),
    page: int = 1,
    zone: tzinfo = UTC,
) -> tuple[list[Submission], int]:
    """One page of the clinic's queue and the number of matching submissions. ``flagging``:
    the levels at which a check-in flags its submission (Registry.flag_codes)."""
    flags = _flags(clinic_id, urgent, flagging)
    conditions = filters.conditions(clinic_id, flags, flagging, zone)
    total = session.exec(
        select(func.count())
        .select_from(Assessment)
        .outerjoin(IntakeLink, col(IntakeLink.id) == col(Assessment.intake_link_id))
        .outerjoin(flags, flags.c.assessment_id == col(Assessment.id))
        .where(*conditions)
    ).one()
    rows = session.exec(
        _submission_query(conditions, flags, urgent).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    return [Submission(*row) for row in rows], int(total)


def iter_submissions(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    filters: Filters,
    urgent: Collection[str],
    flagging: Collection[str] = (),
    zone: tzinfo = UTC,
) -> Iterator[Submission]:
    flags = _flags(clinic_id, urgent, flagging)
    conditions = filters.conditions(clinic_id, flags, flagging, zone)
    query = _submission_query(conditions, flags, urgent).limit(EXPORT_LIMIT)
    for row in session.exec(query.execution_options(yield_per=500)):
        yield Submission(*row)


def _submission_query(
    conditions: list[ColumnElement[bool]], flags: Subquery, urgent: Collection[str] = ()
) -> Any:
    newer = aliased(Assessment, name="newer")  # the correction that replaced it
    older = aliased(Assessment, name="older")  # the record it replaced (a line has one)
    # A Submission's fields, in order.
    columns: tuple[Any, ...] = (
        Assessment,
        IntakeLink.label,
        StaffUser.email,
        func.coalesce(not_(col(IntakeLink.single_use)), false()),
        flags.c.at,
        col(newer.created_at),
        col(older.id),
        col(older.created_at),
        col(older.triage_level),
    )
    return (
        select(*columns)
        .outerjoin(IntakeLink, col(IntakeLink.id) == col(Assessment.intake_link_id))
        .outerjoin(StaffUser, col(StaffUser.id) == col(Assessment.reviewed_by_id))
        .outerjoin(flags, flags.c.assessment_id == col(Assessment.id))
        .outerjoin(newer, col(newer.id) == col(Assessment.replaced_by_id))
        .outerjoin(older, col(older.replaced_by_id) == col(Assessment.id))
        .where(*conditions)
        .order_by(*_queue_order(urgent, flags))
    )


def get_submission(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    assessment_id: str,
    flagging: Collection[str] = (),
) -> Submission | None:
    """The clinic's submission with this id, or None (also for another clinic's id)."""
    try:
        key = uuid.UUID(assessment_id)
    except ValueError:
        return None
    flags = _flags(clinic_id, (), flagging)
    conditions = [col(Assessment.clinic_id) == clinic_id, col(Assessment.id) == key]
    row = session.exec(_submission_query(conditions, flags)).first()
    return None if row is None else Submission(*row)


def count_unreviewed_urgent(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    urgent: Collection[str],
    flagging: Collection[str] = (),
) -> int:
    """Submissions at an urgent level not reviewed yet, and those an urgent check-in not
    reviewed yet flags (a red flag at a follow-up)."""
    if not urgent:
        return 0
    flags = _flags(clinic_id, urgent, flagging)
    return int(
        session.exec(
            select(func.count())
            .select_from(Assessment)
            .outerjoin(flags, flags.c.assessment_id == col(Assessment.id))
            .where(
                col(Assessment.clinic_id) == clinic_id,
                _not_replaced_or_unreviewed(),
                or_(
                    and_(
                        col(Assessment.triage_level).in_(urgent),
                        col(Assessment.reviewed_at).is_(None),
                    ),
                    flags.c.urgent_rank < NOT_URGENT,
                ),
            )
        ).one()
    )


def flagged_checkins(
    session: Session, assessments: Collection[Assessment], flagging: Collection[str]
) -> dict[uuid.UUID, Checkin]:
    """For each of these submissions, the check-in not reviewed yet that flags it (the most
    urgent; of those, the latest), if any: what the queue and the submission page show."""
    if not assessments or not flagging:
        return {}
    found: dict[uuid.UUID, Checkin] = {}
    rows = session.exec(
        select(Checkin)
        .join(Assessment, col(Assessment.id) == col(Checkin.assessment_id))
        .where(
            col(Checkin.assessment_id).in_([a.id for a in assessments]),
            col(Checkin.triage_level).in_(flagging),
            _unreviewed_checkin(),
        )
        .order_by(col(Checkin.triage_rank), col(Checkin.created_at).desc())
    )
    for checkin in rows:
        found.setdefault(checkin.assessment_id, checkin)
    return found


class NewCheckinError(Exception):
    """A check-in came after the page the review was made on: it has not been read."""


def mark_seen(
    session: Session,
    assessment_id: uuid.UUID,
    *,
    by: StaffUser,
    checkins_seen: int,
    now: datetime | None = None,
) -> None:
    """``by`` has just been shown the submission with ``checkins_seen`` check-ins: a review of
    theirs covers those. Kept on the server (one row per person and submission, written in
    one statement, so two tabs opened at once cannot clash), never taken from the browser."""
    now = now or utcnow()
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"checkins_seen": checkins_seen, "seen_at": now}
    session.execute(
        make(SubmissionSeen)
        .values(staff_user_id=by.id, assessment_id=assessment_id, **values)
        .on_conflict_do_update(index_elements=["staff_user_id", "assessment_id"], set_=values)
    )


def checkins_seen(session: Session, assessment_id: uuid.UUID, *, by: StaffUser) -> int:
    """How many check-ins ``by`` was last shown on the submission's page (0: never opened)."""
    seen = session.exec(
        select(SubmissionSeen.checkins_seen).where(
            col(SubmissionSeen.staff_user_id) == by.id,
            col(SubmissionSeen.assessment_id) == assessment_id,
        )
    ).first()
    return seen or 0


def mark_reviewed(session: Session, assessment: Assessment, *, by: StaffUser) -> None:
    """Mark the submission, and its check-ins so far, as reviewed; NewCheckinError if it has
    check-ins the reviewer's page has not shown them (as the server recorded, mark_seen)."""
    hold(session, assessment.id)  # a check-in recorded now waits, and comes after the review
    count = session.exec(
        select(func.count()).select_from(Checkin).where(col(Checkin.assessment_id) == assessment.id)
    ).one()
    if count > checkins_seen(session, assessment.id, by=by):
        raise NewCheckinError
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
    "reference",
    "submitted_at",
    "triage_level",
    "triage_label",
    "triage_reasons",
    "triage_clinician",
    "triage_action",
    "reasons_clinician",
    "reasons_action",
    "contributors",
    "contributor_labels",
    "complete",
    "channel",
    "patient_reference",
    "patient_name",
    "patient_contact",
    "reviewed_at",
    "reviewed_by",
    "checkin_not_reviewed_at",
    "corrected_at",
    "replaces_id",
)
"""The columns every export starts with ("checkin_not_reviewed_at": when the latest check-in
that needs the clinic and is not reviewed yet arrived, else empty; "corrected_at": when the
person replaced this submission with a correction; "replaces_id": the submission this one
corrected); then one per question of the current questionnaire, in question order (headed
with its text and id), and "other_answers" for answers to questions it no longer has."""

REASON_SEPARATOR: Final = " | "
LINE_SEPARATOR: Final = "; "  # between the lines of one answer (a multiple choice's options)


@dataclass(frozen=True, slots=True)
class ExportShape:
    """What the export needs besides the records: the current questionnaire's questions (its
    answer columns), the levels' readable labels, and the clinic's time zone."""

    questions: Sequence[Question] = ()
    level_label: Callable[[str], str] = str
    zone: tzinfo = UTC


def csv_export(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    filters: Filters,
    urgent: Collection[str],
    flagging: Collection[str] = (),
    shape: ExportShape = ExportShape(),
) -> list[str]:
    """The clinic's filtered queue as CSV lines. Only the lines are held, never the records:
    ~1 kB a submission, at most EXPORT_LIMIT of them."""
    submissions = iter_submissions(
        session,
        clinic_id=clinic_id,
        filters=filters,
        urgent=urgent,
        flagging=flagging,
        zone=shape.zone,
    )
    return list(csv_rows(submissions, shape))


def csv_rows(
    submissions: Iterator[Submission], shape: ExportShape = ExportShape()
) -> Iterator[str]:
    """The export, a line at a time: only the lines are held, never the records."""
    line = _line_writer()
    asked = {q.id for q in shape.questions}
    yield line((*CSV_COLUMNS, *_answer_headings(shape)))
    for s in submissions:
        a = s.assessment
        result = a.result
        contributors = result.get("contributors", [])
        yield line(
            (
                a.id,
                a.reference or "",
                _when(a.created_at, shape.zone),
                *_triage_cells(a.triage_level, result["triage"], shape),
                "; ".join(f"{c['code']}={c['score']}" for c in contributors),
                "; ".join(
                    f"{c.get('label') or c['code']}: {c['score']} of 3" for c in contributors
                ),
                "yes" if a.complete else "no",
                a.channel,
                s.patient_reference or "",
                a.patient_name or "",
                a.patient_contact or "",
                _when(a.reviewed_at, shape.zone) if a.reviewed_at else "",
                s.reviewed_by or "",
                _when(s.flagged_at, shape.zone) if s.flagged_at else "",
                _when(s.corrected_at, shape.zone) if s.corrected_at else "",
                s.replaces_id or "",
                *_answer_cells(a.answers, shape, asked),
            )
        )


CHECKIN_CSV_COLUMNS: Final = (
    "submission_id",
    "reference",
    "patient_reference",
    "checkin_id",
    "number",
    "submitted_at",
    "channel",
    "triage_level",
    "triage_label",
    "triage_reasons",
    "triage_clinician",
    "triage_action",
    "reasons_clinician",
    "reasons_action",
    "peg_score",
    "plan_changes",
)
"""The check-ins export: one row per check-in of the filtered submissions, numbered in each
submission's order; then one column per question of the check-in questionnaire."""


def checkin_csv_export(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    filters: Filters,
    flagging: Collection[str] = (),
    shape: ExportShape = ExportShape(),
) -> list[str]:
    """The check-ins of the clinic's filtered submissions as CSV lines (the filters choose the
    submissions; each comes with all its check-ins), oldest submission first."""
    flags = _flags(clinic_id, (), flagging)
    query = (
        select(Checkin, Assessment.reference, IntakeLink.label)
        .join(Assessment, col(Assessment.id) == col(Checkin.assessment_id))
        .outerjoin(IntakeLink, col(IntakeLink.id) == col(Assessment.intake_link_id))
        .outerjoin(flags, flags.c.assessment_id == col(Assessment.id))
        .where(*filters.conditions(clinic_id, flags, flagging, shape.zone))
        .order_by(col(Assessment.created_at), col(Assessment.id), col(Checkin.created_at))
        .limit(EXPORT_LIMIT)
    )
    rows = session.exec(query.execution_options(yield_per=500))
    return list(checkin_csv_rows(rows, shape))


def checkin_csv_rows(
    rows: Iterable[tuple[Checkin, str | None, str | None]], shape: ExportShape = ExportShape()
) -> Iterator[str]:
    """``rows``: (check-in, submission reference, patient reference), each submission's
    together and in order."""
    line = _line_writer()
    asked = {q.id for q in shape.questions}
    yield line((*CHECKIN_CSV_COLUMNS, *_answer_headings(shape)))
    previous, number = None, 0
    for c, reference, patient_reference in rows:
        number = number + 1 if c.assessment_id == previous else 1
        previous = c.assessment_id
        result = c.result
        trend = result.get("trend") or [{}]
        peg = trend[-1].get("peg")  # this check-in's: none after a warning sign ended it
        yield line(
            (
                c.assessment_id,
                reference or "",
                patient_reference or "",
                c.id,
                number,
                _when(c.created_at, shape.zone),
                c.channel,
                *_triage_cells(c.triage_level, result["triage"], shape),
                "" if peg is None else peg,
                REASON_SEPARATOR.join(
                    f"{change['block']}: {change['why']}" for change in result.get("changes", [])
                ),
                *_answer_cells(c.answers, shape, asked),
            )
        )


def _triage_cells(level: str, triage: dict[str, Any], shape: ExportShape) -> tuple[str, ...]:
    """triage_level, triage_label, triage_reasons, triage_clinician, triage_action,
    reasons_clinician and reasons_action, for a submission or a check-in."""
    reasons = triage["reasons"]
    return (
        level,
        shape.level_label(level),
        "; ".join(r["code"] for r in reasons),
        # The clinical texts (version 2.0.0 on). A 1.0.0 record has only the words the patient
        # was told: those, rather than nothing. The reasons' texts are in the order of their
        # codes, one for each, split by " | " (the texts use ";").
        triage.get("clinician") or triage.get("title", ""),
        triage.get("action") or "",
        REASON_SEPARATOR.join(r.get("clinician") or r.get("message", "") for r in reasons),
        REASON_SEPARATOR.join(r.get("action") or "" for r in reasons),
    )


def _answer_headings(shape: ExportShape) -> tuple[str, ...]:
    return (*(f"{q.text} ({q.id})" for q in shape.questions), "other_answers")


def _answer_cells(
    answers: dict[str, Any], shape: ExportShape, asked: Collection[str]
) -> tuple[str, ...]:
    """The answers as stored, in words, under today's questions: never evaluated again. An
    answer the question cannot read shows as stored; one to a question not ``asked`` (the
    questions' ids) any more is in "other_answers"."""
    return (
        *(_answer(q, answers[q.id]) if q.id in answers else "" for q in shape.questions),
        "; ".join(f"{k}={v}" for k, v in answers.items() if k not in asked),
    )


def _line_writer() -> Callable[[Sequence[Any]], str]:
    """One CSV line at a time, every cell quoted and made safe for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)

    def line(values: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(v) for v in values])
        return buffer.getvalue()

    return line


def csv_line_writer() -> Callable[[Sequence[Any]], str]:
    """The exports' CSV lines (every cell quoted, none can start a formula), for other reports."""
    return _line_writer()


def _when(moment: datetime, zone: tzinfo) -> str:
    """In the clinic's time zone, with its offset from UTC (so a spreadsheet can still sort)."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _answer(question: Question, value: Any) -> str:
    try:
        return LINE_SEPARATOR.join(answer_text(question, value))
    except (TypeError, ValueError):
        return str(value)


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
