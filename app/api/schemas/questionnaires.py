"""A questionnaire as the API lists it and gives it whole (conditions as written)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from . import language_field


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
