"""Check-in 1.1.0 through the service (app/services/checkins.py) and the API: the context the
app gives it (baselines from the audit, the last check-in's global change), a week on a step
before a step up, what a rise in pain, a new pregnancy or a warning sign does to the plan.

Every time is the test's: the assessment is stored at T0 and each check-in at a day after it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.engine import CheckinResult, Plan
from app.models import Assessment
from app.services import checkin_history, checkins
from app.services.checkins import RecordedCheckin
from app.services.questionnaires import Registry
from tests.api.conftest import make_key
from tests.fixtures import (
    CHECKIN_BLOCKS,
    EXAMPLE_ANSWERS,
    V2_ANSWERS,
    TestClock,
    checkin_answers,
    count_decoded_results,
    count_evaluations,
    record_assessment,
)
from tests.support.results import plan_of, start_of

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
# EXAMPLE_ANSWERS: pain_intensity 4, peg_enjoyment 3, peg_activity 4: the baseline PEG is 11/3.
BASELINE_PEG = (4 + 3 + 4) / 3


def stored(db: Session, registry: Registry, **changes: Any) -> Assessment:
    """A self-care assessment of 2.1.0 stored at T0."""
    recorded = record_assessment(
        db, registry.default, {**EXAMPLE_ANSWERS, **changes}, channel="web", now=T0
    )
    db.commit()
    return db.get_one(Assessment, recorded.id)


def check_in(
    db: Session, registry: Registry, assessment: Assessment, at: timedelta, **changes: Any
) -> RecordedCheckin:
    found = checkins.record_checkin(
        db, registry, assessment, checkin_answers(**changes), channel="web", now=T0 + at
    )
    db.commit()
    return found


def codes(found: RecordedCheckin) -> list[str]:
    return [r["code"] for r in found.result["triage"]["reasons"]]


def steps(plan: Plan | None) -> dict[str, str]:
    """Each block's current step code (or "paused")."""
    assert plan is not None
    return {
        b["code"]: "paused" if b.get("paused") else b["steps"][start_of(b)]["code"]
        for b in plan["blocks"]
    }


def all_too_easy() -> dict[str, Any]:
    return {
        **{f"{b}_feel": "too_easy" for b in CHECKIN_BLOCKS},
        **{f"{b}_days": 7 for b in CHECKIN_BLOCKS},
    }


# -- the baselines --------------------------------------------------------------------------------


def test_the_context_comes_from_the_audit_and_the_last_check_in(
    db: Session, registry: Registry
) -> None:
    assessment = stored(db, registry, age=67, pregnant=False, osteoporosis_or_steroids=False)
    first = check_in(db, registry, assessment, 8 * DAY, global_change="a_little_worse")
    found = checkin_history.list_checkins(db, assessment.id)
    context = checkins.context_for(registry, assessment, found, checkin_answers(), T0 + 15 * DAY)
    assert context["baseline_peg"] == pytest.approx(BASELINE_PEG)
    assert context["baseline_pain"] == 4
    assert context["previous_global_change"] == "a_little_worse"
    assert (context["age"], context["pregnant_at_start"]) == (67, False)
    assert context["osteoporosis_or_steroids"] is False
    assert context["weeks_since_start"] == pytest.approx(15 / 7)
    assert first.result["questionnaire"]["version"] == "1.1.0"
    # At the first check-in there is no previous one.
    assert checkins.context_for(registry, assessment, [], {}, T0)["previous_global_change"] is None


@pytest.mark.parametrize(
    ("peg_items", "fires"),
    [
        ((2, 2, 3), False),  # PEG 2.3: improved by 30 % or more from 3.7
        ((4, 3, 4), True),  # unchanged
    ],
    ids=["improved_30_percent", "unchanged"],
)
def test_a_first_check_in_at_3_5_weeks_is_not_improving_only_without_a_30_percent_gain(
    db: Session, registry: Registry, peg_items: tuple[int, int, int], fires: bool
) -> None:
    assessment = stored(db, registry)
    peg_pain, enjoyment, activity = peg_items
    found = check_in(
        db, registry, assessment, timedelta(weeks=3.5),
        global_change="same", peg_pain=peg_pain, peg_enjoyment=enjoyment, peg_activity=activity,
    )  # fmt: skip
    # The baseline is the audit's own PEG (2.1.0), not this check-in's: a first check-in can
    # be "not improving".
    assert ("not_improving" in codes(found)) is fires
    assert found.result["triage"]["level"] == ("see_doctor" if fires else "self_care")
    start = found.result["trend"][0]
    assert start["peg"] == round(BASELINE_PEG, 1)
    assert "provisional" not in start


