"""The app the in-process benchmarks drive (benchmarks/pages.py and benchmarks/redflags.py with
the TestClient, benchmarks/calls.py through its ASGI interface): a fresh, migrated SQLite file
in a folder of the caller's, test settings unless told, the TestClient's host allowed."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Literal

from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.clock import Clock, system_clock  # noqa: E402
from app.config import Database, Http, Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402


def throwaway_app(
    folder: Path,
    *,
    questionnaires_dir: Path = ROOT / "questionnaires",
    environment: Literal["test", "production"] = "test",
    clock: Clock = system_clock,
) -> FastAPI:
    """The app on ``folder``/benchmark.db, with the questionnaires of ``questionnaires_dir`` (a
    benchmark's own copy, or the project's); ``environment="production"``: as deployed
    (templates not re-read, only reviewed languages); ``clock``: the app's (app/clock.py)."""
    url = f"sqlite:///{folder}/benchmark.db"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(
        environment=environment,
        database=Database(url=url),
        secret_key=secrets.token_urlsafe(48),
        log_level="WARNING",
        http=Http(allowed_hosts="testserver"),  # the TestClient's
        questionnaires_dir=questionnaires_dir,
    )
    return create_app(settings, clock=clock)
