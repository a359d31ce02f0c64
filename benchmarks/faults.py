"""Fault drills: real `backaudit serve` processes under faults, checking that nothing
acknowledged is lost and nothing is stored twice.

    .venv/bin/python benchmarks/faults.py                     # every drill
    .venv/bin/python benchmarks/faults.py --only disk-full,slow-clients

The drills (loopback only; each stops by itself):

- kill-sqlite, kill-postgres: `kill -9` of the server while 16 clients post assessments with
  Idempotency-Key headers; restart it; retry every request that got no answer (same key, same
  body). Each key ends up stored exactly once, and every 201 seen before the kill is stored.
- postgres-restart: the PostgreSQL server stopped (`pg_ctl stop -m fast`) and started again
  under load, the app left running: 503 with Retry-After while it is down (never a 500, never
  slow), 201 again once it is back, and every key stored exactly once after retries.
- disk-full: the SQLite file on a small tmpfs, then filled to the last byte by another file:
  503 with Retry-After (never a 500), normal service once the space is freed, every key stored
  exactly once, and `PRAGMA integrity_check` ok.
- slow-clients: 200 connections send a request's headers one byte a second for 13 s; other
  requests (new connections, health checks and stored assessments) are still served (their
  latency during the attack against before it), and the server closes the slow connections once
  their headers are 10 s late (HEADERS_TIMEOUT, app/serving.py).
- webhook-ssrf: a clinic's webhook pointed at each address class the server may not post to
  (loopback in several spellings, private, link-local and metadata, multicast, reserved,
  unspecified, unique-local, IPv4 in IPv6), written straight into the database, and an urgent
  submission for each through a server in production: every attempt says only "could not
  deliver", and listeners on 127.0.0.1 and ::1 at the webhook's port count no connection.
- checkin-flood: 50 check-ins posted at once (8 clients) at one self-care submission of a
  clinic that is alerted by e-mail and webhook, identical and different ones, a third of them
  urgent: at most CHECKINS_PER_DAY (3) stored, a 429 with Retry-After for each refused one, the
  identical ones answered with the check-in stored (200), no 500, and no more alerts of each
  way than check-ins stored.
- pdf-flood: 20 clients ask at once for the PDFs of 20 different results (none made yet) while
  /healthz is measured: every PDF request gets a 200 or a 503 with Retry-After (the bound,
  PDF_MAX_PENDING), never a 500, and the health check's p99 stays under 100 ms (the PDFs are
  made in worker processes of their own, app/services/pdf.py).

The PostgreSQL drills run on a private cluster made with initdb in a temporary directory on a
free port (as the `postgres` user when run as root), never on a shared server. A drill whose
mechanism is missing here (no PostgreSQL binaries; not allowed to mount a tmpfs) is skipped
with the reason printed. Exit code 1 if any check fails.
"""

from __future__ import annotations

import argparse
import errno
import glob
import http.client
import ipaddress
import json
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from app.api.examples import EXAMPLE_ANSWERS  # noqa: E402
from app.config import project_dir  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.engine import evaluate  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import Clinic  # noqa: E402
from app.services import alert_settings, alerts, assessments, pdf  # noqa: E402
from app.services.api_keys import CHECKINS_WRITE, create_api_key  # noqa: E402
from app.services.questionnaires import Registry  # noqa: E402
from tests.alert_receivers import REFUSED_WEBHOOK_HOSTS as REFUSED_BY_TESTS  # noqa: E402
from tests.support.network import free_port  # noqa: E402

BODY = json.dumps({"answers": EXAMPLE_ANSWERS}, separators=(",", ":")).encode()
# A request that takes longer than this "hangs": the drills fail rather than wait for it.
REQUEST_TIMEOUT = 15.0
# While the database is down, a 503 must come at least this fast.
UNAVAILABLE_BOUND = 5.0
# A 500 in the request log, or an exception no handler caught (uvicorn's own message).
SERVER_ERRORS = (" 500 ", "Exception in ASGI application")


# -- reporting --------------------------------------------------------------------------------


