"""The app the in-process benchmarks drive with the TestClient (benchmarks/pages.py,
benchmarks/redflags.py): a fresh, migrated SQLite file in a folder of the caller's, test
settings, the TestClient's host allowed."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Database, Http, Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402


def throwaway_app(folder: Path, *, questionnaires_dir: Path = ROOT / "questionnaires") -> FastAPI:
    """The app on ``folder``/benchmark.db, with the questionnaires of ``questionnaires_dir`` (a
    benchmark's own copy, or the project's)."""
    url = f"sqlite:///{folder}/benchmark.db"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(
        environment="test",
        database=Database(url=url),
        secret_key="benchmark-secret-key-that-is-long-enough",
        log_level="WARNING",
        http=Http(allowed_hosts="testserver"),  # the TestClient's
        questionnaires_dir=questionnaires_dir,
    )
    return create_app(settings)
