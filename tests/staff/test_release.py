"""Release after review (2.1): clinic staff release the exercise programme on a see-a-doctor
submission (app/services/release.py, POST /staff/assessments/{id}/release); the person answers
the "before you exercise" questions at their private link (app/web/release.py), then gets the
plan, with step gating, and check-ins due 2, 4 and 8 weeks after the release. The level and
the reasons never change.

Times are the app's clock's (the ``clock`` fixture), never the calendar's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.engine import AnswerError
from app.models import Assessment, AuditEvent, Clinic, StaffUser
from app.services import checkin_dates, checkins
from app.services import release as release_service
from app.services.questionnaires import Registry
from tests.api.conftest import make_key
from tests.fixtures import (
    ADDED_IN_2_1,
    EXAMPLE_ANSWERS,
    SAFETY_ALL_NO,
    TestClock,
    checkin_answers,
    record_assessment,
)
from tests.staff.conftest import MakeStaff, SignedInClient, csrf
from tests.web.helpers import csrf_of, form_fields

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RELEASED_ON = T0 + timedelta(days=10)
# The "before you exercise" questions: never asked at see-a-doctor, asked after a release.
MOVEMENT = (
    "joint_problems", "falls_or_unsteady", "hypermobile", "hip_replacement", "hip_precautions",
    "knee_replacement", "squat_check", "bridge_check", "hang_check", "sides_differ",
)  # fmt: skip
LIFESTYLE = {k: v for k, v in EXAMPLE_ANSWERS.items() if k not in MOVEMENT}
SEE_DOCTOR = {**LIFESTYLE, "pregnant": True}  # pregnancy: a reason a clinician may clear
URGENT = {**LIFESTYLE, "fever": True}
EMERGENCY = {**SAFETY_ALL_NO, "saddle_numbness": True}


def registry_of(app: FastAPI) -> Registry:
    found: Registry = app.state.registry
    return found


def submit(
    app: FastAPI, db: Session, clinic: Clinic, answers: dict[str, Any], **options: Any
) -> tuple[Assessment, str]:
    """A clinic's submission stored at T0, and its private result path."""
    recorded = record_assessment(
        db,
        registry_of(app).default,
        answers,
        channel="intake",
        clinic_id=clinic.id,
        now=T0,
        **options,
    )
    db.commit()
    return db.get_one(Assessment, recorded.id), f"/result/{recorded.result_token}"


def release(browser: TestClient, assessment: Assessment, **form: str) -> Any:
    data = {"confirm": "yes", "csrf_token": csrf(browser)} | form
    return browser.post(
        f"/staff/assessments/{assessment.id}/release", data=data, follow_redirects=False
    )


def reread(db: Session, assessment: Assessment) -> Assessment:
    db.expire_all()
    return db.get_one(Assessment, assessment.id)


def released_events(db: Session) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == "assessment.released")))


# -- the service ------------------------------------------------------------------------------------


def test_only_a_complete_see_a_doctor_submission_not_yet_released_may_be_released(
    app: FastAPI, db: Session, clinic: Clinic, make_staff: MakeStaff
) -> None:
    registry = registry_of(app)
    staff = make_staff(clinic)
    see_doctor, _ = submit(app, db, clinic, SEE_DOCTOR)
    urgent, _ = submit(app, db, clinic, URGENT)
    emergency, _ = submit(app, db, clinic, EMERGENCY)
    self_care, _ = submit(app, db, clinic, EXAMPLE_ANSWERS)
    stopped, _ = submit(app, db, clinic, {**SAFETY_ALL_NO, "pregnant": True}, allow_incomplete=True)
    assert stopped.triage_level == "see_doctor"
    assert not stopped.complete

    assert release_service.why_not_releasable(registry, see_doctor) is None
    for other in (urgent, emergency, self_care):
        assert "Only a submission whose advice is to book an appointment" in str(
            release_service.why_not_releasable(registry, other)
        )
    assert "stopped before the end" in str(release_service.why_not_releasable(registry, stopped))

    release_service.release(db, registry, see_doctor, by=staff, now=RELEASED_ON)
    db.commit()
    again = reread(db, see_doctor)
    assert again.released_at == RELEASED_ON
    assert again.released_by_id == staff.id
    assert again.result["release"] == {"by": staff.email, "at": "2026-03-12T09:00:00Z"}
    with pytest.raises(release_service.ReleaseNotPossibleError, match="released already"):
        release_service.release(db, registry, again, by=staff, now=RELEASED_ON)


