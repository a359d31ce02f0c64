"""The CSV exports of a clinic's filtered queue: one row per submission, or one per check-in,
with a data dictionary for each; and the line writer other reports share (every cell quoted,
none can start a formula).

Made for a spreadsheet: text is quoted and numbers are not (a measurement is its number, its
unit in the column's heading), times are ISO 8601 in the clinic's time zone, headings are short
(the dictionary says what each column holds). The answers are shown as stored, in words (a
number as the number), under today's questions: never evaluated again.
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

from app.answer_text import answer_text, show_number
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
"""The columns every export starts with (COLUMN_MEANINGS says what each holds); then one per
question of the current questionnaire, in question order (headed with its id, and its unit if
it has one), and "other_answers" for answers to questions it no longer has."""

# The data dictionary's words for the fixed columns of both exports.
COLUMN_MEANINGS: Final[dict[str, tuple[str, str]]] = {
    "id": ("text", "The submission's id"),
    "submission_id": ("text", "The submission's id"),
    "reference": ("text", "The reference the patient was given"),
    "submitted_at": ("time", "When it was sent"),
    "triage_level": ("text", "The triage level's code"),
    "triage_label": ("text", "The triage level's name"),
    "triage_reasons": ("list", 'The codes of the triage reasons, separated by "; "'),
    "triage_clinician": ("text", "The level's clinical title"),
    "triage_action": ("text", "What the clinic should do"),
    "reasons_clinician": ("list", 'Each reason in clinical words, separated by " | "'),
    "reasons_action": ("list", 'What to do about each reason, separated by " | "'),
    "contributors": ("list", "The likely contributors' codes and scores (0 to 3), code=score"),
    "contributor_labels": ("list", "The likely contributors' names and scores"),
    "complete": ("yes/no", "Whether every question was answered (no: stopped early)"),
    "channel": ("text", "How it came: intake (a link), web or api"),
    "patient_reference": ("text", "The patient reference staff gave the intake link"),
    "patient_name": ("text", "The name a reusable link's patient gave"),
    "patient_contact": ("text", "The phone number or booking reference they gave"),
    "reviewed_at": ("time", "When staff marked it reviewed"),
    "reviewed_by": ("text", "Who marked it reviewed (e-mail)"),
    "checkin_not_reviewed_at": (
        "time",
        "When the latest check-in that needs the clinic and is not reviewed yet came",
    ),
    "corrected_at": ("time", "When the person replaced it with a correction"),
    "replaces_id": ("text", "The id of the earlier submission this one corrected"),
    "checkin_id": ("text", "The check-in's id"),
    "number": ("number", "The check-in's number for its submission: 1 is the first"),
    "peg_score": ("number", "Pain, enjoyment and activity (PEG): the mean of three 0 to 10 scores"),
    "plan_changes": ("list", 'How the plan changed, per exercise block, separated by " | "'),
    "other_answers": ("list", "Answers to questions the questionnaire no longer asks, id=answer"),
}
TIME_MEANING: Final = "ISO 8601 in the clinic's time zone, with its offset from UTC"

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
    line = _line_writer(numbers_bare=True)
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
    line = _line_writer(numbers_bare=True)
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


def _heading(question: Question) -> str:
    """Short: the question's id, and its unit, so that the cells hold bare numbers."""
    return f"{question.id} ({question.unit})" if question.unit else question.id


def _answer_headings(shape: ExportShape) -> tuple[str, ...]:
    return (*(_heading(q) for q in shape.questions), "other_answers")


def _answer_cells(
    answers: dict[str, Any], shape: ExportShape, asked: Collection[str]
) -> tuple[str | float, ...]:
    """The answers as stored, in words (a number as the number), under today's questions:
    never evaluated again. An answer the question cannot read shows as stored; one to a
    question not ``asked`` (the questions' ids) any more is in "other_answers"."""
    return (
        *(_answer(q, answers[q.id]) if q.id in answers else "" for q in shape.questions),
        "; ".join(f"{k}={v}" for k, v in answers.items() if k not in asked),
    )


# -- the data dictionary ---------------------------------------------------------------------------

DICTIONARY_COLUMNS: Final = ("column", "kind", "unit", "meaning", "values")
"""One row per column of an export: its heading, the kind of value (text, number, time,
yes/no, choice, choices, list), the unit of a number, what it holds, and a choice's options."""


def dictionary_rows(fixed: Sequence[str], shape: ExportShape = ExportShape()) -> Iterator[str]:
    """The data dictionary of an export whose fixed columns are ``fixed`` (CSV_COLUMNS or
    CHECKIN_CSV_COLUMNS), as CSV lines."""
    line = _line_writer(numbers_bare=True)
    yield line(DICTIONARY_COLUMNS)
    for name in fixed:
        kind, meaning = COLUMN_MEANINGS[name]
        if kind == "time":
            meaning = f"{meaning} ({TIME_MEANING})"
        yield line((name, kind, "", meaning, ""))
    for q in shape.questions:
        yield line(
            (
                _heading(q),
                _ANSWER_KIND.get(q.type, "text"),
                q.unit or "",
                q.text,
                REASON_SEPARATOR.join(o.label for o in q.options)
                or (_range(q) if q.type in _NUMBERS else ""),
            )
        )
    kind, meaning = COLUMN_MEANINGS["other_answers"]
    yield line(("other_answers", kind, "", meaning, ""))


_NUMBERS: Final = frozenset({"integer", "number"})
_ANSWER_KIND: Final = {
    "boolean": "yes/no",
    "choice": "choice",
    "multi_choice": "choices",
    "integer": "number",
    "number": "number",
}


def _range(question: Question) -> str:
    if question.minimum is None or question.maximum is None:
        return ""
    return f"{show_number(question.minimum)} to {show_number(question.maximum)}"


# -- writing the lines ------------------------------------------------------------------------------


def _line_writer(*, numbers_bare: bool = False) -> Callable[[Sequence[Any]], str]:
    """One CSV line at a time, every text cell quoted and made safe for spreadsheets;
    ``numbers_bare``: ints and floats unquoted, so a program that types by quotes (Python's
    csv.QUOTE_NONNUMERIC, LibreOffice's "quoted field as text") reads them as numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC if numbers_bare else csv.QUOTE_ALL)

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


def _answer(question: Question, value: Any) -> str | float:
    """A number as the number (its unit is in the heading); anything else in words."""
    if question.type in _NUMBERS and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        return LINE_SEPARATOR.join(answer_text(question, value))
    except (TypeError, ValueError):
        return str(value)


# Where a spreadsheet starts a formula: at the start of the text, or of any part it may cut the
# text into (it splits on "," or ";" by locale, on some imports even inside quotes, and on tabs
# and line breaks). Excel and LibreOffice skip a leading tab or carriage return and read on
# (OWASP, CSV injection), but keep a leading space: " =1+1" stays text.
_FORMULA_START: Final = re.compile(r"(^|[,;\t\r\n])(?=[=+\-@\t\r])")
# A plain number: a spreadsheet reads it as the number, as it should ("-2", "-0.5").
_PLAIN_NUMBER: Final = re.compile(r"-?\d+(\.\d+)?")


def _cell(value: Any) -> str | int | float:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = "" if value is None else str(value)
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    # A spreadsheet runs a cell that starts like a formula; a patient reference typed by staff
    # must never do that (CSV injection). A space before it keeps it text, and keeps a phone
    # number such as "+44 7700 900123" readable (an apostrophe, the older way, shows in some
    # programs, and Excel would read "+44 7700 900123" bare as a formula).
    return _FORMULA_START.sub(r"\1 ", text)
