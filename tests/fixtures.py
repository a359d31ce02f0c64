"""Answer sets the tests share: the OpenAPI document's examples (app/api/examples.py), which the
tests check against the real API, so both stay true."""

import copy
import dataclasses
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import zstandard
from sqlmodel import Session

from app import column_types
from app.api.examples import EXAMPLE_ANSWERS, SAFETY_ALL_NO
from app.clock import system_clock
from app.engine import Evaluation, Questionnaire, Result, evaluate
from app.engine import evaluate as engine_evaluate
from app.models import Assessment
from app.services import assessments
from app.services.assessments import Recorded
from app.services.questionnaires import Registry
from tests.support.results import start_of

__all__ = [
    "EXAMPLE_ANSWERS",
    "SAFETY_ALL_NO",
    "V1_ANSWERS",
    "V2_ANSWERS",
    "TestClock",
    "as_release_1",
    "count_evaluations",
    "record_assessment",
    "record_v1_assessment",
]

# The questions 2.1.0 added that EXAMPLE_ANSWERS answers (all required when shown): an older
# version does not have them.
ADDED_IN_2_1 = (
    "seen_about_this_pain",
    "peg_enjoyment",
    "peg_activity",
    "abdominal_pain",
    "hypermobile",
)

# Version 2.0.0's answers for the same person as EXAMPLE_ANSWERS: what a client that pinned
# 2.0.0 sends (and what stored 2.0.0 records hold).
V2_ANSWERS: dict[str, Any] = {k: v for k, v in EXAMPLE_ANSWERS.items() if k not in ADDED_IN_2_1}
# A day an API client may still pin 2.0.0 (its accept_until is 2027-06-30): a test that sends
# V2_ANSWERS through the API sets the app's clock to it, not to the calendar's day.
V2_STILL_ACCEPTED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)

# Version 1.0.0's answers for the same person as EXAMPLE_ANSWERS (release 1's example): a
# self-care result with a plan. Its ids (major_trauma, leg_weakness_worsening) are gone from
# 2.0.0, and its plan names each block's start step by code rather than by index.
V1_ANSWERS: dict[str, Any] = {
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
    **{
        k: v
        for k, v in EXAMPLE_ANSWERS.items()
        if k not in SAFETY_ALL_NO
        and k not in ADDED_IN_2_1
        and k not in ("first_episode", "joint_problems", "falls_or_unsteady")
    },
}


def record_assessment(
    session: Session, q: Questionnaire, answers: Mapping[str, Any], **options: Any
) -> Recorded:
    """Store answers as the doors do: evaluated once, then through the one write path."""
    return assessments.record(session, evaluate(q, answers), **options)


def count_evaluations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the engine's evaluations from now on: every app module's reference to the
    engine's function is wrapped, whatever its name (``evaluate``, ``engine_evaluate``).
    Returns the growing list of the questionnaire ids evaluated."""
    calls: list[str] = []
    real = engine_evaluate

    def counted(q: Questionnaire, *args: Any, **kwargs: Any) -> Evaluation:
        calls.append(q.id)
        return real(q, *args, **kwargs)

    for name, module in list(sys.modules.items()):
        if name.startswith("app."):
            for attribute, value in list(vars(module).items()):
                if value is real:
                    monkeypatch.setattr(module, attribute, counted)
    return calls


def count_decoded_results(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the stored results (zstd frames, app/column_types.py) decoded from now on, in
    any thread (the TestClient's app runs in its own). Returns the growing list of their
    sizes. One (de)compressor for every thread, which zstandard does not allow at once: for a
    test that makes one request at a time, with no alert or e-mail being sent meanwhile."""
    sizes: list[int] = []
    real = zstandard.ZstdDecompressor()

    class Counting:
        def decompress(self, data: bytes) -> bytes:
            sizes.append(len(data))
            return real.decompress(data)

    shared = SimpleNamespace(
        compressor=zstandard.ZstdCompressor(level=column_types.ZSTD_LEVEL), decompressor=Counting()
    )
    monkeypatch.setattr(column_types, "_ZSTD", shared)
    return sizes