@dataclass
class Report:
    checks: list[tuple[str, str, bool]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def check(self, drill: str, description: str, ok: bool) -> None:
        self.checks.append((drill, description, ok))
        print(f"  [{'ok' if ok else 'FAILED'}] {description}", flush=True)

    def note(self, description: str) -> None:
        print(f"  {description}", flush=True)

    def skip(self, drill: str, reason: str) -> None:
        self.skipped.append((drill, reason))
        print(f"  [skipped] {reason}", flush=True)

    @property
    def failed(self) -> list[tuple[str, str, bool]]:
        return [check for check in self.checks if not check[2]]


# -- talking to the server --------------------------------------------------------------------


@dataclass
class Attempt:
    key: str
    started: float
    ended: float
    status: int | None = None  # None: no answer (refused, reset, timed out)
    record_id: str | None = None
    retry_after: str | None = None
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def acknowledged(self) -> bool:
        return self.status in (200, 201)


def post_assessment(port: int, api_key: str, key: str, timeout: float = REQUEST_TIMEOUT) -> Attempt:
    """One POST /api/v1/assessments on a new connection, with an Idempotency-Key."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(
            "POST",
            "/api/v1/assessments",
            body=BODY,
            headers={
                "Authorization": f"Bearer {api_key}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return Attempt(key, started, time.monotonic(), error=type(exc).__name__)
    finally:
        connection.close()
    attempt = Attempt(
        key, started, time.monotonic(), response.status, None, response.getheader("Retry-After")
    )
    if attempt.acknowledged:
        attempt.record_id = json.loads(data)["id"]
    return attempt


def get_status(port: int, path: str, timeout: float = REQUEST_TIMEOUT) -> tuple[int | None, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except (OSError, http.client.HTTPException):
        return None, time.monotonic() - started
    finally:
        connection.close()


class Ledger:
    """Every attempt every client made, in the order they ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.attempts: list[Attempt] = []

    def add(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)

    def snapshot(self) -> list[Attempt]:
        with self._lock:
            return list(self.attempts)

    def keys(self) -> set[str]:
        return {attempt.key for attempt in self.snapshot()}

    def acknowledged(self) -> dict[str, str]:
        """Key → the record id the server answered with (200 or 201)."""
        return {a.key: a.record_id for a in self.snapshot() if a.record_id is not None}

    def unacknowledged(self) -> list[str]:
        acknowledged = self.acknowledged()
        return sorted(self.keys() - acknowledged.keys())

    def statuses(self) -> Counter[str]:
        return Counter(
            str(a.status) if a.status else f"no answer ({a.error})" for a in self.snapshot()
        )


class Load:
    """Clients on threads, each posting with a fresh key after the other until stopped. After
    an answer other than 2xx a client pauses a little, as a polite client would."""

    def __init__(self, port: int, api_key: str, ledger: Ledger, clients: int) -> None:
        self.port, self.api_key, self.ledger = port, api_key, ledger
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def _client(self) -> None:
        while not self.stop.is_set():
            attempt = post_assessment(self.port, self.api_key, str(uuid.uuid4()))
            self.ledger.add(attempt)
            if not attempt.acknowledged:
                self.stop.wait(0.2)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT + 5)


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def retry_until_acknowledged(
    port: int, api_key: str, ledger: Ledger, keys: list[str], *, deadline_seconds: float = 30
) -> list[Attempt]:
    """Retry each key (same key, same body) until the server acknowledges it; the retries go
    into the ledger too."""
    retries = []
    deadline = time.monotonic() + deadline_seconds
    for key in keys:
        while time.monotonic() < deadline:
            attempt = post_assessment(port, api_key, key)
            ledger.add(attempt)
            retries.append(attempt)
            if attempt.acknowledged:
                break
            time.sleep(0.2)
    return retries


# -- servers ----------------------------------------------------------------------------------


class Server:
    """`backaudit serve` on a free loopback port, in its own process group: `kill9` kills it
    and any worker it started, as a crash or the OOM killer would."""

    def __init__(
        self, url: str, log: Path, *, workers: int = 1, env: dict[str, str] | None = None
    ) -> None:
        self.url, self.log, self.workers = url, log, workers
        self.env = env or {}
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start it and wait until /healthz answers 200; the seconds that took."""
        started = time.monotonic()
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "ENVIRONMENT": "development",
            "LOG_LEVEL": "INFO",  # the request log: each status,
            # The drills' clients send hundreds of requests a minute from one key and address:
            # the rate limits (tested on their own) would answer them 429.
            "RATE_LIMIT_API_KEY_PER_MINUTE": "0",
            "RATE_LIMIT_API_ADDRESS_PER_MINUTE": "0",
            "RATE_LIMIT_SUBMISSIONS_PER_HOUR": "0",
            **self.env,
        }
        command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
            )
        while time.monotonic() - started < 30:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped while starting; see {self.log}")
            if get_status(self.port, "/healthz", timeout=1)[0] == 200:
                return time.monotonic() - started
            time.sleep(0.1)
        raise SystemExit(f"the server did not answer /healthz within 30 s; see {self.log}")

    def kill9(self) -> None:
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill9()

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_mentions(self, *needles: str) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if any(needle in line for needle in needles)]


def new_api_key(url: str) -> str:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            _, key = create_api_key(session=session, name="fault drill")
            session.commit()
    finally:
        engine.dispose()
    return key


def stored_rows(url: str) -> dict[str, list[str]]:
    """Idempotency key → the ids of the rows stored with it (None: rows stored without one)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT idempotency_key, id FROM assessment")).all()
    finally:
        engine.dispose()
    stored: dict[str, list[str]] = {}
    for key, record_id in rows:
        stored.setdefault(str(key), []).append(str(record_id).replace("-", ""))
    return stored


def check_exactly_once(report: Report, drill: str, ledger: Ledger, url: str) -> None:
    """Each key sent is stored exactly once, with the id the server answered, and nothing else
    is stored."""
    stored = stored_rows(url)
    keys = ledger.keys()
    acknowledged = ledger.acknowledged()
    twice = [key for key, ids in stored.items() if len(ids) > 1]
    missing = [key for key in keys if key not in stored]
    strays = [key for key in stored if key not in keys]
    wrong_id = [
        key
        for key, record_id in acknowledged.items()
        if key in stored and record_id.replace("-", "") not in stored[key]
    ]
    report.check(
        drill,
        f"{len(keys)} keys sent, {len(acknowledged)} acknowledged, {sum(map(len, stored.values()))}"
        f" rows stored: {len(missing)} keys missing, {len(twice)} stored twice, {len(strays)}"
        f" rows nobody sent, {len(wrong_id)} acknowledged ids not the stored one",
        not (missing or twice or strays or wrong_id) and len(acknowledged) == len(keys),
    )


def count_unanswered(report: Report, drill: str, ledger: Ledger) -> None:
    report.check(
        drill,
        f"every key acknowledged after retries: {len(ledger.unacknowledged())} not",
        not ledger.unacknowledged(),
    )


