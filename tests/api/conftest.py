"""Fixtures for the JSON API tests: API keys, clinics and answer sets."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session

from app.models import Clinic
from app.services.api_keys import create_api_key
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO


@dataclass(frozen=True)
class Key:
    id: uuid.UUID
    key: str
    clinic_id: uuid.UUID | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_key(
    db: Session,
    name: str = "booking app",
    clinic_id: uuid.UUID | None = None,
    scopes: tuple[str, ...] = (),
) -> Key:
    granted = {"scopes": scopes} if scopes else {}
    client, key = create_api_key(session=db, name=name, clinic_id=clinic_id, **granted)
    db.commit()
    return Key(client.id, key, clinic_id)


def make_clinic(db: Session, name: str = "Riverside Physio") -> uuid.UUID:
    clinic = Clinic(name=name)
    db.add(clinic)
    db.commit()
    return clinic.id


@pytest.fixture
def api_key(db: Session) -> Key:
    return make_key(db)


@pytest.fixture
def complete_answers() -> dict[str, Any]:
    """A complete set of answers that ends in self-care, with a plan."""
    return copy.deepcopy(EXAMPLE_ANSWERS)


@pytest.fixture
def emergency_answers() -> dict[str, Any]:
    """An early stop: the safety screen with one emergency sign, nothing else."""
    return {**SAFETY_ALL_NO, "saddle_numbness": True}
