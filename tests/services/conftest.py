from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import Questionnaire
from app.services.questionnaires import Registry

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load(QUESTIONNAIRES, "low-back-audit")


@pytest.fixture(scope="session")
def q(registry: Registry) -> Questionnaire:
    return registry.default
