"""A check-in opens on its due date (2, 4 and 8 weeks after the plan began): one sent before
it is an early one, which does not count as the one due; a late one counts for the earliest it
follows. Dates only from the record: no calendar."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Assessment, Checkin
from app.services import checkin_dates

START = datetime(2031, 5, 6, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def record() -> Assessment:
    return Assessment(
        questionnaire_id="q",
        questionnaire_version="1",
        answers={},
        result={},  # type: ignore[typeddict-item]
        triage_level="self_care",
        channel="web",
        created_at=START,
    )


def checkin_at(days: float) -> Checkin:
    return Checkin(
        id=uuid.uuid4(), assessment_id=uuid.uuid4(), questionnaire_id="c",
        questionnaire_version="1", answers={}, result={},  # type: ignore[typeddict-item]
        triage_level="self_care", channel="web", created_at=START + days * DAY,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("days", "next_due_days", "early"),
    [
        ([], 14, []),
        ([0], 14, [True]),  # on the day of the result: early, the 2-week one still due
        ([3, 10], 14, [True, True]),
        ([14], 28, [False]),  # on its day: counts
        ([5, 15], 28, [True, False]),
        ([20], 28, [False]),  # late counts for the 2-week one
        ([30], 28, [False]),  # very late: counts for week 2; week 4 is due already
        ([14, 28, 56], None, [False, False, False]),
        ([14, 28, 56, 60], None, [False, False, False, False]),  # after the last: not "early"
    ],
)
def test_the_next_due_date_skips_early_check_ins(
    days: list[float], next_due_days: int | None, early: list[bool]
) -> None:
    assessment = record()
    found = [checkin_at(d) for d in days]
    due = checkin_dates.due_on(assessment, [c.created_at for c in found])
    assert due == (None if next_due_days is None else START + next_due_days * DAY)
    marked = checkin_dates.early(assessment, found)
    assert [c.id in marked for c in found] == early
