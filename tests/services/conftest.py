from __future__ import annotations

import pytest

from app.engine import Questionnaire
from app.services.questionnaires import Registry


@pytest.fixture(scope="session")
def q(registry: Registry) -> Questionnaire:
    return registry.default
