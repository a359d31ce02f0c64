"""When a check-in is due: 2, 4 and 8 weeks after the plan began (a self-care result, or a
clinician's release), and which check-ins came early."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from app.models import Assessment, Checkin

DUE_WEEKS: Final = (2, 4, 8)  # after a self-care result


def plan_started(assessment: Assessment) -> datetime:
    """When the programme began: the result, or the clinician's release."""
    return assessment.released_at or assessment.created_at


def next_due(assessment: Assessment, checkins: Sequence[Checkin] | int) -> datetime | None:
    """When the next check-in is due: 2, 4 and 8 weeks after the plan began (the result, or a
    clinician's release), one per check-in (given, or how many there are)."""
    done = checkins if isinstance(checkins, int) else len(checkins)
    dates = due_dates(assessment)
    return dates[done] if done < len(dates) else None


def due_dates(assessment: Assessment) -> list[datetime]:
    """The check-ins' due dates: 2, 4 and 8 weeks after the plan began."""
    return [plan_started(assessment) + timedelta(weeks=weeks) for weeks in DUE_WEEKS]


def due_on(assessment: Assessment, times: Sequence[datetime]) -> datetime | None:
    """When the next check-in is due, for the person's pages and reminders: a check-in opens
    on its due date, and one sent before it (an early check-in) does not count for it; one sent
    late counts for the earliest due date it follows. None once all three are done."""
    pending = iter(due_dates(assessment))
    due = next(pending, None)
    for at in sorted(times):
        if due is not None and at >= due:
            due = next(pending, None)
    return due


def early(assessment: Assessment, checkins: Sequence[Checkin]) -> set[uuid.UUID]:
    """The check-ins sent before the one they followed was due: shown as early ones."""
    ordered = sorted(checkins, key=lambda c: (c.created_at, c.id))
    return {
        c.id
        for n, c in enumerate(ordered)
        if (due := due_on(assessment, [x.created_at for x in ordered[:n]])) is not None
        and c.created_at < due
    }
