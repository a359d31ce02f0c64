"""Correcting a mis-tapped emergency answer: from the emergency result, back to the page with
that answer (every answer kept), on through the questions, and a new result that replaces the
stored one. The old record is kept (audit trail) and its link leads to the new result."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlmodel import Session, select

from app.models import Alert, Assessment, AuditEvent, Clinic, Draft, IntakeLink
from app.security import hash_token
from app.services import assessments, filters, queue
from app.services.assessments import AlreadyReplacedError
from tests.fixtures import TestClock, record_assessment
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
    assert f'href="{result}/mistake">I answered by mistake</a>' in client.get(result).text
    page = client.get(f"{result}/mistake")  # asked first: nothing changes yet
    assert "Yes, change my answers" in page.text
    return client.post(
        f"{result}/change", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )


def test_the_emergency_result_offers_to_change_the_answers(client: TestClient) -> None:
    result = emergency_result(client)
    html = client.get(result).text
    # A quiet link, not a button: it must not compete with the call button.
    assert f'<a class="quiet-link" href="{result}/mistake">I answered by mistake</a>' in html
    confirm = client.get(f"{result}/mistake").text
    form = re.search(r'<form method="post" action="([^"]+)">\s*<input type="hidden"', confirm)
    assert form is not None
    assert form.group(1) == f"{result}/change"
    assert f'href="{result}">No, go back to my result</a>' in confirm
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
    for later in (f"{prefix}/questions/warning_signs", f"{prefix}/check", prefix):
        skipped = client.get(later, follow_redirects=False)
        assert skipped.headers["location"] == f"{prefix}/questions/{EMERGENCY_PAGE}", later


def test_a_mistake_on_an_earlier_page_of_a_correction_comes_back_with_its_error(
    client: TestClient, db: Session
) -> None:
    """The emergency answer still stands while it is being corrected: a wrong answer on a page
    before it is shown with its error, as anywhere else, not dropped on the way on."""
    result = emergency_result(client)
    begin(client, result)
    prefix = f"{result}/change"
    response = post_page(
        client, f"{prefix}/questions/{FIRST_PAGE}", {"age": "130", "pregnant": "no"}
    )
    assert response.status_code == 400
    assert "There is a problem" in response.text
    earlier = client.get(f"{prefix}/questions/{FIRST_PAGE}")
    assert f'value="{self_care_answers()["age"]}"' in earlier.text  # the stored age kept
    assert len(records(db)) == 1


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


def test_the_staff_queue_keeps_a_corrected_emergency_until_it_is_reviewed(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    _, result = intake_emergency(client, db, clinic)
    urgent = ("emergency", "urgent")
    assert queue.count_unreviewed_urgent(db, clinic_id=clinic.id, urgent=urgent) == 1
    begin(client, result)
    run_interview(client, self_care_answers(), prefix=f"{result}/change")

    old, new = records(db)

    def listed(search: str = "") -> list[queue.Submission]:
        rows, total = queue.list_submissions(
            db, clinic_id=clinic.id, filters=filters.Filters(search=search), urgent=urgent
        )
        assert total == len(rows)
        return rows

    # The original first (an emergency), marked as corrected; the correction says what it replaced.
    first, second = listed()
    assert (first.assessment.id, second.assessment.id) == (old.id, new.id)
    assert first.corrected_at == new.created_at
    assert (second.replaces_id, second.replaces_level) == (old.id, "emergency")
    assert queue.count_unreviewed_urgent(db, clinic_id=clinic.id, urgent=urgent) == 1
    assert old.reference is not None
    assert [s.assessment.id for s in listed(old.reference.lower())] == [old.id]

    old.reviewed_at = new.created_at
    db.add(old)
    db.commit()
    assert [s.assessment.id for s in listed()] == [new.id]
    assert queue.count_unreviewed_urgent(db, clinic_id=clinic.id, urgent=urgent) == 0
    kept = queue.get_submission(db, clinic_id=clinic.id, assessment_id=str(old.id))
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


# -- When a correction is allowed: a window, and never once the clinic has it ----------------------

WINDOW = timedelta(minutes=30)  # corrections.CORRECTION_WINDOW (hazard H51)


def change_refused(client: TestClient, result: str) -> httpx.Response:
    page = client.get(result)
    assert "I answered by mistake" not in page.text  # no button
    csrf = csrf_of(client.get(f"{result}/delete").text)  # a form of the same person's
    return client.post(f"{result}/change", data={"csrf_token": csrf}, follow_redirects=False)


def test_a_correction_is_offered_until_the_window_ends(
    client: TestClient, db: Session, clock: TestClock
) -> None:
    result = emergency_result(client)
    clock.advance(WINDOW - timedelta(minutes=1))
    assert "I answered by mistake" in client.get(result).text
    clock.advance(timedelta(minutes=2))

    refused = change_refused(client, result)
    assert refused.status_code == 409
    assert "It is too late to change these answers" in refused.text
    assert "30 minutes" in refused.text
    assert 'href="/">start a new assessment</a>' in refused.text
    assert db.exec(select(Draft)).all() == []
    [stored] = records(db)
    assert stored.replaced_by_id is None


def test_the_window_ends_a_correction_under_way(
    client: TestClient, db: Session, clock: TestClock
) -> None:
    result = emergency_result(client)
    begin(client, result)
    run_interview(client, self_care_answers(), prefix=f"{result}/change", until="/check")
    page = client.get(f"{result}/change/check")
    clock.advance(WINDOW)

    response = client.post(
        f"{result}/change/check", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 409
    assert "too late" in response.text
    [stored] = records(db)  # nothing stored, the emergency stands
    assert (stored.triage_level, stored.replaced_by_id) == ("emergency", None)


def test_the_window_runs_from_the_first_result_of_a_line(
    client: TestClient, db: Session, clock: TestClock
) -> None:
    """Correcting to another emergency, and again, does not stretch the window."""
    result = emergency_result(client)
    clock.advance(WINDOW - timedelta(minutes=5))
    begin(client, result)
    answer(client, f"{result}/change", EMERGENCY_PAGE, {**self_care_answers(), **MISTAP})
    assert len(records(db)) == 2
    clock.advance(timedelta(minutes=6))
    assert change_refused(client, result).status_code == 409


def test_no_correction_once_staff_reviewed_it(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    _, result = intake_emergency(client, db, clinic)
    [stored] = records(db)
    stored.reviewed_at = stored.created_at
    db.add(stored)
    db.commit()

    refused = change_refused(client, result)
    assert refused.status_code == 409
    assert "Riverside Physio has already looked at your result" in refused.text
    assert "contact <strong>Riverside Physio</strong>" in refused.text
    assert client.get(f"{result}/change/questions/{FIRST_PAGE}").status_code == 409
    assert db.exec(select(Draft)).all() == []


def test_no_correction_once_the_clinic_was_alerted_and_the_alert_stands(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    clinic.alert_email = "alerts@riverside.example"
    db.add(clinic)
    db.commit()
    _, result = intake_emergency(client, db, clinic)
    [stored] = records(db)
    alerts_before = db.exec(select(Alert).where(Alert.assessment_id == stored.id)).all()
    assert len(alerts_before) == 1  # queued counts: it may be on its way

    refused = change_refused(client, result)
    assert refused.status_code == 409
    assert "Riverside Physio has already been told about your result" in refused.text
    db.expire_all()
    [alert] = db.exec(select(Alert)).all()
    assert alert.id == alerts_before[0].id  # not cancelled, nothing new
    assert records(db)[0].replaced_by_id is None


def test_a_review_that_comes_during_a_correction_stops_it(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    _, result = intake_emergency(client, db, clinic)
    begin(client, result)
    run_interview(client, self_care_answers(), prefix=f"{result}/change", until="/check")
    page = client.get(f"{result}/change/check")
    [stored] = records(db)
    stored.reviewed_at = stored.created_at
    db.add(stored)
    db.commit()

    response = client.post(
        f"{result}/change/check", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 409
    assert "already looked at" in response.text
    assert [r.id for r in records(db)] == [stored.id]


@pytest.mark.parametrize("clinic_has", ["review", "alert"])
def test_the_write_path_never_replaces_what_the_clinic_has(
    client: TestClient, db: Session, clinic: Clinic, clinic_has: str
) -> None:
    """Decided by the row in the same statement, whatever was checked before (a race)."""
    q = client.app.state.registry.default  # type: ignore[attr-defined]
    old = record_assessment(
        db, q, {**self_care_answers(), **MISTAP}, channel="intake", clinic_id=clinic.id
    )
    if clinic_has == "review":
        db.execute(
            update(Assessment).where(Assessment.id == old.id).values(reviewed_at=old.created_at)  # type: ignore[arg-type]
        )
    else:
        db.add(Alert(clinic_id=clinic.id, assessment_id=old.id, kind="email"))
    db.commit()
    with pytest.raises(AlreadyReplacedError):
        record_assessment(db, q, self_care_answers(), channel="intake", replaces=old.id)
    db.rollback()
    assert [r.id for r in records(db)] == [old.id]


def test_the_new_result_says_it_replaced_an_earlier_one(client: TestClient, db: Session) -> None:
    result = emergency_result(client)
    [old] = records(db)
    begin(client, result)
    location, _ = run_interview(client, self_care_answers(), prefix=f"{result}/change")
    page = client.get(location).text
    earlier = old.created_at.strftime("%-d %B %Y at %H:%M UTC")
    assert f"This result replaces your earlier one from {earlier}" in page
    assert "replaces your earlier one" not in client.get(emergency_result(client)).text


# -- The line of corrections: one query, and erased whole however long ------------------------------


def long_line(db: Session, q: Any, length: int, **options: Any) -> tuple[list[uuid.UUID], str]:
    """``length`` emergency records, each replacing the one before: their ids, oldest first,
    and the first one's result link token."""
    ids: list[uuid.UUID] = []
    token = ""
    for _ in range(length):
        recorded = record_assessment(
            db,
            q,
            {**self_care_answers(), **MISTAP},
            replaces=ids[-1] if ids else None,
            **options,
        )
        token = token or (recorded.result_token or "")
        ids.append(recorded.id)
    db.commit()
    return ids, token