# -- a private PostgreSQL cluster -------------------------------------------------------------


def postgres_bin() -> Path | None:
    if found := os.environ.get("PG_BIN"):
        return Path(found)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for directory in reversed(candidates):
        if (Path(directory) / "initdb").exists():
            return Path(directory)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivateCluster:
    """A PostgreSQL cluster of our own: initdb in a temporary directory, a free loopback port,
    trust authentication. As root its files belong to the `postgres` user, which runs it."""

    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir = bindir
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")  # KeyError: no such user
            os.chown(directory, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_user, *command], check=True, capture_output=True, text=True, timeout=60
        )

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
            str(self.directory / "postgres.log"), "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def private_cluster(report: Report, drill: str) -> Iterator[PrivateCluster | None]:
    bindir = postgres_bin()
    if bindir is None:
        report.skip(drill, "no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="backaudit-faults-pg-") as tmp:
        try:
            cluster = PrivateCluster(bindir, Path(tmp))
            cluster.init()
            cluster.start()
        except (KeyError, OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or exc
            report.skip(drill, f"could not start a private PostgreSQL cluster: {detail}")
            yield None
            return
        try:
            yield cluster
        finally:
            if cluster.is_running():
                with suppress(subprocess.SubprocessError):
                    cluster.stop()


# -- drill a: kill -9 under load --------------------------------------------------------------


def drill_kill(report: Report, drill: str, url: str, tmp: Path) -> None:
    api_key = new_api_key(url)
    ledger = Ledger()
    with Server(url, tmp / f"{drill}.log") as server:
        server.start()
        with Load(server.port, api_key, ledger, clients=16):
            # Kill once the load is steady, in the middle of whatever is in flight then.
            deadline = time.monotonic() + 10
            while len(ledger.acknowledged()) < 300 and time.monotonic() < deadline:
                time.sleep(0.05)
            server.kill9()
            killed_at = time.monotonic()
            time.sleep(0.5)  # the clients find the server gone
        before_kill = ledger.acknowledged()
        in_flight = [a for a in ledger.snapshot() if a.status is None and a.started < killed_at]
        unanswered = ledger.unacknowledged()
        restart_seconds = server.start()
        retries = retry_until_acknowledged(server.port, api_key, ledger, unanswered)
    replayed = sum(1 for a in retries if a.status == 200)
    created = sum(1 for a in retries if a.status == 201)
    report.note(
        f"{len(before_kill)} acknowledged before the kill; {len(in_flight)} requests in flight"
        f" got no answer ({len(unanswered)} keys without one, counting posts refused after it);"
        f" restarted in {restart_seconds:.1f} s; retried: {replayed} had been stored (200,"
        f" replayed), {created} had not (201)"
    )
    report.check(drill, "the kill hit requests in flight", bool(in_flight))
    count_unanswered(report, drill, ledger)
    check_exactly_once(report, drill, ledger, url)


# -- drill b: PostgreSQL restarted under load -------------------------------------------------


def drill_postgres_restart(report: Report, drill: str, cluster: PrivateCluster, tmp: Path) -> None:
    url = cluster.create_database("restart_drill")
    api_key = new_api_key(url)
    ledger = Ledger()
    health_while_down: list[tuple[int | None, float]] = []
    with Server(url, tmp / f"{drill}.log") as server:
        server.start()
        with Load(server.port, api_key, ledger, clients=8):
            time.sleep(3)
            stopping = time.monotonic()
            cluster.stop()
            down = time.monotonic()
            for _ in range(4):
                time.sleep(0.8)
                health_while_down.append(get_status(server.port, "/healthz"))
            starting = time.monotonic()
            cluster.start()
            up = time.monotonic()
            deadline = up + 20
            while time.monotonic() < deadline and not any(
                a.started > up and a.acknowledged for a in ledger.snapshot()
            ):
                time.sleep(0.05)
            time.sleep(3)
        attempts = ledger.snapshot()
        unanswered = ledger.unacknowledged()
        retries = retry_until_acknowledged(server.port, api_key, ledger, unanswered)
        errors = server.log_mentions(*SERVER_ERRORS)

    # Down: from when `pg_ctl stop` returned to when `pg_ctl start` was called (it accepts
    # connections a little before `pg_ctl start` returns).
    while_down = [a for a in attempts if a.started >= down and a.ended <= starting]
    around_stop = [a for a in attempts if stopping <= a.ended and a.started < down]
    after = [a for a in attempts if a.started > up]
    first_after = min((a.ended - up for a in after if a.acknowledged), default=None)
    statuses = Counter(a.status for a in attempts)
    slowest_down = max((a.seconds for a in while_down), default=0.0)
    down_statuses = Counter(a.status or a.error for a in while_down)
    report.note(
        f"{len(attempts)} posts: "
        + ", ".join(
            f"{status or 'no answer'} x {n}" for status, n in sorted(statuses.items(), key=str)
        )
        + f"; stop took {down - stopping:.1f} s, down {starting - down:.1f} s, start took {up - starting:.1f} s;"
        f" {len(while_down)} posts while down ({dict(down_statuses)}), slowest answer {slowest_down * 1000:.0f} ms;"
        f" {len(around_stop)} in flight as it stopped;"
        f" first 201 {first_after if first_after is None else f'{first_after:.2f} s'} after it was"
        f" back; {sum(1 for a in retries if a.status == 200)} of {len(unanswered)} retried keys had"
        " been stored"
    )
    report.check(
        drill,
        "only 201, 200 or 503 answers, and every request answered",
        set(statuses) <= {200, 201, 503} and not errors,
    )
    report.check(
        drill,
        "every 503 says Retry-After",
        all(a.retry_after for a in attempts if a.status == 503),
    )
    report.check(
        drill,
        f"while it was down every post got a 503 within {UNAVAILABLE_BOUND:.0f} s",
        bool(while_down)
        and all(a.status == 503 for a in while_down)
        and slowest_down < UNAVAILABLE_BOUND,
    )
    report.check(
        drill,
        "/healthz said 503 while it was down: "
        + ", ".join(f"{s} in {t * 1000:.0f} ms" for s, t in health_while_down),
        all(s == 503 for s, _ in health_while_down),
    )
    report.check(
        drill,
        "posts succeed again once it is back, without restarting the app",
        first_after is not None,
    )
    count_unanswered(report, drill, ledger)
    check_exactly_once(report, drill, ledger, url)


# -- drill c: a full disk under SQLite ---------------------------------------------------------


@contextmanager
def small_filesystem(mountpoint: Path, megabytes: int) -> Iterator[str | None]:
    """A tmpfs of this size mounted here; yields None, or why it could not be mounted."""
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        yield (mounted.stderr or mounted.stdout).strip() or f"mount exited {mounted.returncode}"
        return
    try:
        yield None
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False, capture_output=True)


def fill(path: Path) -> int:
    """Write zeros to this file until the filesystem is full; the bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with path.open("wb", buffering=0) as out:
        while True:
            try:
                written += out.write(chunk) or 0
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    return written
                chunk = chunk[: len(chunk) // 2]


def drill_disk_full(report: Report, drill: str, tmp: Path) -> None:
    if shutil.which("mount") is None:
        report.skip(drill, "no mount command")
        return
    with small_filesystem(tmp / "disk", 16) as why_not:
        if why_not is not None:
            report.skip(drill, f"cannot mount a small tmpfs here ({why_not}); run as root")
            return
        database = tmp / "disk" / "drill.db"
        url = f"sqlite:///{database}"
        api_key = new_api_key(url)
        ledger = Ledger()
        filler = tmp / "disk" / "filler"
        with Server(url, tmp / f"{drill}.log") as server:
            server.start()
            with Load(server.port, api_key, ledger, clients=4):
                wait_for(lambda: len(ledger.acknowledged()) >= 100, 10)
                before = len(ledger.acknowledged())
                filled = fill(filler)
                full = time.monotonic()
                wait_for(lambda: sum(a.status == 503 for a in ledger.snapshot()) >= 30, 10)
                health_full = get_status(server.port, "/healthz")[0]
                filler.unlink()
                freed = time.monotonic()
                wait_for(
                    lambda: any(a.started > freed and a.acknowledged for a in ledger.snapshot()), 10
                )
                time.sleep(1)
            attempts = ledger.snapshot()
            unanswered = ledger.unacknowledged()
            retries = retry_until_acknowledged(server.port, api_key, ledger, unanswered)
            errors = server.log_mentions(*SERVER_ERRORS)
        # The server has stopped: nothing holds the file open.
        with sqlite3.connect(database) as connection:
            integrity = connection.execute("PRAGMA integrity_check").fetchall()
        connection.close()
        while_full = [a for a in attempts if a.started >= full and a.ended <= freed]
        after = [a for a in attempts if a.started > freed]
        recovered = min((a.ended - freed for a in after if a.acknowledged), default=None)
        statuses = Counter(a.status for a in attempts)
        full_statuses = Counter(a.status for a in while_full)
        report.note(
            f"{before} stored first; filled the last {filled / 1e6:.1f} MB; {len(while_full)} posts"
            f" while full ({', '.join(f'{s} x {n}' for s, n in sorted(full_statuses.items(), key=str))});"
            f" /healthz {health_full} while full; after freeing the space the first post was"
            f" stored {recovered if recovered is None else f'{recovered * 1000:.0f} ms'} later, and"
            f" {sum(a.acknowledged for a in after)} of {len(after)} after were; retried"
            f" {len(unanswered)} keys ({sum(1 for a in retries if a.status == 200)} had been"
            " stored)"
        )
        report.check(drill, "the full disk was felt: posts got 503", full_statuses[503] > 0)
        report.check(
            drill,
            "only 201 or 503, every 503 with Retry-After, no 500 in the log",
            set(statuses) <= {201, 503}
            and all(a.retry_after for a in attempts if a.status == 503)
            and not errors,
        )
        report.check(
            drill,
            "normal service once space is back",
            recovered is not None and all(a.acknowledged for a in after if a.started > freed + 1),
        )
        count_unanswered(report, drill, ledger)
        check_exactly_once(report, drill, ledger, url)
        report.check(drill, f"PRAGMA integrity_check: {integrity}", integrity == [("ok",)])


# -- drill d: slow clients --------------------------------------------------------------------


def latencies(port: int, api_key: str, seconds: float) -> tuple[list[float], int]:
    """Normal requests one after the other, each on a new connection, alternating a health
    check and a stored assessment: their latencies, and how many were not answered 2xx."""
    measured: list[float] = []
    failed = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, took = get_status(port, "/healthz")
        attempt = post_assessment(port, api_key, str(uuid.uuid4()))
        measured += [took, attempt.seconds]
        failed += (status != 200) + (not attempt.acknowledged)
    return measured, failed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class SlowClients:
    """Connections that each send a request's headers one byte a second, and never finish."""

    HEADERS = (
        b"POST /api/v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nX-Padding: " + b"a" * 200
    )

    def __init__(self, port: int, connections: int, seconds: int) -> None:
        self.port, self.connections, self.seconds = port, connections, seconds
        self.opened = 0
        self.closed_by_server = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        sockets = []
        for _ in range(self.connections):
            with suppress(OSError):
                sockets.append(socket.create_connection(("127.0.0.1", self.port), timeout=5))
        self.opened = len(sockets)
        alive = list(sockets)
        for second in range(self.seconds):
            started = time.monotonic()
            for s in list(alive):
                try:
                    s.sendall(self.HEADERS[second : second + 1])
                except OSError:
                    alive.remove(s)
            time.sleep(max(0.0, 1 - (time.monotonic() - started)))
        self.closed_by_server = len(sockets) - len(alive)
        for s in sockets:
            s.close()

    def __enter__(self) -> SlowClients:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(self.seconds + 30)


def drill_slow_clients(report: Report, drill: str, tmp: Path) -> None:
    url = f"sqlite:///{tmp / 'slow.db'}"
    api_key = new_api_key(url)
    with Server(url, tmp / f"{drill}.log") as server:
        server.start()
        latencies(server.port, api_key, 1)  # warm-up
        before, failed_before = latencies(server.port, api_key, 4)
        # 13 s: past the server's HEADERS_TIMEOUT (10 s), after which it closes them.
        with SlowClients(server.port, connections=200, seconds=13) as slow:
            time.sleep(1)  # all of them connected and talking
            during, failed_during = latencies(server.port, api_key, 8)
        after = get_status(server.port, "/healthz")[0]
    p50_before, p95_before = statistics.median(before), percentile(before, 0.95)
    p50_during, p95_during = statistics.median(during), percentile(during, 0.95)
    report.note(
        f"{slow.opened} slow connections for {slow.seconds} s ({slow.closed_by_server} closed by"
        f" the server); normal requests before: {len(before)}, p50 {p50_before * 1000:.1f} ms,"
        f" p95 {p95_before * 1000:.1f} ms; during: {len(during)}, p50 {p50_during * 1000:.1f}"
        f" ms, p95 {p95_during * 1000:.1f} ms; ratio p50 {p50_during / p50_before:.2f},"
        f" p95 {p95_during / p95_before:.2f}"
    )
    report.check(drill, f"{slow.opened} slow connections opened", slow.opened >= 190)
    report.check(
        drill,
        f"the server closed {slow.closed_by_server} of them (HEADERS_TIMEOUT)",
        slow.closed_by_server == slow.opened,
    )
    report.check(
        drill,
        "every normal request answered during the attack",
        failed_before == 0 and failed_during == 0 and after == 200,
    )
    # Bounds that a noisy shared machine keeps, and a starved server does not.
    report.check(
        drill,
        "normal requests no more than 3 times slower (p95), or under 100 ms",
        p95_during < max(3 * p95_before, 0.1),
    )


# -- a webhook at the server's own network ------------------------------------------------------

# One address of each class a webhook may not reach (app/services/webhook_addresses.py), as a
# clinic admin could write it. Those on loopback would reach the drill's listener.
REFUSED_WEBHOOK_HOSTS = {
    **REFUSED_BY_TESTS,
    # A name, resolved by the server when it sends (the tests fake their DNS; the drill cannot).
    "loopback, by name (resolved)": "localhost",
}
URGENT_BODY = json.dumps(
    {"answers": {**EXAMPLE_ANSWERS, "fever": True, "night_pain": True}}, separators=(",", ":")
).encode()


class ConnectionCounter:
    """Listeners on 127.0.0.1 and ::1 (one port) that count the connections they accept."""

    def __init__(self) -> None:
        self.accepted = 0
        self.port = free_port()
        self.listeners = [socket.create_server(("127.0.0.1", self.port))]
        with suppress(OSError):  # no IPv6 here: the IPv4 listener alone
            self.listeners.append(socket.create_server(("::1", self.port), family=socket.AF_INET6))
        self._threads = [
            threading.Thread(target=self._serve, args=(listener,), daemon=True)
            for listener in self.listeners
        ]
        for thread in self._threads:
            thread.start()

    def _serve(self, listener: socket.socket) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        for listener in self.listeners:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


def drill_webhook_ssrf(report: Report, drill: str, tmp: Path) -> None:
    """A clinic's webhook pointed at each refused class in turn, written straight into the
    database (the Alerts page refuses them), and an urgent submission for each through a real
    server in production: every attempt fails with the generic words, and the listeners where
    the loopback ones would land count no connection."""
    from app.models import AlertAttempt, Clinic
    from app.services import alert_settings, clinics

    url = f"sqlite:///{tmp / 'webhooks.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        clinic_id = clinics.create_clinic(session, name="Drill Physio").id
        _, api_key = create_api_key(session, name="fault drill", clinic_id=clinic_id)
        session.commit()

    def attempts() -> list[tuple[bool, str]]:
        with Session(engine) as session:
            return [(a.ok, a.detail) for a in session.exec(select(AlertAttempt)).all()]

    def attempts_reach(number: int) -> bool:
        return len(attempts()) >= number

    counter = ConnectionCounter()
    environment = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "ALERT_TIMEOUT_SECONDS": "2",
    }
    statuses: list[int | None] = []
    try:
        with Server(url, tmp / f"{drill}.log", env=environment) as server:
            server.start()
            for number, host in enumerate(REFUSED_WEBHOOK_HOSTS.values(), start=1):
                with Session(engine) as session:
                    clinic = session.get(Clinic, clinic_id)
                    assert clinic is not None
                    clinic.webhook_url = f"https://{host}:{counter.port}/hook"
                    clinic.webhook_secret = alert_settings.new_webhook_secret()
                    session.add(clinic)
                    session.commit()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
                try:
                    connection.request(
                        "POST",
                        "/api/v1/assessments",
                        body=URGENT_BODY,
                        headers={
                            "Authorization": f"Bearer {api_key}",
                            "Content-Type": "application/json",
                        },
                    )
                    response = connection.getresponse()
                    response.read()
                    statuses.append(response.status)
                finally:
                    connection.close()
                # The sender is nudged by the commit: its first attempt follows at once.
                if not wait_for(partial(attempts_reach, number), 10):
                    report.note(f"no attempt within 10 s for {host}")
            refusals = server.log_mentions("resolves to a")
            errors = server.log_mentions(*SERVER_ERRORS)
        stored = attempts()
    finally:
        counter.close()
        engine.dispose()
    classes = len(REFUSED_WEBHOOK_HOSTS)
    report.check(
        drill,
        f"{classes} urgent submissions stored: {statuses.count(201)} got 201",
        statuses.count(201) == classes,
    )
    report.check(
        drill,
        f"{len(stored)} attempts recorded, every one failed and said only 'could not deliver'",
        len(stored) >= classes
        and all(detail == alerts.WEBHOOK_NOT_DELIVERED and not ok for ok, detail in stored),
    )
    report.check(
        drill,
        f"{counter.accepted} connections reached the listeners (127.0.0.1 and ::1, port"
        f" {counter.port}); {len(refusals)} refusals in the server log",
        counter.accepted == 0 and len(refusals) >= classes,
    )
    report.check(drill, f"no server errors ({len(errors)})", not errors)
    # The listeners did count: a connection of the drill's own.
    probe = ConnectionCounter()
    socket.create_connection(("127.0.0.1", probe.port), timeout=5).close()
    counted = wait_for(lambda: probe.accepted == 1, 5)
    probe.close()
    report.check(drill, "a listener counts a connection made to it", counted)


