"""Whole interviews through the web form: self-care, emergency stop, see-a-doctor (stop early or
finish), back links and changing answers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Draft
from tests.fixtures import count_evaluations
from tests.support.records import stored_assessments
from tests.web.helpers import (
    EMERGENCY_PAGE,
    FIRST_PAGE,
    answer,
    csrf_of,
    form_fields,
    post_page,
    result_token,
    run_interview,
    safety_answers,
    self_care_answers,
)


def drafts(db: Session) -> list[Draft]:
    db.expire_all()
    return list(db.exec(select(Draft)).all())


def test_a_self_care_interview_ends_on_a_result_page_with_an_exercise_plan(
    client: TestClient, db: Session
) -> None:
    location, visited = run_interview(client, self_care_answers())

    page = client.get(location)
    assert page.status_code == 200
    assert "You can start the programme" in page.text
    assert "Your exercise plan" in page.text
    assert '<img class="exercise__image" src="/static/exercises/' in page.text
    assert "/check" in visited[-2]
    [record] = stored_assessments(db)
    assert record.channel == "web"
    assert record.complete
    assert record.triage_level == "self_care"
    assert record.result["plan"] is not None
    assert drafts(db) == []  # the draft goes when the assessment is stored


def test_every_visible_page_of_a_self_care_interview_is_asked_once_in_order(
    client: TestClient,
) -> None:
    _, visited = run_interview(client, self_care_answers())
    pages = [v.rsplit("/", 1)[-1] for v in visited if "/questions/" in v]
    assert pages[:5] == [
        FIRST_PAGE,
        EMERGENCY_PAGE,
        "warning_signs",
        "back_and_legs",
        "health_history",
    ]
    assert len(pages) == len(set(pages))
    # Branching from the engine: height and weight known, so no self-rating; sitting 9 hours,
    # so the question on breaks; no sport or weights, so no follow-up page.
    assert "height_weight" in pages
    assert "weight_rating" not in pages
    assert "sitting_breaks" in pages
    assert "sport_detail" not in pages
    assert pages[-5:] == ["joints_and_balance", "squat", "bridge", "hang", "sides"]


def test_an_emergency_sign_goes_straight_to_the_emergency_result(
    client: TestClient, db: Session
) -> None:
    answer(client, "", FIRST_PAGE, {"age": 42})
    response = answer(
        client,
        "",
        EMERGENCY_PAGE,
        {
            "saddle_numbness": True,
            "bladder_change": False,
            "bowel_change": False,
            "sexual_function_change": False,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/result/")

    page = client.get(response.headers["location"])
    assert "Get medical help now" in page.text
    assert "call 999" in page.text.lower()
    assert "cauda equina" in page.text
    assert "Your exercise plan" not in page.text
    assert "Possible cauda equina syndrome" not in page.text  # staff wording, never shown here
    [record] = stored_assessments(db)
    assert record.triage_level == "emergency"
    assert record.complete
    assert drafts(db) == []


def test_a_page_post_evaluates_the_answers_before_and_after_it_and_no_more(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once for the interview as it stood (which page may be answered, which questions it
    shows), once with the page's answers in; recording the emergency evaluates nothing again."""
    answer(client, "", FIRST_PAGE, {"age": 42})
    page = client.get(f"/questions/{EMERGENCY_PAGE}")
    evaluations = count_evaluations(monkeypatch)
    response = post_page(
        client,
        f"/questions/{EMERGENCY_PAGE}",
        {
            "saddle_numbness": "yes",
            "bladder_change": "no",
            "bowel_change": "no",
            "sexual_function_change": "no",
        },
        csrf=csrf_of(page.text),
    )
    assert response.headers["location"].startswith("/result/")
    assert len(evaluations) == 2
    assert stored_assessments(db)[0].triage_level == "emergency"


def test_an_emergency_sign_on_a_later_safety_page_also_stops_the_interview(
    client: TestClient, db: Session
) -> None:
    # Past cancer with new leg weakness (possible spinal cord compression): an emergency once
    # the health page says so, though each answer alone is only urgent.
    answers = safety_answers(leg_weakness=True, cancer_history=True)
    location, visited = run_interview(client, answers)
    assert location.startswith("/result/")
    assert [v.rsplit("/", 1)[-1] for v in visited[:-1]] == [
        FIRST_PAGE,
        EMERGENCY_PAGE,
        "warning_signs",
        "back_and_legs",
        "health_history",
    ]
    [record] = stored_assessments(db)
    assert record.triage_level == "emergency"


