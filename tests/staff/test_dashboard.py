"""The clinic's submissions: queue order, filters, the detail page, review marks and exports,
each only ever showing the signed-in clinic's own data."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import Session, select

from app.models import Assessment, AuditEvent, Clinic, utcnow
from app.services.intake import create_link
from app.services.questionnaires import Registry
from tests.engine.support import answers as complete_answers
from tests.engine.support import questionnaire
from tests.fixtures import V2_ANSWERS, record_assessment, record_v1_assessment
from tests.staff.conftest import SignedInClient, csrf
from tests.support.results import plan_of

ROW = re.compile(r'href="/staff/assessments/([0-9a-f-]{36})"')


def submit(
    db: Session,
    clinic: Clinic | None,
    *,
    days_ago: float = 0,
    label: str | None = None,
    **changes: Any,
) -> Assessment:
    """A submission for ``clinic`` (through an intake link when ``label`` is given)."""
    link_id = None
    if label is not None and clinic is not None:
        link, _ = create_link(
            db,
            clinic_id=clinic.id,
            label=label,
            single_use=True,
            valid_for=timedelta(days=7),
            created_by_id=None,
        )
        link_id = link.id
    recorded = record_assessment(
        db,
        questionnaire(),
        complete_answers(**changes),
        channel="intake",
        clinic_id=clinic.id if clinic else None,
        intake_link_id=link_id,
    )
    assessment = db.get_one(Assessment, recorded.id)
    assessment.created_at = utcnow() - timedelta(days=days_ago)
    db.add(assessment)
    db.commit()
    return assessment


def queue_ids(html: str) -> list[str]:
    return ROW.findall(html)


def test_urgent_cases_come_first_then_newest(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    old_self_care = submit(db, clinic, days_ago=3)
    new_see_doctor = submit(db, clinic, days_ago=0, pain_trend="worse")
    old_emergency = submit(db, clinic, days_ago=5, saddle_numbness=True)
    new_urgent = submit(db, clinic, days_ago=1, fever=True)
    mid_self_care = submit(db, clinic, days_ago=2)
    levels = [a.triage_level for a in (old_emergency, new_urgent, new_see_doctor)]
    assert levels[:2] == ["emergency", "urgent"]

    page = signed_in(clinic).get("/staff/")
    assert page.status_code == 200
    assert queue_ids(page.text) == [
        str(a.id) for a in (old_emergency, new_urgent, new_see_doctor, mid_self_care, old_self_care)
    ]
    assert "2 emergency or urgent submissions not reviewed yet" in page.text


def test_which_levels_are_urgent_comes_from_the_definition(
    app: FastAPI,
    signed_in: SignedInClient,
    clinic: Clinic,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The queue's order and banner follow the levels marked ``urgent`` in the questionnaire:
    mark only the emergency level urgent, and an urgent-level case sorts with the rest."""
    registry: Registry = app.state.registry
    new_urgent = submit(db, clinic, days_ago=1, fever=True)
    old_emergency = submit(db, clinic, days_ago=5, saddle_numbness=True)
    old_self_care = submit(db, clinic, days_ago=3)
    browser = signed_in(clinic)

    # Through monkeypatch: the loaded definitions are shared by the tests of this process.
    monkeypatch.setattr(registry, "urgent_codes", frozenset({"emergency"}))
    page = browser.get("/staff/")
    assert queue_ids(page.text) == [str(a.id) for a in (old_emergency, new_urgent, old_self_care)]
    assert "1 emergency or urgent submission not reviewed yet" in page.text

    monkeypatch.setattr(registry, "urgent_codes", frozenset())
    page = browser.get("/staff/")
    assert queue_ids(page.text) == [str(a.id) for a in (new_urgent, old_self_care, old_emergency)]
    assert "not reviewed yet" not in page.text


def test_the_level_names_and_filters_come_from_the_definition(
    app: FastAPI, signed_in: SignedInClient, clinic: Clinic
) -> None:
    registry: Registry = app.state.registry
    page = signed_in(clinic).get("/staff/").text
    for level in registry.levels:
        assert f'value="{level.code}"' in page
        assert level.label in page
    assert signed_in(clinic).get("/staff/", params={"level": "nonsense"}).status_code == 400


