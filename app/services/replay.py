"""Change impact: stored submissions triaged again under another loaded version of their
questionnaire, to show what a new version would change before it goes live (PRODUCT.md,
"Monitoring and change impact"; `backaudit replay`). It only reads: nothing is stored, and
the records stay as they are (the command's session is read-only as well).

Each record's stored answers go through the engine (``evaluate`` and ``build_result``) under
the target version, as if they had been sent to it:

- an answer to an id the target does not have, or with a value it does not accept (an option
  it removed), is dropped, and counted;
- a question the target asks that the record lacks counts as not given: the engine's own rule
  (a comparison with a missing answer is false). Such ids are reported as *missing*: the ones
  the target would ask (visible and required, given the other answers) that the record's own
  version did not ask it. A question the person was asked and left (after being told to see
  a doctor) is not the new version's doing, and is not counted;
- the level and rules *before* are the stored result's, as the person and the clinic saw them.

A submission already at the target version, and one replaced by a correction, are left out
(and counted): the first would not change, the second is not the record anyone acts on.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.engine import Questionnaire, build_result, evaluate
from app.models import Assessment
from app.services.exports import csv_line_writer
from app.services.questionnaires import Registry, UnknownQuestionnaireError
from app.services.rule_report import reason_codes

Move = Literal["up", "down", "same"]


class UnknownVersionError(LookupError):
    """The version asked for is not loaded; the message names the ones that are."""


@dataclass(frozen=True, slots=True)
class Retriaged:
    """One set of answers under the target version."""

    level: str
    rules: tuple[str, ...]  # every rule that fired, most urgent first
    dropped: tuple[str, ...]  # answer ids the target does not have, or whose value it refuses
    missing: tuple[str, ...]  # ids the target asks that the record lacks (see the docstring)


@dataclass(frozen=True, slots=True)
class Replayed:
    """One stored record, before and after."""

    id: uuid.UUID
    created_at: datetime
    clinic_id: uuid.UUID | None
    version: str  # the record's own
    level_before: str
    level_after: str
    move: Move  # up: more urgent under the target
    rules_before: tuple[str, ...]
    rules_after: tuple[str, ...]
    dropped: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def rules_added(self) -> tuple[str, ...]:
        return tuple(code for code in self.rules_after if code not in self.rules_before)

    @property
    def rules_removed(self) -> tuple[str, ...]:
        return tuple(code for code in self.rules_before if code not in self.rules_after)


@dataclass(slots=True)
class RuleChange:
    code: str
    before: int = 0
    after: int = 0
    newly: int = 0  # fires after, not before
    no_longer: int = 0  # fired before, not after


@dataclass(slots=True)
class ReplaySummary:
    """What the replay found, over every record replayed."""

    questionnaire_id: str
    to_version: str
    levels: tuple[str, ...]  # the target's level codes, most urgent first
    rule_order: tuple[str, ...]  # the target's rule codes, most urgent first
    records: int = 0
    versions: Counter[str] = field(default_factory=Counter)  # records by their own version
    already_at_target: int = 0  # left out
    replaced: int = 0  # left out: replaced by a correction
    level_table: Counter[tuple[str, str]] = field(default_factory=Counter)  # (before, after)
    moves: Counter[Move] = field(default_factory=Counter)
    rules: dict[str, RuleChange] = field(default_factory=dict)
    dropped_answers: int = 0
    records_with_dropped: int = 0
    dropped_ids: Counter[str] = field(default_factory=Counter)
    records_missing: int = 0  # records lacking at least one answer the target asks
    missing_ids: Counter[str] = field(default_factory=Counter)

    def add(self, record: Replayed) -> None:
        self.records += 1
        self.versions[record.version] += 1
        self.level_table[(record.level_before, record.level_after)] += 1
        self.moves[record.move] += 1
        for code in {*record.rules_before, *record.rules_after}:
            change = self.rules.setdefault(code, RuleChange(code))
            before, after = code in record.rules_before, code in record.rules_after
            change.before += before
            change.after += after
            change.newly += after and not before
            change.no_longer += before and not after
        if record.dropped:
            self.records_with_dropped += 1
            self.dropped_answers += len(record.dropped)
            self.dropped_ids.update(record.dropped)
        if record.missing:
            self.records_missing += 1
            self.missing_ids.update(record.missing)

    def level_codes(self) -> list[str]:
        """The target's levels, then any other level a record had (an older version's)."""
        seen = {code for pair in self.level_table for code in pair}
        return [*self.levels, *sorted(seen - set(self.levels))]

    def rule_rows(self) -> list[RuleChange]:
        """Every rule that fired before or after: the target's order, then the others."""
        order = {code: i for i, code in enumerate(self.rule_order)}
        return sorted(self.rules.values(), key=lambda r: (order.get(r.code, len(order)), r.code))


