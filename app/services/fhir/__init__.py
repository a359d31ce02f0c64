"""FHIR R4 exports: the questionnaire as a ``Questionnaire``, an assessment as a ``Bundle``.

Plain dicts in, plain JSON-ready dicts out; the tests parse every export with the
``fhir.resources`` R4B models (R4B changed nothing in the resources used here).

- ``questionnaire``: the Questionnaire resource;
- ``conditions``: branching conditions as ``enableWhen``, or SDC ``enableWhenExpression``;
- ``fhirpath``: the one translator from the engine's conditions to FHIRPath;
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
from .conditions import (
    ENABLE_CONDITION_URL,
    ENABLE_WHEN_EXPRESSION_URL,
    EnableWhen,
    enable_when,
)
from .fhirpath import CONTEXT_LINK_ID, FhirPath, FhirPathError, Variable
from .questionnaire import (
    CALCULATED_EXPRESSION_URL,
    DERIVED_LINK_ID,
    FHIR_ITEM_TYPE,
    STOP_CONDITION_URL,
    UCUM,
    VARIABLE_URL,
    questionnaire_resource,
)
from .response_in import ResponseNotReadableError, named_questionnaire, read_answers

__all__ = [
    "ASSESSMENT_SYSTEM",
    "CALCULATED_EXPRESSION_URL",
    "CONTEXT_LINK_ID",
    "CONTRIBUTOR_SYSTEM",
    "DERIVED_LINK_ID",
    "ENABLE_CONDITION_URL",
    "ENABLE_WHEN_EXPRESSION_URL",
    "FHIR_ITEM_TYPE",
    "FHIR_VERSION",
    "RESPONDENT_SYSTEM",
    "STOP_CONDITION_URL",
    "TRIAGE_LEVEL_SYSTEM",
    "TRIAGE_RULE_SYSTEM",
    "UCUM",
    "VARIABLE_URL",
    "EnableWhen",
    "FhirPath",
    "FhirPathError",
    "ResponseNotReadableError",
    "Variable",
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
