"""A patient's check-ins on the clinic's submission page, in clinical words."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlmodel import Session

from app.models import Clinic
from app.services import checkins
from tests.staff.conftest import SignedInClient
from tests.staff.test_dashboard import submit

BLOCKS = ["pelvic_tilts", "hip_rotation", "hip_bridge", "squat_mobility", "thoracic_lats"]
SIGNS = [
    "saddle_numbness", "bladder_change", "bowel_change", "sexual_function_change", "both_legs",
    "chest_pain", "leg_weakness", "walking_difficulty", "fever", "weight_loss", "night_pain",
    "pain_on_straining", "thoracic_pain", "back_shape_change",
]  # fmt: skip


def checkin(**changes: Any) -> dict[str, Any]:
    given: dict[str, Any] = {
        **dict.fromkeys(SIGNS, False),
        "pain_now": 2, "peg_pain": 3, "peg_enjoyment": 3, "peg_activity": 3,
        "global_change": "better",
        **{f"{b}_days": 6 for b in BLOCKS},
        **{f"{b}_feel": "too_easy" for b in BLOCKS},
    }  # fmt: skip
    given.update(changes)
    return given


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