def target_version(registry: Registry, questionnaire_id: str, version: str) -> Questionnaire:
    """That loaded version, or UnknownVersionError naming the loaded ones."""
    try:
        return registry.exact(questionnaire_id, version)
    except UnknownQuestionnaireError:
        have = ", ".join(q.version for q in registry.versions(questionnaire_id)) or "none"
        raise UnknownVersionError(
            f"{questionnaire_id} has no version {version!r} loaded (loaded: {have})"
        ) from None


def replay(
    session: Session,
    registry: Registry,
    target: Questionnaire,
    *,
    from_version: str | None = None,
    clinic_id: uuid.UUID | None = None,
    since: datetime | None = None,
    each: Callable[[Replayed], object] | None = None,
) -> ReplaySummary:
    """Replay the stored submissions of ``target``'s questionnaire made with another version
    (``from_version``: that one only), oldest first; ``clinic_id``: that clinic's only;
    ``since``: made at or after it. ``each`` is called with every record as it is replayed
    (the CSV is written a row at a time). Reads only."""
    summary = ReplaySummary(
        questionnaire_id=target.id,
        to_version=target.version,
        levels=tuple(level.code for level in target.levels),
        rule_order=tuple(rule.code for rule in target.rules_by_urgency),
    )
    conditions = [col(Assessment.questionnaire_id) == target.id]
    if from_version is not None:
        conditions.append(col(Assessment.questionnaire_version) == from_version)
    if clinic_id is not None:
        conditions.append(col(Assessment.clinic_id) == clinic_id)
    if since is not None:
        conditions.append(col(Assessment.created_at) >= since)
    summary.already_at_target, summary.replaced = _left_out(session, target.version, conditions)
    ranks = _ranks(registry, target)
    own_versions: dict[str, Questionnaire | None] = {}
    for row in _rows(session, target.version, conditions):
        version = row.questionnaire_version
        if version not in own_versions:
            own_versions[version] = _loaded(registry, target.id, version)
        record = replay_record(target, own_versions[version], row, ranks)
        summary.add(record)
        if each is not None:
            each(record)
    return summary


def replay_record(
    target: Questionnaire,
    own: Questionnaire | None,
    row: Any,
    ranks: Mapping[str, int],
) -> Replayed:
    """One stored record (``row``: its id, created_at, clinic_id, questionnaire_version,
    answers and result) under ``target``; ``own``: its own version, if still loaded."""
    asked = () if own is None else {q.id for q in evaluate(own, row.answers).visible}
    after = retriage(target, row.answers, asked_before=asked)
    before = str(row.result["triage"]["level"])
    rank_before = ranks.get(before, len(ranks))
    rank_after = ranks.get(after.level, len(ranks))
    return Replayed(
        id=row.id,
        created_at=row.created_at,
        clinic_id=row.clinic_id,
        version=row.questionnaire_version,
        level_before=before,
        level_after=after.level,
        move="up" if rank_after < rank_before else "down" if rank_after > rank_before else "same",
        rules_before=tuple(reason_codes(row.result)),
        rules_after=after.rules,
        dropped=after.dropped,
        missing=after.missing,
    )


