"""Stored records whose replay is known, and a fingerprint of every row, for the tests of the
rule report and `backaudit replay` (app/services/rule_report.py, app/services/replay.py)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.engine import evaluate
from app.models import Assessment, metadata
from app.services import assessments
from app.services.questionnaires import Registry
from tests.fixtures import EXAMPLE_ANSWERS, V1_ANSWERS

FROM = "2.0.0"
INFLAMMATORY_3 = ["buttock_pain", "better_with_movement", "family_history"]

# 2.0.0 answers (changes to a complete self-care set), and what 2.1.0 must make of them.
KNOWN: dict[str, dict[str, Any]] = {
    # Ordinary back pain: self-care under both.
    "plain": {},
    # Past cancer and steady 8/10 pain for over 12 weeks: 2.0.0 called it stable (see a
    # doctor); 2.1.0's cancer_history is urgent for pain of 7 or more.
    "cancer_steady_8": {
        "cancer_history": True, "pain_duration": "over_12_weeks", "pain_trend": "same",
        "pain_intensity": 8, "inflammatory_features": ["none"],
    },
    # A fall at 69 with recent pain: 2.0.0's fragility fracture began at 70, 2.1.0's at 65.
    "fall_at_69": {
        "age": 69, "onset": "fall_or_blow", "pain_duration": "under_6_weeks",
        "pain_trend": "improving",
    },
    # Walking difficulty: urgent in 2.0.0, an emergency in 2.1.0.
    "walking": {"walking_difficulty": True},
    # Exactly 3 inflammatory features: 2.1.0's inflammatory_possible (see a doctor).
    "three_features": {
        "age": 30, "pain_duration": "over_12_weeks", "inflammatory_features": INFLAMMATORY_3,
    },
    # Must not move.
    "emergency": {"saddle_numbness": True},
    "severe": {"pain_intensity": 9},
}  # fmt: skip


def v2_answers(registry: Registry, **changes: Any) -> dict[str, Any]:
    """A complete 2.0.0 self-care answer set (the shared example, less 2.1.0's questions),
    with ``changes``."""
    q = registry.exact("low-back-audit", FROM)
    return {**{k: v for k, v in EXAMPLE_ANSWERS.items() if k in q.question_by_id}, **changes}


def v1_answers(registry: Registry) -> dict[str, Any]:
    """Release 1's complete self-care answer set, as 1.0.0 asked it."""
    q = registry.exact("low-back-audit", "1.0.0")
    return {k: v for k, v in V1_ANSWERS.items() if k in q.question_by_id}


def store(
    db: Session,
    registry: Registry,
    answers: dict[str, Any],
    *,
    version: str = FROM,
    at: datetime | None = None,
    clinic_id: uuid.UUID | None = None,
    allow_incomplete: bool = False,
    replaces: uuid.UUID | None = None,
) -> uuid.UUID:
    """Store answers through the one write path under ``version``, made ``at`` (UTC)."""
    q = registry.exact("low-back-audit", version)
    recorded = assessments.record(
        db,
        evaluate(q, answers),
        channel="intake" if clinic_id else "web",
        clinic_id=clinic_id,
        allow_incomplete=allow_incomplete,
        replaces=replaces,
    )
    if at is not None:
        db.connection().execute(
            update(Assessment)
            .where(col(Assessment.id) == recorded.id)
            .values(created_at=at, updated_at=at)
        )
    db.commit()
    return recorded.id


def day(number: int, month: int = 1) -> datetime:
    return datetime(2026, month, number, 9, 30, tzinfo=UTC)


def database_digest(engine: Engine) -> str:
    """A SHA-256 of every row of every table, as the database holds it (raw: the stored bytes
    of compressed results, not what the app reads from them), in primary-key order."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
            rows = connection.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))
            digest.update(table.name.encode())
            for row in rows:
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()
