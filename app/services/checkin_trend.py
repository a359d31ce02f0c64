"""The trend of a programme's check-ins (pain and PEG over time, like with like) and the
baselines it starts from: the context values read from the assessment. Which answers and derived
values those are, the check-in's YAML says (``from`` in its ``context``, and ``trend``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.engine import (
    Evaluation,
    Questionnaire,
    TrendPoint,
    TrendValue,
    value_of,
)
from app.models import Assessment, Checkin

from .questionnaires import Registry


def start_values_for(
    q: Questionnaire,
    registry: Registry,
    assessment: Assessment,
    checkins: Sequence[Checkin],
    answers: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], bool]:
    """Each is the assessment's answer or derived value, worked out with the newest version of
    its questionnaire (the loader checked that it has them all).

    A value marked ``stand_in`` that an older assessment cannot give (2.0.0 asked only the
    pain item of the PEG) takes the first check-in's answers to fill the gaps (this one's, if
    it is the first), which staff pages mark as provisional. A check-in that stopped at a
    warning sign before they were asked does not count as the first: the first that answered
    them stands in."""
    followed = registry.get(assessment.questionnaire_id)
    own = assessment.answers
    out: dict[str, Any] = {}
    provisional = False
    for value in q.context.values():
        if value.source is None or value.source[0] != "assessment":
            continue
        name = value.source[1]
        found = value_of(followed, own, name)
        if found is None and value.stand_in:
            given = [*(c.answers for c in checkins), answers or {}]
            found = next(
                (v for a in given if (v := value_of(followed, {**a, **own}, name)) is not None),
                None,
            )
            provisional = provisional or found is not None
        out[value.id] = found
    return out, provisional


def trend(
    registry: Registry,
    assessment: Assessment,
    checkins: list[Checkin],
    evaluation: Evaluation | None = None,
    now: datetime | None = None,
) -> list[TrendPoint]:
    """Pain and PEG (0-10) over time, like with like: the start, each check-in, and this one
    (``evaluation``, at ``now``). The lines are the check-in YAML's ``trend``: at the start a
    context value read from the assessment (``provisional`` when the first check-in stood in
    for it), at each check-in its answer or derived value (this one's from its evaluation)."""
    follow_up = registry.follow_up(assessment.questionnaire_id)
    if follow_up is None:
        return []
    answers = None if evaluation is None else evaluation.answers
    start, provisional = start_values_for(follow_up, registry, assessment, checkins, answers)
    first: TrendPoint = {"at": assessment.created_at.isoformat()}
    for line in follow_up.trend:
        first[line.name] = None if line.start is None else _shown(start.get(line.start))
    if provisional:
        first["provisional"] = True
    points = [first]
    for checkin in checkins:
        # The newest definition's lines, over each stored check-in's answers (older versions
        # have the same ids and derive the PEG score alike).
        points.append(_point(checkin.created_at, follow_up, checkin.answers))
    if evaluation is not None and now is not None:
        points.append(_point(now, follow_up, evaluation=evaluation))
    return points


def _point(
    at: datetime,
    q: Questionnaire,
    answers: Mapping[str, Any] | None = None,
    evaluation: Evaluation | None = None,
) -> TrendPoint:
    point: TrendPoint = {"at": at.isoformat()}
    for line in q.trend:
        value = (
            value_of(q, answers or {}, line.checkin)
            if evaluation is None
            else (evaluation.value(line.checkin))
        )
        point[line.name] = _shown(value)
    return point


def _shown(value: Any) -> TrendValue:
    """A mean to one decimal, as the trend has always stored it (a whole answer as it is)."""
    return round(value, 1) if isinstance(value, float) else value
