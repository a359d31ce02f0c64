"""A person checks in at their result's private link: the plan moves on and says why."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Assessment, Checkin
from tests.fixtures import (
    CHECKIN_BLOCKS,
    CHECKIN_SIGNS,
    TestClock,
    count_evaluations,
)
from tests.support.answers import checkin

from .helpers import csrf_of, form_fields, post_page, run_interview, self_care_answers

BLOCKS = CHECKIN_BLOCKS
SIGNS = CHECKIN_SIGNS


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


def test_a_check_in_moves_a_block_up_and_says_why(
    client: TestClient, db: Session, clock: TestClock
) -> None:
    url = result_url(client)
    clock.advance(timedelta(days=8))  # a step up needs a week on the step
    form = client.get(f"{url}/checkin")
    assert form.status_code == 200
    assert "Any new warning signs?" in form.text
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
    client: TestClient, db: Session, clock: TestClock
) -> None:
    url = result_url(client)
    clock.advance(timedelta(days=8))  # a step up needs a week on the step
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


def test_a_check_in_that_needs_a_doctor_keeps_the_plan_but_moves_nothing_on(
    client: TestClient, db: Session, clock: TestClock
) -> None:
    url = result_url(client)
    clock.advance(timedelta(days=8))  # a step up would be due at self-care
    answers = checkin(
        global_change="much_worse",
        hip_bridge_feel="too_easy",
        hip_bridge_days=7,
        pelvic_tilts_feel="made_pain_worse",
    )
    post_page(client, f"{url}/checkin", form_fields(answers))
    page = client.get(url).text
    assert "Book an appointment" in page
    # (1.1) At see-a-doctor the plan stays, with pauses only: not on hold, nothing moved up.
    assert "on hold" not in page
    assert "Do not move on to harder steps" in page
    assert "stop the exercises marked as paused" in page
    this_week = page[page.index('id="this-week"') : page.index('id="plan"')]
    assert "Pelvic tilts</a>: paused." in this_week
    assert "Hip bridge</a>: Single-leg bridge" in this_week
    # A later check-in where the programme fits again: its advice no longer leads.
    post_page(client, f"{url}/checkin", form_fields(checkin()))
    page = client.get(url).text
    assert "Do not move on to harder steps" not in page
    assert "The plan below is your plan from that check-in on." in page
    assert 'id="this-week"' in page


def test_a_see_a_doctor_check_in_stored_by_1_0_0_still_puts_the_plan_on_hold(
    client: TestClient, db: Session
) -> None:
    url = result_url(client)
    post_page(client, f"{url}/checkin", form_fields(checkin(global_change="much_worse")))
    # As check-in 1.0.0 stored it: no plan at see-a-doctor (1.1.0 keeps it, with pauses).
    [row] = db.exec(select(Checkin)).all()
    row.questionnaire_version = "1.0.0"
    row.result = {
        **row.result,
        "questionnaire": {"id": "low-back-checkin", "version": "1.0.0"},
        "plan": None,
        "changes": [],
    }
    db.add(row)
    db.commit()
    page = client.get(url).text
    assert "Book an appointment" in page
    assert "Your exercise plan is on hold" in page
    assert 'id="this-week"' not in page


def test_a_warning_sign_at_a_check_in_puts_the_plan_on_hold_on_the_result_page(
    client: TestClient,
) -> None:
    url = result_url(client)
    post_page(client, f"{url}/checkin", form_fields(checkin(fever=True)))
    page = client.get(url).text
    assert "Your exercise plan is on hold" in page
    assert 'id="this-week"' not in page
    # A later check-in where the programme fits again brings the plan back.
    post_page(client, f"{url}/checkin", form_fields(checkin()))
    page = client.get(url).text
    assert "on hold" not in page
    assert 'id="this-week"' in page


HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(html: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in HIDDEN.findall(html) if k != "csrf_token"]


def next_page(
    client: TestClient, url: str, html: str, answers: dict[str, Any], **extra: str
) -> Any:
    """Send one page as a browser does: its hidden fields (the page, earlier answers) and the
    answers to the questions on it."""
    names = set(re.findall(r'<input[^>]+name="([^"]+)"[^>]*type="(?:radio|number|text)"', html))
    names |= set(re.findall(r'<input[^>]+type="(?:radio|number|text)"[^>]*name="([^"]+)"', html))
    data = [*hidden_fields(html), *((k, v) for k, v in form_fields(answers).items() if k in names)]
    data += [("csrf_token", csrf_of(html)), *extra.items()]
    return client.post(
        url,
        content=urlencode(data),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def test_the_check_in_is_a_few_pages_and_nothing_is_kept_before_the_last(
    client: TestClient, db: Session
) -> None:
    url = result_url(client)
    answers = checkin(hip_bridge_feel="too_easy", hip_bridge_days=5)
    page = client.get(f"{url}/checkin")
    assert "page 1 of 11" in page.text  # four of warning signs, pain, change, five blocks
    assert "Any new warning signs?" in page.text
    assert 'name="pain_now"' not in page.text
    titles = []
    for _ in range(14):
        titles.append(re.search(r'<h1 class="heading-l">([^<]+)</h1>', page.text)[1])  # type: ignore[index]
        last = "Send my check-in" in page.text
        page = next_page(client, f"{url}/checkin", page.text, answers)
        if last:
            break
        assert page.status_code == 200, titles
        assert db.exec(select(Checkin)).all() == []  # nothing kept yet
    assert page.status_code == 303
    assert titles[:6] == [
        "Any new warning signs?",
        "Your legs, and falls",
        "Other warning signs",
        "Your back, and pregnancy",
        "Pain and daily life",
        "Since you started",
    ]
    assert len(titles) == 11
    [stored] = db.exec(select(Checkin)).all()
    assert stored.answers == answers
    assert any(c["block"] == "hip_bridge" for c in stored.result["changes"])


def test_a_warning_sign_on_the_first_page_ends_the_check_in_at_once(
    client: TestClient, db: Session
) -> None:
    url = result_url(client)
    page = client.get(f"{url}/checkin")
    sent = next_page(
        client,
        f"{url}/checkin",
        page.text,
        {**dict.fromkeys(SIGNS, False), "saddle_numbness": True},
    )
    assert sent.status_code == 303
    assert "Get medical help now" in client.get(sent.headers["location"]).text
    assert db.exec(select(Checkin)).one().triage_level == "emergency"


def test_back_keeps_the_answers_and_a_missing_answer_is_asked_on_its_page(
    client: TestClient, db: Session
) -> None:
    url = result_url(client)
    page = client.get(f"{url}/checkin")
    for _ in range(3):  # the first three pages of warning signs; fever on the third
        page = next_page(client, f"{url}/checkin", page.text, checkin(fever=True))
    fourth = page
    assert fourth.status_code == 200
    assert "page 4 of" in fourth.text
    back = next_page(client, f"{url}/checkin", fourth.text, {}, go="back")
    assert back.status_code == 200
    assert "page 3 of" in back.text
    assert 'name="fever" type="radio" value="yes" checked' in back.text
    second = next_page(client, f"{url}/checkin", back.text, checkin(fever=True))
    assert "page 4 of" in second.text
    # The last warning-sign page sent with nothing on it: asked again there, nothing stored.
    again = next_page(client, f"{url}/checkin", second.text, {})
    assert again.status_code == 422
    assert "page 4 of" in again.text
    assert "Are you pregnant?" in again.text
    assert db.exec(select(Checkin)).all() == []
    # Then the pain page, the same way.
    pain = next_page(client, f"{url}/checkin", second.text, checkin(fever=True))
    assert "page 5 of" in pain.text
    again = next_page(client, f"{url}/checkin", pain.text, {})
    assert again.status_code == 422
    assert "page 5 of" in again.text
    assert "How bad is your back pain right now?" in again.text
    assert db.exec(select(Checkin)).all() == []


def test_an_emergency_sign_with_the_other_signs_unanswered_is_sent_at_once(
    client: TestClient, db: Session
) -> None:
    url = result_url(client)
    page = client.get(f"{url}/checkin")
    sent = next_page(client, f"{url}/checkin", page.text, {"bladder_change": True})
    assert sent.status_code == 303
    [stored] = db.exec(select(Checkin)).all()
    assert stored.triage_level == "emergency"
    assert stored.answers == {"bladder_change": True}


def test_back_then_forward_keeps_the_later_pages_answers(client: TestClient) -> None:
    url = result_url(client)
    answers = checkin(pain_now=6, global_change="much_better")
    page = client.get(f"{url}/checkin")
    for _ in range(4):  # the warning signs
        page = next_page(client, f"{url}/checkin", page.text, answers)
    second = page
    third = next_page(client, f"{url}/checkin", second.text, answers)
    assert "Since you started" in third.text
    back = next_page(client, f"{url}/checkin", third.text, answers, go="back")
    assert "Pain and daily life" in back.text
    assert 'name="pain_now" type="radio" value="6" checked' in back.text
    again = next_page(client, f"{url}/checkin", back.text, answers)  # the pain page again
    assert again.status_code == 200
    assert 'value="much_better" checked' in again.text


def test_an_emergency_at_a_check_in_leads_the_result_page_with_the_call_button(
    client: TestClient,
) -> None:
    url = result_url(client)
    post_page(client, f"{url}/checkin", form_fields({"saddle_numbness": True}))
    page = client.get(url).text
    h1 = re.findall(r"<h1[^>]*>([^<]+)</h1>", page)
    assert len(h1) == 1
    assert h1[0].endswith("Get medical help now")
    assert page.index("Call 999") < page.index("Your result from")
    assert "Your exercise plan is on hold" in page


def test_the_same_check_in_sent_again_shows_the_one_stored(client: TestClient, db: Session) -> None:
    url = result_url(client)
    first = post_page(client, f"{url}/checkin", form_fields(checkin()))
    again = post_page(client, f"{url}/checkin", form_fields(checkin()))
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["location"] == first.headers["location"]
    assert len(db.exec(select(Checkin)).all()) == 1


def test_past_the_days_limit_the_page_says_when_the_next_check_in_is_possible(
    client: TestClient, db: Session, clock: TestClock
) -> None:
    url = result_url(client)
    for pain in (2, 3, 4):  # CHECKINS_PER_DAY: 3
        sent = post_page(client, f"{url}/checkin", form_fields(checkin(pain_now=pain)))
        assert sent.status_code == 303, sent.text
        clock.advance(timedelta(hours=1))
    refused = post_page(client, f"{url}/checkin", form_fields(checkin(pain_now=5)))
    assert refused.status_code == 429
    assert abs(int(refused.headers["Retry-After"]) - 21 * 3600) < 120
    first = min(c.created_at for c in db.exec(select(Checkin)).all())
    next_at = (first + timedelta(days=1)).astimezone(ZoneInfo("Europe/London"))
    assert "You have checked in 3 times today" in refused.text
    assert f"{next_at:%H:%M on %-d %B %Y}" in refused.text
    # A warning sign must not wait for the limit: the page says what to do now.
    assert "Call 999 or go to A&amp;E now" in refused.text
    assert len(db.exec(select(Checkin)).all()) == 3


def test_a_check_in_sent_from_the_pages_is_evaluated_once(
    client: TestClient, db: Session, clock: TestClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = result_url(client)
    clock.advance(timedelta(days=8))
    csrf = csrf_of(client.get(f"{url}/checkin").text)  # the form's own evaluation, not counted
    made = count_evaluations(monkeypatch)
    sent = post_page(client, f"{url}/checkin", form_fields(checkin()), csrf=csrf)
    assert sent.status_code == 303, sent.text
    assert made == ["low-back-checkin"]
    [stored] = db.exec(select(Checkin)).all()
    assert stored.result["ignored_answers"] == []
