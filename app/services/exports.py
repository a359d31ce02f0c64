"""The CSV exports of a clinic's filtered queue: one row per submission, or one per check-in;
and the line writer other reports share (every cell quoted, none can start a formula).

The answers are shown as stored, in words, under today's questions: never evaluated again.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Final

from sqlmodel import Session, col, select

from app.answer_text import answer_text
from app.engine import Question, Triage
from app.models import Assessment, Checkin, IntakeLink
from app.services.filters import Filters
from app.services.queue import Submission, checkin_flags, submission_query

EXPORT_LIMIT: Final = 50_000  # one export; beyond this, narrow the dates


def iter_submissions(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    filters: Filters,
    urgent: Collection[str],
    flagging: Collection[str] = (),
    zone: tzinfo = UTC,
) -> Iterator[Submission]:
    """The filtered queue, in its order, streamed: at most EXPORT_LIMIT submissions."""
    flags = checkin_flags(clinic_id, urgent, flagging)
    conditions = filters.conditions(clinic_id, flags, flagging, zone)
    query = submission_query(conditions, flags, urgent).limit(EXPORT_LIMIT)
    for row in session.exec(query.execution_options(yield_per=500)):
        yield Submission(*row)


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
    flags = checkin_flags(clinic_id, (), flagging)
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


def _triage_cells(level: str, triage: Triage, shape: ExportShape) -> tuple[str, ...]:
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
