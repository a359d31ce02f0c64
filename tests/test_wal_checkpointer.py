"""SQLite's write-ahead log is copied into the database by a background thread (app.db), not by
the commits of requests; SQLite's own checkpoint stays on as a bound."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import WalCheckpointer, make_engine
from app.main import create_app
from app.migrate import upgrade

ROW = "x" * 20_000  # about five pages: a stored result is ~26 kB of JSON


def autocheckpoint(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def checkpoint_threads() -> int:
    """How many run in this process (the browser tests' live server may have its own)."""
    return sum(1 for t in threading.enumerate() if t.name == "sqlite-wal-checkpoint")


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def write_rows(engine: Engine, count: int = 20) -> None:
    with engine.begin() as connection:
        for _ in range(count):
            connection.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": ROW})


def backup_file(directory: Path) -> tuple[Path, bytes]:
    """A database file to restore over the live one, and its bytes as restored."""
    backup = directory / "backup.db"
    with closing(sqlite3.connect(backup)) as connection:
        connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    return backup, backup.read_bytes()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    return engine


def test_the_thread_copies_the_log_into_the_database_and_commits_no_longer_do(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    database = tmp_path / "wal.db"
    checkpointer = WalCheckpointer(sqlite_engine, busy_interval=0.01, idle_interval=0.05)
    assert autocheckpoint(sqlite_engine) == 1000  # SQLite's own, until the thread runs
    threads_before = checkpoint_threads()
    checkpointer.start()
    try:
        assert checkpoint_threads() == threads_before + 1
        # 64 MB of 4 kB pages: commits checkpoint only if the thread falls that far behind.
        assert autocheckpoint(sqlite_engine) == 16384
        size_before = database.stat().st_size
        write_rows(sqlite_engine)  # ~400 kB: under SQLite's 1,000 pages either way
        # The commit left the rows in the WAL; only the thread moves them into the file.
        wait_until(
            lambda: database.stat().st_size >= size_before + 20 * len(ROW),
            "the thread did not checkpoint",
        )
    finally:
        checkpointer.stop()
    assert not checkpointer.running
    assert checkpoint_threads() == threads_before
    assert autocheckpoint(sqlite_engine) == 1000  # the same pooled connection, set back
    sqlite_engine.dispose()


def test_without_the_thread_the_same_rows_stay_in_the_log(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """The other half of the test above: there, the file grew because of the thread."""
    database = tmp_path / "wal.db"
    WalCheckpointer(sqlite_engine)  # made, never started: nothing changes
    size_before = database.stat().st_size
    write_rows(sqlite_engine)
    time.sleep(0.5)
    assert database.stat().st_size == size_before
    assert autocheckpoint(sqlite_engine) == 1000
    sqlite_engine.dispose()


def test_a_checkpoint_after_the_file_is_gone_creates_nothing(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    checkpointer = WalCheckpointer(sqlite_engine)
    sqlite_engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"wal.db{suffix}").unlink(missing_ok=True)
    assert checkpointer.checkpoint() is None  # logged, not raised
    assert not (tmp_path / "wal.db").exists()


def test_only_for_an_sqlite_file() -> None:
    memory = create_engine("sqlite://")
    postgres = create_engine("postgresql+psycopg://user@db/backaudit")  # never connects
    assert WalCheckpointer.for_engine(memory) is None
    assert WalCheckpointer.for_engine(postgres) is None
    with pytest.raises(ValueError, match="SQLite database file"):
        WalCheckpointer(postgres)


def test_the_app_runs_it_from_start_to_shutdown(settings: Settings, tmp_path: Path) -> None:
    app = create_app(
        settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'app.db'}"})
    )
    upgrade(app.state.engine)
    checkpointer = app.state.wal_checkpointer
    assert checkpointer is not None
    assert not checkpointer.running
    threads_before = checkpoint_threads()
    with TestClient(app) as client:
        assert checkpointer.running
        assert checkpoint_threads() == threads_before + 1
        assert client.get("/healthz").status_code == 200
        assert autocheckpoint(app.state.engine) == 16384
    assert not checkpointer.running
    assert checkpoint_threads() == threads_before
    # Shut down cleanly: every connection closed, so SQLite removed its side files.
    assert not (tmp_path / "app.db-wal").exists()
    assert not (tmp_path / "app.db-shm").exists()


def test_it_syncs_the_pages_it_copied(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = os.stat(tmp_path / "wal.db")
    synced: list[tuple[int, int]] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        status = os.fstat(descriptor)
        synced.append((status.st_dev, status.st_ino))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    checkpointer = WalCheckpointer(sqlite_engine, busy_interval=0.01, idle_interval=0.05)
    checkpointer.start()
    try:
        write_rows(sqlite_engine)
        wait_until(
            lambda: (database.st_dev, database.st_ino) in synced, "the database file was not synced"
        )
    finally:
        checkpointer.stop()
        sqlite_engine.dispose()


def test_stop_checkpoints_what_is_left(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "wal.db"
    # Its first pass runs at once; the next would be a minute later.
    checkpointer = WalCheckpointer(sqlite_engine, busy_interval=60, idle_interval=60)
    passed = threading.Event()
    real_checkpoint = checkpointer.checkpoint

    def checkpoint() -> tuple[int, int, int] | None:
        try:
            return real_checkpoint()
        finally:
            passed.set()

    monkeypatch.setattr(checkpointer, "checkpoint", checkpoint)
    checkpointer.start()
    assert passed.wait(10), "the first pass did not run"  # (a fixed sleep was flaky under load)
    size_before = database.stat().st_size
    write_rows(sqlite_engine)
    assert database.stat().st_size == size_before
    checkpointer.stop()
    assert database.stat().st_size >= size_before + 20 * len(ROW)
    sqlite_engine.dispose()


def test_it_runs_until_every_start_has_its_stop(sqlite_engine: Engine) -> None:
    """Two lifespans on one app (two test clients at once) share one thread."""
    checkpointer = WalCheckpointer(sqlite_engine)
    checkpointer.start()
    checkpointer.start()
    checkpointer.stop()
    assert checkpointer.running
    checkpointer.stop()
    assert not checkpointer.running
    sqlite_engine.dispose()


def test_a_relative_path_stays_the_same_file_after_a_chdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite:///./relative.db")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    checkpointer = WalCheckpointer(engine)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert checkpointer.path == str(tmp_path / "relative.db")
    assert checkpointer.checkpoint() is not None
    assert list(elsewhere.iterdir()) == []
    engine.dispose()


def test_a_thread_that_keeps_failing_gives_up_and_commits_checkpoint_again(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpointer = WalCheckpointer(sqlite_engine, busy_interval=0.01, idle_interval=0.01)
    checkpointer.MAX_FAILURES = 2
    checkpointer.start()
    assert autocheckpoint(sqlite_engine) == 16384
    # Its connection holds the file open from start to stop, so another program cannot lock
    # it out any more than the app's own connections let it; an I/O error is what is left.
    monkeypatch.setattr(checkpointer, "checkpoint", lambda: None)  # a pass that failed
    wait_until(lambda: not checkpointer.running, "the thread did not give up")
    assert "failed 2 times in a row and stopped" in caplog.text
    assert autocheckpoint(sqlite_engine) == 1000  # SQLite's own bound again
    checkpointer.stop()
    sqlite_engine.dispose()


def test_a_replaced_database_file_gets_nothing_from_this_wal(
    sqlite_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone restores a backup over the live file: its pages must stay as restored."""
    backup, restored_bytes = backup_file(tmp_path)
    checkpointer = WalCheckpointer(sqlite_engine, busy_interval=0.01, idle_interval=0.05)
    checkpointer.start()
    try:
        with sqlite_engine.begin() as connection:
            connection.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": ROW})
            os.replace(backup, tmp_path / "wal.db")
        wait_until(lambda: not checkpointer.running, "the thread did not stop")
        write_rows(sqlite_engine)  # the app's connections write on into their WAL
        time.sleep(0.2)
        assert (tmp_path / "wal.db").read_bytes() == restored_bytes
        assert "replaced or removed while the app ran" in caplog.text
    finally:
        checkpointer.stop()
        sqlite_engine.dispose()


def test_a_file_replaced_between_its_check_and_a_pass_gets_nothing_either(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race in the test above, made to happen every time: the file is replaced just after
    the thread checked it. The pass must still work on the file it started with (it keeps its
    connection); one that opened the path again copied this WAL into the restored file."""
    backup, restored_bytes = backup_file(tmp_path)
    write_rows(sqlite_engine)  # in the WAL, not yet in the file
    checkpointer = WalCheckpointer(sqlite_engine, busy_interval=0.01, idle_interval=0.05)
    real_same_file = checkpointer._same_file

    def same_file_then_replaced() -> bool:
        same = real_same_file()
        if same and backup.exists():
            os.replace(backup, tmp_path / "wal.db")
        return same

    monkeypatch.setattr(checkpointer, "_same_file", same_file_then_replaced)
    checkpointer.start()
    try:
        wait_until(lambda: not checkpointer.running, "the thread did not stop")
        assert (tmp_path / "wal.db").read_bytes() == restored_bytes
        write_rows(sqlite_engine)  # the app's connection is unharmed
    finally:
        checkpointer.stop()
        sqlite_engine.dispose()


def count_rows_elsewhere(database: Path) -> int:
    """Rows in ``note`` as another program sees them: it opens the file, reads and closes it."""
    script = (
        "import sqlite3, sys\n"
        "connection = sqlite3.connect(sys.argv[1])\n"
        "print(connection.execute('SELECT count(*) FROM note').fetchone()[0])\n"
        "connection.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(database)], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_another_program_closing_the_database_never_takes_the_app_s_wal_away(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POSIX locks belong to the process: if the thread ever closed a descriptor of the database
    file (say, after syncing it), every lock the app's connections hold would go with it. The
    next program to close its own connection would then think itself the last one, checkpoint
    and delete the WAL, and the app would go on writing into the deleted file: its later
    writes lost, and new API keys never seen (found by hand with `backaudit api-key create`
    next to a running server)."""
    database = tmp_path / "wal.db"
    synced = threading.Event()
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        real_fsync(descriptor)
        synced.set()

    monkeypatch.setattr(os, "fsync", recording_fsync)
    checkpointer = WalCheckpointer(sqlite_engine, busy_interval=0.01, idle_interval=0.05)
    checkpointer.start()
    try:
        write_rows(sqlite_engine)
        assert synced.wait(10), "the thread did not sync the database file"
        assert count_rows_elsewhere(database) == 20  # another program came and went
        assert (tmp_path / "wal.db-wal").exists()
        write_rows(sqlite_engine, 1)
        assert count_rows_elsewhere(database) == 21  # the app's new row is in the same file
    finally:
        checkpointer.stop()
        sqlite_engine.dispose()
