"""How often each triage rule fired, month by month: alone (the only reason) or with others.

For watching the rules in use (PRODUCT.md, "Monitoring and change impact"): on the admins'
staff page (their own clinic; months in its time zone) and as `backaudit report rules` (every
clinic, or one; months in UTC). The reasons are read from each stored result as it was shown,
never evaluated again. Submissions and check-ins are counted apart, each under its
questionnaire's id. A submission replaced by a correction (a mis-tapped answer) is left out,
as in the clinic's queue: its correction counts instead.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, Final, Literal, cast

from sqlmodel import Session, col, select

from app.engine import Result
from app.models import Assessment, Checkin
from app.services.exports import csv_line_writer
from app.services.questionnaires import Registry

Kind = Literal["submissions", "check-ins"]
KINDS: Final[tuple[Kind, ...]] = ("submissions", "check-ins")


@dataclass(frozen=True, slots=True)
class RuleCount:
    code: str
    label: str  # the clinical label of the newest definition that has the rule; else the code
    alone: int  # records where it was the only reason
    with_others: int  # records where it fired with at least one other rule

    @property
    def total(self) -> int:
        return self.alone + self.with_others


@dataclass(frozen=True, slots=True)
class Month:
    """One questionnaire's records in one calendar month, and the rules that fired in them."""

    kind: Kind
    questionnaire_id: str
    month: date  # its first day
    records: int
    no_rule: int  # records where no rule fired
    rules: tuple[RuleCount, ...]  # most urgent first, as the newest definition ranks them


@dataclass(frozen=True, slots=True)
class RuleReport:
    months: tuple[Month, ...]  # submissions first, then check-ins; each oldest month first

    def of_kind(self, kind: Kind) -> list[Month]:
        return [m for m in self.months if m.kind == kind]


def rule_report(
    session: Session,
    registry: Registry,
    *,
    clinic_id: uuid.UUID | None = None,
    since: date | None = None,
    zone: tzinfo = UTC,
) -> RuleReport:
    """Every record's reasons counted by kind, questionnaire, month and rule. ``clinic_id``:
    that clinic's records only (None: every record, with a clinic or without); ``since``:
    records from the start of that day on; ``zone``: where a month (and that day) begins."""
    tally = _Tally(zone)
    start = None if since is None else datetime.combine(since, time(), zone)
    for qid, created_at, result in _submissions(session, clinic_id, start):
        tally.add("submissions", qid, created_at, result)
    for qid, created_at, result in _checkins(session, clinic_id, start):
        tally.add("check-ins", qid, created_at, result)
    return tally.report(registry)


_BATCH: Final = 500  # rows fetched at a time: only the reasons are kept, never the results


_Row = tuple[str, datetime, Result]


def _rows(rows: Iterable[tuple[str, datetime, Mapping[Any, Any]]]) -> Iterable[_Row]:
    # SQLModel's select() types a column of TypedDict as a Mapping: the stored result it is.
    return cast("Iterable[_Row]", rows)


def _submissions(
    session: Session, clinic_id: uuid.UUID | None, start: datetime | None
) -> Iterator[_Row]:
    query = select(Assessment.questionnaire_id, Assessment.created_at, Assessment.result).where(
        col(Assessment.replaced_by_id).is_(None)
    )
    if clinic_id is not None:
        query = query.where(col(Assessment.clinic_id) == clinic_id)
    if start is not None:
        query = query.where(col(Assessment.created_at) >= start)
    yield from _rows(session.exec(query.execution_options(yield_per=_BATCH)))


def _checkins(
    session: Session, clinic_id: uuid.UUID | None, start: datetime | None
) -> Iterator[_Row]:
    query = select(Checkin.questionnaire_id, Checkin.created_at, Checkin.result)
    if clinic_id is not None:
        # A check-in belongs to its submission's clinic.
        query = query.join(Assessment, col(Assessment.id) == col(Checkin.assessment_id)).where(
            col(Assessment.clinic_id) == clinic_id
        )
    if start is not None:
        query = query.where(col(Checkin.created_at) >= start)
    yield from _rows(session.exec(query.execution_options(yield_per=_BATCH)))


