"""Alembic environment: runs migrations on the connection or URL that app.migrate passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from app.db import make_engine
from app.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        _begin_sqlite_transaction(connection)
        context.run_migrations()


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE, so each ALTER
    or CREATE would commit by itself: a migration that failed half-way (a full disk, a kill)
    would stay half-done, and could not be run again. One transaction makes it all or nothing,
    as on PostgreSQL; IMMEDIATE takes the write lock first, so a running app's writes wait
    (busy timeout) instead of failing the migration half-way."""
    if connection.dialect.name != "sqlite":
        return
    driver_connection = connection.connection.driver_connection
    if driver_connection is not None and not driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


if context.is_offline_mode():
    raise SystemExit(
        "offline (SQL script) migrations are not supported; run `backaudit db upgrade`"
    )
run_migrations_online()
