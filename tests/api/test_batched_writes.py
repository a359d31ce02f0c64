"""Concurrent API requests share their database work (app/api/batches.py): each still gets
exactly its own outcome, and only what was answered 201 is stored.

The requests go to the app on one event loop at once (httpx's ASGI transport), so they meet in
the same batches, on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from app.api.batches import ApiBatches
from app.engine import build_result, evaluate
from app.models import Assessment
from app.services.api_keys import revoke_api_key
from app.services.assessments import Prepared, prepare_assessment
from app.services.questionnaires import Registry

from .conftest import Key, make_key


def app_engine(app: FastAPI) -> Engine:
    """The engine the API's batches use: the asyncio one's sync core on PostgreSQL."""
    async_engine = app.state.async_engine
    engine: Engine = app.state.engine if async_engine is None else async_engine.sync_engine
    return engine


@pytest.fixture
def statements(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the API's batches send, in order."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = app_engine(app)
    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def inserts(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("INSERT INTO ASSESSMENT")]


async def send_all(
    app: FastAPI, requests: list[tuple[str, dict[str, Any]]]
) -> list[httpx.Response]:
    """POST every (key, answers) to /api/v1/assessments at once, on this event loop."""
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await asyncio.gather(
                *(
                    http.post(
                        "/api/v1/assessments",
                        json={"answers": answers},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    for key, answers in requests
                )
            )
    finally:
        if app.state.async_engine is not None:  # its connections belong to this event loop
            await app.state.async_engine.dispose()


def store_all(app: FastAPI, prepared: list[Prepared]) -> list[Any]:
    """Hand every prepared assessment to the app's batches at once; each one's outcome (its
    record, or the error it got) in order."""
    batches: ApiBatches = app.state.api_batches

    async def main() -> list[Any]:
        try:
            return list(
                await asyncio.gather(*(batches.store(p) for p in prepared), return_exceptions=True)
            )
        finally:
            if app.state.async_engine is not None:  # its connections belong to this event loop
                await app.state.async_engine.dispose()

    return asyncio.run(main())


def variant(answers: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(answers)
    changed.update(changes)
    return changed


def test_concurrent_requests_each_get_their_own_result_and_record(
    app: FastAPI,
    db: Session,
    api_key: Key,
    registry: Registry,
    complete_answers: dict[str, Any],
    emergency_answers: dict[str, Any],
    statements: list[str],
) -> None:
    other = make_key(db, name="health app")
    revoked = make_key(db, name="old integration")
    revoke_api_key(session=db, prefix_or_id=str(revoked.id))
    db.commit()
    unknown = "ba_" + "x" * 32
    invalid = variant(complete_answers, sleep_hours=99)

    requests: list[tuple[Key | str, dict[str, Any]]] = [
        (api_key, complete_answers),
        (other, emergency_answers),
        (revoked, complete_answers),
        (api_key, variant(complete_answers, smoker=True)),
        (unknown, complete_answers),
        (other, invalid),
        (api_key, emergency_answers),
        (other, variant(complete_answers, sitting_hours=10)),
    ] * 3
    responses = asyncio.run(
        send_all(
            app,
            [(k if isinstance(k, str) else k.key, answers) for k, answers in requests],
        )
    )

    q = registry.default
    created: dict[uuid.UUID, tuple[Key, dict[str, Any]]] = {}
    for (key, answers), response in zip(requests, responses, strict=True):
        if key is revoked or key == unknown:
            assert response.status_code == 401, response.text
        elif answers is invalid:
            assert response.status_code == 422, response.text
            assert "sleep_hours" in response.text
        else:
            assert response.status_code == 201, response.text
            body = response.json()
            alone = build_result(evaluate(q, answers))
            # The result is this request's own, not a neighbour's in the same batch.
            assert body["result"] == alone
            assert response.headers["location"] == f"/api/v1/assessments/{body['id']}"
            assert isinstance(key, Key)
            created[uuid.UUID(body["id"])] = (key, answers)

    stored = {row.id: row for row in db.exec(select(Assessment)).all()}
    assert stored.keys() == created.keys()  # every 201 is stored, nothing else is
    for assessment_id, (key, answers) in created.items():
        row = stored[assessment_id]
        assert row.api_client_id == key.id
        assert row.result == build_result(evaluate(q, answers))
        assert row.answers == evaluate(q, answers).answers
    # They were stored together: fewer INSERTs than records (a batch is one statement).
    assert 1 <= len(inserts(statements)) < len(created)


def test_a_row_that_breaks_a_constraint_fails_alone_and_the_rest_are_stored(
    app: FastAPI,
    db: Session,
    api_key: Key,
    registry: Registry,
    complete_answers: dict[str, Any],
    statements: list[str],
) -> None:
    q = registry.default
    good = [
        prepare_assessment(q, complete_answers, channel="api", api_client_id=api_key.id)
        for _ in range(3)
    ]
    # No such API client: the foreign key refuses this row, so the batch's INSERT fails.
    orphan = prepare_assessment(q, complete_answers, channel="api", api_client_id=uuid.uuid4())
    first, failed, second, third = store_all(app, [good[0], orphan, good[1], good[2]])

    assert isinstance(failed, IntegrityError)
    assert [first, second, third] == [p.recorded for p in good]
    stored = set(db.exec(select(Assessment.id)).all())
    assert stored == {p.recorded.id for p in good}
    # The batch was tried as one statement first, then row by row.
    assert len(inserts(statements)) == 1 + 4


def test_a_batch_that_fails_stores_nothing(
    app: FastAPI,
    db: Session,
    api_key: Key,
    registry: Registry,
    complete_answers: dict[str, Any],
) -> None:
    """All or nothing: the batch is one statement, so a failed batch leaves no row behind (the
    rows are then stored one by one; here every one of them is refused too)."""
    q = registry.default
    orphans = [
        prepare_assessment(q, complete_answers, channel="api", api_client_id=uuid.uuid4())
        for _ in range(2)
    ]
    outcomes = store_all(app, orphans)
    assert all(isinstance(outcome, IntegrityError) for outcome in outcomes)
    assert db.exec(select(Assessment.id)).all() == []


def test_once_rows_are_stored_one_by_one_each_keeps_its_own_outcome(
    app: FastAPI,
    api_key: Key,
    registry: Registry,
    complete_answers: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a constraint failure the rows go in one at a time; if one of those then fails for
    another reason (the database went away, say), the rows already stored keep their 201."""
    q = registry.default
    prepared = [
        prepare_assessment(q, complete_answers, channel="api", api_client_id=api_key.id)
        for _ in range(3)
    ]
    batches: ApiBatches = app.state.api_batches
    real_run = batches._run
    gone = OperationalError("INSERT", {}, Exception("the database went away"))

    async def run(work: Any, rows: list[dict[str, Any]]) -> Any:
        if len(rows) > 1:
            raise IntegrityError("INSERT", {}, Exception("a row broke a constraint"))
        if rows[0]["id"] == prepared[1].row["id"]:
            raise gone
        return await real_run(work, rows)

    monkeypatch.setattr(batches, "_run", run)

    first, failed, third = store_all(app, prepared)
    assert failed is gone
    assert [first, third] == [prepared[0].recorded, prepared[2].recorded]