def test_later_pages_are_not_asked_after_an_emergency_sign(client: TestClient, db: Session) -> None:
    # An accident in the last 6 weeks is an emergency: the pages of the other warning signs
    # and health are never shown, and the interview cannot go on to them.
    answers = safety_answers(serious_accident="last_6_weeks")
    location, visited = run_interview(client, answers)
    assert location.startswith("/result/")
    assert not any("warning_signs" in v or "health_history" in v for v in visited)
    [record] = stored_assessments(db)
    assert record.triage_level == "emergency"
    assert [r["code"] for r in record.result["triage"]["reasons"]] == ["major_trauma"]


@pytest.mark.parametrize(
    ("page_id", "fields"),
    [
        (EMERGENCY_PAGE, {"saddle_numbness": "yes"}),  # the other seven left unanswered
        (EMERGENCY_PAGE, {"bowel_change": "yes", "saddle_numbness": "maybe"}),
        (EMERGENCY_PAGE, {"sexual_function_change": "yes"}),
        (EMERGENCY_PAGE, {"chest_pain": "yes", "serious_accident": ""}),
        (EMERGENCY_PAGE, {"serious_accident": "last_6_weeks"}),
    ],
)
def test_an_emergency_sign_is_not_held_up_by_other_unanswered_questions(
    client: TestClient, db: Session, page_id: str, fields: dict[str, str]
) -> None:
    answer(client, "", FIRST_PAGE, safety_answers())
    response = post_page(client, f"/questions/{page_id}", fields)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/result/")
    [record] = stored_assessments(db)
    assert record.triage_level == "emergency"
    assert "Get medical help now" in client.get(response.headers["location"]).text


def test_unanswered_questions_without_an_emergency_sign_are_still_errors(
    client: TestClient, db: Session
) -> None:
    answer(client, "", FIRST_PAGE, safety_answers())
    response = post_page(client, f"/questions/{EMERGENCY_PAGE}", {"saddle_numbness": "no"})
    assert response.status_code == 400
    assert 'href="#bladder_change' in response.text
    assert stored_assessments(db) == []


def test_an_answer_sent_twice_with_different_values_is_asked_again(
    client: TestClient, db: Session
) -> None:
    fields = {**form_fields(safety_answers()), "age": ["42", "24"]}
    response = post_page(client, f"/questions/{FIRST_PAGE}", fields)
    assert response.status_code == 400
    assert "Give one answer only" in response.text
    assert drafts(db) == []

    answer(client, "", FIRST_PAGE, safety_answers())
    fields = {**form_fields(safety_answers()), "bladder_change": ["no", "yes"]}
    response = post_page(client, f"/questions/{EMERGENCY_PAGE}", fields)
    assert response.status_code == 400
    assert "Give one answer only" in response.text
    assert stored_assessments(db) == []


def test_someone_told_to_see_a_doctor_can_stop_early_and_get_their_result(
    client: TestClient, db: Session
) -> None:
    answers = {**self_care_answers(), "pregnant": True}
    location, visited = run_interview(client, answers, on_advice="stop")

    assert any("/advice?next=pain_story" in v for v in visited)
    page = client.get(location)
    assert "Book an appointment before you start" in page.text
    assert "You stopped before the end" in page.text
    [record] = stored_assessments(db)
    assert record.triage_level == "see_doctor"
    assert not record.complete
    assert record.result["plan"] is None
    assert drafts(db) == []


def test_someone_told_to_see_a_doctor_can_finish_the_questions_for_their_appointment(
    client: TestClient, db: Session
) -> None:
    answers = {**self_care_answers(), "pregnant": True}
    location, visited = run_interview(client, answers, on_advice="continue")

    pages = [v.rsplit("/", 1)[-1] for v in visited if "/questions/" in v]
    assert "smoking" in pages
    assert "squat" not in pages  # never ask someone who should see a doctor to try a squat
    page = client.get(location)
    assert "Habits linked with back pain, and what may help" in page.text
    assert "Your exercise plan" not in page.text
    [record] = stored_assessments(db)
    assert record.complete
    assert record.triage_level == "see_doctor"


def test_the_advice_page_comes_when_a_reason_appears_after_the_safety_check(
    client: TestClient,
) -> None:
    answers = {**self_care_answers(), "pain_trend": "worse"}
    _, visited = run_interview(client, answers, until="/advice")
    # (2.1) After the pain's story comes how it has gone lately (6 weeks to 3 months).
    assert visited[-1].endswith("/advice?next=pain_course")


