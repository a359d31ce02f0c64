"""What an SDC form filler is compared with: the questions the engine asks, and the
QuestionnaireResponse of the answers (tests/services/test_fhir_sdc.py with fhirpathpy,
tests/browser/test_lhc_forms.py with LHC-Forms)."""

from __future__ import annotations

from typing import Any

from app.engine import Questionnaire, evaluate
from app.services import fhir
from app.services.fhir.bundle import response_items

__all__ = ["asked_and_response", "engine_visible", "response_of"]


def engine_visible(q: Questionnaire, answers: dict[str, Any], context: dict[str, Any]) -> set[str]:
    """The questions the interview asks: visible ones, on the pages before the emergency stop
    and the page that stopped it (services/interview_navigation.stop_page)."""
    evaluation = evaluate(q, answers, context)
    visible = {question.id for question in evaluation.visible}
    asked: set[str] = set()
    stopped, answered = False, -1
    for page in q.pages:
        start = page.questions[0].position
        so_far = {
            k: v for k, v in evaluation.answers.items() if q.question_by_id[k].position < start
        }
        if q.stop_when is not None and len(so_far) != answered:  # no new answer: as before
            stopped, answered = evaluate(q, so_far, context).stopped, len(so_far)
        if stopped:
            break
        asked |= {question.id for question in page.questions if question.id in visible}
    return asked


def asked_and_response(
    q: Questionnaire, answers: dict[str, Any], context: dict[str, Any]
) -> tuple[set[str], dict[str, Any]]:
    """The questions the engine asks, and the response of the answers to those."""
    asked = engine_visible(q, answers, context)
    kept = {k: v for k, v in evaluate(q, answers, context).answers.items() if k in asked}
    return asked, response_of(q, kept, context)


def response_of(
    q: Questionnaire, answers: dict[str, Any], context: dict[str, Any]
) -> dict[str, Any]:
    """A QuestionnaireResponse of ``answers`` (as the app exports them), with the context
    values in the hidden group the app fills in."""
    items = response_items(q, answers)
    if context:
        given = []
        for key, value in context.items():
            kind = q.context[key].type
            values = value if kind == "multi_choice" else [value]
            given.append({"linkId": key, "answer": [_value(q, key, kind, v) for v in values]})
        items.insert(0, {"linkId": fhir.CONTEXT_LINK_ID, "item": given})
    return {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items}


def _value(q: Questionnaire, key: str, kind: str, value: Any) -> dict[str, Any]:
    if kind == "boolean":
        return {"valueBoolean": value}
    if kind == "integer":
        return {"valueInteger": value}
    if kind == "number":
        return {"valueDecimal": value}
    return {"valueCoding": {"system": fhir.option_system(q.id, key), "code": value}}
