"""Request and response bodies of the JSON API (their examples are in examples.py).

The result contract is the engine's own types (app/engine/_contract.py): the engine builds the
object, the API sends it as it is, and these models hold it, so the document is derived from
the same types as the JSON.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from pydantic.config import JsonDict

from app.engine import (
    CheckinResult,
    ContributorScore,
    ExerciseStep,
    Plan,
    PlanBlock,
    PlanChange,
    QuestionnaireRef,
    Reason,
    Release,
    Result,
    SafetyNet,
    SafetyNetToday,
    Triage,
)

from .examples import EXAMPLE_ANSWERS, EXAMPLE_RECORD, EXAMPLE_SELF_CARE_RESULT

# -- errors ----------------------------------------------------------------------------------------


class Problem(BaseModel):
    """One thing wrong with a request: ``question`` for an answer, ``field`` for anything else."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"question": "age", "code": "out_of_range", "message": "must be from 0 to 120"},
                {"field": "answers", "code": "required", "message": "Field required"},
            ]
        }
    )

    question: str | None = Field(None, description="The question id the problem is about.")
    field: str | None = Field(None, description="The request field or header the problem is about.")
    code: str = Field(
        description="Machine-readable: unknown_question, required, wrong_type, out_of_range,"
        " invalid_option, unknown_questionnaire, invalid_json, unknown_field, …"
    )
    message: str


class ErrorResponse(BaseModel):
    """Every 4xx answer has this shape; ``problems`` is empty when there is nothing to list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "The answers cannot produce a result; nothing was stored.",
                    "problems": [
                        {"question": "age", "code": "out_of_range", "message": "must be from 0"},
                        {"question": "fever", "code": "required", "message": "is required"},
                    ],
                }
            ]
        }
    )

    detail: str
    problems: list[Problem] = []


# -- the result contract ---------------------------------------------------------------------------

# The engine types it (app/engine/_contract.py) and the API sends what the engine built, so the
# document is derived from those types: their attribute docstrings are the fields'
# descriptions. The level codes are the definitions' (app/api/openapi.py names them).


def _one_line(schema: JsonDict) -> None:
    """A docstring is wrapped at the source's width: one line in the document."""
    fields = schema.get("properties")
    for field in fields.values() if isinstance(fields, dict) else ():
        if isinstance(field, dict) and isinstance(field.get("description"), str):
            field["description"] = " ".join(str(field["description"]).split())


def _result(schema: JsonDict) -> None:
    schema["examples"] = [cast("JsonDict", EXAMPLE_SELF_CARE_RESULT)]  # a Result is JSON
    _one_line(schema)


def _checkin_result(schema: JsonDict) -> None:
    """Its fields from the result contract keep their descriptions (pydantic reads only the
    class's own docstrings)."""
    inherited = TypeAdapter(Result).json_schema()["properties"]
    fields = schema.get("properties")
    for name, field in fields.items() if isinstance(fields, dict) else ():
        said = inherited.get(name, {}).get("description")
        if isinstance(field, dict) and said is not None:
            field.setdefault("description", said)
    _one_line(schema)


for _part in (
    QuestionnaireRef,
    Reason,
    Triage,
    ContributorScore,
    ExerciseStep,
    PlanBlock,
    Plan,
    SafetyNetToday,
    SafetyNet,
    Release,
    PlanChange,
):
    with_config(ConfigDict(use_attribute_docstrings=True, json_schema_extra=_one_line))(_part)
with_config(ConfigDict(use_attribute_docstrings=True, json_schema_extra=_result))(Result)
with_config(ConfigDict(use_attribute_docstrings=True, json_schema_extra=_checkin_result))(
    CheckinResult
)


# -- assessments -----------------------------------------------------------------------------------


class AssessmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"answers": EXAMPLE_ANSWERS}]}
    )

    questionnaire: str | None = Field(
        None, description="Questionnaire id; the default questionnaire when left out."
    )
    questionnaire_version: str | None = Field(
        None,
        description='Assess against this version (e.g. `"2.0.0"`) while its `accept_until`'
        " day has not passed; the newest version when left out. A client not yet sending a"
        " new version's questions pins the older one; the response says `newer_version`.",
        examples=["2.0.0"],
    )
    answers: dict[str, Any] = Field(
        description="Every answer, keyed by question id: booleans as true/false, choices as"
        " codes, numbers as JSON numbers, multiple choice as a list of codes."
    )


class CheckinCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any] = Field(
        description="The check-in's answers (questionnaire `low-back-checkin`), keyed by"
        " question id: the warning signs, pain_now, the PEG items, global_change, and for each"
        " block of the current plan `<block>_days` and `<block>_feel`."
    )


LANGUAGE_DESCRIPTION = (
    "The language of the texts for the person (BCP 47: `en`, `pl`): the request's"
    " `Accept-Language` where the questionnaire (that version) has a translation into it that is"
    " offered, else `en`, the base language. Codes, ids and staff texts do not change with it."
    " Also in the `Content-Language` header."
)


def language_field() -> Any:
    return Field(default="en", description=LANGUAGE_DESCRIPTION)


class CheckinRecord(BaseModel):
    id: str
    assessment_id: str
    created_at: str
    result: CheckinResult = Field(
        description="The result contract (triage, reasons with their three texts, safety net),"
        " plus `plan` (the plan from now on; at see-a-doctor kept with pauses only, null"
        " after an urgent or emergency sign),"
        " `changes` (what moved in each block, and why) and `trend` (pain and PEG over time)."
    )
    language: str = language_field()


class CheckinList(BaseModel):
    checkins: list[CheckinRecord]
    next_due: str | None = Field(description="When the next check-in is due (2, 4, 8 weeks).")
    total: int = Field(description="How many check-ins the assessment has, on every page.")
    next: str | None = Field(
        description="The next page's address (`offset` and `limit`), null on the last page."
    )


