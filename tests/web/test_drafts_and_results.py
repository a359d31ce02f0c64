"""Answers kept on the server between requests, and the private result page."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Assessment, Draft, utcnow
from app.services.drafts import DRAFT_LIFETIME
from app.services.questionnaires import Registry
from tests.fixtures import V2_ANSWERS, record_assessment, record_v1_assessment
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
        response = stranger.get("/questions/warning_signs", follow_redirects=False)
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


def test_the_self_care_result_leads_with_the_triage_then_the_week_then_the_plan(
    client: TestClient,
) -> None:
    location, _ = run_interview(client, self_care_answers())
    html = client.get(location).text

    order = [
        html.index("outcome outcome--self-care"),
        html.index('id="this-week"'),
        html.index('id="plan"'),
        html.index("How to use your plan"),
        html.index('id="contributors"'),
        html.index('id="help"'),
        html.index('id="answers"'),
    ]
    assert order == sorted(order)
    # The contributors' scores and chart are folded away, after a one-line list.
    contributors = html[html.index('id="contributors"') :]
    assert re.search(r'<details class="more contributors-more">\s*<summary', contributors)
    assert contributors.index("<details") < contributors.index('class="chart"')
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in html
    assert "Sitting: 3 out of 3" in html  # the chart's text equivalent
    assert "Score: 3 out of 3, a strong factor" in html
    assert html.count('class="exercise exercise--focus"') == 3
    assert "2 extra exercises, if you have time" in html
    # Each block at its starting step (an index into its steps), with its picture.
    assert (
        'alt="A person in a bridge with shoulders and one foot on the floor' in html
    )  # bridge: single leg
    assert "Start with step 2 of 3" in html
    assert "Start with step 4 of 6" in html  # (2.1) after the two seated steps: the full hang
    assert "left out" not in html  # every step suits: no joint problems, no falls
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
    assert "Do not start this exercise programme until a doctor has checked you." in html
    assert "after a few weeks" not in html  # no "wait and see" safety net when urgent
    assert "Do not wait for your appointment" in html
    assert "in your plan" not in html
    # (2.1) An urgent page says what to do now: no habits block at all (staff keep it), and
    # never "none of your daily habits stood out" for habits it does not show.
    assert 'id="contributors"' not in html
    assert "Habits linked with back pain" not in html
    assert "Your daily habits</h2>" not in html
    assert "None of your daily habits stood out" not in html


def test_someone_who_should_see_a_doctor_gets_the_habits_as_things_to_discuss(
    client: TestClient,
) -> None:
    answers = {**self_care_answers(), "pregnant": True, "strength_days_week": 1}
    location, _ = run_interview(client, answers)  # finishes the lifestyle questions
    html = client.get(location).text
    assert "Habits linked with back pain, and what may help" in html
    assert "Strength" in html  # contributors are shown...
    assert "Talk about these with your doctor." in html  # ...as things to discuss
    assert "Do not start new exercises until a doctor has checked you." in html
    assert "in your plan" not in html
    assert "you said 1." in html  # never "1 days a week"


def test_a_self_care_result_keeps_the_wait_and_see_safety_net(client: TestClient) -> None:
    location, _ = run_interview(client, self_care_answers())
    html = client.get(location).text
    assert "See a GP if your back pain is not clearly better after about 4 weeks" in html
    assert "Talk about these with your doctor." not in html


SIGNS = (
    "Numbness or a strange feeling between your legs, or around your genitals, bottom or back"
    " passage.",
    "New problems with sex, such as loss of feeling in your genitals, or trouble getting an"
    " erection or ejaculating.",
    "New difficulty walking, or legs that feel heavy or clumsy.",
)
SEE_GP = "See a GP if your back pain is not clearly better after about 4 weeks"


def safety_net_of(html: str) -> str:
    start = html.index('<div class="safety-net">')
    return html[start : html.index("</div>", start)]


def test_a_self_care_result_has_the_safety_net_with_when_to_see_a_gp(client: TestClient) -> None:
    location, _ = run_interview(client, self_care_answers())
    net = safety_net_of(client.get(location).text)

    assert "Call 999 or go to A&amp;E straight away if you get any of these" in net
    for sign in SIGNS:
        assert f"<li>{sign}</li>" in net
    assert "Do not wait to see if they get better." in net
    assert SEE_GP in net


def test_a_see_a_doctor_result_has_the_safety_net_without_the_gp_line(client: TestClient) -> None:
    answers = {**self_care_answers(), "pregnant": True}
    location, _ = run_interview(client, answers, on_advice="stop")
    html = client.get(location).text
    assert "Book an appointment before you start" in html
    net = safety_net_of(html)

    assert "Call 999 or go to A&amp;E straight away if you get any of these" in net
    for sign in SIGNS:
        assert f"<li>{sign}</li>" in net
    assert SEE_GP not in html  # waiting 4 weeks is advice for self-care only
    assert "Do not wait for your appointment" in net


def test_an_emergency_result_has_the_safety_net_too(client: TestClient) -> None:
    location, _ = run_interview(client, safety_answers(bowel_change=True))
    html = client.get(location).text
    assert "What to do now" in html
    net = safety_net_of(html)
    for sign in SIGNS:
        assert f"<li>{sign}</li>" in net
    assert SEE_GP not in html
    assert "Do not wait for your appointment" not in html


def test_a_plan_leaves_out_the_steps_that_may_not_suit(client: TestClient) -> None:
    # A shoulder problem and arthritis in a hip (no replacement): no hangs, no side stretch,
    # no deep squats, no frog.
    answers = {
        **self_care_answers(),
        "joint_problems": ["shoulder", "hip"],
        "hip_replacement": "no",
    }
    location, visited = run_interview(client, answers)
    assert not any(v.endswith("/questions/hang") for v in visited)  # the hang check is not asked
    html = client.get(location).text

    # (2.1) The seated steps always suit: the block keeps them and is never dropped.
    hangs = html[html.index('id="exercise-thoracic_lats"') :]
    hangs = hangs[: hangs.index("</section>")]
    assert "Start with step 2 of 2: Seated twist" in hangs
    assert "We left out 4 steps of this exercise, because they may not suit you." in hangs
    assert "Do this stretch" not in hangs  # the side stretch is left out for a shoulder
    assert "Side stretch at a door frame" not in hangs
    for step in ("Supported hang", "Full hang"):  # neither shown nor listed as a next step
        assert step not in hangs

    squats = html[html.index('id="exercise-squat_mobility"') :]
    squats = squats[: squats.index("</section>")]
    assert "Start with step 1 of 1" in squats
    assert "Because of your hip, only go down as far as feels comfortable." in squats
    assert "We left out 3 steps of this exercise, because they may not suit you." in squats
    assert "Next steps" not in squats

    hips = html[html.index('id="exercise-hip_rotation"') :]
    hips = hips[: hips.index("</section>")]
    assert "Start with step 1 of 3" in hips
    assert "Frog" not in hips
    assert "We left out 1 step of this exercise, because it may not suit you." in hips


def test_a_2_0_0_result_whose_hangs_were_all_left_out_still_offers_the_stretch(
    db: Session, client: TestClient, app: FastAPI
) -> None:
    # Stored by 2.0.0, before the seated steps: the block kept only its side stretch.
    old = app.state.registry.exact("low-back-audit", "2.0.0")
    answers = {**V2_ANSWERS, "joint_problems": ["shoulder", "hip"]}
    recorded = record_assessment(db, old, answers, channel="web")
    db.commit()
    html = client.get(f"/result/{recorded.result_token}").text

    hangs = html[html.index('id="exercise-thoracic_lats"') :]
    hangs = hangs[: hangs.index("</section>")]
    assert "We left out the hangs, because they may not suit you." in hangs
    assert "Start with step" not in hangs
    assert "<strong>Do this stretch</strong>" in hangs
    assert "Side stretch at a door frame" in hangs
    for step in ("Supported hang", "Full hang", "Seated"):
        assert step not in hangs


def test_a_result_stored_by_version_1_still_shows(
    db: Session, client: TestClient, app: FastAPI
) -> None:
    registry: Registry = app.state.registry
    recorded = record_v1_assessment(db, registry, channel="web")
    db.commit()
    assert recorded.result_token is not None

    page = client.get(f"/result/{recorded.result_token}")

    assert page.status_code == 200
    html = page.text
    assert "You can start the programme" in html
    # Start steps stored as codes: each block still starts where 1.0.0 said.
    assert "Start with step 2 of 3" in html  # the single-leg bridge
    assert "Single-leg bridge" in html
    assert "Start with step 2 of 4" in html  # the full hang
    assert "left out" not in html
    # No safety net was stored in 1.0.0: the page's own wording stands in.
    assert "See a GP if your pain has not got better after a few weeks" in html
    assert "Call 999 or go to A&amp;E</strong> if you get numbness" in html


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
