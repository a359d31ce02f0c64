"""The audit log page: what each event was about, in words, for admins."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import Assessment, AuditEvent, Clinic
from app.services import audit, checkins, intake
from app.services.api_keys import CHECKINS_WRITE
from tests.api.conftest import Key, make_key
from tests.fixtures import EXAMPLE_ANSWERS, TestClock, checkin_answers, record_assessment
from tests.staff.test_release import SEE_DOCTOR, answer_page, release
from tests.support.routes import app_routes
from tests.web.helpers import (
    EMERGENCY_PAGE,
    form_fields,
    post_page,
    run_interview,
    self_care_answers,
)
from tests.web.patient_pages import EMERGENCY

from .conftest import SignedInClient, csrf

ITEM = re.compile(r"<td>([^<]*)</td>\s*</tr>")


def items(html: str) -> list[str]:
    """The Item column, newest event first."""
    return [item.strip() for item in ITEM.findall(html)]


def test_a_csv_export_shows_its_filters_in_words_never_none(
    signed_in: SignedInClient, clinic: Clinic
) -> None:
    admin = signed_in(clinic, "admin")
    admin.get("/staff/export.csv")
    admin.get(
        "/staff/export.csv",
        params={
            "level": ["emergency", "urgent"],
            "from": "2026-03-01",
            "to": "2026-03-31",
            "reviewed": "no",
        },
    )
    admin.get("/staff/export.csv", params={"to": "2026-03-31", "reviewed": "yes"})

    page = admin.get("/staff/audit")

    assert page.status_code == 200
    assert "None" not in page.text
    assert items(page.text)[:3] == [
        "Submissions: submitted up to 31 Mar 2026; reviewed; 0 rows",
        "Submissions: Emergency or Urgent; submitted from 01 Mar 2026 to 31 Mar 2026; not"
        " reviewed; 0 rows",
        "All submissions; 0 rows",
    ]


def test_an_event_shows_its_item_only_when_it_has_one(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    admin = signed_in(clinic, "admin")
    audit.record(
        db,
        clinic_id=clinic.id,
        actor_id=None,
        action="api_key.revoked",
        target_type="api_client",
        target_id="0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11",
    )
    audit.record(
        db, clinic_id=clinic.id, actor_id=None, action="something.else", target_type="assessment"
    )
    db.commit()

    page = admin.get("/staff/audit")

    assert items(page.text)[:2] == ["", "api_client 0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11"]
    assert "None" not in page.text


# -- every read and write of health data is audited, with the ids it touched ---------------------

# Every route that reads or writes a clinic's health data, and the event it writes. A new route
# under /staff or /api/v1 that takes a submission or a check-in fails the walk below until it is
# here, with a driver that shows its event.
AUDITED: dict[tuple[str, str], str] = {
    ("GET", "/staff/"): "queue.viewed",
    ("GET", "/staff/export.csv"): "export.csv",
    ("GET", "/staff/export-checkins.csv"): "export.checkins_csv",
    ("GET", "/staff/assessments/{assessment_id}"): "assessment.viewed",
    ("POST", "/staff/assessments/{assessment_id}/review"): "assessment.reviewed",
    ("POST", "/staff/assessments/{assessment_id}/release"): "assessment.released",
    ("GET", "/staff/assessments/{assessment_id}/fhir"): "export.fhir",
    ("POST", "/api/v1/assessments"): "assessment.created",
    ("GET", "/api/v1/assessments/{assessment_id}"): "assessment.viewed",
    ("GET", "/api/v1/assessments/{assessment_id}/fhir"): "export.fhir",
    ("POST", "/api/v1/assessments/{assessment_id}/checkins"): "checkin.created",
    ("POST", "/api/v1/assessments/{assessment_id}/checkins/fhir"): "checkin.created",
    ("GET", "/api/v1/assessments/{assessment_id}/checkins"): "checkins.viewed",
    ("GET", "/api/v1/assessments/{assessment_id}/checkins/{checkin_id}/fhir"): "export.fhir",
    ("POST", "/api/v1/assessments/{assessment_id}/checkins/next"): "checkin.next",
    # The patient, at their intake link and their result's private link.
    ("POST", "/intake/{token}/check"): "assessment.created",
    ("POST", "/result/{token}/checkin"): "checkin.created",
    ("POST", "/result/{token}/before-you-exercise"): "assessment.release_answered",
}
# Health data in aggregate only (counts per rule and month): no record's id to name.
NOT_A_RECORD = {("GET", "/staff/rules")}


def all_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path), through included routers."""
    return {(method, path) for path, route in app_routes(app) for method in route.methods or ()}


