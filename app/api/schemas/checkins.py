"""A follow-up check-in's answers, the stored check-in, and an assessment's list of them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.engine import CheckinResult

from . import language_field


class CheckinCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any] = Field(
        description="The check-in's answers (questionnaire `low-back-checkin`), keyed by"
        " question id: the warning signs, pain_now, the PEG items, global_change, and for each"
        " block of the current plan `<block>_days` and `<block>_feel`."
    )


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
