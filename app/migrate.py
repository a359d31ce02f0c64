"""Applying the Alembic migrations in migrations/ (the schema is never created any other way)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .config import project_dir
from .db import make_engine, normalise_url


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(project_dir("migrations")))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d-%%(rev)s_%%(slug)s")
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


class SchemaNotCurrentError(Exception):
    """The database's schema is not the one this version needs; the message says what to do."""


def prepare(engine: Engine) -> None:
    """What every command that uses the database does first. SQLite (the embedded default):
    apply the migrations, so there is nothing to set up. PostgreSQL: only check that they have
    been applied (`backaudit db upgrade` is a deliberate step there); SchemaNotCurrentError if
    not."""
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    else:
        require_current_schema(engine)


def require_current_schema(engine: Engine) -> None:
    """SchemaNotCurrentError unless the database is at the newest migration."""
    current, head = _current_and_head(engine)
    if current == head:
        return
    if current is None:
        raise SchemaNotCurrentError(
            "the database has no tables yet: run `backaudit db upgrade` first"
        )
    raise SchemaNotCurrentError(
        f"the database is at migration {current}, this version needs {head}:"
        " run `backaudit db upgrade` first"
    )


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head":
        current, head = _current_and_head(engine)
        if current == head:
            # Nothing to do, so nothing to lock: on SQLite a migration takes the write lock
            # first (migrations/env.py), and every command runs this while the app may be busy.
            return
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _current_and_head(engine: Engine) -> tuple[str | None, str | None]:
    url = engine.url.render_as_string(hide_password=False)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


@contextmanager
def command_session(url: str) -> Iterator[Session]:
    """A session for one command-line command, on an engine that is closed afterwards (a
    PostgreSQL connection left open would outlive the command).

    The schema is made ready first, as `backaudit serve` does: on SQLite the migrations are
    applied; on PostgreSQL, SchemaNotCurrentError if they have not been."""
    engine = make_engine(url)
    try:
        prepare(engine)
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()
