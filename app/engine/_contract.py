"""The result contract: the object an assessment (and a check-in) produces, typed once.

At runtime a result is a plain dict, so stored records and the JSON API are the JSON the
engine builds; these types say which keys it has. A key marked ``NotRequired`` is one that
results stored by an older version of a questionnaire may lack (or, for ``newer_version``,
``companion``, ``today``, one that is there only sometimes): code reading a stored result reads
it with ``.get``. A value that may be null says so (``| None``); a key that may be missing
is never null. The attribute docstrings are the API document's field descriptions.

Triage level codes are plain strings: the levels are the definitions' data (``levels``).

``typing_extensions.TypedDict``: pydantic (the API derives its document from these types)
reads only that one on Python 3.11.
"""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict


class QuestionnaireRef(TypedDict):
    id: str
    version: str
    """The version that assessed it."""
    newer_version: NotRequired[str]
    """The newest version, when it is newer than `version` (left out if not)."""


class Reason(TypedDict):
    code: str
    level: str
    message: str
    """For the person, in plain words."""
    clinician: NotRequired[str]
    """A short clinical label, for staff (from version 2.0.0)."""
    action: NotRequired[str]
    """What a clinic should do (from version 2.0.0)."""


class Triage(TypedDict):
    level: str
    title: str
    advice: str
    clinician: NotRequired[str]
    """The level's clinical title, for staff."""
    action: NotRequired[str]
    """What a clinic should do at this level."""
    reasons: list[Reason]


class ContributorScore(TypedDict):
    code: str
    score: int
    label: str
    why: str
    advice: str


class ExerciseStep(TypedDict):
    code: str
    title: str
    how: str
    cues: list[str]
    mistakes: list[str]
    progress_when: str
    image: NotRequired[str | None]
    image_alt: NotRequired[str | None]
    allowed: NotRequired[bool]
    """False when the person's answers (joints, falls) rule this step out (left out: true)."""
    cautions: NotRequired[list[str]]
    """Extra tips for this person, for this step."""


class PlanBlock(TypedDict):
    code: str
    title: str
    summary: str
    focus: bool
    relevance: int
    start_step: int | str | None
    """Where to start: an index into `steps`, always an allowed step; from version 2.1.0 never
    null. (Version 2.0.0 results give null when no step is allowed and only the companion
    stretch remains; version 1.0.0 results give the step's code.)"""
    steps: list[ExerciseStep]
    dose: str
    companion: NotRequired[ExerciseStep]
    paused: NotRequired[bool]
    """In a check-in's plan: the block is paused (until a doctor or physio has seen the
    person)."""
    changed_at: NotRequired[str]
    """In a check-in's plan: when a check-in last moved the block's step (ISO 8601)."""


class Plan(TypedDict):
    blocks: list[PlanBlock]
    advice: list[str]
    dropped: NotRequired[list[str]]
    """Blocks left out because none of their steps suits the person."""


class SafetyNetToday(TypedDict):
    title: str
    signs: list[str]
    """Signs to speak to a GP about today (or call 111)."""


class SafetyNet(TypedDict):
    title: str
    signs: list[str]
    """Every emergency sign, in plain words."""
    action: str
    see_gp: str | None
    """For self-care (or a released programme): when to see a GP. Null otherwise."""
    today: NotRequired[SafetyNetToday]
    """From version 2.1.0, the second tier: see a GP today or call 111."""


class Release(TypedDict):
    by: str
    """The staff member who released the programme (their e-mail)."""
    at: str
    """When, in UTC (ISO 8601)."""


class Result(TypedDict):
    """The result contract: the same object for the API, the CLI and stored records."""

    questionnaire: QuestionnaireRef
    complete: bool
    triage: Triage
    contributors: list[ContributorScore]
    plan: Plan | None
    release: NotRequired[Release | None]
    """From version 2.1.0: who released the exercise programme after review, and when (a
    see-a-doctor result has a plan only then); null when nobody did. Left out of results stored
    before 2.1.0."""
    ignored_answers: list[str]
    safety_net: NotRequired[SafetyNet]
    """On every result from version 2.0.0: the warning signs to act on."""


class PlanChange(TypedDict):
    """What a check-in did to one block of the plan, and why."""

    block: str
    from_step: str
    to_step: str | None
    """The step from now on; null when the block is paused."""
    paused: bool
    why: str


# A point of a check-in's trend: ``at`` (ISO 8601), ``provisional`` (true when the first
# check-in stood in for a start value), and a value per line of the check-in definition's
# ``trend`` (named there, so not keys a type can list).
TrendValue = str | bool | int | float | None
TrendPoint = dict[str, TrendValue]


class CheckinResult(Result):
    """A check-in's result: the result contract, with the plan from now on."""

    changes: list[PlanChange]
    """What moved in each block, and why."""
    trend: list[TrendPoint]
    """Pain and PEG over time: the start, each check-in, and this one."""