def test_the_questions_after_a_release_are_stored_page_by_page_then_the_plan_is_made(
    app: FastAPI, db: Session, clinic: Clinic, make_staff: MakeStaff
) -> None:
    registry = registry_of(app)
    assessment, _ = submit(app, db, clinic, SEE_DOCTOR)
    triage = assessment.result["triage"]
    release_service.release(db, registry, assessment, by=make_staff(clinic), now=RELEASED_ON)
    db.commit()
    assert release_service.awaits_answers(assessment)
    released = reread(db, assessment).result["release"]

    first = {"joint_problems": ["none"], "falls_or_unsteady": False, "hypermobile": False}
    after = release_service.answer(db, registry, assessment.id, first, now=RELEASED_ON)
    db.commit()
    assert not after.complete
    stored = reread(db, assessment)
    assert {k: stored.answers[k] for k in first} == first
    assert stored.result["plan"] is None

    rest = {
        "squat_check": "with_support",
        "bridge_check": "two_leg_easy",
        "hang_check": "under_20_s",
        "sides_differ": False,
    }
    with pytest.raises(AnswerError):
        release_service.answer(db, registry, assessment.id, {"squat_check": "maybe"}, now=T0)
    db.rollback()
    after = release_service.answer(db, registry, assessment.id, rest, now=RELEASED_ON)
    db.commit()
    assert after.complete
    done = reread(db, assessment)
    assert done.result["plan"] is not None
    assert done.result["triage"] == triage  # level and reasons as they were
    assert done.result["release"] == released
    assert done.triage_level == "see_doctor"
    with pytest.raises(release_service.ReleaseNotPossibleError):
        release_service.answer(db, registry, assessment.id, {}, now=RELEASED_ON)


# -- the staff route --------------------------------------------------------------------------------


def test_staff_release_a_see_a_doctor_submission_after_confirming(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient, clock: TestClock
) -> None:
    assessment, _ = submit(app, db, clinic, SEE_DOCTOR)
    browser = signed_in(clinic)
    page = browser.get(f"/staff/assessments/{assessment.id}").text
    assert f'action="/staff/assessments/{assessment.id}/release"' in page
    assert 'name="confirm" value="yes" required' in page

    # Without the box ticked: refused, nothing changed.
    refused = release(browser, assessment, confirm="")
    assert refused.status_code == 400
    assert "Tick the box" in refused.text
    assert reread(db, assessment).released_at is None

    clock.set(RELEASED_ON)
    response = release(browser, assessment)
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/assessments/{assessment.id}#release"
    after = reread(db, assessment)
    staff: StaffUser = browser.staff_user  # type: ignore[attr-defined]
    assert after.released_by_id == staff.id
    assert after.released_at is not None
    assert RELEASED_ON <= after.released_at < RELEASED_ON + timedelta(minutes=5)  # the app's clock
    made = after.result.get("release")
    assert made is not None
    assert made["by"] == staff.email
    assert (after.triage_level, after.result["triage"]) == (
        "see_doctor",
        assessment.result["triage"],
    )
    [event] = released_events(db)
    assert (event.actor_id, event.target_id, event.clinic_id) == (
        staff.id,
        str(assessment.id),
        clinic.id,
    )
    shown = browser.get(f"/staff/assessments/{assessment.id}").text
    assert f"Programme released after review by {staff.email}" in shown
    assert "has not yet answered the" in shown
    assert 'name="confirm"' not in shown

    # Twice: refused.
    twice = release(browser, assessment)
    assert twice.status_code == 409
    assert "released already" in twice.text
    assert len(released_events(db)) == 1


@pytest.mark.parametrize(
    "answers", [URGENT, EMERGENCY, EXAMPLE_ANSWERS], ids=["urgent", "emergency", "self_care"]
)
def test_a_submission_at_another_level_is_refused_and_nothing_changes(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient, answers: dict[str, Any]
) -> None:
    assessment, _ = submit(app, db, clinic, answers)
    browser = signed_in(clinic)
    assert 'name="confirm"' not in browser.get(f"/staff/assessments/{assessment.id}").text

    response = release(browser, assessment)

    assert response.status_code == 409
    after = reread(db, assessment)
    assert (after.released_at, after.released_by_id) == (None, None)
    assert after.result == assessment.result
    assert released_events(db) == []