def test_not_improving_waits_for_3_5_weeks(db: Session, registry: Registry) -> None:
    assessment = stored(db, registry)
    found = check_in(db, registry, assessment, timedelta(weeks=3.4), global_change="same",
                     peg_pain=4, peg_enjoyment=3, peg_activity=4)  # fmt: skip
    assert "not_improving" not in codes(found)


def test_a_2_0_0_assessment_has_a_provisional_baseline_from_its_first_check_in(
    db: Session, registry: Registry
) -> None:
    old = registry.exact("low-back-audit", "2.0.0")
    recorded = record_assessment(db, old, V2_ANSWERS, channel="web", now=T0)
    db.commit()
    assessment = db.get_one(Assessment, recorded.id)
    # The audit asked only the pain (4); this check-in's enjoyment and activity stand in.
    found = check_in(db, registry, assessment, timedelta(weeks=4), global_change="same",
                     peg_pain=4, peg_enjoyment=5, peg_activity=6)  # fmt: skip
    assert found.result["questionnaire"]["version"] == "1.1.0"  # new check-ins use 1.1.0
    start = found.result["trend"][0]
    assert start == {
        "at": T0.isoformat(),
        "pain": 4,
        "pain_now": None,
        "peg": 5.0,  # (4 + 5 + 6) / 3
        "provisional": True,
    }
    assert "not_improving" in codes(found)  # 5.0 is not 30 % better than 5.0
    # Later check-ins keep the first one's stand-ins.
    rows = checkin_history.list_checkins(db, assessment.id)
    start, provisional = checkins.start_values(registry, assessment, rows, checkin_answers())
    assert (start["baseline_peg"], provisional) == (5.0, True)


def test_a_first_check_in_stopped_by_a_warning_sign_does_not_leave_a_2_0_0_baseline_empty(
    db: Session, registry: Registry
) -> None:
    old = registry.exact("low-back-audit", "2.0.0")
    recorded = record_assessment(db, old, V2_ANSWERS, channel="web", now=T0)
    db.commit()
    assessment = db.get_one(Assessment, recorded.id)
    stopped = checkins.record_checkin(
        db, registry, assessment, {"bladder_change": True}, channel="web", now=T0 + DAY
    )
    db.commit()
    assert stopped.result["triage"]["level"] == "emergency"
    # The next check-in is the first to answer enjoyment and activity: they stand in.
    found = check_in(db, registry, assessment, timedelta(weeks=4), global_change="same",
                     peg_pain=4, peg_enjoyment=5, peg_activity=6)  # fmt: skip
    assert found.result["trend"][0]["peg"] == 5.0
    assert found.result["trend"][0]["provisional"] is True
    assert "not_improving" in codes(found)


# -- the last check-in's global change --------------------------------------------------------------


def test_a_little_worse_twice_running_is_see_a_doctor(db: Session, registry: Registry) -> None:
    assessment = stored(db, registry)
    first = check_in(
        db, registry, assessment, 8 * DAY, global_change="a_little_worse", **all_too_easy()
    )
    assert first.result["triage"]["level"] == "self_care"
    # Once: nothing moves up, and the advice says what to do if it goes on.
    assert all(c["to_step"] == c["from_step"] for c in first.result["changes"])
    assert all("your pain is a little worse" in c["why"] for c in first.result["changes"])
    assert "still worse at your next check-in" in first.result["triage"]["advice"]

    second = check_in(db, registry, assessment, 15 * DAY, global_change="a_little_worse")
    assert second.result["triage"]["level"] == "see_doctor"
    assert codes(second) == ["still_a_little_worse"]
    assert second.result["plan"] is not None  # kept, with pauses only


# -- a week between steps up --------------------------------------------------------------------------


def test_a_step_up_needs_a_week_on_the_step(db: Session, registry: Registry) -> None:
    assessment = stored(db, registry)
    start = steps(assessment.result["plan"])
    too_easy = {"pelvic_tilts_feel": "too_easy", "pelvic_tilts_days": 7}

    early = check_in(db, registry, assessment, 3 * DAY, **too_easy)
    [tilts] = [c for c in early.result["changes"] if c["block"] == "pelvic_tilts"]
    assert tilts["to_step"] == tilts["from_step"] == start["pelvic_tilts"]
    assert "less than a week ago" in tilts["why"]

    moved = check_in(db, registry, assessment, 8 * DAY, **too_easy)
    assert steps(moved.result["plan"])["pelvic_tilts"] == "kneeling"
    [block] = [b for b in plan_of(moved.result)["blocks"] if b["code"] == "pelvic_tilts"]
    assert block["changed_at"] == (T0 + 8 * DAY).isoformat()

    # A day later, too easy on 7 days again: the step changed a day ago, so it stays; a block
    # whose step has not changed since the plan was made moves up.
    again = check_in(
        db,
        registry,
        assessment,
        9 * DAY,
        **too_easy,
        hip_rotation_feel="too_easy",
        hip_rotation_days=7,
    )
    after = steps(again.result["plan"])
    assert after["pelvic_tilts"] == "kneeling"
    [tilts] = [c for c in again.result["changes"] if c["block"] == "pelvic_tilts"]
    assert "less than a week ago" in tilts["why"]
    assert after["hip_rotation"] != start["hip_rotation"]


