"""A patient's check-ins for the clinic: on the submission page in clinical words with the trend,
and in the queue, where one that needs the clinic flags its submission like a level until staff
review it again."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import Clock, system_clock
from app.models import Assessment, Clinic, StaffUser, utcnow
from app.services import accounts, checkins
from app.services.queue import NewCheckinError, count_unreviewed_urgent, mark_reviewed, mark_seen
from tests.fixtures import V2_ANSWERS, TestClock, record_assessment
from tests.staff.conftest import SignedInClient, csrf
from tests.staff.test_dashboard import queue_ids, submit
from tests.support.answers import checkin_all_too_easy


def make_user(db: Session, clinic: Clinic) -> StaffUser:
    user, _ = accounts.create_user(
        db,
        clinic_id=clinic.id,
        email="reviewer@riverside.example",
        role="clinician",
        password="correct horse battery staple",
    )
    db.commit()
    return user


def check_in(
    app: FastAPI, db: Session, assessment: Assessment, clock: Clock = system_clock, **changes: Any
) -> None:
    answers = checkin_all_too_easy(**changes)
    checkins.record_checkin(
        db, app.state.registry, assessment, answers, channel="intake", clock=clock
    )
    db.commit()


def review(browser: Any, assessment: Assessment, **form: str) -> Any:
    data = {"reviewed": "yes", "csrf_token": csrf(browser)} | form
    return browser.post(
        f"/staff/assessments/{assessment.id}/review", data=data, follow_redirects=False
    )


def test_the_submission_page_shows_each_check_in_and_the_trend(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    assessment = submit(db, clinic, days_ago=10)  # a step up needs a week on the step
    check_in(app, db, assessment, pain_now=2, peg_pain=4, peg_enjoyment=3, peg_activity=2)
    check_in(app, db, assessment, fever=True)
    page = signed_in(clinic).get(f"/staff/assessments/{assessment.id}")
    assert page.status_code == 200
    assert "Check-ins" in page.text
    assert "Fever with back pain: possible spinal infection" in page.text  # clinical words
    assert "Hip bridge: moving on to" in page.text
    # Newest first.
    assert page.text.index("Check-in 2,") < page.text.index("Check-in 1,")
    # The chart, and a table with the same numbers, like with like (1.1): the weekly average
    # (the audit's pain_intensity 4, then peg_pain 4), the pain now (2), the PEG: at the start
    # the audit's (4+3+3)/3 = 3.3, then (4+3+2)/3 = 3.0. Staff read "PEG".
    assert '<svg class="trend__svg"' in page.text
    assert "<polyline" in page.text
    assert "Pain and PEG score over time" in page.text
    start = page.text.index('<th scope="row">Start (')
    assert "<td>4</td><td>–</td><td>3.3</td>" in page.text[start : start + 200]
    first = page.text.index('<th scope="row">Check-in 1 (')
    assert "<td>4</td><td>2</td><td>3.0</td>" in page.text[first : first + 200]


def test_a_check_in_that_is_worse_flags_a_reviewed_submission_until_it_is_reviewed_again(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    assessment = submit(db, clinic, days_ago=20)
    newer = submit(db, clinic, days_ago=1)  # newer than the patient's first submission
    browser = signed_in(clinic)
    assert review(browser, assessment).status_code == 303
    assert review(browser, newer).status_code == 303
    assert "New check-in" not in browser.get("/staff/").text

    check_in(app, db, assessment, global_change="worse")

    queue = browser.get("/staff/")
    assert "New check-in not reviewed" in queue.text
    assert "Worse since starting self-management" in queue.text
    # A new check-in counts as new: the patient comes first among the non-urgent ones.
    assert queue_ids(queue.text)[:2] == [str(assessment.id), str(newer.id)]
    assert queue_ids(browser.get("/staff/?reviewed=no").text) == [str(assessment.id)]
    assert queue_ids(browser.get("/staff/?reviewed=yes").text) == [str(newer.id)]
    assert queue_ids(browser.get("/staff/?level=see_doctor").text) == [str(assessment.id)]
    # A check-in at see-a-doctor is not urgent: no banner for it.
    assert "emergency or urgent submission" not in queue.text

    page = browser.get(f"/staff/assessments/{assessment.id}")
    assert "A check-in since then is not reviewed yet" in page.text
    assert "(not reviewed yet)" in page.text
    assert "Mark as reviewed" in page.text
    assert review(browser, assessment).status_code == 303

    queue = browser.get("/staff/")
    assert "New check-in" not in queue.text
    assert queue_ids(browser.get("/staff/?reviewed=no").text) == []
    assert queue_ids(browser.get("/staff/?level=see_doctor").text) == []
    assert "A check-in since then" not in browser.get(f"/staff/assessments/{assessment.id}").text


def test_a_check_in_that_fits_the_programme_flags_nothing(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    assessment = submit(db, clinic)
    browser = signed_in(clinic)
    review(browser, assessment)
    check_in(app, db, assessment)
    queue = browser.get("/staff/")
    assert "New check-in" not in queue.text
    assert queue_ids(browser.get("/staff/?reviewed=yes").text) == [str(assessment.id)]
    assert queue_ids(browser.get("/staff/?level=see_doctor").text) == []


def test_a_red_flag_at_a_check_in_raises_the_banner_and_sorts_first_for_its_clinic_only(
    app: FastAPI, db: Session, clinic: Clinic, other_clinic: Clinic, signed_in: SignedInClient
) -> None:
    emergency = submit(db, clinic, saddle_numbness=True, days_ago=3)
    followed = submit(db, clinic, days_ago=30)
    submit(db, other_clinic)
    browser = signed_in(clinic)
    review(browser, emergency)
    review(browser, followed)
    assert "emergency or urgent submission" not in browser.get("/staff/").text

    check_in(app, db, followed, fever=True)  # urgent

    queue = browser.get("/staff/")
    assert "1 emergency or urgent submission not reviewed yet" in queue.text
    # Most urgent first: the emergency submission, then the urgent check-in.
    assert queue_ids(queue.text)[:2] == [str(emergency.id), str(followed.id)]
    assert queue_ids(browser.get("/staff/?level=urgent").text) == [str(followed.id)]
    registry = app.state.registry
    count = count_unreviewed_urgent
    assert (
        count(db, clinic_id=clinic.id, urgent=registry.urgent_codes, flagging=registry.flag_codes)
        == 1
    )
    assert (
        count(
            db,
            clinic_id=other_clinic.id,
            urgent=registry.urgent_codes,
            flagging=registry.flag_codes,
        )
        == 0
    )
    other = signed_in(other_clinic).get("/staff/")
    assert "emergency or urgent submission" not in other.text
    assert "New check-in" not in other.text

    browser.get(f"/staff/assessments/{followed.id}")  # read, then reviewed
    review(browser, followed)
    assert "emergency or urgent submission" not in browser.get("/staff/").text


def test_a_review_does_not_cover_a_check_in_that_came_after_the_page_was_opened(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    assessment = submit(db, clinic)
    browser = signed_in(clinic)
    page = browser.get(f"/staff/assessments/{assessment.id}")
    assert "checkins_seen" not in page.text  # the server keeps what the page showed
    check_in(app, db, assessment, global_change="much_worse")  # while the page is open

    refused = review(browser, assessment)
    assert refused.status_code == 409
    assert "A check-in came after you opened this submission" in refused.text
    db.expire_all()
    stored = db.get_one(Assessment, assessment.id)
    assert stored.reviewed_at is None
    browser.get(f"/staff/assessments/{assessment.id}")  # opened again: the check-in is read
    assert review(browser, assessment).status_code == 303


def test_a_not_reviewed_submission_with_a_flagged_check_in_is_listed_once(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    assessment = submit(db, clinic)
    check_in(app, db, assessment, global_change="worse")
    check_in(app, db, assessment, fever=True)
    queue = signed_in(clinic).get("/staff/?reviewed=no")
    assert queue_ids(queue.text) == [str(assessment.id)]
    assert "1 submission" in queue.text
    # The most urgent check-in is the one the row shows.
    assert "Fever with back pain" in queue.text


def test_the_check_ins_export_has_one_row_per_check_in_for_the_clinic_only(
    app: FastAPI, db: Session, clinic: Clinic, other_clinic: Clinic, signed_in: SignedInClient
) -> None:
    first = submit(db, clinic, label="NHS 943 476 5919")
    second = submit(db, clinic)
    theirs = submit(db, other_clinic)
    check_in(app, db, first, pain_now=4)
    check_in(app, db, first, global_change="worse", pain_now=6)
    check_in(app, db, second)
    check_in(app, db, theirs)

    response = signed_in(clinic).get("/staff/export-checkins.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert {row["submission_id"] for row in rows} == {str(first.id), str(second.id)}
    mine = [row for row in rows if row["submission_id"] == str(first.id)]
    assert [row["number"] for row in mine] == ["1", "2"]
    assert mine[0]["patient_reference"] == "NHS 943 476 5919"
    assert mine[1]["triage_level"] == "see_doctor"
    assert mine[1]["triage_reasons"] == "pain_worse_since_start"
    assert mine[1]["pain_now"] == "6"
    assert mine[0]["peg_score"] == "3.0"
    assert "hip_bridge" in mine[0]["plan_changes"]
    # Filters apply to the submissions: one that does not match takes its check-ins along.
    narrowed = signed_in(clinic).get("/staff/export-checkins.csv?q=943")
    assert {
        row["submission_id"]
        for row in csv.DictReader(io.StringIO(narrowed.content.decode("utf-8-sig")))
    } == {str(first.id)}


def test_the_submission_page_offers_both_exports(
    db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    submit(db, clinic)
    page = signed_in(clinic).get("/staff/")
    assert 'href="/staff/export.csv"' in page.text
    assert 'href="/staff/export-checkins.csv"' in page.text


def test_a_check_in_at_four_weeks_that_is_not_better_flags_not_improving(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    assessment = submit(db, clinic, days_ago=35, pain_intensity=5)
    check_in(app, db, assessment, global_change="same", peg_pain=5, peg_enjoyment=5, peg_activity=5)
    queue = signed_in(clinic).get("/staff/")
    assert "Not improving at about 4 weeks or more" in queue.text


def test_the_check_ins_export_takes_the_level_filter_and_a_warning_sign_has_no_peg(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    flagged = submit(db, clinic)
    quiet = submit(db, clinic)
    check_in(app, db, flagged, pain_now=3)
    check_in(app, db, flagged, saddle_numbness=True)  # an emergency: the rest is not asked
    check_in(app, db, quiet)
    response = signed_in(clinic).get("/staff/export-checkins.csv?level=emergency")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(row["submission_id"], row["number"]) for row in rows] == [
        (str(flagged.id), "1"),
        (str(flagged.id), "2"),
    ]
    assert rows[0]["peg_score"] == "3.0"
    assert rows[1]["triage_level"] == "emergency"
    assert rows[1]["peg_score"] == ""  # its own: none, not the check-in before's


@pytest.mark.parametrize("sent", ["1", "999", "²", "-1", "x" * 10])
def test_the_browser_cannot_say_how_many_check_ins_it_showed(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient, sent: str
) -> None:
    """The page once sent back how many check-ins it showed, and the review believed it: a
    larger number marked unread check-ins as reviewed. Now the server keeps it, per person."""
    assessment = submit(db, clinic)
    browser = signed_in(clinic)
    browser.get(f"/staff/assessments/{assessment.id}")  # no check-ins yet
    check_in(app, db, assessment, global_change="worse")
    colleague = signed_in(clinic)
    colleague.get(f"/staff/assessments/{assessment.id}")  # theirs showed it: not this one's

    assert review(browser, assessment, checkins_seen=sent).status_code == 409
    db.expire_all()
    assert db.get_one(Assessment, assessment.id).reviewed_at is None
    assert review(colleague, assessment, checkins_seen="0").status_code == 303


def test_a_review_counts_the_check_ins_after_taking_the_submission(
    app: FastAPI, db: Session, clinic: Clinic
) -> None:
    """The count and the mark are one transaction that holds the submission's row, as
    recording a check-in does: a check-in the page did not show stops the review."""
    assessment = submit(db, clinic)
    staff = make_user(db, clinic)
    check_in(app, db, assessment)
    with pytest.raises(NewCheckinError):
        mark_reviewed(db, assessment, by=staff)  # never shown it
    db.rollback()
    mark_seen(db, assessment.id, by=staff, checkins_seen=1)
    mark_seen(db, assessment.id, by=staff, checkins_seen=1)  # again: one row
    mark_reviewed(db, assessment, by=staff)
    db.commit()
    assert db.get_one(Assessment, assessment.id).reviewed_at is not None


def test_the_submissions_export_says_when_a_check_in_is_waiting_for_review(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    waiting = submit(db, clinic)
    quiet = submit(db, clinic)
    browser = signed_in(clinic)
    review(browser, waiting)
    check_in(app, db, waiting, global_change="worse")
    check_in(app, db, quiet)
    rows = {
        row["id"]: row
        for row in csv.DictReader(
            io.StringIO(browser.get("/staff/export.csv").content.decode("utf-8-sig"))
        )
    }
    assert rows[str(waiting.id)]["reviewed_at"] != ""
    assert rows[str(waiting.id)]["checkin_not_reviewed_at"] != ""
    assert rows[str(quiet.id)]["checkin_not_reviewed_at"] == ""


def test_a_2_0_0_submissions_peg_baseline_is_marked_provisional_for_staff_only(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    registry = app.state.registry
    recorded = record_assessment(
        db,
        registry.exact("low-back-audit", "2.0.0"),
        V2_ANSWERS,
        channel="intake",
        clinic_id=clinic.id,
        now=utcnow() - timedelta(days=10),
    )
    db.commit()
    assessment = db.get_one(Assessment, recorded.id)
    check_in(app, db, assessment, peg_pain=4, peg_enjoyment=5, peg_activity=6)
    page = signed_in(clinic).get(f"/staff/assessments/{assessment.id}").text
    start = page.index('<th scope="row">Start (')
    # The audit's pain (4) with the first check-in's enjoyment and activity: (4 + 5 + 6) / 3.
    assert "<td>4</td><td>–</td><td>5.0 (provisional)</td>" in page[start : start + 200]
    patient = TestClient(app).get(f"/result/{recorded.result_token}").text
    assert "provisional" not in patient
    assert "PEG" not in patient


def test_a_review_is_timed_by_the_apps_clock_like_the_check_ins_it_covers(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient, clock: TestClock
) -> None:
    """Check-ins are stored at the app's clock, so a review must be too: with the clock a
    year and more behind the system's, a check-in after the review still comes after it (a
    review stamped by the system's clock hid it), and one before it is covered."""
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    assessment = submit(db, clinic)
    assessment.created_at = clock() - timedelta(days=20)
    db.add(assessment)
    db.commit()
    browser = signed_in(clinic)
    check_in(app, db, assessment, clock, global_change="worse")
    browser.get(f"/staff/assessments/{assessment.id}")  # the reviewer is shown the check-in
    clock.advance(timedelta(minutes=1))
    assert review(browser, assessment).status_code == 303
    db.refresh(assessment)
    assert assessment.reviewed_at is not None
    assert abs(assessment.reviewed_at - clock()) < timedelta(minutes=1)
    assert "New check-in" not in browser.get("/staff/").text

    clock.advance(timedelta(minutes=1))
    check_in(app, db, assessment, clock, global_change="worse", pain_now=7)
    assert "New check-in not reviewed" in browser.get("/staff/").text
