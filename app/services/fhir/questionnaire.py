"""The definition as a FHIR R4 ``Questionnaire``: sections and pages as groups, in order."""

from __future__ import annotations

from typing import Any, Final

from app.engine import Page, Question, Questionnaire, Section

from .coding import option_system, page_link_id, questionnaire_url, section_link_id
from .conditions import add_condition
from .narrative import narrative

STOP_CONDITION_URL: Final = "urn:backaudit:fhir:extension:stop-condition"
UCUM: Final = "http://unitsofmeasure.org"
_ITEM_CONTROL: Final = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
_ITEM_CONTROL_SYSTEM: Final = "http://hl7.org/fhir/questionnaire-item-control"
# Our units in UCUM; a unit not listed is sent as text only.
_UCUM_CODES: Final = {
    "years": "a",
    "cm": "cm",
    "kg": "kg",
    "hours": "h",
    "days": "d",
    "minutes a week": "min/wk",
}
FHIR_ITEM_TYPE: Final = {
    "boolean": "boolean",
    "integer": "integer",
    "number": "decimal",
    "choice": "choice",
    "multi_choice": "choice",
}


def questionnaire_resource(q: Questionnaire, *, base_url: str) -> dict[str, Any]:
    """The definition as a FHIR R4 Questionnaire. The early-stop condition, which FHIR cannot
    say, is kept as written in the ``urn:backaudit:fhir:extension:stop-condition`` extension."""
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": q.id,
        "url": questionnaire_url(base_url, q.id),
        "version": q.version,
        "name": "".join(part.capitalize() for part in q.id.replace("_", "-").split("-")),
        "title": q.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": q.description,
        "item": [_section_item(q, section) for section in q.sections],
    }
    resource["text"] = narrative(
        f"{q.title}, version {q.version}", (section.title for section in q.sections)
    )
    if q.stop_when is not None:
        resource["extension"] = [{"url": STOP_CONDITION_URL, "valueString": q.stop_when.source}]
    return resource


def _section_item(q: Questionnaire, section: Section) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": section_link_id(section),
        "text": section.title,
        "type": "group",
    }
    add_condition(item, q, section.when)
    item["item"] = [_page_item(q, page) for page in section.pages]
    return item


def _page_item(q: Questionnaire, page: Page) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": page_link_id(page), "text": page.title, "type": "group"}
    add_condition(item, q, page.when)
    children: list[dict[str, Any]] = []
    if page.intro:
        children.append(
            {"linkId": f"{page_link_id(page)}-intro", "text": page.intro, "type": "display"}
        )
    children.extend(_question_item(q, question) for question in page.questions)
    item["item"] = children
    return item


def _question_item(q: Questionnaire, question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": question.id,
        "text": question.text,
        "type": FHIR_ITEM_TYPE[question.type],
        "required": question.required,
    }
    extensions: list[dict[str, Any]] = []
    value_key = "valueInteger" if question.type == "integer" else "valueDecimal"
    for url, bound in (
        ("http://hl7.org/fhir/StructureDefinition/minValue", question.minimum),
        ("http://hl7.org/fhir/StructureDefinition/maxValue", question.maximum),
    ):
        if bound is not None:
            value = int(bound) if question.type == "integer" else bound
            extensions.append({"url": url, value_key: value})
    if question.unit:
        coding: dict[str, Any] = {"display": question.unit}
        if question.unit in _UCUM_CODES:
            coding = {"system": UCUM, "code": _UCUM_CODES[question.unit], "display": question.unit}
        extensions.append(
            {
                "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
                "valueCoding": coding,
            }
        )
    if extensions:
        item["extension"] = extensions
    if question.type == "multi_choice":
        item["repeats"] = True
    if question.options:
        system = option_system(q.id, question.id)
        item["answerOption"] = [
            {"valueCoding": {"system": system, "code": o.code, "display": o.label}}
            for o in question.options
        ]
    add_condition(item, q, question.when)
    if question.hint:
        item["item"] = [
            {
                "linkId": f"{question.id}-help",
                "text": question.hint,
                "type": "display",
                "extension": [
                    {
                        "url": _ITEM_CONTROL,
                        "valueCodeableConcept": {
                            "coding": [{"system": _ITEM_CONTROL_SYSTEM, "code": "help"}]
                        },
                    }
                ],
            }
        ]
    return item