# -- pain up, a new pregnancy, a warning sign ---------------------------------------------------------


def test_pain_up_from_3_to_6_is_see_a_doctor_with_the_plan_kept_and_nothing_moved_up(
    db: Session, registry: Registry
) -> None:
    assessment = stored(db, registry, pain_intensity=3)
    found = check_in(db, registry, assessment, 8 * DAY, global_change="same",
                     peg_pain=6, pain_now=6, **all_too_easy())  # fmt: skip
    assert found.result["triage"]["level"] == "see_doctor"
    assert "pain_increased" in codes(found)
    assert found.result["plan"] is not None
    assert steps(found.result["plan"]) == steps(assessment.result["plan"])
    assert found.result["changes"] == []


def test_pain_up_by_2_at_self_care_holds_every_block(db: Session, registry: Registry) -> None:
    # 3 to 5, but the person feels better overall: not "pain increased", yet nothing moves up.
    assessment = stored(db, registry, pain_intensity=3)
    found = check_in(db, registry, assessment, 8 * DAY, global_change="better",
                     peg_pain=5, pain_now=4, **all_too_easy())  # fmt: skip
    assert found.result["triage"]["level"] == "self_care"
    assert steps(found.result["plan"]) == steps(assessment.result["plan"])
    changes = found.result["changes"]
    assert {c["block"] for c in changes} == set(CHECKIN_BLOCKS)
    assert all(
        "your pain is a little worse, so we have not moved you on" in c["why"] for c in changes
    )


def test_a_pregnancy_new_since_the_start_pauses_every_block(
    db: Session, registry: Registry
) -> None:
    assessment = stored(db, registry, pregnant=False)
    found = check_in(db, registry, assessment, 8 * DAY, pregnant=True, **all_too_easy())
    assert found.result["triage"]["level"] == "see_doctor"
    assert codes(found) == ["pregnancy"]
    assert set(steps(found.result["plan"]).values()) == {"paused"}
    assert all(c["paused"] and "midwife" in c["why"] for c in found.result["changes"])
    # Paused blocks stay paused, and are not asked about again.
    later = check_in(db, registry, assessment, 16 * DAY, pregnant=True)
    assert set(steps(later.result["plan"]).values()) == {"paused"}
    assert {f"{b}_feel" for b in CHECKIN_BLOCKS} <= set(later.result["ignored_answers"])


@pytest.mark.parametrize("sign", ["fever", "leg_weakness", "night_pain"])
def test_an_urgent_sign_at_a_check_in_gives_no_plan(
    db: Session, registry: Registry, sign: str
) -> None:
    assessment = stored(db, registry)
    found = check_in(db, registry, assessment, 8 * DAY, **{sign: True}, **all_too_easy())
    assert found.result["triage"]["level"] == "urgent"
    assert found.result["plan"] is None
    assert found.result["changes"] == []


def test_a_fall_at_65_or_over_is_urgent_and_younger_is_see_a_doctor(
    db: Session, registry: Registry
) -> None:
    older = stored(db, registry, age=70)
    found = check_in(db, registry, older, 8 * DAY, new_fall_or_injury=True)
    assert found.result["triage"]["level"] == "urgent"
    assert "new_fall_over_65" in codes(found)
    younger = stored(db, registry)
    found = check_in(db, registry, younger, 8 * DAY, new_fall_or_injury=True)
    assert found.result["triage"]["level"] == "see_doctor"
    assert codes(found) == ["new_fall_or_injury"]


# -- through the API ----------------------------------------------------------------------------------