class AssessmentRecord(BaseModel):
    """A stored assessment."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_RECORD]})

    id: uuid.UUID
    created_at: datetime
    channel: Literal["web", "intake", "api"]
    result: Result
    language: str = language_field()


# -- questionnaires --------------------------------------------------------------------------------


class OptionOut(BaseModel):
    code: str
    label: str
    hint: str | None = None
    exclusive: bool = Field(False, description="Cannot be combined with other options.")


class QuestionOut(BaseModel):
    """A question as a client shows it."""

    id: str
    type: Literal["boolean", "integer", "number", "choice", "multi_choice"]
    text: str
    hint: str | None = None
    options: list[OptionOut] = []
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    widget: str | None = Field(None, description="A hint for forms, e.g. 'height' or 'scale'.")
    image: str | None = Field(None, description="A picture's file name, under /static/exercises/.")
    image_alt: str | None = None
    required: bool = True


class QuestionDefinition(QuestionOut):
    when: str | None = Field(None, description="The question's own condition, as written.")


class PageDefinition(BaseModel):
    id: str
    title: str
    intro: str | None = None
    when: str | None = None
    questions: list[QuestionDefinition]


class SectionDefinition(BaseModel):
    id: str
    title: str
    when: str | None = None
    pages: list[PageDefinition]


class DerivedDefinition(BaseModel):
    id: str
    label: str | None = None
    value: str = Field(description="The expression, as written.")


class LevelDefinition(BaseModel):
    code: str
    title: str
    advice: str
    clinician: str | None = None
    action: str | None = None


class RuleDefinition(BaseModel):
    code: str
    level: str
    when: str
    message: str
    clinician: str | None = None
    action: str | None = None


class ContributorDefinition(BaseModel):
    code: str
    label: str


class QuestionnaireSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "low-back-audit",
                    "version": "2.0.0",
                    "title": "Low back pain check",
                    "description": "A short check for everyday low back pain. …",
                }
            ]
        }
    )

    id: str
    version: str
    title: str
    description: str
    follows: str | None = Field(
        None,
        description="A follow-up (check-in) questionnaire: the questionnaire whose assessments"
        " it follows up, at POST /assessments/{id}/checkins. Null for a questionnaire of its own.",
    )
    language: str = language_field()


class QuestionnaireList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "default": "low-back-audit",
                    "questionnaires": [
                        {
                            "id": "low-back-audit",
                            "version": "2.0.0",
                            "title": "Low back pain check",
                            "description": "A short check for everyday low back pain. …",
                        }
                    ],
                }
            ]
        }
    )

    default: str
    questionnaires: list[QuestionnaireSummary]


class QuestionnaireDefinition(QuestionnaireSummary):
    """The whole definition. Conditions are given as written in the questionnaire file."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "low-back-audit",
                    "version": "2.0.0",
                    "title": "Low back pain check",
                    "description": "A short check for everyday low back pain. …",
                    "stop_when": 'triage_level == "emergency"',
                    "sections": [
                        {
                            "id": "pain",
                            "title": "Your back pain",
                            "when": 'triage_level != "emergency"',
                            "pages": [
                                {
                                    "id": "leg_compared",
                                    "title": "Leg pain and back pain",
                                    "intro": None,
                                    "when": 'leg_pain != "none"',
                                    "questions": [
                                        {
                                            "id": "leg_pain_worse_than_back",
                                            "type": "boolean",
                                            "text": "Is the pain in your leg worse than the"
                                            " pain in your back?",
                                            "options": [],
                                            "required": True,
                                            "when": None,
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                    "derived": [
                        {
                            "id": "bmi",
                            "label": "Body mass index",
                            "value": "weight_kg / (height_cm / 100) ** 2",
                        }
                    ],
                    "levels": [
                        {"code": "emergency", "title": "Get medical help now", "advice": "…"}
                    ],
                    "rules": [
                        {
                            "code": "cauda_equina_saddle",
                            "level": "emergency",
                            "when": "saddle_numbness",
                            "message": "…",
                        }
                    ],
                    "contributors": [{"code": "weight", "label": "Body weight"}],
                }
            ]
        }
    )

    stop_when: str | None = Field(
        None, description="When this holds, the interview ends (no more questions)."
    )
    sections: list[SectionDefinition]
    derived: list[DerivedDefinition]
    levels: list[LevelDefinition] = Field(description="Triage levels, most urgent first.")
    rules: list[RuleDefinition]
    contributors: list[ContributorDefinition]


# -- the interview, one page at a time -------------------------------------------------------------


class NextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questionnaire_version: str | None = Field(
        None, description="As for assessments: an older version while it is still accepted."
    )

    answers: dict[str, Any] = Field(
        default_factory=dict, description="The answers so far, keyed by question id."
    )


class SectionRef(BaseModel):
    id: str
    title: str


class PageOut(BaseModel):
    id: str
    title: str
    intro: str | None = None
    section: SectionRef
    questions: list[QuestionOut]


class Progress(BaseModel):
    answered: int
    remaining: int
    percent: int = Field(ge=0, le=100)


class NextStep(BaseModel):
    """Where the interview stands. Nothing is stored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "questionnaire": {"id": "low-back-audit", "version": "2.0.0"},
                    "complete": False,
                    "stopped": False,
                    "page": {
                        "id": "emergency_other",
                        "title": "Other urgent signs",
                        "intro": None,
                        "section": {"id": "safety", "title": "Safety check"},
                        "questions": [
                            {
                                "id": "both_legs",
                                "type": "boolean",
                                "text": "Do you have pain, tingling, numbness or weakness in"
                                " both legs?",
                                "hint": None,
                                "options": [],
                                "min": None,
                                "max": None,
                                "unit": None,
                                "widget": None,
                                "required": True,
                            }
                        ],
                    },
                    "progress": {"answered": 3, "remaining": 13, "percent": 19},
                    "problems": [],
                    "ignored_answers": [],
                    "result": None,
                }
            ]
        }
    )

    questionnaire: QuestionnaireRef
    complete: bool = Field(
        description="True when nothing more is asked: every required answer is given (with no"
        " problems), or an emergency sign ended the interview early."
    )
    stopped: bool = Field(description="True when an emergency sign ended the interview early.")
    page: PageOut | None = Field(
        description="The next page to show: the first with an unanswered question or one whose"
        " answer has a problem. Only the questions that branching shows are listed. Null when"
        " complete, and when the only problems are unknown question ids (no page holds them)."
    )
    progress: Progress
    problems: list[Problem] = Field(
        description="Unknown question ids and invalid values, by question id. Missing answers"
        " are not problems here: they are what the next page asks for."
    )
    ignored_answers: list[str] = Field(
        description="Answers to questions that branching hides; they are not used."
    )
    result: Result | None = Field(
        description="The result once complete (for an early stop, the emergency advice). It is"
        " not stored: send the answers to POST /assessments to store them."
    )
    language: str = language_field()