# -- check-in flood ------------------------------------------------------------------------------

FLOOD_POSTS = 50
FLOOD_CLIENTS = 8
CHECKINS_PER_DAY = 3  # the default (app/config.py)
_BLOCKS = ("pelvic_tilts", "hip_rotation", "hip_bridge", "squat_mobility", "thoracic_lats")
FLOOD_CHECKIN: dict[str, object] = {
    **dict.fromkeys(
        ["saddle_numbness", "bladder_change", "bowel_change", "sexual_function_change",
         "both_legs", "chest_pain", "leg_weakness", "walking_difficulty", "fever", "weight_loss",
         "night_pain", "pain_on_straining", "thoracic_pain", "back_shape_change",
         "new_leg_symptoms", "new_fall_or_injury", "pregnant"],
        False,
    ),
    "pain_now": 3, "peg_pain": 3, "peg_enjoyment": 3, "peg_activity": 3,
    "global_change": "a_little_better",
    **{f"{b}_days": 5 for b in _BLOCKS},
    **{f"{b}_feel": "about_right" for b in _BLOCKS},
}  # fmt: skip


def flood_body(n: int) -> dict[str, object]:
    """The n-th post: half the same check-in (every third of those urgent), half each
    different (pain), every third urgent (a temperature)."""
    if n % 2 == 0:
        return {**FLOOD_CHECKIN, "fever": n % 6 == 0}
    return {**FLOOD_CHECKIN, "pain_now": n % 11, "fever": n % 3 == 0}