def test_the_api_check_in_reads_the_same_context_on_the_apps_clock(
    client: TestClient, db: Session, clock: TestClock
) -> None:
    api_key = make_key(db)
    clock.set(T0)
    created = client.post(
        "/api/v1/assessments",
        json={"answers": {**EXAMPLE_ANSWERS, "pain_intensity": 3}},
        headers=api_key.headers,
    )
    assert created.status_code == 201, created.text
    url = f"/api/v1/assessments/{created.json()['id']}/checkins"
    clock.set(T0 + 8 * DAY)
    posted = client.post(
        url,
        json={"answers": checkin_answers(global_change="same", peg_pain=6, **all_too_easy())},
        headers=api_key.headers,
    )
    assert posted.status_code == 201, posted.text
    result = posted.json()["result"]
    assert result["triage"]["level"] == "see_doctor"
    assert "pain_increased" in [r["code"] for r in result["triage"]["reasons"]]
    assert result["changes"] == []
    # The trend, like with like: the weekly average (3, then 6), the pain now, the PEG.
    assert [(p["pain"], p["pain_now"]) for p in result["trend"]] == [(3, None), (6, 3)]
    # Stored at the app's clock (T0, and a moment while the test ran): the next is due 4 weeks on.
    stored_at = datetime.fromisoformat(created.json()["created_at"])
    assert T0 <= stored_at < T0 + DAY
    listed = client.get(url, headers=api_key.headers).json()
    assert datetime.fromisoformat(listed["next_due"]) == stored_at + timedelta(weeks=4)


# -- floods (issue 23): the day's limit and the same check-in again, on the test's clock ----------


def test_a_day_holds_three_check_ins_in_any_24_hours(db: Session, registry: Registry) -> None:
    assessment = stored(db, registry)
    hour = timedelta(hours=1)
    first = check_in(db, registry, assessment, DAY, pain_now=2)
    check_in(db, registry, assessment, DAY + hour, pain_now=3)
    check_in(db, registry, assessment, DAY + 5 * hour, pain_now=4)
    with pytest.raises(checkins.CheckinLimitError) as refused:
        check_in(db, registry, assessment, DAY + 6 * hour, pain_now=5)
    db.rollback()
    assert refused.value.per_day == 3
    assert refused.value.next_at == first.created_at + DAY  # the first is then a day old
    # Not by the calendar: a day after the first, one more fits; and then none again.
    check_in(db, registry, assessment, 2 * DAY, pain_now=5)
    with pytest.raises(checkins.CheckinLimitError) as again:
        check_in(db, registry, assessment, 2 * DAY + hour / 2, pain_now=6)
    assert again.value.next_at == T0 + 2 * DAY + hour  # when the second is a day old
    db.rollback()
    assert len(checkin_history.list_checkins(db, assessment.id)) == 4


def test_a_check_in_that_finds_a_warning_sign_is_stored_past_the_days_limit(
    db: Session, registry: Registry
) -> None:
    """Turned away, an app's user would not be told to get help, nor the clinic alerted."""
    assessment = stored(db, registry)
    for n in range(3):
        check_in(db, registry, assessment, DAY + timedelta(hours=n), pain_now=2 + n)
    with pytest.raises(checkins.CheckinLimitError):
        check_in(db, registry, assessment, DAY + timedelta(hours=4), pain_now=6)
    db.rollback()
    warning = check_in(db, registry, assessment, DAY + timedelta(hours=4), fever=True)
    assert not warning.replayed
    assert warning.result["triage"]["level"] in ("urgent", "emergency")
    # The same warning again within minutes is still the one stored.
    again = check_in(db, registry, assessment, DAY + timedelta(hours=4, minutes=2), fever=True)
    assert again.id == warning.id
    assert len(checkin_history.list_checkins(db, assessment.id)) == 4


def test_the_same_answers_within_the_window_are_the_same_check_in(
    db: Session, registry: Registry
) -> None:
    assessment = stored(db, registry)
    first = check_in(db, registry, assessment, DAY)
    again = check_in(db, registry, assessment, DAY + timedelta(minutes=9))
    assert (again.id, again.replayed, again.created_at) == (first.id, True, first.created_at)
    other = check_in(db, registry, assessment, DAY + timedelta(minutes=9), pain_now=4)
    assert not other.replayed
    # The newest with those answers counts: this one is 10 minutes after the first, 1 after
    # the other; the window runs from the one it would repeat.
    later = check_in(db, registry, assessment, DAY + timedelta(minutes=11))
    assert later.id not in (first.id, other.id)
    assert len(checkin_history.list_checkins(db, assessment.id)) == 3


