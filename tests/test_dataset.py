"""benchmarks/dataset.py: the generated 2.0.0 submissions are stored through the write path,
the same seed gives the same records, and `backaudit replay` reads them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from app.cli import main
from app.config import get_settings
from app.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def generate(url: str, count: int) -> str:
    done = subprocess.run(
        [sys.executable, "benchmarks/dataset.py", "-n", str(count), "--database-url", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout


def stored(url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [
                (str(row[0]), str(row[1]), row[2])
                for row in connection.execute(
                    text(
                        "SELECT questionnaire_version, triage_level, created_at FROM assessment"
                        " ORDER BY created_at"
                    )
                )
            ]
    finally:
        engine.dispose()


def test_the_same_seed_gives_the_same_data_set_and_it_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"

    said = generate(first, 40)
    generate(second, 40)

    assert re.fullmatch(r"stored 40 submissions of 2\.0\.0 in [\d.]+ s: emergency .*\n", said)
    rows = stored(first)
    assert len(rows) == 40
    assert {version for version, _, _ in rows} == {"2.0.0"}
    assert [level for _, level, _ in rows] == [level for _, level, _ in stored(second)]

    monkeypatch.setenv("DATABASE_URL", first)
    get_settings.cache_clear()
    try:
        assert main(["replay", "--to", "2.1.0"]) == 0
    finally:
        get_settings.cache_clear()
    assert "Replayed: 40 (made with 2.0.0: 40)\n" in capsys.readouterr().out