# The different urgent check-ins among the flood's posts: each is stored at most once.
URGENT_FLOOD_BODIES = {
    json.dumps(flood_body(n), sort_keys=True) for n in range(FLOOD_POSTS) if flood_body(n)["fever"]
}


def flood_setup(url: str) -> str:
    """A clinic alerted by e-mail and webhook, and its key that may store check-ins."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            clinic = Clinic(name="Flood drill clinic")
            session.add(clinic)
            session.flush()
            alert_settings.set_alert_email(session, clinic, "desk@clinic.example")
            # Nothing listens there: each try fails and waits, as a receiver that is down.
            alert_settings.set_webhook(
                session,
                clinic,
                f"http://127.0.0.1:{free_port()}/hook",
                allow_http=True,
                allowed_networks=[ipaddress.IPv4Network("127.0.0.0/8")],
            )
            _, key = create_api_key(
                session=session, name="flood drill", clinic_id=clinic.id, scopes=[CHECKINS_WRITE]
            )
            session.commit()
    finally:
        engine.dispose()
    return key


def post_json(
    port: int, path: str, body: object, api_key: str
) -> tuple[int | None, dict[str, str], dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(
            "POST",
            path,
            body=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), json.loads(data or b"{}")
    except (OSError, http.client.HTTPException, ValueError):
        return None, {}, {}
    finally:
        connection.close()


def drill_checkin_flood(report: Report, drill: str, tmp: Path) -> None:
    url = f"sqlite:///{tmp / 'flood.db'}"
    api_key = flood_setup(url)
    with Server(url, tmp / f"{drill}.log") as server:
        server.start()
        status, _, stored = post_json(
            server.port, "/api/v1/assessments", {"answers": EXAMPLE_ANSWERS}, api_key
        )
        report.check(drill, "a self-care submission with a plan stored", status == 201)
        path = f"/api/v1/assessments/{stored['id']}/checkins"
        answers: list[tuple[int | None, dict[str, str], dict[str, object]]] = []
        lock = threading.Lock()
        posts = iter(range(FLOOD_POSTS))

        def client() -> None:
            while True:
                with lock:
                    n = next(posts, None)
                if n is None:
                    return
                answer = post_json(server.port, path, {"answers": flood_body(n)}, api_key)
                with lock:
                    answers.append(answer)

        began = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(FLOOD_CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - began
        errors = server.log_mentions(*SERVER_ERRORS)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            checkins = connection.execute(text("SELECT count(*) FROM checkin")).scalar_one()
            # A check-in that finds a warning sign is stored whatever the day's count.
            routine = connection.execute(
                text(
                    "SELECT count(*) FROM checkin WHERE triage_level NOT IN ('urgent', 'emergency')"
                )
            ).scalar_one()
            by_kind: dict[str, int] = dict(
                connection.execute(text("SELECT kind, count(*) FROM alert GROUP BY kind")).all()
            )
    finally:
        engine.dispose()
    statuses = Counter(status for status, _, _ in answers)
    refused = [headers for status, headers, _ in answers if status == 429]
    created = {body["id"] for status, _, body in answers if status == 201}
    replayed = {body["id"] for status, _, body in answers if status == 200}
    report.note(
        f"{FLOOD_POSTS} posts in {seconds:.1f} s: {dict(sorted(statuses.items(), key=str))};"
        f" {checkins} check-ins stored; alerts {by_kind or 'none'}"
    )
    report.check(
        drill,
        "every post answered 200, 201 or 429 (no 500)",
        set(statuses) <= {200, 201, 429} and not errors,
    )
    report.check(
        drill,
        f"at most CHECKINS_PER_DAY ({CHECKINS_PER_DAY}) without a warning sign"
        " stored (those with one always are, each different one once), as answered",
        routine <= CHECKINS_PER_DAY
        and len(created) == checkins
        and checkins - routine <= len(URGENT_FLOOD_BODIES),
    )
    report.check(drill, "identical posts answered with a stored check-in", replayed <= created)
    report.check(
        drill,
        f"{len(refused)} refused with 429 and Retry-After (seconds)",
        bool(refused)
        and all(h.get("retry-after", h.get("Retry-After", "")).isdigit() for h in refused),
    )
    report.check(
        drill,
        "alerts of each way (e-mail, webhook) no more than check-ins stored",
        all(n <= checkins for n in by_kind.values()),
    )


# -- drill e: a flood of PDFs ------------------------------------------------------------------


def stored_results(url: str, count: int) -> list[str]:
    """``count`` stored self-care results (migrations applied first): their private paths."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        q = Registry.load(project_dir("questionnaires"), "low-back-audit").default
        with Session(engine) as session:
            paths = [
                "/result/"
                + str(
                    assessments.record(
                        session, evaluate(q, EXAMPLE_ANSWERS), channel="web"
                    ).result_token
                )
                for _ in range(count)
            ]
            session.commit()
    finally:
        engine.dispose()
    return paths


