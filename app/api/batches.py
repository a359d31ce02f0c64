"""The API's batched database work (app/api/batching.py): API-key lookups and new assessments.

Concurrent requests' key lookups become one SELECT, and their new assessments one INSERT. On
PostgreSQL each batch is a single statement that commits on its own (autocommit: a statement is
atomic by itself, and the BEGIN and COMMIT round trips are saved); on SQLite it is a local
transaction, inline like the rest of the API's SQLite work (app/api/deps.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Concatenate, Final, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from app.services import api_keys
from app.services.api_keys import Caller
from app.services.assessments import Prepared, Recorded, insert_assessments

from .batching import Batcher
from .deps import run_db

# Enough for every request in flight at once on one worker; a multi-row INSERT of this many rows
# stays far below both databases' limits on bound parameters.
MAX_BATCH: Final = 64

P = ParamSpec("P")
T = TypeVar("T")


class ApiBatches:
    def __init__(self, engine: Engine, async_engine: AsyncEngine | None) -> None:
        self._engine = engine
        self._async_engine = (
            None
            if async_engine is None
            else async_engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._callers: Batcher[str, Caller | None] = Batcher(self._look_up, max_size=MAX_BATCH)
        self._new_rows: Batcher[dict[str, Any], None] = Batcher(self._insert, max_size=MAX_BATCH)

    async def authenticate(self, key: str) -> Caller | None:
        """The active API client for a presented key, or None (malformed, unknown, revoked)."""
        key_hash = api_keys.presented_key_hash(key)
        if key_hash is None:
            return None
        return await self._callers(key_hash)

    async def store(self, prepared: Prepared) -> Recorded:
        """Store a prepared assessment; returns once it is committed."""
        await self._new_rows(prepared.row)
        return prepared.recorded

    async def _look_up(self, key_hashes: list[str]) -> list[Caller | None]:
        try:
            found = await self._run(api_keys.authenticate_many, key_hashes)
        except DBAPIError as exc:
            # The pooled connection was closed by the server (a restart, a failover, an idle
            # timeout): SQLAlchemy has discarded it and those pooled before it, so one retry
            # gets a new one. Only for this read: a write that failed so may have happened.
            if not exc.connection_invalidated:
                raise
            found = await self._run(api_keys.authenticate_many, key_hashes)
        return [found.get(key_hash) for key_hash in key_hashes]

    async def _insert(self, rows: list[dict[str, Any]]) -> Sequence[BaseException | None]:
        try:
            await self._run(_insert_and_commit, rows)
            return [None] * len(rows)
        except IntegrityError:
            if len(rows) == 1:
                raise
        # A row broke a constraint, so the statement stored nothing: store the rows one by one,
        # so that only that row's request gets the error. From here on every row has its own
        # outcome, whatever fails: a row stored must never be answered with an error.
        outcomes: list[BaseException | None] = []
        for row in rows:
            try:
                await self._run(_insert_and_commit, [row])
                outcomes.append(None)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    async def _run(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work`` on a session of its own (not a request's: a batch serves many)."""
        if self._async_engine is not None:
            async with AsyncSession(self._async_engine) as async_session:
                return await run_db(async_session, work, *args, **kwargs)
        with Session(self._engine) as session:
            return await run_db(session, work, *args, **kwargs)


def _insert_and_commit(session: Session, rows: list[dict[str, Any]]) -> None:
    insert_assessments(session, rows)
    session.commit()


async def get_batches(request: Request) -> ApiBatches:
    batches: ApiBatches = request.app.state.api_batches
    return batches


BatchesDep = Annotated[ApiBatches, Depends(get_batches)]
