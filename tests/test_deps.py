"""The request's database session (app/deps.py): one commit at the end, nothing stored when the
request fails, and never a wait for a connection where nothing else can run."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import suppress
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from starlette.requests import Request

from app import deps
from app.config import Settings
from app.main import create_app
from app.models import Assessment, Clinic
from app.services.api_keys import create_api_key
from tests.conftest import empty_tables
from tests.fixtures import EXAMPLE_ANSWERS
from tests.support.settings import settings_with


def _select_one(session: Session) -> None:
    session.connection().execute(text("SELECT 1"))


async def _hold_a_connection(app: FastAPI) -> None:
    """What a request does that waits for something else (the sign-in's password check in a
    worker thread) while its session has a connection."""
    request = Request({"type": "http", "app": app, "headers": []})
    dependency = deps.get_db(request)
    db = await anext(dependency)
    await db.run(_select_one)
    await asyncio.sleep(0.05)
    with suppress(StopAsyncIteration):
        await anext(dependency)


def test_more_requests_than_connections_wait_their_turn_without_blocking(
    settings: Settings,
) -> None:
    """One connection, five requests at once: each waits for the one before, on the event loop,
    instead of in the pool, where on SQLite it would stop the loop until the pool timed out."""
    app = create_app(
        settings_with(settings, database={"pool_size": 1, "max_overflow": 0, "pool_timeout": 2.0})
    )

    async def five_at_once() -> float:
        started = time.monotonic()
        await asyncio.gather(*(_hold_a_connection(app) for _ in range(5)))
        return time.monotonic() - started

    took: list[float] = []
    # A loop of its own, in a thread of its own: another test may have left one running here.
    runner = threading.Thread(target=lambda: took.append(asyncio.run(five_at_once())))
    try:
        runner.start()
        runner.join(timeout=30)
        assert took, "the five requests did not finish"
        assert took[0] < 1.5  # not one pool timeout
    finally:
        app.state.engine.dispose()


def test_a_failed_commit_is_the_requests_error_and_stores_nothing(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = create_api_key(db, name="booking app")
    db.commit()
    real = deps._commit_and_close

    def disk_full(session: Session) -> None:
        session.close()  # rolls back, as a failed commit leaves it
        raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(deps, "_commit_and_close", disk_full)
    response = client.post(
        "/api/v1/assessments",
        json={"answers": EXAMPLE_ANSWERS},
        headers={"Authorization": f"Bearer {key}"},
    )
    monkeypatch.setattr(deps, "_commit_and_close", real)

    # Said in the API's own shape, with when to try again: never a 201 for a row not stored.
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    body: dict[str, Any] = response.json()
    assert "Try again" in body["detail"]
    assert db.exec(select(Assessment)).all() == []


def test_a_committed_step_is_seen_at_once_and_refused_after_the_request_s_writes(
    engine: Engine,
) -> None:
    """Db.run_committed commits what it did before the request goes on (the sign-in throttle
    counts an attempt so), and only when the request has written nothing that would go too."""
    outcome: list[object] = []

    async def request() -> None:
        db = deps.Db(Session(engine, expire_on_commit=False), inline=True)
        try:
            await db.run_committed(lambda s: s.add(Clinic(name="Counted")))
            with Session(engine) as other:  # another request
                outcome.append(other.exec(select(Clinic.name)).all())
            db.session.add(Clinic(name="Not yet"))
            try:
                await db.run_committed(lambda s: None)
            except RuntimeError as exc:
                outcome.append(exc)
        finally:
            db.session.close()

    runner = threading.Thread(target=lambda: asyncio.run(request()))
    runner.start()
    runner.join()
    try:
        assert outcome[0] == ["Counted"]
        assert isinstance(outcome[1], RuntimeError)
        with Session(engine) as check:
            assert check.exec(select(Clinic.name)).all() == ["Counted"]
    finally:
        empty_tables(engine)
