"""FHIR R4 exports: the questionnaire as a ``Questionnaire``, an assessment as a ``Bundle``.

Plain dicts in, plain JSON-ready dicts out; the tests parse every export with the
``fhir.resources`` R4B models (R4B changed nothing in the resources used here).

Identifiers. The Questionnaire's canonical URL is where this deployment serves the definition
(``{PUBLIC_URL}/api/v1/questionnaires/{id}``). Code systems and extensions that are ours have
stable logical names (``urn:backaudit:...``), which FHIR allows for both and which do not change
from one deployment to the next.

Branching. Each section, page and question ``when`` goes on its own item (a group is disabled
together with everything in it), as ``enableWhen`` where FHIR can say the same thing: a yes/no
answer, ``not`` one, a comparison of one earlier answer with a constant, ``in`` / ``not in`` a
list of codes, and ``and`` / ``or`` of these. FHIR has no "no answer" semantics of its own for
``!=``, while ours is "false when unanswered", so ``!=`` also gets an ``exists`` check. What
cannot be said with enableWhen (the triage so far, derived values such as BMI, counts) is not
approximated: a half-true enableWhen would make a FHIR form show or hide questions differently
from backaudit. Such items carry the condition's source text in the
``urn:backaudit:fhir:extension:enable-condition`` extension (readable by people and by a
renderer that knows our condition language), and the questionnaire carries its early-stop
condition in ``urn:backaudit:fhir:extension:stop-condition``. A generic FHIR renderer then shows
such an item; backaudit ignores answers to questions that its branching hides, and says so.
"""

from __future__ import annotations

import ast
import uuid
from typing import Any, Final

from app.engine import Page, Question, Questionnaire, Section
from app.models import Assessment

FHIR_VERSION: Final = "4.0.1"
ENABLE_CONDITION_URL: Final = "urn:backaudit:fhir:extension:enable-condition"
STOP_CONDITION_URL: Final = "urn:backaudit:fhir:extension:stop-condition"
ASSESSMENT_SYSTEM: Final = "urn:backaudit:assessment"
RESPONDENT_SYSTEM: Final = "urn:backaudit:respondent"
TRIAGE_LEVEL_SYSTEM: Final = "urn:backaudit:triage-level"
TRIAGE_RULE_SYSTEM: Final = "urn:backaudit:triage-rule"
CONTRIBUTOR_SYSTEM: Final = "urn:backaudit:contributor"
UCUM: Final = "http://unitsofmeasure.org"
_ITEM_CONTROL: Final = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
_ITEM_CONTROL_SYSTEM: Final = "http://hl7.org/fhir/questionnaire-item-control"
_RISK_PROBABILITY: Final = "http://terminology.hl7.org/CodeSystem/risk-probability"
_OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
# Our units in UCUM; a unit not listed is sent as text only.
_UCUM_CODES: Final = {
    "years": "a",
    "cm": "cm",
    "kg": "kg",
    "hours": "h",
    "days": "d",
    "minutes a week": "min/wk",
}
_FHIR_TYPE: Final = {
    "boolean": "boolean",
    "integer": "integer",
    "number": "decimal",
    "choice": "choice",
    "multi_choice": "choice",
}
# How likely a serious cause is, for each triage level (FHIR's risk-probability codes).
_RISK_BY_LEVEL: Final = {
    "emergency": ("high", "High likelihood"),
    "urgent": ("high", "High likelihood"),
    "see_doctor": ("moderate", "Moderate likelihood"),
    "self_care": ("low", "Low likelihood"),
}

EnableWhen = list[dict[str, Any]]


def questionnaire_url(base_url: str, questionnaire_id: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/questionnaires/{questionnaire_id}"


def option_system(questionnaire_id: str, question_id: str) -> str:
    return f"urn:backaudit:{questionnaire_id}:{question_id}"


def section_link_id(section: Section) -> str:
    # Question ids never contain "-", so these cannot clash with them.
    return f"section-{section.id}"


def page_link_id(page: Page) -> str:
    return f"page-{page.id}"


# -- Questionnaire ---------------------------------------------------------------------------------


def questionnaire_resource(q: Questionnaire, *, base_url: str) -> dict[str, Any]:
    """The definition as a FHIR R4 Questionnaire: sections and pages as groups, in order."""
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
    if q.stop_when is not None:
        resource["extension"] = [{"url": STOP_CONDITION_URL, "valueString": q.stop_when.source}]
    return resource


def _section_item(q: Questionnaire, section: Section) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": section_link_id(section),
        "text": section.title,
        "type": "group",
    }
    _add_condition(item, q, section.when.source if section.when else None)
    item["item"] = [_page_item(q, page) for page in section.pages]
    return item


def _page_item(q: Questionnaire, page: Page) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": page_link_id(page), "text": page.title, "type": "group"}
    _add_condition(item, q, page.when.source if page.when else None)
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
        "type": _FHIR_TYPE[question.type],
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
    _add_condition(item, q, question.when.source if question.when else None)
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


