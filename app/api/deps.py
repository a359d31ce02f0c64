"""Dependencies for the API routes, as ``async def`` so that they run on the event loop, and
``run_db``, which decides where a piece of database work runs.

FastAPI runs every plain ``def`` dependency and route in its thread pool, one hop each; for a
request that does about a millisecond of work, the hops and the contention between 40 pool
threads cost more than the work (measured with benchmarks/api.py). So the API routes are
``async def`` and use these instead of app.deps (they hand out the same objects).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.services.questionnaires import Registry


async def get_session(request: Request) -> AsyncIterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


async def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


P = ParamSpec("P")
T = TypeVar("T")


async def run_db(session: Session, work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``work`` (which uses ``session``) where it is cheapest for the database.

    SQLite: inline, on the event loop. A SQLite statement or commit is a few tens of
    microseconds of local file work (WAL, synchronous=NORMAL: no fsync per commit), and SQLite
    allows one writer at a time, so writers in pool threads only queue on its lock (and its
    busy handler sleeps in steps of up to 100 ms). Inline, requests never contend.

    PostgreSQL: in the thread pool. Each statement waits for the network and each commit for
    the server's fsync; in threads those waits overlap (and the server groups commits), instead
    of stalling every other request on the loop.
    """
    if session.get_bind().dialect.name == "sqlite":
        return work(*args, **kwargs)
    return await run_in_threadpool(work, *args, **kwargs)