@contextmanager
def statements(db: Session) -> Iterator[list[str]]:
    """The SQL statements run on ``db``'s engine meanwhile."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_result_link_finds_the_newest_of_a_long_line_in_two_queries(
    client: TestClient, db: Session
) -> None:
    q = client.app.state.registry.default  # type: ignore[attr-defined]
    ids, token = long_line(db, q, 150, channel="web")
    db.expire_all()
    with statements(db) as seen:
        newest = assessments.get_by_result_token(db, token)
    assert newest is not None
    assert newest.id == ids[-1]
    assert len(seen) == 2  # the link's own record, then the line after it
    only, only_token = long_line(db, q, 1, channel="web")
    db.expire_all()
    with statements(db) as seen:
        found = assessments.get_by_result_token(db, only_token)
    assert found is not None
    assert found.id == only[0]
    assert len(seen) == 1  # never corrected (most records): no recursive query
    middle = db.get(Assessment, ids[70])
    assert middle is not None
    with statements(db) as seen:
        line = assessments.line_of(db, middle)
    assert [each.id for each in line] == ids
    assert len(seen) == 1


def test_deleting_erases_a_line_of_150_corrections_at_once(client: TestClient, db: Session) -> None:
    q = client.app.state.registry.default  # type: ignore[attr-defined]
    _, token = long_line(db, q, 150, channel="web")
    result = f"/result/{token}"
    confirm = client.get(f"{result}/delete")
    response = client.post(
        f"{result}/delete", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/deleted"
    assert records(db) == []
    assert client.get(result).status_code == 404


def test_removing_a_clinic_result_page_removes_every_link_of_a_line_of_150(
    client: TestClient, db: Session, clinic: Clinic
) -> None:
    q = client.app.state.registry.default  # type: ignore[attr-defined]
    _, token = long_line(db, q, 150, channel="intake", clinic_id=clinic.id)
    result = f"/result/{token}"
    confirm = client.get(f"{result}/delete")
    client.post(f"{result}/delete", data={"csrf_token": csrf_of(confirm.text)})
    kept = records(db)
    assert len(kept) == 150  # the clinic's copies stay
    assert all(r.result_token_hash is None for r in kept)
    assert client.get(result).status_code == 404
