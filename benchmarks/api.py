"""Load test of the JSON API and the patient pages: throughput flat out, and latency at a fixed rate.

    .venv/bin/python benchmarks/api.py                       # a fresh temporary SQLite file
    .venv/bin/python benchmarks/api.py --database-url postgresql://postgres@127.0.0.1:5432/x \\
        --workers 2 [--rate 200]

Starts `backaudit serve` with production settings on a free loopback port with a fresh database
(for PostgreSQL: a new temporary database on that server, dropped afterwards), with the rate
limits off and the check-in limits raised (one client with one key sends thousands), makes an
API key, and runs two kinds of rounds.

Saturation (throughput), wrk at 32 connections flat out:
- POST /api/v1/assessments with a complete set of answers (every request stores a record),
- GET /healthz (answers after a `SELECT 1`: the app's cheapest request that touches the DB), and
- once, after the rounds: POST /api/v1/assessments/{id}/checkins, spread over 2,000 stored
  self-care assessments (a person has a few check-ins, not thousands), each with answers that
  differ from that result's last ones, so each is stored as a new check-in.
Targets: assessments and check-ins each at least 0.30 x /healthz's requests a second. Their p99
is printed but not a target: flat out, latency is only concurrency divided by throughput.

Fixed offered rate (latency), benchmarks/paced.py: each of an assessment POST, a check-in POST, a
question page (GET /questions/height_weight with a draft cookie) and the result page (GET
/result/<token>, self-care with its plan), then /healthz for reference, on its own at --rate
requests a second (default: a third of the median round's assessment throughput), open loop,
latency counted from when each request was due, after 2 s of it at that rate (--warmup) that
are not counted, as the saturation rounds have their warm-up: a kind's first requests build
what the server keeps (~150 ms for the first result page). The warm-up's slowest answer is
printed too. Target: p99 under 50 ms for each of the four.

It prints requests/s, p50 and p99 latency, the server's CPU time per request (on Linux: it
tells a slower or busier machine from a slower build), the ratios, and checks the targets. It
also checks that every 201 is in the database afterwards. Exit code 1 if anything is missed.
Only loopback traffic; every run stops by itself.

A machine shared with wrk and the database is noisy (here the same build varied by up to 20% from
one 10-second run to the next), so by default it measures three saturation rounds, each POST
then GET, prints every round, and checks the targets on the median round (by assessment p99):
one round is `--rounds 1`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paced import PacedRun, Request, run_paced  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.api.examples import EXAMPLE_ANSWERS  # noqa: E402
from app.db import make_engine, normalise_url  # noqa: E402
from app.engine import Questionnaire, evaluate, load_questionnaire  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.services.api_keys import create_api_key  # noqa: E402
from app.services.assessments import record  # noqa: E402
from app.services.drafts import save_answers, start_draft  # noqa: E402
from tests.support.network import free_port  # noqa: E402

CHECKIN_ASSESSMENTS = 2000
CHECKIN_ANSWERS = {
    **dict.fromkeys(
        [
            "saddle_numbness", "bladder_change", "bowel_change", "sexual_function_change",
            "both_legs", "chest_pain", "leg_weakness", "walking_difficulty", "fever",
            "weight_loss", "night_pain", "pain_on_straining", "thoracic_pain", "back_shape_change",
            "new_leg_symptoms", "new_fall_or_injury", "pregnant",  # check-in 1.1.0
        ],
        False,
    ),
    "pain_now": 3, "peg_pain": 3, "peg_enjoyment": 3, "peg_activity": 3,
    "global_change": "a_little_better",
    **{f"{b}_days": 5 for b in ("pelvic_tilts", "hip_rotation", "hip_bridge", "squat_mobility",
                               "thoracic_lats")},
    **{f"{b}_feel": "too_easy" for b in ("pelvic_tilts", "hip_rotation", "hip_bridge",
                                         "squat_mobility", "thoracic_lats")},
}  # fmt: skip
CHECKIN_REQUEST = """
ids = {%(ids)s}
bodies = {%(bodies)s}
counter = 0
request = function()
  counter = counter + 1
  local path = "/api/v1/assessments/" .. ids[(counter %% #ids) + 1] .. "/checkins"
  return wrk.format(nil, path, nil, bodies[(counter %% #bodies) + 1])
end
"""


def checkin_answers(number: int) -> dict[str, object]:
    """The answers of check-in `number`: 240 different sets (pain now 0-4, PEG pain 0-5, pelvic
    tilts on 0-7 days), none with a warning sign or a rise in pain that needs a doctor, so every
    one is stored as a new check-in. As 2,000 % 240 != 0, a result's next check-in in the
    rotation over 2,000 results never repeats its last answers."""
    return {
        **CHECKIN_ANSWERS,
        "pain_now": number % 5,
        "peg_pain": number // 5 % 6,
        "pelvic_tilts_days": number // 30 % 8,
    }


CHECKIN_VARIANTS = 240

THROUGHPUT_RATIO_TARGET = 0.30
P99_TARGET_MS = 50.0

LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) created = 0; other = 0; last_other = 0 end
%(request)s
function response(status, headers, body)
  if status == %(expect)d then created = created + 1 else other = other + 1; last_other = status end
end
function done(summary, latency, requests)
  local c, o, l = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); o = o + t:get("other"); l = math.max(l, t:get("last_other"))
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT ok=%%d other=%%d requests=%%d seconds=%%.3f p50_us=%%d p99_us=%%d socket_errors=%%d last_other=%%d\\n",
    c, o, summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, l))
end
"""
POST_REQUEST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
wrk.body = [==[%(body)s]==]
"""


@dataclass
class Run:
    name: str
    ok: int
    other: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    server_cpu_seconds: float | None = None  # Linux: what the server process used meanwhile
    last_other_status: int = 0  # the last unexpected status wrk saw, if any

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_seconds is None or not self.requests:
            return None
        return self.server_cpu_seconds * 1000 / self.requests

    def line(self) -> str:
        cpu = self.cpu_ms_per_request
        return (
            f"{self.name:<28} {self.rps:>9.0f} req/s   p50 {self.p50_ms:>6.1f} ms   "
            f"p99 {self.p99_ms:>6.1f} ms   "
            + (f"server CPU {cpu:.2f} ms/request   " if cpu is not None else "")
            + f"({self.requests} requests, {self.other} unexpected"
            + (f" statuses (last {self.last_other_status})" if self.other else " statuses")
            + f", {self.socket_errors} socket errors)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: SQLite)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    # One wrk thread: with two, wrk competes with the server for the 2 cores and inflates the tail.
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=3, help="POST-then-GET rounds (median)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument(
        "--rate",
        type=float,
        help="offered requests a second in the fixed-rate rounds"
        " (default: a third of the median round's assessment throughput)",
    )
    parser.add_argument(
        "--rate-connections", type=int, default=16, help="connections in the fixed-rate rounds"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of each fixed-rate kind not counted"
    )
    args = parser.parse_args()

    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "wrk is not installed. On Debian or Ubuntu: sudo apt-get update &&"
            " sudo apt-get install -y wrk   (macOS: brew install wrk)",
            file=sys.stderr,
        )
        return 2

    with (
        tempfile.TemporaryDirectory(prefix="backaudit-bench-") as tmp,
        fresh_database(args.database_url, Path(tmp)) as url,
    ):
        engine = make_engine(url)
        upgrade(engine)
        with Session(engine) as session:
            client, key = create_api_key(session=session, name="benchmark")
            audit = load_questionnaire(ROOT / "questionnaires" / "low-back-audit.yaml")
            followed = [
                str(record(session, evaluate(audit, EXAMPLE_ANSWERS), channel="api",
                           api_client_id=client.id).id)
                for _ in range(CHECKIN_ASSESSMENTS)
            ]  # fmt: skip
            web = web_pages(session, audit)
            session.commit()
        port = free_port()
        log = Path(tmp) / "server.log"
        with serve(url, port, log, args.workers) as server_pid:
            base = f"http://127.0.0.1:{port}"
            scripts = write_scripts(Path(tmp), key, followed)
            common = [wrk, f"-t{args.threads}", f"-c{args.connections}", "--latency"]
            # Warm up (connection pools, caches), then measure.
            wrk_run(
                common, "-d2s", scripts["post"], f"{base}/api/v1/assessments", "warm-up", server_pid
            )
            rounds: list[Round] = []
            for _ in range(max(1, args.rounds)):
                before = settled_count(engine)
                post = wrk_run(
                    common,
                    f"-d{args.duration}s",
                    scripts["post"],
                    f"{base}/api/v1/assessments",
                    "POST /api/v1/assessments",
                    server_pid,
                )
                stored = settled_count(engine) - before
                trivial = wrk_run(
                    common,
                    f"-d{args.duration}s",
                    scripts["get"],
                    f"{base}/healthz",
                    "GET /healthz",
                    server_pid,
                )
                rounds.append(Round(post, trivial, stored))
            checkins_before = settled_count(engine, "checkin")
            checkins = wrk_run(
                common,
                f"-d{args.duration}s",
                scripts["checkin"],
                f"{base}/api/v1/assessments",
                "POST .../checkins",
                server_pid,
            )
            checkins_stored = settled_count(engine, "checkin") - checkins_before
            median = median_round(rounds)
            rate = args.rate or max(1.0, round(median.post.rps / 3))
            paced = fixed_rate_rounds(
                port,
                key,
                followed,
                web,
                rate=rate,
                seconds=args.duration,
                connections=args.rate_connections,
                first_checkin=checkins.requests + 1,  # the wrk round's answers continue
                server_pid=server_pid,
                warmup=args.warmup,
            )
            paced_checkins_stored = settled_count(engine, "checkin") - checkins_before
        engine.dispose()

    dialect = make_url(url).get_backend_name()
    print(
        f"\nbackaudit API benchmark: {dialect}, {args.workers} worker(s);"
        f" saturation: {args.connections} connections flat out, {args.duration} s each, wrk"
    )
    for number, measured in enumerate(rounds, 1):
        print(f"round {number}")
        print(f"  {measured.post.line()}")
        print(f"  {measured.trivial.line()}   ratio {measured.ratio:.2f}")
    if len(rounds) > 1:
        print(f"median round (by assessment p99): round {rounds.index(median) + 1}")
    checkin_ratio = checkins.rps / median.trivial.rps if median.trivial.rps else 0.0
    print(
        f"check-ins, once:\n  {checkins.line()}   ratio {checkin_ratio:.2f} (to the median round)"
    )
    print(
        f"\nfixed offered rate: {rate:.0f} requests a second for {args.duration} s each, after"
        f" {args.warmup:g} s of warm-up at that rate, {args.rate_connections} connections;"
        " latency from each request's due time"
    )
    print(
        f"  {'request':<28} {'p50 ms':>7} {'p99 ms':>7} {'answered/s':>10}"
        f" {'CPU ms/req':>10} {'warm-up max':>11}   statuses"
    )
    for kind in paced:
        run, cpu_ms = kind.run, kind.cpu_ms
        cpu = f"{cpu_ms:>10.2f}" if cpu_ms is not None else f"{'-':>10}"
        cold = max(kind.warm.latencies_ms, default=float("nan"))
        print(
            f"  {run.name:<28} {run.percentile(50):>7.1f} {run.percentile(99):>7.1f}"
            f" {run.achieved_rate:>10.0f} {cpu} {cold:>11.1f}   {run.ok} expected,"
            f" {run.other} other, {run.errors} unanswered of {run.due}"
            + (f" (other: {dict(run.other_statuses)})" if run.other_statuses else "")
        )
    print(
        f"  saturation ratios to /healthz: assessments {median.ratio:.2f},"
        f" check-ins {checkin_ratio:.2f}"
    )
    stored_ok = all(
        r.stored >= r.post.ok and r.stored - r.post.ok <= args.connections for r in rounds
    )
    paced_checkins = next(r for r in paced if r.run.name == PACED_CHECKIN)
    checkins_ok = checkins.ok + paced_checkins.warm.ok + paced_checkins.run.ok
    checks = [
        (
            f"assessment throughput / trivial = {median.ratio:.2f}"
            f" (target >= {THROUGHPUT_RATIO_TARGET})",
            median.ratio >= THROUGHPUT_RATIO_TARGET,
        ),
        (
            f"check-in throughput / trivial = {checkin_ratio:.2f}"
            f" (target >= {THROUGHPUT_RATIO_TARGET})",
            checkin_ratio >= THROUGHPUT_RATIO_TARGET,
        ),
        *(
            (
                f"{run.name} p99 at {rate:.0f} a second = {run.percentile(99):.1f} ms"
                f" (target < {P99_TARGET_MS:.0f} ms)",
                run.percentile(99) < P99_TARGET_MS,
            )
            for run in (kind.run for kind in paced)
            if run.name != PACED_TRIVIAL
        ),
        (
            "every 201 is stored: wrk saw "
            + ", ".join(f"{r.post.ok}" for r in rounds)
            + " x 201, the database gained "
            + ", ".join(f"{r.stored}" for r in rounds)
            + " rows (it may hold a few more: requests still in flight when wrk stopped);"
            f" check-ins: {checkins_ok} x 201, {paced_checkins_stored} rows"
            f" ({checkins_stored} after the saturation round)",
            stored_ok
            and checkins_stored >= checkins.ok
            # wrk gives up on an answer after 2 s (a socket error) that may still be stored
            and checkins_ok
            <= paced_checkins_stored
            <= checkins_ok + args.connections + checkins.socket_errors,
        ),
        (
            "no unexpected statuses or socket errors",
            all(
                r.post.other == 0
                and r.trivial.other == 0
                and r.post.socket_errors + r.trivial.socket_errors == 0
                for r in rounds
            )
            and checkins.other == 0
            and checkins.socket_errors == 0
            and all(r.run.ok == r.run.due and r.warm.ok == r.warm.due for r in paced),
        ),
    ]
    for description, ok in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {description}")
    return 0 if all(ok for _, ok in checks) else 1


def median_round(rounds: list[Round]) -> Round:
    """The median round by assessment p99 (with an even count, the slower of the middle two)."""
    return sorted(rounds, key=lambda r: r.post.p99_ms)[len(rounds) // 2]


WEB_PAGES = 50  # drafts and results the page rounds go round
QUESTION_PAGE = "/questions/height_weight"
PACED_CHECKIN = "POST .../checkins"
PACED_TRIVIAL = "GET /healthz (reference)"


@dataclass(frozen=True)
class WebPages:
    drafts: list[str]  # ba_draft cookie values, each draft answered up to the end
    results: list[str]  # result tokens of self-care results with a plan (the longest page)


def web_pages(session: Session, audit: Questionnaire) -> WebPages:
    drafts_made, results = [], []
    for _ in range(WEB_PAGES):
        draft, token = start_draft(session, questionnaire_id=audit.id, channel="web")
        save_answers(session, draft, EXAMPLE_ANSWERS)
        drafts_made.append(token)
        stored = record(session, evaluate(audit, EXAMPLE_ANSWERS), channel="web")
        assert stored.result_token is not None
        results.append(stored.result_token)
    return WebPages(drafts_made, results)


def fixed_rate_rounds(
    port: int,
    key: str,
    followed: list[str],
    web: WebPages,
    *,
    rate: float,
    seconds: float,
    connections: int,
    first_checkin: int,
    server_pid: int,
    warmup: float,
) -> list[PacedRound]:
    """Each kind of request on its own at the same offered rate (see benchmarks/paced.py),
    after ``warmup`` seconds of it at that rate."""
    api = (("Content-Type", "application/json"), ("Authorization", f"Bearer {key}"))
    assessment = json.dumps({"answers": EXAMPLE_ANSWERS}, separators=(",", ":")).encode()

    def checkin(i: int) -> Request:
        body = {"answers": checkin_answers(first_checkin + i)}
        return Request(
            "POST",
            f"/api/v1/assessments/{followed[(first_checkin + i) % len(followed)]}/checkins",
            api,
            json.dumps(body, separators=(",", ":")).encode(),
        )

    kinds: list[tuple[str, Callable[[int], Request], int]] = [
        ("POST /api/v1/assessments", lambda i: Request("POST", "/api/v1/assessments", api,
                                                       assessment), 201),
        (PACED_CHECKIN, checkin, 201),
        (f"GET {QUESTION_PAGE}", lambda i: Request(
            "GET", QUESTION_PAGE, (("Cookie", f"ba_draft={web.drafts[i % len(web.drafts)]}"),)
        ), 200),
        ("GET /result/<token>", lambda i: Request(
            "GET", f"/result/{web.results[i % len(web.results)]}"), 200),
        (PACED_TRIVIAL, lambda i: Request("GET", "/healthz"), 200),
    ]  # fmt: skip
    runs = []
    for name, make, expect in kinds:
        # Warm, as the saturation rounds are: a server's first requests of a kind build what it
        # keeps (FastAPI's routes, compiled templates, SQLAlchemy's statements, Babel's locale
        # data), ~150 ms for the first result page. At 200 a second, that one pause alone was
        # the round's p99. Printed, not counted.
        warm = run_paced(
            "127.0.0.1", port, name, make,
            rate=rate, seconds=warmup, connections=connections, expect=expect,
        )  # fmt: skip
        measured = _after(make, warm.due)  # the next ones: new check-ins, not repeats
        cpu_before = process_cpu_seconds(server_pid)
        run = run_paced(
            "127.0.0.1",
            port,
            name,
            measured,
            rate=rate,
            seconds=seconds,
            connections=connections,
            expect=expect,
        )
        cpu_after = process_cpu_seconds(server_pid)
        answered = run.ok + run.other
        cpu_ms = (
            (cpu_after - cpu_before) * 1000 / answered
            if cpu_before is not None and cpu_after is not None and answered
            else None
        )
        runs.append(PacedRound(run, cpu_ms, warm))
    return runs


def _after(make: Callable[[int], Request], done: int) -> Callable[[int], Request]:
    return lambda i: make(done + i)


@dataclass
class PacedRound:
    run: PacedRun
    cpu_ms: float | None  # the server's CPU time a request, in the measured run
    warm: PacedRun  # the warm-up before it


@dataclass
class Round:
    post: Run
    trivial: Run
    stored: int  # rows the POST run added

    @property
    def ratio(self) -> float:
        return self.post.rps / self.trivial.rps if self.trivial.rps else 0.0


def write_scripts(directory: Path, key: str, followed: list[str]) -> dict[str, Path]:
    body = json.dumps({"answers": EXAMPLE_ANSWERS}, separators=(",", ":"))
    ids = ",".join(f'"{i}"' for i in followed)
    bodies = ",".join(
        "[==[" + json.dumps({"answers": checkin_answers(n)}, separators=(",", ":")) + "]==]"
        for n in range(CHECKIN_VARIANTS)
    )
    scripts = {
        "post": LUA % {"request": POST_REQUEST % {"key": key, "body": body}, "expect": 201},
        "get": LUA % {"request": "", "expect": 200},
        "checkin": LUA
        % {
            "request": POST_REQUEST % {"key": key, "body": ""}
            + CHECKIN_REQUEST % {"ids": ids, "bodies": bodies},
            "expect": 201,
        },
    }
    paths = {}
    for name, source in scripts.items():
        path = directory / f"{name}.lua"
        path.write_text(source)
        paths[name] = path
    return paths


def wrk_run(
    common: list[str], duration: str, script: Path, url: str, name: str, server_pid: int
) -> Run:
    cpu_before = process_cpu_seconds(server_pid)
    completed = subprocess.run(
        [*common, duration, "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    cpu_after = process_cpu_seconds(server_pid)
    match = re.search(
        r"RESULT ok=(\d+) other=(\d+) requests=(\d+) seconds=([\d.]+) p50_us=(\d+)"
        r" p99_us=(\d+) socket_errors=(\d+) last_other=(\d+)",
        completed.stdout,
    )
    if match is None:
        raise SystemExit(f"could not read wrk's output:\n{completed.stdout}\n{completed.stderr}")
    ok, other, requests, seconds, p50, p99, errors, last_other = match.groups()
    return Run(
        name,
        int(ok),
        int(other),
        int(requests),
        float(seconds),
        int(p50) / 1000,
        int(p99) / 1000,
        int(errors),
        server_cpu_seconds=(
            None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
        ),
        last_other_status=int(last_other),
    )


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process and its worker processes so far (Linux's /proc;
    None elsewhere). It tells machines apart: at 32 connections a CPU-bound single worker's
    median latency is about 32 times its CPU per request."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, IndexError):
        return None
    # utime and stime are fields 14 and 15 of stat(5); the split starts at field 3.
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_cpu_seconds(int(child)) or 0.0 for child in children)


def count_rows(engine: object, table: str) -> int:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def settled_count(engine: object, table: str = "assessment") -> int:
    """The row count once requests that were still in flight when wrk stopped are done."""
    count = count_rows(engine, table)
    while True:
        time.sleep(0.5)
        again = count_rows(engine, table)
        if again == count:
            return count
        count = again


@contextmanager
def fresh_database(server_url: str | None, tmp: Path) -> Iterator[str]:
    if not server_url or server_url.startswith("sqlite"):
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    import psycopg

    base = make_url(normalise_url(server_url))
    name = f"backaudit_bench_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def serve(url: str, port: int, log: Path, workers: int = 1) -> Iterator[int]:
    # As deployed: production settings (templates not re-read, only reviewed languages).
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "production"}
    env["SECRET_KEY"] = secrets.token_urlsafe(48)
    # The check-in rounds post a few check-ins to each result, each with other answers: every
    # one a new check-in, as before the flood limits (a duplicate is a cheaper read; the window
    # is off as well). The rate limits are off: the benchmark is one client with one key.
    env |= {"CHECKINS_PER_DAY": "100", "CHECKIN_DUPLICATE_MINUTES": "0"}
    env |= dict.fromkeys(
        (
            "RATE_LIMIT_API_KEY_PER_MINUTE",
            "RATE_LIMIT_API_ADDRESS_PER_MINUTE",
            "RATE_LIMIT_SUBMISSIONS_PER_HOUR",
        ),
        "0",
    )
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
            yield server.pid
        finally:
            server.terminate()
            with suppress(subprocess.TimeoutExpired):
                server.wait(timeout=10)
            if server.poll() is None:
                server.kill()


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped while starting; see its log")
        with suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz within 30 s")


if __name__ == "__main__":
    raise SystemExit(main())
