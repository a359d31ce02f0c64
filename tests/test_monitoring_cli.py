"""`backaudit replay` and `backaudit report rules` (app/cli/reports.py): what they print,
that they change nothing (and cannot), and their one-line errors."""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.cli import main
from app.cli.reports import read_only_session
from app.config import Settings, get_settings
from app.models import Assessment, Clinic, utcnow
from app.services import checkins, clinics
from app.services.questionnaires import Registry
from tests.fixtures import checkin_answers
from tests.monitoring_data import KNOWN, database_digest, day, store, v2_answers


@pytest.fixture(autouse=True)
def use_test_database(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, db: Session
) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", settings.database.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def known_records(db: Session, registry: Registry) -> dict[str, uuid.UUID]:
    """The known 2.0.0 records, made on 1 to 7 January 2026, in KNOWN's order."""
    return {
        name: store(db, registry, v2_answers(registry, **changes), at=day(n + 1))
        for n, (name, changes) in enumerate(KNOWN.items())
    }


REPLAY_OUTPUT = """\
Replay of stored low-back-audit submissions under version 2.1.0 (read only: nothing was changed)
Chosen: every clinic, and no clinic; made at any time
Replayed: 7 (made with 2.0.0: 7)
Left out: 0 already made with 2.1.0; 0 replaced by a correction
Answers dropped (2.1.0 has no such question, or refuses the value): none
Records lacking an answer 2.1.0 asks (counted as not given): 5 of 7
  most often missing: abdominal_pain (5), peg_enjoyment (5), peg_activity (5), \
seen_about_this_pain (4), recent_flare (2), hypermobile (1)

Levels: rows before (each record's own version), columns after (2.1.0)
before \\ after  emergency  urgent  see_doctor  self_care  total
emergency               1       0           0          0      1
urgent                  1       0           0          0      1
see_doctor              0       2           1          0      3
self_care               0       0           1          1      2
total                   2       2           2          1      7
Moved up (more urgent): 4; down (less urgent): 0; unchanged: 3

Rules: records where each fired before and after (2.1.0)
rule                   before  after  newly firing  no longer firing
cauda_equina_saddle         1      1             0                 0
gait_disturbance            1      1             0                 0
cancer_history              0      1             1                 0
fragility_fracture          0      1             1                 0
cancer_history_stable       1      0             0                 1
recent_injury               1      1             0                 0
severe_pain                 2      2             0                 0
inflammatory_possible       0      1             1                 0
"""


