"""Database engine and sessions. SQLite (embedded default) and PostgreSQL behave the same."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, create_engine

from .models import json_bytes, json_from_bytes

log = logging.getLogger("backaudit.db")


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
        "json_deserializer": json_from_bytes,
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
        # request only reads (the key lookup, or /healthz's SELECT 1), and that read is retried
        # once on a new connection when the server closed the pooled one (a restart, an idle
        # timeout): see ApiBatches in app/api/batches.py and run_first_read in app/api/deps.py.
        pool_pre_ping=False,
        # A connection per request in flight, kept: above pool_size each one is opened and
        # closed per request (a new server process each time), which halved throughput at 32
        # concurrent requests.
        pool_size=32,
        max_overflow=8,
        **_engine_options(),
    )


def _json_dumps(value: Any) -> str:
    return json_bytes(value).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


SQLITE_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default


class WalCheckpointer:
    """SQLite: copies the write-ahead log into the database file from a background thread, so
    that commits seldom have to.

    By default the commit that takes the WAL past 1,000 pages (4 MB) copies them into the
    database file and syncs it: 8-10 ms on a small VM. The API runs SQLite inline on the event
    loop (app/api/deps.py), so under load every ~85th assessment stalled every request in
    flight for that long. This thread copies the WAL as it grows (a passive checkpoint: writers
    never wait for it) and syncs what it copied; sqlite3 and os.fsync let go of the GIL.

    SQLite starts the WAL file over only after a checkpoint that reached its end, and beside
    writes that never pause a background checkpoint never quite does. So the app's connections
    still checkpoint themselves, at ``restart_bytes`` instead of 4 MB (``wal_autocheckpoint``):
    by then nearly everything is copied and synced, that commit takes a few milliseconds, and
    the WAL stays bounded even if this thread stops. In a 12-second write loop: 2 commits over
    5 ms instead of 109, 11 ms of pauses in all instead of 1,132.

    It also makes commits durable sooner: with ``synchronous=NORMAL`` SQLite syncs the WAL only
    when it checkpoints, which with few writes could be hours later; now it is within a second.
    """

    MAX_FAILURES = 5
    """Passes in a row that may fail before the thread gives up and the commits take over."""

    def __init__(
        self,
        engine: Engine,
        *,
        busy_interval: float = 0.05,
        idle_interval: float = 1.0,
        restart_bytes: int = 64 << 20,
    ) -> None:
        database = engine.url.database
        if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
            raise ValueError("WAL checkpoints are for an SQLite database file")
        # Absolute now, as SQLAlchemy makes it: a later chdir must not point us at another file.
        self.path = os.path.abspath(database)
        self.busy_interval = busy_interval
        self.idle_interval = idle_interval
        self.restart_bytes = restart_bytes
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._users = 0  # lifespans that asked for it (tests may open two on one app)
        self._file: tuple[int, int] | None = None  # (device, inode) when it started
        # Opened once, at start: see start().
        self._connection: sqlite3.Connection | None = None
        self._pages = SQLITE_AUTOCHECKPOINT_PAGES  # until start() reads the page size
        event.listen(engine, "checkout", self._on_checkout)

    @classmethod
    def for_engine(cls, engine: Engine) -> WalCheckpointer | None:
        """One for an SQLite database file; None for PostgreSQL or an in-memory database."""
        try:
            return cls(engine)
        except ValueError:
            return None

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _on_checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # Each pooled connection gets the bound that fits now (and keeps a note, so this costs
        # nothing per request): while the thread runs its long one, otherwise SQLite's own.
        wanted = self._pages if self.running else SQLITE_AUTOCHECKPOINT_PAGES
        if record.info.get("wal_autocheckpoint") != wanted:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={wanted}")
            record.info["wal_autocheckpoint"] = wanted

    def start(self) -> None:
        with self._lock:
            self._users += 1
            if self.running:
                return
            self._close_connection()  # of a thread that stopped by itself
            # The thread keeps this one connection, so it stays on the file it started with.
            # Opening the path again on each pass raced with a file put in its place: SQLite
            # keys locks and shared memory by inode, so a connection that opened the new file
            # took the live WAL's shared memory for its own, and the app's next write failed
            # (in a test, 3 runs in 40).
            try:
                connection = self._connect()
            except sqlite3.Error as exc:
                # No file yet, or not readable: SQLite's own checkpoints go on as they were.
                log.warning("SQLite WAL checkpoints stay with the commits: %s", exc)
                return
            try:
                self._file = self._identity()  # after connecting: the file we have, or newer
                page_size = connection.execute("PRAGMA page_size").fetchone()[0]
            except (OSError, sqlite3.Error) as exc:
                log.warning("SQLite WAL checkpoints stay with the commits: %s", exc)
                connection.close()
                self._file = None
                return
            self._connection = connection
            self._pages = max(SQLITE_AUTOCHECKPOINT_PAGES, self.restart_bytes // page_size)
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="sqlite-wal-checkpoint", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread (once every start has its stop) and checkpoint what is left."""
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users:
                return
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()
        with self._lock:
            if self._thread is not None:
                return  # a start() came in meanwhile: its thread goes on
            if self._same_file():
                self.checkpoint()
            self._close_connection()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """One passive checkpoint, now: SQLite's (busy, frames in the WAL, frames copied), or
        None if it failed (logged). On the thread's connection while there is one."""
        try:
            if self._connection is not None:
                row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            else:
                with closing(self._connect()) as connection:
                    row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            log.warning("SQLite WAL checkpoint failed: %s", exc)  # names no data
            return None
        busy, frames, copied = row
        return busy, frames, copied

    def _connect(self) -> sqlite3.Connection:
        # mode=rw: never create a database file that is not there (any more). Used by the
        # thread, made by whoever calls start().
        uri = Path(self.path).as_uri() + "?mode=rw"
        return sqlite3.connect(
            uri, uri=True, timeout=1.0, isolation_level=None, check_same_thread=False
        )

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _identity(self) -> tuple[int, int]:
        status = os.stat(self.path)
        return status.st_dev, status.st_ino

    def _same_file(self) -> bool:
        try:
            return self._file is not None and self._identity() == self._file
        except OSError:
            return False

    def _run(self) -> None:
        try:
            self._checkpoint_until_stopped()
        except Exception:
            log.exception("SQLite WAL checkpoints stopped; commits checkpoint themselves again")

    def _checkpoint_until_stopped(self) -> None:
        # When this returns, ``running`` is false and new checkouts go back to SQLite's bound.
        failures = 0
        copied_before = None
        while True:
            if not self._same_file():
                # A file put in its place (a restored backup?) must not get this WAL's pages.
                log.error(
                    "The SQLite database file was replaced or removed while the app ran: WAL"
                    " checkpoints stopped. Restart the app."
                )
                return
            result = self.checkpoint()
            if result is None:
                failures += 1
                if failures >= self.MAX_FAILURES:
                    log.error(
                        "SQLite WAL checkpoints failed %d times in a row and stopped; commits"
                        " checkpoint themselves again",
                        failures,
                    )
                    return
                grew = False
            else:
                failures = 0
                grew = result[2] != copied_before
                copied_before = result[2]
                if grew:
                    self._sync_database_file()
            # Back soon while the WAL grows, so that what is left for a commit stays small.
            if self._stop.wait(self.busy_interval if grew else self.idle_interval):
                return

    def _sync_database_file(self) -> None:
        """A passive checkpoint that does not reach the end of the WAL (one that runs beside
        writes never does) leaves the pages it copied unsynced. The commit that restarts the WAL
        would then sync them all: 30-40 ms at 64 MB. Synced here, that commit's checkpoint takes
        a few milliseconds, however big the WAL."""
        descriptor = self._sync_descriptor()
        if descriptor is None:
            return
        try:
            os.fsync(descriptor)
        except OSError as exc:
            log.warning("syncing the SQLite database file failed: %s", exc)

    def _sync_descriptor(self) -> int | None:
        """This file's descriptor for fsync: opened once, and never closed (see
        ``_SYNC_DESCRIPTORS``)."""
        if self._file is None:
            return None
        with _SYNC_DESCRIPTORS_LOCK:
            descriptor = _SYNC_DESCRIPTORS.get(self._file)
            if descriptor is not None:
                return descriptor
            try:
                descriptor = os.open(self.path, os.O_RDONLY)
            except OSError:
                return None
            status = os.fstat(descriptor)
            opened = (status.st_dev, status.st_ino)
            _SYNC_DESCRIPTORS[opened] = descriptor  # kept even if another file is there now
            return descriptor if opened == self._file else None


# Database files opened for fsync, by device and inode. Never closed while the process runs:
# POSIX advisory locks belong to the process, so closing any descriptor of the database file
# drops every lock this process's SQLite connections hold on it. The next program to close its
# own connection (a `backaudit` command, a backup) would then think itself the last, checkpoint
# and delete the WAL, while the app goes on writing into the deleted file: those writes lost,
# its reads stale. (https://www.sqlite.org/howtocorrupt.html, section 2.2.)
_SYNC_DESCRIPTORS: dict[tuple[int, int], int] = {}
_SYNC_DESCRIPTORS_LOCK = threading.Lock()


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
