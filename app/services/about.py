"""What the trust pages say about the check itself: the questionnaire's version and the date
that version was last reviewed.

The date comes from the questionnaire's change log (questionnaires/CHANGELOG.md), whose
headings read ``## 2.0.0 — 2026-11-29``: the version the app runs is dated where its changes
are written down, so there is no second place to keep up to date.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path

CHANGELOG = "CHANGELOG.md"
_HEADING = re.compile(r"^##\s+(?P<version>\S+)\s+[—–-]\s+(?P<date>\d{4}-\d{2}-\d{2})\s*$", re.M)


@lru_cache(maxsize=8)
def version_dates(questionnaires_dir: Path) -> dict[str, date]:
    """Each version named in a heading of the change log, with its date (read once)."""
    try:
        text = (questionnaires_dir / CHANGELOG).read_text(encoding="utf-8")
    except OSError:
        return {}
    dates: dict[str, date] = {}
    for heading in _HEADING.finditer(text):
        try:
            dates.setdefault(heading["version"], date.fromisoformat(heading["date"]))
        except ValueError:
            continue  # a date that does not exist: not a date to show
    return dates


def last_reviewed(questionnaires_dir: Path, version: str) -> date | None:
    """The date of ``version``'s heading in the change log, or None when it has none."""
    return version_dates(questionnaires_dir).get(version)
