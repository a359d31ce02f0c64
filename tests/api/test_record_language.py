"""An API submission keeps the language its client asked for (Accept-Language), as a page's
does, so that staff see it; without one it is English."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.engine import PSEUDO_LANGUAGE
from app.models import Assessment, Checkin
from tests.fixtures import TestClock, checkin_answers

from .conftest import Key


def test_an_api_submission_keeps_the_language_asked_for(
    client: TestClient, api_key: Key, complete_answers: dict[str, Any], db: Session
) -> None:
    for headers in ({"Accept-Language": PSEUDO_LANGUAGE}, {}):
        posted = client.post(
            "/api/v1/assessments",
            json={"answers": complete_answers},
            headers={**api_key.headers, **headers},
        )
        assert posted.status_code == 201, posted.text
    stored = db.exec(select(Assessment)).all()
    assert sorted(a.language for a in stored) == sorted(["en", PSEUDO_LANGUAGE])


def test_an_api_check_in_keeps_the_language_asked_for_and_answers_in_it(
    client: TestClient,
    api_key: Key,
    complete_answers: dict[str, Any],
    db: Session,
    clock: TestClock,
) -> None:
    posted = client.post(
        "/api/v1/assessments", json={"answers": complete_answers}, headers=api_key.headers
    )
    url = f"/api/v1/assessments/{posted.json()['id']}/checkins"
    for pain, headers in ((2, {"Accept-Language": PSEUDO_LANGUAGE}), (3, {})):
        checked = client.post(
            url,
            json={"answers": checkin_answers(pain_now=pain)},
            headers={**api_key.headers, **headers},
        )
        assert checked.status_code == 201, checked.text
        said = headers.get("Accept-Language", "en")
        assert checked.headers["Content-Language"] == said
        assert checked.json()["language"] == said
        clock.advance(timedelta(hours=2))  # not the same request again
    stored = db.exec(select(Checkin)).all()
    assert sorted(c.language for c in stored) == sorted(["en", PSEUDO_LANGUAGE])