def _add_condition(item: dict[str, Any], q: Questionnaire, source: str | None) -> None:
    if source is None:
        return
    mapped = enable_when(q, source)
    if mapped is None:
        item.setdefault("extension", []).append(
            {"url": ENABLE_CONDITION_URL, "valueString": source}
        )
        return
    conditions, behavior = mapped
    item["enableWhen"] = conditions
    if behavior is not None:
        item["enableBehavior"] = behavior


def enable_when(q: Questionnaire, source: str) -> tuple[EnableWhen, str | None] | None:
    """The FHIR enableWhen list and enableBehavior for a condition, or None when FHIR cannot
    express it exactly. The condition was checked when the questionnaire was loaded."""
    node = ast.parse(source, mode="eval").body
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        parts = [_atom(q, value) for value in node.values]
        if any(part is None or len(part) != 1 for part in parts):
            return None
        return [part[0] for part in parts if part is not None], "any"
    conjuncts = node.values if isinstance(node, ast.BoolOp) else [node]
    result: EnableWhen = []
    for conjunct in conjuncts:
        anyof = _any_of(q, conjunct) if len(conjuncts) == 1 else None
        if anyof is not None:
            return anyof, "any"
        part = _atom(q, conjunct)
        if part is None:
            return None
        result.extend(part)
    return result, ("all" if len(result) > 1 else None)


def _any_of(q: Questionnaire, node: ast.expr) -> EnableWhen | None:
    """``choice in ["a", "b"]``: any of several codes."""
    if not (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.In)
        and isinstance(node.left, ast.Name)
    ):
        return None
    question = q.question_by_id.get(node.left.id)
    codes = _codes(node.comparators[0])
    if question is None or question.type != "choice" or codes is None:
        return None
    return [_condition(q, question, "=", code) for code in codes]


def _atom(q: Questionnaire, node: ast.expr) -> EnableWhen | None:
    """One comparison (possibly needing an extra ``exists``), or None if FHIR cannot say it."""
    if isinstance(node, ast.Name):
        question = q.question_by_id.get(node.id)
        if question is None or question.type != "boolean":
            return None
        return [_condition(q, question, "=", True)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = node.operand
        if isinstance(inner, ast.Name):
            question = q.question_by_id.get(inner.id)
            if question is not None and question.type == "boolean":
                return [_condition(q, question, "=", False)]
        return None
    if not (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.left, ast.Name)
        and node.left.id in q.question_by_id
    ):
        return None
    question = q.question_by_id[node.left.id]
    op, right = node.ops[0], node.comparators[0]
    if isinstance(op, ast.NotIn) and question.type == "choice":
        codes = _codes(right)
        if codes is None:
            return None
        return [_exists(question), *(_condition(q, question, "!=", c) for c in codes)]
    symbol = _OPERATORS.get(type(op))
    if symbol is None or not isinstance(right, ast.Constant):
        return None
    value = right.value
    if not _fits(question, value, symbol):
        return None
    if symbol == "!=":
        return [_exists(question), _condition(q, question, "!=", value)]
    return [_condition(q, question, symbol, value)]