def record_v1_assessment(
    session: Session, registry: Registry, changes: Mapping[str, Any] | None = None, **options: Any
) -> Recorded:
    """A submission as release 1 stored it: V1_ANSWERS (with ``changes``) evaluated by
    questionnaire 1.0.0 through the one write path (so the row says version 1.0.0), then its
    result put back in release 1's shape: start steps by code, no clinical texts, no step
    marks, no safety net, no release (today's engine adds those even to a 1.0.0 result)."""
    q = registry.exact("low-back-audit", "1.0.0")
    recorded = record_assessment(session, q, {**V1_ANSWERS, **(changes or {})}, **options)
    row = session.get_one(Assessment, recorded.id)
    row.result = as_release_1(row.result)
    session.add(row)
    session.flush()
    return dataclasses.replace(recorded, result=row.result)


def as_release_1(result: Result) -> Result:
    """A result in the shape release 1 (questionnaire 1.0.0) stored it."""
    old = copy.deepcopy(result)
    old.pop("safety_net", None)
    old.pop("release", None)  # 2.1's
    triage = old["triage"]
    for item in (triage, *triage["reasons"]):
        item.pop("clinician", None)
        item.pop("action", None)
    if old["plan"] is not None:
        old["plan"].pop("dropped", None)
        for block in old["plan"]["blocks"]:
            block["start_step"] = block["steps"][start_of(block)]["code"]
            for step in [*block["steps"], *([block["companion"]] if "companion" in block else [])]:
                step.pop("allowed", None)
                step.pop("cautions", None)
    return old


# A check-in's warning signs (the same ids as the audit's safety screen) and plan blocks.
CHECKIN_SIGNS = [
    "saddle_numbness", "bladder_change", "bowel_change", "sexual_function_change", "both_legs",
    "chest_pain", "leg_weakness", "walking_difficulty", "fever", "weight_loss", "night_pain",
    "pain_on_straining", "thoracic_pain", "back_shape_change",
]  # fmt: skip
# Asked on the same first page from check-in 1.1.0 (new since the start: not warning signs of
# the audit's safety screen).
CHECKIN_NEW_SINCE_START = ["new_leg_symptoms", "new_fall_or_injury", "pregnant"]
CHECKIN_BLOCKS = ["pelvic_tilts", "hip_rotation", "hip_bridge", "squat_mobility", "thoracic_lats"]


def checkin_answers(**changes: Any) -> dict[str, Any]:
    """A complete check-in (1.1.0): no warning sign, nothing new since the start, a little better, every block done on 5 days and
    about right; ``changes`` on top."""
    given: dict[str, Any] = {
        **dict.fromkeys(CHECKIN_SIGNS, False),
        **dict.fromkeys(CHECKIN_NEW_SINCE_START, False),
        "pain_now": 3,
        "peg_pain": 3,
        "peg_enjoyment": 3,
        "peg_activity": 3,
        "global_change": "a_little_better",
        **{f"{b}_days": 5 for b in CHECKIN_BLOCKS},
        **{f"{b}_feel": "about_right" for b in CHECKIN_BLOCKS},
    }
    given.update(changes)
    return given


class TestClock:
    """The app's clock in a test (app.clock.Clock): it runs, like the real one, from wherever
    the test puts it, so that time can pass between two requests without waiting, and a test
    that needs a date (a version's ``accept_until``) sets one rather than reading the calendar.
    Two readings are never equal, so records keep their order."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, at: datetime | None = None) -> None:
        self.offset = timedelta(0)
        if at is not None:
            self.set(at)

    def __call__(self) -> datetime:
        return system_clock() + self.offset

    def set(self, at: datetime) -> None:
        """From now on, the time runs from ``at``."""
        self.offset = at - system_clock()

    def advance(self, delta: timedelta) -> None:
        """As if ``delta`` had passed."""
        self.offset += delta
