"""Database engine and sessions. SQLite (embedded default) and PostgreSQL behave the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, create_engine


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _engine_options() -> dict[str, Any]:
    """What every engine shares. hide_parameters: a database error's message must never carry
    answers into a log."""
    return {
        "hide_parameters": True,
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    # SQLite needs no pool_pre_ping: a file does not drop connections, and the ping is a query.
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            # Enough pooled connections for every worker thread (anyio's default is 40): an
            # overflow connection is opened and closed per request, pragmas and all.
            pool_size=40,
            max_overflow=10,
            **_engine_options(),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        **_engine_options(),
    )


def make_async_engine(url: str) -> AsyncEngine | None:
    """PostgreSQL only: an asyncio engine (psycopg's async mode) for the JSON API's hot paths.

    The API runs on the event loop (app/api/deps.py): with asyncio, a request that waits for the
    server lets the others run, instead of parking a pool thread that then fights the event loop
    for the GIL. (SQLite has no network wait to overlap: the API uses it inline.)"""
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "postgresql":
        return None
    return create_async_engine(
        url,
        # No pre-ping: it is a round trip before every request. The API's first statement in a
        # request only reads (the key lookup, or /healthz's SELECT 1), and run_first_read in
        # app/api/deps.py retries it once on a new connection when the server closed the
        # pooled one (a restart, an idle timeout).
        pool_pre_ping=False,
        # A connection per request in flight, kept: above pool_size each one is opened and
        # closed per request (a new server process each time), which halved throughput at 32
        # concurrent requests.
        pool_size=32,
        max_overflow=8,
        **_engine_options(),
    )


def _json_dumps(value: Any) -> str:
    """JSON columns: orjson is several times faster than the standard library on the ~20 kB
    results. What orjson refuses (a lone surrogate, an integer beyond 64 bits) goes through the
    standard library as before."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def command_session(url: str) -> Iterator[Session]:
    """A session for one command-line command, on an engine that is closed afterwards (a
    PostgreSQL connection left open would outlive the command).

    The schema is made ready first, as `backaudit serve` does: on SQLite the migrations are
    applied; on PostgreSQL, app.migrate.SchemaNotCurrentError if they have not been."""
    from .migrate import prepare  # app.migrate imports this module

    engine = make_engine(url)
    try:
        prepare(engine)
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()
