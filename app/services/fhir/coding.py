"""How backaudit's things are named and coded in FHIR, shared by the Questionnaire, its enableWhen
and the Bundle, which must agree.

The Questionnaire's canonical URL is where this deployment serves the definition
(``{PUBLIC_URL}/api/v1/questionnaires/{id}``). Code systems and extensions that are ours have
stable logical names (``urn:backaudit:...``), which FHIR allows for both and which do not change
from one deployment to the next.
"""

from __future__ import annotations

from typing import Any, Final

from app.engine import Page, Question, Questionnaire, Section

FHIR_VERSION: Final = "4.0.1"


def questionnaire_url(base_url: str, questionnaire_id: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/questionnaires/{questionnaire_id}"


def option_system(questionnaire_id: str, question_id: str) -> str:
    return f"urn:backaudit:{questionnaire_id}:{question_id}"


def section_link_id(section: Section) -> str:
    # Question ids never contain "-", so these cannot clash with them.
    return f"section-{section.id}"


def page_link_id(page: Page) -> str:
    return f"page-{page.id}"


def answer_value(q: Questionnaire, question: Question, value: Any) -> dict[str, Any]:
    """A value in enableWhen's typed form (``answerBoolean``, ``answerCoding``, ...)."""
    if question.type == "boolean":
        return {"answerBoolean": bool(value)}
    if question.type == "integer":
        return {"answerInteger": int(value)}
    if question.type == "number":
        return {"answerDecimal": value}
    label = next((o.label for o in question.options if o.code == value), None)
    coding: dict[str, Any] = {"system": option_system(q.id, question.id), "code": value}
    if label is not None:
        coding["display"] = label
    return {"answerCoding": coding}
