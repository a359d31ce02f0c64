"""Correcting a mis-tapped emergency answer: from the emergency result, back to the page with
that answer (every answer kept), on through the questions, and a new result that replaces the
stored one. The old record is kept (audit trail) and its link leads to the new result."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Assessment, AuditEvent, Clinic, Draft, IntakeLink
from app.security import hash_token
from app.services import assessments, dashboard
from app.services.assessments import AlreadyReplacedError
from tests.fixtures import record_assessment
from tests.web.conftest import make_link
from tests.web.helpers import (
    EMERGENCY_PAGE,
    FIRST_PAGE,
    answer,
    csrf_of,
    is_result,
    post_page,
    result_token,
    run_interview,
    self_care_answers,
)

MISTAP = {"saddle_numbness": True}  # a "yes" meant to be a "no"


def records(db: Session) -> list[Assessment]:
    db.expire_all()
    return list(db.exec(select(Assessment).order_by(Assessment.created_at)).all())  # type: ignore[arg-type]


def by_token(db: Session, token: str) -> Assessment:
    db.expire_all()
    found = db.exec(select(Assessment).where(Assessment.result_token_hash == hash_token(token)))
    record = found.first()
    assert record is not None
    return record


def emergency_result(client: TestClient, prefix: str = "") -> str:
    """Answer as far as the first emergency page, with a mis-tapped "yes": the result's path."""
    answers = {**self_care_answers(), **MISTAP}
    location, _ = run_interview(client, answers, prefix=prefix)
    assert location.startswith("/result/")
    return location


def begin(client: TestClient, result: str) -> httpx.Response:
    page = client.get(result)
    assert "I answered by mistake: change my answers" in page.text
    return client.post(
        f"{result}/change", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )


def test_the_emergency_result_offers_to_change_the_answers(client: TestClient) -> None:
    result = emergency_result(client)
    html = client.get(result).text
    form = re.search(r'<form method="post" action="([^"]+)">\s*<input type="hidden"', html)
    assert form is not None
    assert form.group(1) == f"{result}/change"
    # After what to do now: the emergency advice stays first.
    assert html.index("What to do now") < html.index("I answered by mistake")