def test_replay_prints_the_levels_and_rules_that_would_change(
    db: Session, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    known_records(db, registry)

    assert main(["replay", "--to", "2.1.0"]) == 0

    assert capsys.readouterr().out == REPLAY_OUTPUT


def test_replay_writes_one_csv_row_per_record_and_changes_nothing(
    db: Session,
    registry: Registry,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = known_records(db, registry)
    before = database_digest(engine)

    assert main(["replay", "--to", "2.1.0", "--csv", str(tmp_path / "replay.csv")]) == 0

    assert database_digest(engine) == before
    assert (
        capsys.readouterr().out
        == REPLAY_OUTPUT + f"\nOne row per record: {tmp_path / 'replay.csv'}\n"
    )
    with (tmp_path / "replay.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "record_id", "created_at", "clinic_id", "clinic", "version_before", "level_before",
        "level_after", "moved", "rules_before", "rules_after", "rules_added", "rules_removed",
        "missing_ids", "dropped_ids",
    ]  # fmt: skip
    common = "abdominal_pain; seen_about_this_pain; peg_enjoyment; peg_activity"
    flare = "abdominal_pain; recent_flare; seen_about_this_pain; peg_enjoyment; peg_activity"
    expected = {
        "plain": ["self_care", "self_care", "same", "", "", "", "", f"{common}; hypermobile"],
        "cancer_steady_8": [
            "see_doctor", "urgent", "up", "cancer_history_stable; severe_pain",
            "cancer_history; severe_pain", "cancer_history", "cancer_history_stable", flare,
        ],
        "fall_at_69": [
            "see_doctor", "urgent", "up", "recent_injury", "fragility_fracture; recent_injury",
            "fragility_fracture", "", "abdominal_pain; peg_enjoyment; peg_activity",
        ],
        "walking": [
            "urgent", "emergency", "up", "gait_disturbance", "gait_disturbance", "", "", "",
        ],
        "three_features": [
            "self_care", "see_doctor", "up", "", "inflammatory_possible",
            "inflammatory_possible", "", flare,
        ],
        "emergency": [
            "emergency", "emergency", "same", "cauda_equina_saddle", "cauda_equina_saddle",
            "", "", "",
        ],
        "severe": [
            "see_doctor", "see_doctor", "same", "severe_pain", "severe_pain", "", "", common,
        ],
    }  # fmt: skip
    assert rows[1:] == [
        [str(ids[name]), f"2026-01-0{n + 1}T09:30:00+00:00", "", "", "2.0.0", *cells, ""]
        for n, (name, cells) in enumerate(expected.items())
    ]


def test_replay_chooses_a_clinic_and_a_first_day(
    db: Session,
    registry: Registry,
    clinic: Clinic,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = clinics.create_clinic(db, name="Hilltop GP")
    db.commit()
    early = store(
        db, registry, v2_answers(registry, walking_difficulty=True), at=day(1), clinic_id=clinic.id
    )
    late = store(
        db, registry, v2_answers(registry, pain_intensity=9), at=day(20), clinic_id=clinic.id
    )
    store(db, registry, v2_answers(registry), at=day(20), clinic_id=other.id)
    store(db, registry, v2_answers(registry), at=day(20))
    out = tmp_path / "rows.csv"

    assert main(["replay", "--to", "2.1.0", "--clinic", "Riverside Physio", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Chosen: clinic Riverside Physio ({clinic.id}); made at any time\n" in printed
    assert "Replayed: 2 (made with 2.0.0: 2)\n" in printed
    rows = list(csv.reader(out.read_text().splitlines()))[1:]
    assert [row[0] for row in rows] == [str(early), str(late)]
    assert {row[3] for row in rows} == {"Riverside Physio"}

    assert main(["replay", "--to", "2.1.0", "--since", "2026-01-10", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Chosen: every clinic, and no clinic; made on or after 2026-01-10 (UTC)\n" in printed
    assert "Replayed: 3 (made with 2.0.0: 3)\n" in printed

    assert main(["replay", "--to", "2.1.0", "--clinic", str(clinic.id), "--since", "2026-01-10", "--csv", str(out)]) == 0  # fmt: skip
    assert "Replayed: 1 (made with 2.0.0: 1)\n" in capsys.readouterr().out
    assert [row[0] for row in csv.reader(out.read_text().splitlines())][1:] == [str(late)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["replay", "--to", "9.9.9"],
            "backaudit: low-back-audit has no version '9.9.9' loaded (loaded: 1.0.0, 2.0.0, 2.1.0)",
        ),
        (
            ["replay", "--to", "2.1.0", "--from", "3.0.0"],
            "backaudit: low-back-audit has no version '3.0.0' loaded (loaded: 1.0.0, 2.0.0, 2.1.0)",
        ),
        (
            ["replay", "--to", "2.1.0", "--from", "2.1.0"],
            "backaudit: --from and --to are both 2.1.0: nothing would change",
        ),
        (
            ["replay", "--to", "2.1.0", "--clinic", "Nowhere"],
            "backaudit: no clinic with id or name 'Nowhere'",
        ),
        (
            ["report", "rules", "--clinic", "Nowhere"],
            "backaudit: no clinic with id or name 'Nowhere'",
        ),
    ],
)
def test_a_problem_is_one_line_and_exit_code_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    csv_option = ["--csv"] if argv[0] == "report" else ["--csv", str(tmp_path / "rows.csv")]
    assert main([*argv, *csv_option]) == 2
    captured = capsys.readouterr()
    assert captured.err == message + "\n"
    assert captured.out == ""
    assert not (tmp_path / "rows.csv").exists()


def test_a_missing_sqlite_file_is_not_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    get_settings.cache_clear()

    assert main(["report", "rules"]) == 2

    assert (
        capsys.readouterr().err
        == f"backaudit: no database at {tmp_path / 'none.db'}; check DATABASE_URL\n"
    )
    assert not (tmp_path / "none.db").exists()


def test_the_session_of_these_commands_cannot_write(settings: Settings, db: Session) -> None:
    row = {"id": uuid.uuid4(), "name": "Sneaky", "created_at": utcnow()}
    with read_only_session() as session, pytest.raises(DBAPIError) as refused:
        session.connection().execute(insert(Clinic).values(**row))
    # SQLite: "attempt to write a readonly database"; PostgreSQL: "cannot execute INSERT in a
    # read-only transaction".
    assert re.search(r"read-?only", str(refused.value.orig))
    assert clinics.list_clinics(db) == []


RULES_OUTPUT = """\
Triage rules fired, by calendar month in UTC
Chosen: every clinic, and no clinic; made at any time
alone: the only rule that fired; with others: fired with at least one other
Submissions replaced by a correction are left out.

Submissions (low-back-audit)
2026-01: 3 submissions, 1 with no rule fired
  rule                   alone  with others  total
  cancer_history_stable      0            1      1
  severe_pain                1            1      2
2026-02: 2 submissions, 1 with no rule fired
  rule                 alone  with others  total
  cauda_equina_saddle      1            0      1

Check-ins (low-back-checkin)
2026-02: 2 check-ins, 1 with no rule fired
  rule                    alone  with others  total
  pain_worse_since_start      1            0      1
"""


CHECKIN_1_1 = {"new_leg_symptoms": False, "new_fall_or_injury": False, "pregnant": False}


def rule_records(db: Session, registry: Registry, clinic: Clinic) -> None:
    """January: self-care; severe pain alone (the clinic's); past cancer with steady severe
    pain (two rules). February: an emergency sign alone; self-care (the clinic's), with a
    check-in that says "worse" (one rule) and one that does not (none)."""
    store(db, registry, v2_answers(registry), at=day(2))
    store(db, registry, v2_answers(registry, pain_intensity=9), at=day(3), clinic_id=clinic.id)
    store(db, registry, v2_answers(registry, **KNOWN["cancer_steady_8"]), at=day(31))
    store(db, registry, v2_answers(registry, saddle_numbness=True), at=day(1, month=2))
    plan = store(db, registry, v2_answers(registry), at=day(5, month=2), clinic_id=clinic.id)
    assessment = db.get_one(Assessment, plan)
    for when, change in ((day(10, month=2), "same"), (day(20, month=2), "worse")):
        checkins.record_checkin(
            db,
            registry,
            assessment,
            checkin_answers(global_change=change, **CHECKIN_1_1),
            channel="web",
            now=when,
        )
    db.commit()


def test_report_rules_counts_each_rule_alone_and_with_others_by_month(
    db: Session, registry: Registry, clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    rule_records(db, registry, clinic)

    assert main(["report", "rules"]) == 0

    assert capsys.readouterr().out == RULES_OUTPUT


def test_report_rules_for_one_clinic_from_a_day_and_as_csv(
    db: Session, registry: Registry, clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    rule_records(db, registry, clinic)

    assert (
        main(["report", "rules", "--clinic", "Riverside Physio", "--since", "2026-01-03", "--csv"])
        == 0
    )

    assert list(csv.reader(capsys.readouterr().out.splitlines())) == [
        ["kind", "questionnaire_id", "month", "records", "no_rule", "rule", "alone", "with_others", "total"],
        ["submissions", "low-back-audit", "2026-01", "1", "0", "severe_pain", "1", "0", "1"],
        ["submissions", "low-back-audit", "2026-02", "1", "1", "", "0", "0", "0"],
        ["check-ins", "low-back-checkin", "2026-02", "2", "1", "pain_worse_since_start", "1", "0", "1"],
    ]  # fmt: skip
