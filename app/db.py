"""Database engine and sessions. SQLite (embedded default) and PostgreSQL behave the same.

Every door (pages, staff pages, API) and every command uses plain SQLAlchemy sessions on one
engine per process; app/deps.py says where a request's work with them runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from . import codec

P = ParamSpec("P")
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    pool_timeout: float = 10.0,
) -> Engine:
    """One engine per process. Pool sizes left unset get the database's own default (see
    app.config.Database.pool_size)."""
    url = normalise_url(url)
    sqlite = url.startswith("sqlite")
    size, overflow = pool_limits(url, pool_size, max_overflow)
    options: dict[str, Any] = {
        # A database error's message must never carry answers into a log.
        "hide_parameters": True,
        "json_serializer": codec.dumps_text,
        "json_deserializer": codec.loads,
        "pool_size": size,
        "max_overflow": overflow,
        "pool_timeout": pool_timeout,
        # The most recently used connection first: on SQLite its page cache is the warmest, and
        # on PostgreSQL the connections a quiet hour does not need can time out.
        "pool_use_lifo": True,
    }
    if sqlite:
        # No pool_pre_ping: a file does not drop connections, and the ping is a query.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **options
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A server can close connections (a restart, a failover, an idle timeout): the ping finds
    # out before a request uses one.
    return create_engine(url, pool_pre_ping=True, **options)


def pool_limits(url: str, pool_size: int | None, max_overflow: int | None) -> tuple[int, int]:
    """The pool's size and overflow: as set, or the database's default."""
    sqlite = normalise_url(url).startswith("sqlite")
    return (
        pool_size or (40 if sqlite else 32),
        max_overflow if max_overflow is not None else (60 if sqlite else 8),
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def committed(
    session: Session,
    work: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``work`` in a transaction of its own, committed before this returns (rolled back if it
    raises). The one place besides the request's end that commits: for a step concurrent
    requests must see at once (the sign-in throttle counts an attempt before its password is
    checked), taken before the request writes anything else, which would be committed with it.
    """
    try:
        result = work(session, *args, **kwargs)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result
