"""The dependencies every door shares, as Annotated aliases so routes read like their intent.

One session world: every request that needs the database gets one plain SQLAlchemy session,
wrapped in a ``Db`` whose ``run`` calls the services (written once, as plain functions of a
session) where they cost least. It commits at one boundary, when the route has returned and
before the response is sent; a route that raises stores nothing.

Where the work runs was measured (benchmarks/api.py, and the numbers in README.md):
- SQLite: inline, on the event loop. A statement is tens of microseconds of local file work,
  and SQLite has one writer at a time: writers in threads queue on its lock and sleep in its
  busy handler (p99 over a second at 32 connections), while inline nothing contends.
- PostgreSQL: in FastAPI's thread pool, one hop per ``run``, so that the loop never waits on
  the network. (SQLAlchemy's asyncio layer was ~20% faster at 32 connections, but needs a
  second engine, a second session type and greenlets; not worth it for tens of submissions a
  clinic a day: scale out with workers.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from .clock import Clock
from .config import Settings
from .db import committed
from .services import alerts, rate_limits
from .services.questionnaires import Registry

P = ParamSpec("P")
T = TypeVar("T")


class Db:
    """The request's session, and the way to use it: ``await db.run(service, *args)``."""

    def __init__(self, session: Session, *, inline: bool) -> None:
        self.session = session
        self._inline = inline

    async def run(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if self._inline:
            return work(self.session, *args, **kwargs)
        return await run_in_threadpool(partial(work, self.session, *args, **kwargs))

    async def run_long_read(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """A read that can take seconds (the rule report): in the thread pool on every
        database, so the event loop goes on serving. (The exports, which write their audit
        event with their read, are a use case off the loop: ``run_off_loop``.) Call it before
        the request writes anything: on SQLite a write holds the lock that writers on the loop
        would wait for meanwhile."""
        if self.session.new or self.session.dirty:
            raise RuntimeError("a long read must come before the request's writes")
        return await run_in_threadpool(partial(work, self.session, *args, **kwargs))

    async def run_committed(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work`` in a transaction of its own, committed before this returns; the request's
        later work goes on in the next one, committed as usual. For what concurrent requests
        must see before this one ends (the sign-in throttle counts an attempt before checking
        its password). The request's own session and connection: a second connection could
        wait for a free one with every connection held by requests doing the same. Only before
        the request writes anything else, which would be committed early with it."""
        if self._has_written():
            raise RuntimeError("a committed step must come before the request's writes")
        return await self.run(committed, work, *args, **kwargs)

    async def run_off_loop(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """A use case with slow work of its own (a password's Argon2 check, tens of
        milliseconds of CPU): in the thread pool on every database, so the event loop goes on
        serving meanwhile, and committed there before this returns. (On SQLite a write lock
        left for the loop to commit would put the loop's own writers to sleep in SQLite's busy
        handler until then.) Only as the request's first writes, like ``run_committed``."""
        if self._has_written():
            raise RuntimeError("a use case off the loop must come before the request's writes")
        return await run_in_threadpool(partial(committed, self.session, work, *args, **kwargs))

    def _has_written(self) -> bool:
        if self.session.new or self.session.dirty or self.session.deleted:
            return True
        if not self.session.in_transaction():
            return False
        # Flushed writes: SQLite's driver begins a transaction only for a write.
        driver = self.session.connection().connection.dbapi_connection
        return bool(getattr(driver, "in_transaction", False))


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_settings(request: Request) -> Settings:
    return settings_of(request)


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def get_registry(request: Request) -> Registry:
    return registry_of(request)


async def get_clock(request: Request) -> Clock:
    """The app's clock (app/clock.py): the routes that store take the time from it."""
    clock: Clock = request.app.state.clock
    return clock


def client_ip(request: Request) -> str:
    """The client's address: the connection's, or what a trusted proxy says it is (uvicorn
    believes X-Forwarded-For only from FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


async def take_rate(
    request: Request, db: Db, buckets: dict[str, rate_limits.Limit]
) -> timedelta | None:
    """A request from each rate limit's bucket (app/services/rate_limits.py), committed at once;
    None if every one had room, else how long to wait. Each door says no its own way."""
    if all(limit.count == 0 for limit in buckets.values()):
        return None
    now: datetime = request.app.state.clock()
    # Full buckets are forgotten by requests, now and then: no job of its own.
    last: datetime | None = request.app.state.rate_buckets_swept_at
    sweep = last is None or not timedelta(0) <= now - last < rate_limits.FORGET_AFTER
    if sweep:
        request.app.state.rate_buckets_swept_at = now
    return await db.run_committed(_take_rate, buckets, now=now, sweep=sweep)


def _take_rate(
    session: Session, buckets: dict[str, rate_limits.Limit], *, now: datetime, sweep: bool
) -> timedelta | None:
    if sweep:
        rate_limits.forget_full_buckets(session, now=now)
    return rate_limits.take(session, buckets, now=now)


class DbSlots:
    """As many requests with a session at once as the pool has connections; the others wait
    here, on the event loop, without holding anything. Without it a request could wait for a
    connection where nothing else can run: on the event loop (SQLite), or in the last free
    pool thread while the requests holding the connections wait for a thread (PostgreSQL)."""

    def __init__(self, connections: int) -> None:
        self.connections = connections
        self._by_loop: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._by_loop is None or self._by_loop[0] is not loop:  # a test client's new loop
            self._by_loop = (loop, asyncio.Semaphore(self.connections))
        return self._by_loop[1]


async def get_db(request: Request) -> AsyncIterator[Db]:
    engine = request.app.state.engine
    slots: DbSlots = request.app.state.db_slots
    async with slots.semaphore():
        db = Db(Session(engine, expire_on_commit=False), inline=engine.dialect.name == "sqlite")
        try:
            yield db
        except BaseException:
            await db.run(Session.close)  # rolls back: nothing half-stored
            raise
        await db.run(_commit_and_close)  # one trip to the thread pool on PostgreSQL, not two
    if db.session.info.pop(alerts.QUEUED, False) and request.app.state.alert_sender:
        # Committed: the clinic's alert can go now, and this response does not wait for it.
        request.app.state.alert_sender.nudge()


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
ClockDep = Annotated[Clock, Depends(get_clock)]
# scope="function": the commit runs before the response is sent, so a failed commit is the
# request's error, and nobody is told "stored" for a row that is not.
DbDep = Annotated[Db, Depends(get_db, scope="function")]