def test_other_results_have_no_change_button(client: TestClient) -> None:
    location, _ = run_interview(client, self_care_answers())
    assert "I answered by mistake" not in client.get(location).text
    csrf = csrf_of(client.get(f"{location}/delete").text)
    refused = client.post(f"{location}/change", data={"csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"] == location  # back to the result: nothing to correct
    assert client.get(f"{location}/change/questions/{FIRST_PAGE}").url.path == location


def test_changing_opens_the_page_with_the_emergency_answer_with_every_answer_kept(
    client: TestClient, db: Session
) -> None:
    result = emergency_result(client)
    response = begin(client, result)
    assert response.status_code == 303
    page_url = f"{result}/change/questions/{EMERGENCY_PAGE}"
    assert response.headers["location"] == page_url

    page = client.get(page_url)
    assert page.status_code == 200
    assert "You are changing your answers" in page.text
    assert 'id="saddle_numbness" name="saddle_numbness" type="radio" value="yes" checked' in (
        page.text
    )
    assert 'name="bladder_change" type="radio" value="no" checked' in page.text
    assert f'class="back-link" href="{result}/change/questions/{FIRST_PAGE}"' in page.text
    earlier = client.get(f"{result}/change/questions/{FIRST_PAGE}")
    assert f'value="{self_care_answers()["age"]}"' in earlier.text
    assert f'class="back-link" href="{result}"' in earlier.text  # the first page: the result
    # Nothing replaced yet: the stored emergency result is as it was.
    [stored] = records(db)
    assert stored.triage_level == "emergency"
    assert stored.replaced_by_id is None


def test_continuing_from_an_earlier_page_goes_on_to_the_emergency_answer(
    client: TestClient, db: Session
) -> None:
    result = emergency_result(client)
    begin(client, result)
    prefix = f"{result}/change"
    response = answer(client, prefix, FIRST_PAGE, self_care_answers())
    # Not the emergency confirmed: on to the page with it, to change it.
    assert response.headers["location"] == f"{prefix}/questions/{EMERGENCY_PAGE}"
    assert len(records(db)) == 1
    # Nor can the pages after it, or checking the answers, come before it is changed.
    for later in (f"{prefix}/questions/emergency_other", f"{prefix}/check", prefix):
        skipped = client.get(later, follow_redirects=False)
        assert skipped.headers["location"] == f"{prefix}/questions/{EMERGENCY_PAGE}", later


def test_keeping_the_emergency_answer_stores_it_again_as_the_newest(
    client: TestClient, db: Session
) -> None:
    result = emergency_result(client)
    begin(client, result)
    response = answer(client, f"{result}/change", EMERGENCY_PAGE, {**self_care_answers(), **MISTAP})
    assert is_result(response.headers["location"])
    old, new = records(db)
    assert old.replaced_by_id == new.id
    assert new.triage_level == "emergency"


def test_a_corrected_emergency_answer_stores_a_new_result_that_replaces_the_old(
    client: TestClient, db: Session
) -> None:
    result = emergency_result(client)
    old_token = result_token(result)
    begin(client, result)
    location, visited = run_interview(client, self_care_answers(), prefix=f"{result}/change")

    assert any(v.endswith("/change/check") for v in visited)
    new_token = result_token(location)
    assert new_token != old_token
    old, new = records(db)
    assert old.triage_level == "emergency"  # kept, for the audit trail
    assert old.replaced_by_id == new.id
    assert new.replaced_by_id is None
    assert new.triage_level == "self_care"
    assert new.channel == "web"
    assert new.complete
    assert client.get(location).status_code == 200
    # The old private link leads to the new result, which offers no change any more.
    page = client.get(f"/result/{old_token}")
    assert "You can start the programme" in page.text
    assert "I answered by mistake" not in page.text
    db.expire_all()
    assert db.exec(select(Draft)).all() == []
    assert not any(name.startswith("ba_fix_") for name in client.cookies)


def test_correcting_the_answer_to_another_emergency_replaces_it_with_that_one(
    client: TestClient, db: Session
) -> None:
    result = emergency_result(client)
    begin(client, result)
    response = answer(
        client,
        f"{result}/change",
        EMERGENCY_PAGE,
        {
            "saddle_numbness": False,
            "bladder_change": True,
            "bowel_change": False,
            "sexual_function_change": False,
        },
    )
    new = result_token(response.headers["location"])
    old, newer = records(db)
    assert old.replaced_by_id == newer.id
    assert newer.triage_level == "emergency"
    assert "I answered by mistake" in client.get(f"/result/{new}").text


def test_a_correction_finished_twice_stores_one_result(client: TestClient, db: Session) -> None:
    result = emergency_result(client)
    begin(client, result)
    run_interview(client, self_care_answers(), prefix=f"{result}/change", until="/check")
    page = client.get(f"{result}/change/check")
    first = post_page(client, f"{result}/change/check", {}, csrf=csrf_of(page.text))
    assert first.status_code == 303
    again = client.post(
        f"{result}/change/check",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert again.headers["location"] == result  # the result page, which shows the newest
    assert len(records(db)) == 2


def test_a_correction_that_lost_a_race_stores_nothing(client: TestClient, db: Session) -> None:
    """Another tab replaced the record between this one's pages: the database decides."""
    result = emergency_result(client)
    begin(client, result)
    run_interview(client, self_care_answers(), prefix=f"{result}/change", until="/check")
    page = client.get(f"{result}/change/check")
    [old] = records(db)
    q = client.app.state.registry.default  # type: ignore[attr-defined]
    other = record_assessment(db, q, self_care_answers(), channel="web", replaces=old.id)
    db.commit()

    response = client.post(
        f"{result}/change/check", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == result
    assert [r.id for r in records(db)] == [old.id, other.id]


def test_changing_an_unknown_result_is_not_found(client: TestClient) -> None:
    csrf = csrf_of(client.get(f"/questions/{FIRST_PAGE}").text)
    assert client.post("/result/nope/change", data={"csrf_token": csrf}).status_code == 404
    assert client.get("/result/nope/change/questions/about_you").status_code == 404


def test_changing_needs_the_form_check(client: TestClient, db: Session) -> None:
    result = emergency_result(client)
    response = client.post(f"{result}/change", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert db.exec(select(Draft)).all() == []


def test_deleting_a_corrected_result_deletes_the_one_it_replaced(
    client: TestClient, db: Session
) -> None:
    result = emergency_result(client)
    begin(client, result)
    location, _ = run_interview(client, self_care_answers(), prefix=f"{result}/change")
    confirm = client.get(f"{result}/delete")  # through the old link: the same person's data
    response = client.post(
        f"{result}/delete", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=False
    )
    assert response.headers["location"] == "/deleted"
    assert records(db) == []
    assert client.get(location).status_code == 404
    assert client.get(result).status_code == 404


def intake_emergency(client: TestClient, db: Session, clinic: Clinic) -> tuple[str, str]:
    token = make_link(db, clinic.id)
    return token, emergency_result(client, prefix=f"/intake/{token}")


def test_a_clinic_submission_corrected_goes_to_the_clinic_and_its_audit_log_says_so(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    token, result = intake_emergency(client, db, clinic)
    begin(client, result)
    page = client.get(f"{result}/change/questions/{EMERGENCY_PAGE}")
    assert "Riverside Physio" in page.text  # the clinic's pages, though its link is used now
    location, _ = run_interview(client, self_care_answers(), prefix=f"{result}/change")

    old, new = records(db)
    assert old.replaced_by_id == new.id
    assert (new.channel, new.clinic_id, new.intake_link_id) == (
        "intake",
        clinic.id,
        old.intake_link_id,
    )
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "assessment.replaced")).all()
    assert event.target_id == str(old.id)
    assert event.detail == {"replaced_by": str(new.id)}
    assert event.actor_id is None
    link = db.exec(select(IntakeLink)).one()
    assert link.used_at is not None
    assert "Riverside Physio" in client.get(location).text
    # The link itself stays used: only the result's page can start a correction.
    assert client.get(f"/intake/{token}").status_code == 410


def test_the_staff_queue_shows_the_correction_and_hides_what_it_replaced(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    _, result = intake_emergency(client, db, clinic)
    urgent = ("emergency", "urgent")
    assert dashboard.count_unreviewed_urgent(db, clinic_id=clinic.id, urgent=urgent) == 1
    begin(client, result)
    run_interview(client, self_care_answers(), prefix=f"{result}/change")

    old, new = records(db)
    rows, total = dashboard.list_submissions(
        db, clinic_id=clinic.id, filters=dashboard.Filters(), urgent=urgent
    )
    assert [s.assessment.id for s in rows] == [new.id]
    assert total == 1
    assert dashboard.count_unreviewed_urgent(db, clinic_id=clinic.id, urgent=urgent) == 0
    kept = dashboard.get_submission(db, clinic_id=clinic.id, assessment_id=str(old.id))
    assert kept is not None
    assert kept.assessment.replaced_by_id == new.id


def test_removing_a_corrected_clinic_result_page_removes_the_old_link_too(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    _, result = intake_emergency(client, db, clinic)
    begin(client, result)
    location, _ = run_interview(client, self_care_answers(), prefix=f"{result}/change")
    confirm = client.get(f"{location}/delete")
    client.post(f"{location}/delete", data={"csrf_token": csrf_of(confirm.text)})

    assert [r.result_token_hash for r in records(db)] == [None, None]  # both kept, no links
    assert client.get(result).status_code == 404
    removed = db.exec(
        select(AuditEvent).where(AuditEvent.action == "assessment.patient_link_removed")
    ).all()
    assert len(removed) == 2


def test_the_write_path_replaces_a_record_only_once(client: TestClient, db: Session) -> None:
    q = client.app.state.registry.default  # type: ignore[attr-defined]
    old = record_assessment(db, q, {**self_care_answers(), **MISTAP}, channel="web")
    record_assessment(db, q, self_care_answers(), channel="web", replaces=old.id)
    try:
        record_assessment(db, q, self_care_answers(), channel="web", replaces=old.id)
    except AlreadyReplacedError:
        pass
    else:
        raise AssertionError("a record was replaced twice")
    assert assessments.newest(db, db.get(Assessment, old.id)).triage_level == "self_care"  # type: ignore[arg-type]
