"""The body of every 4xx answer: what was wrong, and where."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