def test_recent_ordinary_back_pain_gets_the_programme(client: TestClient, db: Session) -> None:
    # 2.0.0: pain for less than 6 weeks that came on when lifting is no reason to see a doctor.
    answers = {
        **self_care_answers(),
        "pain_duration": "under_6_weeks",
        "onset": "lifting_or_twisting",
    }
    location, visited = run_interview(client, answers)
    assert not any("/advice" in v for v in visited)
    assert "Your exercise plan" in client.get(location).text
    [record] = stored_assessments(db)
    assert record.triage_level == "self_care"


def test_the_advice_page_is_not_repeated_for_a_reason_of_the_same_level(
    client: TestClient,
) -> None:
    answers = {**self_care_answers(), "pregnant": True, "pain_trend": "worse"}
    _, visited = run_interview(client, answers, on_advice="continue")
    assert len([v for v in visited if "/advice" in v]) == 1


def test_question_pages_offer_to_stop_once_a_doctor_is_advised(client: TestClient) -> None:
    run_interview(client, {**self_care_answers(), "fever": True}, until="/advice")
    page = client.get("/questions/pain_story")
    assert "Stop now and see my result" in page.text
    assert "speak to a doctor today" in page.text


def test_the_back_link_goes_to_the_previous_page_and_keeps_its_answers(
    client: TestClient,
) -> None:
    run_interview(client, self_care_answers(), until="back_and_legs")
    page = client.get("/questions/back_and_legs")
    assert 'class="back-link" href="/questions/warning_signs"' in page.text

    previous = client.get("/questions/warning_signs")
    assert f'class="back-link" href="/questions/{EMERGENCY_PAGE}"' in previous.text
    assert 'id="fever-no" name="fever" type="radio" value="no" checked' in previous.text


def test_answering_an_earlier_page_again_goes_on_to_the_next_page(client: TestClient) -> None:
    run_interview(client, self_care_answers(), until="back_and_legs")
    response = answer(client, "", EMERGENCY_PAGE, self_care_answers())
    assert response.headers["location"] == "/questions/warning_signs"