def test_check_ins_sent_at_once_cannot_slip_past_the_limit(
    db: Session, registry: Registry, engine: Engine
) -> None:
    """Ten different check-ins from ten threads, each in its own transaction: the submission's
    row is held while the day's count is read, so exactly three are stored."""
    assessment = stored(db, registry)
    outcomes: list[str] = []
    start = threading.Barrier(10)

    def send(pain: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            start.wait()
            try:
                checkins.record_checkin(
                    session,
                    registry,
                    assessment,
                    checkin_answers(pain_now=pain),
                    channel="web",
                    now=T0 + DAY,
                )
                session.commit()
                outcomes.append("stored")
            except checkins.CheckinLimitError:
                session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=send, args=(pain,)) for pain in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["stored"] * 3
    assert len(checkin_history.list_checkins(db, assessment.id)) == 3


def test_the_callers_evaluation_is_stored_unless_a_check_in_came_in_meanwhile(
    db: Session, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    assessment = stored(db, registry)
    now = T0 + 9 * DAY
    fresh = checkins.evaluate_checkin(registry, assessment, [], checkin_answers(), now)
    worse = checkin_answers(global_change="much_worse")
    stale = checkins.evaluate_checkin(registry, assessment, [], worse, now + DAY)
    made = count_evaluations(monkeypatch)
    checkins.record_checkin(
        db, registry, assessment, checkin_answers(), evaluation=fresh, channel="web", now=now
    )
    db.commit()
    assert made == []  # the caller's, as it was
    # Another check-in is stored after this evaluation read none: its plan and global change
    # are what the next one moves on from, so it is evaluated again.
    found = checkins.record_checkin(
        db, registry, assessment, worse, evaluation=stale, channel="web", now=now + DAY,
    )  # fmt: skip
    assert made == ["low-back-checkin"]
    assert len(found.result["trend"]) == 3


def test_a_check_in_decodes_only_the_earlier_results_it_reads(
    db: Session, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest plan is all a check-in reads of the earlier results (their answers and times
    give the rest): each ~27 kB result is decoded only where it is read, so a long programme's
    check-ins do not grow dearer with every one before them. After a warning sign (no plan)
    the plan before it is the one moved on from."""
    assessment = stored(db, registry)
    too_easy = {"pelvic_tilts_feel": "too_easy", "pelvic_tilts_days": 7}
    for day in range(1, 8):
        check_in(db, registry, assessment, day * DAY, pain_now=day % 3)
    check_in(db, registry, assessment, 8 * DAY, **too_easy)
    assert check_in(db, registry, assessment, 9 * DAY, fever=True).result["plan"] is None
    db.expunge_all()  # as a new request's session: nothing read yet
    assessment = db.get_one(Assessment, assessment.id)
    decoded = count_decoded_results(monkeypatch)
    after = check_in(db, registry, assessment, 10 * DAY)
    assert steps(after.result["plan"])["pelvic_tilts"] == "kneeling"  # the day-8 step
    assert len(after.result["trend"]) == 11  # the start, nine check-ins and this one
    assert len(decoded) == 2  # the warning sign's result (no plan), then the plan before it


# -- the contract ---------------------------------------------------------------------------------


def test_stored_check_in_results_are_the_contract_with_nothing_more(
    db: Session, registry: Registry
) -> None:
    """Each check-in's result as stored (plan moved on and stamped, changes, trend), at
    self-care, see-a-doctor and urgent, and after a 2.0.0 audit (a provisional start), against
    app/engine/_contract.py: a key the service adds must be in the types."""
    contract = TypeAdapter(CheckinResult)
    assessment = stored(db, registry)
    found = [
        check_in(db, registry, assessment, 8 * DAY, **all_too_easy()),
        check_in(db, registry, assessment, 9 * DAY, pregnant=True),
        check_in(db, registry, assessment, 10 * DAY, fever=True),
    ]
    old = registry.exact("low-back-audit", "2.0.0")
    recorded = record_assessment(db, old, V2_ANSWERS, channel="web", now=T0)
    db.commit()
    found.append(check_in(db, registry, db.get_one(Assessment, recorded.id), 8 * DAY))
    levels = [each.result["triage"]["level"] for each in found]
    assert levels == ["self_care", "see_doctor", "urgent", "self_care"]
    assert any("changed_at" in block for block in plan_of(found[0].result)["blocks"])
    assert found[-1].result["trend"][0].get("provisional") is True
    follow_up = registry.follow_up(old.id)
    assert follow_up is not None
    lines = {"at", "provisional", *(line.name for line in follow_up.trend)}
    for each in found:
        contract.validate_python(each.result, strict=True, extra="forbid")
        # A trend point's other keys are the check-in definition's lines (not the types').
        assert all(set(point) <= lines for point in each.result["trend"])
