"""Answer sets the tests share: the OpenAPI document's examples (app/api/examples.py), which the
tests check against the real API, so both stay true."""

import sys
from collections.abc import Mapping
from typing import Any

import pytest
from sqlmodel import Session

from app.api.examples import EXAMPLE_ANSWERS, SAFETY_ALL_NO
from app.engine import Evaluation, Questionnaire, evaluate
from app.engine import evaluate as engine_evaluate
from app.services import assessments
from app.services.assessments import Recorded

__all__ = ["EXAMPLE_ANSWERS", "SAFETY_ALL_NO", "count_evaluations", "record_assessment"]


def record_assessment(
    session: Session, q: Questionnaire, answers: Mapping[str, Any], **options: Any
) -> Recorded:
    """Store answers as the doors do: evaluated once, then through the one write path."""
    return assessments.record(session, evaluate(q, answers), **options)


def count_evaluations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the engine's evaluations from now on: every app module's ``evaluate`` is wrapped
    (each holds its own reference to the engine's function). Returns the growing list of the
    questionnaire ids evaluated."""
    calls: list[str] = []
    real = engine_evaluate

    def counted(q: Questionnaire, answers: Mapping[str, Any]) -> Evaluation:
        calls.append(q.id)
        return real(q, answers)

    for name, module in list(sys.modules.items()):
        if name.startswith("app.") and getattr(module, "evaluate", None) is real:
            monkeypatch.setattr(module, "evaluate", counted)
    return calls