def test_an_unfinished_submission_is_refused(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    stopped, _ = submit(app, db, clinic, {**SAFETY_ALL_NO, "pregnant": True}, allow_incomplete=True)
    browser = signed_in(clinic)
    page = browser.get(f"/staff/assessments/{stopped.id}").text
    assert "The programme cannot be released: the person stopped before the end" in page
    response = release(browser, stopped)
    assert response.status_code == 409
    assert reread(db, stopped).released_at is None


def test_a_see_a_doctor_submission_of_2_0_0_cannot_be_released(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    old = registry_of(app).exact("low-back-audit", "2.0.0")
    recorded = record_assessment(
        db,
        old,
        {k: v for k, v in SEE_DOCTOR.items() if k not in ADDED_IN_2_1},
        channel="intake",
        clinic_id=clinic.id,
        now=T0,
    )
    db.commit()
    assessment = db.get_one(Assessment, recorded.id)
    assert assessment.triage_level == "see_doctor"
    response = release(signed_in(clinic), assessment)
    assert response.status_code == 409
    assert "version 2.0.0, which has no release after review" in response.text
    assert reread(db, assessment).released_at is None


def test_another_clinics_submission_is_not_found(
    app: FastAPI, db: Session, clinic: Clinic, other_clinic: Clinic, signed_in: SignedInClient
) -> None:
    theirs, _ = submit(app, db, other_clinic, SEE_DOCTOR)
    response = release(signed_in(clinic), theirs)
    assert response.status_code == 404
    assert reread(db, theirs).released_at is None
    assert released_events(db) == []


def test_a_release_needs_the_forms_csrf_token(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    assessment, _ = submit(app, db, clinic, SEE_DOCTOR)
    browser = signed_in(clinic)
    url = f"/staff/assessments/{assessment.id}/release"
    assert browser.post(url, data={"confirm": "yes"}).status_code == 403
    assert browser.post(url, data={"confirm": "yes", "csrf_token": "forged"}).status_code == 403
    assert reread(db, assessment).released_at is None


# -- the person's pages -------------------------------------------------------------------------------


def answer_page(client: TestClient, url: str, answers: dict[str, Any]) -> Any:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(
        url, data={**form_fields(answers), "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )


def test_after_a_release_the_person_answers_then_gets_a_gated_plan_and_check_ins(
    app: FastAPI,
    db: Session,
    clinic: Clinic,
    client: TestClient,
    signed_in: SignedInClient,
    clock: TestClock,
) -> None:
    assessment, result_path = submit(app, db, clinic, SEE_DOCTOR)
    questions = f"{result_path}/before-you-exercise"
    assert client.get(questions).status_code == 404  # not released
    assert "Answer the questions and see your plan" not in client.get(result_path).text

    clock.set(RELEASED_ON)
    browser = signed_in(clinic)
    assert release(browser, assessment).status_code == 303
    released_at = reread(db, assessment).released_at
    assert released_at is not None
    staff: StaffUser = browser.staff_user  # type: ignore[attr-defined]

    page = client.get(result_path).text
    assert "Your clinic has released the exercise programme" in page
    assert f'href="{questions}"' in page
    assert staff.email in page
    not_yet = client.get(f"{result_path}/checkin")  # no plan yet: no check-in form
    assert not_yet.status_code == 200
    assert "Answer its questions on your result page to see your plan." in not_yet.text
    assert 'name="pain_now"' not in not_yet.text

    # The first page: sent empty, every field is named.
    first = client.get(questions)
    assert "Before you exercise, page 1<" in first.text
    empty = client.post(questions, data={"csrf_token": csrf_of(first.text)}, follow_redirects=False)
    assert empty.status_code == 422
    for field in ("joint_problems", "falls_or_unsteady", "hypermobile"):
        assert f'href="#{field}' in empty.text
    assert reread(db, assessment).answers.keys().isdisjoint(MOVEMENT)

    # A new hip, with movements to avoid: page by page, each stored as it is sent.
    sent = answer_page(
        client,
        questions,
        {"joint_problems": ["hip"], "falls_or_unsteady": False, "hypermobile": False},
    )
    assert (sent.status_code, sent.headers["location"]) == (303, questions)
    assert reread(db, assessment).answers["joint_problems"] == ["hip"]
    assert reread(db, assessment).result["plan"] is None
    wrong = answer_page(client, questions, {"hip_replacement": "yesterday"})
    assert wrong.status_code == 422
    assert 'href="#hip_replacement' in wrong.text
    for answers in (
        {"hip_replacement": "under_12_weeks"},
        {"hip_precautions": True},
        {"squat_check": "with_support"},
        {"bridge_check": "two_leg_easy"},
        {"hang_check": "under_20_s"},
    ):
        sent = answer_page(client, questions, answers)
        assert (sent.status_code, sent.headers["location"]) == (303, questions), answers
    last = answer_page(client, questions, {"sides_differ": False})
    assert (last.status_code, last.headers["location"]) == (303, f"{result_path}#plan")
    # Answered already (a second tab, or Back): the link leads to the plan.
    again = client.get(questions, follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, f"{result_path}#plan")

    done = reread(db, assessment)
    result = done.result
    # The level and the reasons stay; the plan leaves out what may not suit a new hip.
    assert done.triage_level == "see_doctor"
    assert result["triage"] == assessment.result["triage"]
    assert [r["code"] for r in result["triage"]["reasons"]] == ["pregnancy"]
    made = result.get("release")
    assert made is not None
    assert made["by"] == staff.email
    plan = result["plan"]
    assert plan is not None
    assert set(plan["dropped"]) == {"hip_rotation", "squat_mobility"}
    assert any("surgical team" in advice for advice in plan["advice"])
    bridge = next(b for b in plan["blocks"] if b["code"] == "hip_bridge")
    assert not next(s for s in bridge["steps"] if s["code"] == "figure_4")["allowed"]

    page = client.get(result_path).text
    assert 'id="this-week"' in page
    assert "Programme released after review by" in page
    assert "Book an appointment before you start" in page  # the advice still leads
    # ...but the page does not tell them not to start the exercises a clinician released.
    assert "Do not start new exercises until a doctor has checked you" not in page
    assert "Talk about these with your doctor." in page
    # Check-ins, due 2, 4 and 8 weeks after the release (not the submission).
    assert f"{(released_at + timedelta(weeks=2)):%-d %B %Y}" in page
    assert checkin_dates.next_due(done, []) == released_at + timedelta(weeks=2)
    ics = client.get(f"{result_path}/checkins.ics").text
    assert [
        f"DTSTART;VALUE=DATE:{(released_at + timedelta(weeks=w)):%Y%m%d}" in ics for w in (2, 4, 8)
    ] == [True, True, True]
    assert client.get(f"{result_path}/checkin").status_code == 200

    # The API's record for the clinic shows the release.
    key = make_key(db, "clinic app", clinic.id)
    record = client.get(f"/api/v1/assessments/{assessment.id}", headers=key.headers).json()
    assert record["result"]["release"] == result["release"]
    assert record["result"]["plan"] is not None


def test_a_check_in_after_a_release_counts_from_the_release_and_a_known_pregnancy_is_no_reason(
    app: FastAPI, db: Session, clinic: Clinic, make_staff: MakeStaff
) -> None:
    registry = registry_of(app)
    assessment, _ = submit(app, db, clinic, SEE_DOCTOR)
    release_service.release(db, registry, assessment, by=make_staff(clinic), now=RELEASED_ON)
    movement = {"joint_problems": ["none"], "falls_or_unsteady": False, "hypermobile": False,
                "squat_check": "with_support", "bridge_check": "two_leg_easy",
                "hang_check": "under_20_s", "sides_differ": False}  # fmt: skip
    release_service.answer(db, registry, assessment.id, movement, now=RELEASED_ON)
    db.commit()
    assessment = reread(db, assessment)
    found = checkins.record_checkin(
        db,
        registry,
        assessment,
        checkin_answers(pregnant=True, pelvic_tilts_feel="too_easy", pelvic_tilts_days=7),
        channel="intake",
        now=RELEASED_ON + timedelta(days=3),
    )
    db.commit()
    # Pregnant at the start: the programme was released for her, so not a reason now.
    assert found.result["triage"]["level"] == "self_care"
    # Three days after the release (13 after the submission): too soon to move up.
    [tilts] = [c for c in found.result["changes"] if c["block"] == "pelvic_tilts"]
    assert tilts["to_step"] == tilts["from_step"]
    assert "less than a week ago" in tilts["why"]
    context = checkins.context_for(registry, assessment, [], {}, RELEASED_ON + timedelta(weeks=1))
    assert context["weeks_since_start"] == pytest.approx(1)
    assert context["pregnant_at_start"] is True
