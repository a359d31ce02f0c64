"""Check-in answer sets shared by the doors' tests (the engine's own tests build theirs from
the questionnaire: tests/engine/support.py)."""

from __future__ import annotations

from typing import Any

from tests.fixtures import CHECKIN_BLOCKS, checkin_answers

__all__ = ["checkin", "checkin_all_too_easy"]

# A complete check-in: no warning sign, pain 3, a little better, every block about right.
checkin = checkin_answers


def checkin_all_too_easy(**changes: Any) -> dict[str, Any]:
    """A check-in that moves every block on: each done on 6 days and too easy, pain 2, better."""
    return checkin_answers(
        **{
            "pain_now": 2,
            "global_change": "better",
            **{f"{block}_days": 6 for block in CHECKIN_BLOCKS},
            **{f"{block}_feel": "too_easy" for block in CHECKIN_BLOCKS},
            **changes,
        }
    )
