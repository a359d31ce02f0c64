"""Change impact (app/services/replay.py): stored 2.0.0 submissions triaged again under 2.1.0,
on records whose move is known, and without changing anything."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.models import Clinic
from app.services import replay
from app.services.questionnaires import Registry
from tests.monitoring_data import KNOWN, database_digest, day, store, v1_answers, v2_answers

# name: (level before, level after, rules before, rules after, missing ids)
EXPECTED = {
    "plain": (
        "self_care", "self_care", (), (),
        ("abdominal_pain", "seen_about_this_pain", "peg_enjoyment", "peg_activity", "hypermobile"),
    ),
    "cancer_steady_8": (
        "see_doctor", "urgent", ("cancer_history_stable", "severe_pain"),
        ("cancer_history", "severe_pain"),
        ("abdominal_pain", "recent_flare", "seen_about_this_pain", "peg_enjoyment", "peg_activity"),
    ),
    "fall_at_69": (
        "see_doctor", "urgent", ("recent_injury",), ("fragility_fracture", "recent_injury"),
        ("abdominal_pain", "peg_enjoyment", "peg_activity"),
    ),
    # An emergency stops the questions: 2.1.0 asks nothing more, so nothing is missing.
    "walking": ("urgent", "emergency", ("gait_disturbance",), ("gait_disturbance",), ()),
    "three_features": (
        "self_care", "see_doctor", (), ("inflammatory_possible",),
        ("abdominal_pain", "recent_flare", "seen_about_this_pain", "peg_enjoyment", "peg_activity"),
    ),
    "emergency": ("emergency", "emergency", ("cauda_equina_saddle",), ("cauda_equina_saddle",), ()),
    "severe": (
        "see_doctor", "see_doctor", ("severe_pain",), ("severe_pain",),
        ("abdominal_pain", "seen_about_this_pain", "peg_enjoyment", "peg_activity"),
    ),
}  # fmt: skip


def run(
    db: Session,
    registry: Registry,
    *,
    from_version: str | None = None,
    clinic_id: uuid.UUID | None = None,
    since: datetime | None = None,
) -> tuple[replay.ReplaySummary, list[replay.Replayed]]:
    """Replay under 2.1.0: the summary, and every record as it was replayed."""
    records: list[replay.Replayed] = []
    summary = replay.replay(
        db,
        registry,
        replay.target_version(registry, "low-back-audit", "2.1.0"),
        from_version=from_version,
        clinic_id=clinic_id,
        since=since,
        each=records.append,
    )
    return summary, records


def test_each_known_record_moves_as_2_1_0_says_and_the_others_stay(
    db: Session, registry: Registry
) -> None:
    ids = {
        name: store(db, registry, v2_answers(registry, **changes), at=day(n + 1))
        for n, (name, changes) in enumerate(KNOWN.items())
    }

    summary, records = run(db, registry)

    by_id = {r.id: r for r in records}
    assert [r.id for r in records] == list(ids.values())  # oldest first
    for name, (before, after, rules_before, rules_after, missing) in EXPECTED.items():
        record = by_id[ids[name]]
        assert (record.level_before, record.level_after) == (before, after), name
        assert (record.rules_before, record.rules_after) == (rules_before, rules_after), name
        assert record.missing == missing, name
        assert record.dropped == (), name
    assert [by_id[ids[n]].move for n in KNOWN] == [
        "same", "up", "up", "up", "up", "same", "same",
    ]  # fmt: skip
    assert by_id[ids["cancer_steady_8"]].rules_added == ("cancer_history",)
    assert by_id[ids["cancer_steady_8"]].rules_removed == ("cancer_history_stable",)

    assert summary.records == 7
    assert summary.moves == {"up": 4, "same": 3}
    assert summary.level_table == {
        ("self_care", "self_care"): 1,
        ("see_doctor", "urgent"): 2,
        ("urgent", "emergency"): 1,
        ("self_care", "see_doctor"): 1,
        ("emergency", "emergency"): 1,
        ("see_doctor", "see_doctor"): 1,
    }
    rules = {r.code: (r.before, r.after, r.newly, r.no_longer) for r in summary.rule_rows()}
    assert rules == {
        "cauda_equina_saddle": (1, 1, 0, 0),
        "gait_disturbance": (1, 1, 0, 0),
        "cancer_history": (0, 1, 1, 0),
        "fragility_fracture": (0, 1, 1, 0),
        "cancer_history_stable": (1, 0, 0, 1),
        "recent_injury": (1, 1, 0, 0),
        "severe_pain": (2, 2, 0, 0),
        "inflammatory_possible": (0, 1, 1, 0),
    }
    assert list(rules) == [  # the target's order: most urgent first
        "cauda_equina_saddle", "gait_disturbance", "cancer_history", "fragility_fracture",
        "cancer_history_stable", "recent_injury", "severe_pain", "inflammatory_possible",
    ]  # fmt: skip
    assert summary.records_missing == 5
    assert summary.missing_ids["abdominal_pain"] == 5
    assert summary.missing_ids["hypermobile"] == 1


def test_replaying_changes_nothing_in_the_database(
    db: Session, registry: Registry, engine: Engine
) -> None:
    for n, changes in enumerate(KNOWN.values()):
        store(db, registry, v2_answers(registry, **changes), at=day(n + 1))
    before = database_digest(engine)

    summary, _ = run(db, registry)

    db.commit()  # whatever the session might have held would be written now
    assert summary.records == len(KNOWN)
    assert database_digest(engine) == before


def test_a_question_asked_and_left_unanswered_is_not_counted_as_missing(
    db: Session, registry: Registry
) -> None:
    """A person told to see a doctor who stopped before the lifestyle questions lacks those
    under either version: only what 2.1.0 adds counts."""
    answers = v2_answers(registry, pregnant=True)
    early = {k: v for k, v in answers.items() if k not in LIFESTYLE}
    store(db, registry, early, allow_incomplete=True)

    summary, [record] = run(db, registry)

    assert (record.level_before, record.level_after) == ("see_doctor", "see_doctor")
    assert record.missing == (
        "abdominal_pain",
        "seen_about_this_pain",
        "peg_enjoyment",
        "peg_activity",
    )
    assert summary.records_missing == 1


LIFESTYLE = {
    "knows_height_weight", "height_cm", "weight_kg", "activity_minutes_week",
    "strength_days_week", "stretching_frequency", "plays_sports", "lifts_weights",
    "sleep_hours", "sleep_quality", "wakes_stiff", "sitting_hours", "sitting_breaks",
    "hunched_posture", "smoker",
}  # fmt: skip


def test_answers_the_target_does_not_have_are_dropped_and_counted(
    db: Session, registry: Registry
) -> None:
    """A 1.0.0 record: its major_trauma and leg_weakness_worsening are gone from 2.x."""
    store(db, registry, v1_answers(registry), version="1.0.0")

    summary, [record] = run(db, registry)

    assert record.version == "1.0.0"
    assert record.dropped == ("major_trauma", "leg_weakness_worsening")
    assert summary.dropped_answers == 2
    assert summary.records_with_dropped == 1
    assert summary.versions == {"1.0.0": 1}


def test_only_other_versions_are_replayed_and_replaced_records_are_left_out(
    db: Session, registry: Registry
) -> None:
    kept = store(db, registry, v2_answers(registry))
    old = store(db, registry, v2_answers(registry, saddle_numbness=True))
    store(db, registry, v2_answers(registry), replaces=old)
    store(db, registry, {**v2_answers(registry), **NEW_IN_2_1}, version="2.1.0")
    store(db, registry, v1_answers(registry), version="1.0.0")

    summary, records = run(db, registry)
    only_2_0, records_2_0 = run(db, registry, from_version="2.0.0")

    assert summary.versions == {"1.0.0": 1, "2.0.0": 2}  # kept, the correction, the 1.0.0 one
    assert kept in {r.id for r in records}
    assert old not in {r.id for r in records}
    assert (summary.already_at_target, summary.replaced) == (1, 1)
    assert {r.version for r in records_2_0} == {"2.0.0"}
    assert (only_2_0.records, only_2_0.already_at_target, only_2_0.replaced) == (2, 0, 1)


NEW_IN_2_1 = {
    "abdominal_pain": False,
    "seen_about_this_pain": True,
    "peg_enjoyment": 3,
    "peg_activity": 4,
    "hypermobile": False,
}


def test_filters_choose_the_clinic_and_the_first_day(
    db: Session, registry: Registry, clinic: Clinic
) -> None:
    early = store(db, registry, v2_answers(registry), at=day(1), clinic_id=clinic.id)
    late = store(db, registry, v2_answers(registry), at=day(20), clinic_id=clinic.id)
    store(db, registry, v2_answers(registry), at=day(20))  # no clinic

    _, of_clinic = run(db, registry, clinic_id=clinic.id)
    _, since = run(db, registry, since=day(10))
    _, both = run(db, registry, clinic_id=clinic.id, since=day(10))

    assert [r.id for r in of_clinic] == [early, late]
    assert len(since) == 2
    assert [r.id for r in both] == [late]


def test_an_unknown_version_names_the_loaded_ones(registry: Registry) -> None:
    with pytest.raises(replay.UnknownVersionError) as unknown:
        replay.target_version(registry, "low-back-audit", "9.9.9")
    assert str(unknown.value) == (
        "low-back-audit has no version '9.9.9' loaded (loaded: 1.0.0, 2.0.0, 2.1.0)"
    )