def test_every_route_that_takes_a_submission_or_a_check_in_is_audited(app: FastAPI) -> None:
    routes = all_routes(app)
    takes_a_record = {
        (method, path)
        for method, path in routes
        if path.startswith(("/staff", "/api/v1"))
        and ("{assessment_id}" in path or "{checkin_id}" in path)
    }
    assert len(takes_a_record) >= 10
    assert takes_a_record - AUDITED.keys() - NOT_A_RECORD == set()
    # And none listed here has gone (renamed, or another method).
    assert AUDITED.keys() - routes == set()


@dataclass
class World:
    """A clinic's self-care submission with one check-in that needs the clinic (worse), a staff
    member's browser, a clinic API key, and the patient's browser at the result's link."""

    app: FastAPI
    db: Session
    clinic: Clinic
    staff: TestClient
    patient: TestClient
    key: Key
    assessment: Assessment
    result_path: str
    checkin_id: uuid.UUID
    clock: TestClock


@pytest.fixture
def world(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient, clock: TestClock
) -> Iterator[World]:
    registry = app.state.registry
    recorded = record_assessment(
        db, registry.default, EXAMPLE_ANSWERS, channel="intake", clinic_id=clinic.id
    )
    db.commit()
    assessment = db.get_one(Assessment, recorded.id)
    done = checkins.record_checkin(
        db, registry, assessment, checkin_answers(global_change="worse"), channel="intake"
    )
    db.commit()
    with TestClient(app) as patient:
        yield World(
            app, db, clinic, signed_in(clinic), patient, make_key(db, "front desk", clinic.id, scopes=(CHECKINS_WRITE,)),
            assessment, f"/result/{recorded.result_token}", done.id, clock,
        )  # fmt: skip


def _events(w: World, action: str) -> list[AuditEvent]:
    w.db.expire_all()
    return list(
        w.db.exec(
            select(AuditEvent)
            .where(AuditEvent.clinic_id == w.clinic.id, AuditEvent.action == action)
            .order_by(col(AuditEvent.id))
        )
    )


def _staff_get(path: str, *, checkins_too: bool = True) -> Any:
    def run(w: World) -> tuple[str, list[str]]:
        url = path.format(assessment_id=w.assessment.id)
        assert w.staff.get(url).status_code == 200, url
        return str(w.assessment.id), [str(w.checkin_id)] if checkins_too else []

    return run


def _api(method: str, path: str, body: Any = None, status: int = 200, new: bool = False) -> Any:
    def run(w: World) -> tuple[str, list[str]]:
        url = path.format(assessment_id=w.assessment.id, checkin_id=w.checkin_id)
        answer = w.staff.request(method, url, json=body, headers=w.key.headers)
        assert answer.status_code == status, answer.text
        if url == "/api/v1/assessments":
            return answer.json()["id"], []
        if "checkin" not in path:  # the submission alone
            return str(w.assessment.id), []
        return str(w.assessment.id), [answer.json()["id"] if new else str(w.checkin_id)]

    return run


