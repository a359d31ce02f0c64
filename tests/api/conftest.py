"""Fixtures for the JSON API tests: API keys, clinics and answer sets."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import main
from app.config import Settings
from app.models import Clinic
from app.services.api_keys import create_api_key
from app.services.questionnaires import DEFAULT_QUESTIONNAIRE, Registry
from tests.conftest import TEST_SECRET, empty_tables
from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO, TestClock

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


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


@pytest.fixture(scope="session")
def loaded_registry() -> Registry:
    settings = Settings(environment="test", secret_key=TEST_SECRET)
    return Registry.load(QUESTIONNAIRES, DEFAULT_QUESTIONNAIRE, settings.help_lines.placeholders())


@pytest.fixture
def app(
    settings: Settings,
    engine: Engine,
    loaded_registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    clock: TestClock,
) -> Iterator[FastAPI]:
    """The real app, but the questionnaire is loaded (and fully validated) once per session:
    that takes longer than most tests here."""
    monkeypatch.setattr(Registry, "load", classmethod(lambda cls, *_: loaded_registry))
    application = main.create_app(settings, clock=clock)
    yield application
    application.state.engine.dispose()
    empty_tables(engine)


@pytest.fixture
def registry(app: FastAPI) -> Registry:
    loaded: Registry = app.state.registry
    return loaded
