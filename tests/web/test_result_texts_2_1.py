"""What the result pages say from questionnaire 2.1.0: the safety net's two tiers on every
level (and on a check-in's result), no habits block on urgent and emergency pages (staff keep
it), "Also tell them about" for reasons below the result's level, "About this result", and no
"PEG" for patients."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Assessment, Clinic
from app.services import accounts, checkin_history
from tests.fixtures import (
    EXAMPLE_ANSWERS,
    SAFETY_ALL_NO,
    TestClock,
    checkin_answers,
    record_assessment,
)
from tests.staff.conftest import sign_in

from .helpers import form_fields, post_page

EMERGENCY = {**SAFETY_ALL_NO, "saddle_numbness": True}
URGENT = {**EXAMPLE_ANSWERS, "fever": True}  # the lifestyle questions finished too
SEE_DOCTOR = {**EXAMPLE_ANSWERS, "pregnant": True}
SELF_CARE = dict(EXAMPLE_ANSWERS)
LEVELS = {
    "emergency": EMERGENCY,
    "urgent": URGENT,
    "see_doctor": SEE_DOCTOR,
    "self_care": SELF_CARE,
}

TODAY_TITLE = "Speak to a GP today, or call 111, if you get any of these"
TODAY_SIGNS = [
    "A high temperature, or you feel hot and shivery.",
    "You are losing weight without trying.",
    "Pain that is much worse at night, or does not ease when you rest or lie down.",
    "New weakness in one leg or foot.",
    "A lump, or a change in the shape of your back.",
    "Pain between your shoulder blades.",
    "Pain, numbness or tingling below the knee that has not settled within a day or two.",
]
NEW_999_SIGN = (
    "Sudden, severe pain in your back or tummy, and you feel faint, sweaty or very unwell."
)
HABITS = "Habits linked with back pain, and what may help"


class Stored:
    """A stored assessment and its private result path."""

    def __init__(self, assessment: Assessment, path: str) -> None:
        self.assessment = assessment
        self.path = path


def stored(app: FastAPI, db: Session, answers: dict[str, Any], **options: Any) -> Stored:
    q = app.state.registry.default
    recorded = record_assessment(db, q, answers, allow_incomplete=True, **options)
    db.commit()
    return Stored(db.get_one(Assessment, recorded.id), f"/result/{recorded.result_token}")


def page_of(client: TestClient, found: Stored) -> str:
    response = client.get(found.path)
    assert response.status_code == 200
    return response.text


def safety_net_of(html: str) -> str:
    start = html.index('<div class="safety-net">')
    return html[start : html.index("</div>", start)]


@pytest.mark.parametrize("level", list(LEVELS))
def test_every_result_has_both_tiers_of_the_safety_net(
    app: FastAPI, client: TestClient, db: Session, level: str
) -> None:
    found = stored(app, db, LEVELS[level], channel="web")
    assert found.assessment.triage_level == level
    net = safety_net_of(page_of(client, found))

    assert "Call 999 or go to A&amp;E straight away if you get any of these" in net
    assert f"<li>{NEW_999_SIGN}</li>" in net
    assert TODAY_TITLE in net
    today = net[net.index(TODAY_TITLE) :]
    assert re.findall(r"<li>(.*?)</li>", today) == TODAY_SIGNS
    # The 999 tier comes first.
    assert net.index(NEW_999_SIGN) < net.index(TODAY_TITLE)


@pytest.mark.parametrize("level", ["emergency", "urgent"])
def test_urgent_and_emergency_pages_have_no_habits_block(
    app: FastAPI, client: TestClient, db: Session, level: str
) -> None:
    found = stored(app, db, LEVELS[level], channel="web")
    if level == "urgent":  # the person finished the lifestyle questions: scored and stored...
        assert found.assessment.result["contributors"]
    html = page_of(client, found)
    assert HABITS not in html  # ...but not shown to the person
    assert 'id="contributors"' not in html
    assert "Sitting: 3 out of 3" not in html
    assert "None of your daily habits stood out" not in html


@pytest.mark.parametrize("level", ["see_doctor", "self_care"])
def test_other_pages_show_the_habits_under_their_new_heading_and_about_this_result(
    app: FastAPI, client: TestClient, db: Session, level: str
) -> None:
    html = page_of(client, stored(app, db, LEVELS[level], channel="web"))
    assert f'<h2 class="heading-m" id="contributors">{HABITS}</h2>' in html
    assert "What may be adding to your back pain" not in html
    assert 'id="about-result">About this result</h2>' in html
    assert "It does not look at how you feel in yourself, your mood, worries" in html


def test_staff_keep_the_habits_of_an_urgent_submission(
    app: FastAPI, client: TestClient, db: Session, clinic: Clinic
) -> None:
    assessment = stored(app, db, URGENT, channel="intake", clinic_id=clinic.id).assessment
    user, _ = accounts.create_user(
        db,
        clinic_id=clinic.id,
        email="gp@riverside.example",
        role="clinician",
        password="correct horse battery staple",
    )
    db.commit()
    with TestClient(app) as staff:
        assert sign_in(staff, user.email).status_code == 303
        page = staff.get(f"/staff/assessments/{assessment.id}").text
    assert '<h2 class="heading-m">Likely contributors</h2>' in page
    assert "<tr><td>Sitting</td><td>3</td><td>Strong factor</td></tr>" in page


def test_an_emergency_with_a_past_cancer_answer_also_names_the_cancer(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    # An API-style early stop: every safety answer sent; the emergency ends the interview, and
    # the urgent reason from the same screen is kept and told.
    answers = {**SAFETY_ALL_NO, "bladder_change": True, "cancer_history": True}
    found = stored(app, db, answers, channel="web")
    reasons = found.assessment.result["triage"]["reasons"]
    assert [(r["code"], r["level"]) for r in reasons] == [
        ("cauda_equina_bladder", "emergency"),
        ("cancer_history", "urgent"),
    ]
    html = page_of(client, found)
    why = html[html.index("Why we say this") : html.index("Also tell them about")]
    assert reasons[0]["message"] in why
    assert reasons[1]["message"] not in why
    also = html[html.index("Also tell them about") :]
    also = also[: also.index("</ul>")]
    assert reasons[1]["message"] in also
    assert html.index("Why we say this") < html.index("Also tell them about")


def test_a_single_level_result_has_no_also_tell_them_about(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    html = page_of(client, stored(app, db, EMERGENCY, channel="web"))
    assert "Why we say this" in html
    assert "Also tell them about" not in html


def test_the_check_in_result_page_has_the_safety_net_and_says_no_peg(
    client: TestClient, db: Session, app: FastAPI, clock: TestClock
) -> None:
    found = stored(app, db, SELF_CARE, channel="web")
    url = found.path
    clock.advance(timedelta(days=8))
    sent = post_page(client, f"{url}/checkin", form_fields(checkin_answers(pain_now=2)))
    assert sent.status_code == 303, sent.text
    html = client.get(sent.headers["location"]).text

    net = safety_net_of(html)
    assert f"<li>{NEW_999_SIGN}</li>" in net
    assert TODAY_TITLE in net
    assert "See a GP if your back pain is not clearly better after about 4 weeks of the plan" in net
    assert "struggling to cope" in net
    # The trend in plain words: no "PEG" anywhere a patient reads.
    assert "Your pain over time" in html
    assert "Pain and how much it gets in the way" in html
    assert "PEG" not in html
    assert "PEG" not in client.get(url).text
    [stored_checkin] = checkin_history.list_checkins(db, found.assessment.id)
    assert stored_checkin.result["safety_net"]["today"]["title"] == TODAY_TITLE


def test_a_check_in_that_needs_a_doctor_today_keeps_both_tiers(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    url = stored(app, db, SELF_CARE, channel="web").path
    sent = post_page(client, f"{url}/checkin", form_fields(checkin_answers(fever=True)))
    html = client.get(sent.headers["location"]).text
    net = safety_net_of(html)
    assert TODAY_TITLE in net
    assert "See a GP if your back pain is not clearly better" not in net
    assert "call NHS 111 or your GP surgery straight away" in net