_OPERATORS: Final[dict[type[ast.cmpop], str]] = {
    ast.Eq: "=",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


def _fits(question: Question, value: Any, symbol: str) -> bool:
    if question.type == "boolean":
        return isinstance(value, bool) and symbol in ("=", "!=")
    if question.type == "choice":
        return isinstance(value, str) and symbol in ("=", "!=")
    if question.type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if question.type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False  # multiple choice: FHIR's operators do not match "code in list of answers"


def _codes(node: ast.expr) -> list[str] | None:
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    codes = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return codes if len(codes) == len(node.elts) and codes else None


def _exists(question: Question) -> dict[str, Any]:
    return {"question": question.id, "operator": "exists", "answerBoolean": True}


def _condition(q: Questionnaire, question: Question, symbol: str, value: Any) -> dict[str, Any]:
    condition: dict[str, Any] = {"question": question.id, "operator": symbol}
    condition.update(_answer_value(q, question, value))
    return condition


def _answer_value(q: Questionnaire, question: Question, value: Any) -> dict[str, Any]:
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


# -- QuestionnaireResponse, RiskAssessment and Observations, in a Bundle ---------------------------


def assessment_bundle(assessment: Assessment, q: Questionnaire, *, base_url: str) -> dict[str, Any]:
    """An assessment as a FHIR R4 ``Bundle`` of type ``collection``.

    Why these resources:

    - ``QuestionnaireResponse``: the answers, exactly as given, against the Questionnaire from
      ``GET /questionnaires/{id}/fhir`` (same link ids and nesting), so any FHIR server or form
      tool can show and check them.
    - ``RiskAssessment``: FHIR's resource for "the likelihood of an outcome, based on these
      answers", which is what the triage is. The first prediction is the overall triage level
      (our ``triage-level`` codes, with FHIR's qualitative risk-probability code for how likely a
      serious cause is); each fired rule follows as a prediction of its own (``triage-rule``
      code, its level as the qualitative risk, the message as rationale). ``mitigation`` holds
      the advice; ``basis`` points at the response. A ``ClinicalImpression`` was the other
      candidate, but it models a clinician's assessment, and this is a rule-based screen.
    - ``Observation`` (category ``survey``), one per likely contributor: a scored finding
      (0–3, ``valueInteger``) derived from the response (``derivedFrom``), which is what
      dashboards and EHRs chart and query.

    A ``collection`` is the Bundle type for "a set of resources that belong together", with no
    processing rules; a server stores it as is, or a client can post the entries one by one
    (references use the ``urn:uuid`` full URLs of the entries). backaudit does not know who the
    person is, so ``subject`` is a logical reference by identifier (the assessment's id in
    ``urn:backaudit:respondent``), which the receiving system can re-point at its own Patient.
    """
    result = assessment.result
    authored = assessment.created_at.isoformat()
    qr_id = str(assessment.id)
    risk_id = str(uuid.uuid5(assessment.id, "risk-assessment"))
    subject = {
        "type": "Patient",
        "identifier": {"system": RESPONDENT_SYSTEM, "value": str(assessment.id)},
        "display": "The person who answered (not identified by backaudit)",
    }
    qr_ref = {"reference": f"urn:uuid:{qr_id}"}

    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": qr_id,
        "identifier": {"system": ASSESSMENT_SYSTEM, "value": str(assessment.id)},
        "questionnaire": (
            f"{questionnaire_url(base_url, assessment.questionnaire_id)}"
            f"|{assessment.questionnaire_version}"
        ),
        "status": "completed" if assessment.complete else "stopped",
        "subject": subject,
        "authored": authored,
        "item": _response_items(q, assessment.answers),
    }

    observations: list[dict[str, Any]] = []
    for contributor in result.get("contributors", []):
        observations.append(
            {
                "resourceType": "Observation",
                "id": str(uuid.uuid5(assessment.id, f"contributor/{contributor['code']}")),
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {"system": _OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}
                        ]
                    }
                ],
                "code": {
                    "coding": [
                        {
                            "system": CONTRIBUTOR_SYSTEM,
                            "code": contributor["code"],
                            "display": contributor["label"],
                        }
                    ],
                    "text": contributor["label"],
                },
                "subject": subject,
                "effectiveDateTime": authored,
                "valueInteger": contributor["score"],
                "derivedFrom": [qr_ref],
                "note": [{"text": contributor["why"]}],
            }
        )

    triage = result["triage"]
    risk: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": risk_id,
        "identifier": [{"system": ASSESSMENT_SYSTEM, "value": str(assessment.id)}],
        # Final even for an unfinished interview: every safety answer is in by then.
        "status": "final",
        "code": {"text": f"{q.title}: red-flag triage"},
        "subject": subject,
        "occurrenceDateTime": authored,
        "basis": [qr_ref, *({"reference": f"urn:uuid:{o['id']}"} for o in observations)],
        "prediction": [
            _prediction(TRIAGE_LEVEL_SYSTEM, triage["level"], triage["title"], triage["level"]),
            *(
                _prediction(
                    TRIAGE_RULE_SYSTEM,
                    reason["code"],
                    reason["code"],
                    reason["level"],
                    rationale=reason["message"],
                )
                for reason in triage["reasons"]
            ),
        ],
        "mitigation": triage["advice"],
    }

    resources = [response, risk, *observations]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(assessment.id, "bundle")),
        "identifier": {"system": ASSESSMENT_SYSTEM, "value": str(assessment.id)},
        "type": "collection",
        "timestamp": authored,
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }


def _prediction(
    system: str, code: str, display: str, level: str, *, rationale: str | None = None
) -> dict[str, Any]:
    risk_code, risk_display = _RISK_BY_LEVEL.get(level, ("moderate", "Moderate likelihood"))
    prediction: dict[str, Any] = {
        "outcome": {"coding": [{"system": system, "code": code, "display": display}]},
        "qualitativeRisk": {
            "coding": [{"system": _RISK_PROBABILITY, "code": risk_code, "display": risk_display}]
        },
    }
    if rationale:
        prediction["rationale"] = rationale
    return prediction


def _response_items(q: Questionnaire, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers, nested in the same section and page groups as the Questionnaire."""
    sections: list[dict[str, Any]] = []
    for section in q.sections:
        pages: list[dict[str, Any]] = []
        for page in section.pages:
            items = [
                {
                    "linkId": question.id,
                    "text": question.text,
                    "answer": _answers(q, question, answers[question.id]),
                }
                for question in page.questions
                if question.id in answers
            ]
            if items:
                pages.append({"linkId": page_link_id(page), "text": page.title, "item": items})
        if pages:
            sections.append(
                {"linkId": section_link_id(section), "text": section.title, "item": pages}
            )
    return sections


def _answers(q: Questionnaire, question: Question, value: Any) -> list[dict[str, Any]]:
    values = value if question.type == "multi_choice" else [value]
    out = []
    for v in values:
        typed = _answer_value(q, question, v)
        # enableWhen says answerX, a response answer says valueX.
        out.append({f"value{key.removeprefix('answer')}": val for key, val in typed.items()})
    return out
