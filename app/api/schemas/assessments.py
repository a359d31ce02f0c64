"""What a client sends to store an assessment, and the stored assessment it gets back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.engine import Result

from ..examples import EXAMPLE_ANSWERS, EXAMPLE_RECORD
from . import language_field


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


class AssessmentRecord(BaseModel):
    """A stored assessment."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_RECORD]})

    id: uuid.UUID
    created_at: datetime
    channel: Literal["web", "intake", "api"]
    result: Result
    language: str = language_field()
