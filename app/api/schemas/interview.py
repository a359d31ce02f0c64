"""The interview one page at a time: the answers so far, and where the interview stands."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.engine import QuestionnaireRef, Result

from . import language_field
from .problems import Problem
from .questionnaires import QuestionOut


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
