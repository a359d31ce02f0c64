"""Every patient page renders, for every kind of answer and every triage level."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.answer_text import unit_for
from tests.web.helpers import run_interview, safety_answers, self_care_answers


def test_the_start_page_says_what_this_is_that_it_lets_everyone_in_and_how_long_it_takes(
    client: TestClient,
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "<h1" in page.text
    assert "Check your back pain" in page.text
    # Nobody is turned away: the questions triage these (issue 26).
    assert "Who this is for" in page.text
    assert "Who this is not for" not in page.text
    assert "you can still answer" in page.text
    assert "accident" in page.text
    assert "disc problem" in page.text
    assert "unwell" in page.text
    assert "about 10 minutes" in page.text
    assert 'href="/questions/about_you"' in page.text
    assert "Start now" in page.text


def test_every_page_of_an_interview_renders(client: TestClient) -> None:
    _, visited = run_interview(client, self_care_answers(), until="/check")
    for location in visited:
        page = client.get(location)
        assert page.status_code == 200, location
        assert page.text.count("<h1") == 1, location
        assert 'lang="en-GB"' in page.text


@pytest.mark.parametrize(
    ("page_id", "image", "alt"),
    [
        ("squat", "check-squat.svg", "A person in a deep squat with heels flat on the floor"),
        ("bridge", "check-bridge.svg", "A person lying on their back with knees bent"),
        ("hang", "check-hang.svg", "A person holding an overhead bar with straight arms"),
    ],
)
def test_a_movement_check_shows_its_picture_with_alt_text(
    client: TestClient, page_id: str, image: str, alt: str
) -> None:
    run_interview(client, self_care_answers(), until=f"/questions/{page_id}")
    page = client.get(f"/questions/{page_id}")
    assert page.status_code == 200
    assert f'<img class="question-image" src="/static/exercises/{image}" alt="{alt}' in page.text
    assert client.get(f"/static/exercises/{image}").status_code == 200


def test_a_question_without_a_picture_has_none(client: TestClient) -> None:
    run_interview(client, self_care_answers(), until="/questions/joints_and_balance")
    page = client.get("/questions/joints_and_balance")
    assert page.status_code == 200
    assert "question-image" not in page.text


@pytest.mark.parametrize(
    ("answers", "title"),
    [
        (safety_answers(both_legs=True), "Get medical help now"),
        ({**self_care_answers(), "night_pain": True}, "Speak to a doctor today"),
        (
            {**self_care_answers(), "spine_diagnosis": ["disc_bulge"]},
            "Book an appointment before you start",
        ),
        (self_care_answers(), "You can start the programme"),
    ],
)
def test_the_result_page_renders_for_every_level(
    client: TestClient, answers: dict[str, object], title: str
) -> None:
    location, _ = run_interview(client, answers)
    page = client.get(location)
    assert page.status_code == 200
    assert f'<h1 class="outcome__title">{title}</h1>' in page.text
    assert "Delete my answers and result" in page.text


def test_the_advice_page_renders(client: TestClient) -> None:
    _, visited = run_interview(
        client, {**self_care_answers(), "cancer_history": True}, until="/advice"
    )
    page = client.get(visited[-1])
    assert page.status_code == 200
    assert "Speak to a doctor today" in page.text
    assert "Answer the rest of the questions" in page.text


def test_the_urgent_advice_page_leads_with_speaking_to_a_doctor_today(client: TestClient) -> None:
    _, visited = run_interview(client, {**self_care_answers(), "fever": True}, until="/advice")
    html = client.get(visited[-1]).text
    stop = html.index('<button type="submit" class="button">Speak to a doctor today: see what')
    going_on = html.index(
        'class="button button--secondary" href="/questions/pain_story" role="button"'
    )
    # The way to get help comes first and is the primary button; going on is secondary.
    assert stop < html.index("Why we say this") < going_on
    assert 'action="/stop"' in html[html.rindex("<form", 0, stop) : stop]
    assert 'class="button" href=' not in html  # no other primary button
    # A back link to the page just answered.
    assert '<a class="back-link" href="/questions/health_history">Back</a>' in html


def test_the_see_a_doctor_advice_page_leads_with_see_my_result(client: TestClient) -> None:
    _, visited = run_interview(client, {**self_care_answers(), "pregnant": True}, until="/advice")
    html = client.get(visited[-1]).text
    assert '<button type="submit" class="button">See my result</button>' in html
    assert "button button--secondary" in html
    assert '<a class="back-link" href="/questions/health_history">Back</a>' in html


def test_the_advice_page_while_changing_an_answer_goes_back_to_that_page(
    client: TestClient,
) -> None:
    run_interview(client, {**self_care_answers(), "fever": True}, until="/check")
    html = client.get("/advice?next=pain_story&change=1").text
    assert 'class="back-link" href="/questions/health_history?change=1"' in html


def test_the_advice_page_without_a_reason_goes_back_to_the_questions(client: TestClient) -> None:
    response = client.get("/advice?next=pain_story", follow_redirects=False)
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("unit", "value", "shown"),
    [
        ("days", 1, "day"),
        ("days", 2, "days"),
        ("days", 0, "days"),
        ("minutes a week", 1, "minute a week"),
        ("hours", 1.0, "hour"),
        ("hours", 1.5, "hours"),
        ("kg", 1, "kg"),
    ],
)
def test_units_are_singular_for_one(unit: str, value: float, shown: str) -> None:
    assert unit_for(unit, value) == shown
