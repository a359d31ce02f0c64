"""A patient's check-ins on the clinic's submission page, in clinical words."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlmodel import Session

from app.models import Clinic
from app.services import checkins
from tests.fixtures import CHECKIN_BLOCKS, CHECKIN_SIGNS, checkin_answers
from tests.staff.conftest import SignedInClient
from tests.staff.test_dashboard import submit

BLOCKS = CHECKIN_BLOCKS
SIGNS = CHECKIN_SIGNS


def checkin(**changes: Any) -> dict[str, Any]:
    return checkin_answers(
        **{
            "pain_now": 2,
            "global_change": "better",
            "pelvic_tilts_days": 6,
            "pelvic_tilts_feel": "too_easy",
            "hip_rotation_days": 6,
            "hip_rotation_feel": "too_easy",
            "hip_bridge_days": 6,
            "hip_bridge_feel": "too_easy",
            "squat_mobility_days": 6,
            "squat_mobility_feel": "too_easy",
            "thoracic_lats_days": 6,
            "thoracic_lats_feel": "too_easy",
            **changes,
        }
    )


def test_the_submission_page_shows_each_check_in_and_the_trend(
    app: FastAPI, db: Session, clinic: Clinic, signed_in: SignedInClient
) -> None:
    assessment = submit(db, clinic)
    checkins.record_checkin(db, app.state.registry, assessment, checkin(), channel="intake")
    checkins.record_checkin(
        db, app.state.registry, assessment, checkin(fever=True), channel="intake"
    )
    db.commit()
    page = signed_in(clinic).get(f"/staff/assessments/{assessment.id}")
    assert page.status_code == 200
    assert "Check-ins" in page.text
    assert "Fever with back pain: possible spinal infection" in page.text  # clinical words
    assert "Hip bridge: moving on to" in page.text
    assert "Pain and PEG over time" in page.text
