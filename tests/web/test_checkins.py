"""A person checks in at their result's private link: the plan moves on and says why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Assessment, Checkin
from tests.fixtures import CHECKIN_BLOCKS, CHECKIN_SIGNS, checkin_answers

from .helpers import form_fields, post_page, run_interview, self_care_answers

BLOCKS = CHECKIN_BLOCKS
SIGNS = CHECKIN_SIGNS


def checkin(**changes: Any) -> dict[str, Any]:
    return checkin_answers(**{"peg_enjoyment": 4, **changes})


def result_url(client: TestClient) -> str:
    location, _ = run_interview(client, self_care_answers())
    assert location.startswith("/result/")
    return location


def test_the_result_offers_a_check_in_with_its_due_date_and_a_calendar_file(
    client: TestClient, db: Session
) -> None:
    url = result_url(client)
    page = client.get(url)
    assert f'href="{url}/checkin"' in page.text
    created = db.exec(select(Assessment)).one().created_at
    assert f"{(created + timedelta(weeks=2)):%-d %B %Y}" in page.text
    ics = client.get(f"{url}/checkins.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.text.count("BEGIN:VEVENT") == 3
    assert f"DTSTART;VALUE=DATE:{(created + timedelta(weeks=4)):%Y%m%d}" in ics.text


def test_a_check_in_moves_a_block_up_and_says_why(client: TestClient, db: Session) -> None:
    url = result_url(client)
    form = client.get(f"{url}/checkin")
    assert form.status_code == 200
    assert 'name="hip_bridge_feel"' in form.text
    sent = post_page(
        client,
        f"{url}/checkin",
        form_fields(checkin(hip_bridge_feel="too_easy", hip_bridge_days=5)),
    )
    assert sent.status_code == 303, sent.text
    shown = client.get(sent.headers["location"])
    assert "Keep going with your plan" in shown.text
    assert (
        "Hip bridge: moving on to Figure-4 bridge: you found Single-leg bridge too easy on 5 days."
        in shown.text
    )
    assert "Your pain over time" in shown.text
    [stored] = db.exec(select(Checkin)).all()
    assert stored.channel == "web"
    # The result page lists it.
    assert sent.headers["location"] in client.get(url).text


def test_a_warning_sign_in_a_check_in_leads_with_its_advice(client: TestClient) -> None:
    url = result_url(client)
    sent = post_page(
        client,
        f"{url}/checkin",
        form_fields({**dict.fromkeys(SIGNS, False), "bladder_change": True}),
    )
    assert sent.status_code == 303, sent.text
    shown = client.get(sent.headers["location"])
    assert "Get medical help now" in shown.text
    assert "Your plan from now on" not in shown.text


def test_missing_answers_are_named_and_nothing_is_stored(client: TestClient, db: Session) -> None:
    url = result_url(client)
    answers = checkin()
    answers.pop("pain_now")
    sent = post_page(client, f"{url}/checkin", form_fields(answers))
    assert sent.status_code == 422
    assert "There is a problem" in sent.text
    assert db.exec(select(Checkin)).all() == []


def test_four_weeks_on_and_not_better_is_see_a_doctor(client: TestClient, db: Session) -> None:
    url = result_url(client)
    record = db.exec(select(Assessment)).one()
    record.created_at = record.created_at - timedelta(weeks=5)  # time moved on
    db.add(record)
    db.commit()
    answers = checkin(global_change="same", pain_now=4, peg_pain=4, peg_enjoyment=4, peg_activity=4)
    sent = post_page(client, f"{url}/checkin", form_fields(answers))
    shown = client.get(sent.headers["location"])
    assert "Book an appointment" in shown.text
    assert db.exec(select(Checkin)).one().result["triage"]["reasons"][0]["code"] == "not_improving"


def test_deleting_the_result_deletes_its_check_ins(client: TestClient, db: Session) -> None:
    url = result_url(client)
    post_page(client, f"{url}/checkin", form_fields(checkin()))
    assert len(db.exec(select(Checkin)).all()) == 1
    deleted = post_page(client, f"{url}/delete", {})
    assert deleted.status_code == 303
    db.expire_all()
    assert db.exec(select(Checkin)).all() == []
    assert client.get(f"{url}/checkin").status_code == 404


def test_after_a_check_in_the_result_page_shows_the_plan_it_left_and_the_trend(
    client: TestClient, db: Session
) -> None:
    url = result_url(client)
    before = client.get(url).text
    assert "Your check-in on" not in before
    assert "Your pain over time" not in before
    post_page(
        client,
        f"{url}/checkin",
        form_fields(checkin(hip_bridge_feel="too_easy", hip_bridge_days=6, pain_now=2)),
    )
    page = client.get(url).text
    assert "Your check-in on" in page
    assert "The plan below is your plan from that check-in on." in page
    # The week's list names the step the check-in moved to, not the first result's.
    this_week = page[page.index('id="this-week"') : page.index('id="plan"')]
    assert "Hip bridge</a>: Figure-4 bridge" in this_week
    assert "Your pain over time" in page
    assert '<svg class="trend__svg"' in page


def test_a_check_in_that_needs_a_doctor_puts_the_plan_on_hold_on_the_result_page(
    client: TestClient, db: Session
) -> None:
    url = result_url(client)
    post_page(client, f"{url}/checkin", form_fields(checkin(global_change="much_worse")))
    page = client.get(url).text
    assert "Book an appointment" in page
    assert "Your exercise plan is on hold" in page
    assert 'id="this-week"' not in page
    # A later check-in where the programme fits again brings the plan back.
    post_page(client, f"{url}/checkin", form_fields(checkin()))
    page = client.get(url).text
    assert "on hold" not in page
    assert 'id="this-week"' in page