def retriage(
    target: Questionnaire, answers: Mapping[str, Any], *, asked_before: Collection[str] = ()
) -> Retriaged:
    """``answers`` under ``target``: what the engine makes of them, once the answers it cannot
    take are dropped. ``asked_before``: the ids the record's own version asked it (visible),
    which are not counted as missing."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in answers.items():
        question = target.question_by_id.get(key)
        if question is None or question.check(value)[1] is not None:
            dropped.append(key)
        else:
            kept[key] = value
    evaluation = evaluate(target, kept)
    triage = build_result(evaluation)["triage"]
    return Retriaged(
        level=triage["level"],
        rules=tuple(reason["code"] for reason in triage["reasons"]),
        dropped=tuple(dropped),
        missing=tuple(q.id for q in evaluation.missing if q.id not in asked_before),
    )


_BATCH: Final = 500  # rows fetched at a time


def _rows(session: Session, target_version: str, conditions: Sequence[Any]) -> Iterator[Any]:
    query = (
        sa_select(
            col(Assessment.id),
            col(Assessment.created_at),
            col(Assessment.clinic_id),
            col(Assessment.questionnaire_version),
            col(Assessment.answers),
            col(Assessment.result),
        )
        .where(
            *conditions,
            col(Assessment.questionnaire_version) != target_version,
            col(Assessment.replaced_by_id).is_(None),
        )
        .order_by(col(Assessment.created_at), col(Assessment.id))
    )
    yield from session.connection().execute(query.execution_options(yield_per=_BATCH))


def _left_out(session: Session, target_version: str, conditions: Sequence[Any]) -> tuple[int, int]:
    """How many records the filters match that are not replayed: (at the target version,
    replaced by a correction)."""
    at_target = col(Assessment.questionnaire_version) == target_version
    replaced = col(Assessment.replaced_by_id).is_not(None)
    counts = session.exec(
        select(
            func.sum(case((at_target & ~replaced, 1), else_=0)),
            func.sum(case((replaced, 1), else_=0)),
        ).where(*conditions)
    ).one()
    return int(counts[0] or 0), int(counts[1] or 0)


def _loaded(registry: Registry, questionnaire_id: str, version: str) -> Questionnaire | None:
    try:
        return registry.exact(questionnaire_id, version)
    except UnknownQuestionnaireError:
        return None


def _ranks(registry: Registry, target: Questionnaire) -> dict[str, int]:
    """Each level's rank (0: most urgent): the target's, and an older version's for a level
    the target does not have."""
    ranks = {level.code: level.rank for level in registry.levels}
    ranks.update({level.code: level.rank for level in target.levels})
    return ranks


# -- one CSV row per record -------------------------------------------------------------------

CSV_COLUMNS: Final = (
    "record_id",
    "created_at",
    "clinic_id",
    "clinic",
    "version_before",
    "level_before",
    "level_after",
    "moved",
    "rules_before",
    "rules_after",
    "rules_added",
    "rules_removed",
    "missing_ids",
    "dropped_ids",
)
"""Times in UTC; lists of codes or ids separated by "; "."""


def csv_lines(clinic_names: Mapping[uuid.UUID, str]) -> Callable[[Replayed | None], str]:
    """A function that makes the CSV header line (given None) or a record's line (every cell
    quoted and safe for spreadsheets, as the clinic's exports)."""
    line = csv_line_writer()

    def make(record: Replayed | None) -> str:
        if record is None:
            return line(CSV_COLUMNS)
        return line(
            (
                record.id,
                record.created_at.isoformat(timespec="seconds"),
                record.clinic_id or "",
                clinic_names.get(record.clinic_id, "") if record.clinic_id else "",
                record.version,
                record.level_before,
                record.level_after,
                record.move,
                "; ".join(record.rules_before),
                "; ".join(record.rules_after),
                "; ".join(record.rules_added),
                "; ".join(record.rules_removed),
                "; ".join(record.missing),
                "; ".join(record.dropped),
            )
        )

    return make
