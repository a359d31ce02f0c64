"""The short reference a clinic intake submission gets, for the person to quote: made in the
one write path, unique within the clinic, drawn again when two submissions draw the same."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.engine import Questionnaire, evaluate
from app.models import Assessment, Clinic
from app.services import assessments, clinics
from tests.fixtures import EXAMPLE_ANSWERS


def _intake(db: Session, q: Questionnaire, clinic: Clinic) -> Assessment:
    recorded = assessments.record(
        db, evaluate(q, EXAMPLE_ANSWERS), channel="intake", clinic_id=clinic.id
    )
    db.commit()
    return db.get_one(Assessment, recorded.id)


def test_an_intake_submission_gets_a_short_unambiguous_reference(
    db: Session, q: Questionnaire, clinic: Clinic
) -> None:
    references = {_intake(db, q, clinic).reference for _ in range(20)}
    assert len(references) == 20
    for reference in references:
        assert reference is not None
        assert len(reference) == 6
        assert set(reference) <= set(assessments.REFERENCE_ALPHABET)
    assert not set("0O1IL2Z5S8BAEU") & set(assessments.REFERENCE_ALPHABET)


def test_other_channels_get_no_reference(db: Session, q: Questionnaire) -> None:
    recorded = assessments.record(db, evaluate(q, EXAMPLE_ANSWERS), channel="web")
    db.commit()
    assert db.get_one(Assessment, recorded.id).reference is None


def test_a_reference_drawn_twice_in_a_clinic_is_drawn_again(
    db: Session, q: Questionnaire, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = clinics.create_clinic(db, name="Hilltop GP")
    db.commit()
    draws = iter(["CDFGHJ", "CDFGHJ", "CDFGHJ", "KMNPQR"])
    monkeypatch.setattr(assessments, "new_reference", lambda: next(draws))
    first = _intake(db, q, clinic)
    elsewhere = _intake(db, q, other)  # another clinic may have the same reference
    second = _intake(db, q, clinic)  # drew CDFGHJ, which the clinic has: drew again
    assert (first.reference, elsewhere.reference, second.reference) == (
        "CDFGHJ",
        "CDFGHJ",
        "KMNPQR",
    )
    assert len(db.exec(select(Assessment)).all()) == 3


def test_it_gives_up_after_a_few_clashes_and_stores_nothing(
    db: Session, q: Questionnaire, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assessments, "new_reference", lambda: "CDFGHJ")
    _intake(db, q, clinic)
    with pytest.raises(IntegrityError):
        assessments.record(db, evaluate(q, EXAMPLE_ANSWERS), channel="intake", clinic_id=clinic.id)
    db.rollback()
    assert len(db.exec(select(Assessment)).all()) == 1


@pytest.mark.parametrize("typed", ["k7m 4qx", "K7M-4QX", " k7m4qx "])
def test_a_reference_is_read_as_typed_or_spoken(typed: str) -> None:
    assert assessments.normalise_reference(typed) == "K7M4QX"