def test_filters_by_level_date_and_review(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    emergency = submit(db, clinic, days_ago=10, bladder_change=True)
    self_care_old = submit(db, clinic, days_ago=10)
    self_care_new = submit(db, clinic, days_ago=0)
    self_care_new.reviewed_at = utcnow()
    db.add(self_care_new)
    db.commit()
    browser = signed_in(clinic)

    by_level = browser.get("/staff/", params={"level": ["emergency", "urgent"]})
    assert queue_ids(by_level.text) == [str(emergency.id)]

    since = (utcnow() - timedelta(days=1)).date().isoformat()
    assert queue_ids(browser.get("/staff/", params={"from": since}).text) == [str(self_care_new.id)]
    until = (utcnow() - timedelta(days=5)).date().isoformat()
    assert set(queue_ids(browser.get("/staff/", params={"to": until}).text)) == {
        str(emergency.id),
        str(self_care_old.id),
    }

    not_reviewed = browser.get("/staff/", params={"reviewed": "no", "level": "self_care"})
    assert queue_ids(not_reviewed.text) == [str(self_care_old.id)]
    reviewed = browser.get("/staff/", params={"reviewed": "yes"})
    assert queue_ids(reviewed.text) == [str(self_care_new.id)]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "31/13/2026"}, "from", "Enter the start date as day/month/year"),
        ({"to": "yesterday"}, "to", "Enter the end date as day/month/year"),
        ({"to": "31/12/9999"}, "to", "Enter an end date between the years 2000 and 2999"),
        ({"to": "9999-12-31"}, "to", "Enter an end date between the years 2000 and 2999"),
        ({"from": "01/01/0001"}, "from", "Enter a start date between the years 2000 and 2999"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "to", "The end date must be the same as"),
        ({"level": "critical"}, "level", "Choose levels from the list"),
        ({"reviewed": "maybe"}, "reviewed", "Choose all, not reviewed or reviewed"),
    ],
)
def test_a_filter_that_cannot_be_read_is_named(
    signed_in: SignedInClient, clinic: Clinic, params: dict[str, str], field: str, message: str
) -> None:
    page = signed_in(clinic).get("/staff/", params=params)
    assert page.status_code == 400
    assert f'href="#{field}">{message}' in page.text
    assert signed_in(clinic).get("/staff/export.csv", params=params).status_code == 400


