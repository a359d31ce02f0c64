"""Answer sets the tests share: the OpenAPI document's examples (app/api/examples.py), which the
tests check against the real API, so both stay true."""

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from app.api.examples import EXAMPLE_ANSWERS, SAFETY_ALL_NO
from app.engine import Questionnaire, evaluate
from app.services import assessments
from app.services.assessments import Recorded

__all__ = ["EXAMPLE_ANSWERS", "SAFETY_ALL_NO", "record_assessment"]


def record_assessment(
    session: Session, q: Questionnaire, answers: Mapping[str, Any], **options: Any
) -> Recorded:
    """Store answers as the doors do: evaluated once, then through the one write path."""
    return assessments.record(session, evaluate(q, answers), **options)