def reason_codes(result: Result) -> list[str]:
    """The codes of a stored result's reasons (every rule that fired), in its own order."""
    return [reason["code"] for reason in result["triage"]["reasons"]]


class _Tally:
    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.records: Counter[tuple[Kind, str, date]] = Counter()
        self.no_rule: Counter[tuple[Kind, str, date]] = Counter()
        self.alone: dict[tuple[Kind, str, date], Counter[str]] = {}
        self.with_others: dict[tuple[Kind, str, date], Counter[str]] = {}

    def add(self, kind: Kind, qid: str, created_at: datetime, result: Result) -> None:
        local = created_at.astimezone(self.zone)
        key = (kind, qid, date(local.year, local.month, 1))
        self.records[key] += 1
        codes = set(reason_codes(result))
        if not codes:
            self.no_rule[key] += 1
        counts = self.alone if len(codes) == 1 else self.with_others
        counts.setdefault(key, Counter()).update(codes)

    def report(self, registry: Registry) -> RuleReport:
        ranked = {qid: _rule_labels(registry, qid) for _, qid, _ in self.records}
        months = []
        for key in sorted(self.records, key=lambda k: (KINDS.index(k[0]), k[1], k[2])):
            kind, qid, month = key
            alone = self.alone.get(key, Counter())
            with_others = self.with_others.get(key, Counter())
            labels, order = ranked[qid]
            rules = tuple(
                RuleCount(code, labels.get(code, code), alone[code], with_others[code])
                for code in sorted(
                    alone.keys() | with_others.keys(), key=lambda c: (order.get(c, len(order)), c)
                )
            )
            months.append(Month(kind, qid, month, self.records[key], self.no_rule[key], rules))
        return RuleReport(tuple(months))


def _rule_labels(registry: Registry, qid: str) -> tuple[dict[str, str], dict[str, int]]:
    """Each rule's clinical label and its place (most urgent first), from the newest version
    that has the rule: a rule an older version had keeps its own words."""
    labels: dict[str, str] = {}
    order: dict[str, int] = {}
    for q in reversed(registry.versions(qid)):
        for rule in sorted(q.rules, key=lambda r: r.rank):
            labels.setdefault(rule.code, rule.clinician or rule.message)
            order.setdefault(rule.code, len(order))
    return labels, order


CSV_COLUMNS: Final = (
    "kind",
    "questionnaire_id",
    "month",
    "records",
    "no_rule",
    "rule",
    "alone",
    "with_others",
    "total",
)
"""One row per kind, questionnaire, month and rule that fired; a month where none fired has
one row with the rule empty (so its records are still counted)."""


def csv_lines(report: RuleReport) -> Iterator[str]:
    """The report as CSV lines, every cell quoted and safe for spreadsheets."""
    line = csv_line_writer()
    yield line(CSV_COLUMNS)
    for m in report.months:
        first = (m.kind, m.questionnaire_id, f"{m.month:%Y-%m}", m.records, m.no_rule)
        for r in m.rules:
            yield line((*first, r.code, r.alone, r.with_others, r.total))
        if not m.rules:
            yield line((*first, "", 0, 0, 0))


def month_name(month: date) -> str:
    """ "November 2026"."""
    return month.strftime("%B %Y")


def months_back(today: date, count: int) -> date:
    """The first day of the month ``count - 1`` months before ``today``'s: the start of the
    last ``count`` calendar months, this one included."""
    index = today.year * 12 + today.month - 1 - (count - 1)
    return date(index // 12, index % 12 + 1, 1)


def newest_first(months: Iterable[Month]) -> Sequence[Month]:
    return sorted(months, key=lambda m: m.month, reverse=True)
