"""The rule report (app/services/rule_report.py): each rule counted alone or with others, per
month in a given zone, per clinic or overall, submissions and check-ins apart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from app.models import Clinic
from app.services import clinics, rule_report
from app.services.questionnaires import Registry
from tests.monitoring_data import KNOWN, store, v2_answers


def counts(report: rule_report.RuleReport) -> dict[tuple[str, str], dict[str, tuple[int, int]]]:
    """{(kind, month): {rule: (alone, with others)}}"""
    return {
        (m.kind, f"{m.month:%Y-%m}"): {r.code: (r.alone, r.with_others) for r in m.rules}
        for m in report.months
    }


def test_a_rule_counts_alone_only_when_it_was_the_only_reason(
    db: Session, registry: Registry
) -> None:
    at = datetime(2026, 3, 10, tzinfo=UTC)
    store(db, registry, v2_answers(registry, pain_intensity=9), at=at)
    store(db, registry, v2_answers(registry, **KNOWN["cancer_steady_8"]), at=at)
    store(db, registry, v2_answers(registry), at=at)

    report = rule_report.rule_report(db, registry)

    [month] = report.months
    assert (month.kind, month.questionnaire_id, month.month) == (
        "submissions",
        "low-back-audit",
        date(2026, 3, 1),
    )
    assert (month.records, month.no_rule) == (3, 1)
    assert [(r.code, r.alone, r.with_others, r.total) for r in month.rules] == [
        ("cancer_history_stable", 0, 1, 1),
        ("severe_pain", 1, 1, 2),
    ]
    newest = {rule.code: rule.clinician for rule in registry.default.rules}
    assert month.rules[1].label == newest["severe_pain"]  # the newest definition's words


def test_months_begin_in_the_zone_given(db: Session, registry: Registry) -> None:
    # 31 March 23:30 UTC is already 1 April in Tokyo.
    store(
        db,
        registry,
        v2_answers(registry, pain_intensity=9),
        at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC),
    )

    in_utc = rule_report.rule_report(db, registry)
    in_tokyo = rule_report.rule_report(db, registry, zone=ZoneInfo("Asia/Tokyo"))

    assert list(counts(in_utc)) == [("submissions", "2026-03")]
    assert list(counts(in_tokyo)) == [("submissions", "2026-04")]
    assert counts(rule_report.rule_report(db, registry, since=date(2026, 4, 1))) == {}


def test_a_clinic_sees_only_its_own_records(
    db: Session, registry: Registry, clinic: Clinic
) -> None:
    other = clinics.create_clinic(db, name="Hilltop GP")
    db.commit()
    at = datetime(2026, 3, 10, tzinfo=UTC)
    store(db, registry, v2_answers(registry, pain_intensity=9), at=at, clinic_id=clinic.id)
    store(db, registry, v2_answers(registry, pregnant=True), at=at, clinic_id=other.id)
    store(db, registry, v2_answers(registry, thoracic_pain=True), at=at)  # no clinic

    mine = counts(rule_report.rule_report(db, registry, clinic_id=clinic.id))
    theirs = counts(rule_report.rule_report(db, registry, clinic_id=other.id))
    everyone = counts(rule_report.rule_report(db, registry))

    assert mine == {("submissions", "2026-03"): {"severe_pain": (1, 0)}}
    assert theirs == {("submissions", "2026-03"): {"pregnancy": (1, 0)}}
    assert everyone == {
        ("submissions", "2026-03"): {
            "thoracic_pain": (1, 0),
            "pregnancy": (1, 0),
            "severe_pain": (1, 0),
        }
    }


def test_a_replaced_submission_is_left_out(db: Session, registry: Registry) -> None:
    at = datetime(2026, 3, 10, tzinfo=UTC)
    old = store(db, registry, v2_answers(registry, saddle_numbness=True), at=at)
    store(db, registry, v2_answers(registry), at=at, replaces=old)

    [month] = rule_report.rule_report(db, registry).months

    assert (month.records, month.no_rule, month.rules) == (1, 1, ())


def test_months_back_counts_calendar_months_this_one_included() -> None:
    assert rule_report.months_back(date(2026, 12, 7), 1) == date(2026, 12, 1)
    assert rule_report.months_back(date(2026, 12, 7), 12) == date(2026, 1, 1)
    assert rule_report.months_back(date(2026, 2, 28), 3) == date(2025, 12, 1)
