"""Answers kept on the server between requests, and the private result page."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Assessment, Draft, utcnow
from app.services.drafts import DRAFT_LIFETIME
from tests.web.helpers import (
    FIRST_PAGE,
    csrf_of,
    form_fields,
    post_page,
    run_interview,
    safety_answers,
    self_care_answers,
)


def test_answers_survive_a_reload_in_a_new_browser_session_with_the_same_cookie(
    app: FastAPI, client: TestClient
) -> None:
    run_interview(client, self_care_answers(), until="pain_level")
    cookie = client.cookies["ba_draft"]

    with TestClient(app) as reloaded:
        reloaded.cookies.set("ba_draft", cookie)
        start = reloaded.get("/")
        assert "Carry on where you left off" in start.text
        assert 'href="/questions/pain_level"' in start.text
        page = reloaded.get("/questions/about_you")
        assert 'value="42"' in page.text


def test_without_the_cookie_nothing_is_shown(app: FastAPI, client: TestClient) -> None:
    run_interview(client, self_care_answers(), until="pain_level")
    with TestClient(app) as stranger:
        assert "Carry on where you left off" not in stranger.get("/").text
        assert 'value="42"' not in stranger.get(f"/questions/{FIRST_PAGE}").text
        response = stranger.get("/questions/about_you", follow_redirects=False)
        assert response.headers["location"] == f"/questions/{FIRST_PAGE}"


def test_abandoned_drafts_are_deleted_when_the_next_one_starts(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    post_page(client, f"/questions/{FIRST_PAGE}", form_fields(safety_answers()))
    [abandoned] = db.exec(select(Draft)).all()
    abandoned.updated_at = utcnow() - DRAFT_LIFETIME - timedelta(minutes=1)
    db.add(abandoned)
    recent = Draft(token_hash="0" * 64, questionnaire_id="low-back-audit", channel="web")
    recent.updated_at = utcnow() - DRAFT_LIFETIME + timedelta(hours=1)
    db.add(recent)
    db.commit()
    abandoned_id, recent_id = abandoned.id, recent.id

    with TestClient(app) as someone_else:
        post_page(someone_else, f"/questions/{FIRST_PAGE}", form_fields(safety_answers()))
    db.expire_all()
    kept = {d.id for d in db.exec(select(Draft)).all()}
    assert abandoned_id not in kept
    assert recent_id in kept
    assert len(kept) == 2  # the recent one and the new one


def test_only_a_hash_of_the_draft_token_is_stored(client: TestClient, db: Session) -> None:
    post_page(client, f"/questions/{FIRST_PAGE}", form_fields(safety_answers()))
    [draft] = db.exec(select(Draft)).all()
    assert draft.token_hash != client.cookies["ba_draft"]
    assert len(draft.token_hash) == 64
    assert draft.channel == "web"
    assert draft.intake_link_id is None


def test_the_result_page_shows_the_triage_first_then_contributors_then_the_plan(
    client: TestClient,
) -> None:
    location, _ = run_interview(client, self_care_answers())
    html = client.get(location).text

    order = [
        html.index("outcome outcome--self-care"),
        html.index('id="contributors"'),
        html.index('id="plan"'),
        html.index("How to use your plan"),
        html.index('id="help"'),
    ]
    assert order == sorted(order)
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in html
    assert "Sitting: 3 out of 3" in html  # the chart's text equivalent
    assert "Score: 3 out of 3, a strong factor" in html
    assert html.count('class="exercise exercise--focus"') == 3
    assert "Extra exercises, if you have time" in html
    # Each block at its starting step, with its picture and description.
    assert (
        'alt="A person in a bridge with shoulders and one foot on the floor' in html
    )  # bridge: single leg
    assert "Start with step 2 of 3" in html
    assert 'name="robots" content="noindex, nofollow"' in html


def test_the_result_of_someone_who_must_see_a_doctor_has_no_plan(client: TestClient) -> None:
    location, _ = run_interview(client, {**self_care_answers(), "fever": True}, on_advice="stop")
    html = client.get(location).text
    assert "outcome outcome--urgent" in html
    assert "Urgent: today" in html
    assert "A high temperature with back pain can be a sign of an infection." in html
    assert "exercise__image" not in html


def test_someone_who_must_see_a_doctor_is_not_told_to_wait_or_to_exercise(
    client: TestClient,
) -> None:
    answers = {**self_care_answers(), "fever": True, "strength_days_week": 1, "sitting_hours": 9}
    location, _ = run_interview(client, answers)  # finishes the lifestyle questions
    html = client.get(location).text
    assert "Strength" in html  # contributors are still shown...
    assert "Talk about these with your doctor." in html  # ...as things to discuss
    assert "Do not start new exercises until a doctor has checked you." in html
    assert "after a few weeks" not in html  # no "wait and see" safety net when urgent
    assert "Do not wait for your appointment" in html
    assert "in your plan" not in html
    assert "you said 1." in html  # never "1 days a week"


def test_a_self_care_result_keeps_the_wait_and_see_safety_net(client: TestClient) -> None:
    location, _ = run_interview(client, self_care_answers())
    html = client.get(location).text
    assert "See a GP if your pain has not got better after a few weeks" in html
    assert "Talk about these with your doctor." not in html


def test_an_unknown_result_link_is_not_found(client: TestClient) -> None:
    response = client.get("/result/not-a-real-token")
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_a_person_can_delete_their_result(client: TestClient, db: Session) -> None:
    location, _ = run_interview(client, self_care_answers())
    confirm = client.get(f"{location}/delete")
    assert confirm.status_code == 200
    assert "Are you sure you want to delete your result?" in confirm.text

    response = client.post(
        f"{location}/delete", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/deleted"
    assert "Your result has been deleted" in client.get("/deleted").text
    assert db.exec(select(Assessment)).all() == []
    assert client.get(location).status_code == 404
    assert client.get(f"{location}/delete").status_code == 404


def test_api_paths_keep_json_errors(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
