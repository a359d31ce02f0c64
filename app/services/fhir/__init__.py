"""FHIR R4 exports: the questionnaire as a ``Questionnaire``, an assessment as a ``Bundle``.

Plain dicts in, plain JSON-ready dicts out; the tests parse every export with the
``fhir.resources`` R4B models (R4B changed nothing in the resources used here).

- ``questionnaire``: the Questionnaire resource;
- ``conditions``: branching conditions as ``enableWhen``, or kept as written in an extension;
- ``bundle``: an assessment's QuestionnaireResponse, RiskAssessment and Observations;
- ``checkin``: a check-in's QuestionnaireResponse, RiskAssessment and Observations;
- ``narrative``: the short generated ``text`` of each resource;
- ``response_in``: FHIR in, a QuestionnaireResponse read back into answers;
- ``coding``: URLs, code systems, link ids and typed answers that all of them share.
"""

from .bundle import (
    ASSESSMENT_SYSTEM,
    CONTRIBUTOR_SYSTEM,
    RESPONDENT_SYSTEM,
    TRIAGE_LEVEL_SYSTEM,
    TRIAGE_RULE_SYSTEM,
    assessment_bundle,
    bundle_resource,
)
from .coding import FHIR_VERSION, option_system, page_link_id, questionnaire_url, section_link_id
from .conditions import ENABLE_CONDITION_URL, EnableWhen, enable_when
from .questionnaire import FHIR_ITEM_TYPE, STOP_CONDITION_URL, UCUM, questionnaire_resource
from .response_in import ResponseNotReadableError, named_questionnaire, read_answers

__all__ = [
    "ASSESSMENT_SYSTEM",
    "CONTRIBUTOR_SYSTEM",
    "ENABLE_CONDITION_URL",
    "FHIR_ITEM_TYPE",
    "FHIR_VERSION",
    "RESPONDENT_SYSTEM",
    "STOP_CONDITION_URL",
    "TRIAGE_LEVEL_SYSTEM",
    "TRIAGE_RULE_SYSTEM",
    "UCUM",
    "EnableWhen",
    "ResponseNotReadableError",
    "assessment_bundle",
    "bundle_resource",
    "enable_when",
    "named_questionnaire",
    "option_system",
    "page_link_id",
    "questionnaire_resource",
    "questionnaire_url",
    "read_answers",
    "section_link_id",
]