def test_the_queue_pages_keep_the_filters(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    for day in range(27):
        submit(db, clinic, days_ago=day)
    browser = signed_in(clinic)
    first = browser.get("/staff/", params={"level": "self_care"})
    assert len(queue_ids(first.text)) == 25
    assert 'href="?level=self_care&amp;page=2"' in first.text
    second = browser.get("/staff/", params={"level": "self_care", "page": 2})
    assert len(queue_ids(second.text)) == 2
    assert not set(queue_ids(first.text)) & set(queue_ids(second.text))


def test_the_detail_page_shows_reasons_contributors_plan_and_every_answer_in_order(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    urgent = submit(
        db, clinic, label="Appt 4471", fever=True, sitting_hours=9, sitting_breaks="rarely"
    )
    page = signed_in(clinic).get(f"/staff/assessments/{urgent.id}")
    assert page.status_code == 200
    assert "Appt 4471" in page.text
    for reason in urgent.result["triage"]["reasons"]:
        # The clinical label and the action, not the words the patient read.
        assert reason["clinician"] in page.text
        assert reason["action"] in page.text
        assert reason["message"] not in page.text
        assert f"({reason['code']})" in page.text
    assert "Sitting" in page.text or "sitting" in page.text
    assert "No plan: a plan is only made when it is safe" in page.text
    q = questionnaire()
    texts = [q.question_by_id[qid].text for qid in urgent.answers]
    positions = [page.text.find(text.replace("'", "&#39;")) for text in texts]
    assert -1 not in positions, [t for t, p in zip(texts, positions, strict=True) if p == -1]
    order = [question.id for question in q.questions if question.id in urgent.answers]
    by_position = [qid for _, qid in sorted(zip(positions, urgent.answers, strict=True))]
    assert by_position == order

    # The answer behind the reason is marked; the others are not.
    marked = re.findall(
        r'<dt class="summary-list__key">([^<]+)</dt><dd class="summary-list__value">[^<]*'
        r' <strong class="reason-tag">',
        page.text,
    )
    assert marked == [q.question_by_id["fever"].text]

    self_care = submit(db, clinic)
    plan_page = signed_in(clinic).get(f"/staff/assessments/{self_care.id}")
    assert 'class="reason-tag"' not in plan_page.text
    for block in plan_of(self_care.result)["blocks"]:
        assert block["title"] in plan_page.text


def test_the_detail_page_leads_with_the_clinical_title_and_action(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    emergency = submit(db, clinic, saddle_numbness=True, sexual_function_change=True)
    page = signed_in(clinic).get(f"/staff/assessments/{emergency.id}").text
    triage = emergency.result["triage"]

    heading = "Triage: Emergency: possible serious spinal pathology or another emergency"
    assert f'<h2 class="heading-m">{heading}</h2>' in page
    assert triage["action"].replace("&", "&amp;") in page
    # What the patient was told comes after, for reference.
    assert page.index(heading) < page.index("Told to the patient: Get medical help now.")
    labels = [
        "Possible cauda equina syndrome: saddle anaesthesia or paraesthesia",
        triage["reasons"][1]["clinician"],
    ]
    assert [r["code"] for r in triage["reasons"]] == ["cauda_equina_saddle", "cauda_equina_sexual"]
    for reason, label in zip(triage["reasons"], labels, strict=True):
        assert reason["clinician"] == label
        assert f"<strong>{label}</strong>" in page
        assert f"Action: {reason['action']}".replace("&", "&amp;") in page
        assert reason["message"] not in page


def test_the_detail_page_shows_a_plan_that_leaves_steps_out(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    # Arthritis in the hip (no replacement), and a shoulder problem.
    shoulder_and_hip = submit(db, clinic, joint_problems=["shoulder", "hip"], hip_replacement="no")
    page = signed_in(clinic).get(f"/staff/assessments/{shoulder_and_hip.id}").text
    # (2.1) The seated steps always suit: the hangs are left out, and so is the side stretch
    # (a shoulder problem), but the upper-back block is never dropped.
    upper_back = page[page.index("<td>Upper back and side stretch</td>") :]
    upper_back = upper_back[: upper_back.index("</tr>")]
    assert "Step 2 of 2: Seated twist" in upper_back
    assert "4 unsuitable steps left out" in upper_back
    assert "No step suits" not in page
    assert "Side stretch at a door frame" not in page
    assert "Caution: Because of your hip, only go down as far as feels comfortable." in page
    assert "3 unsuitable steps left out" in page  # squats: only the assisted squat is left


def test_a_2_0_0_submission_whose_hangs_were_all_left_out_shows_the_stretch_only(
    signed_in: SignedInClient, clinic: Clinic, db: Session, app: FastAPI
) -> None:
    # Stored by 2.0.0 (no seated steps): with a shoulder problem its upper-back block had no
    # step, only the side stretch (start_step null). Shown as stored, never re-evaluated.
    old = app.state.registry.exact("low-back-audit", "2.0.0")
    recorded = record_assessment(
        db,
        old,
        {**V2_ANSWERS, "joint_problems": ["shoulder", "hip"]},
        channel="intake",
        clinic_id=clinic.id,
    )
    db.commit()
    [block] = [b for b in plan_of(recorded.result)["blocks"] if b["code"] == "thoracic_lats"]
    assert block["start_step"] is None
    page = signed_in(clinic).get(f"/staff/assessments/{recorded.id}").text
    assert "No step suits (hangs left out); Side stretch at a door frame only" in page
    assert "Caution: Because of your hip, only go down as far as feels comfortable." in page
    assert "3 unsuitable steps left out" in page  # squats: only the assisted squat is left


def test_staff_see_a_version_1_submission_with_its_own_questions_and_words(
    signed_in: SignedInClient, clinic: Clinic, db: Session, app: FastAPI
) -> None:
    registry: Registry = app.state.registry
    old = record_v1_assessment(
        db, registry, {"major_trauma": True}, channel="intake", clinic_id=clinic.id
    )
    plan = record_v1_assessment(db, registry, channel="intake", clinic_id=clinic.id)
    db.commit()
    browser = signed_in(clinic)

    page = browser.get(f"/staff/assessments/{old.id}").text
    assert "low-back-audit, version 1.0.0" in page
    v1 = registry.exact("low-back-audit", "1.0.0")
    assert v1.question_by_id["major_trauma"].text in page  # a question 2.0.0 does not have
    assert v1.question_by_id["leg_weakness_worsening"].text in page
    assert "How old are you?" in page
    # No clinical texts were stored in 1.0.0: the rule's message stands in, with its code.
    [reason] = old.result["triage"]["reasons"]
    assert f'<strong>{reason["message"]}</strong> <span class="code">(major_trauma)</span>' in page
    assert "Triage: Get medical help now" in page
    assert "Action:" not in page

    plan_page = browser.get(f"/staff/assessments/{plan.id}").text
    assert "Step 1 of 3: Lying pelvic tilt" in plan_page  # start steps stored as codes
    assert "Step 2 of 3: Single-leg bridge" in plan_page

    rows = list(
        csv.DictReader(io.StringIO(browser.get("/staff/export.csv").content.decode("utf-8-sig")))
    )
    by_id = {r["id"]: r for r in rows}
    assert by_id[str(old.id)]["triage_clinician"] == "Get medical help now"
    assert by_id[str(old.id)]["reasons_clinician"] == reason["message"]
    assert by_id[str(old.id)]["reasons_action"] == ""


def test_marking_reviewed_records_who_and_when_and_can_be_undone(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    assessment = submit(db, clinic, saddle_numbness=True)
    browser = signed_in(clinic)
    url = f"/staff/assessments/{assessment.id}"
    assert browser.post(f"{url}/review", data={"reviewed": "yes"}).status_code == 403  # no CSRF

    response = browser.post(
        f"{url}/review",
        data={"reviewed": "yes", "csrf_token": csrf(browser)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.expire_all()
    stored = db.get(Assessment, assessment.id)
    assert stored is not None
    assert stored.reviewed_at is not None
    assert stored.reviewed_by_id == browser.staff_user.id  # type: ignore[attr-defined]
    assert f"by {browser.staff_user.email}" in browser.get(url).text  # type: ignore[attr-defined]
    assert "not reviewed yet" not in browser.get("/staff/").text

    browser.post(f"{url}/review", data={"reviewed": "no", "csrf_token": csrf(browser)})
    db.expire_all()
    stored = db.get(Assessment, assessment.id)
    assert stored is not None
    assert stored.reviewed_at is None
    assert stored.reviewed_by_id is None
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.target_id == str(assessment.id)))
    assert set(actions.all()) >= {
        "assessment.viewed",
        "assessment.reviewed",
        "assessment.unreviewed",
    }


@pytest.mark.parametrize("reviewed", ["maybe", "YES", "", None, "yes" * 100])
def test_a_review_mark_other_than_yes_or_no_is_refused_and_changes_nothing(
    signed_in: SignedInClient, clinic: Clinic, db: Session, reviewed: str | None
) -> None:
    assessment = submit(db, clinic, saddle_numbness=True)
    browser = signed_in(clinic)
    form = {"csrf_token": csrf(browser)} | ({} if reviewed is None else {"reviewed": reviewed})
    response = browser.post(
        f"/staff/assessments/{assessment.id}/review", data=form, follow_redirects=False
    )
    assert response.status_code == 400
    assert "Mark the submission as reviewed (yes) or as not reviewed (no)." in response.text
    db.expire_all()
    stored = db.get(Assessment, assessment.id)
    assert stored is not None
    assert stored.reviewed_at is None
    assert stored.reviewed_by_id is None
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.target_id == str(assessment.id)))
    assert not {"assessment.reviewed", "assessment.unreviewed"} & set(actions.all())


def test_the_csv_export_has_the_filtered_queue_and_is_safe_to_open(
    signed_in: SignedInClient, clinic: Clinic, other_clinic: Clinic, db: Session
) -> None:
    emergency = submit(db, clinic, label="=HYPERLINK(1)", bowel_change=True)
    self_care = submit(db, clinic, days_ago=1, sitting_hours=9, sitting_breaks="rarely")
    submit(db, other_clinic, label="Hilltop patient", fever=True)
    submit(db, None)  # a web form assessment belongs to no clinic
    browser = signed_in(clinic)

    response = browser.get("/staff/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == [str(emergency.id), str(self_care.id)]
    assert rows[0]["triage_level"] == "emergency"
    assert rows[0]["patient_reference"] == " =HYPERLINK(1)"  # never a formula
    assert rows[0]["triage_reasons"] == "; ".join(
        r["code"] for r in emergency.result["triage"]["reasons"]
    )
    assert "cauda_equina" in rows[0]["triage_reasons"]
    # The clinical texts, for the clinic: the level's title and action, and each reason's
    # label and action in the order of the codes.
    reasons = emergency.result["triage"]["reasons"]
    assert rows[0]["triage_clinician"] == (
        "Emergency: possible serious spinal pathology or another emergency"
    )
    assert rows[0]["triage_action"] == emergency.result["triage"]["action"]
    assert rows[0]["reasons_clinician"] == " | ".join(r["clinician"] for r in reasons)
    assert rows[0]["reasons_clinician"].startswith("Possible cauda equina syndrome")
    assert rows[0]["reasons_action"] == " | ".join(r["action"] for r in reasons)
    assert "Contact the patient now" in rows[0]["reasons_action"]
    assert rows[1]["triage_clinician"] == "No red flags reported: supported self-management"
    assert (rows[1]["reasons_clinician"], rows[1]["reasons_action"]) == ("", "")
    assert "sitting=" in rows[1]["contributors"]
    assert "Hilltop" not in response.text

    only_self_care = browser.get("/staff/export.csv", params={"level": "self_care"})
    assert [
        r["id"] for r in csv.DictReader(io.StringIO(only_self_care.content.decode("utf-8-sig")))
    ] == [str(self_care.id)]
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "export.csv")).all()
    assert len(events) == 2
    assert sorted(e.detail["filters"]["levels"] for e in events) == [[], ["self_care"]]
    assert all(e.clinic_id == clinic.id for e in events)


def test_an_assessment_exports_as_a_valid_fhir_bundle(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    assessment = submit(db, clinic, fever=True)
    response = signed_in(clinic).get(f"/staff/assessments/{assessment.id}/fhir")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate_json(response.content)
    resources = [entry.resource for entry in bundle.entry or []]
    kinds = [resource.get_resource_type() for resource in resources if resource is not None]
    assert len(kinds) == len(resources)
    assert "QuestionnaireResponse" in kinds
    assert "RiskAssessment" in kinds
    assert db.exec(
        select(AuditEvent).where(AuditEvent.action == "export.fhir")
    ).one().target_id == (str(assessment.id))


def test_staff_of_one_clinic_never_reach_another_clinics_submissions(
    signed_in: SignedInClient, clinic: Clinic, other_clinic: Clinic, db: Session
) -> None:
    theirs = submit(db, other_clinic, label="Hilltop patient", fever=True)
    ours = submit(db, clinic)
    browser = signed_in(clinic)
    token = csrf(browser)
    url = f"/staff/assessments/{theirs.id}"
    assert browser.get(url).status_code == 404
    assert browser.get(f"{url}/fhir").status_code == 404
    assert browser.post(f"{url}/review", data={"csrf_token": token}).status_code == 404
    assert browser.get("/staff/assessments/not-a-uuid").status_code == 404
    queue = browser.get("/staff/").text
    assert queue_ids(queue) == [str(ours.id)]
    assert "Hilltop patient" not in queue
    db.expire_all()
    untouched = db.get(Assessment, theirs.id)
    assert untouched is not None
    assert untouched.reviewed_at is None
    assert not db.exec(select(AuditEvent).where(AuditEvent.target_id == str(theirs.id))).all()


def test_counts_use_the_singular_for_one(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    submit(db, clinic, bladder_change=True)
    browser = signed_in(clinic)

    one = browser.get("/staff/", params={"level": "emergency"}).text
    assert "1 submission matches these filters" in one
    assert "(1 submission)" in one
    assert "1 emergency or urgent submission not reviewed yet" in one

    submit(db, clinic, fever=True)
    two = browser.get("/staff/", params={"level": ["emergency", "urgent"]}).text
    assert "2 submissions match these filters" in two
    assert "(2 submissions)" in two
    assert "2 emergency or urgent submissions not reviewed yet" in two


def test_the_csv_export_quotes_text_and_starts_no_formula_after_a_separator(
    signed_in: SignedInClient, clinic: Clinic, db: Session
) -> None:
    submit(db, clinic, label="Smith;=cmd|' /C calc'!A0;=2+5")
    response = signed_in(clinic).get("/staff/export.csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert re.fullmatch(r'"[^"]*"(,"[^"]*")*', lines[0]), lines[0]  # the headings
    # Opened where ";" separates cells (much of Europe), no cell may start a formula.
    for line in lines:
        for cell in line.split(";"):
            assert cell.lstrip('"')[:1] not in ("=", "+", "-", "@"), cell
    row = next(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert row["patient_reference"] == "Smith; =cmd|' /C calc'!A0; =2+5"