def test_pages_cannot_be_skipped(client: TestClient) -> None:
    response = client.get("/questions/sleep", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/questions/{FIRST_PAGE}"


def test_a_page_hidden_by_branching_is_not_shown(client: TestClient) -> None:
    run_interview(client, self_care_answers(), until="/check")
    response = client.get("/questions/weight_rating", follow_redirects=False)
    assert response.status_code == 303


def test_an_unknown_page_is_not_found(client: TestClient) -> None:
    response = client.get("/questions/nope")
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_check_answers_lists_every_answer_with_a_change_link(client: TestClient) -> None:
    run_interview(client, self_care_answers(), until="/check")
    page = client.get("/check")
    assert page.status_code == 200
    assert "Check your answers" in page.text
    assert "175 cm (5 ft 9 in)" in page.text
    assert "None of these" in page.text
    # Each change link carries its row, to come back to, and the level the answers have now.
    assert 'href="/questions/height_weight?change=1&amp;row=height_cm&amp;was=self_care"' in (
        page.text
    )
    assert '<div class="summary-list__row" id="row-height_cm" tabindex="-1">' in page.text
    assert 'Change<span class="visually-hidden"> your answer to: How old are you?' in page.text


def test_check_answers_before_the_end_goes_back_to_the_questions(client: TestClient) -> None:
    response = client.get("/check", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/questions/{FIRST_PAGE}"


def test_changing_an_answer_returns_to_check_answers(client: TestClient, db: Session) -> None:
    run_interview(client, self_care_answers(), until="/check")
    page = client.get("/questions/sleep?change=1")
    assert 'class="back-link" href="/check"' in page.text
    assert 'name="change" value="1"' in page.text
    response = post_page(
        client,
        "/questions/sleep?change=1",
        {"sleep_hours": "8", "sleep_quality": "good", "wakes_stiff": "no", "change": "1"},
    )
    assert response.headers["location"] == "/check"
    [draft] = drafts(db)
    assert draft.answers["sleep_hours"] == 8


def test_a_change_returns_to_its_row_with_the_focus_on_it(client: TestClient) -> None:
    run_interview(client, self_care_answers(), until="/check")
    url = "/questions/sleep?change=1&row=sleep_hours&was=self_care"
    page = client.get(url)
    assert 'class="back-link" href="/check?row=sleep_hours&amp;was=self_care#row-sleep_hours"' in (
        page.text
    )
    assert '<input type="hidden" name="row" value="sleep_hours">' in page.text
    assert '<input type="hidden" name="was" value="self_care">' in page.text
    response = post_page(
        client,
        url,
        {
            "sleep_hours": "6",
            "sleep_quality": "good",
            "wakes_stiff": "no",
            "change": "1",
            "row": "sleep_hours",
            "was": "self_care",
        },
    )
    location = response.headers["location"]
    assert location == "/check?row=sleep_hours&was=self_care#row-sleep_hours"
    check = client.get(location.split("#")[0]).text
    assert (
        '<div class="summary-list__row summary-list__row--changed" id="row-sleep_hours"'
        ' tabindex="-1" autofocus>'
    ) in check
    assert check.count("autofocus") == 1
    assert "Your answer changed what we advise" not in check  # still self-care


def test_a_change_that_alters_the_outcome_says_so_at_its_row_and_before_the_result(
    client: TestClient,
) -> None:
    run_interview(client, self_care_answers(), until="/check")
    fields = {
        **dict.fromkeys(
            (
                "weight_loss",
                "night_pain",
                "pain_on_straining",
                "thoracic_pain",
                "back_shape_change",
                "abdominal_pain",
            ),
            "no",
        ),
        "fever": "yes",
        "change": "1",
        "row": "fever",
        "was": "self_care",
    }
    response = post_page(
        client, "/questions/warning_signs?change=1&row=fever&was=self_care", fields
    )
    location = response.headers["location"]
    assert location == "/check?row=fever&was=self_care#row-fever"
    check = client.get(location.split("#")[0]).text
    row = check[
        check.index('id="row-fever"') : check.index("</div>", check.index('id="row-fever"'))
    ]
    assert "autofocus" in row
    assert "Your answer changed what we advise: <strong>Speak to a doctor today</strong>." in row
    before_button = check[check.index("Now see your result") : check.index('type="submit"')]
    assert "Your answer changed what we advise: <strong>Speak to a doctor today</strong>" in (
        before_button
    )


def test_a_change_link_with_an_unknown_row_or_level_returns_to_the_top(
    client: TestClient,
) -> None:
    run_interview(client, self_care_answers(), until="/check")
    page = client.get("/questions/sleep?change=1&row=nope&was=%3Cb%3E")
    assert 'class="back-link" href="/check"' in page.text
    assert 'name="row"' not in page.text
    assert "autofocus" not in client.get("/check?row=nope&was=worse").text


def test_a_change_that_reveals_a_new_page_asks_it_then_returns_to_check_answers(
    client: TestClient, db: Session
) -> None:
    run_interview(client, self_care_answers(), until="/check")
    response = post_page(
        client, "/questions/body_size?change=1", {"knows_height_weight": "no", "change": "1"}
    )
    assert response.headers["location"] == "/questions/weight_rating?change=1"
    # Answers to questions that are now hidden are dropped.
    [draft] = drafts(db)
    assert "height_cm" not in draft.answers
    assert "weight_kg" not in draft.answers

    response = post_page(
        client,
        "/questions/weight_rating?change=1",
        {"weight_self_rating": "healthy", "change": "1"},
    )
    assert response.headers["location"] == "/check"
    assert "About right" in client.get("/check").text


def test_a_change_to_a_safety_answer_reapplies_the_branching(
    client: TestClient, db: Session
) -> None:
    run_interview(client, self_care_answers(), until="/check")
    response = post_page(
        client,
        "/questions/warning_signs?change=1",
        {
            **dict.fromkeys(
                (
                    "weight_loss",
                    "night_pain",
                    "pain_on_straining",
                    "thoracic_pain",
                    "back_shape_change",
                    "abdominal_pain",
                ),
                "no",
            ),
            "fever": "yes",
            "change": "1",
        },
    )
    # Now urgent: the movement checks are hidden and their answers dropped; nothing new to ask.
    assert response.headers["location"] == "/check"
    [draft] = drafts(db)
    assert "squat_check" not in draft.answers
    submit = post_page(client, "/check", {})
    result = client.get(submit.headers["location"])
    assert "Speak to a doctor today" in result.text


def test_submitting_twice_does_not_store_twice(client: TestClient, db: Session) -> None:
    run_interview(client, self_care_answers(), until="/check")
    page = client.get("/check")
    first = post_page(client, "/check", {}, csrf=None)
    assert first.status_code == 303
    again = client.post("/check", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert again.status_code == 303
    assert not again.headers["location"].startswith("/result/")
    assert len(stored_assessments(db)) == 1


def test_the_result_link_is_long_and_random(client: TestClient) -> None:
    location, _ = run_interview(client, self_care_answers())
    assert len(result_token(location)) >= 32
