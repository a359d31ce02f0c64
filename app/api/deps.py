"""Dependencies for the API routes, as ``async def`` so that they run on the event loop, and
``run_db``, which runs a piece of database work where it is cheapest.

FastAPI runs every plain ``def`` dependency and route in its thread pool, one hop each; for a
request that does about a millisecond of work, the hops and the contention between 40 pool
threads cost more than the work (measured with benchmarks/api.py). So the API routes are
``async def``, use these instead of app.deps, and never block the loop on a network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Concatenate, ParamSpec, TypeVar, cast

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.services.questionnaires import Registry

ApiSession = Session | AsyncSession
"""SQLite: a plain session, used inline. PostgreSQL: an asyncio session (see ``run_db``)."""


@asynccontextmanager
async def open_session(request: Request) -> AsyncIterator[ApiSession]:
    """A session for this request (the ``SessionDep`` dependency, or opened only when needed)."""
    async_engine = request.app.state.async_engine
    if async_engine is not None:
        async with AsyncSession(async_engine, expire_on_commit=False) as async_session:
            yield async_session
        return
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


async def get_session(request: Request) -> AsyncIterator[ApiSession]:
    async with open_session(request) as session:
        yield session


async def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[ApiSession, Depends(get_session)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


P = ParamSpec("P")
T = TypeVar("T")


async def run_db(
    session: ApiSession,
    work: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Call ``work(session, *args, **kwargs)`` with a plain ``Session``: the services are
    written once, for the sync API, and the API runs them without blocking the event loop.

    SQLite: inline, on the event loop. A statement or commit is tens of microseconds of local
    file work (WAL, synchronous=NORMAL: no fsync per commit), and SQLite allows one writer at a
    time, so writers in pool threads would only queue on its lock. Inline, nothing contends.

    PostgreSQL: through the asyncio session's ``run_sync``. The same sync code runs on the loop,
    and at each statement it yields (SQLAlchemy's greenlet bridge) while the server works, so
    the requests' waits overlap with each other's Python work. In pool threads they did too,
    but the threads and the loop then took turns with the GIL, and throughput halved.
    """
    if isinstance(session, AsyncSession):
        # SQLModel's AsyncSession hands ``work`` a SQLModel Session (``exec`` and all); its
        # run_sync is typed with SQLAlchemy's base class.
        sync_work = cast(Callable[Concatenate[SASession, P], T], work)
        return await session.run_sync(sync_work, *args, **kwargs)
    return work(session, *args, **kwargs)


async def run_first_read(
    session: ApiSession,
    work: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``run_db`` for the first statement of a request, when it only reads: retried once if the
    pooled connection turns out to be closed by the server (a restart, a failover, an idle
    timeout). SQLAlchemy then discards that connection and every one pooled before it, so the
    retry gets a new one. This replaces a pre-ping round trip on every request (app/db.py).

    Only for reads: a write that failed this way may or may not have happened."""
    try:
        return await run_db(session, work, *args, **kwargs)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    await run_db(session, Session.rollback)
    return await run_db(session, work, *args, **kwargs)
