"""A check-in as a FHIR R4 ``Bundle``: its QuestionnaireResponse, a RiskAssessment for its
triage, and Observations for the pain and PEG scores.

Codes: ``pain_now`` is LOINC 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] -
Reported", which is exactly that question. For the three PEG items and their mean we found no
LOINC code we could confirm, so they carry our own code system (``urn:backaudit:checkin-score``)
with the item's words; a receiving system can map them. The subject is the same logical
respondent as the assessment's export, so both land on one person.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from app.engine import Questionnaire, value_of
from app.models import Assessment, Checkin

from .bundle import (
    RESPONDENT_SYSTEM,
    TRIAGE_LEVEL_SYSTEM,
    TRIAGE_RULE_SYSTEM,
    response_items,
    risk_prediction,
)
from .coding import questionnaire_url
from .narrative import observation_narrative, response_narrative, risk_narrative
from .questionnaire import UCUM

CHECKIN_SYSTEM: Final = "urn:backaudit:checkin"
SCORE_SYSTEM: Final = "urn:backaudit:checkin-score"
LOINC: Final = "http://loinc.org"
_SURVEY: Final = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}
# question or derived value id: codings, text (the codes of our own system are these ids)
SCORES: Final = {
    "pain_now": (
        [
            {"system": LOINC, "code": "72514-3",
             "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"},
            {"system": SCORE_SYSTEM, "code": "pain_now", "display": "Pain right now (0-10)"},
        ],
        "Pain right now (0-10)",
    ),
    "peg_pain": ([{"system": SCORE_SYSTEM, "code": "peg_pain"}], "PEG: average pain, last week (0-10)"),
    "peg_enjoyment": (
        [{"system": SCORE_SYSTEM, "code": "peg_enjoyment"}],
        "PEG: interference with enjoyment of life, last week (0-10)",
    ),
    "peg_activity": (
        [{"system": SCORE_SYSTEM, "code": "peg_activity"}],
        "PEG: interference with general activity, last week (0-10)",
    ),
    "peg_score": ([{"system": SCORE_SYSTEM, "code": "peg_score"}], "PEG score: mean of the 3 items (0-10)"),
}  # fmt: skip


def checkin_bundle(
    checkin: Checkin, assessment: Assessment, q: Questionnaire, *, base_url: str
) -> dict[str, Any]:
    authored = checkin.created_at.isoformat()
    subject = {
        "type": "Patient",
        "identifier": {"system": RESPONDENT_SYSTEM, "value": str(assessment.id)},
        "display": "The person who answered (not identified by backaudit)",
    }
    qr_id = str(checkin.id)
    qr_ref = {"reference": f"urn:uuid:{qr_id}"}
    response = {
        "resourceType": "QuestionnaireResponse",
        "id": qr_id,
        "identifier": {"system": CHECKIN_SYSTEM, "value": str(checkin.id)},
        "questionnaire": (
            f"{questionnaire_url(base_url, checkin.questionnaire_id)}|{checkin.questionnaire_version}"
        ),
        "status": "completed",
        "subject": subject,
        "authored": authored,
        "item": response_items(q, checkin.answers),
        "text": response_narrative(
            q.title, checkin.questionnaire_version, "completed", len(checkin.answers)
        ),
    }
    values = dict(checkin.answers)
    for derived in q.derived:
        # The definition's PEG score, over the stored answers (none when an item is missing);
        # a mean to two decimals, as this export has always given it.
        score = value_of(q, checkin.answers, derived.id) if derived.id in SCORES else None
        if score is not None:
            values[derived.id] = round(score, 2) if isinstance(score, float) else score
    observations = []
    for key, (codings, text) in SCORES.items():
        if key not in values:
            continue
        value = values[key]
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": str(uuid.uuid5(checkin.id, f"score/{key}")),
            "status": "final",
            "category": [_SURVEY],
            "code": {"coding": codings, "text": text},
            "subject": subject,
            "effectiveDateTime": authored,
            "derivedFrom": [qr_ref],
            "text": observation_narrative(text, value),
        }
        if isinstance(value, int):
            observation["valueInteger"] = value
        else:
            # A unitless score, in UCUM's annotation form as FHIR's scores are given.
            observation["valueQuantity"] = {
                "value": value,
                "unit": "score",
                "system": UCUM,
                "code": "{score}",
            }
        observations.append(observation)
    triage = checkin.result["triage"]
    risk = {
        "resourceType": "RiskAssessment",
        "id": str(uuid.uuid5(checkin.id, "risk-assessment")),
        # Its own: the check-in's, not the assessment's (that RiskAssessment is another one).
        "identifier": [{"system": CHECKIN_SYSTEM, "value": str(checkin.id)}],
        "status": "final",
        "code": {"text": f"{q.title}: red-flag triage and progress"},
        "subject": subject,
        "occurrenceDateTime": authored,
        "basis": [qr_ref, *({"reference": f"urn:uuid:{o['id']}"} for o in observations)],
        "prediction": [
            risk_prediction(
                TRIAGE_LEVEL_SYSTEM, triage["level"], triage.get("clinician") or triage["title"],
                q.level_by_code.get(triage["level"]), clinical=True,
            ),
            *(
                risk_prediction(
                    TRIAGE_RULE_SYSTEM, r["code"], r.get("clinician") or r["code"],
                    q.level_by_code.get(r["level"]), clinical=True,
                )
                for r in triage["reasons"]
            ),
        ],
        "mitigation": triage.get("action") or triage["advice"],
        "text": risk_narrative(
            f"{q.title} (check-in)", triage.get("clinician") or triage["title"],
            (r.get("clinician") or r["code"] for r in triage["reasons"]),
        ),
    }  # fmt: skip
    resources = [response, risk, *observations]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(checkin.id, "bundle")),
        "identifier": {"system": CHECKIN_SYSTEM, "value": str(checkin.id)},
        "type": "collection",
        "timestamp": authored,
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }
