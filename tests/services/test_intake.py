"""Intake links: a single-use link is used once, as the database decides."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.engine import Questionnaire, evaluate
from app.models import Assessment, Clinic
from app.services import intake, interview
from app.services.interview import Origin
from tests.fixtures import SAFETY_ALL_NO


def test_of_two_submissions_racing_for_a_single_use_link_only_one_is_stored(
    db: Session, engine: Engine, clinic: Clinic, q: Questionnaire
) -> None:
    """Two tabs (or a double tap) both opened the link while it was unused; the first to finish
    uses it up, and the second stores nothing, however stale its view of the link."""
    _, token = intake.create_link(
        db,
        clinic_id=clinic.id,
        label="",
        single_use=True,
        valid_for=timedelta(days=7),
        created_by_id=None,
    )
    db.commit()
    emergency = evaluate(q, {**SAFETY_ALL_NO, "saddle_numbness": True})

    with Session(engine, expire_on_commit=False) as second_tab:
        stale_link, _ = intake.resolve_link(second_tab, token)  # unused, as this tab saw it
        second_tab.rollback()  # no read transaction held open meanwhile

        first_link, _ = intake.resolve_link(db, token)
        interview.finish_with(db, Origin("intake", first_link), None, emergency)
        db.commit()

        with pytest.raises(intake.LinkGoneError) as gone:
            interview.finish_with(second_tab, Origin("intake", stale_link), None, emergency)
        second_tab.rollback()
    assert gone.value.reason == "used"
    assert len(db.exec(select(Assessment)).all()) == 1
