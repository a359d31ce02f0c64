"""Submissions from the form and from intake links count against the client's address: past
the limit a page says so in plain words, nothing is stored, and the answers wait in the draft."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.models import Assessment, Clinic, IntakeLink
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO, TestClock
from tests.support.settings import settings_with
from tests.web.conftest import make_link
from tests.web.helpers import csrf_of, is_result, post_page, run_interview, self_care_answers


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings_with(settings, limits={"submissions_per_hour": 2})


def stored(db: Session) -> int:
    db.expire_all()
    return len(db.exec(select(Assessment)).all())


def test_a_third_submission_in_the_hour_waits_and_nothing_is_half_stored(
    client: TestClient, db: Session, clinic: Clinic, clock: TestClock
) -> None:
    answers = self_care_answers()
    run_interview(client, answers)
    link = make_link(db, clinic.id)
    run_interview(client, answers, prefix=f"/intake/{link}")
    assert stored(db) == 2

    other_link = make_link(db, clinic.id)
    check, _ = run_interview(client, answers, prefix=f"/intake/{other_link}", until="/check")
    refused = post_page(client, check, {})
    assert refused.status_code == 429
    # Two an hour: one each half hour (the test's clock runs, so a second or so less).
    assert 29 * 60 < int(refused.headers["Retry-After"]) <= 30 * 60
    page = refused.text
    assert "Too many answers have been sent from this internet connection" in page
    assert "Your answers are kept: try again in 30 minutes" in page
    assert "call 999" in page  # the page still says what to do in an emergency
    assert stored(db) == 2
    db.expire_all()
    used = [row.used_at is not None for row in db.exec(select(IntakeLink)).all()]
    assert sorted(used) == [False, True]  # the third link is still there to be used

    clock.advance(timedelta(minutes=30))
    sent = post_page(client, check, {})  # the same draft, answered once
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/result/")
    assert stored(db) == 3


def test_stopping_at_urgent_advice_counts_and_an_emergency_answer_is_never_held_back(
    client: TestClient, db: Session
) -> None:
    for _ in range(2):
        run_interview(client, self_care_answers())
    urgent = {**EXAMPLE_ANSWERS, "fever": True, "night_pain": True}
    advice, _ = run_interview(client, urgent, until="/advice")
    refused = post_page(client, "/stop", {}, csrf=csrf_of(client.get(advice).text))
    assert refused.status_code == 429
    assert "call 999" in refused.text
    assert stored(db) == 2
    # An emergency sign is stored, and its result shown, whatever the count: nobody told to
    # call 999 is sent away.
    location, _ = run_interview(TestClient(client.app), {**SAFETY_ALL_NO, "saddle_numbness": True})
    assert is_result(location)
    assert stored(db) == 3