@dataclass
class PdfAnswer:
    path: str
    status: int | None
    seconds: float
    retry_after: str | None
    is_pdf: bool


def get_pdf(port: int, path: str, timeout: float = 120) -> PdfAnswer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request("GET", f"{path}/pdf")
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException):
        return PdfAnswer(path, None, time.monotonic() - started, None, False)
    finally:
        connection.close()
    return PdfAnswer(
        path,
        response.status,
        time.monotonic() - started,
        response.getheader("Retry-After"),
        data.startswith(b"%PDF"),
    )


@dataclass
class Flood:
    answers: list[PdfAnswer]
    health: list[float]  # /healthz latencies while the PDFs were asked for
    health_failed: int
    seconds: float


def pdf_flood(port: int, paths: list[str]) -> Flood:
    """One client per path, all at once, each asking once for its PDF, while /healthz is asked
    one after the other (a new connection each) until every PDF request has its answer."""
    answers: list[PdfAnswer] = []
    lock = threading.Lock()
    started = threading.Barrier(len(paths) + 1)

    def client(path: str) -> None:
        started.wait()
        answer = get_pdf(port, path)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=client, args=(path,), daemon=True) for path in paths]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    started.wait()
    health: list[float] = []
    failed = 0
    # At least 2 s of health checks, and for as long as any PDF request is open.
    while any(thread.is_alive() for thread in threads) or time.monotonic() - began < 2:
        status, took = get_status(port, "/healthz")
        health.append(took)
        failed += status != 200
        time.sleep(0.01)
    for thread in threads:
        thread.join()
    return Flood(answers, health, failed, time.monotonic() - began)