def _review(w: World) -> tuple[str, list[str]]:
    w.staff.get(f"/staff/assessments/{w.assessment.id}")  # read, then marked
    sent = w.staff.post(
        f"/staff/assessments/{w.assessment.id}/review",
        data={"reviewed": "yes", "csrf_token": csrf(w.staff)},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    return str(w.assessment.id), []


def _see_doctor(w: World) -> tuple[Assessment, str]:
    recorded = record_assessment(
        w.db, w.app.state.registry.default, SEE_DOCTOR, channel="intake", clinic_id=w.clinic.id
    )
    w.db.commit()
    return w.db.get_one(Assessment, recorded.id), f"/result/{recorded.result_token}"


def _release(w: World) -> tuple[str, list[str]]:
    assessment, _ = _see_doctor(w)
    assert release(w.staff, assessment).status_code == 303
    return str(assessment.id), []


def _release_answered(w: World) -> tuple[str, list[str]]:
    assessment, path = _see_doctor(w)
    assert release(w.staff, assessment).status_code == 303
    sent = answer_page(
        w.patient,
        f"{path}/before-you-exercise",
        {"joint_problems": ["hip"], "falls_or_unsteady": False, "hypermobile": False},
    )
    assert sent.status_code == 303, sent.text
    return str(assessment.id), []


def _intake_link(w: World) -> str:
    """A new single-use intake link of the clinic: its path."""
    _, token = intake.create_link(
        w.db,
        clinic_id=w.clinic.id,
        label=None,
        single_use=True,
        valid_for=timedelta(days=7),
        created_by_id=None,
    )
    w.db.commit()
    return f"/intake/{token}"


def _intake(w: World) -> tuple[str, list[str]]:
    location, _ = run_interview(w.patient, self_care_answers(), prefix=_intake_link(w))
    stored = w.db.exec(select(Assessment).order_by(col(Assessment.created_at).desc())).first()
    assert location.startswith("/result/")
    assert stored is not None
    return str(stored.id), []


def _web_checkin(w: World) -> tuple[str, list[str]]:
    sent = post_page(w.patient, f"{w.result_path}/checkin", form_fields(checkin_answers()))
    assert sent.status_code == 303, sent.text
    return str(w.assessment.id), [sent.headers["location"].rsplit("/", 1)[1]]


def _fhir_checkin(w: World) -> tuple[str, list[str]]:
    """The world's check-in exported as a QuestionnaireResponse, with another pain score (the
    same answers again would be the same check-in), posted back."""
    base = f"/api/v1/assessments/{w.assessment.id}/checkins"
    bundle = w.staff.get(f"{base}/{w.checkin_id}/fhir", headers=w.key.headers).json()
    [response] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]

    def items(found: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for each in found:
            yield each
            yield from items(each.get("item", []))

    [pain] = [i for i in items(response["item"]) if i["linkId"] == "pain_now"]
    pain["answer"] = [{"valueInteger": (pain["answer"][0]["valueInteger"] + 1) % 3}]
    changed = json.dumps(response)
    sent = w.staff.post(
        f"{base}/fhir",
        content=changed,
        headers={**w.key.headers, "Content-Type": "application/fhir+json"},
    )
    assert sent.status_code == 201, sent.text
    return str(w.assessment.id), [sent.json()["id"]]


CHECKIN_BODY = {"answers": checkin_answers()}
DRIVERS: dict[tuple[str, str], Any] = {
    ("GET", "/staff/"): _staff_get("/staff/"),
    ("GET", "/staff/export.csv"): _staff_get("/staff/export.csv"),
    ("GET", "/staff/export-checkins.csv"): _staff_get("/staff/export-checkins.csv"),
    ("GET", "/staff/assessments/{assessment_id}"): _staff_get("/staff/assessments/{assessment_id}"),
    ("POST", "/staff/assessments/{assessment_id}/review"): _review,
    ("POST", "/staff/assessments/{assessment_id}/release"): _release,
    ("GET", "/staff/assessments/{assessment_id}/fhir"): _staff_get(
        "/staff/assessments/{assessment_id}/fhir", checkins_too=False
    ),
    ("POST", "/api/v1/assessments"): _api(
        "POST", "/api/v1/assessments", {"answers": EXAMPLE_ANSWERS}, 201
    ),
    ("GET", "/api/v1/assessments/{assessment_id}"): _api(
        "GET", "/api/v1/assessments/{assessment_id}"
    ),
    ("GET", "/api/v1/assessments/{assessment_id}/fhir"): _api(
        "GET", "/api/v1/assessments/{assessment_id}/fhir"
    ),
    ("POST", "/api/v1/assessments/{assessment_id}/checkins"): _api(
        "POST", "/api/v1/assessments/{assessment_id}/checkins", CHECKIN_BODY, 201, new=True
    ),
    ("POST", "/api/v1/assessments/{assessment_id}/checkins/fhir"): _fhir_checkin,
    ("GET", "/api/v1/assessments/{assessment_id}/checkins"): _api(
        "GET", "/api/v1/assessments/{assessment_id}/checkins"
    ),
    ("GET", "/api/v1/assessments/{assessment_id}/checkins/{checkin_id}/fhir"): _api(
        "GET", "/api/v1/assessments/{assessment_id}/checkins/{checkin_id}/fhir"
    ),
    ("POST", "/api/v1/assessments/{assessment_id}/checkins/next"): _api(
        "POST", "/api/v1/assessments/{assessment_id}/checkins/next", CHECKIN_BODY
    ),
    ("POST", "/intake/{token}/check"): _intake,
    ("POST", "/result/{token}/checkin"): _web_checkin,
    ("POST", "/result/{token}/before-you-exercise"): _release_answered,
}


def test_every_audited_route_has_a_driver() -> None:
    assert DRIVERS.keys() == AUDITED.keys()


@pytest.mark.parametrize("route", list(AUDITED), ids=[" ".join(r) for r in AUDITED])
def test_each_read_and_write_of_health_data_is_audited_with_the_ids_it_touched(
    world: World, route: tuple[str, str]
) -> None:
    action = AUDITED[route]
    before = len(_events(world, action))
    assessment_id, checkin_ids = DRIVERS[route](world)

    events = _events(world, action)[before:]
    assert events, f"{route} wrote no {action}"
    event = events[-1]
    detail = event.detail
    if event.action == "queue.viewed":
        assert assessment_id in detail["assessment_ids"]
        assert detail["checkin_ids"] == checkin_ids  # the flagged check-in it showed
    elif event.action.startswith("export.") and event.action != "export.fhir":
        assert detail["rows"] == 1
        assert "filters" in detail
    else:
        assert event.target_type == "assessment"
        assert event.target_id == assessment_id
        assert detail.get("checkin_ids", []) == checkin_ids
    # Who: the staff member, the key by name, or the patient.
    if route[1].startswith("/staff"):
        assert event.actor_id == world.staff.staff_user.id  # type: ignore[attr-defined]
    elif route[1].startswith("/api"):
        assert event.actor_id is None
        assert detail["api_key"] == "front desk"
        assert detail["api_key_id"] == str(world.key.id)
    else:
        assert event.actor_id is None
        assert detail["by"] == "person"
    # Never an answer.
    assert "answers" not in json.dumps(detail)


def test_a_retried_api_check_in_is_audited_as_a_read_of_the_stored_one(world: World) -> None:
    url = f"/api/v1/assessments/{world.assessment.id}/checkins"
    headers = {**world.key.headers, "Idempotency-Key": "retry-1"}
    first = world.staff.post(url, json=CHECKIN_BODY, headers=headers)
    again = world.staff.post(url, json=CHECKIN_BODY, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    [replayed] = _events(world, "checkin.replayed")
    assert replayed.detail["checkin_ids"] == [first.json()["id"]]
    assert len(_events(world, "checkin.created")) == 1


def test_a_key_of_no_clinic_and_the_open_web_form_leave_no_clinic_a_trace(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    """A record of no clinic has no clinic's log to go to (and is read by its own key only)."""
    own = make_key(db, "an app")
    stored = client.post(
        "/api/v1/assessments", json={"answers": EXAMPLE_ANSWERS}, headers=own.headers
    )
    assert stored.status_code == 201
    assert client.get(f"/api/v1/assessments/{stored.json()['id']}", headers=own.headers).is_success
    assert db.exec(select(AuditEvent)).all() == []


def test_the_audit_page_shows_the_check_ins_export_its_filters_and_the_check_ins_touched(
    world: World, signed_in: SignedInClient
) -> None:
    world.staff.get("/staff/export-checkins.csv", params={"level": "see_doctor", "reviewed": "no"})
    world.staff.get("/staff/export-checkins.csv")
    world.staff.get(
        f"/api/v1/assessments/{world.assessment.id}/checkins", headers=world.key.headers
    )
    world.staff.get(
        f"/api/v1/assessments/{world.assessment.id}/checkins/{world.checkin_id}/fhir",
        headers=world.key.headers,
    )
    page = signed_in(world.clinic, "admin").get("/staff/audit")

    assert page.status_code == 200
    assert "None" not in page.text
    # Newest first (the admin's sign-in came later: its events are left out here).
    assert [item for item in items(page.text) if "heck-ins" in item][:4] == [
        f"assessment {world.assessment.id}; check-ins {world.checkin_id}",
        f"assessment {world.assessment.id}; check-ins {world.checkin_id}",
        "Check-ins of all submissions; 1 row",
        "Check-ins of submissions: See a doctor; not reviewed; 1 row",
    ]
    assert "API key “front desk”" in page.text


def test_an_emergency_that_ends_an_intake_form_at_once_is_audited_as_created(
    world: World,
) -> None:
    """A "yes" to an emergency sign stores the submission from that page, without the check
    page: the clinic's log says the patient wrote it, as for any other submission."""
    prefix = _intake_link(world)
    before = len(_events(world, "assessment.created"))
    run_interview(world.patient, self_care_answers(), prefix=prefix, until=EMERGENCY_PAGE)
    sent = post_page(world.patient, f"{prefix}/questions/{EMERGENCY_PAGE}", form_fields(EMERGENCY))
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/result/")
    stored = world.db.exec(select(Assessment).where(Assessment.triage_level == "emergency")).one()
    created = _events(world, "assessment.created")
    assert len(created) == before + 1
    assert (created[-1].target_id, created[-1].detail) == (str(stored.id), audit.BY_PERSON)
