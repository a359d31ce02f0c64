"""The time, as the app reads it where it matters: when a submission or a check-in is stored,
when its clinic alert is queued, and when an alert is sent (and signed, and dated).

A ``Clock`` is anything that says what time it is now, as an aware UTC datetime. The app runs
on ``system_clock``; ``create_app(clock=...)`` and the services' ``now=`` / ``clock=``
parameters take another, so that a test chooses its own time and depends on no calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, in UTC (also ``app.models.utcnow``)."""
    return datetime.now(UTC)
