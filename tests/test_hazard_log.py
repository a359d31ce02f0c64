"""The clinical safety case names a test for each hazard's control: each must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
NAMED = re.compile(r"(tests/[\w/]+\.py)::(test_\w+)(?:\[([^\]]+)\])?")


def test_every_test_the_hazard_log_names_exists() -> None:
    named = NAMED.findall(LOG.read_text())
    assert len(named) >= 33
    for file, function, case in named:
        source = (ROOT / file).read_text()
        assert f"def {function}(" in source, f"{file}::{function}"
        if case:
            assert f'"{case}"' in source or case.isdigit(), f"{file}::{function}[{case}]"


def test_every_hazard_names_a_test_and_every_emergency_and_urgent_rule_is_covered() -> None:
    from tests.engine.support import questionnaire

    text = LOG.read_text()
    rows = [line for line in text.splitlines() if re.match(r"\| H\d\d \|", line)]
    assert all(NAMED.search(row) for row in rows), [r[:12] for r in rows if not NAMED.search(r)]
    urgent = [r.code for r in questionnaire().rules if r.level in ("emergency", "urgent")]
    for code in urgent:
        assert f"`{code}`" in text, code