def hang_up_while_waiting(server: Server, busy_path: str, path: str) -> tuple[PdfAnswer, bool]:
    """A PDF made for ``busy_path`` holds the worker while another client asks for ``path``'s
    and hangs up a second later: the busy one's answer, and whether the server ended the
    hung-up request (499, "client closed request") while the worker was still busy."""
    answers: list[PdfAnswer] = []
    busy = threading.Thread(target=lambda: answers.append(get_pdf(server.port, busy_path)))
    busy.start()
    time.sleep(0.5)  # the worker has taken it
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as hung_up:
        hung_up.sendall(f"GET {path}/pdf HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        time.sleep(1)
    ended = False
    while busy.is_alive() and not ended:
        ended = bool(server.log_mentions("/pdf 499 "))
        time.sleep(0.05)
    busy.join()
    return answers[0], ended


def kept_pdfs(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM result_pdf")).scalar_one())
    finally:
        engine.dispose()


def drill_pdf_flood(report: Report, drill: str, tmp: Path) -> None:
    try:
        pdf.make_pdf("<p>WeasyPrint loads here</p>")
    except pdf.PdfUnavailableError:
        report.skip(drill, "WeasyPrint cannot load here (Pango missing?): no PDF can be made")
        return
    url = f"sqlite:///{tmp / 'pdf.db'}"
    paths = stored_results(url, 21)
    with Server(url, tmp / f"{drill}.log") as server:
        server.start()
        # One PDF first: the worker process starts and loads WeasyPrint and its fonts.
        warm = get_pdf(server.port, paths.pop())
        before = [get_status(server.port, "/healthz")[1] for _ in range(50)]
        flood = pdf_flood(server.port, paths)
        kept_before = kept_pdfs(url)
        refused_paths = [a.path for a in flood.answers if a.status != 200]
        busy, hung_up_ended = hang_up_while_waiting(server, *refused_paths[:2])
        kept_after = kept_pdfs(url)
        errors = server.log_mentions(*SERVER_ERRORS)
    statuses = Counter(str(a.status) for a in flood.answers)
    made = [a for a in flood.answers if a.status == 200]
    refused = [a for a in flood.answers if a.status == 503]
    p50, p99 = statistics.median(flood.health), percentile(flood.health, 0.99)
    report.note(
        f"first PDF (worker start) {warm.seconds:.1f} s; {len(paths)} PDFs asked at once:"
        f" {dict(statuses)}, made in {min((a.seconds for a in made), default=0):.1f}–"
        f"{max((a.seconds for a in made), default=0):.1f} s, refused in at most"
        f" {max((a.seconds for a in refused), default=0) * 1000:.0f} ms; /healthz before:"
        f" p50 {statistics.median(before) * 1000:.1f} ms; during ({len(flood.health)} over"
        f" {flood.seconds:.1f} s): p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms,"
        f" max {max(flood.health) * 1000:.1f} ms"
    )
    report.check(drill, "the first PDF made", warm.status == 200 and warm.is_pdf)
    report.check(
        drill,
        "every PDF request got a PDF (200) or a 503 with Retry-After",
        len(flood.answers) == len(paths)
        and all(
            (a.status == 200 and a.is_pdf) or (a.status == 503 and a.retry_after)
            for a in flood.answers
        ),
    )
    report.check(drill, f"{len(made)} PDFs made during the flood", len(made) >= 1)
    report.check(drill, "no 500, no uncaught exception in the server's log", not errors)
    report.check(
        drill,
        f"/healthz answered 200 throughout ({flood.health_failed} not)",
        flood.health_failed == 0,
    )
    report.check(drill, f"/healthz p99 {p99 * 1000:.1f} ms under 100 ms", p99 < 0.1)
    report.check(
        drill,
        "a client that hung up while its PDF waited: its request ended (499) while the worker"
        f" was busy, and its PDF was not made ({kept_after - kept_before} kept, the busy one)",
        busy.status == 200 and hung_up_ended and kept_after == kept_before + 1,
    )


# -- running them -----------------------------------------------------------------------------

DRILLS = [
    "kill-sqlite", "kill-postgres", "postgres-restart", "disk-full", "slow-clients",
    "webhook-ssrf", "checkin-flood", "pdf-flood",
]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated drills: " + ", ".join(DRILLS))
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else DRILLS
    if unknown := set(chosen) - set(DRILLS):
        parser.error(f"unknown drill(s): {', '.join(sorted(unknown))}")
    report = Report()
    started = time.monotonic()
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="backaudit-faults-") as tmp_name:
        tmp = Path(tmp_name)

        def timed(drill: str, run: Callable[[], None]) -> None:
            if drill not in chosen:
                return
            print(f"\n== {drill}", flush=True)
            began = time.monotonic()
            run()
            report.seconds[drill] = time.monotonic() - began
            print(f"  ({report.seconds[drill]:.0f} s)", flush=True)

        timed(
            "kill-sqlite",
            lambda: drill_kill(report, "kill-sqlite", f"sqlite:///{tmp / 'kill.db'}", tmp),
        )
        if {"kill-postgres", "postgres-restart"} & set(chosen):
            with private_cluster(report, "postgres") as cluster:
                if cluster is not None:
                    timed(
                        "kill-postgres",
                        lambda: drill_kill(
                            report, "kill-postgres", cluster.create_database("kill_drill"), tmp
                        ),
                    )
                    timed(
                        "postgres-restart",
                        lambda: drill_postgres_restart(report, "postgres-restart", cluster, tmp),
                    )
        timed("disk-full", lambda: drill_disk_full(report, "disk-full", tmp))
        timed("slow-clients", lambda: drill_slow_clients(report, "slow-clients", tmp))
        timed("webhook-ssrf", lambda: drill_webhook_ssrf(report, "webhook-ssrf", tmp))
        timed("checkin-flood", lambda: drill_checkin_flood(report, "checkin-flood", tmp))
        timed("pdf-flood", lambda: drill_pdf_flood(report, "pdf-flood", tmp))
        if args.logs:
            for log in tmp.glob("*.log"):
                shutil.copy(log, args.logs / log.name)

    total = time.monotonic() - started
    print(
        f"\nfault drills: {len(report.checks) - len(report.failed)} of {len(report.checks)} checks"
        f" ok, {len(report.skipped)} skipped, {total:.0f} s"
    )
    for drill, description, _ in report.failed:
        print(f"  FAILED {drill}: {description}")
    for drill, reason in report.skipped:
        print(f"  skipped {drill}: {reason}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
