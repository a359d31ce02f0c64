"""An API submission keeps the language its client asked for (Accept-Language), as a page's
does, so that staff see it; without one it is English."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.engine import PSEUDO_LANGUAGE
from app.models import Assessment

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
