"""Request and response bodies of the JSON API, with the examples shown in the OpenAPI document.

The result models describe the product's result contract; the engine builds that object and
the API sends it as it is (the models document it, and the tests check them against it).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# -- examples (kept small; the tests check that they fit the models) -----------------------------

SAFETY_ALL_NO: dict[str, Any] = {
    "saddle_numbness": False,
    "bladder_change": False,
    "bowel_change": False,
    "both_legs": False,
    "chest_pain": False,
    "major_trauma": False,
    "age": 42,
    "pregnant": False,
    "leg_weakness_worsening": False,
    "fever": False,
    "weight_loss": False,
    "night_pain": False,
    "back_shape_change": False,
    "cancer_history": False,
    "osteoporosis_or_steroids": False,
    "infection_risk": False,
}
EXAMPLE_ANSWERS: dict[str, Any] = {
    **SAFETY_ALL_NO,
    "pain_duration": "6_to_12_weeks",
    "onset": "gradual",
    "pain_trend": "same",
    "pain_intensity": 4,
    "leg_pain": "none",
    "leg_numbness": False,
    "spine_diagnosis": ["none"],
    "knows_height_weight": True,
    "height_cm": 175,
    "weight_kg": 82,
    "activity_minutes_week": 60,
    "strength_days_week": 0,
    "stretching_frequency": "rarely",
    "plays_sports": False,
    "lifts_weights": False,
    "sleep_hours": 6.5,
    "sleep_quality": "fair",
    "wakes_stiff": True,
    "sitting_hours": 9,
    "sitting_breaks": "rarely",
    "hunched_posture": True,
    "smoker": False,
    "squat_check": "with_support",
    "bridge_check": "two_leg_easy",
    "hang_check": "under_20_s",
    "sides_differ": False,
}
EXAMPLE_EMERGENCY_RESULT: dict[str, Any] = {
    "questionnaire": {"id": "low-back-audit", "version": "1.0.0"},
    "complete": True,
    "triage": {
        "level": "emergency",
        "title": "Get medical help now",
        "advice": "Go to an emergency department now, or call 999 (or your local emergency"
        " number). …",
        "reasons": [
            {
                "code": "cauda_equina_saddle",
                "level": "emergency",
                "message": "Numbness or a changed feeling between your legs or around your"
                " bottom can be a sign of cauda equina syndrome, …",
            }
        ],
    },
    "contributors": [],
    "plan": None,
    "ignored_answers": [],
}
EXAMPLE_SELF_CARE_RESULT: dict[str, Any] = {
    "questionnaire": {"id": "low-back-audit", "version": "1.0.0"},
    "complete": True,
    "triage": {
        "level": "self_care",
        "title": "You can start the programme",
        "advice": "Nothing in your answers suggests that you need to see a doctor first. …",
        "reasons": [],
    },
    "contributors": [
        {
            "code": "sitting",
            "score": 3,
            "label": "Sitting",
            "why": "You sit for about 9 hours on a usual day. …",
            "advice": "Stand up and move for a minute or two every 30 minutes. …",
        }
    ],
    "plan": {
        "blocks": [
            {
                "code": "pelvic_tilts",
                "title": "Pelvic tilts",
                "summary": "Gently rock your hips forward and back. …",
                "focus": True,
                "relevance": 9,
                "start_step": "lying",
                "steps": [
                    {
                        "code": "lying",
                        "title": "Lying pelvic tilt",
                        "how": "Lie on your back with your knees bent and your feet flat. …",
                        "cues": ["Move slowly, both ways."],
                        "mistakes": ["Lifting your bottom off the floor."],
                        "progress_when": "When all your sets feel easy, move on to the"
                        " kneeling tilt.",
                        "image": "pelvic_tilts-lying.svg",
                        "image_alt": "A person lying on their back with knees bent. …",
                    }
                ],
                "dose": "1–3 sets of 8–12 slow tilts, every day",
            }
        ],
        "advice": ["Do a little every day: 1 to 3 sets of 8 to 12 slow repetitions. …"],
    },
    "ignored_answers": [],
}
EXAMPLE_RECORD: dict[str, Any] = {
    "id": "0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11",
    "created_at": "2026-11-24T09:30:00Z",
    "channel": "api",
    "result": EXAMPLE_SELF_CARE_RESULT,
}


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


class QuestionnaireRef(BaseModel):
    id: str
    version: str


class Reason(BaseModel):
    code: str
    level: str
    message: str


class Triage(BaseModel):
    level: Literal["emergency", "urgent", "see_doctor", "self_care"]
    title: str
    advice: str
    reasons: list[Reason]


class ContributorScore(BaseModel):
    code: str
    score: int = Field(ge=1, le=3)
    label: str
    why: str
    advice: str


class ExerciseStep(BaseModel):
    code: str
    title: str
    how: str
    cues: list[str]
    mistakes: list[str]
    progress_when: str
    image: str | None = None
    image_alt: str | None = None


class PlanBlock(BaseModel):
    code: str
    title: str
    summary: str
    focus: bool
    relevance: int
    start_step: str
    steps: list[ExerciseStep]
    dose: str
    companion: ExerciseStep | None = None


class Plan(BaseModel):
    blocks: list[PlanBlock]
    advice: list[str]


class Result(BaseModel):
    """The result contract: the same object for the API, the CLI and stored records."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_SELF_CARE_RESULT]})

    questionnaire: QuestionnaireRef
    complete: bool
    triage: Triage
    contributors: list[ContributorScore]
    plan: Plan | None
    ignored_answers: list[str]


# -- assessments -----------------------------------------------------------------------------------


class AssessmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"answers": EXAMPLE_ANSWERS}]}
    )

    questionnaire: str | None = Field(
        None, description="Questionnaire id; the default questionnaire when left out."
    )
    answers: dict[str, Any] = Field(
        description="Every answer, keyed by question id: booleans as true/false, choices as"
        " codes, numbers as JSON numbers, multiple choice as a list of codes."
    )


class AssessmentRecord(BaseModel):
    """A stored assessment."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_RECORD]})

    id: uuid.UUID
    created_at: datetime
    channel: Literal["web", "intake", "api"]
    result: Result


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


class RuleDefinition(BaseModel):
    code: str
    level: str
    when: str
    message: str


class ContributorDefinition(BaseModel):
    code: str
    label: str


class QuestionnaireSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "low-back-audit",
                    "version": "1.0.0",
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


class QuestionnaireList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "default": "low-back-audit",
                    "questionnaires": [
                        {
                            "id": "low-back-audit",
                            "version": "1.0.0",
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
                    "version": "1.0.0",
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
                    "questionnaire": {"id": "low-back-audit", "version": "1.0.0"},
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
