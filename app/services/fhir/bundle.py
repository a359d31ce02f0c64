"""An assessment as a FHIR R4 ``Bundle``: QuestionnaireResponse, RiskAssessment, Observations."""

from __future__ import annotations

import uuid
from typing import Any, Final

from app.engine import Level, Question, Questionnaire
from app.models import Assessment

from .coding import answer_value, page_link_id, questionnaire_url, section_link_id
from .narrative import observation_narrative, response_narrative, risk_narrative

ASSESSMENT_SYSTEM: Final = "urn:backaudit:assessment"
RESPONDENT_SYSTEM: Final = "urn:backaudit:respondent"
TRIAGE_LEVEL_SYSTEM: Final = "urn:backaudit:triage-level"
TRIAGE_RULE_SYSTEM: Final = "urn:backaudit:triage-rule"
CONTRIBUTOR_SYSTEM: Final = "urn:backaudit:contributor"
_RISK_PROBABILITY: Final = "http://terminology.hl7.org/CodeSystem/risk-probability"
_RISK_DISPLAY: Final = {  # FHIR's displays for the risk-probability codes levels use
    "high": "High likelihood",
    "moderate": "Moderate likelihood",
    "low": "Low likelihood",
}
_OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"


def assessment_bundle(assessment: Assessment, q: Questionnaire, *, base_url: str) -> dict[str, Any]:
    """An assessment as a FHIR R4 ``Bundle`` of type ``collection``.

    Why these resources:

    - ``QuestionnaireResponse``: the answers, exactly as given, against the Questionnaire from
      ``GET /questionnaires/{id}/fhir`` (same link ids and nesting), so any FHIR server or form
      tool can show and check them.
    - ``RiskAssessment``: FHIR's resource for "the likelihood of an outcome, based on these
      answers", which is what the triage is. The first prediction is the overall triage level
      (our ``triage-level`` codes, with the level's ``risk``: FHIR's qualitative
      risk-probability code for how likely a serious cause is); each fired rule follows as a
      prediction of its own (``triage-rule`` code, its level's risk). The words are the
      clinical ones, for the receiving clinic, never the person's: each outcome's display and
      text is the level's clinical title or the rule's clinical label, ``mitigation`` is the
      level's action, and a ``note`` gives each label with its action. A record made by
      version 1.0.0 has no clinical texts: its outcomes show the level's title and the rule's
      code, with the message the person read as the rationale, and ``mitigation`` the advice,
      as they were exported then. ``basis`` points at the response. A
      ``ClinicalImpression`` was the other candidate, but it models a clinician's assessment,
      and this is a rule-based screen.
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
        "item": response_items(q, assessment.answers),
    }
    response["text"] = response_narrative(
        q.title, assessment.questionnaire_version, response["status"], len(assessment.answers)
    )

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
                "text": observation_narrative(contributor["label"], contributor["score"]),
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
            risk_prediction(
                TRIAGE_LEVEL_SYSTEM,
                triage["level"],
                triage.get("clinician") or triage["title"],
                q.level_by_code.get(triage["level"]),
                clinical=bool(triage.get("clinician")),
            ),
            *(
                risk_prediction(
                    TRIAGE_RULE_SYSTEM,
                    reason["code"],
                    reason.get("clinician") or reason["code"],
                    q.level_by_code.get(reason["level"]),
                    clinical=bool(reason.get("clinician")),
                    # 1.0.0: no clinical label; the message is all the record has.
                    rationale=None if reason.get("clinician") else reason["message"],
                )
                for reason in triage["reasons"]
            ),
        ],
        "mitigation": triage.get("action") or triage["advice"],
        "text": risk_narrative(
            q.title,
            triage.get("clinician") or triage["title"],
            (reason.get("clinician") or reason["code"] for reason in triage["reasons"]),
        ),
    }
    notes = [
        {"text": f"{item['clinician']}: {item['action']}"}
        for item in (triage, *triage["reasons"])
        if item.get("clinician") and item.get("action")
    ]
    if notes:
        risk["note"] = notes

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


def bundle_resource(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The Bundle's (first) entry of that type: what FHIR in answers with (a RiskAssessment)."""
    return next(
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    )


def risk_prediction(
    system: str,
    code: str,
    display: str,
    level: Level | None,
    *,
    clinical: bool,
    rationale: str | None = None,
) -> dict[str, Any]:
    """``clinical``: ``display`` is a clinical title or label (version 2.0.0 on), which is then
    the outcome's text too."""
    # No level: the result names one this questionnaire no longer has (an older version's).
    risk_code = level.risk if level is not None else "moderate"
    prediction: dict[str, Any] = {
        "outcome": {"coding": [{"system": system, "code": code, "display": display}]},
        "qualitativeRisk": {
            "coding": [
                {
                    "system": _RISK_PROBABILITY,
                    "code": risk_code,
                    "display": _RISK_DISPLAY[risk_code],
                }
            ]
        },
    }
    if clinical:
        prediction["outcome"]["text"] = display
    if rationale:
        prediction["rationale"] = rationale
    return prediction


def response_items(q: Questionnaire, answers: dict[str, Any]) -> list[dict[str, Any]]:
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
        typed = answer_value(q, question, v)
        # enableWhen says answerX, a response answer says valueX.
        out.append({f"value{key.removeprefix('answer')}": val for key, val in typed.items()})
    return out
